/* SPDX-License-Identifier: Apache-2.0 */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "checks.h"
#include "tap.h"

TEST(test_duration) {
        uint64_t t = 0;
        ASSERT_INT_EQ(parse_duration("8760h", &t), 0);
        ASSERT_TRUE(t == 8760ULL * 3600);
        ASSERT_INT_EQ(parse_duration("1h30m15s", &t), 0);
        ASSERT_TRUE(t == 5415);
        ASSERT_INT_EQ(parse_duration("0s", &t), 0);
        ASSERT_TRUE(t == 0);
        ASSERT_INT_EQ(parse_duration("", &t), -EINVAL);
        ASSERT_INT_EQ(parse_duration("365d", &t), -EINVAL);
        ASSERT_INT_EQ(parse_duration("1.5h", &t), -EINVAL);
        ASSERT_INT_EQ(parse_duration("-1h", &t), -EINVAL);
        ASSERT_INT_EQ(parse_duration("h", &t), -EINVAL);
        ASSERT_INT_EQ(parse_duration("10", &t), -EINVAL);
        ASSERT_INT_EQ(parse_duration("99999999999999999999h", &t), -ERANGE);
        ASSERT_INT_EQ(parse_duration("876600h876600h", &t), -ERANGE);
        ASSERT_NULL(check_certificate_validity("8760h"));
        ASSERT_NULL(check_certificate_validity("10m"));
        ASSERT_NULL(check_certificate_validity("87600h"));
        ASSERT_NOT_NULL(check_certificate_validity("9m59s"));
        ASSERT_NOT_NULL(check_certificate_validity("87601h"));
        ASSERT_NOT_NULL(check_certificate_validity("1y"));
}

TEST(test_dns) {
        ASSERT_NULL(check_dns_label("master-01"));
        ASSERT_NOT_NULL(check_dns_label("Master-01"));
        ASSERT_NOT_NULL(check_dns_label("-a"));
        ASSERT_NOT_NULL(check_dns_label("a-"));
        ASSERT_NOT_NULL(check_dns_label(""));
        ASSERT_NOT_NULL(check_dns_label("a_b"));
        ASSERT_NULL(check_dns_label("a123456789012345678901234567890123456789012345678901234567890bc"));
        ASSERT_NOT_NULL(check_dns_label("a123456789012345678901234567890123456789012345678901234567890bcd"));
        ASSERT_NULL(check_dns_name("homelab.lan"));
        ASSERT_NULL(check_dns_name("cluster.local"));
        ASSERT_NOT_NULL(check_dns_name("homelab..lan"));
        ASSERT_NOT_NULL(check_dns_name("homelab.lan."));
        ASSERT_NULL(check_hostname_prefix("node-"));
        ASSERT_NOT_NULL(check_hostname_prefix("-node"));
}

/* check_hostname_explain()'s reason for s, or NULL when s is a hostname. */
static const char *why_not(const char *s) {
        static char why[256];
        return check_hostname_explain(s, why, sizeof(why)) ? why : NULL;
}

