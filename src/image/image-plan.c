/* SPDX-License-Identifier: Apache-2.0 */
/* The decisions of `clusterboot image build`, pure: which packages, identifiers, layout and boot files. */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/sha.h>

#include "image-files.h"
#include "image.h"
#include "inventory.h"
#include "string-util.h"
#include "banned.h"

int image_formats_parse(const char *s, unsigned *ret, const char **ret_bad) {
        static const struct {
                const char *name;
                ImageFormat format;
        } table[] = {
                { "disk", IMAGE_FORMAT_DISK },
                { "netboot", IMAGE_FORMAT_NETBOOT },
                { "iso", IMAGE_FORMAT_ISO },
                { "tree", IMAGE_FORMAT_TREE },
        };
        static char bad[32];
        unsigned formats = 0;
        const char *p = s;
        for (;;) {
                size_t n = strcspn(p, ",");
                size_t i = 0;
                while (i < ELEMENTSOF(table) && !(strlen(table[i].name) == n && strncmp(p, table[i].name, n) == 0))
                        i++;
                if (i == ELEMENTSOF(table)) {
                        snprintf(bad, sizeof(bad), "%.*s", (int) MIN(n, sizeof(bad) - 1), p);
                        if (ret_bad)
                                *ret_bad = bad;
                        return -EINVAL;
                }
                formats |= table[i].format;
                if (!p[n])
                        break;
                p += n + 1;
        }
        *ret = formats;
        return 0;
}

/* What every machine runs: systemd with udev (drivers, NICs by MAC), networkd's iproute2, the kernel and an
 * initramfs that can mount a squashfs under an overlay (busybox), systemd-boot for the ESP, e2fsprogs to
 * check and grow the root, and clusterboot's own libraries. */
static const char *const base_packages[] = {
        "busybox",       "dbus",         "e2fsprogs",          "initramfs-tools", "iproute2",
        "kmod",          "libcurl4",     "libevent-2.1-7",     "libevent-openssl-2.1-7",
        "libjansson4",   "libssl3",      "libsystemd0",        "libyaml-0-2",     IMAGE_KERNEL_PACKAGE,
        "systemd",       "systemd-boot-efi", "systemd-sysv",   "udev",
};

/* What each role runs that Debian ships (the rest comes from the components lock, components.h). */
static const char *const *role_packages(Role r) {
        /* A kubelet node: containerd and runc; the CNI plugins containerd's bridge network runs (/usr/lib/cni);
         * iptables and conntrack, which kube-proxy and flanneld drive. */
#define KUBELET_PACKAGES "containerd", "runc", "containernetworking-plugins", "iptables", "conntrack"
        static const char *const master[] = { "etcd-server", "etcd-client", KUBELET_PACKAGES, NULL };
        static const char *const worker[] = { KUBELET_PACKAGES, NULL };
#undef KUBELET_PACKAGES
        static const char *const kafka[] = { "default-jre-headless", NULL };
        /* python3-cffi-backend: ceph-mgr's python3-bcrypt depends on a virtual package it provides, which
         * debootstrap does not resolve. */
        static const char *const ceph_mon[] = { "ceph-mon", "ceph-mgr", "ceph-common", "python3-cffi-backend", NULL };
        static const char *const ceph_osd[] = { "ceph-osd", "ceph-common", "lvm2", NULL };
        static const char *const mqtt[] = { "mosquitto", "mosquitto-clients", NULL };
        static const char *const none[] = { NULL };
        switch (r) {
        case ROLE_MASTER:
                return master;
        case ROLE_WORKER:
                return worker;
        case ROLE_KAFKA_BROKER:
                return kafka;
        case ROLE_CEPH_MON:
                return ceph_mon;
        case ROLE_CEPH_OSD:
                return ceph_osd;
        case ROLE_MQTT_BROKER:
                return mqtt;
        default:
                return none;
        }
}

static int cmp_str(const void *a, const void *b) {
        return strcmp(*(char *const *) a, *(char *const *) b);
}

void image_roles(const Inventory *inv, bool ret[static _ROLE_MAX]) {
        for (Role r = 0; r < _ROLE_MAX; r++)
                ret[r] = false;
        for (size_t i = 0; i < inv->n_nodes; i++)
                for (Role r = 0; r < _ROLE_MAX; r++)
                        ret[r] = ret[r] || inv->nodes[i].roles[r];
        /* A machine not in the inventory joins with auto_register's role: the image must run it too. */
        if (inv->cluster.auto_register.enabled.v) {
                Role auto_role = role_from_string(inventory_auto_role(inv));
                if (auto_role >= 0)
                        ret[auto_role] = true;
        }
}

