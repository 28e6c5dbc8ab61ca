/* SPDX-License-Identifier: Apache-2.0 */
#pragma once

#include <stdbool.h>
#include <sys/types.h>

#include "model.h"
#include "string-util.h"

/* Renderers are pure: (inventory, node) in, a list of {path, mode, content} out. They touch no file; the
 * one writer below puts a RenderSet under a root, atomically, file by file. That makes every renderer
 * testable without root, and --dry-run and --diff free. */

typedef struct RenderedFile {
        char *path; /* absolute, as on the node: "/etc/cluster-config/environment/etcd.env" */
        const char *renderer; /* which renderer made it (set by render_node()), or NULL */
        const char *group;    /* a group that must read it (owner root), or NULL for root's */
        mode_t mode;
        char *content;
        size_t size;
} RenderedFile;

typedef struct RenderSet {
        RenderedFile *files;
        size_t n;
        size_t allocated;
} RenderSet;

/* Adds a file, taking the content of b (which is reset). A path already in the set is -EEXIST: two
 * renderers must never write the same file. */
int render_set_add(RenderSet *s, const char *path, mode_t mode, StrBuf *b);
/* The same for a file that group (a static string) must read: mode 0640 root:group, say. */
int render_set_add_group(RenderSet *s, const char *path, mode_t mode, const char *group, StrBuf *b);
const RenderedFile *render_set_find(const RenderSet *s, const char *path);
void render_set_done(RenderSet *s);
/* The same, zeroing the contents first: for sets that hold keys. */
void render_set_wipe(RenderSet *s);
/* Sorts by path, for stable output. */
void render_set_sort(RenderSet *s);

/* Identifiers the whole cluster shares. They belong to the secrets bundle (`clusterboot secrets init`);
 * until one is given, they are derived from the cluster's name and node network, so that every node renders
 * the same values without talking to the others. */
typedef struct ClusterIds {
        char ceph_fsid[37];        /* a UUID: "8c2f...-..." */
        char kafka_cluster_id[23]; /* 16 bytes in URL-safe base64 without padding, as kafka-storage wants */
} ClusterIds;

int cluster_ids_derive(const Inventory *inv, ClusterIds *ret);

typedef enum NetworkBackend {
        NETWORK_BACKEND_NETWORKD,       /* systemd-networkd .network (the default) */
        NETWORK_BACKEND_NETWORKMANAGER, /* a NetworkManager keyfile */
        _NETWORK_BACKEND_MAX,
        _NETWORK_BACKEND_INVALID = -1,
} NetworkBackend;

const char *network_backend_to_string(NetworkBackend b);
NetworkBackend network_backend_from_string(const char *s);

/* Choices made outside the inventory (by the image or the command line). NULL means the defaults. */
typedef struct RenderOptions {
        const ClusterIds *ids; /* NULL: derived */
        NetworkBackend network_backend;
} RenderOptions;

/* What a renderer sees. */
typedef struct RenderContext {
        const Inventory *inv;
        const Node *node;
        const Node *first_master;
        const ClusterIds *ids;
        NetworkBackend network_backend;
} RenderContext;

typedef struct Renderer {
        const char *name;                  /* "etcd", "kafka": for messages and `render --only` */
        bool (*applies)(const Node *node); /* from the node's roles */
        int (*render)(const RenderContext *c, RenderSet *out);
} Renderer;

/* Every renderer, in the order they run. */
extern const Renderer renderers[];
extern const size_t n_renderers;

/* Runs every renderer that applies to the node, or only the one named only (opts may be NULL: defaults).
 * On failure *ret_failed names the renderer. -ENOENT: no renderer is called only. */
int render_node(const Inventory *inv, const Node *node, const RenderOptions *opts, const char *only, RenderSet *out,
                const char **ret_failed);

/* --- syntax helpers, shared by renderers --- */

/* The first lines of every generated file: who made it, and that edits are overwritten. prefix is the
 * comment leader of the format ("#", ";", "//"). */
int render_header(StrBuf *b, const char *prefix);

/* KEY="VALUE" for a systemd EnvironmentFile=, with ", \ and newlines escaped. -EINVAL for a key that is
 * not [A-Za-z_][A-Za-z0-9_]*. */
int render_env(StrBuf *b, const char *key, const char *value);

/* "key = value" and "[section]" for INI-style files (ceph.conf); "key=value" for Java properties with
 * the properties escapes. */
int render_ini_section(StrBuf *b, const char *section);
int render_ini_kv(StrBuf *b, const char *key, const char *value);
int render_properties_kv(StrBuf *b, const char *key, const char *value);

/* An address as text, and "ip:port" / "[ip]:port". */
void render_ip(const IpAddr *a, char buf[static IP_ADDR_STRLEN]);
char *render_host_port(const IpAddr *a, int64_t port);