TEST(test_hostname) {
        char l63[64], l64[65], h253[254], h254[255];
        memset(l63, 'a', 63);
        l63[63] = 0;
        memset(l64, 'a', 64);
        l64[64] = 0;
        /* 63 + 1 + 63 + 1 + 63 + 1 + 61 = 253 */
        snprintf(h253, sizeof(h253), "%s.%s.%s.%.61s", l63, l63, l63, l63);
        snprintf(h254, sizeof(h254), "%s.%s.%s.%.62s", l63, l63, l63, l63);
        ASSERT_INT_EQ(strlen(h253), 253);
        ASSERT_INT_EQ(strlen(h254), 254);

        /* A label, as check_dns_label() takes it, or several separated by dots. */
        ASSERT_NULL(check_hostname("master-01"));
        ASSERT_NULL(check_hostname("cp-a.lab.internal"));
        ASSERT_NULL(check_hostname("a.b"));
        ASSERT_NULL(check_hostname("0.1"));
        ASSERT_NULL(check_hostname(l63));
        ASSERT_NULL(check_hostname(h253));
        ASSERT_NULL(why_not("cp-a.lab.internal"));

        /* Every refused form says which label and why, or the length. */
        ASSERT_STREQ(why_not(""), "it is empty");
        ASSERT_STREQ(why_not(".lab"), "it starts with '.'");
        ASSERT_STREQ(why_not("cp-a.lab."), "it ends with '.' (write it without the final dot)");
        ASSERT_STREQ(why_not("cp-a..lab"), "label 2 is empty ('..')");
        ASSERT_STREQ(why_not("Master-01"), "it has 'M': only lowercase letters, digits and '-' are allowed");
        ASSERT_STREQ(why_not("cp-a.lab_x.internal"),
                     "label 2 'lab_x' has '_': only lowercase letters, digits and '-' are allowed");
        ASSERT_STREQ(why_not("cp-a.l\xc3\xa9"),
                     "label 2 'l\xc3\xa9' has a character other than lowercase letters, digits and '-'");
        ASSERT_STREQ(why_not("cp-a.-lab"), "label 2 '-lab' starts with '-'");
        ASSERT_STREQ(why_not("cp-a-.lab"), "label 1 'cp-a-' ends with '-'");
        ASSERT_STREQ(why_not("-"), "it starts with '-'");
        ASSERT_STREQ(why_not(l64), "it is one label of 64 characters, more than 63");
        char s[128];
        snprintf(s, sizeof(s), "cp-a.%s.internal", l64);
        ASSERT_STREQ(why_not(s), "label 2 is 64 characters long, more than 63");
        ASSERT_STREQ(why_not(h254), "it is 254 characters long, more than 253");
        /* What check_hostname() says it must be, as every check does. */
        ASSERT_STREQ(check_hostname(h254), "a valid hostname");
        /* A reason that does not fit is cut, never overrun. */
        char small[8];
        ASSERT_NOT_NULL(check_hostname_explain("cp-a..lab", small, sizeof(small)));
        ASSERT_STREQ(small, "label 2");
        /* The node name stays one label. */
        ASSERT_NOT_NULL(check_dns_label("cp-a.lab.internal"));
}

TEST(test_hostname_first_label) {
        char buf[DNS_LABEL_MAX + 1];
        const char *h = "cp-a";
        /* An undotted hostname is its own first label, not a copy. */
        ASSERT_TRUE(hostname_first_label(h, buf) == h);
        ASSERT_STREQ(hostname_first_label("cp-a.lab.internal", buf), "cp-a");
        ASSERT_STREQ(hostname_first_label("x.y", buf), "x");
        ASSERT_TRUE(hostname_is_dotted("cp-a.lab.internal"));
        ASSERT_TRUE(!hostname_is_dotted("cp-a"));
        /* A label longer than a valid one is cut to DNS_LABEL_MAX, inside buf. */
        char l70[80];
        memset(l70, 'a', 70);
        snprintf(l70 + 70, sizeof(l70) - 70, ".lab");
        ASSERT_INT_EQ(strlen(hostname_first_label(l70, buf)), DNS_LABEL_MAX);
}

TEST(test_token) {
        ASSERT_NULL(check_bootstrap_token("abcdef.0123456789abcdef"));
        ASSERT_NOT_NULL(check_bootstrap_token("ABCDEF.0123456789abcdef"));
        ASSERT_NOT_NULL(check_bootstrap_token("abcdef0123456789abcdef"));
        ASSERT_NOT_NULL(check_bootstrap_token("abcdef.0123456789abcde"));
        ASSERT_NOT_NULL(check_bootstrap_token("abcdef.0123456789abcdef0"));
}

TEST(test_kubernetes_forms) {
        ASSERT_NULL(check_taint("dedicated=kafka:NoSchedule"));
        ASSERT_NULL(check_taint("node-role.kubernetes.io/control-plane:NoSchedule"));
        ASSERT_NULL(check_taint("gpu:NoExecute"));
        ASSERT_NOT_NULL(check_taint("dedicated=kafka"));
        ASSERT_NOT_NULL(check_taint("dedicated=kafka:Sometimes"));
        ASSERT_NOT_NULL(check_taint(":NoSchedule"));
        ASSERT_NULL(check_label_key("zone"));
        ASSERT_NULL(check_label_key("topology.kubernetes.io/zone"));
        ASSERT_NOT_NULL(check_label_key("/zone"));
        ASSERT_NOT_NULL(check_label_key("zone!"));
        ASSERT_NULL(check_label_value(""));
        ASSERT_NULL(check_label_value("rack-1"));
        ASSERT_NOT_NULL(check_label_value("rack 1"));
}

