/* SPDX-License-Identifier: Apache-2.0 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "bundle.h"
#include "inventory.h"
#include "join-protocol.h"
#include "node-pki.h"
#include "paths.h"
#include "report.h"
#include "secret-formats.h"
#include "string-util.h"
#include "tap.h"
#include "x509.h"

static Inventory *inv;
static Bundle bundle;
static RenderSet bundle_files;
static const char *SECRET = "test-join-secret-0123456789abcdef";
static const char *NONCE = "00112233445566778899aabbccddeeff";

/* A request for node with one CSR (name -> a CSR for a new key with subject cn). */
static char *make_request(const char *secret, const char *node, time_t now, const char *nonce, const char *name,
                          const char *cn, bool ca_bundle) {
        json_t *csrs = json_object();
        if (name) {
                EVP_PKEY *key = NULL;
                char *pem = NULL;
                if (pki_key_generate(KEY_ECDSA_P256, &key) < 0 || join_csr_make(key, cn, &pem) < 0)
                        abort();
                json_object_set_new(csrs, name, json_string(pem));
                free(pem);
                EVP_PKEY_free(key);
        }
        char *body = NULL;
        if (join_request_build(secret, node, NULL, now, nonce, csrs, ca_bundle, &body) < 0)
                abort();
        json_decref(csrs);
        return body;
}

/* Parses, verifies and issues; returns the errno and the answer. */
static int decide(const char *body, const char *secret, time_t now, json_t **ret, const char **ret_reason) {
        JoinRequest r = {};
        char *names = NULL;
        int k = join_request_parse(body, strlen(body), &r, ret_reason);
        k = k ?: join_request_verify(&r, secret, now, ret_reason);
        k = k ?: join_issue(inv, &bundle, &bundle_files, &r, NULL, now, ret, &names, ret_reason);
        free(names);
        join_request_done(&r);
        return k;
}

TEST(test_round_trip) {
        time_t now = time(NULL);
        char *body = make_request(SECRET, "worker-01", now, NONCE, "kubelet", "whatever", false);
        JoinRequest r = {};
        const char *reason = NULL;
        int k = join_request_parse(body, strlen(body), &r, &reason);
        free(body);
        ASSERT_INT_EQ(k, 0);
        ASSERT_STREQ(r.node, "worker-01");
        ASSERT_STREQ(r.nonce, NONCE);
        ASSERT_INT_EQ(r.timestamp, now);
        ASSERT_TRUE(!r.ca_bundle);
        ASSERT_INT_EQ(json_object_size(r.csrs), 1);
        k = join_request_verify(&r, SECRET, now + 10, &reason);
        join_request_done(&r);
        ASSERT_INT_EQ(k, 0);
}

TEST(test_tampered_wrong_secret_stale) {
        time_t now = time(NULL);
        const char *reason = NULL;
        json_t *resp = NULL;
        char *body = make_request(SECRET, "worker-01", now, NONCE, "kubelet", "x", false);
        /* Another node's name in the same request: same length, so only the MAC can tell. */
        char *p = strstr(body, "\"worker-01\"");
        ASSERT_NOT_NULL(p);
        p[9] = '2';
        int k = decide(body, SECRET, now, &resp, &reason);
        free(body);
        ASSERT_INT_EQ(k, -EBADMSG);
        ASSERT_STREQ(reason, "bad mac");
        ASSERT_NULL(resp);

        body = make_request("another-secret", "worker-01", now, NONCE, "kubelet", "x", false);
        k = decide(body, SECRET, now, &resp, &reason);
        free(body);
        ASSERT_INT_EQ(k, -EBADMSG);

        body = make_request(SECRET, "worker-01", now - JOIN_MAX_SKEW - 1, NONCE, "kubelet", "x", false);
        k = decide(body, SECRET, now, &resp, &reason);
        free(body);
        ASSERT_INT_EQ(k, -ETIME);
        ASSERT_STREQ(reason, "stale");
        body = make_request(SECRET, "worker-01", now + JOIN_MAX_SKEW + 1, NONCE, "kubelet", "x", false);
        k = decide(body, SECRET, now, &resp, &reason);
        free(body);
        ASSERT_INT_EQ(k, -ETIME);
}

