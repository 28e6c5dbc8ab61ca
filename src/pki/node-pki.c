/* SPDX-License-Identifier: Apache-2.0 */
#include <errno.h>
#include <inttypes.h>
#include <openssl/evp.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "base64.h"
#include "checks.h"
#include "fileio.h"
#include "fs-util.h"
#include "inventory.h"
#include "kube-objects.h"
#include "node-pki.h"
#include "paths.h"
#include "secret-formats.h"
#include "string-util.h"
#include "x509.h"
#include "yaml-writer.h"
#include "banned.h"

enum { CA_KUBERNETES, CA_ETCD, CA_FRONT_PROXY };

/* pki node reissues a leaf with a third of its life left (pki_cert_renewal_due()); pki check warns with less
 * than WARN_BEFORE left, and fails with less than FAIL_BEFORE: a week is what an operator has to act on a
 * warning nobody acted on. */
#define WARN_BEFORE (30 * 24 * 3600)
#define FAIL_BEFORE (7 * 24 * 3600)

/* mosquitto opens its password file and TLS key after dropping root to its own user. */
#define MOSQUITTO_GROUP "mosquitto"

static const struct {
        mode_t mode;
        bool secret;
        const char *group;
} sources[_SRC_MAX] = {
        [SRC_CA_CRT] = { 0644, false },
        [SRC_CA_KEY] = { 0600, true },
        [SRC_FRONT_PROXY_CA_CRT] = { 0644, false },
        [SRC_FRONT_PROXY_CA_KEY] = { 0600, true },
        [SRC_FRONT_PROXY_CLIENT_CRT] = { 0644, false },
        [SRC_FRONT_PROXY_CLIENT_KEY] = { 0600, true },
        [SRC_SA_KEY] = { 0600, true },
        [SRC_SA_PUB] = { 0644, false },
        [SRC_ETCD_CA_CRT] = { 0644, false },
        [SRC_ETCD_CA_KEY] = { 0600, true },
        [SRC_CEPH_MON_KEYRING] = { 0600, true },
        [SRC_CEPH_ADMIN_KEYRING] = { 0600, true },
        [SRC_CEPH_BOOTSTRAP_OSD_KEYRING] = { 0600, true },
        [SRC_CEPH_BOOTSTRAP_MDS_KEYRING] = { 0600, true },
        [SRC_MQTT_PASSWD] = { 0640, true, MOSQUITTO_GROUP },
        [SRC_BOOTSTRAP_KUBECONFIG] = { 0600, true },
};

void pki_plan_done(PkiPlan *p) {
        for (size_t i = 0; i < p->n; i++) {
                PkiEntry *e = p->entries + i;
                free(e->common_name);
                for (char **d = e->dns_names; d && *d; d++)
                        free(*d);
                free(e->dns_names);
                free(e->ips);
                free(e->server);
        }
        free(p->entries);
        *p = (PkiPlan) {};
}

static PkiEntry *add(PkiPlan *p, PkiKind kind, const char *path) {
        if (!GREEDY_REALLOC(p->entries, p->allocated, p->n + 1))
                return NULL;
        PkiEntry *e = p->entries + p->n++;
        *e = (PkiEntry) { .kind = kind, .path = path };
        return e;
}

static int add_copy(PkiPlan *p, PkiSource src, const char *path) {
        PkiEntry *e = add(p, PKI_COPY, path);
        if (!e)
                return -ENOMEM;
        e->source = src;
        return 0;
}

static int set_server(PkiEntry *e, const char *url) {
        if (!url)
                return -EINVAL; /* no master: validate refuses such an inventory */
        e->server = strdup(url);
        return e->server ? 0 : -ENOMEM;
}

/* names: NULL-terminated; duplicates dropped. */
static int set_names(PkiEntry *e, const char *const *names, const IpAddr *ips, size_t n_ips) {
        size_t n = 0;
        while (names && names[n])
                n++;
        e->dns_names = calloc(n + 1, sizeof(char *));
        e->ips = calloc(n_ips + 1, sizeof(IpAddr));
        if (!e->dns_names || !e->ips)
                return -ENOMEM;
        size_t k = 0;
        for (size_t i = 0; i < n; i++) {
                bool dup = false;
                for (size_t j = 0; j < k && !dup; j++)
                        dup = streq(e->dns_names[j], names[i]);
                if (!dup && !(e->dns_names[k++] = strdup(names[i])))
                        return -ENOMEM;
        }
        for (size_t i = 0; i < n_ips; i++) {
                bool dup = false;
                for (size_t j = 0; j < e->n_ips && !dup; j++)
                        dup = ip_addr_cmp(e->ips + j, ips + i) == 0;
                if (!dup)
                        e->ips[e->n_ips++] = ips[i];
        }
        return 0;
}

static int add_leaf(PkiPlan *p, PkiKind kind, const char *path, int ca, const char *cn, const char *org, unsigned usage,
                    const char *const *names, const IpAddr *ips, size_t n_ips, const char *server) {
        PkiEntry *e = add(p, kind, path);
        if (!e)
                return -ENOMEM;
        e->ca = ca;
        e->organization = org;
        e->usage = usage;
        e->common_name = strdup(cn);
        e->server = server ? strdup(server) : NULL;
        if (!e->common_name || (server && !e->server))
                return -ENOMEM;
        return set_names(e, names, ips, n_ips);
}

