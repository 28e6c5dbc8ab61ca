/* SPDX-License-Identifier: Apache-2.0 */
/* The work of the service stages that must happen once before a service's first start: the Ceph
 * monitor's store and Kafka's formatted log directory. */
#include <errno.h>
#include <pwd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "bootstrap.h"
#include "fileio.h"
#include "fs-util.h"
#include "paths.h"
#include "process.h"
#include "string-util.h"
#include "banned.h"

static bool exists(const char *path) {
        struct stat st;
        return stat(path, &st) >= 0;
}

/* The last non-empty line of a program's output, for an error message. */
static const char *last_line(char *output) {
        if (!output)
                return "";
        size_t n = strlen(output);
        while (n > 0 && (output[n - 1] == '\n' || output[n - 1] == '\r'))
                output[--n] = 0;
        char *nl = strrchr(output, '\n');
        return nl ? nl + 1 : output;
}

/* chown -R USER:USER path on the live system, when the user exists (the package made it). */
static int give_to(const char *root, const char *user, const char *path) {
        if (root || !getpwnam(user))
                return 0;
        _cleanup_free_ char *owner = strprintf("%s:%s", user, user);
        if (!owner)
                return -ENOMEM;
        char *argv[] = { "/bin/chown", "-R", owner, (char *) path, NULL };
        int r = run_program(argv, NULL);
        return r == 0 ? 0 : r < 0 ? r : -EIO;
}

static int remove_tree(const char *path) {
        if (!exists(path))
                return 0;
        char *argv[] = { "/bin/rm", "-rf", "--one-file-system", (char *) path, NULL };
        int r = run_program(argv, NULL);
        return r == 0 ? 0 : r < 0 ? r : -EIO;
}

int bootstrap_ceph_mon(BootstrapContext *c) {
        _cleanup_free_ char *rel = strprintf(CEPH_DATA_DIR "/mon/ceph-%s", c->node->name);
        _cleanup_free_ char *data = rel ? path_join_root(c->root, rel) : NULL;
        _cleanup_free_ char *tmp = data ? strprintf("%s.mkfs", data) : NULL;
        _cleanup_free_ char *conf = path_join_root(c->root, CEPH_CONFIG_DIR "/ceph.conf");
        _cleanup_free_ char *keyring = path_join_root(c->root, CEPH_CONFIG_DIR "/ceph.mon.keyring");
        _cleanup_free_ char *log = path_join_root(c->root, "/var/log/ceph/ceph-mon-mkfs.log");
        _cleanup_free_ char *output = NULL;
        if (!tmp || !conf || !keyring || !log)
                return -ENOMEM;

        if (exists(data)) {
                bootstrap_message(c, "the store of mon.%s exists (%s)", c->node->name, rel);
                return 0;
        }
        if (!exists(conf) || !exists(keyring)) {
                bootstrap_message(c, "%s or %s is missing: the stages render and certificates come first",
                                  CEPH_CONFIG_DIR "/ceph.conf", CEPH_CONFIG_DIR "/ceph.mon.keyring");
                return -ENOENT;
        }
        /* A half-made store of a run that died is made again. */
        int r = remove_tree(tmp);
        r = r ?: mkdir_parents(tmp, 0755);
        r = r ?: mkdir_parents(log, 0755);
        if (r < 0) {
                bootstrap_message(c, "cannot prepare %s", tmp);
                return r;
        }
        char *argv[] = { "/usr/bin/ceph-mon", "--mkfs", "-i", (char *) c->node->name, "--mon-data", tmp,
                         "--keyring", keyring, "-c", conf, "--log-file", log, NULL };
        r = run_program(argv, &output);
        if (r != 0) {
                bootstrap_message(c, "ceph-mon --mkfs for mon.%s failed (%s%d): %s", c->node->name,
                                  r < 0 ? "error " : "exit ", r, last_line(output));
                return r < 0 ? r : -EIO;
        }
        r = give_to(c->root, "ceph", tmp);
        if (r >= 0 && rename(tmp, data) < 0)
                r = -errno;
        if (r >= 0) {
                _cleanup_free_ char *parent = strdup(data);
                if (parent && strrchr(parent, '/'))
                        *strrchr(parent, '/') = 0;
                r = parent ? fsync_directory(parent) : -ENOMEM;
        }
        if (r < 0) {
                bootstrap_message(c, "cannot put the store of mon.%s into place", c->node->name);
                return r;
        }
        bootstrap_message(c, "made the store of mon.%s (ceph-mon --mkfs: the inventory's monitors as the initial "
                             "monmap)", c->node->name);
        return 0;
}

