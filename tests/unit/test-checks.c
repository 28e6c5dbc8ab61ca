/* SPDX-License-Identifier: Apache-2.0 */
#include "checks.h"
#include "tap.h"

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

int main(void) {
        RUN(test_dns);
        RUN(test_token);
        RUN(test_kubernetes_forms);
        RUN(test_misc_forms);
        return tap_done();
}