TEST(test_malformed) {
        const char *reason = NULL;
        JoinRequest r = {};
        static const char *const bad[] = {
                "", "[]", "{\"node\":\"a\"}", "{\"node\":1,\"timestamp\":1,\"nonce\":\"x\",\"csrs\":{},\"mac\":\"y\"}",
                "{\"node\":\"a\",\"node\":\"b\"}",
                ("{\"node\":\"a\",\"timestamp\":1,\"nonce\":\"00112233445566778899aabbccddeeff\",\"csrs\":{},"
                 "\"mac\":\"00\",\"extra\":1}"),
        };
        for (size_t i = 0; i < ELEMENTSOF(bad); i++) {
                reason = NULL;
                ASSERT_INT_EQ(join_request_parse(bad[i], strlen(bad[i]), &r, &reason), -EINVAL);
                ASSERT_NOT_NULL(reason);
        }
}

TEST(test_replay_cache) {
        NonceCache c = {};
        time_t now = 1000000;
        ASSERT_INT_EQ(nonce_cache_add(&c, NONCE, now), 0);
        int k = nonce_cache_add(&c, NONCE, now + 5);
        int later = nonce_cache_add(&c, NONCE, now + JOIN_NONCE_TTL + 1); /* forgotten by then */
        nonce_cache_done(&c);
        ASSERT_INT_EQ(k, -EALREADY);
        ASSERT_INT_EQ(later, 0);
}

TEST(test_proof) {
        json_t *resp = NULL, *got = NULL;
        char *body = NULL;
        ASSERT_INT_EQ(join_cluster_info(&bundle, 1765000000, &resp), 0);
        ASSERT_INT_EQ(json_integer_value(json_object_get(resp, "time")), 1765000000);
        int k = join_response_seal(resp, "not-the-cluster-secret", NONCE, &body);
        json_decref(resp);
        ASSERT_INT_EQ(k, 0);
        int wrong = join_response_verify(body, strlen(body), SECRET, NONCE, &got);
        int right = join_response_verify(body, strlen(body), "not-the-cluster-secret", NONCE, &got);
        json_decref(got);
        got = NULL;
        int other_nonce = join_response_verify(body, strlen(body), "not-the-cluster-secret",
                                               "ffeeddccbbaa99887766554433221100", &got);
        free(body);
        ASSERT_INT_EQ(wrong, -EBADMSG);
        ASSERT_INT_EQ(right, 0);
        ASSERT_INT_EQ(other_nonce, -EBADMSG);
}

TEST(test_names_from_inventory_only) {
        time_t now = time(NULL);
        const char *reason = NULL;
        json_t *resp = NULL;
        /* The CSR asks to be master-01 and the API server; the certificate is worker-01's kubelet's. */
        char *body = make_request(SECRET, "worker-01", now, NONCE, "kubelet", "system:node:master-01", false);
        int k = decide(body, SECRET, now, &resp, &reason);
        free(body);
        ASSERT_INT_EQ(k, 0);
        const char *pem = json_string_value(json_object_get(json_object_get(resp, "certificates"), "kubelet"));
        ASSERT_NOT_NULL(pem);
        X509 *cert = NULL;
        ASSERT_INT_EQ(pki_cert_from_pem(pem, strlen(pem), &cert), 0);
        IpAddr own, master;
        ip_addr_parse("192.168.1.11", &own);
        ip_addr_parse("192.168.1.10", &master);
        char cn[256] = "";
        X509_NAME_get_text_by_NID(X509_get_subject_name(cert), NID_commonName, cn, sizeof(cn));
        bool ok = pki_cert_has_dns(cert, "worker-01") && pki_cert_has_ip(cert, &own) &&
                  !pki_cert_has_dns(cert, "master-01") && !pki_cert_has_ip(cert, &master) &&
                  pki_cert_verify(cert, bundle.ca, now) == 0 && streq(cn, "system:node:worker-01");
        X509_free(cert);
        /* worker-01 (mqtt-broker) has no Ceph role: no keyring; nor the CA bundle. */
        json_t *material = json_object_get(resp, "role_material");
        bool no_osd_key = !json_object_get(material, CEPH_CONFIG_DIR "/ceph.bootstrap-osd.keyring");
        bool has_passwd = json_object_get(material, MOSQUITTO_CONFIG_DIR "/passwd") != NULL;
        bool no_bundle = !json_object_get(resp, "ca_bundle");
        json_decref(resp);
        ASSERT_TRUE(ok);
        ASSERT_TRUE(no_osd_key);
        ASSERT_TRUE(has_passwd);
        ASSERT_TRUE(no_bundle);
}