int pki_plan_node(const Inventory *inv, const Node *n, PkiPlan *ret) {
        PkiPlan p = {};
        const char *cluster_domain = inv->cluster.networking.cluster_domain.v;
        const Node *first = NULL;
        int r = 0;

        for (size_t i = 0; i < inv->n_nodes && !first; i++)
                if (inv->nodes[i].roles[ROLE_MASTER])
                        first = inv->nodes + i;

        _cleanup_free_ char *svc = strprintf("kubernetes.default.svc.%s", strempty(cluster_domain));
        _cleanup_free_ char *node_cn = strprintf("system:node:%s", n->name);
        /* A master talks to its own API server; other nodes to every master's, through the relay on 127.0.0.1
         * (node_api_url()). */
        _cleanup_free_ char *url = first ? node_api_url(inv, n) : NULL;
        if (!svc || !node_cn || (first && !url))
                return -ENOMEM;
        /* The node's names: its FQDN and its hostname's first label (node_host_names()), and its name. */
        NodeHostNames h;
        node_host_names(inv, n, &h);
        const char *node_names[] = { h.fqdn, h.short_name, n->name, NULL };
        IpAddr loop4, loop6, api_ip;
        ip_addr_parse("127.0.0.1", &loop4);
        ip_addr_parse("::1", &loop6);

        bool kubelet = n->roles[ROLE_MASTER] || n->roles[ROLE_WORKER];
        if (kubelet && inv->services[SERVICE_KUBERNETES]) {
                r = r ?: add_copy(&p, SRC_CA_CRT, PKI_DIR "/ca.crt");
                r = r ?: add_leaf(&p, PKI_LEAF, KUBELET_PKI_DIR "/kubelet.crt", CA_KUBERNETES, node_cn, "system:nodes",
                                  CERT_USAGE_SERVER, node_names, &n->ip, 1, NULL);
                /* A master's kubelet gets its client certificate with the control plane's (kubeadm init
                 * does the same); every other kubelet asks the cluster for one with the bootstrap token
                 * (TLS bootstrapping), which the controller manager approves and signs, and renews. */
                if (n->roles[ROLE_MASTER])
                        r = r ?: add_leaf(&p, PKI_KUBECONFIG, KUBERNETES_DIR "/kubelet.conf", CA_KUBERNETES, node_cn,
                                          "system:nodes", CERT_USAGE_CLIENT, NULL, NULL, 0, url);
                else {
                        r = r ?: add_copy(&p, SRC_BOOTSTRAP_KUBECONFIG, KUBERNETES_DIR "/bootstrap-kubelet.conf");
                        r = r ?: set_server(p.entries + p.n - 1, url);
                }
                /* The user Kubernetes' default ClusterRoleBinding system:node-proxier binds. */
                r = r ?: add_leaf(&p, PKI_KUBECONFIG, KUBERNETES_DIR "/kube-proxy.conf", CA_KUBERNETES, "system:kube-proxy",
                                  NULL, CERT_USAGE_CLIENT, NULL, NULL, 0, url);
        }

        if (n->roles[ROLE_MASTER] && inv->services[SERVICE_KUBERNETES]) {
                const char *api_names[] = { "kubernetes", "kubernetes.default", "kubernetes.default.svc", svc,
                                            n->name, h.fqdn, h.short_name, NULL };
                IpAddr api_ips[3] = { n->ip, loop4 };
                size_t n_api_ips = 2;
                if (inventory_service_ip(inv, SERVICE_ADDRESS_API, &api_ip) >= 0)
                        api_ips[n_api_ips++] = api_ip;
                /* Not the FQDN made with cluster.domain: etcd's certificates never had it, and a name more
                 * would make every existing one be issued again. A dotted hostname is there as written. */
                const char *etcd_names[] = { n->name, n->hostname, h.short_name, "localhost", NULL };
                IpAddr etcd_ips[3] = { n->ip, loop4, loop6 };

                r = r ?: add_copy(&p, SRC_CA_KEY, PKI_DIR "/ca.key");
                r = r ?: add_copy(&p, SRC_FRONT_PROXY_CA_CRT, PKI_DIR "/front-proxy-ca.crt");
                r = r ?: add_copy(&p, SRC_FRONT_PROXY_CA_KEY, PKI_DIR "/front-proxy-ca.key");
                r = r ?: add_copy(&p, SRC_FRONT_PROXY_CLIENT_CRT, PKI_DIR "/front-proxy-client.crt");
                r = r ?: add_copy(&p, SRC_FRONT_PROXY_CLIENT_KEY, PKI_DIR "/front-proxy-client.key");
                r = r ?: add_copy(&p, SRC_SA_KEY, PKI_DIR "/sa.key");
                r = r ?: add_copy(&p, SRC_SA_PUB, PKI_DIR "/sa.pub");
                r = r ?: add_copy(&p, SRC_ETCD_CA_CRT, ETCD_PKI_DIR "/ca.crt");
                r = r ?: add_copy(&p, SRC_ETCD_CA_KEY, ETCD_PKI_DIR "/ca.key");
                r = r ?: add_leaf(&p, PKI_LEAF, PKI_DIR "/apiserver.crt", CA_KUBERNETES, "kube-apiserver", NULL,
                                  CERT_USAGE_SERVER, api_names, api_ips, n_api_ips, NULL);
                r = r ?: add_leaf(&p, PKI_LEAF, PKI_DIR "/apiserver-kubelet-client.crt", CA_KUBERNETES,
                                  "kube-apiserver-kubelet-client", "system:masters", CERT_USAGE_CLIENT, NULL, NULL, 0, NULL);
                r = r ?: add_leaf(&p, PKI_LEAF, PKI_DIR "/apiserver-etcd-client.crt", CA_ETCD, "kube-apiserver-etcd-client",
                                  NULL, CERT_USAGE_CLIENT, NULL, NULL, 0, NULL);
                r = r ?: add_leaf(&p, PKI_LEAF, ETCD_PKI_DIR "/server.crt", CA_ETCD, n->name, NULL,
                                  CERT_USAGE_SERVER | CERT_USAGE_CLIENT, etcd_names, etcd_ips, 3, NULL);
                r = r ?: add_leaf(&p, PKI_LEAF, ETCD_PKI_DIR "/peer.crt", CA_ETCD, n->name, NULL,
                                  CERT_USAGE_SERVER | CERT_USAGE_CLIENT, etcd_names, etcd_ips, 3, NULL);
                r = r ?: add_leaf(&p, PKI_LEAF, ETCD_HEALTHCHECK_CERT, CA_ETCD,
                                  "kube-etcd-healthcheck-client", NULL, CERT_USAGE_CLIENT, NULL, NULL, 0, NULL);
                r = r ?: add_leaf(&p, PKI_KUBECONFIG, KUBERNETES_DIR "/admin.conf", CA_KUBERNETES, "kubernetes-admin",
                                  "system:masters", CERT_USAGE_CLIENT, NULL, NULL, 0, url);
                r = r ?: add_leaf(&p, PKI_KUBECONFIG, KUBERNETES_DIR "/controller-manager.conf", CA_KUBERNETES,
                                  "system:kube-controller-manager", NULL, CERT_USAGE_CLIENT, NULL, NULL, 0, url);
                r = r ?: add_leaf(&p, PKI_KUBECONFIG, KUBERNETES_DIR "/scheduler.conf", CA_KUBERNETES,
                                  "system:kube-scheduler", NULL, CERT_USAGE_CLIENT, NULL, NULL, 0, url);
        }

        if (n->roles[ROLE_MQTT_BROKER] && inv->services[SERVICE_MQTT]) {
                const char *names[] = { h.fqdn, h.short_name, n->name, "localhost", NULL };
                IpAddr ips[2] = { n->ip, loop4 };
                r = r ?: add_copy(&p, SRC_CA_CRT, MOSQUITTO_CONFIG_DIR "/certs/ca.crt");
                r = r ?: add_leaf(&p, PKI_LEAF, MOSQUITTO_CONFIG_DIR "/certs/server.crt", CA_KUBERNETES, n->hostname, NULL,
                                  CERT_USAGE_SERVER, names, ips, 2, NULL);
                if (r >= 0)
                        p.entries[p.n - 1].key_group = MOSQUITTO_GROUP;
                r = r ?: add_copy(&p, SRC_MQTT_PASSWD, MOSQUITTO_CONFIG_DIR "/passwd");
        }

        /* CoreDNS reads Services and EndpointSlices from the API server as system:coredns (kube_objects()
         * binds kubeadm's ClusterRole to that user). */
        if (node_serves_cluster_dns(inv, n))
                r = r ?: add_leaf(&p, PKI_KUBECONFIG, COREDNS_KUBECONFIG, CA_KUBERNETES, COREDNS_KUBE_USER, NULL,
                                  CERT_USAGE_CLIENT, NULL, NULL, 0, url);

        if (inv->services[SERVICE_CEPH]) {
                if (n->roles[ROLE_CEPH_MON]) {
                        r = r ?: add_copy(&p, SRC_CEPH_MON_KEYRING, CEPH_CONFIG_DIR "/ceph.mon.keyring");
                        r = r ?: add_copy(&p, SRC_CEPH_ADMIN_KEYRING, CEPH_CONFIG_DIR "/ceph.client.admin.keyring");
                        r = r ?: add_copy(&p, SRC_CEPH_BOOTSTRAP_MDS_KEYRING, CEPH_CONFIG_DIR "/ceph.bootstrap-mds.keyring");
                }
                /* Role-scoped: of the other nodes, only OSD nodes get the key that can create OSDs (monitors
                 * hold every key in their auth database, and so in ceph.mon.keyring). */
                if (n->roles[ROLE_CEPH_OSD])
                        r = r ?: add_copy(&p, SRC_CEPH_BOOTSTRAP_OSD_KEYRING, CEPH_CONFIG_DIR "/ceph.bootstrap-osd.keyring");
        }

        if (r < 0) {
                pki_plan_done(&p);
                return r;
        }
        uint64_t validity = pki_certificate_validity(inv);
        for (size_t i = 0; i < p.n; i++)
                p.entries[i].validity = validity;
        *ret = p;
        return 0;
}

