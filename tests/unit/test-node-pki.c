/* SPDX-License-Identifier: Apache-2.0 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "bundle.h"
#include "inventory.h"
#include "node-pki.h"
#include "readers.h"
#include "fileio.h"
#include "string-util.h"
#include "tap.h"
#include "test-inventory-util.h"
#include "writer.h"
#include "x509.h"

static const char *examples;
static Inventory *inv;
static Bundle bundle;
static char dir[64];

static const PkiEntry *plan_entry(const PkiPlan *p, const char *path);

static bool plan_has(const PkiPlan *p, const char *path) {
        for (size_t i = 0; i < p->n; i++)
                if (strcmp(p->entries[i].path, path) == 0)
                        return true;
        return false;
}

TEST(test_only_what_roles_need) {
        PkiPlan p = {};
        /* A worker: the CA certificate, its kubelet's serving certificate and the bootstrap kubeconfig (its
         * client certificate comes by TLS bootstrapping); no CA key, no etcd. */
        ASSERT_INT_EQ(pki_plan_node(inv, inventory_find_node(inv, "kafka-01"), &p), 0);
        ASSERT_TRUE(plan_has(&p, "/etc/kubernetes/pki/ca.crt"));
        ASSERT_TRUE(plan_has(&p, "/var/lib/kubelet/pki/kubelet.crt"));
        ASSERT_TRUE(plan_has(&p, "/etc/kubernetes/bootstrap-kubelet.conf"));
        ASSERT_TRUE(!plan_has(&p, "/etc/kubernetes/kubelet.conf"));
        ASSERT_TRUE(plan_has(&p, "/etc/kubernetes/kube-proxy.conf"));
        /* Its components reach every master's API server through the relay on 127.0.0.1. */
        ASSERT_STREQ(plan_entry(&p, "/etc/kubernetes/kube-proxy.conf")->server, "https://127.0.0.1:7445");
        ASSERT_TRUE(!plan_has(&p, "/etc/kubernetes/pki/ca.key"));
        ASSERT_TRUE(!plan_has(&p, "/etc/kubernetes/pki/etcd/server.crt"));
        ASSERT_TRUE(!plan_has(&p, "/etc/ceph/ceph.bootstrap-osd.keyring"));
        pki_plan_done(&p);

        /* An OSD node gets the key that creates OSDs; a monitor-only node would not. */
        ASSERT_INT_EQ(pki_plan_node(inv, inventory_find_node(inv, "worker-02"), &p), 0);
        ASSERT_TRUE(plan_has(&p, "/etc/ceph/ceph.bootstrap-osd.keyring"));
        ASSERT_TRUE(!plan_has(&p, "/etc/ceph/ceph.client.admin.keyring"));
        pki_plan_done(&p);

        ASSERT_INT_EQ(pki_plan_node(inv, inventory_find_node(inv, "master-01"), &p), 0);
        ASSERT_TRUE(plan_has(&p, "/etc/kubernetes/pki/apiserver.crt"));
        ASSERT_TRUE(plan_has(&p, "/etc/kubernetes/pki/etcd/peer.crt"));
        ASSERT_TRUE(plan_has(&p, "/etc/kubernetes/admin.conf"));
        ASSERT_TRUE(plan_has(&p, "/etc/kubernetes/pki/sa.key"));
        /* A master's kubelet gets its client certificate with the control plane's. */
        ASSERT_TRUE(plan_has(&p, "/etc/kubernetes/kubelet.conf"));
        ASSERT_TRUE(!plan_has(&p, "/etc/kubernetes/bootstrap-kubelet.conf"));
        /* A master's components talk to its own API server, not through a relay. */
        ASSERT_STREQ(plan_entry(&p, "/etc/kubernetes/kubelet.conf")->server, "https://192.168.1.10:6443");
        ASSERT_STREQ(plan_entry(&p, "/etc/kubernetes/kube-proxy.conf")->server, "https://192.168.1.10:6443");
        pki_plan_done(&p);

        /* A dns-server node's CoreDNS reads Services from its API server as system:coredns; no other node
         * has that kubeconfig. */
        ASSERT_INT_EQ(pki_plan_node(inv, inventory_find_node(inv, "master-01"), &p), 0);
        const PkiEntry *dns = plan_entry(&p, "/etc/kubernetes/coredns.conf");
        ASSERT_NOT_NULL(dns);
        ASSERT_STREQ(dns->common_name, "system:coredns");
        ASSERT_NULL(dns->organization);
        ASSERT_STREQ(dns->server, "https://192.168.1.10:6443");
        pki_plan_done(&p);
        ASSERT_INT_EQ(pki_plan_node(inv, inventory_find_node(inv, "storage-01"), &p), 0);
        ASSERT_TRUE(!plan_has(&p, "/etc/kubernetes/coredns.conf"));
        pki_plan_done(&p);

        ASSERT_INT_EQ(pki_plan_node(inv, inventory_find_node(inv, "worker-01"), &p), 0);
        ASSERT_TRUE(plan_has(&p, "/etc/mosquitto/certs/server.crt"));
        ASSERT_TRUE(plan_has(&p, "/etc/mosquitto/passwd"));
        pki_plan_done(&p);
}

