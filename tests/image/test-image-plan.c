/* SPDX-License-Identifier: Apache-2.0 */
/* The decisions of `clusterboot image build` (src/image/image-plan.c), in-process: formats, the packages
 * an inventory needs, identifiers and layout, and the boot files against tests/image/golden (UPDATE=1
 * rewrites them: review the diff). tests/image/test-image-build.sh runs the tools and boots the outputs. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "fileio.h"
#include "image.h"
#include "tap.h"
#include "test-inventory-util.h"

static const char *examples, *golden_dir;

static bool has(char *const *v, size_t n, const char *s) {
        for (size_t i = 0; i < n; i++)
                if (streq(v[i], s))
                        return true;
        return false;
}

static void free_strv(char **v, size_t n) {
        for (size_t i = 0; i < n; i++)
                free(v[i]);
        free(v);
}

TEST(test_formats) {
        unsigned f = 0;
        const char *bad = NULL;
        ASSERT_INT_EQ(image_formats_parse("disk,netboot", &f, &bad), 0);
        ASSERT_INT_EQ(f, IMAGE_FORMAT_DISK | IMAGE_FORMAT_NETBOOT);
        ASSERT_INT_EQ(image_formats_parse("netboot", &f, &bad), 0);
        ASSERT_INT_EQ(f, IMAGE_FORMAT_NETBOOT);
        ASSERT_INT_EQ(image_formats_parse("tree,disk", &f, &bad), 0);
        ASSERT_INT_EQ(f, IMAGE_FORMAT_TREE | IMAGE_FORMAT_DISK);
        ASSERT_INT_EQ(image_formats_parse("iso,disk", &f, &bad), 0);
        ASSERT_INT_EQ(f, IMAGE_FORMAT_ISO | IMAGE_FORMAT_DISK);
        /* A typo names the word. */
        ASSERT_INT_EQ(image_formats_parse("disk,netbot", &f, &bad), -EINVAL);
        ASSERT_STREQ(bad, "netbot");
        ASSERT_INT_EQ(image_formats_parse("", &f, &bad), -EINVAL);
}

/* The image carries what the inventory's roles run and nothing of roles it does not have. */
TEST(test_packages) {
        Inventory *inv = test_load_example(examples, "homelab");
        ASSERT_NOT_NULL(inv);
        char **v = NULL;
        size_t n = 0;
        ASSERT_INT_EQ(image_packages(inv, &v, &n), 0);
        inventory_free(inv);
        bool sorted = true;
        for (size_t i = 1; i < n; i++)
                sorted = sorted && strcmp(v[i - 1], v[i]) < 0; /* sorted, each once */
        bool ok = sorted && has(v, n, "systemd") && has(v, n, "linux-image-amd64") && has(v, n, "busybox") &&
                  has(v, n, "systemd-boot-efi") && has(v, n, "etcd-server") && has(v, n, "ceph-mon") &&
                  has(v, n, "ceph-osd") && has(v, n, "mosquitto") && has(v, n, "default-jre-headless") &&
                  has(v, n, "containerd") && has(v, n, "containernetworking-plugins") && has(v, n, "iptables") &&
                  has(v, n, "conntrack") && v[n] == NULL;
        char *joined = image_packages_join(v, n);
        if (!ok)
                printf("# packages: %s\n", joined);
        ASSERT_TRUE(joined && strncmp(joined, "busybox,ceph-common,", 20) == 0);
        free(joined);
        free_strv(v, n);
        ASSERT_TRUE(ok);

        static const char *const small[] = { "cluster.yaml",
                                             "cluster:\n"
                                             "  name: t\n"
                                             "  services: [kubernetes, mqtt]\n"
                                             "  networking:\n"
                                             "    node_cidr: 10.0.0.0/24\n"
                                             "    pod_cidr: 10.244.0.0/16\n"
                                             "    service_cidr: 10.96.0.0/12\n"
                                             "  auto_register: { enabled: true, role: mqtt-broker }\n"
                                             "nodes:\n"
                                             "  - { name: m, ip: 10.0.0.10, roles: [master] }\n",
                                             NULL };
        inv = test_load_mem(small);
        ASSERT_NOT_NULL(inv);
        ASSERT_INT_EQ(image_packages(inv, &v, &n), 0);
        inventory_free(inv);
        /* No MQTT, Kafka or Ceph monitor here; an auto-registered machine's role counts. */
        ok = has(v, n, "etcd-server") && has(v, n, "mosquitto") && !has(v, n, "ceph-mon") && !has(v, n, "ceph-osd") &&
             !has(v, n, "default-jre-headless");
        free_strv(v, n);
        ASSERT_TRUE(ok);
}

