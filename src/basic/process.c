/* SPDX-License-Identifier: Apache-2.0 */
#include <errno.h>
#include <fcntl.h>
#include <spawn.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "macro.h"
#include "process.h"
#include "string-util.h"
#include "banned.h"

#define OUTPUT_MAX (64 * 1024)

#define PATH_ENV "PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"
#define ENV_MAX 16

int run_program(char *const argv[], char **ret_output) {
        return run_program_io(argv, NULL, ret_output);
}

int run_program_io(char *const argv[], const ProgramIO *io, char **ret_output) {
        static const ProgramIO none = {};
        if (!io)
                io = &none;
        char *envp[ENV_MAX + 2] = { (char *) PATH_ENV };
        size_t n_env = 1;
        for (const char *const *e = io->env; e && *e; e++) {
                if (n_env > ENV_MAX)
                        return -E2BIG;
                envp[n_env++] = (char *) *e;
        }

        int fds[2];
        if (pipe2(fds, O_CLOEXEC) < 0)
                return -errno;
        posix_spawn_file_actions_t fa;
        posix_spawn_file_actions_init(&fa);
        posix_spawn_file_actions_addopen(&fa, 0, io->stdin_path ?: "/dev/null", O_RDONLY, 0);
        if (io->stdout_path)
                posix_spawn_file_actions_addopen(&fa, 1, io->stdout_path, O_WRONLY | O_CREAT | O_TRUNC, 0644);
        else
                posix_spawn_file_actions_adddup2(&fa, fds[1], 1);
        if (!io->pass_stderr)
                posix_spawn_file_actions_adddup2(&fa, fds[1], 2);
        if (io->cwd)
                posix_spawn_file_actions_addchdir_np(&fa, io->cwd);
        /* Nothing else of this process: libcurl's kept connections to etcd are not opened close-on-exec. */
        posix_spawn_file_actions_addclosefrom_np(&fa, 3);
        pid_t pid;
        int r = -posix_spawn(&pid, argv[0], &fa, NULL, argv, envp);
        posix_spawn_file_actions_destroy(&fa);
        close(fds[1]);
        if (r < 0) {
                close(fds[0]);
                return r;
        }

        StrBuf out = {};
        char buf[4096];
        for (;;) {
                ssize_t n = read(fds[0], buf, sizeof(buf));
                if (n < 0 && errno == EINTR)
                        continue;
                if (n <= 0)
                        break;
                /* The last OUTPUT_MAX bytes: a failing tool says why at the end. */
                if (out.len + (size_t) n > OUTPUT_MAX) {
                        size_t drop = MIN(out.len, out.len + (size_t) n - OUTPUT_MAX);
                        memmove(out.s, out.s + drop, out.len - drop);
                        out.len -= drop;
                        out.s[out.len] = 0;
                }
                (void) strbuf_appendn(&out, buf, (size_t) n);
        }
        close(fds[0]);
        int status;
        while (waitpid(pid, &status, 0) < 0)
                if (errno != EINTR) {
                        strbuf_done(&out);
                        return -errno;
                }
        if (ret_output)
                *ret_output = out.s ? strbuf_steal(&out) : strdup("");
        else
                strbuf_done(&out);
        return WIFEXITED(status) ? WEXITSTATUS(status) : -ECHILD;
}
