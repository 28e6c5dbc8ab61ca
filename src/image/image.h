/* SPDX-License-Identifier: Apache-2.0 */
#pragma once

#include <stdbool.h>
#include <stdint.h>

#include "model.h"
#include "render.h"

/* `clusterboot image build`: one root tree made from a cached Debian base plus `clusterboot install`, and
 * from it every bootable output. This header holds the decisions (pure, tested in-process): which packages,
 * which identifiers, which layout and which boot files. image-build.c drives the tools. */

typedef enum ImageFormat {
        IMAGE_FORMAT_DISK = 1u << 0,    /* disk.raw: GPT, ESP with systemd-boot, root ext4 */
        IMAGE_FORMAT_NETBOOT = 1u << 1, /* netboot/: vmlinuz, initrd.img, rootfs.squashfs, live.img, boot.ipxe */
        IMAGE_FORMAT_ISO = 1u << 2,     /* cluster.iso: hybrid (CD or USB stick, BIOS or UEFI), GRUB, live.img */
        IMAGE_FORMAT_TREE = 1u << 3,    /* rootfs/: the root tree itself, which the others are made of (for
                                         * containers: tests/e2e and scripts/demo.sh boot it in nspawn) */
} ImageFormat;
#define IMAGE_FORMATS_DEFAULT (IMAGE_FORMAT_DISK | IMAGE_FORMAT_NETBOOT | IMAGE_FORMAT_ISO)

/* "disk,netboot" -> flags. -EINVAL: *ret_bad is the word that is not a format; -EOPNOTSUPP: a format
 * this version cannot build yet (*ret_bad names it). */
int image_formats_parse(const char *s, unsigned *ret, const char **ret_bad);

/* The Debian release every image is made from. */
#define IMAGE_SUITE "bookworm"
#define IMAGE_ARCH "amd64"
#define IMAGE_KERNEL_PACKAGE "linux-image-amd64" /* Debian's kernel of IMAGE_ARCH */

/* The kernel command line every output boots with; each adds only how it finds its root. */
#define IMAGE_CMDLINE "rw net.ifnames=0 console=tty0 console=ttyS0,115200"
/* What the netboot and live outputs add: the initramfs boot script of image/initramfs/clusterboot. */
#define IMAGE_CMDLINE_LIVE "boot=clusterboot"

/* The roles the image's machines run: every node's, and auto_register's role for a machine the inventory
 * does not name. One image serves them all. */
void image_roles(const Inventory *inv, bool ret[static _ROLE_MAX]);

/* The Debian packages of the root tree: what every machine needs (systemd, the kernel, clusterboot's
 * libraries) and what the inventory's roles run that Debian ships. Sorted, no duplicates; *ret is
 * NULL-terminated (free each and it). Components Debian does not ship (Kubernetes, CoreDNS, Kafka) are
 * not among them: components.h. */
int image_packages(const Inventory *inv, char ***ret, size_t *ret_n);
/* "a,b,c": the packages as debootstrap's --include takes them; NULL when out of memory. */
char *image_packages_join(char *const *pkgs, size_t n);

/* Identifiers that make the same inventory give the same bytes: a UUID derived from the cluster's name and
 * what it names ("disk", "esp", "root"). */
int image_uuid(const Inventory *inv, const char *what, char ret[static 37]);
/* The FAT volume id of the ESP, from the same hash: 8 hex digits. */
int image_fat_serial(const Inventory *inv, char ret[static 9]);

/* disk.raw, in bytes: a 1 MiB-aligned GPT disk of an ESP and the root partition. */
typedef struct ImageLayout {
        uint64_t esp_offset, esp_size;
        uint64_t root_offset, root_size;
        uint64_t disk_size;
} ImageLayout;
#define IMAGE_MIB (UINT64_C(1) << 20)
#define IMAGE_ESP_SIZE (256 * IMAGE_MIB)
/* A layout whose root holds a tree of tree_bytes (as du counts it) with room for first boot. */
void image_layout(uint64_t tree_bytes, ImageLayout *ret);

/* GPT partition types (the Discoverable Partitions Specification's x86-64 root). */
#define GPT_TYPE_ESP "C12A7328-F81F-11D2-BA4B-00A0C93EC93B"
#define GPT_TYPE_ROOT_X86_64 "4F68BCE3-E8CD-4DB1-96E7-FBCAF984B709"

typedef struct ImageIds {
        char disk[37], esp[37], root[37]; /* GPT disk and partition GUIDs */
        char root_fs[37];                 /* the root ext4's UUID */
        char fat_serial[9];
} ImageIds;
int image_ids(const Inventory *inv, ImageIds *ret);

/* The boot files, rendered (pure). The sfdisk script of disk.raw: */
char *image_sfdisk_script(const ImageLayout *l, const ImageIds *ids);
/* systemd-boot's loader.conf (no menu: boots the one entry at once) and that entry. */
char *image_loader_conf(void);
char *image_loader_entry(const Inventory *inv, const char *kernel_version, const ImageIds *ids);
/* netboot/cmdline.txt: the command line of the netboot and live outputs (one line). */
char *image_live_cmdline(void);
/* cluster.iso's /boot/grub/grub.cfg: boots /live/vmlinuz with /live/live.img at once, no menu. */
char *image_grub_cfg(const Inventory *inv);
/* The configuration built into GRUB's images: find the medium by IMAGE_ISO_MARKER_DIR/DISK-GUID, read its
 * grub.cfg. */
#define IMAGE_ISO_MARKER_DIR "/clusterboot"
char *image_grub_early_cfg(const ImageIds *ids);
/* netboot/boot.ipxe: loads vmlinuz, initrd.img and the squashfs from the folder it was served from. */
char *image_ipxe_script(const Inventory *inv);

/* Files the root tree gets besides `clusterboot install`'s: the initramfs boot script and hook, the growth
 * of the root at first boot (repart.d, /etc/fstab), no build host's names. Added to set. */
int image_tree_files(const ImageIds *ids, RenderSet *set);
