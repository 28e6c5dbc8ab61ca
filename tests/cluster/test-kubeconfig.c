/* SPDX-License-Identifier: Apache-2.0 */
/* Reading kubeconfigs (src/cluster/kubeconfig.c) in the two forms a node holds: ours, with everything
 * embedded, and the one the kubelet writes after TLS bootstrapping, which names its certificate file. The
 * kubelet stage's gate reads the latter; tests/kubernetes runs it against a real kubelet. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "fileio.h"
#include "kubeconfig.h"
#include "macro.h"
#include "tap.h"

static char root[64];

static void put(const char *rel, const char *text) {
        char path[256], dir[256];
        snprintf(path, sizeof(path), "%s%s", root, rel);
        snprintf(dir, sizeof(dir), "%s", path);
        for (char *p = dir + strlen(root) + 1; (p = strchr(p, '/')); p++) {
                *p = 0;
                (void) mkdir(dir, 0755);
                *p = '/';
        }
        if (write_file_atomic(path, text, strlen(text), 0600) < 0)
                abort();
}

/* base64 of "CA PEM", "CERT PEM", "KEY PEM" */
#define CA64 "Q0EgUEVN"
#define CERT64 "Q0VSVCBQRU0="
#define KEY64 "S0VZIFBFTQ=="

TEST(test_embedded) {
        put("/etc/kubernetes/kubelet.conf",
            "apiVersion: v1\n"
            "kind: Config\n"
            "clusters:\n"
            "- cluster:\n"
            "    certificate-authority-data: " CA64 "\n"
            "    server: https://192.168.1.10:6443\n"
            "  name: homelab\n"
            "- cluster:\n"
            "    certificate-authority-data: " CA64 "\n"
            "    server: https://wrong:1\n"
            "  name: other\n"
            "contexts:\n"
            "- context: { cluster: homelab, user: system:node:master-01 }\n"
            "  name: system:node:master-01@homelab\n"
            "current-context: system:node:master-01@homelab\n"
            "users:\n"
            "- name: system:node:master-01\n"
            "  user:\n"
            "    client-certificate-data: " CERT64 "\n"
            "    client-key-data: " KEY64 "\n");
        Kubeconfig k = {};
        char *why = NULL;
        ASSERT_INT_EQ(kubeconfig_load(root, "/etc/kubernetes/kubelet.conf", &k, &why), 0);
        ASSERT_STREQ(k.server, "https://192.168.1.10:6443");
        ASSERT_STREQ(k.ca_pem, "CA PEM");
        ASSERT_STREQ(k.cert_pem, "CERT PEM");
        ASSERT_STREQ(k.key_pem, "KEY PEM");
        ASSERT_NULL(why);
        kubeconfig_done(&k);
}

/* What kubelet 1.29 writes to --kubeconfig once its CSR is signed. */
TEST(test_kubelet_written) {
        /* As the kubelet makes it: the current one a link to the newest, by its absolute path. */
        put("/var/lib/kubelet/pki/kubelet-client-2026-11-22-02-30-00.pem", "CERT AND KEY PEM\n");
        char link[256];
        snprintf(link, sizeof(link), "%s/var/lib/kubelet/pki/kubelet-client-current.pem", root);
        ASSERT_INT_EQ(symlink("/var/lib/kubelet/pki/kubelet-client-2026-11-22-02-30-00.pem", link), 0);
        put("/etc/kubernetes/kubelet.conf",
            "apiVersion: v1\n"
            "clusters:\n"
            "- cluster:\n"
            "    certificate-authority-data: " CA64 "\n"
            "    server: https://192.168.1.10:6443\n"
            "  name: default-cluster\n"
            "contexts:\n"
            "- context:\n"
            "    cluster: default-cluster\n"
            "    namespace: default\n"
            "    user: default-auth\n"
            "  name: default-context\n"
            "current-context: default-context\n"
            "kind: Config\n"
            "preferences: {}\n"
            "users:\n"
            "- name: default-auth\n"
            "  user:\n"
            "    client-certificate: /var/lib/kubelet/pki/kubelet-client-current.pem\n"
            "    client-key: /var/lib/kubelet/pki/kubelet-client-current.pem\n");
        Kubeconfig k = {};
        char *why = NULL;
        ASSERT_INT_EQ(kubeconfig_load(root, "/etc/kubernetes/kubelet.conf", &k, &why), 0);
        ASSERT_STREQ(k.server, "https://192.168.1.10:6443");
        ASSERT_STREQ(k.ca_pem, "CA PEM");
        /* Read under root, the link followed within root, not into the machine's /var/lib/kubelet. */
        ASSERT_STREQ(k.cert_pem, "CERT AND KEY PEM\n");
        ASSERT_STREQ(k.key_pem, "CERT AND KEY PEM\n");
        kubeconfig_done(&k);

        /* The file it names is not there (the kubelet writes kubelet.conf a moment before its certificate):
         * -ENOENT, "not yet" to a caller that waits, and said so, by name. */
        char path[256];
        snprintf(path, sizeof(path), "%s/var/lib/kubelet/pki/kubelet-client-2026-11-22-02-30-00.pem", root);
        ASSERT_INT_EQ(unlink(path), 0);
        ASSERT_INT_EQ(kubeconfig_load(root, "/etc/kubernetes/kubelet.conf", &k, &why), -ENOENT);
        ASSERT_NOT_NULL(why);
        ASSERT_NOT_NULL(strstr(why, "/var/lib/kubelet/pki/kubelet-client-current.pem"));
        free(why);
}