static unsigned findings_bad;
static char last_bad[256];
static void on_finding(const char *path, bool ok, bool warning, const char *what, void *userdata) {
        (void) userdata;
        if (!ok || warning) {
                findings_bad++;
                snprintf(last_bad, sizeof(last_bad), "%s: %s", path, what);
        }
}

/* A worker's kubelet joins with the bootstrap token: the kubeconfig names the relay to every master's API
 * server on 127.0.0.1 (clusterboot-api-proxy.service), trusts the cluster's CA, carries the bundle's token
 * and nothing else, and is 0600. */
TEST(test_bootstrap_kubeconfig) {
        PkiPlan p = {};
        RenderSet set = {};
        ASSERT_INT_EQ(pki_plan_node(inv, inventory_find_node(inv, "kafka-01"), &p), 0);
        ASSERT_INT_EQ(pki_node_files(inv, &p, &bundle, dir, false, time(NULL), &set), 0);
        const RenderedFile *f = render_set_find(&set, "/etc/kubernetes/bootstrap-kubelet.conf");
        ASSERT_NOT_NULL(f);
        ASSERT_INT_EQ(f->mode, 0600);
        const char *t = strstr(f->content, "    token: ");
        ASSERT_NOT_NULL(t);
        ASSERT_NOT_NULL(strstr(t, bundle.bootstrap_token));
        ASSERT_NOT_NULL(strstr(f->content, "server: https://127.0.0.1:7445\n"));
        ASSERT_NOT_NULL(strstr(f->content, "certificate-authority-data: "));
        ASSERT_NOT_NULL(strstr(f->content, "current-context: tls-bootstrap-token-user@homelab\n"));
        ASSERT_NULL(strstr(f->content, "client-key-data"));
        render_set_done(&set);
        pki_plan_done(&p);
}