/* VALUE of KEY=VALUE or KEY="VALUE" in a rendered environment or properties file. */
static char *file_value(const char *path, const char *key) {
        _cleanup_free_ char *text = NULL;
        size_t size, klen = strlen(key);
        if (read_full_file(path, 1024 * 1024, &text, &size) < 0)
                return NULL;
        for (char *line = text; line && *line;) {
                char *next = strchr(line, '\n');
                if (next)
                        *next++ = 0;
                if (strncmp(line, key, klen) == 0 && line[klen] == '=') {
                        char *v = line + klen + 1;
                        size_t n = strlen(v);
                        if (n >= 2 && v[0] == '"' && v[n - 1] == '"')
                                return strndup(v + 1, n - 2);
                        return strdup(v);
                }
                line = next;
        }
        return NULL;
}

int bootstrap_kafka_storage(BootstrapContext *c) {
        _cleanup_free_ char *env = path_join_root(c->root, ENVIRONMENT_DIR "/kafka.env");
        _cleanup_free_ char *dir = path_join_root(c->root, KAFKA_DATA_DIR "/data");
        _cleanup_free_ char *meta = dir ? strprintf("%s/meta.properties", dir) : NULL;
        _cleanup_free_ char *want = NULL, *have = NULL, *output = NULL;
        if (!env || !meta)
                return -ENOMEM;

        want = file_value(env, "KAFKA_CLUSTER_ID");
        if (!want) {
                bootstrap_message(c, "%s has no KAFKA_CLUSTER_ID: the stage render comes first",
                                  ENVIRONMENT_DIR "/kafka.env");
                return -ENOENT;
        }
        have = file_value(meta, "cluster.id");
        if (have && streq(have, want)) {
                bootstrap_message(c, "%s is formatted for this cluster (%s)", KAFKA_DATA_DIR "/data", want);
                return 0;
        }
        if (have) {
                bootstrap_message(c, "%s holds another cluster's metadata (cluster.id %s, not %s): it is never "
                                     "formatted again; move it away to make this broker part of the cluster",
                                  KAFKA_DATA_DIR "/data/meta.properties", have, want);
                return -EEXIST;
        }
        if (c->root) {
                bootstrap_message(c, "%s is not formatted; kafka-storage format runs on the live node only",
                                  KAFKA_DATA_DIR "/data");
                return 0;
        }
        /* "--cluster-id=ID", not "-t ID": an id may start with '-' (one made by secrets init never does). */
        _cleanup_free_ char *id = strprintf("--cluster-id=%s", want);
        if (!id)
                return -ENOMEM;
        char *argv[] = { "/opt/kafka/bin/kafka-storage.sh", "format", id, "-c", KAFKA_CONFIG_DIR "/server.properties",
                         NULL };
        int r = run_program(argv, &output);
        if (r != 0) {
                bootstrap_message(c, "kafka-storage format failed (%s%d): %s", r < 0 ? "error " : "exit ", r,
                                  last_line(output));
                return r < 0 ? r : -EIO;
        }
        /* The broker runs as kafka (units/kafka.service); the tool ran as root. */
        r = give_to(NULL, "kafka", dir);
        if (r < 0) {
                bootstrap_message(c, "cannot give %s to the kafka user", KAFKA_DATA_DIR "/data");
                return r;
        }
        bootstrap_message(c, "formatted %s for cluster %s", KAFKA_DATA_DIR "/data", want);
        return 0;
}