int image_packages(const Inventory *inv, char ***ret, size_t *ret_n) {
        bool used[_ROLE_MAX];
        image_roles(inv, used);

        size_t n = 0, allocated = 0;
        char **v = NULL;
        int r = 0;
        for (int pass = -1; r >= 0 && pass < _ROLE_MAX; pass++) {
                const char *const *list = pass < 0 ? base_packages : role_packages((Role) pass);
                size_t count = pass < 0 ? ELEMENTSOF(base_packages) : SIZE_MAX;
                if (pass >= 0 && !used[pass])
                        continue;
                for (size_t i = 0; i < count && list[i]; i++) {
                        if (!GREEDY_REALLOC(v, allocated, n + 2) || !(v[n] = strdup(list[i]))) {
                                r = -ENOMEM;
                                break;
                        }
                        v[++n] = NULL;
                }
        }
        if (r < 0 || !v) {
                for (size_t i = 0; i < n; i++)
                        free(v[i]);
                free(v);
                return r < 0 ? r : -ENOMEM;
        }
        qsort(v, n, sizeof(char *), cmp_str);
        size_t k = 0;
        for (size_t i = 0; i < n; i++) {
                if (k > 0 && streq(v[k - 1], v[i]))
                        free(v[i]);
                else
                        v[k++] = v[i];
        }
        v[k] = NULL;
        *ret = v;
        *ret_n = k;
        return 0;
}

char *image_packages_join(char *const *pkgs, size_t n) {
        StrBuf b = {};
        int r = strbuf_append(&b, "");
        for (size_t i = 0; r >= 0 && i < n; i++)
                r = strbuf_printf(&b, "%s%s", i ? "," : "", pkgs[i]);
        if (r < 0) {
                strbuf_done(&b);
                return NULL;
        }
        return strbuf_steal(&b);
}

static int image_hash(const Inventory *inv, const char *what, unsigned char md[static SHA256_DIGEST_LENGTH]) {
        _cleanup_free_ char *seed = strprintf("clusterboot image:%s:%s", strempty(inv->cluster.name.v), what);
        if (!seed)
                return -ENOMEM;
        return SHA256((const unsigned char *) seed, strlen(seed), md) ? 0 : -EIO;
}

int image_uuid(const Inventory *inv, const char *what, char ret[static 37]) {
        unsigned char md[SHA256_DIGEST_LENGTH];
        int r = image_hash(inv, what, md);
        if (r < 0)
                return r;
        uuid_v8_format(md, ret);
        return 0;
}

int image_fat_serial(const Inventory *inv, char ret[static 9]) {
        unsigned char md[SHA256_DIGEST_LENGTH];
        int r = image_hash(inv, "esp-serial", md);
        if (r < 0)
                return r;
        snprintf(ret, 9, "%02x%02x%02x%02x", md[0], md[1], md[2], md[3]);
        return 0;
}

int image_ids(const Inventory *inv, ImageIds *ret) {
        ImageIds ids;
        int r = image_uuid(inv, "disk", ids.disk);
        r = r ?: image_uuid(inv, "esp", ids.esp);
        r = r ?: image_uuid(inv, "root", ids.root);
        r = r ?: image_uuid(inv, "root-fs", ids.root_fs);
        r = r ?: image_fat_serial(inv, ids.fat_serial);
        if (r >= 0)
                *ret = ids;
        return r;
}

static uint64_t round_up_mib(uint64_t bytes) {
        return (bytes + IMAGE_MIB - 1) / IMAGE_MIB * IMAGE_MIB;
}

void image_layout(uint64_t tree_bytes, ImageLayout *ret) {
        /* ext4's metadata (inode tables, journal) and what first boot writes before the root grows to the
         * disk: a third more than the tree, and 512 MiB. */
        uint64_t root = round_up_mib(tree_bytes + tree_bytes / 3 + 512 * IMAGE_MIB);
        *ret = (ImageLayout) {
                .esp_offset = IMAGE_MIB,
                .esp_size = IMAGE_ESP_SIZE,
                .root_offset = IMAGE_MIB + IMAGE_ESP_SIZE,
                .root_size = root,
                /* The backup GPT at the end takes 33 sectors: keep the last MiB for it. */
                .disk_size = IMAGE_MIB + IMAGE_ESP_SIZE + root + IMAGE_MIB,
        };
}

