/* SPDX-License-Identifier: Apache-2.0 */
#include <errno.h>
#include <inttypes.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "bootstrap.h"
#include "log.h"
#include "bundle.h"
#include "fileio.h"
#include "fs-util.h"
#include "join-client.h"
#include "join-node.h"
#include "join-protocol.h"
#include "membership.h"
#include "node-pki.h"
#include "paths.h"
#include "render.h"
#include "state.h"
#include "writer.h"
#include "secret-formats.h"
#include "string-util.h"
#include "x509.h"
#include "banned.h"

#define ETCD_JOIN_ENV ENVIRONMENT_DIR "/etcd-join.env"


void bootstrap_kill_point(const char *stage, const char *point) {
        const char *at = getenv("CLUSTERBOOT_TEST_KILL_AT");
        size_t n = strlen(stage);
        if (at && strncmp(at, stage, n) == 0 && at[n] == ':' && streq(at + n + 1, point)) {
                log_warning("CLUSTERBOOT_TEST_KILL_AT=%s: killing myself", at);
                fflush(NULL);
                raise(SIGKILL);
        }
}

void bootstrap_message(BootstrapContext *c, const char *fmt, ...) {
        va_list ap;
        va_start(ap, fmt);
        str_set_vprintf(&c->message, fmt, ap);
        va_end(ap);
}

int bootstrap_context_init(BootstrapContext *c, const Inventory *inv, const Node *node, const char *root) {
        *c = (BootstrapContext) { .inv = inv, .node = node, .root = root, .timeout_ms = 5000 };
        /* kubeadm's healthcheck client: a client certificate of the etcd CA on every master. */
        char *ca = path_join_root(root, ETCD_PKI_DIR "/ca.crt");
        char *cert = path_join_root(root, ETCD_HEALTHCHECK_CERT);
        char *key = path_join_root(root, ETCD_HEALTHCHECK_KEY);
        if (!ca || !cert || !key) {
                free(ca), free(cert), free(key);
                return -ENOMEM;
        }
        c->tls = (EtcdTls) { .ca_file = ca, .cert_file = cert, .key_file = key };
        return 0;
}

void bootstrap_context_done(BootstrapContext *c) {
        free((char *) c->tls.ca_file);
        free((char *) c->tls.cert_file);
        free((char *) c->tls.key_file);
        free(c->message);
        *c = (BootstrapContext) {};
}

static char *url(const Node *n, int port) {
        return ip_url("https", &n->ip, port, NULL);
}

/* The client URLs of the other masters, in name order (the first master first). */
static int other_endpoints(const BootstrapContext *c, char ***ret, size_t *ret_n) {
        char **e = calloc(c->inv->n_nodes + 1, sizeof(char *));
        size_t n = 0;
        if (!e)
                return -ENOMEM;
        for (size_t i = 0; i < c->inv->n_nodes; i++) {
                const Node *m = c->inv->nodes + i;
                if (!m->roles[ROLE_MASTER] || m == c->node)
                        continue;
                if (!(e[n++] = url(m, 2379))) {
                        for (size_t k = 0; k < n; k++)
                                free(e[k]);
                        free(e);
                        return -ENOMEM;
                }
        }
        *ret = e;
        *ret_n = n;
        return 0;
}

static const Node *first_master(const Inventory *inv) {
        for (size_t i = 0; i < inv->n_nodes; i++)
                if (inv->nodes[i].roles[ROLE_MASTER])
                        return inv->nodes + i;
        return NULL;
}

/* An operator's word that this first master makes a new cluster although a majority of the masters could
 * not say that none exists (membership.h): the file exists. Removed once the cluster is made. */
#define FORCE_NEW_CLUSTER_PATH STATE_DIR "/force-new-cluster"

/* No second cluster (membership.h): before the first master makes one, every other master's join service
 * says what it holds. 0 when a new cluster may be made here; -EAGAIN, with the stage's message, when a
 * cluster exists elsewhere (this master joins it once it answers) or too few masters answered. secret:
 * the join secret; own_ca: this master's bundle's CA ("sha256:HEX"), or NULL before it has one. */