TEST(test_issue_keep_check) {
        const Node *m = inventory_find_node(inv, "master-01");
        PkiPlan p = {};
        RenderSet set = {};
        time_t now = time(NULL);
        ASSERT_INT_EQ(pki_plan_node(inv, m, &p), 0);
        ASSERT_INT_EQ(pki_node_files(inv, &p, &bundle, dir, false, now, &set), 0);
        ASSERT_INT_EQ(render_set_write(&set, dir, false, NULL, NULL, NULL), 0);
        size_t first = set.n;
        render_set_done(&set);

        /* Keys are 0600, whatever they are. */
        char path[256];
        struct stat st;
        snprintf(path, sizeof(path), "%s/etc/kubernetes/pki/apiserver.key", dir);
        ASSERT_INT_EQ(stat(path, &st), 0);
        ASSERT_INT_EQ(st.st_mode & 0777, 0600);

        /* A second run issues nothing: only the copies from the bundle are in the set, unchanged. */
        ASSERT_INT_EQ(pki_node_files(inv, &p, &bundle, dir, false, now, &set), 0);
        ASSERT_TRUE(set.n < first);
        for (size_t i = 0; i < set.n; i++)
                ASSERT_TRUE(strstr(set.files[i].path, "apiserver.crt") == NULL);
        render_set_done(&set);

        findings_bad = 0;
        ASSERT_INT_EQ(pki_check(&p, dir, now, on_finding, NULL), 0);
        ASSERT_INT_EQ(findings_bad, 0);

        /* Eleven months on: everything expires within 30 days: warnings, not errors. */
        findings_bad = 0;
        ASSERT_INT_EQ(pki_check(&p, dir, now + 340 * 86400, on_finding, NULL), 0);
        ASSERT_TRUE(findings_bad > 0);
        ASSERT_TRUE(strstr(last_bad, "expires in") != NULL);
        /* With less than a week left, an error: pki check fails, naming the time left and what to do. */
        findings_bad = 0;
        ASSERT_TRUE(pki_check(&p, dir, now + 360 * 86400, on_finding, NULL) >= 1);
        ASSERT_TRUE(strstr(last_bad, "expires in ") != NULL);
        ASSERT_TRUE(strstr(last_bad, " days; ") != NULL);
        /* ... and then pki node would reissue them. */
        ASSERT_INT_EQ(pki_node_files(inv, &p, &bundle, dir, false, now + 340 * 86400, &set), 0);
        ASSERT_TRUE(render_set_find(&set, "/etc/kubernetes/pki/apiserver.crt") != NULL);
        render_set_done(&set);

        /* A readable key is an error; so is a certificate that lacks the node's address. */
        ASSERT_INT_EQ(chmod(path, 0644), 0);
        ASSERT_TRUE(pki_check(&p, dir, now, on_finding, NULL) >= 1);
        ASSERT_INT_EQ(chmod(path, 0600), 0);
        char src[256], dst[256];
        snprintf(src, sizeof(src), "%s/etc/kubernetes/pki/apiserver-kubelet-client.crt", dir);
        snprintf(dst, sizeof(dst), "%s/etc/kubernetes/pki/apiserver.crt", dir);
        ASSERT_INT_EQ(rename(src, dst), 0);
        findings_bad = 0;
        ASSERT_TRUE(pki_check(&p, dir, now, on_finding, NULL) >= 2); /* key mismatch, SANs missing */

        /* pki renew (force) reissues every leaf, and check is clean again. */
        ASSERT_INT_EQ(pki_node_files(inv, &p, &bundle, dir, true, now, &set), 0);
        ASSERT_INT_EQ(render_set_write(&set, dir, false, NULL, NULL, NULL), 0);
        render_set_done(&set);
        ASSERT_INT_EQ(pki_check(&p, dir, now, on_finding, NULL), 0);
        pki_plan_done(&p);
}

/* pki node (and so the renewal timer) reissues a leaf with less than a third of its year left: 243 days after
 * issue every one is kept, 244 days after every one is issued anew; copies never count. */
TEST(test_renew_a_third_before_expiry) {
        const Node *m = inventory_find_node(inv, "master-01");
        PkiPlan p = {};
        RenderSet set = {};
        time_t now = time(NULL);
        ASSERT_INT_EQ(pki_plan_node(inv, m, &p), 0);
        ASSERT_INT_EQ(pki_node_files(inv, &p, &bundle, dir, true, now, &set), 0);
        ASSERT_INT_EQ(render_set_write(&set, dir, false, NULL, NULL, NULL), 0);
        render_set_done(&set);

        size_t leaves = 0;
        for (size_t i = 0; i < p.n; i++)
                leaves += p.entries[i].kind != PKI_COPY;
        ASSERT_INT_EQ(pki_node_files(inv, &p, &bundle, dir, false, now + 243 * 86400, &set), 0);
        ASSERT_NULL(render_set_find(&set, "/etc/kubernetes/pki/apiserver.crt"));
        ASSERT_NULL(render_set_find(&set, "/etc/kubernetes/admin.conf"));
        size_t copies = set.n;
        render_set_done(&set);
        ASSERT_INT_EQ(pki_node_files(inv, &p, &bundle, dir, false, now + 244 * 86400, &set), 0);
        ASSERT_NOT_NULL(render_set_find(&set, "/etc/kubernetes/pki/apiserver.crt"));
        ASSERT_NOT_NULL(render_set_find(&set, "/etc/kubernetes/pki/apiserver.key"));
        ASSERT_NOT_NULL(render_set_find(&set, "/etc/kubernetes/admin.conf"));
        /* Every kubeconfig once, every other leaf with its key. */
        size_t kubeconfigs = 0;
        for (size_t i = 0; i < p.n; i++)
                kubeconfigs += p.entries[i].kind == PKI_KUBECONFIG;
        ASSERT_INT_EQ(set.n - copies, 2 * leaves - kubeconfigs);
        render_set_done(&set);
        pki_plan_done(&p);
}

