/* SPDX-License-Identifier: Apache-2.0 */
/* The components lock and the component catalogue: which components there are, what the lock pins for each,
 * what a payload's digest is, and which components an inventory's image carries. */
#include <dirent.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include <openssl/sha.h>

#include "components.h"
#include "fileio.h"
#include "image.h"
#include "inventory.h"
#include "renderers.h"
#include "string-util.h"
#include "banned.h"

/* The one table of components. dest is where the units look for the programs (the units' ExecStart=). */
static const ComponentInfo components[_COMPONENT_MAX] = {
        [COMPONENT_KUBERNETES] = { "kubernetes", "KUBERNETES", "bin", false, "/usr/local/bin",
                                   "Go module proxy: k8s.io/kubernetes (built with the pinned Go)",
                                   "kube-apiserver, kube-controller-manager, kube-scheduler, kubelet, kube-proxy, kubectl" },
        [COMPONENT_FLANNEL] = { "flannel", "FLANNEL", "bin", false, "/usr/local/bin",
                                "Go module proxy: github.com/flannel-io/flannel (built with the pinned Go)",
                                "flanneld, the pod network between nodes" },
        [COMPONENT_PAUSE] = { "pause", "PAUSE", "pause-%s.oci.tar", false, "/usr/share/clusterboot/images",
                              "Go module proxy: k8s.io/kubernetes build/pause (compiled with gcc)",
                              "the pod sandbox image, as an OCI tarball" },
        [COMPONENT_COREDNS] = { "coredns", "COREDNS", "bin", false, "/usr/local/bin",
                                "Go module proxy: github.com/coredns/coredns (built with the pinned Go)",
                                "CoreDNS, the dns-server role's server" },
        [COMPONENT_KAFKA] = { "kafka", "KAFKA", "lib", true, "/opt/kafka/libs",
                              "Maven Central: org.apache.kafka:kafka_SCALA, kafka-tools and their dependencies",
                              "the Kafka broker and its tools (jars; the JRE is Debian's)" },
};

const ComponentInfo *component_info(Component c) {
        return c >= 0 && c < _COMPONENT_MAX ? components + c : NULL;
}

Component component_from_string(const char *s) {
        for (Component c = 0; c < _COMPONENT_MAX; c++)
                if (streq(components[c].name, s))
                        return c;
        return _COMPONENT_INVALID;
}

/* ---- the lock ---- */

void lock_done(Lock *l) {
        for (size_t i = 0; i < l->n; i++) {
                free(l->keys[i]);
                free(l->values[i]);
        }
        free(l->keys);
        free(l->values);
        *l = (Lock) {};
}

static bool is_key_char(char ch, bool first) {
        return (ch >= 'A' && ch <= 'Z') || (ch >= 'a' && ch <= 'z') || ch == '_' || (!first && ch >= '0' && ch <= '9');
}

/* A value a shell reads as the same word: no quotes, blanks, '$', '`', '\\' or other shell syntax. */
static bool is_plain_value(const char *s, size_t n) {
        for (size_t i = 0; i < n; i++)
                if (!strchr("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789._-+:/@", s[i]))
                        return false;
        return true;
}

