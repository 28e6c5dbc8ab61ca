/* SPDX-License-Identifier: Apache-2.0 */
/* sync: a node takes the inventory the cluster runs (what `apply` stored in etcd), writes it to
 * /etc/cluster-config, renders again, and restarts the running services that read a file that changed. */
#include <errno.h>
#include <inttypes.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

#include "activate.h"
#include "ceph-admin.h"
#include "ceph-answer.h"
#include "cmd.h"
#include "fileio.h"
#include "fs-util.h"
#include "inventory-store.h"
#include "inventory.h"
#include "join-client.h"
#include "join-node.h"
#include "join-record.h"
#include "kube-mark.h"
#include "kubeconfig.h"
#include "log.h"
#include "membership.h"
#include "osd-record.h"
#include "paths.h"
#include "plan.h"
#include "render.h"
#include "secret-formats.h"
#include "string-util.h"
#include "writer.h"
#include "banned.h"

#define SYNC_TIMEOUT_MS 5000
/* The version of the stored inventory this node last took whole (files, render, restarts). */
#define INVENTORY_VERSION_PATH STATE_DIR "/inventory-version"

/* What a node takes from the cluster: the stored inventory, the auto_register registry and the join secret
 * (when `secrets rotate join-secret` made one; else NULL). */
typedef struct Taken {
        StoredInventory stored;
        RegistrationList registered;
        char *join_secret;
        int64_t join_secret_version;
} Taken;

static void taken_done(Taken *t) {
        stored_inventory_done(&t->stored);
        registration_list_done(&t->registered);
        secret_free(t->join_secret);
        *t = (Taken) {};
}

/* A master reads etcd itself: the stored inventory, the auto_register registry and the join secret. 0
 * with nothing taken when it is no master (or not yet one with its etcd client certificate), 1 when it read,
 * < 0 (logged) when etcd failed it. */
static int fetch_from_etcd(const Options *o, const Inventory *inv, const Node *node, Report *report, Taken *t,
                           char **ret_from) {
        CmdEtcd etcd = {};
        if (!node->roles[ROLE_MASTER] || cmd_etcd_access(o, inv, node, &etcd) < 0)
                return 0;
        const JoinEtcd e = { (const char *const *) etcd.endpoints, etcd.n, &etcd.tls, SYNC_TIMEOUT_MS };
        int r = inventory_store_get(e.endpoints, e.n_endpoints, e.tls, e.timeout_ms, report, &t->stored);
        r = r ?: join_record_list(&e, &t->registered);
        int64_t revision;
        r = r ?: join_record_secret_get(&e, &t->join_secret_version, &t->join_secret, &revision);
        if (r < 0)
                taken_done(t);
        if (r >= 0)
                *ret_from = strprintf("etcd (%s)", etcd.endpoints[0]);
        else if (r == -EAGAIN)
                log_error("no etcd of the masters answers (%s first)", etcd.endpoints[0]);
        else if (r == -E2BIG)
                log_error("the auto_register registry in etcd holds more than %d machines", REGISTRY_MAX);
        else
                log_error_errno(r, "cannot read the inventory from etcd: %m");
        cmd_etcd_done(&etcd);
        return r < 0 ? r : 1;
}

