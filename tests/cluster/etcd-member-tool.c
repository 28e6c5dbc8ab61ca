/* SPDX-License-Identifier: Apache-2.0 */
/* The etcd client library as a command, for test-etcd-membership.sh: each verb is one library call.
 *
 *   etcd-member-tool --ca F --cert F --key F --endpoints URL[,URL...] [--timeout-ms N] VERB [ARGS]
 *     list                       "cluster <id>", then "member <id> <name|-> <voter|learner> <peers> <clients|->"
 *     add NAME PEER_URL [voter]  "id <id>", "ETCD_INITIAL_CLUSTER=..." for NAME, then the list after the add
 *     promote ID | remove ID     ids in decimal
 *     health                     /health of the first endpoint
 *     get KEY                    "<mod_revision> <version> <value>"
 *     put-if KEY REV VALUE       KEY = VALUE if KEY was last written at REV (0: it does not exist)
 *     prefix PREFIX PAGE LIMIT   every key under PREFIX, read PAGE keys at a time: "<key> <value>" each
 *
 * Exit status: 0, 75 -EAGAIN (EX_TEMPFAIL), 3 -ENOENT, 4 -EEXIST, 5 -EACCES, 6 -EALREADY, 7 -ENOKEY, 8 -ESTALE,
 * 2 usage, 1 anything else; the error goes to stderr. */
#include <errno.h>
#include <getopt.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "etcd-client.h"
#include "macro.h"
#include "string-util.h"
#include "banned.h"

static int exit_status(int r) {
        switch (r) {
        case 0:
                return 0;
        case -EAGAIN:
                return 75;
        case -ENOENT:
                return 3;
        case -EEXIST:
                return 4;
        case -EACCES:
                return 5;
        case -EALREADY:
                return 6;
        case -ENOKEY:
                return 7;
        case -ESTALE:
                return 8;
        default:
                return 1;
        }
}

static int usage(void) {
        fprintf(stderr, "usage: etcd-member-tool --ca F --cert F --key F --endpoints URL[,URL...] "
                        "[--timeout-ms N] list|add NAME PEER_URL [voter]|promote ID|remove ID|health\n");
        return 2;
}

static bool parse_u64(const char *s, uint64_t *ret) {
        if (!s || *s < '0' || *s > '9')
                return false;
        errno = 0;
        char *end;
        unsigned long long u = strtoull(s, &end, 10);
        if (errno != 0 || *end)
                return false;
        *ret = (uint64_t) u;
        return true;
}

static void print_strv(char **v, size_t n) {
        if (n == 0)
                fputs(" -", stdout);
        for (size_t i = 0; i < n; i++)
                printf("%c%s", i == 0 ? ' ' : ',', v[i]);
}

static void print_list(const EtcdMemberList *l) {
        printf("cluster %" PRIu64 "\n", l->cluster_id);
        for (size_t i = 0; i < l->n; i++) {
                const EtcdMember *m = l->members + i;
                printf("member %" PRIu64 " %s %s", m->id, *m->name ? m->name : "-",
                       m->is_learner ? "learner" : "voter");
                print_strv(m->peer_urls, m->n_peer_urls);
                print_strv(m->client_urls, m->n_client_urls);
                putchar('\n');
        }
}

/* "a,b,c" -> endpoints; the strings point into s. */
static size_t split_endpoints(char *s, const char **v, size_t max) {
        size_t n = 0;
        for (char *p = s; p && n < max;) {
                char *comma = strchr(p, ',');
                if (comma)
                        *comma = 0;
                if (*p)
                        v[n++] = p;
                p = comma ? comma + 1 : NULL;
        }
        return n;
}

