/* SPDX-License-Identifier: Apache-2.0 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "fileio.h"
#include "fs-util.h"
#include "identity.h"
#include "inventory.h"
#include "tap.h"

static Inventory *inv;
static Report report;
static char root[64];

static const char *const cluster_yaml =
        "cluster:\n"
        "  name: t\n"
        "  networking: { node_cidr: 10.0.0.0/24, pod_cidr: 10.244.0.0/16, service_cidr: 10.96.0.0/12 }\n"
        "  services: [kubernetes]\n"
        "  auto_register: { enabled: false, role: worker, hostname_prefix: edge- }\n"
        "nodes:\n"
        "  - { name: m1, ip: 10.0.0.10, roles: [master], mac_addresses: ['52:54:00:00:00:10'] }\n"
        "  - { name: w1, ip: 10.0.0.11, roles: [worker], mac_addresses: ['52:54:00:00:00:11'] }\n"
        "  - { name: w2, ip: 10.0.0.12, roles: [worker], hostname: worker-two }\n"
        "  - { name: w3, ip: 10.0.0.13, roles: [worker] }\n"
        "  - { name: w4, ip: 10.0.0.14, roles: [worker], hostname: wk-4.lab.internal }\n";

static void put(const char *path, const char *content) {
        char full[256];
        snprintf(full, sizeof(full), "%s%s", root, path);
        mkdir_parents(full, 0755);
        write_file_atomic(full, content, strlen(content), 0644);
}

static void nic(const char *name, const char *mac, bool physical) {
        char p[128];
        snprintf(p, sizeof(p), "/sys/class/net/%s/address", name);
        put(p, mac);
        if (physical) {
                snprintf(p, sizeof(p), "%s/sys/class/net/%s/device", root, name);
                mkdir_p(p, 0755);
        }
}

static void fresh_root(void) {
        char cmd[128];
        if (root[0]) {
                snprintf(cmd, sizeof(cmd), "rm -rf %s", root);
                if (system(cmd) != 0)
                        abort();
        }
        snprintf(root, sizeof(root), "/tmp/test-identity-XXXXXX");
        if (!mkdtemp(root))
                abort();
}

/* Matches the machine under root; returns the error, fills name and selector. */
static int detect(char **ret_name, Selector *ret_sel, char **ret_problem) {
        Facts f;
        Identity id;
        int r = facts_read(root, &f);
        if (r < 0)
                return r;
        r = identity_match(inv, &f, &id, ret_problem);
        facts_done(&f);
        if (r < 0)
                return r;
        *ret_name = strdup(id.node ? id.node->name : id.auto_name);
        *ret_sel = id.selector;
        identity_done(&id);
        return 0;
}

TEST(test_mac) {
        char *name = NULL, *problem = NULL;
        Selector sel;
        fresh_root();
        nic("lo", "00:00:00:00:00:00", false);
        nic("veth0", "52:54:00:00:00:10", false); /* virtual: ignored even though it matches m1 */
        nic("eth0", "52:54:00:00:00:11", true);
        put("/etc/hostname", "m1\n"); /* a lower precedence than the MAC */
        ASSERT_INT_EQ(detect(&name, &sel, &problem), 0);
        ASSERT_STREQ(name, "w1");
        ASSERT_INT_EQ(sel, SELECTOR_MAC);
        free(name);
}

TEST(test_mac_uppercase_in_sysfs) {
        char *name = NULL, *problem = NULL;
        Selector sel;
        fresh_root();
        nic("enp1s0", "52:54:00:00:00:10\n", true);
        ASSERT_INT_EQ(detect(&name, &sel, &problem), 0);
        ASSERT_STREQ(name, "m1");
        free(name);
}

TEST(test_cmdline_wins) {
        char *name = NULL, *problem = NULL;
        Selector sel;
        fresh_root();
        nic("eth0", "52:54:00:00:00:11", true);
        put("/proc/cmdline", "BOOT_IMAGE=/vmlinuz clusterboot.node=w3 quiet\n");
        ASSERT_INT_EQ(detect(&name, &sel, &problem), 0);
        ASSERT_STREQ(name, "w3");
        ASSERT_INT_EQ(sel, SELECTOR_CMDLINE);
        free(name);

        put("/proc/cmdline", "clusterboot.node=nope\n");
        ASSERT_INT_EQ(detect(&name, &sel, &problem), -EINVAL);
        ASSERT_TRUE(strstr(problem, "clusterboot.node=nope") != NULL);
        free(problem);
}