/* The same cluster gets the same identifiers (so the same bytes), another cluster others. */
TEST(test_ids) {
        Inventory *a = test_load_example(examples, "homelab"), *b = test_load_example(examples, "homelab"),
                  *c = test_load_example(examples, "ha");
        ASSERT_TRUE(a && b && c);
        ImageIds ia, ib, ic;
        ASSERT_INT_EQ(image_ids(a, &ia), 0);
        ASSERT_INT_EQ(image_ids(b, &ib), 0);
        ASSERT_INT_EQ(image_ids(c, &ic), 0);
        inventory_free(a);
        inventory_free(b);
        inventory_free(c);
        ASSERT_TRUE(memcmp(&ia, &ib, sizeof(ia)) == 0);
        ASSERT_TRUE(strcmp(ia.root, ic.root) != 0 && strcmp(ia.disk, ic.disk) != 0);
        ASSERT_TRUE(strcmp(ia.root, ia.esp) != 0 && strcmp(ia.root, ia.root_fs) != 0);
        ASSERT_INT_EQ(strlen(ia.root), 36);
        ASSERT_TRUE(ia.root[14] == '8'); /* RFC 9562 version 8 */
        ASSERT_INT_EQ(strlen(ia.fat_serial), 8);
}

TEST(test_layout) {
        ImageLayout l;
        image_layout(1000 * IMAGE_MIB + 5, &l);
        ASSERT_INT_EQ(l.esp_offset, IMAGE_MIB);
        ASSERT_INT_EQ(l.root_offset, l.esp_offset + l.esp_size);
        ASSERT_INT_EQ(l.root_size % IMAGE_MIB, 0);
        /* Room for ext4's metadata and the first boot's writes. */
        ASSERT_TRUE(l.root_size >= 1000 * IMAGE_MIB + 1000 * IMAGE_MIB / 3 + 512 * IMAGE_MIB);
        ASSERT_INT_EQ(l.disk_size, l.root_offset + l.root_size + IMAGE_MIB);
}

static bool same_as_golden(const char *name, const char *text) {
        char path[4096], *golden = NULL;
        size_t size = 0;
        snprintf(path, sizeof(path), "%s/%s", golden_dir, name);
        if (getenv("UPDATE"))
                (void) write_file_atomic(path, text, strlen(text), 0644);
        bool same = read_full_file(path, 1 << 20, &golden, &size) >= 0 && size == strlen(text) &&
                    memcmp(golden, text, size) == 0;
        if (!same)
                printf("# %s differs; got:\n%s\n", path, text);
        free(golden);
        return same;
}

