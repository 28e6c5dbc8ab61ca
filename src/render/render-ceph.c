/* SPDX-License-Identifier: Apache-2.0 */
/* /etc/ceph/ceph.conf, the same on every Ceph node, and the node's part of the Ceph plan in ceph.env.
 * Monitors and their order are the ones `clusterboot plan` shows; OSD ids are Ceph's, given when each OSD
 * is made (osd-record.h), so nothing here names them. services/ceph.yaml's extra_config is merged in: a key
 * that Ceph reads as one already written replaces its value ("mon allow pool delete" and
 * "mon_allow_pool_delete" are the same option to Ceph), anything else is added. */
#include <errno.h>
#include <inttypes.h>
#include <openssl/sha.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "paths.h"
#include "renderers.h"
#include "banned.h"

typedef struct ConfKV {
        const char *key;
        char *value; /* owned */
} ConfKV;

typedef struct ConfSection {
        const char *name;
        ConfKV *kvs;
        size_t n, allocated;
} ConfSection;

typedef struct Conf {
        ConfSection *sections;
        size_t n, allocated;
} Conf;

static void conf_done(Conf *c) {
        for (size_t i = 0; i < c->n; i++) {
                for (size_t j = 0; j < c->sections[i].n; j++)
                        free(c->sections[i].kvs[j].value);
                free(c->sections[i].kvs);
        }
        free(c->sections);
        *c = (Conf) {};
}

static ConfSection *conf_section(Conf *c, const char *name) {
        for (size_t i = 0; i < c->n; i++)
                if (streq(c->sections[i].name, name))
                        return c->sections + i;
        if (!GREEDY_REALLOC(c->sections, c->allocated, c->n + 1))
                return NULL;
        c->sections[c->n] = (ConfSection) { .name = name };
        return c->sections + c->n++;
}

/* Ceph reads ' ' and '_' in option names in ceph.conf as the same character (not '-': ceph-conf 16 takes
 * "auth-client-required" for an option of its own). */
static bool ceph_key_eq(const char *a, const char *b) {
        for (;; a++, b++) {
                char x = *a == ' ' ? '_' : *a, y = *b == ' ' ? '_' : *b;
                if (x != y)
                        return false;
                if (!x)
                        return true;
        }
}

/* Sets key in the section, replacing the value of an equal key; takes value (also on failure). */
static int conf_set(ConfSection *s, const char *key, char *value) {
        if (!value)
                return -ENOMEM;
        for (size_t i = 0; i < s->n; i++)
                if (ceph_key_eq(s->kvs[i].key, key)) {
                        free(s->kvs[i].value);
                        s->kvs[i].value = value;
                        return 0;
                }
        if (!GREEDY_REALLOC(s->kvs, s->allocated, s->n + 1)) {
                free(value);
                return -ENOMEM;
        }
        s->kvs[s->n++] = (ConfKV) { .key = key, .value = value };
        return 0;
}

/* ceph.conf's parser ends a value at '#' or ';' (a comment) even inside double quotes, and reads '\' and a
 * leading '"' specially: those characters are escaped with '\', which it always understands. */
static char *value_escape(const char *v) {
        StrBuf b = {};
        int r = strbuf_append(&b, "");
        for (const char *p = v; r >= 0 && *p; p++)
                r = strchr("#;\"\\", *p) ? strbuf_printf(&b, "\\%c", *p) : strbuf_appendn(&b, p, 1);
        if (r < 0) {
                strbuf_done(&b);
                return NULL;
        }
        return strbuf_steal(&b);
}

static int conf_write(const Conf *c, StrBuf *b) {
        int r = 0;
        for (size_t i = 0; i < c->n && r >= 0; i++) {
                const ConfSection *s = c->sections + i;
                r = strbuf_append(b, "\n");
                r = r ?: render_ini_section(b, s->name);
                for (size_t j = 0; j < s->n && r >= 0; j++) {
                        _cleanup_free_ char *v = value_escape(s->kvs[j].value);
                        r = v ? render_ini_kv(b, s->kvs[j].key, v) : -ENOMEM;
                }
        }
        return r;
}

/* "[v2:IP:3300,v1:IP:6789],[...]": both messenger protocols, every monitor, in name order. */
static char *mon_host(const Inventory *inv) {
        StrBuf b = {};
        int r = 0;
        for (size_t i = 0; i < inv->n_nodes && r >= 0; i++) {
                const Node *n = inv->nodes + i;
                if (!n->roles[ROLE_CEPH_MON])
                        continue;
                _cleanup_free_ char *v2 = render_host_port(&n->ip, 3300), *v1 = render_host_port(&n->ip, 6789);
                r = v2 && v1 ? strbuf_printf(&b, "%s[v2:%s,v1:%s]", b.len ? "," : "", v2, v1) : -ENOMEM;
        }
        if (r < 0) {
                strbuf_done(&b);
                return NULL;
        }
        return strbuf_steal(&b);
}

static char *mon_names(const Inventory *inv, const char *sep) {
        StrBuf b = {};
        int r = 0;
        for (size_t i = 0; i < inv->n_nodes && r >= 0; i++)
                if (inv->nodes[i].roles[ROLE_CEPH_MON])
                        r = strbuf_printf(&b, "%s%s", b.len ? sep : "", inv->nodes[i].name);
        if (r < 0) {
                strbuf_done(&b);
                return NULL;
        }
        return strbuf_steal(&b);
}