TEST(test_misc_forms) {
        ASSERT_NULL(check_version("1.29.1"));
        ASSERT_NOT_NULL(check_version("1.29"));
        ASSERT_NOT_NULL(check_version("v1.29.1"));
        ASSERT_NOT_NULL(check_version("1..1"));
        ASSERT_NULL(check_device_path("/dev/sdb"));
        ASSERT_NULL(check_device_path("/dev/disk/by-id/wwn-0x5000"));
        ASSERT_NOT_NULL(check_device_path("/dev/"));
        ASSERT_NOT_NULL(check_device_path("sdb"));
        ASSERT_NOT_NULL(check_device_path("/dev/../etc/passwd"));
        ASSERT_NULL(check_interface_name("eth0"));
        ASSERT_NOT_NULL(check_interface_name("a-very-long-interface"));
        ASSERT_NULL(check_mqtt_acl("readwrite #"));
        ASSERT_NULL(check_mqtt_acl("read sensors/+/temp"));
        ASSERT_NOT_NULL(check_mqtt_acl("readwrite"));
        ASSERT_NOT_NULL(check_mqtt_acl("all #"));
        ASSERT_NULL(check_config_key("log.retention.hours"));
        ASSERT_NULL(check_config_key("mon allow pool delete"));
        ASSERT_NOT_NULL(check_config_key("a=b"));
        ASSERT_NOT_NULL(check_config_value("a\nb"));
        ASSERT_NULL(check_ip_prefix("10.0.0.0/8"));
        ASSERT_NOT_NULL(check_ip_prefix("10.0.0.1/8"));
        ASSERT_NOT_NULL(check_mac_addr("52:54:00:12:34"));
}

/* What the kubelet lets itself set on its Node (k8s.io/kubelet IsKubeletLabel, NodeRestriction). */
TEST(test_label_kubelet_refuses) {
        ASSERT_NULL(label_kubelet_refuses("zone"));
        ASSERT_NULL(label_kubelet_refuses("example.com/rack"));
        ASSERT_NULL(label_kubelet_refuses("kubernetes.io/hostname"));
        ASSERT_NULL(label_kubelet_refuses("topology.kubernetes.io/zone"));
        ASSERT_NULL(label_kubelet_refuses("node.kubernetes.io/disk"));
        ASSERT_NULL(label_kubelet_refuses("pool.node.kubernetes.io/a"));
        ASSERT_NULL(label_kubelet_refuses("kubelet.kubernetes.io/x"));
        /* A namespace only by a suffix after a dot: "mykubernetes.io" is not Kubernetes'. */
        ASSERT_NULL(label_kubelet_refuses("mykubernetes.io/x"));
        ASSERT_NOT_NULL(label_kubelet_refuses("kubernetes.io/role"));
        ASSERT_NOT_NULL(label_kubelet_refuses("node-role.kubernetes.io/control-plane"));
        ASSERT_NOT_NULL(label_kubelet_refuses("team.k8s.io/owner"));
        ASSERT_NOT_NULL(label_kubelet_refuses("k8s.io/x"));
        ASSERT_NOT_NULL(label_kubelet_refuses("topology.kubernetes.io/rack"));
        ASSERT_NOT_NULL(label_kubelet_refuses("node-restriction.kubernetes.io/pool"));
        ASSERT_NOT_NULL(label_kubelet_refuses("a.node-restriction.kubernetes.io/pool"));
}

/* The key of a taint, as the kubelet's --register-with-taints and the API read it. */
TEST(test_taint_key) {
        ASSERT_INT_EQ(taint_key_length("dedicated=db:NoSchedule"), 9);
        ASSERT_INT_EQ(taint_key_length("node-role.kubernetes.io/control-plane:NoSchedule"), 37);
        ASSERT_TRUE(taint_has_key("node-role.kubernetes.io/control-plane:NoSchedule", "node-role.kubernetes.io/control-plane"));
        ASSERT_TRUE(taint_has_key("node-role.kubernetes.io/control-plane=x:NoExecute", "node-role.kubernetes.io/control-plane"));
        /* Only the whole key: not a key that starts with it, nor one without an effect. */
        ASSERT_TRUE(!taint_has_key("node-role.kubernetes.io/control-plane-2:NoSchedule", "node-role.kubernetes.io/control-plane"));
        ASSERT_TRUE(!taint_has_key("dedicated=node-role.kubernetes.io/control-plane:NoSchedule", "node-role.kubernetes.io/control-plane"));
}

int main(void) {
        RUN(test_duration);
        RUN(test_dns);
        RUN(test_hostname);
        RUN(test_hostname_first_label);
        RUN(test_token);
        RUN(test_kubernetes_forms);
        RUN(test_misc_forms);
        RUN(test_label_kubelet_refuses);
        RUN(test_taint_key);
        return tap_done();
}
