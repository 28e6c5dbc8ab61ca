/* SPDX-License-Identifier: Apache-2.0 */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <openssl/evp.h>
#include <openssl/sha.h>

#include "render.h"
#include "renderers.h"
#include "banned.h"

int render_set_add(RenderSet *s, const char *path, mode_t mode, StrBuf *b) {
        if (render_set_find(s, path))
                return -EEXIST;
        if (!GREEDY_REALLOC(s->files, s->allocated, s->n + 1))
                return -ENOMEM;
        char *p = strdup(path);
        if (!p)
                return -ENOMEM;
        size_t size = b->len;
        s->files[s->n++] = (RenderedFile) {
                .path = p,
                .mode = mode,
                .content = strbuf_steal(b),
                .size = size,
        };
        if (!s->files[s->n - 1].content) {
                free(p);
                s->n--;
                return -ENOMEM;
        }
        return 0;
}

int render_set_add_group(RenderSet *s, const char *path, mode_t mode, const char *group, StrBuf *b) {
        int r = render_set_add(s, path, mode, b);
        if (r >= 0)
                s->files[s->n - 1].group = group;
        return r;
}

const RenderedFile *render_set_find(const RenderSet *s, const char *path) {
        for (size_t i = 0; i < s->n; i++)
                if (streq(s->files[i].path, path))
                        return s->files + i;
        return NULL;
}

void render_set_done(RenderSet *s) {
        for (size_t i = 0; i < s->n; i++) {
                free(s->files[i].path);
                free(s->files[i].content);
        }
        free(s->files);
        *s = (RenderSet) {};
}

void render_set_wipe(RenderSet *s) {
        for (size_t i = 0; i < s->n; i++)
                if (s->files[i].content)
                        explicit_bzero(s->files[i].content, s->files[i].size);
        render_set_done(s);
}

static int file_cmp(const void *a, const void *b) {
        return strcmp(((const RenderedFile *) a)->path, ((const RenderedFile *) b)->path);
}

void render_set_sort(RenderSet *s) {
        if (s->n > 1)
                qsort(s->files, s->n, sizeof(RenderedFile), file_cmp);
}

int cluster_ids_derive(const Inventory *inv, ClusterIds *ret) {
        unsigned char md[SHA256_DIGEST_LENGTH];
        _cleanup_free_ char *seed = strprintf("clusterboot:%s:%s", strempty(inv->cluster.name.v),
                                              strempty(inv->cluster.networking.node_cidr.v));
        if (!seed)
                return -ENOMEM;
        if (!SHA256((const unsigned char *) seed, strlen(seed), md))
                return -EIO;

        uuid_v8_format(md, ret->ceph_fsid);

        /* Kafka's id is a UUID too, written in URL-safe base64; use the hash's other half. Its first
         * character must not be '-': kafka-storage would take "-t -X..." for an option (found by
         * tests/kafka). With the top bit clear the first character is one of A-Z, a-f. */
        md[16] &= 0x7F;
        unsigned char b64[32];
        if (EVP_EncodeBlock(b64, md + 16, 16) != 24)
                return -EIO;
        for (size_t i = 0; i < 22; i++)
                ret->kafka_cluster_id[i] = b64[i] == '+' ? '-' : b64[i] == '/' ? '_' : (char) b64[i];
        ret->kafka_cluster_id[22] = 0;
        return 0;
}

const char *network_backend_to_string(NetworkBackend b) {
        static const char *const table[_NETWORK_BACKEND_MAX] = {
                [NETWORK_BACKEND_NETWORKD] = "networkd",
                [NETWORK_BACKEND_NETWORKMANAGER] = "networkmanager",
        };
        return b >= 0 && b < _NETWORK_BACKEND_MAX ? table[b] : NULL;
}

NetworkBackend network_backend_from_string(const char *s) {
        for (NetworkBackend b = 0; b < _NETWORK_BACKEND_MAX; b++)
                if (streq(s, network_backend_to_string(b)))
                        return b;
        return _NETWORK_BACKEND_INVALID;
}