TEST(test_refused) {
        Kubeconfig k = {};
        char *why = NULL;
        ASSERT_INT_EQ(kubeconfig_load(root, "/etc/kubernetes/missing.conf", &k, &why), -ENOENT);
        free(why);
        why = NULL;

        /* current-context names nothing. */
        put("/etc/kubernetes/bad.conf",
            "clusters: [{ name: a, cluster: { server: https://x:1, certificate-authority-data: " CA64 " } }]\n"
            "contexts: [{ name: c, context: { cluster: a, user: u } }]\n"
            "users: [{ name: u, user: { client-certificate-data: " CERT64 ", client-key-data: " KEY64 " } }]\n"
            "current-context: nope\n");
        ASSERT_INT_EQ(kubeconfig_load(root, "/etc/kubernetes/bad.conf", &k, &why), -EBADMSG);
        ASSERT_NOT_NULL(strstr(why, "current-context 'nope'"));
        free(why);
        why = NULL;

        /* A token user (bootstrap-kubelet.conf) has no certificate. */
        put("/etc/kubernetes/token.conf",
            "clusters: [{ name: a, cluster: { server: https://x:1, certificate-authority-data: " CA64 " } }]\n"
            "contexts: [{ name: c, context: { cluster: a, user: u } }]\n"
            "users: [{ name: u, user: { token: abcdef.0123456789abcdef } }]\n"
            "current-context: c\n");
        ASSERT_INT_EQ(kubeconfig_load(root, "/etc/kubernetes/token.conf", &k, &why), -EBADMSG);
        ASSERT_NOT_NULL(strstr(why, "client-certificate"));
        free(why);
        why = NULL;

        /* Not base64. */
        put("/etc/kubernetes/b64.conf",
            "clusters: [{ name: a, cluster: { server: https://x:1, certificate-authority-data: '!!!' } }]\n"
            "contexts: [{ name: c, context: { cluster: a, user: u } }]\n"
            "users: [{ name: u, user: { client-certificate-data: " CERT64 ", client-key-data: " KEY64 " } }]\n"
            "current-context: c\n");
        ASSERT_INT_EQ(kubeconfig_load(root, "/etc/kubernetes/b64.conf", &k, &why), -EBADMSG);
        ASSERT_NOT_NULL(strstr(why, "certificate-authority-data is not base64"));
        free(why);
}

/* A write into a namespace the API server has not made yet is worth trying again; other 404s are not. The
 * answers are the API server's Status objects, as kube-apiserver 1.29 sends them. */
TEST(test_namespace_missing) {
        ASSERT_TRUE(kube_namespace_missing(
                404, "{\"kind\":\"Status\",\"apiVersion\":\"v1\",\"metadata\":{},\"status\":\"Failure\","
                     "\"message\":\"namespaces \\\"kube-system\\\" not found\",\"reason\":\"NotFound\","
                     "\"details\":{\"name\":\"kube-system\",\"kind\":\"namespaces\"},\"code\":404}"));
        ASSERT_TRUE(!kube_namespace_missing(
                404, "{\"kind\":\"Status\",\"status\":\"Failure\",\"reason\":\"NotFound\","
                     "\"details\":{\"name\":\"m\",\"kind\":\"nodes\"},\"code\":404}"));
        ASSERT_TRUE(!kube_namespace_missing(404, "404 page not found"));
        ASSERT_TRUE(!kube_namespace_missing(403, "{\"details\":{\"kind\":\"namespaces\"}}"));
        ASSERT_TRUE(!kube_namespace_missing(404, NULL));
}

int main(void) {
        snprintf(root, sizeof(root), "/tmp/test-kubeconfig-XXXXXX");
        if (!mkdtemp(root))
                return 1;
        RUN(test_embedded);
        RUN(test_kubelet_written);
        RUN(test_refused);
        RUN(test_namespace_missing);
        int r = tap_done();
        char cmd[128];
        snprintf(cmd, sizeof(cmd), "rm -rf '%s'", root);
        return system(cmd) == 0 ? r : 1;
}