int lock_parse(const char *text, Lock *ret, unsigned *ret_line, const char **ret_reason) {
        Lock l = {};
        size_t allocated_k = 0, allocated_v = 0;
        unsigned line = 0;
        const char *reason = NULL;
        int r = 0;
        for (const char *p = text; *p && r >= 0;) {
                size_t len = strcspn(p, "\n");
                const char *next = p + len + (p[len] == '\n');
                line++;
                while (len > 0 && (p[len - 1] == ' ' || p[len - 1] == '\t' || p[len - 1] == '\r'))
                        len--;
                if (len == 0 || p[0] == '#') {
                        p = next;
                        continue;
                }
                size_t k = 0;
                while (k < len && is_key_char(p[k], k == 0))
                        k++;
                if (k == 0 || k >= len || p[k] != '=') {
                        reason = "not NAME=VALUE";
                        r = -EINVAL;
                        break;
                }
                if (!is_plain_value(p + k + 1, len - k - 1)) {
                        reason = "the value holds a character a shell would read differently (quote, blank, $)";
                        r = -EINVAL;
                        break;
                }
                char *key = strndup(p, k), *value = strndup(p + k + 1, len - k - 1);
                size_t i = 0;
                while (key && i < l.n && !streq(l.keys[i], key))
                        i++;
                if (!key || !value) {
                        free(key);
                        free(value);
                        r = -ENOMEM;
                } else if (i < l.n) { /* a later NAME wins, as in a shell */
                        free(l.values[i]);
                        l.values[i] = value;
                        free(key);
                } else if (!GREEDY_REALLOC(l.keys, allocated_k, l.n + 1) || !GREEDY_REALLOC(l.values, allocated_v, l.n + 1)) {
                        free(key);
                        free(value);
                        r = -ENOMEM;
                } else {
                        l.keys[l.n] = key;
                        l.values[l.n++] = value;
                }
                p = next;
        }
        if (r < 0) {
                lock_done(&l);
                if (ret_line)
                        *ret_line = line;
                if (ret_reason)
                        *ret_reason = reason;
                return r;
        }
        *ret = l;
        return 0;
}

const char *lock_get(const Lock *l, const char *key) {
        for (size_t i = 0; i < l->n; i++)
                if (streq(l->keys[i], key))
                        return l->values[i][0] ? l->values[i] : NULL;
        return NULL;
}

const char *lock_version(const Lock *l, Component c) {
        char key[64];
        snprintf(key, sizeof(key), "%s_VERSION", components[c].key);
        return lock_get(l, key);
}

const char *lock_digest(const Lock *l, Component c, const char *arch) {
        char key[64];
        if (components[c].any_arch)
                snprintf(key, sizeof(key), "%s_SHA256", components[c].key);
        else
                snprintf(key, sizeof(key), "%s_SHA256_%s", components[c].key, arch);
        return lock_get(l, key);
}

char *component_dir(const Lock *l, Component c, const char *dir) {
        const char *version = lock_version(l, c);
        if (!version) {
                errno = EINVAL;
                return NULL;
        }
        return strprintf("%s/%s-%s", dir, components[c].name, version);
}

char *component_payload(const Lock *l, Component c, const char *dir) {
        _cleanup_free_ char *base = component_dir(l, c, dir);
        if (!base)
                return NULL;
        _cleanup_free_ char *payload = NULL;
        if (strstr(components[c].payload, "%s"))
                payload = strreplace(components[c].payload, "%s", lock_version(l, c));
        else
                payload = strdup(components[c].payload);
        return payload ? strprintf("%s/%s", base, payload) : NULL;
}

/* ---- the digest of a payload ---- */

typedef struct Listing {
        char **paths; /* relative to the payload's folder */
        size_t n, allocated;
} Listing;

static void listing_done(Listing *l) {
        for (size_t i = 0; i < l->n; i++)
                free(l->paths[i]);
        free(l->paths);
}

/* Every regular file under base/rel, as paths relative to base. */
static int list_files(const char *base, const char *rel, Listing *out, char **ret_odd) {
        _cleanup_free_ char *path = strprintf("%s/%s", base, rel);
        if (!path)
                return -ENOMEM;
        struct stat st;
        if (lstat(path, &st) < 0)
                return -errno;
        if (S_ISREG(st.st_mode)) {
                char *copy = strdup(rel);
                if (!copy || !GREEDY_REALLOC(out->paths, out->allocated, out->n + 1)) {
                        free(copy);
                        return -ENOMEM;
                }
                out->paths[out->n++] = copy;
                return 0;
        }
        if (!S_ISDIR(st.st_mode)) {
                *ret_odd = TAKE_PTR(path);
                return -EMEDIUMTYPE;
        }
        DIR *d = opendir(path);
        if (!d)
                return -errno;
        int r = 0;
        struct dirent *e;
        while (r >= 0 && (errno = 0, e = readdir(d))) {
                if (streq(e->d_name, ".") || streq(e->d_name, ".."))
                        continue;
                _cleanup_free_ char *child = strprintf("%s/%s", rel, e->d_name);
                r = child ? list_files(base, child, out, ret_odd) : -ENOMEM;
        }
        if (r >= 0 && errno)
                r = -errno;
        closedir(d);
        return r;
}

