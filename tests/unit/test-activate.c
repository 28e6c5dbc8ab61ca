/* SPDX-License-Identifier: Apache-2.0 */
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "activate.h"
#include "fileio.h"
#include "fs-util.h"
#include "osd-record.h"
#include "tap.h"

static char root[64];
static unsigned changes;

static void count(const char *unit, ActivateChange change, void *userdata) {
        (void) unit, (void) userdata;
        changes += change == ACTIVATE_ENABLED || change == ACTIVATE_DISABLED;
}

/* Is WANTED_BY.wants/UNIT the link `systemctl --root=DIR enable` makes for a unit installed in
 * /etc/systemd/system (FILE: the unit file, the template for an instance)? */
static bool linked(const char *wanted_by, const char *unit, const char *file) {
        char path[256], buf[PATH_MAX], want[128];
        snprintf(path, sizeof(path), "%s/etc/systemd/system/%s.wants/%s", root, wanted_by, unit);
        ssize_t n = readlink(path, buf, sizeof(buf) - 1);
        if (n < 0)
                return false;
        buf[n] = 0;
        snprintf(want, sizeof(want), "/etc/systemd/system/%s", file ?: unit);
        return strcmp(buf, want) == 0;
}

static bool exists(const char *wanted_by, const char *unit) {
        char path[256];
        struct stat st;
        snprintf(path, sizeof(path), "%s/etc/systemd/system/%s.wants/%s", root, wanted_by, unit);
        return lstat(path, &st) == 0;
}

#define MU "multi-user.target"

TEST(test_enable_and_idempotent) {
        Node n = { .name = "m1", .roles = { [ROLE_MASTER] = true, [ROLE_DNS_SERVER] = true } };
        changes = 0;
        ASSERT_INT_EQ(activate_offline(root, &n, false, count, NULL), 0);
        ASSERT_INT_EQ(changes, 2);
        ASSERT_TRUE(linked(MU, "kubernetes-master.target", NULL));
        ASSERT_TRUE(linked(MU, "dns.target", NULL));
        ASSERT_TRUE(!exists(MU, "kafka.target"));

        changes = 0;
        ASSERT_INT_EQ(activate_offline(root, &n, false, count, NULL), 0);
        ASSERT_INT_EQ(changes, 0);
}

TEST(test_roles_change) {
        /* The node lost dns-server and gained kafka-broker. */
        Node n = { .name = "m1", .roles = { [ROLE_MASTER] = true, [ROLE_KAFKA_BROKER] = true } };
        changes = 0;
        ASSERT_INT_EQ(activate_offline(root, &n, false, count, NULL), 0);
        ASSERT_INT_EQ(changes, 2);
        ASSERT_TRUE(!exists(MU, "dns.target"));
        ASSERT_TRUE(linked(MU, "kafka.target", NULL));
        ASSERT_TRUE(linked(MU, "kubernetes-master.target", NULL));
}

TEST(test_stale_link_and_dry_run) {
        char path[256];
        snprintf(path, sizeof(path), "%s/etc/systemd/system/" MU ".wants/kafka.target", root);
        unlink(path);
        ASSERT_INT_EQ(symlink("/nonexistent/kafka.target", path), 0);

        Node n = { .name = "m1", .roles = { [ROLE_MASTER] = true, [ROLE_KAFKA_BROKER] = true } };
        changes = 0;
        ASSERT_INT_EQ(activate_offline(root, &n, true, count, NULL), 0);
        ASSERT_INT_EQ(changes, 1);                      /* it would fix the link ... */
        ASSERT_TRUE(!linked(MU, "kafka.target", NULL)); /* ... but a dry run does not */

        ASSERT_INT_EQ(activate_offline(root, &n, false, count, NULL), 0);
        ASSERT_TRUE(linked(MU, "kafka.target", NULL));
}