/* Any other node asks a master's join service, by the kubelet's client certificate. */
static int fetch_from_join(const Options *o, const Inventory *inv, const Node *node, Report *report, Taken *t,
                           char **ret_from) {
        _cleanup_free_ char *client = path_join_root(o->root, KUBELET_CLIENT_PEM);
        _cleanup_free_ char *ca_path = path_join_root(o->root, PKI_DIR "/ca.crt"), *ca_pem = NULL;
        size_t size;
        if (!client || !ca_path)
                return log_error_errno(-ENOMEM, "out of memory");
        if (access(client, R_OK) < 0 || read_full_file(ca_path, 1024 * 1024, &ca_pem, &size) < 0) {
                log_error("node '%s' has neither a master's etcd client certificate nor the kubelet's client certificate "
                          "(%s) and the cluster's CA: it has not joined yet, or has no kubelet",
                          node->name, KUBELET_CLIENT_PEM);
                return -ENOKEY;
        }
        char **urls = NULL;
        size_t n_urls = 0;
        int r = join_node_urls(inv, node, &urls, &n_urls);
        if (r < 0)
                return log_error_errno(r, "out of memory");
        r = -EAGAIN;
        for (size_t i = 0; i < n_urls && r == -EAGAIN; i++) {
                JoinClientOptions jo = { .url = urls[i], .ca_pem = ca_pem, .client_cert = client, .timeout_sec = 10 };
                json_t *doc = NULL;
                long status = 0;
                _cleanup_free_ char *why = NULL;
                r = join_client_inventory(&jo, node->name, &doc, &status, &why);
                if (r == -EIO || (r == -EACCES && status == 503)) {
                        log_warning("%s: %s", urls[i], why ?: "cannot be reached");
                        r = -EAGAIN;
                        continue;
                }
                /* A server whose certificate is not from the cluster's CA (or not valid by this node's clock):
                 * a master reinstalled that has no bundle yet serves with a CA of its own until it has, and a
                 * foreign server may answer at a master's address. Another master, or later. */
                if (r == -EBADMSG || r == -ETIME) {
                        log_warning("%s: not the cluster's join service (its certificate is not from the cluster's CA%s, or its answer is no inventory); "
                                    "trying another master",
                                    urls[i], r == -ETIME ? " or not valid by this node's clock" : "");
                        r = -EAGAIN;
                        continue;
                }
                if (r == -EACCES)
                        log_error("%s refused: %s (%ld)", urls[i], strempty(why), status);
                else if (r < 0)
                        log_error_errno(r, "%s: its answer is not an inventory: %m", urls[i]);
                /* A master of an older clusterboot sends no "registered": none known, then. */
                else if (json_object_get(doc, "registered") &&
                         (r = registration_list_from_json(json_object_get(doc, "registered"), &t->registered)) < 0)
                        log_error_errno(r, "%s: its answer's auto-registered machines are not a list of records: %m", urls[i]);
                else if (json_object_get(doc, "join_secret") &&
                         (r = join_secret_record_parse(json_object_get(doc, "join_secret"), &t->join_secret_version,
                                                       &t->join_secret)) < 0)
                        log_error_errno(r, "%s: its answer's join secret is not one: %m", urls[i]);
                else if (!json_is_integer(json_object_get(doc, "version")) ||
                         json_integer_value(json_object_get(doc, "version")) < 0)
                        log_error_errno(r = -EBADMSG, "%s: its answer is not an inventory: %m", urls[i]);
                else if (json_integer_value(json_object_get(doc, "version")) > 0) {
                        json_object_del(doc, "join_secret");
                        _cleanup_free_ char *text = json_dumps(doc, JSON_COMPACT);
                        r = text ? inventory_store_decode(text, strlen(text), report, &t->stored.inv, &t->stored.version)
                                 : -ENOMEM;
                        if (r < 0)
                                log_error_errno(r, "%s: its answer is not an inventory clusterboot stored: %m", urls[i]);
                }
                if (r < 0)
                        taken_done(t);
                json_decref(doc);
                if (r >= 0)
                        *ret_from = strprintf("the join service of %s", urls[i]);
        }
        if (r == -EAGAIN)
                log_error("no master's join service answers");
        join_node_urls_free(urls, n_urls);
        return r;
}

static int64_t applied_version(const Options *o) {
        _cleanup_free_ char *path = path_join_root(o->root, INVENTORY_VERSION_PATH), *text = NULL;
        size_t size;
        if (!path || read_full_file(path, 64, &text, &size) < 0)
                return 0;
        return strtoll(text, NULL, 10);
}