/* [global], with the monitors' names and addresses or without (the settings_digest()). */
static int build_global(const RenderContext *c, bool monitors, ConfSection *g) {
        const Inventory *inv = c->inv;
        const CephConfig *ceph = &inv->ceph;
        int r;

        r = conf_set(g, "fsid", strdup(c->ids->ceph_fsid));
        if (monitors) {
                r = r ?: conf_set(g, "mon_initial_members", mon_names(inv, ","));
                r = r ?: conf_set(g, "mon_host", mon_host(inv));
        }
        r = r ?: conf_set(g, "public_network", strdup(strempty(ceph->public_network.v)));
        r = r ?: conf_set(g, "cluster_network", strdup(strempty(ceph->cluster_network.v)));
        r = r ?: conf_set(g, "auth_cluster_required", strdup("cephx"));
        r = r ?: conf_set(g, "auth_service_required", strdup("cephx"));
        r = r ?: conf_set(g, "auth_client_required", strdup("cephx"));
        /* Every daemon and client here is current: refuse the insecure global_id reclaim (CVE-2021-20288)
         * instead of running with the health warning Ceph raises while it is allowed. */
        r = r ?: conf_set(g, "auth_allow_insecure_global_id_reclaim", strdup("false"));
        r = r ?: conf_set(g, "osd_pool_default_size", strprintf("%" PRId64, ceph->osd_pool_default_size.v));
        r = r ?: conf_set(g, "osd_pool_default_min_size", strprintf("%" PRId64, ceph->osd_pool_default_min_size.v));
        if (c->node->ip.family == AF_INET6) {
                /* Ceph's messenger binds IPv4 only unless told otherwise. */
                r = r ?: conf_set(g, "ms_bind_ipv4", strdup("false"));
                r = r ?: conf_set(g, "ms_bind_ipv6", strdup("true"));
        }
        return r;
}

static int merge_extra(const Inventory *inv, Conf *conf) {
        const SectionList *l = &inv->ceph.extra_config;
        for (size_t i = 0; i < l->n; i++) {
                const Section *sec = l->items + i;
                if (!sec->name.v)
                        continue;
                ConfSection *s = conf_section(conf, sec->name.v);
                if (!s)
                        return -ENOMEM;
                for (size_t j = 0; j < sec->values.n; j++) {
                        const KeyValue *kv = sec->values.items + j;
                        if (!kv->key.v || !kv->value.v)
                                continue;
                        int r = conf_set(s, kv->key.v, strdup(kv->value.v));
                        if (r < 0)
                                return r;
                }
        }
        return 0;
}

static int conf_text(const RenderContext *c, bool monitors, StrBuf *b) {
        Conf conf = {};
        ConfSection *g = conf_section(&conf, "global");
        int r = g ? build_global(c, monitors, g) : -ENOMEM;
        r = r ?: merge_extra(c->inv, &conf);
        r = r ?: conf_write(&conf, b);
        conf_done(&conf);
        return r;
}

static int render_ceph_conf(const RenderContext *c, RenderSet *out) {
        StrBuf b = {};
        int r = render_header(&b, "#");
        r = r ?: conf_text(c, true, &b);
        r = r ?: render_set_add(out, CEPH_CONFIG_DIR "/ceph.conf", 0644, &b);
        strbuf_done(&b);
        return r;
}

/* The SHA-256 of ceph.conf without the monitors' names and addresses. A running daemon follows the monmap,
 * not mon_host: a monitor added or removed needs no restart, and restarting a monitor while a removed one
 * is still in the monmap could cost the quorum. Any other setting does need one. So the daemons restart for
 * ceph.env (readers.c), which carries this digest, and not for ceph.conf. */
static int settings_digest(const RenderContext *c, char ret[static 65]) {
        StrBuf b = {};
        unsigned char md[SHA256_DIGEST_LENGTH];
        int r = conf_text(c, false, &b);
        if (r >= 0 && !SHA256((const unsigned char *) strempty(b.s), b.len, md))
                r = -EIO;
        for (size_t i = 0; r >= 0 && i < sizeof(md); i++)
                snprintf(ret + 2 * i, 3, "%02x", md[i]);
        strbuf_done(&b);
        return r;
}

/* What the node's Ceph daemons restart for (readers.c), and nothing else: not its OSD devices, which
 * the stage ceph-osd reads from the node file (a disk added or removed restarts no monitor). */
static int render_ceph_env(const RenderContext *c, RenderSet *out) {
        const Node *n = c->node;
        StrBuf b = {};
        char digest[65];
        int r = settings_digest(c, digest);

        r = r ?: render_header(&b, "#");
        r = r ?: render_env(&b, "CEPH_NODE_NAME", n->name);
        r = r ?: render_env(&b, "CEPH_MON", n->roles[ROLE_CEPH_MON] ? "1" : "0");
        r = r ?: render_env(&b, "CEPH_SETTINGS_SHA256", digest);
        r = r ?: render_set_add(out, ENVIRONMENT_DIR "/ceph.env", 0644, &b);
        strbuf_done(&b);
        return r;
}

int render_ceph(const RenderContext *c, RenderSet *out) {
        if (!c->node->ip_valid)
                return -EINVAL;
        int r = render_ceph_conf(c, out);
        return r ?: render_ceph_env(c, out);
}
