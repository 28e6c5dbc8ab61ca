/* SPDX-License-Identifier: Apache-2.0 */
/* etcd on every master, configured through ETCD_* variables (etcd reads them itself), TLS on both the client
 * and the peer port with the kubeadm layout under /etc/kubernetes/pki/etcd.
 *
 * Bootstrap follows SPEC "State machine", not the seed (which gave every master all masters with state
 * "new", and so could never form one cluster): the first master by name starts a one-member cluster; the
 * k-th master is added (`member add`) once masters 1..k-1 are members, so its initial cluster is masters
 * 1..k and its state "existing". Once a member has data, etcd ignores both. */
#include <errno.h>
#include <stdlib.h>

#include "paths.h"
#include "renderers.h"
#include "banned.h"

typedef struct EnvVar {
        char *key;
        char *value;
} EnvVar;

typedef struct EnvList {
        EnvVar *items;
        size_t n;
        size_t allocated;
} EnvList;

static void env_list_done(EnvList *l) {
        for (size_t i = 0; i < l->n; i++) {
                free(l->items[i].key);
                free(l->items[i].value);
        }
        free(l->items);
        *l = (EnvList) {};
}

/* Sets key to value, in place when the key is there already, else at the end. Takes both strings, even on
 * failure; a NULL one is -ENOMEM (the caller's allocation failed). */
static int env_list_set(EnvList *l, char *key, char *value) {
        if (!key || !value)
                goto nomem;
        for (size_t i = 0; i < l->n; i++)
                if (streq(l->items[i].key, key)) {
                        free(key);
                        free(l->items[i].value);
                        l->items[i].value = value;
                        return 0;
                }
        if (!GREEDY_REALLOC(l->items, l->allocated, l->n + 1))
                goto nomem;
        l->items[l->n++] = (EnvVar) { key, value };
        return 0;
nomem:
        free(key);
        free(value);
        return -ENOMEM;
}

static int env_list_set_const(EnvList *l, const char *key, const char *value) {
        return env_list_set(l, strdup(key), strdup(value));
}

/* "initial-cluster-token" -> "ETCD_INITIAL_CLUSTER_TOKEN". */
static char *etcd_env_name(const char *flag) {
        while (*flag == '-')
                flag++;
        if (!*flag)
                return NULL;
        StrBuf b = {};
        int r = strbuf_append(&b, "ETCD_");
        for (const char *p = flag; r >= 0 && *p; p++) {
                char ch = *p;
                if (ch >= 'a' && ch <= 'z')
                        ch = (char) (ch - 'a' + 'A');
                else if (ch == '-' || ch == '.')
                        ch = '_';
                else if (!((ch >= 'A' && ch <= 'Z') || (ch >= '0' && ch <= '9') || ch == '_'))
                        r = -EINVAL;
                r = r ?: strbuf_appendn(&b, &ch, 1);
        }
        if (r < 0) {
                strbuf_done(&b);
                return NULL;
        }
        return strbuf_steal(&b);
}

static char *url(const IpAddr *a, int64_t port) {
        _cleanup_free_ char *hp = render_host_port(a, port);
        return hp ? strprintf("https://%s", hp) : NULL;
}

/* "m1=https://IP1:2380,...": the masters in name order up to and including self. */
static int initial_cluster(const Inventory *inv, const Node *self, char **ret, bool *ret_first) {
        StrBuf b = {};
        bool first = true, found = false;
        int r = 0;
        for (size_t i = 0; r >= 0 && i < inv->n_nodes && !found; i++) {
                const Node *n = inv->nodes + i;
                if (!node_is_master(n))
                        continue;
                _cleanup_free_ char *peer = url(&n->ip, 2380);
                r = peer ? strbuf_printf(&b, "%s%s=%s", b.len ? "," : "", n->name, peer) : -ENOMEM;
                found = n == self;
                if (!found)
                        first = false;
        }
        if (r >= 0 && !found)
                r = -EINVAL; /* self is no master of this inventory */
        if (r < 0) {
                strbuf_done(&b);
                return r;
        }
        *ret = strbuf_steal(&b);
        *ret_first = first;
        return *ret ? 0 : -ENOMEM;
}