static int record_version(const Options *o, int64_t version) {
        _cleanup_free_ char *path = path_join_root(o->root, INVENTORY_VERSION_PATH);
        _cleanup_free_ char *dir = path_join_root(o->root, STATE_DIR);
        char text[32];
        snprintf(text, sizeof(text), "%" PRId64 "\n", version);
        int r = path && dir ? mkdir_p(dir, 0755) : -ENOMEM;
        return r < 0 ? r : write_file_atomic(path, text, strlen(text), 0644);
}

static void on_inventory_write(const RenderedFile *f, WriteResult res, void *userdata) {
        const Options *o = userdata;
        if (res != WRITE_UNCHANGED && o->output == OUTPUT_TEXT)
                printf("  %s%s %s\n", o->dry_run ? "would be " : "", write_result_to_string(res), f->path);
}

/* On a master: an etcd member that is no master of the inventory any more is removed, one per run, and
 * only while every other member is healthy (so that quorum is never lost by it). A member that another
 * master removed first is gone already (-ENOENT): fine. */
static int sync_etcd_members(const Options *o, const Inventory *inv, const Node *self, int64_t version) {
        CmdEtcd etcd = {};
        EtcdMemberList l = {};
        const EtcdMember *gone = NULL;
        if (!self->roles[ROLE_MASTER] || cmd_etcd_access(o, inv, self, &etcd) < 0)
                return 0;
        const char *const *eps = (const char *const *) etcd.endpoints;
        int r = etcd_member_list(eps, etcd.n, &etcd.tls, SYNC_TIMEOUT_MS, &l);
        if (r < 0)
                log_error_errno(r, "cannot list the etcd members: %m");
        else if (etcd_member_not_in(&l, inv, &gone) > 0) {
                for (size_t i = 0; i < l.n && r >= 0; i++) {
                        const EtcdMember *m = l.members + i;
                        if (m == gone)
                                continue;
                        if (m->n_client_urls == 0 ||
                            etcd_endpoint_health(m->client_urls[0], &etcd.tls, SYNC_TIMEOUT_MS) < 0) {
                                printf("  etcd member %s is no master of version %" PRId64 "; not removed while member "
                                       "%s is not healthy\n", gone->name, version, m->name[0] ? m->name : "(joining)");
                                r = -EAGAIN;
                        }
                }
                if (r >= 0 && o->dry_run)
                        printf("  would remove etcd member %s (%" PRIx64 "): no master of version %" PRId64 "\n",
                               gone->name, gone->id, version);
                else if (r >= 0) {
                        r = etcd_member_remove(eps, etcd.n, &etcd.tls, SYNC_TIMEOUT_MS, gone->id);
                        if (r >= 0 || r == -ENOENT)
                                printf("  removed etcd member %s (%" PRIx64 "): no master of version %" PRId64 "\n",
                                       gone->name, gone->id, version);
                        else if (r == -EAGAIN)
                                /* etcd's own check: a peer connected moments ago, or a learner not caught up. */
                                printf("  etcd refuses to remove member %s for now (it keeps a majority of healthy, "
                                       "connected members); the next run tries again\n", gone->name);
                        else
                                log_error_errno(r, "cannot remove etcd member %s: %m", gone->name);
                        r = r == -ENOENT ? 0 : r;
                }
        }
        etcd_member_list_done(&l);
        cmd_etcd_done(&etcd);
        return r;
}

/* On a node that runs a Ceph monitor: a monitor of the monmap that is no ceph-mon of the inventory any more
 * is removed from it (`ceph mon remove`), one per run, and only while every other monitor is in the quorum
 * (so that the rest keep one). A node without its monitor's store has no monitor running: nothing to ask. */
