/* SPDX-License-Identifier: Apache-2.0 */
/* run_program() and run_program_io(): the child's exit status, what it printed (the end of it when it
 * printed much), and what image build gives its tools: environment, working directory, stdin and stdout. */
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "fileio.h"
#include "process.h"
#include "tap.h"

TEST(test_status_and_output) {
        char *out = NULL;
        ASSERT_INT_EQ(run_program((char *[]) { "/bin/sh", "-c", "echo out; echo err >&2; exit 3", NULL }, &out), 3);
        ASSERT_STREQ(out, "out\nerr\n");
        free(out);
        /* Not startable: an errno, not an exit status. */
        ASSERT_TRUE(run_program((char *[]) { "/nonexistent/tool", NULL }, NULL) < 0);
}

/* A tool that fails after much output: what is kept is the end, where it says why. */
TEST(test_output_keeps_the_end) {
        char *out = NULL;
        ASSERT_INT_EQ(run_program((char *[]) { "/bin/sh", "-c", "seq 1 100000; echo the-reason", NULL }, &out), 0);
        ASSERT_NOT_NULL(out);
        ASSERT_TRUE(strlen(out) <= 64 * 1024);
        ASSERT_TRUE(strlen(out) > 60 * 1024);
        ASSERT_TRUE(strstr(out, "99999\n100000\nthe-reason\n") != NULL);
        free(out);
}

TEST(test_io) {
        char dir[] = "/tmp/test-process-XXXXXX";
        ASSERT_NOT_NULL(mkdtemp(dir));
        char in[64], outf[64];
        snprintf(in, sizeof(in), "%s/in", dir);
        snprintf(outf, sizeof(outf), "%s/out", dir);
        ASSERT_INT_EQ(write_file_atomic(in, "from stdin\n", 11, 0644), 0);
        const char *env[] = { "SOURCE_DATE_EPOCH=42", NULL };
        ProgramIO io = { .env = env, .cwd = dir, .stdin_path = in, .stdout_path = outf };
        char *msg = NULL;
        ASSERT_INT_EQ(run_program_io((char *[]) { "/bin/sh", "-c", "cat; echo $SOURCE_DATE_EPOCH; pwd; echo to-stderr >&2",
                                                  NULL },
                                     &io, &msg),
                      0);
        ASSERT_STREQ(msg, "to-stderr\n"); /* stdout went to the file */
        free(msg);
        char *data = NULL;
        size_t size;
        ASSERT_INT_EQ(read_full_file(outf, 4096, &data, &size), 0);
        char want[128];
        snprintf(want, sizeof(want), "from stdin\n42\n%s\n", dir);
        ASSERT_STREQ(data, want);
        free(data);
        unlink(in);
        unlink(outf);
        rmdir(dir);
}

int main(void) {
        RUN(test_status_and_output);
        RUN(test_output_keeps_the_end);
        RUN(test_io);
        printf("1..%u\n", tap_count);
        return tap_failed ? 1 : 0;
}