static int prove_no_cluster(BootstrapContext *c, const char *secret, const char *own_ca) {
        _cleanup_free_ char *force = path_join_root(c->root, FORCE_NEW_CLUSTER_PATH), *why = NULL;
        if (!force)
                return -ENOMEM;
        if (access(force, F_OK) >= 0) {
                log_warning("%s exists: this first master makes a new cluster without asking the other masters",
                            FORCE_NEW_CLUSTER_PATH);
                return 0;
        }
        size_t n_masters = 0, n = 0;
        for (size_t i = 0; i < c->inv->n_nodes; i++)
                n_masters += c->inv->nodes[i].roles[ROLE_MASTER];
        ClusterWitness *w = calloc(n_masters, sizeof(*w));
        json_t **answers = calloc(n_masters, sizeof(*answers));
        int r = w && answers ? 0 : -ENOMEM;
        for (size_t i = 0; i < c->inv->n_nodes && r >= 0; i++) {
                const Node *m = c->inv->nodes + i;
                if (!m->roles[ROLE_MASTER] || m == c->node)
                        continue;
                _cleanup_free_ char *u = url(m, JOIN_PORT);
                JoinClientOptions o = { .url = u, .secret = secret, .timeout_sec = 5 };
                int k = u ? join_client_cluster_state(&o, c->node->name, &answers[n]) : -ENOMEM;
                if (k == -ENOMEM)
                        r = k;
                w[n] = (ClusterWitness) {
                        .node = m->name,
                        .answered = k >= 0,
                        .etcd = k >= 0 && json_is_true(json_object_get(answers[n], "etcd")),
                        .ca = k >= 0 ? json_string_value(json_object_get(answers[n], "ca")) : NULL,
                };
                log_debug("no second cluster: %s's join service: %s", m->name,
                          k >= 0 ? (w[n].etcd ? "holds a cluster" : "no cluster") : k == -EBADMSG ? "a bad proof"
                                                                        : k == -EACCES ? "refused" : "no answer");
                n++;
        }
        ClusterVerdict v = CLUSTER_UNPROVEN;
        if (r >= 0)
                v = cluster_absence(w, n, n_masters, own_ca, &why);
        for (size_t i = 0; answers && i < n; i++)
                json_decref(answers[i]);
        free(answers);
        free(w);
        if (r < 0 || !why)
                return r < 0 ? r : -ENOMEM;
        log_debug("no second cluster: %s", why);
        if (v == CLUSTER_NONE_PROVEN)
                return 0;
        if (v == CLUSTER_EXISTS)
                bootstrap_message(c, "%s", why);
        else
                bootstrap_message(c, "%s; to make a new cluster on purpose, run `touch %s` on this master", why,
                                  FORCE_NEW_CLUSTER_PATH);
        return -EAGAIN;
}

/* This master's bundle's join secret and CA (membership.h's own_ca), for prove_no_cluster(). */
static int bundle_identity(BootstrapContext *c, char **ret_secret, char ret_ca[static 72]) {
        _cleanup_free_ char *secret_path = path_join_root(c->root, SECRETS_BUNDLE_DIR "/join-secret");
        _cleanup_free_ char *ca_path = path_join_root(c->root, SECRETS_BUNDLE_DIR "/kubernetes/ca.crt");
        _cleanup_free_ char *pem = NULL;
        _cleanup_(X509_freep) X509 *ca = NULL;
        char *secret = NULL;
        size_t pem_size;
        int r = secret_path && ca_path ? join_secret_read(secret_path, &secret) : -ENOMEM;
        r = r ?: read_full_file(ca_path, 1024 * 1024, &pem, &pem_size);
        r = r ?: pki_cert_from_pem(pem, pem_size, &ca);
        r = r ?: pki_spki_hash(ca, ret_ca);
        if (r < 0) {
                secret_free(secret);
                bootstrap_message(c, "cannot read this master's secrets bundle (%s): %s", SECRETS_BUNDLE_DIR, strerror(-r));
                return r;
        }
        *ret_secret = secret;
        return 0;
}


static int write_join_env(BootstrapContext *c, const char *initial_cluster) {
        RenderSet set = {};
        StrBuf b = {};
        int r = strbuf_append(&b, "# Written by `clusterboot bootstrap --stage etcd-member` when this master was added to the\n"
                                  "# etcd cluster: the members at that moment. Overrides etcd-initial.env; do not edit.\n");
        r = r ?: render_env(&b, "ETCD_INITIAL_CLUSTER", initial_cluster);
        r = r ?: render_env(&b, "ETCD_INITIAL_CLUSTER_STATE", "existing");
        r = r ?: render_set_add(&set, ETCD_JOIN_ENV, 0644, &b);
        r = r ?: render_set_write(&set, c->root, false, NULL, NULL, NULL);
        strbuf_done(&b);
        render_set_done(&set);
        return r;
}