static int sync_ceph_mons(const Options *o, const Inventory *inv, const Node *self, int64_t version) {
        if (!inv->services[SERVICE_CEPH] || !self->roles[ROLE_CEPH_MON])
                return 0;
        _cleanup_free_ char *store = strprintf("%s" CEPH_MON_STORE_PREFIX "%s", strempty(o->root), self->name);
        if (!store)
                return log_error_errno(-ENOMEM, "out of memory");
        if (access(store, F_OK) < 0)
                return 0;
        _cleanup_free_ char *output = NULL;
        char *status_args[] = { "quorum_status", "--format", "json", NULL };
        int r = ceph_admin(o->root, SYNC_TIMEOUT_MS, status_args, &output);
        if (r != 0) {
                printf("  cannot read the Ceph monitors' quorum (%s%d: %s); the next run tries again\n",
                       r < 0 ? "error " : "exit ", r, output_last_line(output));
                return -EAGAIN;
        }
        CephQuorum q = {};
        r = ceph_quorum_parse(output, &q);
        if (r < 0)
                return log_error_errno(r, "the answer of 'ceph quorum_status' is not a quorum status: %m");
        const CephMonitor *waiting = NULL, *gone = ceph_mon_not_in(&q, inv, &waiting);
        /* The quorum is the leader's view, which keeps a monitor that died moments ago for a few seconds more:
         * each other monitor must also answer itself, as the quorum's leader or one of its peons. Else the
         * monmap could lose its majority with this removal. */
        for (size_t i = 0; gone && !waiting && i < q.n; i++) {
                if (q.mons + i == gone)
                        continue;
                _cleanup_free_ char *who = strprintf("mon.%s", q.mons[i].name), *answer = NULL, *state = NULL;
                char *status_of[] = { "tell", who, "mon_status", NULL };
                if (!who || ceph_admin(o->root, SYNC_TIMEOUT_MS, status_of, &answer) != 0 ||
                    !(state = ceph_daemon_state(answer)) || !(streq(state, "leader") || streq(state, "peon")))
                        waiting = q.mons + i;
        }
        if (gone && waiting) {
                printf("  Ceph monitor %s is no ceph-mon of version %" PRId64 "; not removed while monitor %s is out "
                       "of the quorum or does not answer\n", gone->name, version, waiting->name);
                r = -EAGAIN;
        } else if (gone && o->dry_run)
                printf("  would remove Ceph monitor %s from the monmap: no ceph-mon of version %" PRId64 "\n",
                       gone->name, version);
        else if (gone) {
                char *remove_args[] = { "mon", "remove", gone->name, NULL };
                free(output);
                output = NULL;
                r = ceph_admin(o->root, SYNC_TIMEOUT_MS, remove_args, &output);
                if (r == 0)
                        printf("  removed Ceph monitor %s from the monmap: no ceph-mon of version %" PRId64 "\n",
                               gone->name, version);
                else {
                        printf("  Ceph did not remove monitor %s (%s%d: %s); the next run tries again\n", gone->name,
                               r < 0 ? "error " : "exit ", r, output_last_line(output));
                        r = -EAGAIN;
                }
        }
        ceph_quorum_done(&q);
        return r;
}

static void on_osd_link(const char *unit, ActivateChange change, void *userdata) {
        const Options *o = userdata;
        if (change == ACTIVATE_DISABLED)
                printf("  %s: its device is not in the node file any more: %s; Ceph marks it out and moves its data "
                       "to the other OSDs; purge it then (ceph osd purge ID --yes-i-really-mean-it)\n",
                       unit, o->dry_run ? "would be disabled and stopped" : "disabled and stopped");
}

/* The OSDs this node made whose device its node file no longer lists: no longer wanted by ceph-osd.target,
 * and stopped. They stay in Ceph's map, and their disks as they are, until an operator purges them: sync
 * never destroys data. The other OSDs keep their ids (Ceph's, osd-record.h). A device added to the node file
 * becomes an OSD at the node's next bootstrap (its stage ceph-osd). */
