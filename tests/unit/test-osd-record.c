/* SPDX-License-Identifier: Apache-2.0 */
/* The node's record of the OSDs it made (osd-record.h): what the stage ceph-osd, activate, status and sync
 * read. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "fileio.h"
#include "fs-util.h"
#include "osd-record.h"
#include "string-util.h"
#include "tap.h"

static char root[64];

#define U1 "8c1e1a94-3b3d-4c0e-9d5e-0a4c2b1f7e01"
#define U2 "8c1e1a94-3b3d-4c0e-9d5e-0a4c2b1f7e02"
#define U3 "8c1e1a94-3b3d-4c0e-9d5e-0a4c2b1f7e03"

static int write_record(const char *text) {
        char dir[128], path[160];
        snprintf(dir, sizeof(dir), "%s" OSD_RECORD_DIR, root);
        snprintf(path, sizeof(path), "%s" OSD_RECORD_PATH, root);
        int r = mkdir_p(dir, 0700);
        return r < 0 ? r : write_file_atomic(path, text, strlen(text), 0644);
}

TEST(test_none_before_the_first_osd) {
        OsdRecords r = { .n = 7 };
        ASSERT_INT_EQ(osd_records_load(root, &r), 0);
        ASSERT_INT_EQ(r.n, 0);
        ASSERT_NULL(r.items);
}

TEST(test_saved_and_read_back) {
        OsdRecords r = {}, back = {};
        OsdRecord *o;
        ASSERT_INT_EQ(osd_records_add(&r, "/dev/sdb", U1, &o), 0);
        o->id = 5;
        ASSERT_INT_EQ(osd_records_add(&r, "/dev/disk/by-id/nvme-x", U2, NULL), 0); /* Ceph has not answered */
        ASSERT_INT_EQ(osd_records_add(&r, "/dev/sdb", U3, NULL), -EINVAL);          /* a device once */
        ASSERT_INT_EQ(osd_records_add(&r, "/dev/sdc", "not-a-uuid", NULL), -EINVAL);
        ASSERT_INT_EQ(osd_records_save(root, &r), 0);
        char path[160];
        struct stat st;
        snprintf(path, sizeof(path), "%s" OSD_RECORD_PATH, root);
        ASSERT_INT_EQ(stat(path, &st), 0);
        ASSERT_INT_EQ(st.st_mode & 07777, 0644); /* no secret in it: the keys are beside it */
        ASSERT_INT_EQ(osd_records_load(root, &back), 0);
        ASSERT_INT_EQ(back.n, 2);
        ASSERT_STREQ(back.items[0].device, "/dev/sdb");
        ASSERT_STREQ(back.items[0].uuid, U1);
        ASSERT_INT_EQ(back.items[0].id, 5);
        ASSERT_STREQ(back.items[1].device, "/dev/disk/by-id/nvme-x");
        ASSERT_INT_EQ(back.items[1].id, -1);
        ASSERT_NOT_NULL(osd_records_find(&back, "/dev/disk/by-id/nvme-x"));
        ASSERT_NULL(osd_records_find(&back, "/dev/sdc"));
        osd_records_done(&r);
        osd_records_done(&back);
}

TEST(test_not_a_record) {
        static const char *const broken[] = {
                "not json",
                "{\"osds\": {}}",
                "{\"osds\": [{\"device\": \"sdb\", \"uuid\": \"" U1 "\", \"id\": 0}]}",          /* not a path */
                "{\"osds\": [{\"device\": \"/dev/sdb\", \"uuid\": \"" U1 "X\", \"id\": 0}]}",    /* no uuid */
                "{\"osds\": [{\"device\": \"/dev/sdb\", \"uuid\": \"" U1 "\", \"id\": -2}]}",    /* no id Ceph gives */
                "{\"osds\": [{\"device\": \"/dev/sdb\", \"uuid\": \"" U1 "\", \"id\": \"0\"}]}",
                "{\"osds\": [{\"device\": \"/dev/sdb\", \"uuid\": \"" U1 "\", \"id\": 0},"
                " {\"device\": \"/dev/sdb\", \"uuid\": \"" U2 "\", \"id\": 1}]}", /* a device twice */
                "{\"osds\": [{\"device\": \"/dev/sdb\", \"uuid\": \"" U1 "\", \"id\": 0},"
                " {\"device\": \"/dev/sdc\", \"uuid\": \"" U1 "\", \"id\": 1}]}", /* a uuid twice */
                "{\"osds\": [{\"device\": \"/dev/sdb\", \"uuid\": \"" U1 "\", \"id\": 0},"
                " {\"device\": \"/dev/sdc\", \"uuid\": \"" U2 "\", \"id\": 0}]}", /* an id twice */
        };
        for (size_t i = 0; i < sizeof(broken) / sizeof(broken[0]); i++) {
                OsdRecords r = {};
                ASSERT_INT_EQ(write_record(broken[i]), 0);
                ASSERT_INT_EQ(osd_records_load(root, &r), -EBADMSG);
                ASSERT_INT_EQ(r.n, 0);
        }
}