TEST(test_uuid_serial_hostname) {
        char *name = NULL, *problem = NULL;
        Selector sel;

        fresh_root();
        put("/sys/class/dmi/id/product_uuid", "4C4C4544-0042-3510-8052-B4C04F384D32\n");
        ASSERT_INT_EQ(detect(&name, &sel, &problem), 0);
        ASSERT_STREQ(name, "w3"); /* lowercase in the node file, uppercase from DMI */
        ASSERT_INT_EQ(sel, SELECTOR_UUID);
        free(name);

        fresh_root();
        put("/proc/cpuinfo", "processor\t: 0\nHardware\t: BCM2835\nSerial\t\t: 10000000abcdef01\n");
        ASSERT_INT_EQ(detect(&name, &sel, &problem), 0);
        ASSERT_STREQ(name, "w2");
        ASSERT_INT_EQ(sel, SELECTOR_SERIAL);
        free(name);

        fresh_root();
        put("/proc/device-tree/serial-number", "10000000abcdef01");
        ASSERT_INT_EQ(detect(&name, &sel, &problem), 0);
        ASSERT_STREQ(name, "w2");
        free(name);

        fresh_root();
        put("/etc/hostname", "worker-two\n");
        ASSERT_INT_EQ(detect(&name, &sel, &problem), 0);
        ASSERT_STREQ(name, "w2");
        ASSERT_INT_EQ(sel, SELECTOR_HOSTNAME);
        free(name);
}

/* The name of the machine in /etc/hostname. */
static int detect_hostname(const char *hostname, char **ret_name, Selector *ret_sel) {
        char *problem = NULL, line[300];
        fresh_root();
        snprintf(line, sizeof(line), "%s\n", hostname);
        put("/etc/hostname", line);
        int r = detect(ret_name, ret_sel, &problem);
        free(problem);
        return r;
}

TEST(test_hostname_fqdn) {
        char *name = NULL;
        Selector sel;
        /* A FQDN hostname: the machine may carry it whole, its first label, or the node's name. */
        static const char *const forms[] = { "wk-4.lab.internal", "wk-4", "w4" };
        for (size_t i = 0; i < ELEMENTSOF(forms); i++) {
                ASSERT_INT_EQ(detect_hostname(forms[i], &name, &sel), 0);
                ASSERT_STREQ(name, "w4");
                ASSERT_INT_EQ(sel, SELECTOR_HOSTNAME);
                free(name);
        }
        /* Another domain, or a label that only starts the same, is no match. */
        ASSERT_INT_EQ(detect_hostname("wk-4.other.internal", &name, &sel), -ENXIO);
        ASSERT_INT_EQ(detect_hostname("wk", &name, &sel), -ENXIO);
        ASSERT_INT_EQ(detect_hostname("lab.internal", &name, &sel), -ENXIO);

        /* An undotted hostname with cluster.domain set: HOSTNAME.DOMAIN is its FQDN, as in /etc/hosts. */
        ASSERT_INT_EQ(detect_hostname("worker-two.t.lan", &name, &sel), -ENXIO);
        inv->cluster.domain.v = (char *) "t.lan";
        int r = detect_hostname("worker-two.t.lan", &name, &sel);
        inv->cluster.domain.v = NULL;
        ASSERT_INT_EQ(r, 0);
        ASSERT_STREQ(name, "w2");
        free(name);
}

TEST(test_ambiguous) {
        char *name = NULL, *problem = NULL;
        Selector sel;
        fresh_root();
        /* One machine with the NICs of two nodes: never a guess. */
        nic("eth0", "52:54:00:00:00:10", true);
        nic("eth1", "52:54:00:00:00:11", true);
        ASSERT_INT_EQ(detect(&name, &sel, &problem), -ENOTUNIQ);
        ASSERT_TRUE(strstr(problem, "m1") && strstr(problem, "w1"));
        free(problem);
}