static int etcd_vars(const RenderContext *c, EnvList *l) {
        const Inventory *inv = c->inv;
        const Node *n = c->node;
        _cleanup_free_ char *cluster = NULL;
        bool first;
        int r;

        r = initial_cluster(inv, n, &cluster, &first);
        if (r < 0)
                return r;
        /* Local clients (the apiserver on this master, etcdctl) may use the loopback address. */
        _cleanup_free_ char *client = url(&n->ip, 2379);
        _cleanup_free_ char *loopback = strprintf("https://%s:2379", n->ip.family == AF_INET6 ? "[::1]" : "127.0.0.1");
        if (!client || !loopback)
                return -ENOMEM;

        r = env_list_set_const(l, "ETCD_NAME", n->name);
        r = r ?: env_list_set_const(l, "ETCD_DATA_DIR", ETCD_DATA_DIR);
        r = r ?: env_list_set(l, strdup("ETCD_LISTEN_PEER_URLS"), url(&n->ip, 2380));
        r = r ?: env_list_set(l, strdup("ETCD_LISTEN_CLIENT_URLS"), strprintf("%s,%s", client, loopback));
        r = r ?: env_list_set(l, strdup("ETCD_INITIAL_ADVERTISE_PEER_URLS"), url(&n->ip, 2380));
        r = r ?: env_list_set_const(l, "ETCD_ADVERTISE_CLIENT_URLS", client);
        r = r ?: env_list_set(l, strdup("ETCD_INITIAL_CLUSTER"), TAKE_PTR(cluster));
        r = r ?: env_list_set_const(l, "ETCD_INITIAL_CLUSTER_STATE", first ? "new" : "existing");
        r = r ?: env_list_set_const(l, "ETCD_INITIAL_CLUSTER_TOKEN", strempty(inv->cluster.name.v));
        r = r ?: env_list_set_const(l, "ETCD_CERT_FILE", ETCD_PKI_DIR "/server.crt");
        r = r ?: env_list_set_const(l, "ETCD_KEY_FILE", ETCD_PKI_DIR "/server.key");
        r = r ?: env_list_set_const(l, "ETCD_TRUSTED_CA_FILE", ETCD_PKI_DIR "/ca.crt");
        r = r ?: env_list_set_const(l, "ETCD_CLIENT_CERT_AUTH", "true");
        r = r ?: env_list_set_const(l, "ETCD_PEER_CERT_FILE", ETCD_PKI_DIR "/peer.crt");
        r = r ?: env_list_set_const(l, "ETCD_PEER_KEY_FILE", ETCD_PKI_DIR "/peer.key");
        r = r ?: env_list_set_const(l, "ETCD_PEER_TRUSTED_CA_FILE", ETCD_PKI_DIR "/ca.crt");
        r = r ?: env_list_set_const(l, "ETCD_PEER_CLIENT_CERT_AUTH", "true");
        if (r < 0)
                return r;

        /* extra_args: { etcd: { quota-backend-bytes: "8589934592" } } becomes ETCD_QUOTA_BACKEND_BYTES, replacing
         * a generated variable of that name. */
        const KVList *extra = kube_extra_args(inv, "etcd");
        for (size_t i = 0; extra && i < extra->n; i++) {
                if (!extra->items[i].key.v)
                        return -EINVAL;
                char *key = etcd_env_name(extra->items[i].key.v);
                if (!key)
                        return -EINVAL;
                r = env_list_set(l, key, strdup(strempty(extra->items[i].value.v)));
                if (r < 0)
                        return r;
        }
        return 0;
}

/* The variables etcd reads only when it makes its member, with no data yet (the cluster it starts or joins,
 * and its token). They go to their own file, which restarts nothing when it changes (readers.c): a master
 * taken out of the inventory changes them on the others, and restarting a member then could cost the
 * quorum while the removed one is still a member. */
static bool initial_only(const char *key) {
        return startswith(key, "ETCD_INITIAL_CLUSTER");
}

int render_etcd(const RenderContext *c, RenderSet *out) {
        if (!c->node->ip_valid)
                return -EINVAL;
        EnvList l = {};
        StrBuf b = {}, initial = {};
        int r = etcd_vars(c, &l);
        r = r ?: render_header(&b, "#");
        r = r ?: render_header(&initial, "#");
        for (size_t i = 0; r >= 0 && i < l.n; i++)
                r = render_env(initial_only(l.items[i].key) ? &initial : &b, l.items[i].key, l.items[i].value);
        r = r ?: render_set_add(out, ENVIRONMENT_DIR "/etcd.env", 0644, &b);
        r = r ?: render_set_add(out, ETCD_INITIAL_ENV, 0644, &initial);
        strbuf_done(&b);
        strbuf_done(&initial);
        env_list_done(&l);
        return r;
}
