/* SPDX-License-Identifier: Apache-2.0 */
#include <dirent.h>
#include <errno.h>
#include <inttypes.h>
#include <jansson.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <unistd.h>

#include "activate.h"
#include "cmd.h"
#include "fileio.h"
#include "fs-util.h"
#include "identity.h"
#include "inventory.h"
#include "log.h"
#include "osd-record.h"
#include "paths.h"
#include "plan.h"
#include "readers.h"
#include "render.h"
#include "string-util.h"
#include "banned.h"

int cmd_for_node(const Options *o, NodeCommand fn, const void *arg) {
        Inventory *inv = NULL;
        const Node *node;
        int r = cmd_load_inventory(o, false, &inv);
        if (r != EXIT_DONE)
                return r;
        r = cmd_resolve_node(o, inv, &node);
        if (r == EXIT_DONE) {
                log_set_context(node->name, NULL);
                r = fn(o, inv, node, arg);
                log_set_context(NULL, NULL);
        }
        inventory_free(inv);
        return r;
}

int cmd_add_auto_node(const Options *o, Inventory *inv, const char *name, Node **ret) {
        Facts facts;
        Identity id = {};
        _cleanup_free_ char *problem = NULL, *addr_path = path_join_root(o->root, AUTO_ADDRESS_PATH), *addr = NULL;
        size_t size;
        int r = addr_path ? facts_read(o->root, &facts) : -ENOMEM;
        if (r < 0)
                return r;
        r = identity_match(inv, &facts, &id, &problem);
        facts_done(&facts);
        if (r < 0 || id.node || !id.auto_name || !streq(id.auto_name, name)) {
                identity_done(&id);
                return -ENXIO; /* not this machine's auto-registered name */
        }
        /* The address the join service recorded at registration (stage register), once there is one. */
        IpAddr ip;
        bool have_ip = read_full_file(addr_path, 256, &addr, &size) >= 0 &&
                       (addr[strcspn(addr, "\n")] = 0, ip_addr_parse(addr, &ip) >= 0);
        r = inventory_add_auto_node(inv, name, id.matched, have_ip ? &ip : NULL, ret, NULL);
        identity_done(&id);
        return r;
}

int cmd_resolve_node(const Options *o, Inventory *inv, const Node **ret) {
        _cleanup_free_ char *from_file = NULL;
        const char *name = o->node;

        if (!name) {
                _cleanup_free_ char *path = path_join_root(o->root, NODE_IDENTITY_PATH);
                size_t size;
                if (!path)
                        return log_error("out of memory"), EXIT_FAILED;
                int r = read_full_file(path, 256, &from_file, &size);
                if (r < 0) {
                        log_error_errno(r, "cannot read %s: %m", path);
                        log_error("run 'clusterboot detect' first, or name the node with --node NAME");
                        return EXIT_FAILED;
                }
                while (size > 0 && (from_file[size - 1] == '\n' || from_file[size - 1] == ' '))
                        from_file[--size] = 0;
                name = from_file;
        }

        const Node *n = inventory_find_node(inv, name);
        if (!n && inv->cluster.auto_register.enabled.v) {
                Node *added = NULL;
                int r = cmd_add_auto_node(o, inv, name, &added);
                if (r < 0 && r != -ENXIO)
                        return log_error_errno(r, "cannot make node '%s' of this auto-registered machine: %m", name),
                               EXIT_FAILED;
                n = added;
        }
        if (!n) {
                log_error("node '%s' is not in the inventory %s%s", name, o->inventory,
                          o->node ? "" : " (the name comes from " NODE_IDENTITY_PATH ")");
                return EXIT_FAILED;
        }
        *ret = n;
        return EXIT_DONE;
}

/* How long a restarted service has to be active again: etcd rejoining its peers, the API server its etcd
 * (about a minute in the whole-cluster test on two shared cores). */
#define RESTART_TIMEOUT 300

static void on_restart(const char *unit, UnitRestart what, void *userdata) {
        json_t *restarts = userdata;
        static const char *const words[] = {
                [UNIT_RESTARTED] = "restarted",
                [UNIT_UP_TO_DATE] = "up to date",
                [UNIT_NOT_RUNNING] = "not running",
                [UNIT_RESTART_FAILED] = "failed",
        };
        if (restarts)
                json_array_append_new(restarts, json_pack("{s:s,s:s}", "unit", unit, "result", words[what]));
        else if (what == UNIT_RESTARTED)
                printf("  restarted %s\n", unit); /* one that is not running reads the files when it starts */
        if (what == UNIT_RESTART_FAILED)
                log_error("%s is not active again after its restart: see 'journalctl -u %s'", unit, unit);
}

