/* SPDX-License-Identifier: Apache-2.0 */
/* Runs a libFuzzer target over files given on the command line, so that the seed corpus is replayed by
 * every test run even where the compiler has no libFuzzer (as systemd's fuzz-main.c does). */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>

#include "fileio.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int main(int argc, char **argv) {
        for (int i = 1; i < argc; i++) {
                char *data;
                size_t size;
                int r = read_full_file(argv[i], 16 * 1024 * 1024, &data, &size);
                if (r < 0) {
                        fprintf(stderr, "%s: cannot read\n", argv[i]);
                        return 1;
                }
                LLVMFuzzerTestOneInput((const uint8_t *) data, size);
                free(data);
                printf("ok %d - %s\n", i, argv[i]);
        }
        printf("1..%d\n", argc - 1);
        return 0;
}