static int remove_join_env(BootstrapContext *c) {
        _cleanup_free_ char *p = path_join_root(c->root, ETCD_JOIN_ENV);
        if (!p)
                return -ENOMEM;
        return unlink(p) < 0 && errno != ENOENT ? -errno : 0;
}

static const EtcdMember *find_by_name(const EtcdMemberList *l, const char *name) {
        for (size_t i = 0; i < l->n; i++)
                if (streq(l->members[i].name, name))
                        return l->members + i;
        return NULL;
}

static const EtcdMember *find_by_peer(const EtcdMemberList *l, const char *peer) {
        for (size_t i = 0; i < l->n; i++)
                for (size_t k = 0; k < l->members[i].n_peer_urls; k++)
                        if (streq(l->members[i].peer_urls[k], peer))
                                return l->members + i;
        return NULL;
}

static int record_member(BootstrapContext *c, uint64_t id) {
        char hex[32];
        snprintf(hex, sizeof(hex), "%" PRIx64, id);
        return cluster_state_set_etcd_member_id(c->root, hex);
}

/* Joins the cluster the other masters run: reuse, replace or add our member, then etcd-join.env. */
static int join(BootstrapContext *c, char **endpoints, size_t n, const char *peer) {
        EtcdMemberList list = {}, after = {};
        _cleanup_free_ char *initial = NULL; /* before any goto: the cleanup runs at finish */
        uint64_t id = 0;
        int r = etcd_member_list((const char *const *) endpoints, n, &c->tls, c->timeout_ms, &list);
        if (r == -EACCES) {
                /* A TLS refusal: an etcd whose CA is not this node's (or that refuses this node's certificate)
                 * answers at a master's address, another cluster's. Not this node's to fix or to give up on:
                 * the right one may answer there later, so it waits, saying why. */
                bootstrap_message(c, "an etcd at the other masters' addresses refuses TLS with this node: its CA is "
                                     "not this cluster's (another cluster there?); waiting for this cluster's");
                return -EAGAIN;
        }
        if (r < 0) {
                bootstrap_message(c, "no etcd cluster answers yet on the other masters; waiting");
                return r;
        }

        const EtcdMember *m = find_by_peer(&list, peer);
        /* Our name at another address: this master was reinstalled with a new one. That member is stale. */
        if (!m)
                m = find_by_name(&list, c->node->name);
        if (m && !m->name[0]) {
                /* Added by an earlier run that died before etcd started: the add stands, reuse it. */
                id = m->id;
                after = list;
                list = (EtcdMemberList) {};
        } else {
                if (m) {
                        /* Started before, but our data is gone: a reinstalled master. Replace the stale member. */
                        r = etcd_member_remove((const char *const *) endpoints, n, &c->tls, c->timeout_ms, m->id);
                        if (r < 0 && r != -ENOENT) {
                                bootstrap_message(c, "cannot remove the stale member %" PRIx64 " of this master", m->id);
                                goto finish;
                        }
                }
                r = etcd_member_add((const char *const *) endpoints, n, &c->tls, c->timeout_ms, peer, true, &id, &after);
                if (r < 0) {
                        bootstrap_message(c, "cannot add this master to the etcd cluster yet");
                        goto finish;
                }
        }

        initial = etcd_initial_cluster(&after, c->node->name, peer);
        /* NULL: EAGAIN while another added member has not started yet (etcd needs them all listed). */
        r = initial ? write_join_env(c, initial) : -errno;
        r = r ?: record_member(c, id);
        r = r ?: cluster_state_set_role(c->root, "master");
        if (r >= 0)
                bootstrap_message(c, "added to the etcd cluster as learner %" PRIx64 "; starts as existing with %s", id,
                            initial);
        else
                bootstrap_message(c, "added to the etcd cluster as learner %" PRIx64 " but cannot record it", id);
finish:
        etcd_member_list_done(&list);
        etcd_member_list_done(&after);
        return r;
}