/* kubernetes.pki.certificate_validity: a day's certificates (notAfter a day after issue, notBefore 5 minutes
 * back) are kept for their first two thirds, and issued anew in the last third (about 8 hours). */
TEST(test_certificate_validity) {
        char cmd[512], path[512];
        snprintf(cmd, sizeof(cmd), "cp -r '%s/homelab' '%s/short'", examples, dir);
        ASSERT_INT_EQ(system(cmd), 0);
        snprintf(path, sizeof(path), "%s/short/services/kubernetes.yaml", dir);
        _cleanup_free_ char *text = NULL, *changed = NULL;
        size_t size;
        ASSERT_INT_EQ(read_full_file(path, 1 << 20, &text, &size), 0);
        ASSERT_NOT_NULL(changed = strreplace(text, "  pki:\n", "  pki:\n    certificate_validity: 24h\n"));
        ASSERT_INT_EQ(write_file_atomic(path, changed, strlen(changed), 0644), 0);
        Inventory *shortlived = test_load_example(dir, "short");
        ASSERT_NOT_NULL(shortlived);
        ASSERT_TRUE(pki_certificate_validity(shortlived) == 24 * 3600);
        ASSERT_TRUE(pki_certificate_validity(inv) == 8760 * 3600); /* the default */

        char root[256];
        snprintf(root, sizeof(root), "%s/short-root", dir);
        PkiPlan p = {};
        RenderSet set = {};
        time_t now = time(NULL);
        ASSERT_INT_EQ(pki_plan_node(shortlived, inventory_find_node(shortlived, "master-01"), &p), 0);
        ASSERT_INT_EQ(pki_node_files(shortlived, &p, &bundle, root, true, now, &set), 0);
        ASSERT_INT_EQ(render_set_write(&set, root, false, NULL, NULL, NULL), 0);
        const RenderedFile *f = render_set_find(&set, "/etc/kubernetes/pki/apiserver.crt");
        X509 *cert = NULL;
        int days = -1, secs = -1;
        ASSERT_TRUE(f && pki_cert_from_pem(f->content, strlen(f->content), &cert) >= 0);
        ASSERT_INT_EQ(ASN1_TIME_diff(&days, &secs, X509_get0_notBefore(cert), X509_get0_notAfter(cert)), 1);
        ASSERT_INT_EQ(days, 1);
        ASSERT_INT_EQ(secs, 300);
        X509_free(cert);
        render_set_done(&set);

        ASSERT_INT_EQ(pki_node_files(shortlived, &p, &bundle, root, false, now + 15 * 3600, &set), 0);
        ASSERT_NULL(render_set_find(&set, "/etc/kubernetes/pki/apiserver.crt"));
        render_set_done(&set);
        ASSERT_INT_EQ(pki_node_files(shortlived, &p, &bundle, root, false, now + 16 * 3600, &set), 0);
        ASSERT_NOT_NULL(render_set_find(&set, "/etc/kubernetes/pki/apiserver.crt"));
        render_set_done(&set);
        pki_plan_done(&p);
        inventory_free(shortlived);
}

/* What pki node --restart restarts for new files: each reader once, etcd before the API server before its
 * clients; nothing for files only people and tools read. */