json_t *cmd_node_units(const Options *o, const Inventory *inv, const Node *node) {
        _cleanup_free_ int64_t *osds = NULL;
        size_t n_osds = 0;
        if (osd_node_ids(o->root, node, false, &osds, &n_osds) < 0)
                n_osds = 0;
        return plan_node_units(inv, node, osds, n_osds);
}

int cmd_restart_readers(const Options *o, const char *const *paths, size_t n_paths, const char *const *node_units,
                        size_t n_units, json_t *restarts) {
        const char *units[NODE_MAX_READERS];
        uint64_t changed[NODE_MAX_READERS] = {};
        size_t n = node_units_to_restart(paths, n_paths, node_units, n_units, units, ELEMENTSOF(units));
        /* Each unit's time: the newest change of a file it reads. */
        for (size_t i = 0; i < n_paths; i++) {
                struct stat st;
                if (stat(paths[i], &st) < 0)
                        continue;
                uint64_t mtime = (uint64_t) st.st_mtim.tv_sec * 1000000 + (uint64_t) st.st_mtim.tv_nsec / 1000;
                const char *one[NODE_MAX_READERS];
                size_t m = node_units_to_restart(paths + i, 1, node_units, n_units, one, ELEMENTSOF(one));
                for (size_t j = 0; j < m; j++)
                        for (size_t k = 0; k < n; k++)
                                if (streq(units[k], one[j]) && changed[k] < mtime)
                                        changed[k] = mtime;
        }
        if (o->dry_run) {
                for (size_t i = 0; i < n; i++)
                        if (restarts)
                                json_array_append_new(restarts, json_pack("{s:s,s:s}", "unit", units[i], "result",
                                                                          "would restart if stale"));
                        else
                                printf("  would restart %s if it started before its files changed\n", units[i]);
                return 0;
        }
        int r = units_restart_stale(units, changed, n, RESTART_TIMEOUT, on_restart, restarts);
        if (r < 0)
                log_error_errno(r, "the restarts stopped there (%m); the new files are in place: once the service "
                                   "is fixed, run this again to restart what still reads the old ones");
        return r;
}

void cmd_etcd_done(CmdEtcd *a) {
        for (size_t i = 0; i < a->n; i++)
                free(a->endpoints[i]);
        free(a->endpoints);
        for (size_t i = 0; i < ELEMENTSOF(a->files); i++)
                free(a->files[i]);
        *a = (CmdEtcd) {};
}

int cmd_etcd_paths(const Options *o, const Inventory *inv, const Node *self, CmdEtcd *ret) {
        CmdEtcd a = { .endpoints = calloc(inv->n_nodes + 1, sizeof(char *)) };
        /* kubeadm's etcd health check client: a client certificate of the etcd CA every master holds. */
        static const char *const files[] = { ETCD_PKI_DIR "/ca.crt", ETCD_HEALTHCHECK_CERT, ETCD_HEALTHCHECK_KEY };
        int r = a.endpoints ? 0 : -ENOMEM;
        if (r >= 0 && self && self->ip_valid)
                r = (a.endpoints[a.n++] = ip_url("https", &self->ip, ETCD_CLIENT_PORT, NULL)) ? 0 : -ENOMEM;
        for (size_t i = 0; i < inv->n_nodes && r >= 0; i++) {
                const Node *n = inv->nodes + i;
                if (n->roles[ROLE_MASTER] && n->ip_valid && (!self || !streq(n->name, self->name)))
                        r = (a.endpoints[a.n++] = ip_url("https", &n->ip, ETCD_CLIENT_PORT, NULL)) ? 0 : -ENOMEM;
        }
        for (size_t i = 0; i < ELEMENTSOF(files) && r >= 0; i++) {
                a.files[i] = path_join_root(o->root, files[i]);
                r = a.files[i] ? 0 : -ENOMEM;
        }
        if (r < 0) {
                cmd_etcd_done(&a);
                return r;
        }
        a.tls = (EtcdTls) { .ca_file = a.files[0], .cert_file = a.files[1], .key_file = a.files[2] };
        *ret = a;
        return 0;
}