TEST(test_ids_of_the_node) {
        /* Ceph's ids, in the node file's device order; a device without an id has no OSD yet. */
        ASSERT_INT_EQ(write_record("{\"osds\": ["
                                   "{\"device\": \"/dev/sdb\", \"uuid\": \"" U1 "\", \"id\": 7},"
                                   "{\"device\": \"/dev/sdc\", \"uuid\": \"" U2 "\", \"id\": 3},"
                                   "{\"device\": \"/dev/sdd\", \"uuid\": \"" U3 "\"}]}\n"),
                      0);
        StrVal devices[] = { { .v = "/dev/sdd" }, { .v = "/dev/sdc" }, { .v = "/dev/sde" } };
        NodeFile file = { .ceph.osd_devices = { .items = devices, .n = 3 } };
        Node n = { .name = "storage-01", .file = &file, .roles = { [ROLE_CEPH_OSD] = true }, .n_osds = 3 };
        int64_t *ids = NULL;
        size_t count;
        ASSERT_INT_EQ(osd_node_ids(root, &n, false, &ids, &count), 0);
        ASSERT_INT_EQ(count, 1);
        ASSERT_INT_EQ(ids[0], 3);
        free(ids);
        /* /dev/sdb left the node file: its OSD is the one gone. */
        ASSERT_INT_EQ(osd_node_ids(root, &n, true, &ids, &count), 0);
        ASSERT_INT_EQ(count, 1);
        ASSERT_INT_EQ(ids[0], 7);
        free(ids);
        ASSERT_TRUE(osd_node_lists(&n, "/dev/sde"));
        ASSERT_TRUE(!osd_node_lists(&n, "/dev/sdb"));
        /* The role taken away: every OSD it made is gone. */
        n.n_osds = 0;
        ASSERT_INT_EQ(osd_node_ids(root, &n, true, &ids, &count), 0);
        ASSERT_INT_EQ(count, 2);
        free(ids);
}

TEST(test_removed) {
        OsdRecords r = {};
        OsdRecord *o;
        ASSERT_INT_EQ(osd_records_add(&r, "/dev/sdb", U1, &o), 0);
        o->id = 0;
        ASSERT_INT_EQ(osd_records_add(&r, "/dev/sdc", U2, &o), 0);
        o->id = 1;
        ASSERT_INT_EQ(osd_records_add(&r, "/dev/sdd", U3, &o), 0);
        o->id = 2;
        osd_records_remove(&r, osd_records_find(&r, "/dev/sdc"));
        ASSERT_INT_EQ(r.n, 2);
        ASSERT_NULL(osd_records_find(&r, "/dev/sdc"));
        ASSERT_INT_EQ(osd_records_find(&r, "/dev/sdd")->id, 2);
        osd_records_done(&r);
}

TEST(test_kept_before_the_record_file) {
        /* A node made by an earlier clusterboot: osd.ID.uuid and osd.ID.key, ID the inventory's, and the OSD's
         * block link to its device. Read as records; the key where it was. osd.7 was never made (no link). */
        char path[256], dir[160];
        snprintf(dir, sizeof(dir), "%s" OSD_RECORD_DIR, root);
        ASSERT_INT_EQ(rm_rf(dir), 0);
        ASSERT_INT_EQ(mkdir_p(dir, 0700), 0);
        snprintf(path, sizeof(path), "%s/osd.3.uuid", dir);
        ASSERT_INT_EQ(write_file_atomic(path, U1 "\n", 37, 0644), 0);
        snprintf(path, sizeof(path), "%s/osd.3.key", dir);
        ASSERT_INT_EQ(write_file_atomic(path, "KEY\n", 4, 0600), 0);
        snprintf(path, sizeof(path), "%s/osd.7.uuid", dir);
        ASSERT_INT_EQ(write_file_atomic(path, U2 "\n", 37, 0644), 0);
        snprintf(path, sizeof(path), "%s/var/lib/ceph/osd/ceph-3", root);
        ASSERT_INT_EQ(mkdir_p(path, 0755), 0);
        char link[300], target[300];
        snprintf(link, sizeof(link), "%s/block", path);
        snprintf(target, sizeof(target), "%s/dev/sdc", root); /* made under root, as the stage makes it */
        ASSERT_INT_EQ(symlink(target, link), 0);

        OsdRecords r = {};
        ASSERT_INT_EQ(osd_records_load(root, &r), 0);
        ASSERT_INT_EQ(r.n, 1);
        ASSERT_STREQ(r.items[0].device, "/dev/sdc");
        ASSERT_STREQ(r.items[0].uuid, U1);
        ASSERT_INT_EQ(r.items[0].id, 3);
        char *key = osd_key_path(root, r.items);
        snprintf(path, sizeof(path), "%s/osd.3.key", dir);
        ASSERT_STREQ(key, path);
        free(key);
        /* Saved once, it is osds.json; a new OSD's key is UUID.key. */
        ASSERT_INT_EQ(osd_records_add(&r, "/dev/sdd", U3, NULL), 0);
        key = osd_key_path(root, r.items + 1);
        snprintf(path, sizeof(path), "%s/" U3 ".key", dir);
        ASSERT_STREQ(key, path);
        free(key);
        osd_records_done(&r);
}

int main(void) {
        snprintf(root, sizeof(root), "/tmp/test-osd-record-XXXXXX");
        if (!mkdtemp(root))
                return 1;
        RUN(test_none_before_the_first_osd);
        RUN(test_saved_and_read_back);
        RUN(test_not_a_record);
        RUN(test_ids_of_the_node);
        RUN(test_removed);
        RUN(test_kept_before_the_record_file);
        char cmd[128];
        snprintf(cmd, sizeof(cmd), "rm -rf %s", root);
        if (system(cmd) != 0)
                return 1;
        return tap_done();
}