TEST(test_units_to_restart) {
        const char *units[NODE_MAX_READERS];
        static const char *const etcd_and_kubelet[] = { "/etc/kubernetes/kubelet.conf",
                                                        "/etc/kubernetes/pki/etcd/peer.key",
                                                        "/etc/kubernetes/pki/etcd/peer.crt" };
        ASSERT_INT_EQ(node_units_to_restart(etcd_and_kubelet, 3, NULL, 0, units, NODE_MAX_READERS), 3);
        ASSERT_STREQ(units[0], "etcd.service");
        ASSERT_STREQ(units[1], "kubelet.service");
        ASSERT_STREQ(units[2], "flanneld.service"); /* it authenticates with the kubelet's kubeconfig */

        static const char *const ca[] = { "/etc/kubernetes/pki/ca.crt", "/etc/kubernetes/pki/ca.key",
                                          "/etc/kubernetes/pki/apiserver.key" };
        ASSERT_INT_EQ(node_units_to_restart(ca, 3, NULL, 0, units, NODE_MAX_READERS), 3);
        ASSERT_STREQ(units[0], "kube-apiserver.service");
        ASSERT_STREQ(units[1], "kube-controller-manager.service");
        ASSERT_STREQ(units[2], "kubelet.service");

        static const char *const nobody[] = { "/etc/kubernetes/admin.conf", "/etc/kubernetes/pki/etcd/healthcheck-client.key",
                                              "/etc/ceph/ceph.mon.keyring", "/etc/kubernetes/bootstrap-kubelet.conf" };
        ASSERT_INT_EQ(node_units_to_restart(nobody, 4, NULL, 0, units, NODE_MAX_READERS), 0);
        ASSERT_NULL(node_file_readers("/etc/kubernetes/admin.conf")[0]);
        ASSERT_STREQ(node_file_readers("/etc/mosquitto/certs/server.key")[0], "mosquitto.service");

        /* All of master-01's files (pki renew): every service of its roles that reads one, in order. */
        PkiPlan p = {};
        char **paths = NULL;
        size_t n;
        ASSERT_INT_EQ(pki_plan_node(inv, inventory_find_node(inv, "master-01"), &p), 0);
        ASSERT_INT_EQ(pki_plan_paths(&p, &paths, &n), 0);
        ASSERT_TRUE(n > p.n);
        size_t k = node_units_to_restart((const char *const *) paths, n, NULL, 0, units, NODE_MAX_READERS);
        char list[512] = "";
        for (size_t i = 0; i < k; i++)
                snprintf(list + strlen(list), sizeof(list) - strlen(list), "%s%s", i ? " " : "", units[i]);
        ASSERT_STREQ(list, "etcd.service kube-apiserver.service kube-controller-manager.service kubelet.service "
                           "kube-scheduler.service flanneld.service kube-proxy.service coredns.service");
        for (size_t i = 0; i < n; i++)
                free(paths[i]);
        free(paths);
        pki_plan_done(&p);
}

static const PkiEntry *plan_entry(const PkiPlan *p, const char *path) {
        for (size_t i = 0; i < p->n; i++)
                if (strcmp(p->entries[i].path, path) == 0)
                        return p->entries + i;
        return NULL;
}

/* The entry's SANs are exactly want (NULL-terminated), each once, in any order. */
static bool sans_are(const PkiEntry *e, const char *const *want) {
        size_t n = 0, k = 0;
        while (e && e->dns_names && e->dns_names[n])
                n++;
        for (; want[k]; k++) {
                size_t found = 0;
                for (size_t i = 0; i < n; i++)
                        found += streq(e->dns_names[i], want[k]);
                if (found != 1) {
                        printf("# %s: SAN %s %zu times\n", e ? e->path : "(none)", want[k], found);
                        return false;
                }
        }
        if (n != k)
                printf("# %s: %zu SANs, expected %zu\n", e ? e->path : "(none)", n, k);
        return n == k;
}

/* A dotted hostname: certificates carry it and its first label besides the name, without the cluster's
 * domain appended; an undotted hostname gets the domain, as before. */