static int sync_ceph_osds(const Options *o, const Node *self) {
        _cleanup_free_ int64_t *gone = NULL;
        size_t n_gone;
        int r = osd_node_ids(o->root, self, true, &gone, &n_gone);
        if (r < 0)
                return log_error_errno(r, "cannot read this node's OSDs from %s: %m", OSD_RECORD_PATH);
        if (n_gone == 0)
                return 0;
        r = activate_osds_offline(o->root, self, o->dry_run, on_osd_link, (void *) o);
        if (r < 0)
                return log_error_errno(r, "cannot disable the OSDs whose devices left the node file: %m");
        if (o->root || o->dry_run)
                return 0;
        char **units = calloc(n_gone + 1, sizeof(char *));
        for (size_t i = 0; units && i < n_gone; i++)
                if (!(units[i] = strprintf("ceph-osd@%" PRId64 ".service", gone[i])))
                        r = -ENOMEM;
        r = !units ? -ENOMEM : r ?: units_stop((const char *const *) units, n_gone);
        if (units)
                strv_free_n(units, n_gone);
        return r < 0 ? log_error_errno(r, "cannot stop the OSDs whose devices left the node file: %m") : 0;
}

/* The labels a node's file gives it, as pairs key, value, NULL-terminated (into v, room for max pairs). */
static size_t label_pairs(const Node *n, const char **v, size_t max) {
        size_t k = 0;
        for (size_t i = 0; n && n->file && i < n->file->labels.n && k < max; i++, k++) {
                v[2 * k] = n->file->labels.items[i].key.v;
                v[2 * k + 1] = strempty(n->file->labels.items[i].value.v);
        }
        v[2 * k] = NULL;
        return k;
}

/* The node's labels onto its registered Node, with the kubelet's own credentials (NodeRestriction lets a
 * kubelet label its own Node): --node-labels take effect only when the kubelet registers. Labels the node's
 * earlier inventory (before) gave it and this one does not are removed. A node without a kubelet, or whose
 * Node is not registered yet, has nothing to do here. */
#define MAX_LABELS 64
static int sync_node_labels(const Options *o, const Node *before, const Node *self) {
        const char *now[2 * MAX_LABELS + 1], *old[2 * MAX_LABELS + 1], *gone[MAX_LABELS + 1];
        size_t n_old = label_pairs(before, old, MAX_LABELS);
        label_pairs(self, now, MAX_LABELS);
        for (size_t i = 0; i < n_old; i++)
                gone[i] = old[2 * i];
        gone[n_old] = NULL;

        Kubeconfig k = {};
        _cleanup_free_ char *why = NULL, *body = NULL, *patch_text = NULL;
        _cleanup_free_ char *path = strprintf("/api/v1/nodes/%s", self->name);
        _cleanup_(json_decrefp) json_t *node = NULL, *patch = NULL;
        if (!path)
                return log_error_errno(-ENOMEM, "out of memory");
        if (kubeconfig_load(o->root, KUBERNETES_DIR "/kubelet.conf", &k, &why) < 0)
                return 0; /* no kubelet here */
        int r = 0, status = kubeconfig_get(&k, path, SYNC_TIMEOUT_MS, &body, &why);
        if (status == 404)
                printf("  Node %s is not registered yet: its kubelet registers it with its labels\n", self->name);
        else if (status != 200) {
                printf("  cannot read Node %s from the API server (%s); its labels wait for the next run\n", self->name,
                       status < 0 ? strempty(why) : "an HTTP error");
                r = -EAGAIN;
        } else if (!(node = json_loads(body, 0, NULL)) || node_labels_patch(node, now, gone, &patch) < 0) {
                log_error("the API server's answer for Node %s is not a Node", self->name);
                r = -EBADMSG;
        } else if (patch && o->dry_run)
                printf("  would label Node %s\n", self->name);
        else if (patch) {
                patch_text = json_dumps(json_object_get(json_object_get(patch, "metadata"), "labels"), JSON_COMPACT | JSON_SORT_KEYS);
                free(body);
                body = NULL;
                _cleanup_free_ char *text = json_dumps(patch, JSON_COMPACT);
                status = text ? kubeconfig_request(&k, "PATCH", path, "application/merge-patch+json", text,
                                                   SYNC_TIMEOUT_MS, &body, &why)
                              : -ENOMEM;
                if (status == 200)
                        printf("  labelled Node %s: %s\n", self->name, strempty(patch_text));
                else {
                        printf("  the API server did not take the labels of Node %s (%s%s); the next run tries again\n",
                               self->name, status < 0 ? strempty(why) : "HTTP ", status < 0 ? "" : status == 409 ? "409: it changed meanwhile" : "error");
                        r = -EAGAIN;
                }
        }
        kubeconfig_done(&k);
        return r;
}

