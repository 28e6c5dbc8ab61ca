/* SPDX-License-Identifier: Apache-2.0 */
/* Drives the join service for tests/join/test-join-server.sh:
 *   join-tool build SECRET NODE [NAME...]      a request body on stdout (CSRs for throwaway keys)
 *   join-tool join URL SECRET NODE OUTDIR [--ca FILE] [--ca-hash H] [--ca-bundle] [--cert PEM] [--hwaddr MAC]
 *                  [NAME...]
 *       joins through join_client_join(): OUTDIR/NAME.crt and .key (a '/' in NAME becomes '_') and
 *       OUTDIR/ca.crt. With --hwaddr, as a machine auto_register is to name (prints "registered as NAME at
 *       IP"). With --cert (a client certificate and its key), renews through join_client_renew()
 *       instead, SECRET unused. Exit 0 joined, 1 refused (prints the status and reason), 3 the server failed
 *       its proof or pin, 4 unreachable, 2 usage.
 *   join-tool state URL SECRET NODE
 *       asks POST /v1/cluster-state as master NODE (join_client_cluster_state()): prints "etcd BOOL ca HASH"
 *       (HASH "-" for none); exit codes as join. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "fileio.h"
#include "join-client.h"
#include "join-protocol.h"
#include "secret-formats.h"
#include "string-util.h"
#include "x509.h"

static int add_csrs(json_t *csrs, char **names, int n, EVP_PKEY **keys) {
        for (int i = 0; i < n; i++) {
                char *pem = NULL;
                if (pki_key_generate(KEY_ECDSA_P256, &keys[i]) < 0 || join_csr_make(keys[i], "join-tool", &pem) < 0)
                        return -EIO;
                json_object_set_new(csrs, names[i], json_string(pem));
                free(pem);
        }
        return 0;
}

static int write_text(const char *dir, const char *name, const char *ext, const char *text) {
        char *path = strprintf("%s/%s%s", dir, name, ext);
        for (char *p = path + strlen(dir) + 1; p && *p; p++)
                if (*p == '/')
                        *p = '_';
        FILE *f = path ? fopen(path, "we") : NULL;
        free(path);
        if (!f)
                return -errno;
        fputs(text, f);
        return fclose(f) == 0 ? 0 : -EIO;
}

static int build(int argc, char **argv) {
        char nonce[JOIN_NONCE_HEX + 1], *body = NULL;
        int n = argc - 4;
        EVP_PKEY *keys[32] = {};
        json_t *csrs = json_object();
        if (n > 32 || add_csrs(csrs, argv + 4, n, keys) < 0 || join_nonce_generate(nonce) < 0 ||
            join_request_build(argv[2], argv[3], NULL, time(NULL), nonce, csrs, false, &body) < 0)
                return 1;
        puts(body);
        free(body);
        json_decref(csrs);
        for (int i = 0; i < n; i++)
                EVP_PKEY_free(keys[i]);
        return 0;
}

static int join(int argc, char **argv) {
        JoinClientOptions o = { .url = argv[2], .secret = argv[3], .timeout_sec = 10 };
        const char *node = argv[4], *out = argv[5];
        char *ca = NULL, *names[32];
        bool ca_bundle = false;
        int n = 0;
        size_t size;
        for (int i = 6; i < argc; i++) {
                if (streq(argv[i], "--ca") && i + 1 < argc) {
                        if (read_full_file(argv[++i], 1024 * 1024, &ca, &size) < 0)
                                return 2;
                        o.ca_pem = ca;
                } else if (streq(argv[i], "--ca-hash") && i + 1 < argc)
                        o.ca_hash = argv[++i];
                else if (streq(argv[i], "--ca-bundle"))
                        ca_bundle = true;
                else if (streq(argv[i], "--cert") && i + 1 < argc)
                        o.client_cert = argv[++i];
                else if (streq(argv[i], "--hwaddr") && i + 1 < argc)
                        o.hwaddr = argv[++i];
                else if (n < 32)
                        names[n++] = argv[i];
        }
        EVP_PKEY *keys[32] = {};
        json_t *csrs = json_object(), *answer = NULL;
        long status = 0;
        char *error = NULL;
        int r = add_csrs(csrs, names, n, keys);
        if (r >= 0)
                r = o.client_cert ? join_client_renew(&o, node, csrs, &answer, &status, &error)
                                  : join_client_join(&o, node, csrs, ca_bundle, &answer, &status, &error);
        int ret = 0;
        if (r == -EACCES) {
                printf("refused %ld: %s\n", status, error);
                ret = 1;
        } else if (r == -EBADMSG) {
                printf("untrusted server\n");
                ret = 3;
        } else if (r < 0) {
                printf("failed: %s\n", strerror(-r));
                ret = 4;
        } else {
                json_t *certs = json_object_get(answer, "certificates");
                for (int i = 0; i < n && ret == 0; i++) {
                        const char *pem = json_string_value(json_object_get(certs, names[i]));
                        char *key = NULL;
                        size_t ks;
                        if (!pem || write_text(out, names[i], ".crt", pem) < 0 ||
                            pki_key_to_pem(keys[i], &key, &ks) < 0 || write_text(out, names[i], ".key", key) < 0)
                                ret = 4;
                        secret_free(key);
                }
                const char *capem = json_string_value(json_object_get(answer, "ca"));
                if (!capem || write_text(out, "ca", ".crt", capem) < 0)
                        ret = 4;
                json_t *material = json_object_get(answer, "role_material");
                const char *path;
                json_t *v;
                json_object_foreach(material, path, v) printf("material %s\n", path);
                json_t *registered = json_object_get(answer, "registered");
                if (registered)
                        printf("registered as %s at %s\n", json_string_value(json_object_get(answer, "node")),
                               json_string_value(json_object_get(registered, "ip")));
                printf("joined %s: %zu certificates%s\n", node, json_object_size(certs),
                       json_object_get(answer, "ca_bundle") ? ", the CA bundle" : "");
        }
        free(error);
        free(ca);
        json_decref(answer);
        json_decref(csrs);
        for (int i = 0; i < n; i++)
                EVP_PKEY_free(keys[i]);
        return ret;
}

static int state(char **argv) {
        JoinClientOptions o = { .url = argv[2], .secret = argv[3], .timeout_sec = 10 };
        json_t *answer = NULL;
        int r = join_client_cluster_state(&o, argv[4], &answer);
        int ret = r >= 0 ? 0 : r == -EACCES ? 1 : r == -EBADMSG ? 3 : 4;
        if (r >= 0) {
                const char *ca = json_string_value(json_object_get(answer, "ca"));
                printf("node %s etcd %s ca %s\n", json_string_value(json_object_get(answer, "node")),
                       json_is_true(json_object_get(answer, "etcd")) ? "true" : "false", ca && *ca ? ca : "-");
        } else
                printf("%s\n", r == -EACCES ? "refused" : r == -EBADMSG ? "untrusted server" : "no answer");
        json_decref(answer);
        return ret;
}

int main(int argc, char **argv) {
        if (argc >= 4 && streq(argv[1], "build"))
                return build(argc, argv);
        if (argc >= 6 && streq(argv[1], "join"))
                return join(argc, argv);
        if (argc == 5 && streq(argv[1], "state"))
                return state(argv);
        fprintf(stderr, "usage: join-tool build SECRET NODE [NAME...] | join URL SECRET NODE OUTDIR [...] | state URL SECRET NODE\n");
        return 2;
}
