/* SPDX-License-Identifier: Apache-2.0 */
#pragma once

#include <stdbool.h>

/* Runs the program argv[0] (an absolute path) with argv and an empty environment but PATH, waits for it,
 * and returns its exit status (0-255), or a negative errno when it could not be started or was killed by
 * a signal (-ECHILD). Its standard output and error, the last 64 KiB of them, go to *ret_output (malloc()ed, NUL
 * terminated; may be NULL) for an error message. stdin is /dev/null. */
int run_program(char *const argv[], char **ret_output);

/* run_program() with more say over the child: */
typedef struct ProgramIO {
        const char *const *env; /* NULL-terminated "NAME=VALUE"s added to PATH; may be NULL */
        const char *cwd;        /* its working directory; NULL: ours */
        const char *stdin_path; /* read from this file; NULL: /dev/null */
        const char *stdout_path; /* standard output to this file (created 0644, truncated); NULL: captured
                                  * with standard error */
        bool pass_stderr;        /* standard error is ours (the user sees a long job's progress as it
                                  * comes), not captured */
} ProgramIO;
int run_program_io(char *const argv[], const ProgramIO *io, char **ret_output);