static int cmp_path(const void *a, const void *b) {
        return strcmp(*(char *const *) a, *(char *const *) b);
}

int component_digest(const char *payload, char ret[static 65], char **ret_odd) {
        _cleanup_free_ char *copy = strdup(payload);
        if (!copy)
                return -ENOMEM;
        char *slash = strrchr(copy, '/');
        const char *base = ".", *name = copy;
        if (slash) {
                *slash = '\0';
                base = copy[0] ? copy : "/";
                name = slash + 1;
        }
        Listing l = {};
        char *odd = NULL;
        int r = list_files(base, name, &l, &odd);
        if (r >= 0)
                qsort(l.paths, l.n, sizeof(char *), cmp_path);

        /* sha256sum's own format, so that `cd DIR && find PAYLOAD -type f | sort | xargs sha256sum | sha256sum`
         * gives the same digest: the listing (a line a file) hashed once. */
        StrBuf listing = {};
        for (size_t i = 0; r >= 0 && i < l.n; i++) {
                _cleanup_free_ char *file = strprintf("%s/%s", base, l.paths[i]);
                char sha[65];
                r = file ? file_sha256(file, sha, NULL) : -ENOMEM;
                r = r < 0 ? r : strbuf_printf(&listing, "%s  %s\n", sha, l.paths[i]);
        }
        unsigned char md[SHA256_DIGEST_LENGTH];
        if (r >= 0 && !SHA256((const unsigned char *) strempty(listing.s), listing.len, md))
                r = -EIO;
        strbuf_done(&listing);
        listing_done(&l);
        if (r < 0) {
                if (ret_odd)
                        *ret_odd = odd;
                else
                        free(odd);
                return r;
        }
        hex_encode(md, 32, ret);
        return 0;
}

/* ---- what an inventory's image carries ---- */

void image_components(const Inventory *inv, bool ret[static _COMPONENT_MAX]) {
        /* A node with every role the image serves: the role rules below are each "any of these roles". */
        Node all = {};
        image_roles(inv, all.roles);
        bool kubelet = inv->services[SERVICE_KUBERNETES] && node_runs_kubelet(&all);
        ret[COMPONENT_KUBERNETES] = kubelet;
        ret[COMPONENT_PAUSE] = kubelet;
        ret[COMPONENT_FLANNEL] = kubelet && inventory_uses_flannel(inv);
        ret[COMPONENT_COREDNS] = inv->services[SERVICE_DNS] && node_is_dns_server(&all);
        ret[COMPONENT_KAFKA] = inv->services[SERVICE_KAFKA] && node_is_kafka_broker(&all);
}

/* The inventory's versions have no leading 'v' (check_version()); Kubernetes' lock version has one. */
static bool same_version(const char *inventory, const char *locked) {
        return streq(inventory, locked) || (locked[0] == 'v' && streq(inventory, locked + 1));
}

char *image_components_mismatch(const Inventory *inv, const Lock *l, const bool with[static _COMPONENT_MAX]) {
        static const struct {
                Component c;
                const char *file;
                size_t offset;
        } asked[] = {
                { COMPONENT_KUBERNETES, "services/kubernetes.yaml", offsetof(Inventory, kubernetes.version) },
                { COMPONENT_KAFKA, "services/kafka.yaml", offsetof(Inventory, kafka.version) },
        };
        errno = 0;
        for (size_t i = 0; i < ELEMENTSOF(asked); i++) {
                const StrVal *want = (const StrVal *) ((const char *) inv + asked[i].offset);
                const char *locked = lock_version(l, asked[i].c);
                if (!with[asked[i].c] || !want->v)
                        continue;
                if (!locked)
                        return strprintf("the components lock pins no %s version, and %s asks for %s",
                                         components[asked[i].c].name, asked[i].file, want->v);
                if (!same_version(want->v, locked))
                        return strprintf("%s asks for %s %s, but the components lock pins %s", asked[i].file,
                                         components[asked[i].c].name, want->v, locked);
        }
        return NULL;
}
