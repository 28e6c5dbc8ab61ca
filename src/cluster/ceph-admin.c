/* SPDX-License-Identifier: Apache-2.0 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>

#include "ceph-admin.h"
#include "fs-util.h"
#include "macro.h"
#include "paths.h"
#include "process.h"
#include "banned.h"

int ceph_admin(const char *root, unsigned timeout_ms, char *const *args, char **ret_output) {
        _cleanup_free_ char *conf = path_join_root(root, CEPH_CONFIG_DIR "/ceph.conf");
        _cleanup_free_ char *keyring = path_join_root(root, CEPH_CONFIG_DIR "/ceph.client.admin.keyring");
        char timeout[16];
        char *argv[24] = { "/usr/bin/ceph", "--conf", conf, "--name", "client.admin", "--keyring", keyring,
                           "--connect-timeout", timeout, "--rados-mon-op-timeout", timeout };
        size_t n = 11;
        if (!conf || !keyring)
                return -ENOMEM;
        snprintf(timeout, sizeof(timeout), "%u", MAX(timeout_ms / 1000, 1u));
        for (; *args; args++) {
                if (n >= ELEMENTSOF(argv) - 1)
                        return -E2BIG;
                argv[n++] = *args;
        }
        return run_program(argv, ret_output);
}