TEST(test_role_scoped_material) {
        time_t now = time(NULL);
        const char *reason = NULL;
        json_t *resp = NULL;
        char *body = make_request(SECRET, "worker-02", now, NONCE, NULL, NULL, false);
        int k = decide(body, SECRET, now, &resp, &reason);
        free(body);
        ASSERT_INT_EQ(k, 0);
        json_t *material = json_object_get(resp, "role_material");
        bool osd = json_object_get(material, CEPH_CONFIG_DIR "/ceph.bootstrap-osd.keyring") != NULL;
        bool no_admin = !json_object_get(material, CEPH_CONFIG_DIR "/ceph.client.admin.keyring");
        json_decref(resp);
        ASSERT_TRUE(osd);
        ASSERT_TRUE(no_admin);
}

/* A machine not in the inventory, asking with its MAC from peer. */
static int decide_auto(const char *hwaddr, bool ca_bundle, const char *peer, json_t **ret, const char **ret_reason) {
        time_t now = time(NULL);
        char nonce[JOIN_NONCE_HEX + 1], *body = NULL, *names = NULL;
        EVP_PKEY *key = NULL;
        char *pem = NULL;
        json_t *csrs = json_object();
        if (join_nonce_generate(nonce) < 0 || pki_key_generate(KEY_ECDSA_P256, &key) < 0 ||
            join_csr_make(key, "whatever", &pem) < 0)
                abort();
        json_object_set_new(csrs, "kubelet", json_string(pem));
        if (join_request_build(SECRET, "node-aabbcc", hwaddr, now, nonce, csrs, ca_bundle, &body) < 0)
                abort();
        JoinRequest r = {};
        IpAddr ip;
        if (ip_addr_parse(peer, &ip) < 0)
                abort();
        int k = join_request_parse(body, strlen(body), &r, ret_reason);
        k = k ?: join_request_verify(&r, SECRET, now, ret_reason);
        k = k ?: join_issue(inv, &bundle, &bundle_files, &r, &ip, now, ret, &names, ret_reason);
        join_request_done(&r);
        free(names);
        free(body);
        free(pem);
        EVP_PKEY_free(key);
        json_decref(csrs);
        return k;
}

TEST(test_auto_register) {
        const char *reason = NULL;
        json_t *resp = NULL;
        /* homelab has auto_register off: an unknown machine is refused. */
        ASSERT_INT_EQ(decide_auto("52:54:00:aa:bb:cc", false, "192.168.1.77", &resp, &reason), -ENOENT);
        ASSERT_STREQ(reason, "unknown node");

        inv->cluster.auto_register.enabled.v = true;
        int k = decide_auto("52:54:00:AA:BB:CC", false, "192.168.1.77", &resp, &reason);
        const char *name = json_string_value(json_object_get(resp, "node"));
        const char *ip = json_string_value(json_object_get(json_object_get(resp, "registered"), "ip"));
        const char *pem = json_string_value(json_object_get(json_object_get(resp, "certificates"), "kubelet"));
        X509 *cert = NULL;
        IpAddr want;
        bool good = pem && pki_cert_from_pem(pem, strlen(pem), &cert) == 0 && ip_addr_parse("192.168.1.77", &want) == 0 &&
                    pki_cert_has_ip(cert, &want) && pki_cert_has_dns(cert, "node-aabbcc");
        X509_free(cert);
        bool named = name && streq(name, "node-aabbcc") && ip && streq(ip, "192.168.1.77");
        json_decref(resp);
        resp = NULL;
        int outside = decide_auto("52:54:00:aa:bb:cc", false, "10.9.9.9", &resp, &reason);
        const char *outside_reason = reason;
        int for_bundle = decide_auto("52:54:00:aa:bb:cc", true, "192.168.1.77", &resp, &reason);
        const char *bundle_reason = reason;
        /* worker-01's address: a machine not in the inventory cannot take an inventory node's. */
        int taken = decide_auto("52:54:00:aa:bb:cc", false, "192.168.1.11", &resp, &reason);
        const char *taken_reason = reason;
        inv->cluster.auto_register.enabled.v = false;

        ASSERT_INT_EQ(k, 0);
        ASSERT_TRUE(named);
        ASSERT_TRUE(good);
        ASSERT_INT_EQ(outside, -EPERM);
        ASSERT_STREQ(outside_reason, "auto_register: the address is outside the node network");
        ASSERT_INT_EQ(for_bundle, -EPERM);
        ASSERT_STREQ(bundle_reason, "not entitled to the CA bundle: not a master");
        ASSERT_INT_EQ(taken, -EEXIST);
        ASSERT_STREQ(taken_reason, "auto_register: the address is an inventory node's");
}

