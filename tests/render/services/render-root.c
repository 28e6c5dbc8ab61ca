/* SPDX-License-Identifier: Apache-2.0 */
/* render-root INVENTORY NODE ROOT [RENDERER...]: what `clusterboot render --node NODE --root ROOT` does,
 * for test-real-programs.sh when the binary cannot do it yet. Renders every renderer that applies, or only
 * the ones named, and writes the files under ROOT. */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "inventory.h"
#include "render.h"
#include "writer.h"

static int render_one(const Inventory *inv, const Node *node, const char *only, const char *root) {
        RenderSet s = {};
        const char *failed = NULL;
        const RenderedFile *failed_file = NULL;
        int r = render_node(inv, node, NULL, only, &s, &failed);
        if (r < 0)
                fprintf(stderr, "render-root: renderer %s failed: %s\n", failed ?: only ?: "?", strerror(-r));
        else {
                r = render_set_write(&s, root, false, NULL, NULL, &failed_file);
                if (r < 0)
                        fprintf(stderr, "render-root: cannot write %s: %s\n",
                                failed_file ? failed_file->path : "?", strerror(-r));
        }
        render_set_done(&s);
        return r;
}

int main(int argc, char **argv) {
        if (argc < 4) {
                fprintf(stderr, "usage: %s INVENTORY NODE ROOT [RENDERER...]\n", argv[0]);
                return 2;
        }
        Report report;
        Inventory *inv = NULL;
        report_init(&report, NULL);
        int r = inventory_load_and_validate(argv[1], &report, &inv);
        if (r < 0 || report.n_errors > 0) {
                report_sort(&report);
                report_print_text(&report, stderr);
                r = -EINVAL;
                goto finish;
        }
        const Node *node = inventory_find_node(inv, argv[2]);
        if (!node) {
                fprintf(stderr, "render-root: no node '%s'\n", argv[2]);
                r = -ENOENT;
                goto finish;
        }
        if (argc == 4)
                r = render_one(inv, node, NULL, argv[3]);
        for (int i = 4; i < argc && r >= 0; i++)
                r = render_one(inv, node, argv[i], argv[3]);
finish:
        inventory_free(inv);
        report_done(&report);
        return r < 0 ? 1 : 0;
}