uint64_t pki_certificate_validity(const Inventory *inv) {
        uint64_t seconds;
        if (parse_duration(strempty(inv->kubernetes.pki.certificate_validity.v), &seconds) < 0 || seconds == 0)
                return (uint64_t) PKI_LEAF_VALIDITY_DAYS * 24 * 3600;
        return seconds;
}

X509 *pki_entry_ca(const Bundle *b, const PkiEntry *e, EVP_PKEY **ret_key) {
        switch (e->ca) {
        case CA_ETCD:
                *ret_key = b->etcd_ca_key;
                return b->etcd_ca;
        case CA_FRONT_PROXY:
                *ret_key = b->front_proxy_ca_key;
                return b->front_proxy_ca;
        default:
                *ret_key = b->ca_key;
                return b->ca;
        }
}

static int bootstrap_kubeconfig_text(const Inventory *inv, const PkiEntry *e, const Bundle *b, char **ret);

int pki_copy_text(const Inventory *inv, const Bundle *b, const PkiEntry *e, char **ret) {
        size_t size;
        switch (e->source) {
        case SRC_CA_CRT:
                return pki_cert_to_pem(b->ca, ret, &size);
        case SRC_CA_KEY:
                return pki_key_to_pem(b->ca_key, ret, &size);
        case SRC_FRONT_PROXY_CA_CRT:
                return pki_cert_to_pem(b->front_proxy_ca, ret, &size);
        case SRC_FRONT_PROXY_CA_KEY:
                return pki_key_to_pem(b->front_proxy_ca_key, ret, &size);
        case SRC_FRONT_PROXY_CLIENT_CRT:
                return pki_cert_to_pem(b->front_proxy_client, ret, &size);
        case SRC_FRONT_PROXY_CLIENT_KEY:
                return pki_key_to_pem(b->front_proxy_client_key, ret, &size);
        case SRC_SA_KEY:
                return pki_key_to_pem(b->sa_key, ret, &size);
        case SRC_SA_PUB:
                return pki_public_key_to_pem(b->sa_key, ret, &size);
        case SRC_ETCD_CA_CRT:
                return pki_cert_to_pem(b->etcd_ca, ret, &size);
        case SRC_ETCD_CA_KEY:
                return pki_key_to_pem(b->etcd_ca_key, ret, &size);
        case SRC_CEPH_MON_KEYRING:
                return bundle_ceph_keyring(b, CEPH_MON, ret);
        case SRC_CEPH_ADMIN_KEYRING:
                return bundle_ceph_keyring(b, CEPH_CLIENT_ADMIN, ret);
        case SRC_CEPH_BOOTSTRAP_OSD_KEYRING:
                return bundle_ceph_keyring(b, CEPH_BOOTSTRAP_OSD, ret);
        case SRC_CEPH_BOOTSTRAP_MDS_KEYRING:
                return bundle_ceph_keyring(b, CEPH_BOOTSTRAP_MDS, ret);
        case SRC_MQTT_PASSWD:
                *ret = strdup(strempty(b->mqtt_passwd));
                return *ret ? 0 : -ENOMEM;
        case SRC_BOOTSTRAP_KUBECONFIG:
                return bootstrap_kubeconfig_text(inv, e, b, ret);
        default:
                return -EINVAL;
        }
}