/* The taints the inventory gives n (node_taints(): its own and the control-plane taint), NULL-terminated
 * (calloc()ed, *ret_n of them; none for no node). */
static char **taints_of(const Inventory *inv, const Node *n, size_t *ret_n) {
        char **t = NULL;
        *ret_n = 0;
        if (!n)
                return calloc(1, sizeof(char *));
        return node_taints(inv, n, &t, ret_n) < 0 ? NULL : t;
}

/* On a master: each registered Node's taints as the inventory gives them now, with the cluster's admin
 * credentials (NodeRestriction forbids a kubelet to change its own Node's taints, and --register-with-taints
 * take effect only when the kubelet registers). Taints the earlier inventory (before) gave a node and this
 * one does not are removed; others' taints are left alone. One list of the Nodes, then a patch for each Node
 * that differs; every master does the same, so a master that is down is no gap. */
static int sync_cluster_taints(const Options *o, const Inventory *before, const Inventory *now, const Node *self) {
        Kubeconfig k = {};
        _cleanup_free_ char *why = NULL, *body = NULL;
        _cleanup_(json_decrefp) json_t *list = NULL;
        if (!self->roles[ROLE_MASTER] || kubeconfig_load(o->root, KUBERNETES_DIR "/admin.conf", &k, &why) < 0)
                return 0;
        int r = 0, status = kubeconfig_get(&k, "/api/v1/nodes", SYNC_TIMEOUT_MS, &body, &why);
        if (status != 200) {
                printf("  cannot list the Nodes (%s); their taints wait for the next run\n",
                       status < 0 ? strempty(why) : "an HTTP error");
                kubeconfig_done(&k);
                return -EAGAIN;
        }
        list = json_loads(body, 0, NULL);
        if (!json_is_array(json_object_get(list, "items"))) {
                log_error("the API server's answer to GET /api/v1/nodes is not a NodeList");
                kubeconfig_done(&k);
                return -EBADMSG;
        }
        size_t i;
        json_t *item;
        json_array_foreach(json_object_get(list, "items"), i, item) {
                const char *name = json_string_value(json_object_get(json_object_get(item, "metadata"), "name"));
                const Node *n = name ? inventory_find_node(now, name) : NULL;
                if (!n)
                        continue; /* not the inventory's (removed, or someone else's) */
                size_t n_want, n_gone;
                char **want = taints_of(now, n, &n_want), **gone = taints_of(before, inventory_find_node(before, name), &n_gone);
                _cleanup_(json_decrefp) json_t *patch = NULL;
                _cleanup_free_ char *path = strprintf("/api/v1/nodes/%s", name), *text = NULL, *answer = NULL;
                int k2 = want && gone && path ? node_taints_patch(item, (const char *const *) want,
                                                                  (const char *const *) gone, &patch)
                                              : -ENOMEM;
                if (k2 < 0)
                        log_error_errno(k2, "cannot compute the taints of Node %s: %m", name);
                else if (patch && o->dry_run)
                        printf("  would taint Node %s\n", name);
                else if (patch) {
                        free(why);
                        why = NULL;
                        text = json_dumps(patch, JSON_COMPACT);
                        status = text ? kubeconfig_request(&k, "PATCH", path, "application/merge-patch+json", text,
                                                           SYNC_TIMEOUT_MS, &answer, &why)
                                      : -ENOMEM;
                        _cleanup_free_ char *shown = json_dumps(json_object_get(json_object_get(patch, "spec"), "taints"),
                                                                JSON_COMPACT);
                        if (status == 200)
                                printf("  taints of Node %s: %s\n", name, strempty(shown));
                        else {
                                printf("  the API server did not take the taints of Node %s (%s%s); the next run tries "
                                       "again\n", name, status < 0 ? strempty(why) : "HTTP ",
                                       status < 0 ? "" : status == 409 ? "409: it changed meanwhile" : "error");
                                k2 = -EAGAIN;
                        }
                }
                strv_free_n(want, n_want);
                strv_free_n(gone, n_gone);
                if (k2 < 0 && r >= 0)
                        r = k2;
        }
        kubeconfig_done(&k);
        return r;
}