char *image_sfdisk_script(const ImageLayout *l, const ImageIds *ids) {
        return strprintf("label: gpt\n"
                         "label-id: %s\n"
                         "unit: sectors\n"
                         "sector-size: 512\n"
                         "first-lba: 2048\n"
                         "\n"
                         "start=%" PRIu64 ", size=%" PRIu64 ", type=%s, uuid=%s, name=\"esp\"\n"
                         "start=%" PRIu64 ", size=%" PRIu64 ", type=%s, uuid=%s, name=\"root-x86-64\"\n",
                         ids->disk, l->esp_offset / 512, l->esp_size / 512, GPT_TYPE_ESP, ids->esp,
                         l->root_offset / 512, l->root_size / 512, GPT_TYPE_ROOT_X86_64, ids->root);
}

char *image_loader_conf(void) {
        /* No menu to wait at: the one entry boots at once (a key held at boot still shows the menu). */
        return strdup("# generated by clusterboot image build\n"
                      "default clusterboot.conf\n"
                      "timeout 0\n"
                      "console-mode keep\n"
                      "editor no\n");
}

char *image_loader_entry(const Inventory *inv, const char *kernel_version, const ImageIds *ids) {
        return strprintf("# generated by clusterboot image build\n"
                         "title clusterboot: cluster %s\n"
                         "version %s\n"
                         "linux /clusterboot/vmlinuz\n"
                         "initrd /clusterboot/initrd.img\n"
                         "options root=PARTUUID=%s %s\n",
                         strempty(inv->cluster.name.v), kernel_version, ids->root, IMAGE_CMDLINE);
}

char *image_live_cmdline(void) {
        return strdup(IMAGE_CMDLINE_LIVE " " IMAGE_CMDLINE "\n");
}

char *image_grub_cfg(const Inventory *inv) {
        /* No menu to wait at (timeout 0); GRUB on the screen and the first serial port, as the kernel. */
        return strprintf("# generated by clusterboot image build: cluster %s\n"
                         "set timeout=0\n"
                         "set default=0\n"
                         "serial --unit=0 --speed=115200\n"
                         "terminal_input console serial\n"
                         "terminal_output console serial\n"
                         "menuentry \"clusterboot: cluster %s\" {\n"
                         "\tlinux /live/vmlinuz %s %s\n"
                         "\tinitrd /live/live.img\n"
                         "}\n",
                         strempty(inv->cluster.name.v), strempty(inv->cluster.name.v), IMAGE_CMDLINE_LIVE, IMAGE_CMDLINE);
}

char *image_grub_early_cfg(const ImageIds *ids) {
        /* Built into GRUB's BIOS and UEFI images: the UEFI one starts on the ISO's small FAT partition, so the
         * medium is found by a file only this image has, and grub.cfg read from there. */
        return strprintf("search --no-floppy --file --set=root " IMAGE_ISO_MARKER_DIR "/%s\n"
                         "set prefix=($root)/boot/grub\n"
                         "configfile ($root)/boot/grub/grub.cfg\n",
                         ids->disk);
}

char *image_ipxe_script(const Inventory *inv) {
        /* Relative names resolve against the script's own URI; the kernel's fetch needs it whole (cwduri). A
         * file node-MAC.ipxe next to this one, when there, runs first: `set node NAME` in it forces the node
         * (clusterboot.node=) for a machine whose MAC, DMI and hostname say nothing. */
        return strprintf("#!ipxe\n"
                         "# generated by clusterboot image build: cluster %s\n"
                         "# Serve this folder over HTTP and chain this script: it boots the image from here.\n"
                         "chain --autofree node-${mac:hexhyp}.ipxe ||\n"
                         "isset ${node} && set node_arg clusterboot.node=${node} ||\n"
                         "kernel vmlinuz initrd=initrd.img %s %s clusterboot.rootfs=${cwduri}/rootfs.squashfs ${node_arg}\n"
                         "initrd initrd.img\n"
                         "boot\n",
                         strempty(inv->cluster.name.v), IMAGE_CMDLINE_LIVE, IMAGE_CMDLINE);
}

int image_tree_files(const ImageIds *ids, RenderSet *set) {
        int r = 0;
        for (size_t i = 0; r >= 0 && i < n_image_files; i++) {
                StrBuf b = {};
                r = strbuf_appendn(&b, image_files[i].content, image_files[i].size);
                r = r ?: render_set_add(set, image_files[i].path, image_files[i].mode, &b);
                strbuf_done(&b);
        }
        if (r < 0)
                return r;

        /* The root partition by its GUID: the ext4 grows with the partition systemd-repart grows. */
        StrBuf b = {};
        r = strbuf_printf(&b,
                          "# generated by clusterboot image build: disk.raw's root (a live root replaces this file)\n"
                          "PARTUUID=%s / ext4 rw,x-systemd.growfs 0 1\n",
                          ids->root);
        r = r ?: render_set_add(set, "/etc/fstab", 0644, &b);
        strbuf_done(&b);
        return r;
}