int cmd_etcd_access(const Options *o, const Inventory *inv, const Node *self, CmdEtcd *ret) {
        CmdEtcd a = {};
        int r = cmd_etcd_paths(o, inv, self, &a);
        r = r ?: etcd_tls_readable(&a.tls);
        if (r < 0) {
                cmd_etcd_done(&a);
                return r;
        }
        *ret = a;
        return 0;
}

int cmd_inventory_files(const Inventory *inv, RenderSet *set) {
        int r = 0;
        for (size_t i = 0; r >= 0 && i < inv->sources.n_files; i++) {
                const SourceFile *sf = inv->sources.files + i;
                _cleanup_free_ char *path = strprintf("%s/%s", CLUSTER_CONFIG_DIR, sf->rel);
                /* cluster.yaml may carry the bootstrap token: then only root reads it. */
                bool secret = streq(sf->rel, "cluster.yaml") && inv->cluster.bootstrap.token.v;
                StrBuf b = {};
                r = path ? strbuf_appendn(&b, sf->data, sf->size) : -ENOMEM;
                r = r ?: render_set_add(set, path, secret ? 0600 : 0644, &b);
                strbuf_done(&b);
        }
        return r;
}

int cmd_add_join_secret(RenderSet *set, const char *path, const char *secret) {
        /* One buffer of the right size: no copy of the secret left behind by a realloc. */
        StrBuf b = {};
        int r = strbuf_printf(&b, "%s\n", secret);
        r = r ?: render_set_add(set, path, 0600, &b);
        if (b.s) /* not taken: an error */
                explicit_bzero(b.s, b.len);
        strbuf_done(&b);
        return r;
}

int cmd_join_secret_files(const Options *o, const char *secret, int64_t version, RenderSet *set) {
        static const char *const kept[] = { JOIN_SECRET_PATH, SECRETS_BUNDLE_DIR "/join-secret" };
        _cleanup_free_ char *version_path = path_join_root(o->root, JOIN_SECRET_VERSION_PATH), *had = NULL;
        size_t size;
        if (!version_path)
                return -ENOMEM;
        if (read_full_file(version_path, 64, &had, &size) >= 0 && strtoll(had, NULL, 10) > version)
                return 0;
        size_t n = set->n;
        for (size_t i = 0; i < ELEMENTSOF(kept); i++) {
                _cleanup_free_ char *path = path_join_root(o->root, kept[i]);
                if (!path)
                        return -ENOMEM;
                if (access(path, F_OK) < 0)
                        continue;
                int r = cmd_add_join_secret(set, kept[i], secret);
                if (r < 0)
                        return r;
        }
        if (set->n == n)
                return 0;
        StrBuf v = {};
        int r = strbuf_printf(&v, "%" PRId64 "\n", version);
        r = r ?: render_set_add(set, JOIN_SECRET_VERSION_PATH, 0644, &v);
        strbuf_done(&v);
        return r;
}

/* Inventory files in the tree that the source no longer has: a node removed from the cluster would otherwise
 * stay in the image (and its file fail validation as a node file for an unknown node). */
int cmd_remove_stale_inventory(const Options *o, const RenderSet *set) {
        static const char *const dirs[] = { CLUSTER_CONFIG_DIR "/nodes", CLUSTER_CONFIG_DIR "/services" };
        for (size_t i = 0; i < ELEMENTSOF(dirs); i++) {
                _cleanup_free_ char *dir = path_join_root(o->root, dirs[i]);
                if (!dir)
                        return -ENOMEM;
                DIR *d = opendir(dir);
                if (!d)
                        continue;
                struct dirent *de;
                int r = 0;
                while ((de = readdir(d)) && r >= 0) {
                        if (!endswith(de->d_name, ".yaml"))
                                continue;
                        _cleanup_free_ char *path = strprintf("%s/%s", dirs[i], de->d_name);
                        if (!path) {
                                r = -ENOMEM;
                                break;
                        }
                        if (render_set_find(set, path))
                                continue;
                        if (!o->dry_run && unlinkat(dirfd(d), de->d_name, 0) < 0)
                                r = -errno;
                        else
                                printf("  %sremoved %s\n", o->dry_run ? "would be " : "", path);
                }
                closedir(d);
                if (r < 0)
                        return r;
        }
        return 0;
}

