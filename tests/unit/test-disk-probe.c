/* SPDX-License-Identifier: Apache-2.0 */
/* What blkid -p says a disk holds: the rule by which a disk counts as blank (state disk, Ceph OSDs). */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

#include "disk-probe.h"
#include "tap.h"

TEST(test_blkid) {
        DiskContent c = {};
        /* blkid -p exits 2 when it finds no signature: a blank disk. */
        ASSERT_INT_EQ(disk_content_parse(2, "", &c), 0);
        ASSERT_TRUE(c.blank);
        ASSERT_NULL(c.type);
        ASSERT_INT_EQ(disk_content_parse(0, "DEVNAME=/dev/vdb\nUUID=0b9e\nVERSION=1.0\nLABEL=data\nTYPE=ext4\nUSAGE=filesystem\n", &c), 0);
        ASSERT_TRUE(!c.blank);
        ASSERT_STREQ(c.type, "ext4");
        /* A partitioned disk: its table is what it holds. */
        ASSERT_INT_EQ(disk_content_parse(0, "DEVNAME=/dev/vdb\nPTUUID=5c1e\nPTTYPE=gpt", &c), 0);
        ASSERT_STREQ(c.type, "gpt");
        /* A file system names itself before a table some tools leave in front of it. */
        ASSERT_INT_EQ(disk_content_parse(0, "PTTYPE=dos\nTYPE=vfat\n", &c), 0);
        ASSERT_STREQ(c.type, "vfat");
        /* A Ceph OSD's BlueStore label, as blkid 2.38 reports it. */
        ASSERT_INT_EQ(disk_content_parse(0, "DEVNAME=/dev/sdb\nTYPE=ceph_bluestore\nUSAGE=other\n", &c), 0);
        ASSERT_STREQ(c.type, "ceph_bluestore");
        /* blkid failing is no answer: the disk is not taken as blank. */
        ASSERT_INT_EQ(disk_content_parse(4, "blkid: error: /dev/vdb: No such file or directory\n", &c), -EINVAL);
        ASSERT_INT_EQ(disk_content_parse(0, "DEVNAME=/dev/vdb\n", &c), -EINVAL);
        ASSERT_STREQ(c.type, "ceph_bluestore");
        ASSERT_TRUE(!c.blank);
        disk_content_done(&c);
}

TEST(test_probe_a_file) {
        /* The real blkid on files: zeros are blank; a BlueStore label is named. */
        char path[] = "/tmp/test-disk-probe-XXXXXX";
        int fd = mkstemp(path);
        ASSERT_TRUE(fd >= 0);
        ASSERT_INT_EQ(ftruncate(fd, 1 << 20), 0);
        DiskContent c = {};
        char *why = NULL;
        int r = disk_probe(path, &c, &why);
        bool blank = c.blank;
        static const char label[] = "bluestore block device\n2b6b3b8a-1111-4a6f-9a7e-0123456789ab\n";
        bool written = pwrite(fd, label, sizeof(label) - 1, 0) == (ssize_t) (sizeof(label) - 1);
        int r2 = disk_probe(path, &c, &why);
        close(fd);
        unlink(path);
        ASSERT_INT_EQ(r, 0);
        ASSERT_TRUE(blank);
        ASSERT_TRUE(written);
        ASSERT_INT_EQ(r2, 0);
        ASSERT_STREQ(c.type, "ceph_bluestore");
        disk_content_done(&c);
        /* A device that is not there is not blank (blkid -p alone would say "nothing found"). */
        ASSERT_INT_EQ(disk_probe("/dev/clusterboot-test-no-such-disk", &c, &why), -ENOENT);
        ASSERT_TRUE(!c.blank);
        ASSERT_NOT_NULL(why);
        free(why);
}

int main(void) {
        RUN(test_blkid);
        RUN(test_probe_a_file);
        printf("1..%u\n", tap_count);
        return tap_failed ? 1 : 0;
}