/* What NODE gets asking from PEER: its certificate and role material, with the bundle when ca_bundle. */
static int issue_from(const char *node, bool ca_bundle, const char *peer, const char **ret_reason) {
        time_t now = time(NULL);
        char nonce[JOIN_NONCE_HEX + 1], *body = NULL, *names = NULL, *pem = NULL;
        json_t *resp = NULL, *csrs = json_object();
        EVP_PKEY *key = NULL;
        IpAddr ip;
        if (join_nonce_generate(nonce) < 0 || ip_addr_parse(peer, &ip) < 0 || pki_key_generate(KEY_ECDSA_P256, &key) < 0 ||
            join_csr_make(key, "whatever", &pem) < 0 || json_object_set_new(csrs, "kubelet", json_string(pem)) < 0 ||
            join_request_build(SECRET, node, NULL, now, nonce, csrs, ca_bundle, &body) < 0)
                abort();
        JoinRequest r = {};
        int k = join_request_parse(body, strlen(body), &r, ret_reason);
        k = k ?: join_request_verify(&r, SECRET, now, ret_reason);
        k = k ?: join_issue(inv, &bundle, &bundle_files, &r, &ip, now, &resp, &names, ret_reason);
        join_request_done(&r);
        json_decref(resp);
        json_decref(csrs);
        EVP_PKEY_free(key);
        free(pem);
        free(names);
        free(body);
        return k;
}

/* The bundle holds every key: a master gets it only from its own address (or the serving machine's). */
TEST(test_bundle_only_from_the_masters_address) {
        const char *reason = NULL;
        ASSERT_INT_EQ(issue_from("master-01", true, "192.168.1.10", &reason), 0); /* master-01's address */
        ASSERT_INT_EQ(issue_from("master-01", true, "127.0.0.1", &reason), 0);
        ASSERT_INT_EQ(issue_from("master-01", true, "192.168.1.11", &reason), -EPERM); /* worker-01's */
        ASSERT_STREQ(reason, "not entitled to the CA bundle: not from the master's address");
}

/* The join secret is in every image: with it alone, a machine gets no other node's certificates or role
 * material (worker-02 asking as worker-01, which has the MQTT broker's passwords). */
TEST(test_certificates_only_from_the_nodes_address) {
        const char *reason = NULL;
        ASSERT_INT_EQ(issue_from("worker-01", false, "192.168.1.11", &reason), 0);
        ASSERT_INT_EQ(issue_from("worker-01", false, "127.0.0.1", &reason), 0);
        ASSERT_INT_EQ(issue_from("worker-01", false, "192.168.1.12", &reason), -EPERM);
        ASSERT_STREQ(reason, "not from the node's address");
        ASSERT_INT_EQ(issue_from("master-01", false, "192.168.1.11", &reason), -EPERM);
        ASSERT_STREQ(reason, "not from the node's address");
}