static int add_secret_text(RenderSet *out, const char *path, mode_t mode, const char *group, char *text) {
        StrBuf sb = {};
        int r = strbuf_append(&sb, text);
        r = r ?: render_set_add_group(out, path, mode, group, &sb);
        if (sb.s)
                OPENSSL_cleanse(sb.s, sb.len);
        strbuf_done(&sb);
        return r;
}

static char *key_path(const char *crt) {
        /* "x.crt" -> "x.key" */
        size_t n = strlen(crt);
        return n > 4 && endswith(crt, ".crt") ? strprintf("%.*s.key", (int) (n - 4), crt) : NULL;
}

/* Does the certificate say what the entry wants, from the right CA, for long enough? */
static bool leaf_good(const PkiEntry *e, X509 *cert, EVP_PKEY *key, X509 *ca, time_t now) {
        if (!pki_key_matches(cert, key) || pki_cert_verify(cert, ca, now) < 0 || pki_cert_renewal_due(cert, now))
                return false;
        if (!pki_cert_has_cn(cert, e->common_name))
                return false;
        for (char **d = e->dns_names; d && *d; d++)
                if (!pki_cert_has_dns(cert, *d))
                        return false;
        for (size_t i = 0; i < e->n_ips; i++)
                if (!pki_cert_has_ip(cert, e->ips + i))
                        return false;
        return true;
}

int pki_entry_issue(const PkiEntry *e, const Bundle *b, EVP_PKEY *subject_key, time_t now, X509 **ret) {
        EVP_PKEY *ca_key;
        X509 *ca = pki_entry_ca(b, e, &ca_key);
        const char *orgs[] = { e->organization, NULL };
        CertSpec spec = {
                .common_name = e->common_name,
                .organizations = e->organization ? orgs : NULL,
                .dns_names = (const char *const *) e->dns_names,
                .ips = e->ips,
                .n_ips = e->n_ips,
                .usage = e->usage,
                /* Backdated like the CAs (x509.c), so a node whose clock runs a little ahead of the API
                 * server's does not present a certificate that is not yet valid there; notAfter is the
                 * validity from now, as kubeadm's. */
                .not_before = now - 5 * 60,
                .validity_seconds = (e->validity ?: (uint64_t) PKI_LEAF_VALIDITY_DAYS * 24 * 3600) + 5 * 60,
        };
        return pki_cert_issue(subject_key, &spec, ca, ca_key, ret);
}