TEST(test_fqdn_sans) {
        static const char *const cluster_yaml =
                "cluster:\n"
                "  name: t\n"
                "  domain: lab.internal\n"
                "  networking: { node_cidr: 10.0.0.0/24, pod_cidr: 10.244.0.0/16, service_cidr: 10.96.0.0/12 }\n"
                "  services: [kubernetes, mqtt]\n"
                "nodes:\n"
                "  - { name: m1, ip: 10.0.0.10, roles: [master, mqtt-broker], hostname: cp-a.dc1.example.com }\n"
                "  - { name: w1, ip: 10.0.0.11, roles: [worker] }\n"
                "  - { name: w2, ip: 10.0.0.12, roles: [worker], hostname: w2.lab.internal }\n";
        SourceSet set = {};
        Report report;
        Inventory *fq = NULL;
        report_init(&report, NULL);
        source_set_add(&set, NULL, "cluster.yaml", strdup(cluster_yaml), strlen(cluster_yaml));
        ASSERT_INT_EQ(inventory_load_sources(NULL, &set, &report, &fq), 0);
        inventory_validate(fq, &report);
        ASSERT_INT_EQ(report.n_diags, 0);
        report_done(&report);

        PkiPlan p = {};
        ASSERT_INT_EQ(pki_plan_node(fq, inventory_find_node(fq, "m1"), &p), 0);
        static const char *const kubelet[] = { "cp-a.dc1.example.com", "cp-a", "m1", NULL };
        static const char *const api[] = { "kubernetes", "kubernetes.default", "kubernetes.default.svc",
                                           "kubernetes.default.svc.cluster.local", "m1", "cp-a.dc1.example.com",
                                           "cp-a", NULL };
        static const char *const etcd[] = { "m1", "cp-a.dc1.example.com", "cp-a", "localhost", NULL };
        static const char *const mqtt[] = { "cp-a.dc1.example.com", "cp-a", "m1", "localhost", NULL };
        ASSERT_TRUE(sans_are(plan_entry(&p, "/var/lib/kubelet/pki/kubelet.crt"), kubelet));
        ASSERT_TRUE(sans_are(plan_entry(&p, "/etc/kubernetes/pki/apiserver.crt"), api));
        ASSERT_TRUE(sans_are(plan_entry(&p, "/etc/kubernetes/pki/etcd/server.crt"), etcd));
        ASSERT_TRUE(sans_are(plan_entry(&p, "/etc/kubernetes/pki/etcd/peer.crt"), etcd));
        ASSERT_TRUE(sans_are(plan_entry(&p, "/etc/mosquitto/certs/server.crt"), mqtt));
        /* The Node stays named by the inventory's name. */
        ASSERT_STREQ(plan_entry(&p, "/var/lib/kubelet/pki/kubelet.crt")->common_name, "system:node:m1");

        /* And the certificate issued from that entry has both names. */
        _cleanup_(EVP_PKEY_freep) EVP_PKEY *key = NULL;
        _cleanup_(X509_freep) X509 *cert = NULL;
        ASSERT_INT_EQ(pki_key_generate(KEY_ECDSA_P256, &key), 0);
        ASSERT_INT_EQ(pki_entry_issue(plan_entry(&p, "/var/lib/kubelet/pki/kubelet.crt"), &bundle, key, time(NULL),
                                      &cert),
                      0);
        ASSERT_TRUE(pki_cert_has_dns(cert, "cp-a.dc1.example.com"));
        ASSERT_TRUE(pki_cert_has_dns(cert, "cp-a"));
        ASSERT_TRUE(pki_cert_has_dns(cert, "m1"));
        ASSERT_TRUE(!pki_cert_has_dns(cert, "cp-a.dc1.example.com.lab.internal"));
        pki_plan_done(&p);

        static const char *const w1[] = { "w1.lab.internal", "w1", NULL };
        ASSERT_INT_EQ(pki_plan_node(fq, inventory_find_node(fq, "w1"), &p), 0);
        ASSERT_TRUE(sans_are(plan_entry(&p, "/var/lib/kubelet/pki/kubelet.crt"), w1));
        pki_plan_done(&p);
        static const char *const w2[] = { "w2.lab.internal", "w2", NULL };
        ASSERT_INT_EQ(pki_plan_node(fq, inventory_find_node(fq, "w2"), &p), 0);
        ASSERT_TRUE(sans_are(plan_entry(&p, "/var/lib/kubelet/pki/kubelet.crt"), w2));
        pki_plan_done(&p);
        inventory_free(fq);
}

int main(int argc, char **argv) {
        examples = argc > 1 ? argv[1] : "examples";
        char path[512];
        Report report;
        report_init(&report, NULL);
        snprintf(path, sizeof(path), "%s/homelab", examples);
        if (inventory_load_and_validate(path, &report, &inv) < 0)
                return 1;
        snprintf(dir, sizeof(dir), "/tmp/test-node-pki-XXXXXX");
        if (!mkdtemp(dir))
                return 1;
        char bundle_dir[128];
        snprintf(bundle_dir, sizeof(bundle_dir), "%s/bundle", dir);
        RenderSet set = {};
        unsigned created;
        if (bundle_init(inv, bundle_dir, NULL, &bundle, &set, &created, NULL) < 0)
                return 1;
        render_set_done(&set);

        RUN(test_only_what_roles_need);
        RUN(test_bootstrap_kubeconfig);
        RUN(test_issue_keep_check);
        RUN(test_renew_a_third_before_expiry);
        RUN(test_units_to_restart);
        RUN(test_certificate_validity);
        RUN(test_fqdn_sans);

        char cmd[128];
        snprintf(cmd, sizeof(cmd), "rm -rf %s", dir);
        if (system(cmd) != 0)
                return 1;
        bundle_done(&bundle);
        inventory_free(inv);
        report_done(&report);
        return tap_done();
}