static void on_registration_skipped(const Registration *r, const char *reason, void *userdata) {
        const Options *o = userdata;
        if (o->output == OUTPUT_TEXT)
                printf("  auto-registered %s at %s (MAC %s) left out: %s\n", r->name, r->ip, r->mac, reason);
}

/* The inventory this node was installed with, again (cmd_for_node() loaded it, and showed its problems, but
 * may have added this machine to it): what the registry is added to before the first `apply`. */
static int load_installed(const Options *o, Inventory **ret) {
        Report report;
        report_init(&report, NULL);
        int r = inventory_load_and_validate(o->inventory, &report, ret);
        if (r >= 0 && report.n_errors > 0) {
                inventory_free(*ret);
                *ret = NULL;
                r = -EINVAL;
        }
        report_done(&report);
        return r < 0 ? log_error_errno(r, "cannot read the installed inventory %s again: %m", o->inventory) : 0;
}

static int sync_node(const Options *o, const Inventory *installed, const Node *node, const void *arg) {
        Taken taken = {};
        StoredInventory *const stored = &taken.stored;
        _cleanup_free_ char *from = NULL;
        char **paths = NULL;
        size_t n_paths = 0;
        RenderSet files = {};
        Report report;
        report_init(&report, NULL);
        int r = fetch_from_etcd(o, installed, node, &report, &taken, &from);
        if (r == 0)
                r = fetch_from_join(o, installed, node, &report, &taken, &from);
        if (r < 0) {
                r = r == -EAGAIN ? EXIT_TEMPFAIL : EXIT_FAILED;
                goto finish;
        }
        if (!stored->inv) {
                if (o->output == OUTPUT_TEXT)
                        printf("%s: no inventory was applied to the cluster yet (%s): it runs the one it was installed "
                               "with\n", node->name, strempty(from));
                if (load_installed(o, &stored->inv) < 0) {
                        r = EXIT_FAILED;
                        goto finish;
                }
        } else {
                inventory_validate(stored->inv, &report);
                report.sources = &stored->inv->sources;
                if (report.n_errors > 0) {
                        report_sort(&report);
                        report_print_text(&report, stderr);
                        log_error("the inventory stored in etcd (version %" PRId64 ") is not valid for this clusterboot; "
                                  "nothing changed", stored->version);
                        r = EXIT_FAILED;
                        goto finish;
                }
        }
        int64_t before = applied_version(o);
        int k;
        if (o->output == OUTPUT_TEXT && stored->version > 0)
                printf("%s: inventory version %" PRId64 " from %s (this node had %s%" PRId64 ")\n", node->name,
                       stored->version, strempty(from), before ? "version " : "the installed one, version ", before);
        /* The machines auto_register named, into every node's /etc/hosts and DNS zone alike. */
        k = registration_list_merge(stored->inv, &taken.registered, on_registration_skipped, (void *) o);
        if (k < 0) {
                log_error_errno(k, "out of memory");
                r = EXIT_FAILED;
                goto finish;
        }
        if (o->output == OUTPUT_TEXT && taken.registered.n > 0)
                printf("  %d auto-registered machine%s known to the cluster\n", k, k == 1 ? "" : "s");
        const Node *self = inventory_find_node(stored->inv, node->name);
        if (!self && node->auto_name)
                log_error("node '%s' is an auto-registered machine that the masters' registry does not hold any more "
                          "(its record was deleted on a master): nothing changed here",
                          node->name);
        else if (!self)
                log_error("node '%s' is not in the inventory the cluster runs (version %" PRId64 "): it was removed; "
                          "nothing changed here", node->name, stored->version);
        if (!self) {
                r = EXIT_FAILED;
                goto finish;
        }

        /* The inventory first, then what it renders: a run that dies between them renders the same again.
         * Before the first apply, the installed inventory is where it is already. */
        const RenderedFile *failed = NULL;
        bool applied = stored->version > 0;
        r = applied ? cmd_inventory_files(stored->inv, &files) : 0;
        r = r ?: (taken.join_secret ? cmd_join_secret_files(o, taken.join_secret, taken.join_secret_version, &files)
                                    : 0);
        r = r ?: render_set_write(&files, o->root, o->dry_run, on_inventory_write, (void *) o, &failed);
        r = r ?: (applied ? cmd_remove_stale_inventory(o, &files) : 0);
        if (r < 0) {
                log_error_errno(r, "cannot write the inventory to %s: %m", failed ? failed->path : CLUSTER_CONFIG_DIR);
                r = EXIT_FAILED;
                goto finish;
        }
        r = cmd_run_render_paths(o, stored->inv, self, NULL, &paths, &n_paths);
        if (r != EXIT_DONE)
                goto finish;
        /* The inventory's own files count too: the join service reads them. */
        char **grown = realloc(paths, (n_paths + files.n + 1) * sizeof(char *));
        if (!grown) {
                log_error_errno(-ENOMEM, "out of memory");
                r = EXIT_FAILED;
                goto finish;
        }
        paths = grown;
        for (size_t i = 0; i < files.n; i++)
                if ((paths[n_paths] = strdup(files.files[i].path)))
                        paths[++n_paths] = NULL;
        /* What reads a file newer than its start restarts, one at a time: a run that stopped before its
         * restarts makes them the next time. */
        if (o->root)
                printf("  under --root: nothing is restarted\n");
        else {
                json_t *units = cmd_node_units(o, stored->inv, self);
                size_t n = json_array_size(units);
                const char **names = calloc(n + 1, sizeof(char *));
                for (size_t i = 0; names && i < n; i++)
                        names[i] = json_string_value(json_array_get(units, i));
                k = names ? cmd_restart_readers(o, (const char *const *) paths, n_paths, names, n, NULL) : -ENOMEM;
                free(names);
                json_decref(units);
                if (k < 0) {
                        r = EXIT_FAILED;
                        goto finish;
                }
        }
        /* What follows an apply; before the first, the cluster is as the image made it. */
        k = o->root || !applied ? 0 : sync_node_labels(o, node, self);
        int t = o->root || !applied ? 0 : sync_cluster_taints(o, installed, stored->inv, self);
        int e = applied ? sync_etcd_members(o, stored->inv, self, stored->version) : 0;
        int m = applied ? sync_ceph_mons(o, stored->inv, self, stored->version) : 0;
        int d = applied ? sync_ceph_osds(o, self) : 0;
        if (e < 0 || m < 0 || k < 0 || t < 0 || d < 0) {
                /* The rest is done; the next run tries the labels, the taints and the membership again. */
                r = EXIT_TEMPFAIL;
                goto finish;
        }
        if (!o->dry_run && stored->version > 0 && (r = record_version(o, stored->version)) < 0) {
                log_error_errno(r, "cannot record the inventory version in %s: %m", INVENTORY_VERSION_PATH);
                r = EXIT_FAILED;
                goto finish;
        }
        r = EXIT_DONE;
finish:
        strv_free_n(paths, n_paths);
        render_set_wipe(&files); /* it may hold the join secret */
        report_done(&report);
        taken_done(&taken);
        return r;
}

int cmd_sync(int argc, char **argv, const Options *o) {
        (void) argc, (void) argv;
        return cmd_for_node(o, sync_node, NULL);
}