static int issue(const Inventory *inv, const PkiEntry *e, const Bundle *b, time_t now, EVP_PKEY **ret_key,
                 X509 **ret_cert) {
        _cleanup_(EVP_PKEY_freep) EVP_PKEY *key = NULL;
        int r = pki_key_generate(pki_key_algorithm(inv), &key);
        r = r ?: pki_entry_issue(e, b, key, now, ret_cert);
        if (r < 0)
                return r;
        *ret_key = TAKE_PTR(key);
        return 0;
}

static int read_under(const char *root, const char *path, char **ret, size_t *ret_size) {
        _cleanup_free_ char *full = path_join_root(root, path);
        return full ? read_full_file(full, 1024 * 1024, ret, ret_size) : -ENOMEM;
}

static char *base64(const char *data, size_t size) {
        char *out = NULL;
        return base64_encode(data, size, &out) < 0 ? NULL : out;
}

/* The value of "key: value" in a kubeconfig we wrote, base64-decoded. */
static char *kubeconfig_field(const char *text, const char *field, size_t *ret_size) {
        const char *p = strstr(text, field);
        char *out;
        if (!p)
                return NULL;
        p += strlen(field);
        p += strspn(p, " ");
        return base64_decode_alloc(p, strcspn(p, "\n"), &out, ret_size) < 0 ? NULL : out;
}

/* A kubeconfig for e->server, trusting the Kubernetes CA, with one user named user whose credentials are
 * the (key, value) pairs of creds (NULL-terminated); kubeadm's layout: one cluster, context and user. */
static int kubeconfig_write(const Inventory *inv, const PkiEntry *e, X509 *ca, const char *user,
                            const char *const *creds, char **ret) {
        _cleanup_free_ char *ca_pem = NULL;
        size_t ca_size;
        if (!e->server)
                return -EINVAL;
        int r = pki_cert_to_pem(ca, &ca_pem, &ca_size);
        if (r < 0)
                return r;
        const char *cluster = inv->cluster.name.v;
        _cleanup_free_ char *ca64 = base64(ca_pem, ca_size);
        _cleanup_free_ char *context = strprintf("%s@%s", user, cluster);
        if (!ca64 || !context)
                return -ENOMEM;

        StrBuf sb = {};
        YamlWriter w;
        r = yaml_writer_init(&w, &sb);
        if (r >= 0) {
                yaml_writer_map_start(&w);
                yaml_writer_key_str(&w, "apiVersion", "v1");
                yaml_writer_key_str(&w, "kind", "Config");
                yaml_writer_str(&w, "clusters");
                yaml_writer_seq_start(&w, false);
                yaml_writer_map_start(&w);
                yaml_writer_str(&w, "cluster");
                yaml_writer_map_start(&w);
                yaml_writer_key_str(&w, "certificate-authority-data", ca64);
                yaml_writer_key_str(&w, "server", e->server);
                yaml_writer_map_end(&w);
                yaml_writer_key_str(&w, "name", cluster);
                yaml_writer_map_end(&w);
                yaml_writer_seq_end(&w);
                yaml_writer_str(&w, "contexts");
                yaml_writer_seq_start(&w, false);
                yaml_writer_map_start(&w);
                yaml_writer_str(&w, "context");
                yaml_writer_map_start(&w);
                yaml_writer_key_str(&w, "cluster", cluster);
                yaml_writer_key_str(&w, "user", user);
                yaml_writer_map_end(&w);
                yaml_writer_key_str(&w, "name", context);
                yaml_writer_map_end(&w);
                yaml_writer_seq_end(&w);
                yaml_writer_key_str(&w, "current-context", context);
                yaml_writer_str(&w, "users");
                yaml_writer_seq_start(&w, false);
                yaml_writer_map_start(&w);
                yaml_writer_key_str(&w, "name", user);
                yaml_writer_str(&w, "user");
                yaml_writer_map_start(&w);
                for (const char *const *c = creds; c[0]; c += 2)
                        yaml_writer_key_str(&w, c[0], c[1]);
                yaml_writer_map_end(&w);
                yaml_writer_map_end(&w);
                yaml_writer_seq_end(&w);
                yaml_writer_map_end(&w);
                r = yaml_writer_finish(&w);
        }
        if (r < 0) {
                if (sb.s)
                        OPENSSL_cleanse(sb.s, sb.len);
                strbuf_done(&sb);
                return r;
        }
        *ret = strbuf_steal(&sb);
        return 0;
}

/* A kubeconfig whose user is the entry's client certificate and key. */
static int kubeconfig_text(const Inventory *inv, const PkiEntry *e, const Bundle *b, X509 *cert, EVP_PKEY *key, char **ret) {
        _cleanup_free_ char *cert_pem = NULL, *cert64 = NULL;
        char *key_pem = NULL, *key64 = NULL;
        size_t cert_size, key_size;
        int r = pki_cert_to_pem(cert, &cert_pem, &cert_size);
        r = r ?: pki_key_to_pem(key, &key_pem, &key_size);
        if (r >= 0) {
                cert64 = base64(cert_pem, cert_size);
                key64 = base64(key_pem, key_size);
                r = cert64 && key64 ? 0 : -ENOMEM;
        }
        const char *creds[] = { "client-certificate-data", cert64, "client-key-data", key64, NULL };
        r = r ?: kubeconfig_write(inv, e, b->ca, e->common_name, creds, ret);
        secret_free(key_pem);
        secret_free(key64);
        return r;
}