TEST(test_boot_files_golden) {
        Inventory *inv = test_load_example(examples, "homelab");
        ASSERT_NOT_NULL(inv);
        ImageIds ids;
        ImageLayout l;
        ASSERT_INT_EQ(image_ids(inv, &ids), 0);
        image_layout(800 * IMAGE_MIB, &l);
        char *sfdisk = image_sfdisk_script(&l, &ids), *loader = image_loader_conf(),
             *entry = image_loader_entry(inv, "6.1.0-50-amd64", &ids), *ipxe = image_ipxe_script(inv),
             *cmdline = image_live_cmdline(), *grub = image_grub_cfg(inv), *early = image_grub_early_cfg(&ids);
        inventory_free(inv);
        bool ok = sfdisk && loader && entry && ipxe && cmdline && grub && early;
        /* Every file compared (and, with UPDATE=1, written), not only up to the first that differs. */
        const struct {
                const char *name, *text;
        } golden[] = { { "homelab.sfdisk", sfdisk },     { "loader.conf", loader },          { "homelab-entry.conf", entry },
                       { "homelab-boot.ipxe", ipxe },    { "cmdline.txt", cmdline },         { "homelab-grub.cfg", grub },
                       { "homelab-grub-early.cfg", early } };
        bool same = true;
        for (size_t i = 0; ok && i < ELEMENTSOF(golden); i++)
                if (!same_as_golden(golden[i].name, golden[i].text))
                        same = false;
        ok = ok && same;
        /* The ISO boots the kernel with live.img at once, on the command line netboot's cmdline.txt holds, and
         * GRUB finds the medium by the disk GUID's marker file. */
        char want_linux[512], marker[128];
        snprintf(want_linux, sizeof(want_linux), "\tlinux /live/vmlinuz %s", ok ? cmdline : "");
        snprintf(marker, sizeof(marker), IMAGE_ISO_MARKER_DIR "/%s\n", ids.disk);
        ok = ok && strstr(grub, want_linux) && strstr(grub, "\tinitrd /live/live.img\n") &&
             strstr(grub, "set timeout=0\n") && strstr(early, marker);
        /* The disk boots the partition it was given, with the command line every output shares. */
        char want[128];
        snprintf(want, sizeof(want), "options root=PARTUUID=%s " IMAGE_CMDLINE "\n", ids.root);
        ok = ok && strstr(entry, want) && strstr(sfdisk, ids.root) && strstr(cmdline, IMAGE_CMDLINE);
        free(sfdisk);
        free(loader);
        free(entry);
        free(ipxe);
        free(cmdline);
        free(grub);
        free(early);
        ASSERT_TRUE(ok);
}

/* The tree gets the initramfs boot script and its hook (executable, or mkinitramfs skips it), the growth of
 * the root partition, and an fstab naming disk.raw's root by its GUID. */
TEST(test_tree_files) {
        Inventory *inv = test_load_example(examples, "homelab");
        ASSERT_NOT_NULL(inv);
        ImageIds ids;
        ASSERT_INT_EQ(image_ids(inv, &ids), 0);
        inventory_free(inv);
        RenderSet set = {};
        ASSERT_INT_EQ(image_tree_files(&ids, &set), 0);
        const RenderedFile *script = render_set_find(&set, "/usr/share/initramfs-tools/scripts/clusterboot");
        const RenderedFile *hook = render_set_find(&set, "/usr/share/initramfs-tools/hooks/clusterboot");
        const RenderedFile *repart = render_set_find(&set, "/usr/lib/repart.d/50-root.conf");
        const RenderedFile *fstab = render_set_find(&set, "/etc/fstab");
        char want[128];
        snprintf(want, sizeof(want), "PARTUUID=%s / ext4 rw,x-systemd.growfs 0 1\n", ids.root);
        bool ok = script && strstr(script->content, "mountroot()") && hook && hook->mode == 0755 && repart &&
                  strstr(repart->content, "Type=root") && fstab && strstr(fstab->content, want);
        render_set_done(&set);
        ASSERT_TRUE(ok);
}

int main(int argc, char **argv) {
        if (argc < 3) {
                fprintf(stderr, "usage: %s EXAMPLES_DIR GOLDEN_DIR\n", argv[0]);
                return 2;
        }
        examples = argv[1];
        golden_dir = argv[2];
        printf("1..6\n");
        RUN(test_formats);
        RUN(test_packages);
        RUN(test_ids);
        RUN(test_layout);
        RUN(test_boot_files_golden);
        RUN(test_tree_files);
        return tap_failed ? 1 : 0;
}