int bootstrap_etcd_member(BootstrapContext *c) {
        ClusterState s;
        int r = cluster_state_load(c->root, &s);
        if (r < 0)
                return r;
        bool settled = s.state != BOOTSTRAP_UNINITIALIZED || cluster_state_step_done(&s, "etcd-member");
        cluster_state_done(&s);

        /* etcd ran here before: it knows its cluster. Never make another. */
        if (settled || etcd_has_data(c->root)) {
                /* After a reset the role is gone: say it again, so etcd-ready records the right state. */
                if (!settled)
                        r = cluster_state_set_role(c->root, c->node == first_master(c->inv) ? "first-master" : "master");
                bootstrap_message(c, "etcd has been set up on this node before; nothing to do");
                return r;
        }

        /* etcd.service may get here first on a master whose certificates the stage "certificates" of
         * cluster-bootstrap.service is still getting. */
        if (access(c->tls.cert_file, R_OK) < 0) {
                bootstrap_message(c, "waiting for this master's certificates (%s; stage certificates)", c->tls.cert_file);
                return -EAGAIN;
        }

        char **endpoints;
        size_t n;
        r = other_endpoints(c, &endpoints, &n);
        if (r < 0)
                return r;
        _cleanup_free_ char *peer = url(c->node, 2380);
        if (!peer) {
                strv_free_n(endpoints, n);
                return -ENOMEM;
        }

        const Node *first = first_master(c->inv);
        log_debug("etcd: the first master is %s (the inventory's first node with role master); this node is %s; "
                  "%zu other master(s) to ask", first ? first->name : "none", c->node == first ? "it" : "not", n);
        if (c->node == first) {
                EtcdMemberList list = {};
                r = n > 0 ? etcd_member_list((const char *const *) endpoints, n, &c->tls, c->timeout_ms, &list) : -EAGAIN;
                log_debug("etcd: the other masters' member list: %s",
                          r >= 0 ? "a cluster answers, this node joins it"
                          : r == -EAGAIN ? "nobody answers; their join services say whether a cluster exists"
                                         : strerror(-r));
                etcd_member_list_done(&list);
                bool existing = r >= 0;
                if (existing)
                        /* A cluster runs without us: this first master was reinstalled. Join it. */
                        r = join(c, endpoints, n, peer);
                else if (r == -EAGAIN) {
                        /* No other master's etcd answers. A new cluster only when a majority of the masters
                         * says that none exists: a reinstalled first master whose peers are down waits. */
                        _cleanup_secret_free_ char *secret = NULL;
                        char own_ca[72];
                        r = bundle_identity(c, &secret, own_ca);
                        r = r ?: prove_no_cluster(c, secret, own_ca);
                }
                if (r >= 0 && !existing) {
                        /* Nobody has a cluster: make the one-member cluster etcd-initial.env describes. */
                        _cleanup_free_ char *force = path_join_root(c->root, FORCE_NEW_CLUSTER_PATH);
                        r = remove_join_env(c);
                        r = r ?: cluster_state_set_role(c->root, "first-master");
                        if (r >= 0 && force)
                                (void) unlink(force);
                        if (r >= 0)
                                bootstrap_message(c, "first master: starts a one-member etcd cluster");
                }
        } else
                r = join(c, endpoints, n, peer);

        strv_free_n(endpoints, n);
        return r < 0 ? r : cluster_state_mark_step(c->root, "etcd-member", time(NULL));
}

int bootstrap_etcd_ready(BootstrapContext *c) {
        ClusterState s;
        int r = cluster_state_load(c->root, &s);
        if (r < 0)
                return r;
        bool done = s.state != BOOTSTRAP_UNINITIALIZED;
        bool first = s.node_role ? streq(s.node_role, "first-master") : c->node == first_master(c->inv);
        uint64_t id = s.etcd_member_id ? strtoull(s.etcd_member_id, NULL, 16) : 0;
        cluster_state_done(&s);
        if (done) {
                bootstrap_message(c, "already %s", first ? "bootstrapped" : "joined");
                return 0;
        }

        _cleanup_free_ char *self = url(c->node, 2379);
        if (!self)
                return -ENOMEM;
        r = etcd_endpoint_health(self, &c->tls, c->timeout_ms);
        if (r < 0 && !(r == -EAGAIN && id != 0)) {
                bootstrap_message(c, "etcd on this node is not healthy yet");
                return r;
        }

        if (id != 0) {
                /* A learner serves no member API: promote through the others. */
                char **endpoints;
                size_t n;
                r = other_endpoints(c, &endpoints, &n);
                if (r < 0)
                        return r;
                r = etcd_member_promote((const char *const *) endpoints, n, &c->tls, c->timeout_ms, id);
                if (r == -EALREADY)
                        r = 0; /* promoted by an earlier run that died before recording it */
                if (r < 0 && r != -EAGAIN) {
                        /* Promoted by an earlier run that died before recording it? Then it votes already. */
                        EtcdMemberList list = {};
                        if (etcd_member_list((const char *const *) endpoints, n, &c->tls, c->timeout_ms, &list) >= 0)
                                for (size_t i = 0; i < list.n; i++)
                                        if (list.members[i].id == id && !list.members[i].is_learner)
                                                r = 0;
                        etcd_member_list_done(&list);
                }
                strv_free_n(endpoints, n);
                if (r == -EAGAIN) {
                        bootstrap_message(c, "learner %" PRIx64 " has not caught up with the leader yet", id);
                        return r;
                }
                if (r < 0) {
                        bootstrap_message(c, "cannot promote learner %" PRIx64, id);
                        return r;
                }
        }

        r = cluster_state_set(c->root, first ? BOOTSTRAP_BOOTSTRAPPED : BOOTSTRAP_JOINED);
        r = r ?: cluster_state_mark_step(c->root, "etcd-ready", time(NULL));
        if (r >= 0)
                bootstrap_message(c, "%s", first ? "etcd cluster made: bootstrapped"
                                           : id != 0 ? "promoted to a voting member: joined"
                                                     : "a voting member already: joined");
        return r;
}

