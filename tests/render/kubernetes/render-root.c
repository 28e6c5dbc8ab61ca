/* SPDX-License-Identifier: Apache-2.0 */
/* Test helper: render-root INVENTORY NODE ROOT RENDERER... writes what the named renderers give NODE under
 * ROOT with the real writer, so that test-real-programs.sh can hand the files to etcd and containerd
 * without depending on the command line of `clusterboot render`. */
#include <stdio.h>
#include <string.h>

#include "inventory.h"
#include "plan.h"
#include "render.h"
#include "writer.h"

int main(int argc, char **argv) {
        if (argc < 5) {
                fprintf(stderr, "usage: %s INVENTORY NODE ROOT RENDERER...\n", argv[0]);
                return 2;
        }
        Report report;
        report_init(&report, NULL);
        Inventory *inv = NULL;
        int r = inventory_load_and_validate(argv[1], &report, &inv);
        if (r < 0 || report.n_errors > 0) {
                report_print_text(&report, stderr);
                fprintf(stderr, "%s: invalid inventory\n", argv[1]);
                goto fail;
        }
        const Node *n = inventory_find_node(inv, argv[2]);
        if (!n) {
                fprintf(stderr, "%s: no node %s\n", argv[1], argv[2]);
                goto fail;
        }
        ClusterIds ids;
        if (cluster_ids_derive(inv, &ids) < 0)
                goto fail;
        RenderContext c = { .inv = inv, .node = n, .first_master = plan_first_master(inv), .ids = &ids };
        RenderSet set = {};
        for (int a = 4; a < argc; a++)
                for (size_t i = 0; i < n_renderers; i++) {
                        if (!streq(renderers[i].name, argv[a]) || (renderers[i].applies && !renderers[i].applies(n)))
                                continue;
                        r = renderers[i].render(&c, &set);
                        if (r < 0) {
                                fprintf(stderr, "renderer %s: %s\n", argv[a], strerror(-r));
                                render_set_done(&set);
                                goto fail;
                        }
                }
        const RenderedFile *failed = NULL;
        r = render_set_write(&set, argv[3], false, NULL, NULL, &failed);
        if (r < 0)
                fprintf(stderr, "writing %s: %s\n", failed ? failed->path : argv[3], strerror(-r));
        render_set_done(&set);
        inventory_free(inv);
        report_done(&report);
        return r < 0 ? 1 : 0;
fail:
        inventory_free(inv);
        report_done(&report);
        return 1;
}
