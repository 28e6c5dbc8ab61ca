/* SPDX-License-Identifier: Apache-2.0 */
#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <unistd.h>

#include "fileio.h"
#include "tap.h"

static char dir[] = "/tmp/test-fileio-XXXXXX";

static unsigned count_entries(void) {
        unsigned n = 0;
        DIR *d = opendir(dir);
        struct dirent *de;
        while ((de = readdir(d)))
                n += de->d_name[0] != '.';
        closedir(d);
        return n;
}

TEST(test_atomic_write_and_read) {
        char path[64], *data;
        size_t size;
        struct stat st;

        snprintf(path, sizeof(path), "%s/key", dir);
        ASSERT_INT_EQ(write_file_atomic(path, "secret", 6, 0600), 0);
        ASSERT_INT_EQ(stat(path, &st), 0);
        ASSERT_INT_EQ(st.st_mode & 07777, 0600);
        ASSERT_INT_EQ(read_full_file(path, 100, &data, &size), 0);
        ASSERT_INT_EQ(size, 6);
        ASSERT_STREQ(data, "secret");
        free(data);

        /* Replacing keeps one file, with the new content and mode; no temporary file is left. */
        ASSERT_INT_EQ(write_file_atomic(path, "public\n", 7, 0644), 0);
        ASSERT_INT_EQ(stat(path, &st), 0);
        ASSERT_INT_EQ(st.st_mode & 07777, 0644);
        ASSERT_INT_EQ(count_entries(), 1);
}

TEST(test_write_failure_leaves_nothing) {
        char path[96];
        snprintf(path, sizeof(path), "%s/missing-dir/file", dir);
        ASSERT_INT_EQ(write_file_atomic(path, "x", 1, 0644), -ENOENT);
        ASSERT_INT_EQ(count_entries(), 1);
}

TEST(test_read_limits) {
        char path[64], *data;
        snprintf(path, sizeof(path), "%s/key", dir);
        ASSERT_INT_EQ(read_full_file(path, 3, &data, NULL), -EFBIG);
        /* A file of exactly the limit is fine ("public\n" is 7 bytes). */
        size_t size;
        ASSERT_INT_EQ(read_full_file(path, 7, &data, &size), 0);
        ASSERT_INT_EQ(size, 7);
        free(data);
        ASSERT_INT_EQ(read_full_file(path, 6, &data, NULL), -EFBIG);
        ASSERT_INT_EQ(read_full_file(dir, 100, &data, NULL), -EISDIR);
        ASSERT_INT_EQ(read_full_file("/nonexistent/x", 100, &data, NULL), -ENOENT);
}

int main(void) {
        if (!mkdtemp(dir))
                return 1;
        RUN(test_atomic_write_and_read);
        RUN(test_write_failure_leaves_nothing);
        RUN(test_read_limits);
        char path[64];
        snprintf(path, sizeof(path), "%s/key", dir);
        unlink(path);
        rmdir(dir);
        return tap_done();
}