/* --- secrets and certificates --- */

/* A file of the image (under root), or NULL with errno ENOENT. */
static char *read_image_file(const char *root, const char *path) {
        _cleanup_free_ char *p = path_join_root(root, path);
        char *data = NULL;
        size_t size = 0;
        int r = p ? read_full_file(p, 1024 * 1024, &data, &size) : -ENOMEM;
        if (r < 0) {
                errno = -r;
                return NULL;
        }
        return data;
}

typedef struct JoinMaterial {
        char *secret;
        char *ca_pem;
} JoinMaterial;

static void join_material_done(JoinMaterial *m) {
        secret_free(m->secret);
        free(m->ca_pem);
        *m = (JoinMaterial) {};
}

/* What the image carries under the join policy: the join secret, perhaps the CA certificate. */
static int join_material_load(BootstrapContext *c, JoinMaterial *ret) {
        JoinMaterial m = {};
        _cleanup_free_ char *path = path_join_root(c->root, JOIN_SECRET_PATH);
        int r = path ? join_secret_read(path, &m.secret) : -ENOMEM;
        if (r == -EBADMSG) {
                bootstrap_message(c, JOIN_SECRET_PATH " is empty or more than one line: not a join secret; build the "
                                  "image again with `clusterboot install`");
                return r;
        }
        if (r < 0) {
                bootstrap_message(c, "this node has neither the secrets bundle (" SECRETS_BUNDLE_DIR ") nor a join secret "
                               "(" JOIN_SECRET_PATH "); build the image with `clusterboot install --secret-policy "
                               "join` (or embedded, with --secrets DIR)");
                return -ENOKEY;
        }
        m.ca_pem = read_image_file(c->root, JOIN_CA_PATH); /* optional */
        *ret = m;
        return 0;
}

/* What the masters' join services answered: the files (secrets: wiped when done), who answered, why not. */
typedef struct JoinAnswer {
        RenderSet set;
        char *from;
        char *why;
        char *ip; /* register: the address the service gave */
} JoinAnswer;

static void join_answer_done(JoinAnswer *a) {
        render_set_wipe(&a->set);
        free(a->from);
        free(a->why);
        free(a->ip);
        *a = (JoinAnswer) {};
}

typedef enum JoinAsk {
        ASK_BUNDLE,       /* a master: the whole secrets bundle */
        ASK_CERTIFICATES, /* the node's certificates (keys made here, CSRs sent) and its roles' files */
        ASK_REGISTER,     /* auto_register: a name and address for this MAC, and the certificates */
} JoinAsk;

/* This machine's clock did not fit the join service's, and the node was served at the service's time: said,
 * and the clock set to it (a machine without a battery-backed clock boots at 1970, or at its image's date;
 * its services' certificates would not be valid by it). Not under --root, nor where the clock cannot be
 * set (a container). */