TEST(test_no_match_and_auto_register) {
        char *name = NULL, *problem = NULL;
        Selector sel;
        fresh_root();
        nic("eth0", "52:54:00:AB:CD:EF", true);
        put("/etc/hostname", "debian\n");
        ASSERT_INT_EQ(detect(&name, &sel, &problem), -ENXIO);
        /* The error says what was seen, so the operator can add the machine. */
        ASSERT_TRUE(strstr(problem, "eth0=52:54:00:ab:cd:ef") != NULL);
        ASSERT_TRUE(strstr(problem, "hostname debian") != NULL);
        free(problem);

        ((Inventory *) inv)->cluster.auto_register.enabled.v = true;
        ASSERT_INT_EQ(detect(&name, &sel, &problem), 0);
        ASSERT_STREQ(name, "edge-abcdef");
        ASSERT_INT_EQ(sel, SELECTOR_AUTO_REGISTER);
        free(name);
        inv->cluster.auto_register.enabled.v = false;
}

/* The console's one line at boot names the node and how it was recognised, with the value seen; a machine
 * that is none says what it showed. */
static char *console_line(void) {
        Facts f;
        Identity id = {};
        char *problem = NULL;
        if (facts_read(root, &f) < 0)
                return NULL;
        int r = identity_match(inv, &f, &id, &problem);
        char *line = identity_console_line(r, &id, &f, problem);
        facts_done(&f);
        if (r >= 0)
                identity_done(&id);
        free(problem);
        return line;
}

TEST(test_console_line) {
        char *line;
        fresh_root();
        nic("eth0", "52:54:00:00:00:11", true);
        line = console_line();
        ASSERT_STREQ(line, "clusterboot: this machine is w1 (matched by MAC 52:54:00:00:00:11)");
        free(line);

        put("/proc/cmdline", "clusterboot.node=w3\n");
        line = console_line();
        ASSERT_STREQ(line, "clusterboot: this machine is w3 (matched by kernel command line)");
        free(line);

        fresh_root();
        put("/sys/class/dmi/id/product_uuid", "4C4C4544-0042-3510-8052-B4C04F384D32\n");
        line = console_line();
        ASSERT_STREQ(line, "clusterboot: this machine is w3 (matched by DMI UUID 4C4C4544-0042-3510-8052-B4C04F384D32)");
        free(line);

        fresh_root();
        put("/etc/hostname", "worker-two\n");
        line = console_line();
        ASSERT_STREQ(line, "clusterboot: this machine is w2 (matched by hostname worker-two)");
        free(line);

        fresh_root();
        nic("eth0", "52:54:00:ab:cd:ef", true);
        put("/etc/hostname", "debian\n");
        line = console_line();
        ASSERT_STREQ(line, "clusterboot: this machine is not in the inventory (MACs: eth0=52:54:00:ab:cd:ef; "
                           "product_uuid -; serial -; hostname debian)");
        free(line);
}

int main(void) {
        SourceSet set = {};
        static const char *const w2 = "node: { name: w2, hardware: { serial: 10000000ABCDEF01 } }\n";
        static const char *const w3 = "node: { name: w3, hardware: { uuid: 4c4c4544-0042-3510-8052-b4c04f384d32 } }\n";
        source_set_add(&set, NULL, "cluster.yaml", strdup(cluster_yaml), strlen(cluster_yaml));
        source_set_add(&set, NULL, "nodes/w2.yaml", strdup(w2), strlen(w2));
        source_set_add(&set, NULL, "nodes/w3.yaml", strdup(w3), strlen(w3));
        report_init(&report, NULL);
        if (inventory_load_sources(NULL, &set, &report, &inv) < 0 || report.n_errors > 0) {
                report_print_text(&report, stderr);
                return 1;
        }

        RUN(test_mac);
        RUN(test_mac_uppercase_in_sysfs);
        RUN(test_cmdline_wins);
        RUN(test_uuid_serial_hostname);
        RUN(test_hostname_fqdn);
        RUN(test_ambiguous);
        RUN(test_no_match_and_auto_register);
        RUN(test_console_line);

        char cmd[128];
        snprintf(cmd, sizeof(cmd), "rm -rf %s", root);
        if (system(cmd) != 0)
                return 1;
        inventory_free(inv);
        report_done(&report);
        return tap_done();
}