TEST(test_entitlement) {
        time_t now = time(NULL);
        const char *reason = NULL;
        json_t *resp = NULL;
        char *body = make_request(SECRET, "worker-01", now, NONCE, NULL, NULL, true);
        int k = decide(body, SECRET, now, &resp, &reason);
        free(body);
        ASSERT_INT_EQ(k, -EPERM);
        ASSERT_NULL(resp);

        body = make_request(SECRET, "worker-01", now, NONCE, "apiserver", "kube-apiserver", false);
        k = decide(body, SECRET, now, &resp, &reason);
        free(body);
        ASSERT_INT_EQ(k, -EPERM);

        body = make_request(SECRET, "nosuch-node", now, NONCE, NULL, NULL, false);
        k = decide(body, SECRET, now, &resp, &reason);
        free(body);
        ASSERT_INT_EQ(k, -ENOENT);
        ASSERT_STREQ(reason, "unknown node");

        body = make_request(SECRET, "master-01", now, NONCE, "etcd/peer", "x", true);
        k = decide(body, SECRET, now, &resp, &reason);
        free(body);
        ASSERT_INT_EQ(k, 0);
        json_t *cab = json_object_get(resp, "ca_bundle");
        bool has_ca_key = json_object_get(cab, "kubernetes/ca.key") && json_object_get(cab, "kubernetes/sa.key") &&
                          json_object_get(cab, "etcd/ca.key") && json_object_get(cab, "ceph/ceph.mon.keyring");
        const char *pem = json_string_value(json_object_get(json_object_get(resp, "certificates"), "etcd/peer"));
        X509 *cert = NULL;
        bool etcd_signed = pem && pki_cert_from_pem(pem, strlen(pem), &cert) == 0 &&
                           pki_cert_verify(cert, bundle.etcd_ca, now) == 0 && pki_cert_has_dns(cert, "master-01");
        X509_free(cert);
        json_decref(resp);
        ASSERT_TRUE(has_ca_key);
        ASSERT_TRUE(etcd_signed);
}

/* A renewal is decided by the client certificate alone: the node's kubelet client certificate from the
 * cluster's CA, while it is valid. */
static X509 *client_cert(const char *cn, const char *org, unsigned usage, time_t not_before, unsigned days) {
        const char *orgs[] = { org, NULL };
        CertSpec spec = { .common_name = cn, .organizations = org ? orgs : NULL, .usage = usage,
                          .validity_days = days, .not_before = not_before };
        EVP_PKEY *key = NULL;
        X509 *cert = NULL;
        if (pki_key_generate(KEY_ECDSA_P256, &key) < 0 || pki_cert_issue(key, &spec, bundle.ca, bundle.ca_key, &cert) < 0)
                abort();
        EVP_PKEY_free(key);
        return cert;
}

TEST(test_renew) {
        time_t now = time(NULL);
        const char *reason = NULL;
        X509 *good = client_cert("system:node:worker-01", "system:nodes", CERT_USAGE_CLIENT, now - 60, 365);
        ASSERT_INT_EQ(join_renew_authorize(bundle.ca, good, "worker-01", now, &reason), 0);
        ASSERT_INT_EQ(join_renew_authorize(bundle.ca, good, "worker-02", now, &reason), -EPERM);
        ASSERT_STREQ(reason, "the client certificate is not this node's");
        ASSERT_INT_EQ(join_renew_authorize(bundle.ca, NULL, "worker-01", now, &reason), -EACCES);
        /* Expired (a node off past its kubelet certificate's end): refused; it joins again by the secret. */
        ASSERT_INT_EQ(join_renew_authorize(bundle.ca, good, "worker-01", now + 400 * 86400, &reason), -EACCES);
        X509 *admin = client_cert("system:node:worker-01", "system:masters", CERT_USAGE_CLIENT, now - 60, 365);
        ASSERT_INT_EQ(join_renew_authorize(bundle.ca, admin, "worker-01", now, &reason), -EPERM);
        X509 *server = client_cert("system:node:worker-01", "system:nodes", CERT_USAGE_SERVER, now - 60, 365);
        ASSERT_INT_EQ(join_renew_authorize(bundle.ca, server, "worker-01", now, &reason), -EACCES);
        X509_free(good);
        X509_free(admin);
        X509_free(server);

        /* The body: node and csrs only; what belongs to a join (mac, nonce, the CA bundle) is refused. */
        JoinRequest r = {};
        char *body = NULL;
        json_t *csrs = json_object();
        ASSERT_INT_EQ(join_renew_build("worker-01", csrs, &body), 0);
        ASSERT_INT_EQ(join_renew_parse(body, strlen(body), &r, &reason), 0);
        ASSERT_STREQ(r.node, "worker-01");
        ASSERT_NULL(r.mac);
        join_request_done(&r);
        free(body);
        json_decref(csrs);
        static const char with_bundle[] = "{\"node\":\"master-01\",\"csrs\":{},\"ca_bundle\":true}";
        ASSERT_INT_EQ(join_renew_parse(with_bundle, strlen(with_bundle), &r, &reason), -EINVAL);
        ASSERT_STREQ(reason, "unknown field");
}