static void clock_correct(BootstrapContext *c, long offset, const char *from) {
        struct timespec ts;
        char how[64];
        snprintf(how, sizeof(how), "%ld s %s", offset < 0 ? -offset : offset, offset < 0 ? "ahead of" : "behind");
        if (c->root) {
                log_warning("this node's clock is %s the join service's (%s): served at the service's time; the clock "
                            "is not set under --root", how, strempty(from));
                return;
        }
        if (clock_gettime(CLOCK_REALTIME, &ts) < 0 || (ts.tv_sec += offset, clock_settime(CLOCK_REALTIME, &ts) < 0))
                log_warning("this node's clock is %s the join service's (%s): served at the service's time, but the "
                            "clock cannot be set (%m); set it (timedatectl set-time, or NTP)", how, strempty(from));
        else
                log_warning("this node's clock was %s the join service's (%s): set to the service's time", how,
                            strempty(from));
}

/* Asks the masters' join services (the first that answers), with the image's join material. On failure
 * a->why says why; -EAGAIN when none answers yet. */
static int ask_masters(BootstrapContext *c, const JoinMaterial *m, JoinAsk ask, JoinAnswer *a) {
        long offset = 0;
        JoinNodeOptions o = { .secret = m->secret, .ca_pem = m->ca_pem, .timeout_sec = 10,
                              .hwaddr = ask == ASK_REGISTER ? c->node->macs[0] : NULL, .clock_offset = &offset };
        char **urls = NULL;
        size_t n = 0;
        int r = join_node_urls(c->inv, c->node, &urls, &n);
        if (r >= 0)
                switch (ask) {
                case ASK_BUNDLE:
                        r = join_node_bundle(c->node, &o, urls, n, SECRETS_BUNDLE_STAGING_DIR, &a->set, &a->from,
                                             &a->why);
                        break;
                case ASK_CERTIFICATES:
                        r = join_node_certificates(c->inv, c->node, &o, urls, n, &a->set, &a->from, &a->why);
                        break;
                case ASK_REGISTER:
                        r = join_node_register(c->inv, c->node, &o, urls, n, &a->set, &a->ip, &a->from, &a->why);
                        break;
                }
        join_node_urls_free(urls, n);
        if (r >= 0 && offset != 0)
                clock_correct(c, offset, a->from);
        return r;
}

static bool has_bundle(const char *root) {
        _cleanup_free_ char *dir = path_join_root(root, SECRETS_BUNDLE_DIR);
        Bundle b = {};
        int r = dir ? bundle_load(dir, &b, NULL) : -ENOMEM;
        bundle_done(&b);
        return r >= 0;
}

static void count_change(const RenderedFile *f, WriteResult res, void *userdata) {
        (void) f;
        if (res != WRITE_UNCHANGED)
                (*(unsigned *) userdata)++;
}

/* Writes set under root; c->changed counts the files created or updated (an unchanged file is not
 * touched). */
static int write_set(BootstrapContext *c, const RenderSet *set, const char *root) {
        const RenderedFile *failed = NULL;
        c->changed = 0;
        int r = render_set_write(set, root, false, count_change, &c->changed, &failed);
        if (r == -ENOENT && failed && failed->group)
                bootstrap_message(c, "cannot write %s: the group '%s' that must read it does not exist; install its package "
                               "in the image", failed->path, failed->group);
        else if (r < 0)
                bootstrap_message(c, "cannot write %s", failed ? failed->path : "the files");
        return r;
}

/* A master's bundle appears whole or not at all: it is made or received into SECRETS_BUNDLE_STAGING_DIR
 * (bundle_staging()), then renamed into place (bundle_publish()). The join service takes the bundle as
 * there once its kubernetes/ca.crt is, and failed at its start on a bundle half written. What a run that
 * died left in the staging directory is completed by the next one, as is a bundle half written in place
 * by an earlier version (moved to the staging directory first). */
static int bundle_staging(BootstrapContext *c, char **ret) {
        _cleanup_free_ char *dir = path_join_root(c->root, SECRETS_BUNDLE_DIR);
        _cleanup_free_ char *staging = path_join_root(c->root, SECRETS_BUNDLE_STAGING_DIR);
        if (!dir || !staging)
                return -ENOMEM;
        if (access(staging, F_OK) < 0 && rename(dir, staging) < 0 && errno != ENOENT)
                return -errno;
        int r = mkdir_p(staging, 0700);
        if (r >= 0 && chmod(staging, 0700) < 0)
                r = -errno;
        if (r < 0)
                bootstrap_message(c, "cannot make %s: %s", SECRETS_BUNDLE_STAGING_DIR, strerror(-r));
        else
                *ret = TAKE_PTR(staging);
        return r;
}