/* The kubelet's bootstrap kubeconfig: the bootstrap token as its user, under kubeadm's user name. */
static int bootstrap_kubeconfig_text(const Inventory *inv, const PkiEntry *e, const Bundle *b, char **ret) {
        if (!b->bootstrap_token)
                return -ENOKEY;
        const char *creds[] = { "token", b->bootstrap_token, NULL };
        return kubeconfig_write(inv, e, b->ca, "tls-bootstrap-token-user", creds, ret);
}

/* A key readable by more than it should be may have leaked: it is not kept. */
static bool mode_is(const char *root, const char *path, mode_t want) {
        _cleanup_free_ char *full = path_join_root(root, path);
        struct stat st;
        return full && stat(full, &st) >= 0 && (st.st_mode & 07777) == want;
}

/* A kubeconfig on disk that still says the right thing, with a good certificate: keep it. */
static bool kubeconfig_good(const PkiEntry *e, const Bundle *b, const char *root, time_t now) {
        char *text = NULL, *cert_pem = NULL, *key_pem = NULL;
        size_t size, cert_size, key_size;
        X509 *cert = NULL;
        EVP_PKEY *key = NULL;
        bool good = false;

        if (!mode_is(root, e->path, 0600) || read_under(root, e->path, &text, &size) < 0)
                return false;
        _cleanup_free_ char *server = strprintf("server: %s\n", e->server);
        if (server && strstr(text, server) && (cert_pem = kubeconfig_field(text, "client-certificate-data:", &cert_size)) &&
            (key_pem = kubeconfig_field(text, "client-key-data:", &key_size)) &&
            pki_cert_from_pem(cert_pem, cert_size, &cert) >= 0 && pki_key_from_pem(key_pem, key_size, &key) >= 0)
                good = leaf_good(e, cert, key, b->ca, now);
        X509_free(cert);
        EVP_PKEY_free(key);
        free(cert_pem);
        secret_free(key_pem);
        secret_free(text);
        return good;
}

static bool disk_leaf_good(const PkiEntry *e, const Bundle *b, const char *root, time_t now) {
        _cleanup_free_ char *kp = key_path(e->path);
        if (!kp || !mode_is(root, kp, e->key_group ? 0640 : 0600))
                return false;
        _cleanup_free_ char *cert_pem = NULL;
        char *key_pem = NULL;
        size_t cs, ks;
        X509 *cert = NULL;
        EVP_PKEY *key = NULL, *ca_key;
        bool good = false;
        if (kp && read_under(root, e->path, &cert_pem, &cs) >= 0 && read_under(root, kp, &key_pem, &ks) >= 0 &&
            pki_cert_from_pem(cert_pem, cs, &cert) >= 0 && pki_key_from_pem(key_pem, ks, &key) >= 0)
                good = leaf_good(e, cert, key, pki_entry_ca(b, e, &ca_key), now);
        X509_free(cert);
        EVP_PKEY_free(key);
        secret_free(key_pem);
        return good;
}

bool pki_entry_current(const PkiEntry *e, const Bundle *b, const char *root, time_t now) {
        if (e->kind == PKI_COPY)
                return true;
        return e->kind == PKI_LEAF ? disk_leaf_good(e, b, root, now) : kubeconfig_good(e, b, root, now);
}

int pki_node_files(const Inventory *inv, const PkiPlan *p, const Bundle *b, const char *root, bool force, time_t now,
                   RenderSet *out) {
        int r = 0;
        for (size_t i = 0; i < p->n && r >= 0; i++) {
                const PkiEntry *e = p->entries + i;
                char *text = NULL;

                if (e->kind == PKI_COPY) {
                        r = pki_copy_text(inv, b, e, &text);
                        r = r ?: add_secret_text(out, e->path, sources[e->source].mode, sources[e->source].group, text);
                        secret_free(text);
                        continue;
                }

                if (!force && pki_entry_current(e, b, root, now))
                        continue;

                EVP_PKEY *key = NULL;
                X509 *cert = NULL;
                r = issue(inv, e, b, now, &key, &cert);
                if (r >= 0 && e->kind == PKI_LEAF) {
                        _cleanup_free_ char *kp = key_path(e->path);
                        size_t size;
                        r = kp ? pki_cert_to_pem(cert, &text, &size) : -ENOMEM;
                        r = r ?: add_secret_text(out, e->path, 0644, NULL, text);
                        free(text);
                        text = NULL;
                        r = r ?: pki_key_to_pem(key, &text, &size);
                        r = r ?: add_secret_text(out, kp, e->key_group ? 0640 : 0600, e->key_group, text);
                } else if (r >= 0) {
                        r = kubeconfig_text(inv, e, b, cert, key, &text);
                        r = r ?: add_secret_text(out, e->path, 0600, NULL, text);
                }
                secret_free(text);
                X509_free(cert);
                EVP_PKEY_free(key);
        }
        if (r >= 0)
                render_set_sort(out);
        return r;
}

