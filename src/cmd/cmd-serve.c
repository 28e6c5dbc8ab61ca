/* SPDX-License-Identifier: Apache-2.0 */
#include <errno.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>
#include <systemd/sd-daemon.h>

#include "bundle.h"
#include "fileio.h"
#include "fs-util.h"
#include "cmd.h"
#include "inventory.h"
#include "join-protocol.h"
#include "join-server.h"
#include "log.h"
#include "paths.h"
#include "secret-formats.h"
#include "string-util.h"
#include "x509.h"
#include "banned.h"

static void notify_ready(void) {
        log_info("join: serving");
        sd_notify(0, "READY=1\nSTATUS=Serving joins");
}

/* $CLUSTERBOOT_JOIN_LISTEN=ADDRESS:PORT (for tests) replaces the master's IP and 127.0.0.1 on JOIN_PORT. */
static int listen_override(JoinServer *s, const char *spec) {
        IpAddr ip;
        uint16_t port;
        char addr[IP_ADDR_STRLEN];
        if (ip_endpoint_parse(spec, &ip, &port) < 0)
                return -EINVAL;
        ip_addr_format(&ip, addr);
        return join_server_listen(s, addr, port);
}

/* A master without the cluster's bundle yet (the join policy, before it made or received one): the image's
 * join secret, and a CA made now and kept in memory only, for the server's TLS certificate. The answer to
 * /v1/cluster-state is proven by the join secret, not by TLS. -ENOENT without a join secret. */
static int candidate_bundle(const Options *o, Bundle *b) {
        _cleanup_free_ char *path = path_join_root(o->root, JOIN_SECRET_PATH);
        char *secret = NULL;
        int r = path ? join_secret_read(path, &secret) : -ENOMEM;
        if (r < 0)
                return r;
        CertSpec spec = { .common_name = "clusterboot-join-candidate", .usage = CERT_USAGE_CA, .validity_days = 30 };
        r = pki_key_generate(KEY_ECDSA_P256, &b->ca_key);
        r = r ?: pki_ca_create(b->ca_key, &spec, &b->ca);
        if (r >= 0)
                b->join_secret = TAKE_PTR(secret);
        else
                secret_free(secret);
        return r;
}

static int serve(const Options *o, const Inventory *inv, const Node *node, const void *arg) {
        Bundle b = {};
        RenderSet files = {};
        JoinServer *s = NULL;
        CmdEtcd etcd = {};
        const char *missing = NULL;
        int r = EXIT_FAILED;

        if (!node->roles[ROLE_MASTER]) {
                log_error("node '%s' is not a master: only masters serve joins", node->name);
                return EXIT_FAILED;
        }
        /* Without the bundle (the join policy, before this master made or received one): a candidate, which
         * tells the first master that it holds no cluster (membership.h), until the bundle arrives. */
        bool candidate = !o->secrets;
        int k;
        if (candidate) {
                k = candidate_bundle(o, &b);
                if (k == -ENOENT) {
                        log_error("this needs the cluster's secrets bundle (--secrets DIR, or %s) or, on a master "
                                  "that has none yet, the image's join secret (%s)", SECRETS_BUNDLE_DIR, JOIN_SECRET_PATH);
                        r = EXIT_USAGE;
                        goto finish;
                }
                if (k < 0) {
                        log_error_errno(k, "cannot read the join secret %s: %m", JOIN_SECRET_PATH);
                        goto finish;
                }
        } else {
                k = bundle_load(o->secrets, &b, &missing);
                if (k < 0) {
                        log_error_errno(k, "cannot load the secrets bundle %s%s%s: %m", o->secrets, missing ? ": " : "",
                                        missing ?: "");
                        goto finish;
                }
                k = bundle_collect(o->secrets, NULL, &files);
                if (k < 0) {
                        log_error_errno(k, "cannot read the secrets bundle %s: %m", o->secrets);
                        goto finish;
                }
        }
        k = join_server_new(inv, node, &b, candidate ? NULL : &files, &s);
        if (k < 0) {
                log_error_errno(k, "cannot set up the join service: %m");
                goto finish;
        }
        join_server_set_root(s, o->root);
        if (candidate) {
                _cleanup_free_ char *bundle_ca = path_join_root(o->root, SECRETS_BUNDLE_DIR "/kubernetes/ca.crt");
                k = bundle_ca ? join_server_set_candidate(s, bundle_ca) : -ENOMEM;
                if (k < 0) {
                        log_error_errno(k, "cannot set up the join service: %m");
                        goto finish;
                }
                log_info("join: no secrets bundle on this master yet: answering /v1/cluster-state only, until %s "
                         "is there", SECRETS_BUNDLE_DIR);
        } else {
                /* The cluster's etcd, this master's first: the stored inventory, and the records every master's
                 * join service shares. Its client certificate may come later (stage certificates). */
                k = cmd_etcd_paths(o, inv, node, &etcd);
                if (k < 0) {
                        log_error_errno(k, "cannot set up the join service: %m");
                        goto finish;
                }
                join_server_set_etcd(s, (const char *const *) etcd.endpoints, etcd.n, &etcd.tls);
                if (etcd_tls_readable(&etcd.tls) < 0)
                        log_warning("no etcd client certificate (%s) yet: until it is there, nodes that ask for the "
                                    "stored inventory get 503", etcd.tls.cert_file);
        }
        const char *spec = getenv("CLUSTERBOOT_JOIN_LISTEN");
        if (spec) {
                k = listen_override(s, spec);
                if (k < 0) {
                        log_error_errno(k, "cannot listen on %s: %m", spec);
                        goto finish;
                }
        } else {
                char ip[IP_ADDR_STRLEN];
                ip_addr_format(&node->ip, ip);
                k = join_server_listen(s, ip, JOIN_PORT);
                if (k < 0) {
                        log_error_errno(k, "cannot listen on %s port %d: %m", ip, JOIN_PORT);
                        goto finish;
                }
                k = join_server_listen(s, "127.0.0.1", JOIN_PORT);
                if (k < 0) {
                        log_error_errno(k, "cannot listen on 127.0.0.1 port %d: %m", JOIN_PORT);
                        goto finish;
                }
        }
        k = join_server_run(s, notify_ready);
        if (k == -EAGAIN) {
                r = EXIT_TEMPFAIL; /* the bundle arrived: systemd starts the service again, with it */
                goto finish;
        }
        if (k < 0) {
                log_error_errno(k, "the join service failed: %m");
                goto finish;
        }
        r = EXIT_DONE;
finish:
        join_server_free(s);
        cmd_etcd_done(&etcd);
        render_set_wipe(&files);
        bundle_done(&b);
        return r;
}

int cmd_serve(int argc, char **argv, const Options *o) {
        (void) argc, (void) argv;
        return cmd_for_node(o, serve, NULL);
}