static int bundle_publish(BootstrapContext *c) {
        _cleanup_free_ char *dir = path_join_root(c->root, SECRETS_BUNDLE_DIR);
        _cleanup_free_ char *staging = path_join_root(c->root, SECRETS_BUNDLE_STAGING_DIR);
        _cleanup_free_ char *parent = path_join_root(c->root, CLUSTER_CONFIG_DIR);
        if (!dir || !staging || !parent)
                return -ENOMEM;
        /* Its files and subdirectories are fsync()ed by write_set(); its own entries here. */
        int r = fsync_directory(staging);
        if (r >= 0 && rename(staging, dir) < 0)
                r = -errno;
        r = r ?: fsync_directory(parent);
        if (r < 0)
                bootstrap_message(c, "cannot move the secrets bundle from %s to %s: %s", SECRETS_BUNDLE_STAGING_DIR,
                                  SECRETS_BUNDLE_DIR, strerror(-r));
        return r;
}

/* The first master, nobody else answering: the cluster's bundle made here, with the image's join secret. */
static int make_bundle(BootstrapContext *c, const JoinMaterial *m) {
        _cleanup_free_ char *dir = NULL, *secret_file = NULL;
        RenderSet set = {};
        Bundle b = {};
        unsigned created = 0;
        const char *missing = NULL;
        if (m->ca_pem) {
                bootstrap_message(c, "the image carries the cluster's CA certificate (" JOIN_CA_PATH ") but this first master "
                               "has no secrets bundle and no other master serves it; put the bundle on the image "
                               "(`install --secret-policy embedded`) or build the image without the CA");
                return -ENOKEY;
        }
        int r = bundle_staging(c, &dir);
        if (r < 0)
                return r;
        secret_file = strprintf("%s/join-secret", dir);
        if (!secret_file)
                return -ENOMEM;
        /* The join secret the other nodes carry; the rest is made. What a run that died made is loaded,
         * never made again. */
        struct stat st;
        if (stat(secret_file, &st) < 0)
                r = write_file_atomic(secret_file, m->secret, strlen(m->secret), 0600);
        r = r ?: bundle_init(c->inv, dir, NULL, &b, &set, &created, &missing);
        r = r ?: write_set(c, &set, NULL);
        r = r ?: bundle_publish(c);
        if (r >= 0)
                bootstrap_message(c, "first master, no other master answers: made the cluster's secrets bundle (%u items)",
                            created);
        else if (!c->message)
                bootstrap_message(c, "cannot make the secrets bundle in %s%s%s", SECRETS_BUNDLE_DIR, missing ? ": " : "",
                            strempty(missing));
        render_set_wipe(&set);
        bundle_done(&b);
        return r;
}

int bootstrap_secrets(BootstrapContext *c) {
        if (has_bundle(c->root)) {
                bootstrap_message(c, "the secrets bundle is on this node");
                return 0;
        }
        _cleanup_(join_material_done) JoinMaterial m = {};
        _cleanup_(join_answer_done) JoinAnswer a = {};
        int r = join_material_load(c, &m);
        if (r < 0)
                return r;
        r = ask_masters(c, &m, ASK_BUNDLE, &a);
        if (r >= 0) {
                _cleanup_free_ char *staging = NULL;
                r = bundle_staging(c, &staging);
                r = r ?: write_set(c, &a.set, c->root);
                r = r ?: bundle_publish(c);
                if (r >= 0)
                        bootstrap_message(c, "received the secrets bundle from %s", strempty(a.from));
        } else if (r == -EAGAIN && c->node == first_master(c->inv)) {
                log_debug("secrets: no master's join service serves the bundle and this node is the first master: it "
                          "makes the bundle once no other master holds a cluster");
                /* An image that carries the CA was made after the cluster: make_bundle() refuses and says why. */
                r = m.ca_pem ? 0 : prove_no_cluster(c, m.secret, NULL);
                r = r ?: make_bundle(c, &m);
        }
        else
                bootstrap_message(c, "%s", a.why ?: "cannot get the secrets bundle");
        return r;
}