KeyAlgorithm pki_key_algorithm(const Inventory *inv) {
        KeyAlgorithm alg = key_algorithm_from_string(strempty(inv->kubernetes.pki.key_algorithm.v));
        return alg < 0 ? KEY_ECDSA_P256 : alg;
}

int pki_node_files_issued(const Inventory *inv, const PkiPlan *p, X509 *ca, EVP_PKEY *const *keys,
                          X509 *const *certs, char *const *copies, RenderSet *out) {
        const Bundle public = { .ca = ca }; /* kubeconfig_text() takes the Kubernetes CA from a bundle */
        int r = 0;
        for (size_t i = 0; i < p->n && r >= 0; i++) {
                const PkiEntry *e = p->entries + i;
                char *text = NULL;
                size_t size;

                if (e->kind == PKI_COPY) {
                        if (copies[i])
                                r = add_secret_text(out, e->path, sources[e->source].mode, sources[e->source].group,
                                                    copies[i]);
                        continue;
                }
                if (!keys[i] || !certs[i])
                        continue;
                if (!pki_key_matches(certs[i], keys[i]))
                        return -EBADMSG;
                if (e->kind == PKI_LEAF) {
                        _cleanup_free_ char *kp = key_path(e->path);
                        r = kp ? pki_cert_to_pem(certs[i], &text, &size) : -ENOMEM;
                        r = r ?: add_secret_text(out, e->path, 0644, NULL, text);
                        free(text);
                        text = NULL;
                        r = r ?: pki_key_to_pem(keys[i], &text, &size);
                        r = r ?: add_secret_text(out, kp, e->key_group ? 0640 : 0600, e->key_group, text);
                } else {
                        r = kubeconfig_text(inv, e, &public, certs[i], keys[i], &text);
                        r = r ?: add_secret_text(out, e->path, 0600, NULL, text);
                }
                secret_free(text);
        }
        if (r >= 0)
                render_set_sort(out);
        return r;
}

/* --- pki check --- */

typedef struct Checker {
        const char *root;
        time_t now;
        PkiCheckCallback cb;
        void *userdata;
        int errors;
} Checker;

static void finding(Checker *c, const char *path, bool ok, bool warning, const char *fmt, ...) _printf_(5, 6);
static void finding(Checker *c, const char *path, bool ok, bool warning, const char *fmt, ...) {
        char what[256];
        va_list ap;
        va_start(ap, fmt);
        vsnprintf(what, sizeof(what), fmt, ap);
        va_end(ap);
        if (!ok && !warning)
                c->errors++;
        if (c->cb)
                c->cb(path, ok, warning, what, c->userdata);
}

/* A certificate's time left: an error once expired or within FAIL_BEFORE, a warning within WARN_BEFORE
 * (with hint, what to do), else, with report_valid, how long it stays valid. */
static void check_expiry(Checker *c, const char *path, X509 *cert, const char *hint, bool report_valid) {
        int64_t left;
        if (pki_cert_expires_in(cert, c->now, &left) < 0)
                return;
        if (left <= 0)
                finding(c, path, false, false, "expired; %s", hint);
        else if (left < WARN_BEFORE)
                finding(c, path, left >= FAIL_BEFORE, left >= FAIL_BEFORE, "expires in %" PRId64 " days; %s",
                        left / 86400, hint);
        else if (report_valid)
                finding(c, path, true, false, "valid for %" PRId64 " more days", left / 86400);
}

static bool check_mode(Checker *c, const char *path, mode_t want) {
        _cleanup_free_ char *full = path_join_root(c->root, path);
        struct stat st;
        if (!full || stat(full, &st) < 0) {
                finding(c, path, false, false, "missing");
                return false;
        }
        if ((st.st_mode & 07777) != want) {
                /* Access beyond what was wanted, for a secret, is an error; anything else off a warning. */
                bool bad = (want & 004) == 0 && (st.st_mode & ~want & 077) != 0;
                finding(c, path, false, !bad, "mode %04o, expected %04o", (unsigned) (st.st_mode & 07777), (unsigned) want);
                return !bad;
        }
        return true;
}

static X509 *load_cert(Checker *c, const char *path) {
        _cleanup_free_ char *pem = NULL;
        size_t size;
        X509 *cert = NULL;
        if (read_under(c->root, path, &pem, &size) < 0 || pki_cert_from_pem(pem, size, &cert) < 0)
                return NULL;
        return cert;
}

static void check_cert(Checker *c, const PkiEntry *e, const char *path, X509 *cert, EVP_PKEY *key, X509 *ca) {
        if (key && !pki_key_matches(cert, key))
                finding(c, path, false, false, "the key does not match the certificate");
        if (!ca)
                finding(c, path, false, false, "no CA certificate on the node to verify it with");
        else if (pki_cert_verify(cert, ca, c->now) < 0)
                finding(c, path, false, false, "does not verify against the cluster's CA (or has expired)");
        for (char **d = e->dns_names; d && *d; d++)
                if (!pki_cert_has_dns(cert, *d))
                        finding(c, path, false, false, "SAN %s missing", *d);
        for (size_t i = 0; i < e->n_ips; i++)
                if (!pki_cert_has_ip(cert, e->ips + i)) {
                        char ip[IP_ADDR_STRLEN];
                        ip_addr_format(e->ips + i, ip);
                        finding(c, path, false, false, "SAN IP %s missing", ip);
                }
        check_expiry(c, path, cert, "run 'clusterboot pki renew'", true);
}

