/* SPDX-License-Identifier: Apache-2.0 */
/* rm_rf() and the file copies that image build uses for its outputs. */
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "fileio.h"
#include "fs-util.h"
#include "tap.h"

static char dir[] = "/tmp/test-fs-util-XXXXXX";

static void put(const char *rel, const char *content) {
        char p[256];
        snprintf(p, sizeof(p), "%s/%s", dir, rel);
        mkdir_parents(p, 0755);
        write_file_atomic(p, content, strlen(content), 0644);
}

TEST(test_rm_rf) {
        put("a/b/c/file", "x");
        put("a/other", "y");
        char a[256], link[256];
        snprintf(a, sizeof(a), "%s/a", dir);
        snprintf(link, sizeof(link), "%s/a/b/to-outside", dir);
        /* A symlink is removed, not followed: what it points at stays. */
        put("outside", "keep");
        char outside[256];
        snprintf(outside, sizeof(outside), "%s/outside", dir);
        ASSERT_INT_EQ(symlink(outside, link), 0);
        ASSERT_INT_EQ(rm_rf(a), 0);
        ASSERT_TRUE(access(a, F_OK) < 0);
        ASSERT_INT_EQ(access(outside, F_OK), 0);
        /* Missing: nothing to do. A file: removed. */
        ASSERT_INT_EQ(rm_rf(a), 0);
        ASSERT_INT_EQ(rm_rf(outside), 0);
        ASSERT_TRUE(access(outside, F_OK) < 0);
}

TEST(test_copies) {
        put("src", "0123456789");
        char src[256], dst[256];
        snprintf(src, sizeof(src), "%s/src", dir);
        snprintf(dst, sizeof(dst), "%s/dst", dir);
        ASSERT_INT_EQ(copy_file_atomic(src, dst, 0600), 0);
        char *data = NULL;
        size_t size;
        ASSERT_INT_EQ(read_full_file(dst, 100, &data, &size), 0);
        ASSERT_STREQ(data, "0123456789");
        free(data);
        struct stat st;
        ASSERT_INT_EQ(stat(dst, &st), 0);
        ASSERT_INT_EQ(st.st_mode & 07777, 0600);

        /* Appending: live.img is the initrd, then the squashfs's archive. */
        int fd = open(dst, O_WRONLY | O_APPEND | O_CLOEXEC);
        ASSERT_TRUE(fd >= 0);
        ASSERT_INT_EQ(copy_file_to_fd(src, fd), 0);
        close(fd);
        ASSERT_INT_EQ(read_full_file(dst, 100, &data, &size), 0);
        ASSERT_STREQ(data, "01234567890123456789");
        free(data);
        ASSERT_TRUE(copy_file_atomic("/nonexistent", dst, 0644) < 0);
}

int main(void) {
        if (!mkdtemp(dir))
                return 1;
        RUN(test_rm_rf);
        RUN(test_copies);
        rm_rf(dir);
        printf("1..%u\n", tap_count);
        return tap_failed ? 1 : 0;
}