static int certificates_from_bundle(BootstrapContext *c) {
        _cleanup_free_ char *dir = path_join_root(c->root, SECRETS_BUNDLE_DIR);
        Bundle b = {};
        PkiPlan plan = {};
        RenderSet set = {};
        int r = dir ? bundle_load(dir, &b, NULL) : -ENOMEM;
        r = r ?: pki_plan_node(c->inv, c->node, &plan);
        r = r ?: pki_node_files(c->inv, &plan, &b, c->root, false, time(NULL), &set);
        r = r ?: write_set(c, &set, c->root);
        if (r >= 0)
                bootstrap_message(c, "%zu PKI files in place; %u written now, from the bundle on this node", plan.n,
                                  c->changed);
        else if (!c->message)
                bootstrap_message(c, "cannot make this node's certificates from the bundle");
        render_set_wipe(&set);
        pki_plan_done(&plan);
        bundle_done(&b);
        return r;
}

/* The errors pki check finds in the certificates a node of the join policy has: an expired one, one within a
 * week of it, a key or name that no longer matches, a missing file; 0 when they are usable. */
static int join_certificates_errors(BootstrapContext *c) {
        PkiPlan plan = {};
        int r = pki_plan_node(c->inv, c->node, &plan);
        r = r < 0 ? r : pki_check(&plan, c->root, time(NULL), NULL, NULL);
        pki_plan_done(&plan);
        return r < 0 ? 1 : r;
}

int bootstrap_certificates(BootstrapContext *c) {
        if (has_bundle(c->root))
                return certificates_from_bundle(c);

        int r = cluster_state_step_recorded(c->root, "certificates");
        if (r < 0)
                return r;
        /* Expired, or within a week of it: the node was off while the renewal timer would have renewed them
         * (by the kubelet's certificate, which may have expired too). Asked for anew with the join secret, as
         * at the first boot: no manual step. */
        int errors = r > 0 ? join_certificates_errors(c) : 0;
        if (r > 0 && errors == 0) {
                bootstrap_message(c, "has its certificates from the join service");
                return 0;
        }

        _cleanup_(join_material_done) JoinMaterial m = {};
        _cleanup_(join_answer_done) JoinAnswer a = {};
        r = join_material_load(c, &m);
        if (r < 0)
                return r;
        r = ask_masters(c, &m, ASK_CERTIFICATES, &a);
        if (r >= 0) {
                r = write_set(c, &a.set, c->root);
                if (r >= 0)
                        bootstrap_message(c, "%zu PKI files issued through the join service of %s (keys made here)%s",
                                          a.set.n, strempty(a.from),
                                          errors > 0 ? ", again: those it had were expired or no longer right" : "");
        } else
                bootstrap_message(c, "%s", a.why ?: "cannot get this node's certificates");
        return r;
}

int bootstrap_joined(BootstrapContext *c) {
        ClusterState s;
        int r = cluster_state_load(c->root, &s);
        if (r < 0)
                return r;
        bool done = s.state == BOOTSTRAP_JOINED;
        cluster_state_done(&s);
        if (done) {
                bootstrap_message(c, "already joined");
                return 0;
        }
        r = cluster_state_set_role(c->root, "worker");
        r = r ?: cluster_state_set(c->root, BOOTSTRAP_JOINED);
        if (r >= 0)
                bootstrap_message(c, "joined the cluster");
        return r;
}

int bootstrap_register(BootstrapContext *c) {
        if (c->node->ip_valid) {
                char ip[IP_ADDR_STRLEN];
                ip_addr_format(&c->node->ip, ip);
                bootstrap_message(c, "registered as %s at %s (auto_register)", c->node->name, ip);
                return 0;
        }
        _cleanup_(join_material_done) JoinMaterial m = {};
        _cleanup_(join_answer_done) JoinAnswer a = {};
        int r = join_material_load(c, &m);
        if (r < 0)
                return r;
        r = ask_masters(c, &m, ASK_REGISTER, &a);
        if (r >= 0) {
                r = write_set(c, &a.set, c->root);
                /* The certificates first, then the address: with the address, the node counts as registered. */
                StrBuf b = {};
                RenderSet addr = {};
                r = r ?: strbuf_printf(&b, "%s\n", a.ip);
                r = r ?: render_set_add(&addr, AUTO_ADDRESS_PATH, 0644, &b);
                r = r ?: write_set(c, &addr, c->root);
                r = r ?: cluster_state_mark_step(c->root, "certificates", time(NULL));
                strbuf_done(&b);
                render_set_done(&addr);
                if (r >= 0)
                        bootstrap_message(c, "registered by %s as %s at %s; %zu PKI files issued (keys made here)",
                                          strempty(a.from), c->node->name, a.ip, a.set.n);
        } else
                bootstrap_message(c, "%s", a.why ?: "cannot register this machine");
        return r;
}