TEST(test_ceph_instances) {
        /* A ceph-mon.target cannot name ceph-mon@storage-01: the instances are linked under it. */
        StrVal devices[] = { { .v = "/dev/sdb" }, { .v = "/dev/sdc" }, { .v = "/dev/sdd" } };
        NodeFile file = { .ceph.osd_devices = { .items = devices, .n = 3 } };
        Node n = { .name = "storage-01",
                   .file = &file,
                   .roles = { [ROLE_CEPH_MON] = true, [ROLE_CEPH_OSD] = true },
                   .n_osds = 3 };
        ASSERT_INT_EQ(activate_offline(root, &n, false, NULL, NULL), 0);
        ASSERT_TRUE(linked(MU, "ceph-mon.target", NULL));
        ASSERT_TRUE(linked(MU, "ceph-osd.target", NULL));
        ASSERT_TRUE(linked("ceph-mon.target", "ceph-mon@storage-01.service", "ceph-mon@.service"));
        ASSERT_TRUE(linked("ceph-mon.target", "ceph-mgr@storage-01.service", "ceph-mgr@.service"));
        ASSERT_TRUE(!exists(MU, "kubernetes-master.target")); /* roles it lost since the last test */
        /* Before its stage ceph-osd made an OSD, no OSD instance: Ceph has not numbered one. */
        ASSERT_TRUE(!exists("ceph-osd.target", "ceph-osd@0.service"));

        /* The ids Ceph gave (not in device order, not from 0), and a device that has none yet. */
        OsdRecords rec = {};
        OsdRecord *o;
        ASSERT_INT_EQ(osd_records_add(&rec, "/dev/sdb", "8c1e1a94-3b3d-4c0e-9d5e-0a4c2b1f7e01", &o), 0);
        o->id = 7;
        ASSERT_INT_EQ(osd_records_add(&rec, "/dev/sdc", "8c1e1a94-3b3d-4c0e-9d5e-0a4c2b1f7e02", &o), 0);
        o->id = 3;
        ASSERT_INT_EQ(osd_records_add(&rec, "/dev/sdd", "8c1e1a94-3b3d-4c0e-9d5e-0a4c2b1f7e03", NULL), 0);
        ASSERT_INT_EQ(osd_records_save(root, &rec), 0);
        osd_records_done(&rec);
        ASSERT_INT_EQ(activate_offline(root, &n, false, NULL, NULL), 0);
        ASSERT_TRUE(linked("ceph-osd.target", "ceph-osd@7.service", "ceph-osd@.service"));
        ASSERT_TRUE(linked("ceph-osd.target", "ceph-osd@3.service", "ceph-osd@.service"));
        ASSERT_TRUE(!exists("ceph-osd.target", "ceph-osd@2.service"));

        /* A disk removed from the node file: its OSD instance goes, the other keeps its id. The OSD-only
         * pass (stage ceph-osd, sync) leaves the role targets alone. */
        devices[0] = devices[1];
        devices[1] = devices[2];
        file.ceph.osd_devices.n = n.n_osds = 2;
        changes = 0;
        ASSERT_INT_EQ(activate_osds_offline(root, &n, true, count, NULL), 0);
        ASSERT_INT_EQ(changes, 1);
        ASSERT_TRUE(exists("ceph-osd.target", "ceph-osd@7.service")); /* a dry run */
        changes = 0;
        ASSERT_INT_EQ(activate_osds_offline(root, &n, false, count, NULL), 0);
        ASSERT_INT_EQ(changes, 1);
        ASSERT_TRUE(!exists("ceph-osd.target", "ceph-osd@7.service"));
        ASSERT_TRUE(linked("ceph-osd.target", "ceph-osd@3.service", "ceph-osd@.service"));
        ASSERT_TRUE(linked("ceph-mon.target", "ceph-mon@storage-01.service", "ceph-mon@.service"));
        int64_t *gone = NULL;
        size_t n_gone;
        ASSERT_INT_EQ(osd_node_ids(root, &n, true, &gone, &n_gone), 0);
        ASSERT_INT_EQ(n_gone, 1);
        ASSERT_INT_EQ(gone[0], 7);
        free(gone);
        changes = 0;
        ASSERT_INT_EQ(activate_offline(root, &n, false, count, NULL), 0);
        ASSERT_INT_EQ(changes, 0);

        /* A record that cannot be read: the rest of the node is activated, its OSD instances left as they
         * are (the stage ceph-osd says what is wrong). */
        char path[160];
        snprintf(path, sizeof(path), "%s" OSD_RECORD_PATH, root);
        ASSERT_INT_EQ(write_file_atomic(path, "{\"osds\": 7}\n", 13, 0644), 0);
        n.roles[ROLE_KAFKA_BROKER] = true;
        ASSERT_INT_EQ(activate_offline(root, &n, false, NULL, NULL), 0);
        ASSERT_TRUE(linked(MU, "kafka.target", NULL));
        ASSERT_TRUE(linked("ceph-osd.target", "ceph-osd@3.service", "ceph-osd@.service"));
        ASSERT_INT_EQ(activate_osds_offline(root, &n, false, NULL, NULL), -EBADMSG);
        n.roles[ROLE_KAFKA_BROKER] = false;

        /* No longer a monitor: the instances go with the target. */
        n.roles[ROLE_CEPH_MON] = false;
        ASSERT_INT_EQ(activate_offline(root, &n, false, NULL, NULL), 0);
        ASSERT_TRUE(!exists(MU, "ceph-mon.target"));
        ASSERT_TRUE(!exists("ceph-mon.target", "ceph-mon@storage-01.service"));
        ASSERT_TRUE(!exists("ceph-mon.target", "ceph-mgr@storage-01.service"));
}

int main(void) {
        snprintf(root, sizeof(root), "/tmp/test-activate-XXXXXX");
        if (!mkdtemp(root))
                return 1;
        RUN(test_enable_and_idempotent);
        RUN(test_roles_change);
        RUN(test_stale_link_and_dry_run);
        RUN(test_ceph_instances);
        char cmd[128];
        snprintf(cmd, sizeof(cmd), "rm -rf %s", root);
        if (system(cmd) != 0)
                return 1;
        return tap_done();
}