int render_node(const Inventory *inv, const Node *node, const RenderOptions *opts, const char *only, RenderSet *out,
                const char **ret_failed) {
        const ClusterIds *ids = opts ? opts->ids : NULL;
        const Node *first = NULL;
        for (size_t i = 0; i < inv->n_nodes && !first; i++)
                if (inv->nodes[i].roles[ROLE_MASTER])
                        first = inv->nodes + i;

        ClusterIds derived;
        if (!ids) {
                int r = cluster_ids_derive(inv, &derived);
                if (r < 0)
                        return r;
                ids = &derived;
        }
        RenderContext c = {
                .inv = inv,
                .node = node,
                .first_master = first,
                .ids = ids,
                .network_backend = opts ? opts->network_backend : NETWORK_BACKEND_NETWORKD,
        };
        bool found = false;
        for (size_t i = 0; i < n_renderers; i++) {
                if (only && !streq(only, renderers[i].name))
                        continue;
                found = true;
                if (renderers[i].applies && !renderers[i].applies(node))
                        continue;
                size_t before = out->n;
                int r = renderers[i].render(&c, out);
                for (size_t k = before; k < out->n; k++)
                        out->files[k].renderer = renderers[i].name;
                if (r < 0) {
                        if (ret_failed)
                                *ret_failed = renderers[i].name;
                        return r;
                }
        }
        if (only && !found)
                return -ENOENT;
        render_set_sort(out);
        return 0;
}

int render_header(StrBuf *b, const char *prefix) {
        return strbuf_printf(b, "%s Generated by clusterboot from the cluster inventory. Do not edit: changes are\n"
                                "%s overwritten; edit the inventory and run 'clusterboot render' instead.\n",
                             prefix, prefix);
}

static bool env_key_valid(const char *key) {
        if (!((key[0] >= 'A' && key[0] <= 'Z') || (key[0] >= 'a' && key[0] <= 'z') || key[0] == '_'))
                return false;
        for (const char *p = key; *p; p++)
                if (!((*p >= 'A' && *p <= 'Z') || (*p >= 'a' && *p <= 'z') || (*p >= '0' && *p <= '9') || *p == '_'))
                        return false;
        return true;
}

int render_env(StrBuf *b, const char *key, const char *value) {
        if (!env_key_valid(key))
                return -EINVAL;
        int r = strbuf_printf(b, "%s=\"", key);
        for (const char *p = value; r >= 0 && *p; p++) {
                /* systemd's EnvironmentFile= understands C-style escapes inside double quotes. */
                if (*p == '"' || *p == '\\')
                        r = strbuf_printf(b, "\\%c", *p);
                else if (*p == '\n')
                        r = strbuf_append(b, "\\n");
                else
                        r = strbuf_appendn(b, p, 1);
        }
        return r < 0 ? r : strbuf_append(b, "\"\n");
}

int render_ini_section(StrBuf *b, const char *section) {
        if (strpbrk(section, "[]\n"))
                return -EINVAL;
        return strbuf_printf(b, "%s[%s]\n", b->len > 0 && b->s[b->len - 1] != '\n' ? "\n" : "", section);
}

int render_ini_kv(StrBuf *b, const char *key, const char *value) {
        if (strpbrk(key, "=\n[]") || strchr(value, '\n'))
                return -EINVAL;
        return strbuf_printf(b, "%s = %s\n", key, value);
}

static int properties_escape(StrBuf *b, const char *s, bool key) {
        int r = 0;
        for (const char *p = s; r >= 0 && *p; p++) {
                if (*p == '\\' || (key && (*p == '=' || *p == ':' || *p == ' ' || *p == '#' || *p == '!')))
                        r = strbuf_printf(b, "\\%c", *p);
                else if (*p == '\n')
                        r = strbuf_append(b, "\\n");
                else
                        r = strbuf_appendn(b, p, 1);
        }
        return r;
}

int render_properties_kv(StrBuf *b, const char *key, const char *value) {
        int r = properties_escape(b, key, true);
        if (r >= 0)
                r = strbuf_append(b, "=");
        if (r >= 0)
                r = properties_escape(b, value, false);
        return r < 0 ? r : strbuf_append(b, "\n");
}

void render_ip(const IpAddr *a, char buf[static IP_ADDR_STRLEN]) {
        ip_addr_format(a, buf);
}

char *render_host_port(const IpAddr *a, int64_t port) {
        char ip[IP_ADDR_STRLEN];
        ip_addr_format(a, ip);
        return a->family == AF_INET6 ? strprintf("[%s]:%" PRId64, ip, port) : strprintf("%s:%" PRId64, ip, port);
}