int pki_check(const PkiPlan *p, const char *root, time_t now, PkiCheckCallback cb, void *userdata) {
        Checker c = { .root = root, .now = now, .cb = cb, .userdata = userdata };
        const char *ca_paths[3] = { NULL, ETCD_PKI_DIR "/ca.crt", PKI_DIR "/front-proxy-ca.crt" };

        for (size_t i = 0; i < p->n; i++)
                if (p->entries[i].kind == PKI_COPY && p->entries[i].source == SRC_CA_CRT && !ca_paths[0])
                        ca_paths[0] = p->entries[i].path;

        for (size_t i = 0; i < p->n; i++) {
                const PkiEntry *e = p->entries + i;
                if (e->kind == PKI_COPY) {
                        /* Certificates from the bundle expire too (the front-proxy client after a year). */
                        X509 *cert = check_mode(&c, e->path, sources[e->source].mode) && endswith(e->path, ".crt")
                                             ? load_cert(&c, e->path)
                                             : NULL;
                        if (cert)
                                check_expiry(&c, e->path, cert, "rotate it in the bundle", false);
                        X509_free(cert);
                        continue;
                }

                X509 *ca = ca_paths[e->ca] ? load_cert(&c, ca_paths[e->ca]) : NULL;
                X509 *cert = NULL;
                EVP_PKEY *key = NULL;
                if (e->kind == PKI_LEAF) {
                        _cleanup_free_ char *kp = key_path(e->path);
                        char *pem = NULL;
                        size_t size;
                        bool ok = check_mode(&c, e->path, 0644);
                        ok = check_mode(&c, kp, e->key_group ? 0640 : 0600) && ok;
                        cert = load_cert(&c, e->path);
                        if (kp && read_under(root, kp, &pem, &size) >= 0)
                                (void) pki_key_from_pem(pem, size, &key);
                        secret_free(pem);
                        if (!cert || !key)
                                finding(&c, e->path, false, false, "cannot read the certificate or its key");
                } else if (check_mode(&c, e->path, 0600)) {
                        char *text = NULL, *cert_pem = NULL, *key_pem = NULL;
                        size_t size, cs, ks;
                        if (read_under(root, e->path, &text, &size) >= 0 &&
                            (cert_pem = kubeconfig_field(text, "client-certificate-data:", &cs)) &&
                            (key_pem = kubeconfig_field(text, "client-key-data:", &ks))) {
                                (void) pki_cert_from_pem(cert_pem, cs, &cert);
                                (void) pki_key_from_pem(key_pem, ks, &key);
                        }
                        if (!cert || !key)
                                finding(&c, e->path, false, false, "no client certificate and key in the kubeconfig");
                        free(cert_pem);
                        secret_free(key_pem);
                        secret_free(text);
                }
                if (cert)
                        check_cert(&c, e, e->path, cert, key, ca);
                X509_free(cert);
                EVP_PKEY_free(key);
                X509_free(ca);
        }
        return c.errors;
}

int pki_admin_kubeconfig(const Inventory *inv, const Node *n, const Bundle *b, const char *user, time_t now,
                         char **ret_text, char **ret_server, time_t *ret_not_after) {
        _cleanup_free_ char *server = node_api_url(inv, n);
        if (!server)
                return -ENOMEM;
        PkiEntry e = {
                .kind = PKI_KUBECONFIG,
                .common_name = (char *) user,
                .organization = "system:masters",
                .usage = CERT_USAGE_CLIENT,
                .ca = CA_KUBERNETES,
                .server = server,
                .validity = pki_certificate_validity(inv),
        };
        _cleanup_(EVP_PKEY_freep) EVP_PKEY *key = NULL;
        _cleanup_(X509_freep) X509 *cert = NULL;
        int64_t left;
        int r = issue(inv, &e, b, now, &key, &cert);
        r = r ?: pki_cert_expires_in(cert, now, &left);
        r = r ?: kubeconfig_text(inv, &e, b, cert, key, ret_text);
        if (r < 0)
                return r;
        *ret_server = TAKE_PTR(server);
        *ret_not_after = now + (time_t) left;
        return 0;
}

int pki_plan_paths(const PkiPlan *p, char ***ret, size_t *ret_n) {
        char **paths = calloc(2 * p->n + 1, sizeof(char *));
        size_t n = 0;
        if (!paths)
                return -ENOMEM;
        bool oom = false;
        for (size_t i = 0; i < p->n; i++) {
                oom = oom || !(paths[n++] = strdup(p->entries[i].path));
                if (p->entries[i].kind == PKI_LEAF)
                        oom = oom || !(paths[n++] = key_path(p->entries[i].path));
        }
        if (oom) {
                for (size_t k = 0; k < n; k++)
                        free(paths[k]);
                free(paths);
                return -ENOMEM;
        }
        *ret = paths;
        *ret_n = n;
        return 0;
}