TEST(test_bad_csr) {
        time_t now = time(NULL);
        const char *reason = NULL;
        json_t *resp = NULL;
        json_t *csrs = json_pack("{s:s}", "kubelet", "-----BEGIN CERTIFICATE REQUEST-----\nAAAA\n-----END CERTIFICATE REQUEST-----\n");
        char *body = NULL;
        ASSERT_INT_EQ(join_request_build(SECRET, "worker-01", NULL, now, NONCE, csrs, false, &body), 0);
        json_decref(csrs);
        int k = decide(body, SECRET, now, &resp, &reason);
        free(body);
        ASSERT_INT_EQ(k, -EINVAL);
        ASSERT_STREQ(reason, "bad csr");
}

TEST(test_cert_names) {
        PkiPlan plan = {};
        const Node *m = inventory_find_node(inv, "master-01");
        ASSERT_NOT_NULL(m);
        ASSERT_INT_EQ(pki_plan_node(inv, m, &plan), 0);
        StrBuf all = {};
        for (size_t i = 0; i < plan.n; i++) {
                char *n = NULL;
                if (join_cert_name(plan.entries + i, &n) >= 0)
                        strbuf_printf(&all, "%s ", n);
                free(n);
        }
        pki_plan_done(&plan);
        char *s = strbuf_steal(&all);
        bool ok = strstr(s, "kubelet ") && strstr(s, "kubelet.conf ") && strstr(s, "apiserver ") &&
                  strstr(s, "etcd/server ") && strstr(s, "admin.conf ");
        printf("# names: %s\n", s);
        free(s);
        ASSERT_TRUE(ok);
}

int main(int argc, char **argv) {
        const char *examples = argc > 1 ? argv[1] : "examples";
        char path[512], dir[] = "/tmp/test-join-protocol-XXXXXX";
        Report report;
        report_init(&report, NULL);
        snprintf(path, sizeof(path), "%s/homelab", examples);
        if (inventory_load_and_validate(path, &report, &inv) < 0 || !mkdtemp(dir))
                return 1;
        char bundle_dir[128];
        snprintf(bundle_dir, sizeof(bundle_dir), "%s/bundle", dir);
        RenderSet set = {};
        unsigned created;
        if (bundle_init(inv, bundle_dir, NULL, &bundle, &set, &created, NULL) < 0)
                return 1;
        /* What serve hands a master: the bundle's files by their paths inside the bundle. */
        size_t prefix = strlen(bundle_dir) + 1;
        for (size_t i = 0; i < set.n; i++)
                memmove(set.files[i].path, set.files[i].path + prefix, strlen(set.files[i].path + prefix) + 1);
        bundle_files = set;
        rmdir(dir);

        RUN(test_round_trip);
        RUN(test_tampered_wrong_secret_stale);
        RUN(test_malformed);
        RUN(test_replay_cache);
        RUN(test_proof);
        RUN(test_names_from_inventory_only);
        RUN(test_role_scoped_material);
        RUN(test_entitlement);
        RUN(test_auto_register);
        RUN(test_bundle_only_from_the_masters_address);
        RUN(test_certificates_only_from_the_nodes_address);
        RUN(test_bad_csr);
        RUN(test_renew);
        RUN(test_cert_names);

        bundle_done(&bundle);
        render_set_wipe(&bundle_files);
        inventory_free(inv);
        report_done(&report);
        return tap_done();
}