static int run(const char *verb, char **args, size_t n_args, const char *const *eps, size_t n_eps,
               const EtcdTls *tls, unsigned timeout_ms) {
        uint64_t id;
        int r;

        if (streq(verb, "list") && n_args == 0) {
                EtcdMemberList l = {};
                r = etcd_member_list(eps, n_eps, tls, timeout_ms, &l);
                if (r >= 0)
                        print_list(&l);
                etcd_member_list_done(&l);
                return r;
        }
        if (streq(verb, "add") && (n_args == 2 || (n_args == 3 && streq(args[2], "voter")))) {
                EtcdMemberList after = {};
                r = etcd_member_add(eps, n_eps, tls, timeout_ms, args[1], n_args == 2, &id, &after);
                if (r >= 0) {
                        char *ic = etcd_initial_cluster(&after, args[0], args[1]);
                        if (ic) {
                                printf("id %" PRIu64 "\nETCD_INITIAL_CLUSTER=%s\n", id, ic);
                                print_list(&after);
                        } else
                                r = -errno;
                        free(ic);
                }
                etcd_member_list_done(&after);
                return r;
        }
        if (streq(verb, "promote") && n_args == 1 && parse_u64(args[0], &id))
                return etcd_member_promote(eps, n_eps, tls, timeout_ms, id);
        if (streq(verb, "remove") && n_args == 1 && parse_u64(args[0], &id))
                return etcd_member_remove(eps, n_eps, tls, timeout_ms, id);
        if (streq(verb, "get") && n_args == 1) {
                EtcdValue v = {};
                r = etcd_get(eps, n_eps, tls, timeout_ms, args[0], &v);
                if (r >= 0)
                        printf("%" PRId64 " %" PRId64 " %s\n", v.mod_revision, v.version, v.value);
                etcd_value_done(&v);
                return r;
        }
        if (streq(verb, "put-if") && n_args == 3 && parse_u64(args[1], &id) && id <= INT64_MAX) {
                const char *keys[] = { args[0] }, *values[] = { args[2] };
                return etcd_put_if(eps, n_eps, tls, timeout_ms, args[0], (int64_t) id, keys, values, 1);
        }
        uint64_t page, limit;
        if (streq(verb, "prefix") && n_args == 3 && parse_u64(args[1], &page) && parse_u64(args[2], &limit)) {
                EtcdKeyValue *kvs = NULL;
                size_t n = 0;
                r = etcd_get_prefix(eps, n_eps, tls, timeout_ms, args[0], page, limit, &kvs, &n);
                for (size_t i = 0; r >= 0 && i < n; i++)
                        printf("%s %s\n", kvs[i].key, kvs[i].value.value);
                etcd_key_values_free(kvs, n);
                return r == -E2BIG ? -ESTALE : r; /* 8: more than LIMIT */
        }
        if (streq(verb, "health") && n_args == 0)
                return etcd_endpoint_health(eps[0], tls, timeout_ms);
        return -EDOM; /* usage */
}

int main(int argc, char **argv) {
        static const struct option options[] = {
                { "ca", required_argument, NULL, 'a' },
                { "cert", required_argument, NULL, 'c' },
                { "key", required_argument, NULL, 'k' },
                { "endpoints", required_argument, NULL, 'e' },
                { "timeout-ms", required_argument, NULL, 't' },
                {},
        };
        EtcdTls tls = {};
        char *endpoints = NULL;
        uint64_t timeout_ms = 3000;
        int c;
        while ((c = getopt_long(argc, argv, "", options, NULL)) >= 0)
                switch (c) {
                case 'a':
                        tls.ca_file = optarg;
                        break;
                case 'c':
                        tls.cert_file = optarg;
                        break;
                case 'k':
                        tls.key_file = optarg;
                        break;
                case 'e':
                        endpoints = optarg;
                        break;
                case 't':
                        if (!parse_u64(optarg, &timeout_ms) || timeout_ms == 0 || timeout_ms > 600000)
                                return usage();
                        break;
                default:
                        return usage();
                }
        if (!tls.ca_file || !tls.cert_file || !tls.key_file || !endpoints || optind >= argc)
                return usage();

        const char *eps[16];
        size_t n_eps = split_endpoints(endpoints, eps, ELEMENTSOF(eps));
        if (n_eps == 0)
                return usage();

        const char *verb = argv[optind];
        int r = run(verb, argv + optind + 1, (size_t) (argc - optind - 1), eps, n_eps, &tls, (unsigned) timeout_ms);
        if (r == -EDOM)
                return usage();
        if (r < 0)
                fprintf(stderr, "etcd-member-tool: %s: %s\n", verb, strerror(-r));
        return exit_status(r);
}
