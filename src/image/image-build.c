/* SPDX-License-Identifier: Apache-2.0 */
/* `clusterboot image build`: the tools, driven as child processes, in steps. See image-build.h. */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <glob.h>
#include <inttypes.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <openssl/evp.h>

#include "component-files.h"
#include "components.h"
#include "fileio.h"
#include "fs-util.h"
#include "image-build.h"
#include "inventory.h"
#include "process.h"
#include "string-util.h"
#include "writer.h"
#include "banned.h"

/* ---- tools ---- */

/* GRUB's modules for BIOS and UEFI on the build host (cluster.iso). */
#define GRUB_BIOS_DIR "/usr/lib/grub/i386-pc"
#define GRUB_EFI_DIR "/usr/lib/grub/x86_64-efi"

typedef struct Tool {
        const char *name, *package; /* name: a program, or (data) the absolute path of a file the package has */
        unsigned formats;           /* needed by these formats; 0: always */
        bool data;                  /* a file to read, not a program */
} Tool;

static const Tool tools[] = {
        { "debootstrap", "debootstrap", 0 },
        { "chroot", "coreutils", 0 },
        { "cp", "coreutils", 0 },
        { "systemctl", "systemd", 0 },
        { "sfdisk", "fdisk", IMAGE_FORMAT_DISK },
        { "mkfs.vfat", "dosfstools", IMAGE_FORMAT_DISK | IMAGE_FORMAT_ISO },
        { "mmd", "mtools", IMAGE_FORMAT_DISK | IMAGE_FORMAT_ISO },
        { "mcopy", "mtools", IMAGE_FORMAT_DISK | IMAGE_FORMAT_ISO },
        { "mkfs.ext4", "e2fsprogs", IMAGE_FORMAT_DISK },
        { "debugfs", "e2fsprogs", IMAGE_FORMAT_DISK },
        { "mksquashfs", "squashfs-tools", IMAGE_FORMAT_NETBOOT | IMAGE_FORMAT_ISO },
        { "cpio", "cpio", IMAGE_FORMAT_NETBOOT | IMAGE_FORMAT_ISO },
        { "grub-mkimage", "grub-common", IMAGE_FORMAT_ISO },
        { GRUB_BIOS_DIR "/moddep.lst", "grub-pc-bin", IMAGE_FORMAT_ISO, true },
        { GRUB_EFI_DIR "/moddep.lst", "grub-efi-amd64-bin", IMAGE_FORMAT_ISO, true },
        { "xorriso", "xorriso", IMAGE_FORMAT_ISO },
};

/* The absolute path of a tool, from the PATH the children get (an absolute name is taken as it is). */
static char *tool_path(const char *name) {
        if (name[0] == '/')
                return access(name, X_OK) == 0 ? strdup(name) : NULL;
        static const char *const dirs[] = { "/usr/local/sbin", "/usr/local/bin", "/usr/sbin", "/usr/bin", "/sbin", "/bin" };
        for (size_t i = 0; i < ELEMENTSOF(dirs); i++) {
                char *p = strprintf("%s/%s", dirs[i], name);
                if (!p || access(p, X_OK) == 0)
                        return p;
                free(p);
        }
        return NULL;
}

char *image_missing_tools(unsigned formats) {
        StrBuf b = {};
        for (size_t i = 0; i < ELEMENTSOF(tools); i++) {
                if (tools[i].formats && !(tools[i].formats & formats))
                        continue;
                _cleanup_free_ char *p = tools[i].data ? NULL : tool_path(tools[i].name);
                if (p || (tools[i].data && access(tools[i].name, R_OK) == 0))
                        continue;
                if (strbuf_printf(&b, "%s%s (Debian package %s)", b.len ? ", " : "", tools[i].name,
                                  tools[i].package) < 0) {
                        strbuf_done(&b);
                        errno = ENOMEM;
                        return NULL;
                }
        }
        errno = 0;
        return b.len ? strbuf_steal(&b) : NULL;
}

/* ---- the build's state ---- */

typedef struct Build {
        const Inventory *inv;
        const ImageBuildOptions *o;
        ImageProgress progress;
        void *userdata;
        ImageError *err;
        unsigned index, total;
        const char *step;
        struct timespec t0;

        char *staging; /* OUT/.build-XXXXXX: everything is made in here */
        char *tree;    /* staging/tree */
        char *base;    /* CACHE/base/KEY */
        char *base_key;
        char **packages;
        size_t n_packages;
        char *kernel_version;
        char *vmlinuz, *initrd; /* the tree's /boot/vmlinuz-VERSION and /boot/initrd.img-VERSION */
        int64_t epoch;
        char *release_date;
        ImageIds ids;
        ImageLayout layout;
        json_t *components; /* [{name, version, architecture, source, file, sha256}] */
        json_t *outputs;    /* [{path, size, sha256}] */
} Build;

void image_error_done(ImageError *e) {
        free(e->step);
        free(e->what);
        free(e->output);
        free(e->hint);
        *e = (ImageError) {};
}

/* The last lines of a tool's output, for an error message. */
static char *tail_lines(const char *s, unsigned lines) {
        if (!s)
                return NULL;
        size_t n = strlen(s);
        while (n > 0 && s[n - 1] == '\n')
                n--;
        size_t start = n;
        for (unsigned seen = 0; start > 0; start--)
                if (s[start - 1] == '\n' && ++seen == lines)
                        break;
        return n > start ? strndup(s + start, n - start) : NULL;
}

/* Records the failure of the current step (the first one wins) and returns r (a negative errno). */
_printf_(5, 6) static int fail(Build *b, int r, const char *output, const char *hint, const char *fmt, ...) {
        if (b->err->what)
                return r;
        va_list ap;
        va_start(ap, fmt);
        StrBuf w = {};
        (void) strbuf_vprintf(&w, fmt, ap);
        va_end(ap);
        if (r < 0 && r != -EPROTO)
                (void) strbuf_printf(&w, ": %s", strerror(-r));
        b->err->step = strdup(b->step ?: "setup");
        b->err->what = strbuf_steal(&w);
        b->err->output = tail_lines(output, 15);
        b->err->hint = hint ? strdup(hint) : NULL;
        return r < 0 ? r : -EPROTO;
}

static double elapsed(const struct timespec *t0) {
        struct timespec t;
        clock_gettime(CLOCK_MONOTONIC, &t);
        return (double) (t.tv_sec - t0->tv_sec) + (double) (t.tv_nsec - t0->tv_nsec) / 1e9;
}

static void step_begin(Build *b, const char *step) {
        b->step = step;
        b->index++;
        clock_gettime(CLOCK_MONOTONIC, &b->t0);
        if (b->progress)
                b->progress(b->index, b->total, step, false, 0, NULL, b->userdata);
}

static void step_end(Build *b, const char *note) {
        if (b->progress)
                b->progress(b->index, b->total, b->step, true, elapsed(&b->t0), note, b->userdata);
}

/* Runs a tool (argv[0] a bare name, found in PATH), with io (may be NULL). A non-zero exit is a failure of
 * the step with the tool's output; hint says how to fix it. */
static int run(Build *b, const ProgramIO *io, const char *hint, char **argv) {
        _cleanup_free_ char *path = tool_path(argv[0]);
        if (!path)
                return fail(b, -ENOENT, NULL, "install it, or run scripts/setup-deps.sh", "%s is not installed", argv[0]);
        const char *name = argv[0];
        argv[0] = path;
        _cleanup_free_ char *output = NULL;
        int r = run_program_io(argv, io, &output);
        argv[0] = (char *) name;
        if (r < 0)
                return fail(b, r, output, hint, "cannot run %s", name);
        if (r > 0)
                return fail(b, -EPROTO, output, hint, "%s exited with status %d", name, r);
        return 0;
}
#define RUN(b, io, hint, ...) run((b), (io), (hint), (char *[]) { __VA_ARGS__, NULL })

static char *epoch_env(const Build *b) {
        return strprintf("SOURCE_DATE_EPOCH=%" PRId64, b->epoch);
}

/* ---- step base: the Debian tree, cached per package list ---- */

static int base_key(Build *b, char **ret_include) {
        _cleanup_free_ char *include = image_packages_join(b->packages, b->n_packages);
        _cleanup_free_ char *spec = include ? strprintf("debootstrap --variant=minbase --arch=%s --include=%s %s %s",
                                                       IMAGE_ARCH, include, IMAGE_SUITE, b->o->mirror)
                                            : NULL;
        if (!spec)
                return -ENOMEM;
        unsigned char md[32];
        unsigned len = 0;
        if (EVP_Digest(spec, strlen(spec), md, &len, EVP_sha256(), NULL) != 1)
                return -EIO;
        char hex[17];
        hex_encode(md, 8, hex);
        b->base_key = strprintf("%s-%s-%s", IMAGE_SUITE, IMAGE_ARCH, hex);
        b->base = b->base_key ? strprintf("%s/base/%s", b->o->cache, b->base_key) : NULL;
        if (!b->base)
                return -ENOMEM;
        *ret_include = TAKE_PTR(include);
        return 0;
}

static int step_base(Build *b) {
        step_begin(b, "base");
        _cleanup_free_ char *include = NULL;
        int r = base_key(b, &include);
        if (r < 0)
                return fail(b, r, NULL, NULL, "cannot name the base tree");
        _cleanup_free_ char *dir = strprintf("%s/base", b->o->cache);
        _cleanup_free_ char *stamp = strprintf("%s/.clusterboot-base", b->base);
        _cleanup_free_ char *tmp = strprintf("%s.tmp", b->base);
        _cleanup_free_ char *lock = strprintf("%s/.lock", b->o->cache);
        if (!dir || !stamp || !tmp || !lock)
                return -ENOMEM;
        if ((r = mkdir_p(dir, 0755)) < 0)
                return fail(b, r, NULL, "give a writable folder with --cache DIR", "cannot make %s", dir);
        int fd = open(lock, O_RDWR | O_CREAT | O_CLOEXEC, 0644);
        if (fd < 0 || flock(fd, LOCK_EX) < 0) {
                r = -errno;
                if (fd >= 0)
                        close(fd);
                return fail(b, r, NULL, NULL, "cannot lock %s", lock);
        }
        if (access(stamp, F_OK) == 0) {
                close(fd);
                step_end(b, "reused");
                return 0;
        }
        (void) rm_rf(tmp);
        r = RUN(b, NULL, "check that the Debian mirror is reachable (--mirror URL), then build again",
                "debootstrap", "--variant=minbase", "--arch=" IMAGE_ARCH, "--include", include, IMAGE_SUITE, tmp,
                (char *) b->o->mirror);
        if (r >= 0) {
                _cleanup_free_ char *tmp_stamp = strprintf("%s/.clusterboot-base", tmp);
                r = tmp_stamp ? write_file_atomic(tmp_stamp, include, strlen(include), 0644) : -ENOMEM;
                if (r >= 0 && rename(tmp, b->base) < 0)
                        r = -errno;
                if (r < 0)
                        fail(b, r, NULL, NULL, "cannot put the base tree into the cache %s", b->base);
        }
        if (r < 0)
                (void) rm_rf(tmp);
        close(fd);
        if (r >= 0)
                step_end(b, "made");
        return r;
}

/* ---- step verify: every package file against the signed index; the installed files against dpkg ---- */

/* The Date: of the Release file debootstrap verified (the release the base comes from), as seconds. */
static int release_date(Build *b) {
        _cleanup_free_ char *pattern = strprintf("%s/var/lib/apt/lists/*_Release", b->base);
        glob_t g = {};
        if (!pattern || glob(pattern, 0, NULL, &g) != 0 || g.gl_pathc != 1) {
                globfree(&g);
                return fail(b, -ENOENT, NULL, "remove the base tree from the cache to make it again",
                            "the base tree %s has no Release file of its Debian mirror", b->base);
        }
        _cleanup_free_ char *data = NULL;
        size_t size;
        int r = read_full_file(g.gl_pathv[0], 4u << 20, &data, &size);
        globfree(&g);
        if (r < 0)
                return fail(b, r, NULL, NULL, "cannot read the base tree's Release file");
        const char *p = strstr(data, "\nDate: ");
        struct tm tm = {};
        const char *end = p ? strptime(p + 7, "%a, %d %b %Y %H:%M:%S UTC", &tm) : NULL;
        if (!end)
                return fail(b, -EBADMSG, NULL, NULL, "the base tree's Release file has no Date: this program understands");
        b->release_date = strndup(p + 7, strcspn(p + 7, "\n"));
        if (b->epoch < 0)
                b->epoch = (int64_t) timegm(&tm);
        return b->release_date ? 0 : -ENOMEM;
}

/* The Packages index of the base: Filename's base name -> SHA256, with Package, Version, Architecture. */
typedef struct IndexEntry {
        char *file, *package, *version, *arch, *sha256;
        bool has_file;
} IndexEntry;

static void index_entry_done(IndexEntry *e) {
        free(e->file);
        free(e->package);
        free(e->version);
        free(e->arch);
        free(e->sha256);
        *e = (IndexEntry) {};
}

static char *field(const char *line, const char *name) {
        size_t n = strlen(name);
        return strncmp(line, name, n) == 0 && line[n] == ':' ? strndup(line + n + 2, strcspn(line + n + 2, "\n")) : NULL;
}

/* The index's stanzas, each named as apt names its package file in the cache, read in one pass. */
static int index_load(Build *b, IndexEntry **ret, size_t *ret_n) {
        _cleanup_free_ char *pattern = strprintf("%s/var/lib/apt/lists/*_Packages", b->base);
        glob_t g = {};
        if (!pattern || glob(pattern, 0, NULL, &g) != 0) {
                globfree(&g);
                return fail(b, -ENOENT, NULL, "remove the base tree from the cache to make it again",
                            "the base tree %s has no Packages index", b->base);
        }
        IndexEntry *v = NULL, cur = {};
        size_t n = 0, allocated = 0;
        int r = 0;
        for (size_t i = 0; r >= 0 && i < g.gl_pathc; i++) {
                _cleanup_free_ char *data = NULL;
                size_t size;
                r = read_full_file(g.gl_pathv[i], 256u << 20, &data, &size);
                for (char *line = data; r >= 0 && line && *line;) {
                        char *nl = strchr(line, '\n');
                        char *val;
                        if (*line == '\n' || !nl) {
                                /* apt names a package file PACKAGE_VERSION_ARCH.deb, the epoch's ':' as "%3a". */
                                _cleanup_free_ char *version = cur.version ? strreplace(cur.version, ":", "%3a") : NULL;
                                if (cur.has_file && cur.sha256 && cur.package && version && cur.arch &&
                                    (cur.file = strprintf("%s_%s_%s.deb", cur.package, version, cur.arch))) {
                                        if (!GREEDY_REALLOC(v, allocated, n + 1))
                                                r = -ENOMEM;
                                        else
                                                v[n++] = cur, cur = (IndexEntry) {};
                                }
                                index_entry_done(&cur);
                        } else if ((val = field(line, "Package")))
                                free(cur.package), cur.package = val;
                        else if ((val = field(line, "Version")))
                                free(cur.version), cur.version = val;
                        else if ((val = field(line, "Architecture")))
                                free(cur.arch), cur.arch = val;
                        else if ((val = field(line, "SHA256")))
                                free(cur.sha256), cur.sha256 = val;
                        else if ((val = field(line, "Filename")))
                                free(val), cur.has_file = true;
                        line = nl ? nl + 1 : NULL;
                }
                index_entry_done(&cur);
        }
        globfree(&g);
        if (r < 0) {
                for (size_t i = 0; i < n; i++)
                        index_entry_done(v + i);
                free(v);
                return fail(b, r, NULL, NULL, "cannot read the base tree's Packages index");
        }
        *ret = v;
        *ret_n = n;
        return 0;
}

static int cmp_dirent_name(const struct dirent **a, const struct dirent **b) {
        return strcmp((*a)->d_name, (*b)->d_name);
}

static int filter_deb(const struct dirent *d) {
        return endswith(d->d_name, ".deb");
}

static int step_verify(Build *b) {
        step_begin(b, "verify");
        int r = release_date(b);
        if (r < 0)
                return r;
        IndexEntry *idx = NULL;
        size_t n_idx = 0;
        if ((r = index_load(b, &idx, &n_idx)) < 0)
                return r;

        _cleanup_free_ char *archives = strprintf("%s/var/cache/apt/archives", b->base);
        struct dirent **debs = NULL;
        int n = archives ? scandir(archives, &debs, filter_deb, cmp_dirent_name) : -1;
        if (n <= 0)
                r = fail(b, n < 0 ? -errno : -ENOENT, NULL, "remove the base tree from the cache to make it again",
                         "the base tree has no package files in %s", archives);
        const char *hint = "the cached base is not what Debian published: remove the base tree named above from "
                           "the cache and build again to fetch it anew";
        for (int i = 0; r >= 0 && i < n; i++) {
                const char *name = debs[i]->d_name;
                IndexEntry *e = NULL;
                for (size_t k = 0; k < n_idx && !e; k++)
                        if (streq(idx[k].file, name))
                                e = idx + k;
                _cleanup_free_ char *path = strprintf("%s/%s", archives, name);
                char sha[65];
                if (!e)
                        r = fail(b, -EPROTO, NULL, hint, "component %s in %s is not in the signed Debian index", name,
                                 b->base);
                else if (!path)
                        r = -ENOMEM;
                else if ((r = file_sha256(path, sha, NULL)) < 0)
                        fail(b, r, NULL, NULL, "cannot read %s", path);
                else if (!streq(sha, e->sha256))
                        r = fail(b, -EPROTO, NULL, hint,
                                 "component %s %s (%s) does not match the signed Debian index: sha256 %s, expected %s",
                                 e->package, strempty(e->version), path, sha, e->sha256);
                else if (json_array_append_new(b->components,
                                               json_pack("{s:s,s:s,s:s,s:s,s:s,s:s}", "name", e->package, "version",
                                                         strempty(e->version), "architecture", strempty(e->arch),
                                                         "source", "debian " IMAGE_SUITE, "file", name, "sha256",
                                                         sha)) < 0)
                        r = -ENOMEM;
        }
        for (int i = 0; i < n; i++)
                free(debs[i]);
        free(debs);
        for (size_t k = 0; k < n_idx; k++)
                index_entry_done(idx + k);
        free(idx);
        if (r < 0)
                return r;

        /* The installed files of the base against dpkg's own record of them. */
        _cleanup_free_ char *output = NULL;
        _cleanup_free_ char *chroot = tool_path("chroot");
        char *argv[] = { chroot, b->base, "/usr/bin/dpkg", "--verify", NULL };
        r = chroot ? run_program(argv, &output) : -ENOENT;
        if (r != 0 || (output && *output))
                return fail(b, r < 0 ? r : -EPROTO, output, hint,
                            "the installed files of the base tree %s do not match their packages (dpkg --verify)",
                            b->base);
        _cleanup_free_ char *note = strprintf("%d packages", n);
        step_end(b, note);
        return 0;
}

/* ---- step tree: the base copied, clusterboot installed, the image's own files ---- */

static int kernel_version(Build *b) {
        _cleanup_free_ char *pattern = strprintf("%s/boot/vmlinuz-*", b->tree);
        glob_t g = {};
        int r = pattern ? glob(pattern, 0, NULL, &g) : GLOB_NOSPACE;
        if (r != 0 || g.gl_pathc != 1) {
                size_t found = r == 0 ? g.gl_pathc : 0;
                globfree(&g);
                return fail(b, -ENOENT, NULL, NULL, "the tree has %zu kernels in /boot, expected one", found);
        }
        b->kernel_version = strdup(strrchr(g.gl_pathv[0], '/') + strlen("/vmlinuz-"));
        b->vmlinuz = strdup(g.gl_pathv[0]);
        globfree(&g);
        b->initrd = b->kernel_version ? strprintf("%s/boot/initrd.img-%s", b->tree, b->kernel_version) : NULL;
        return b->kernel_version && b->vmlinuz && b->initrd ? 0 : -ENOMEM;
}

static int step_tree(Build *b) {
        step_begin(b, "tree");
        int r = RUN(b, NULL, NULL, "cp", "-a", "--reflink=auto", b->base, b->tree);
        if (r < 0)
                return r;
        _cleanup_free_ char *stamp = strprintf("%s/.clusterboot-base", b->tree);
        if (!stamp || unlink(stamp) < 0)
                return fail(b, stamp ? -errno : -ENOMEM, NULL, NULL, "cannot remove the base's stamp from the tree");

        r = RUN(b, NULL, "the inventory or the secrets bundle is not usable: see the lines above", (char *) b->o->self,
                "install", "--root", b->tree, "--inventory", (char *) b->o->inventory, "--secret-policy",
                b->o->embedded ? "embedded" : "join", "--secrets", (char *) b->o->secrets);
        if (r < 0)
                return r;

        RenderSet set = {};
        const RenderedFile *failed = NULL;
        r = image_tree_files(&b->ids, &set);
        r = r ?: render_set_write(&set, b->tree, false, NULL, NULL, &failed);
        render_set_done(&set);
        if (r < 0)
                return fail(b, r, NULL, NULL, "cannot write %s into the tree", failed ? failed->path : "the image's files");

        /* units/etcd.service runs /usr/local/bin/etcd; Debian's etcd-server installs /usr/bin/etcd. */
        _cleanup_free_ char *etcd = strprintf("%s/usr/bin/etcd", b->tree);
        _cleanup_free_ char *etcd_link = strprintf("%s/usr/local/bin/etcd", b->tree);
        if (!etcd || !etcd_link)
                return -ENOMEM;
        if (access(etcd, X_OK) == 0 && symlink("/usr/bin/etcd", etcd_link) < 0 && errno != EEXIST)
                return fail(b, -errno, NULL, NULL, "cannot link /usr/local/bin/etcd");

        /* The node's network is what `clusterboot network` renders for systemd-networkd. */
        _cleanup_free_ char *root_arg = strprintf("--root=%s", b->tree);
        if (!root_arg)
                return -ENOMEM;
        r = RUN(b, NULL, NULL, "systemctl", root_arg, "--quiet", "enable", "systemd-networkd.service");
        /* nvme-cli (ceph-mgr brings it) connects NVMe-oF targets at boot, a failed unit where there are none. */
        _cleanup_free_ char *nvmf = strprintf("%s/lib/systemd/system/nvmf-autoconnect.service", b->tree);
        if (r >= 0 && nvmf && access(nvmf, F_OK) == 0)
                r = RUN(b, NULL, NULL, "systemctl", root_arg, "--quiet", "mask", "nvmf-autoconnect.service");
        /* A persistent journal: what happened at first boot is still there after the reboot. */
        _cleanup_free_ char *journal = strprintf("%s/var/log/journal", b->tree);
        if (r >= 0 && (!journal || mkdir_p(journal, 0755) < 0))
                return fail(b, -ENOMEM, NULL, NULL, "cannot make /var/log/journal");
        r = r ?: kernel_version(b);
        if (r >= 0)
                step_end(b, b->kernel_version);
        return r;
}

/* ---- step components: what the lock pins and Debian does not ship ---- */

static int add_component_files(Build *b, Component c) {
        _cleanup_free_ char *prefix = strprintf("/%s/", component_info(c)->name);
        if (!prefix)
                return -ENOMEM;
        for (size_t i = 0; i < n_component_files; i++) {
                const EmbeddedFile *f = component_files + i;
                if (!startswith(f->path, prefix))
                        continue;
                const char *dest = f->path + strlen(prefix) - 1; /* from the '/' on */
                _cleanup_free_ char *path = strprintf("%s%s", b->tree, dest);
                int r = path ? mkdir_parents(path, 0755) : -ENOMEM;
                r = r ?: write_file_atomic(path, f->content, f->size, f->mode);
                if (r < 0)
                        return fail(b, r, NULL, NULL, "cannot write %s into the tree", dest);
        }
        return 0;
}

static int add_component(Build *b, Component c, StrBuf *note) {
        const ComponentInfo *info = component_info(c);
        const char *version = lock_version(b->o->lock, c), *want = lock_digest(b->o->lock, c, IMAGE_ARCH);
        _cleanup_free_ char *payload = component_payload(b->o->lock, c, b->o->components);
        _cleanup_free_ char *hint = strprintf("'clusterboot binaries fetch %s --components %s' makes it anew; or "
                                              "build without it: --without %s",
                                              info->name, b->o->components, info->name);
        if (!payload || !hint || !want)
                return payload && hint ? fail(b, -EINVAL, NULL, NULL, "the lock pins no %s for %s %s", IMAGE_ARCH,
                                              info->name, strempty(version))
                                       : -ENOMEM;
        char digest[65];
        char *odd = NULL;
        int r = component_digest(payload, digest, &odd);
        if (r == -EMEDIUMTYPE)
                r = fail(b, r, NULL, hint, "component %s %s: %s is neither a file nor a folder", info->name, version, odd);
        else if (r < 0)
                r = fail(b, r, NULL, hint, "component %s %s: cannot read %s", info->name, version, payload);
        else if (!streq(digest, want))
                r = fail(b, -EPROTO, NULL, hint, "component %s %s (%s) is not the locked one: sha256 %s, the lock pins %s",
                         info->name, version, payload, digest, want);
        free(odd);
        if (r < 0)
                return r;

        _cleanup_free_ char *dest = strprintf("%s%s", b->tree, info->dest);
        r = dest ? mkdir_p(dest, 0755) : -ENOMEM;
        if (r < 0)
                return fail(b, r, NULL, NULL, "cannot make %s in the tree", info->dest);
        struct stat st;
        if (stat(payload, &st) < 0)
                return fail(b, -errno, NULL, NULL, "cannot read %s", payload);
        /* The payload's files (a folder's contents, or the one file) into dest, as they are. */
        _cleanup_free_ char *src = S_ISDIR(st.st_mode) ? strprintf("%s/.", payload) : strdup(payload);
        _cleanup_free_ char *target = S_ISDIR(st.st_mode) ? strdup(dest)
                                                           : strprintf("%s/%s", dest, strrchr(payload, '/') + 1);
        r = src && target ? RUN(b, NULL, NULL, "cp", "-R", "--preserve=mode", "--no-target-directory", src, target)
                          : -ENOMEM;
        if (r < 0)
                return r;
        r = add_component_files(b, c);
        if (r < 0)
                return r;

        const char *rel = payload + strlen(b->o->components) + 1;
        if (json_array_append_new(b->components,
                                  json_pack("{s:s,s:s,s:s,s:s,s:s,s:s}", "name", info->name, "version", version,
                                            "architecture", info->any_arch ? "all" : IMAGE_ARCH, "source",
                                            info->source, "file", rel, "sha256", digest)) < 0)
                return -ENOMEM;
        return strbuf_printf(note, "%s%s %s", note->len ? ", " : "", info->name, version);
}

static int step_components(Build *b) {
        step_begin(b, "components");
        StrBuf note = {};
        int r = 0;
        for (Component c = 0; r >= 0 && c < _COMPONENT_MAX; c++)
                if (b->o->with_component[c])
                        r = add_component(b, c, &note);
        if (r >= 0)
                step_end(b, note.len ? note.s : "none");
        strbuf_done(&note);
        return r;
}

/* ---- step initrd ---- */

static int step_initrd(Build *b) {
        step_begin(b, "initrd");
        _cleanup_free_ char *env = epoch_env(b);
        const char *envv[] = { env, NULL };
        ProgramIO io = { .env = envv };
        int r = env ? RUN(b, &io, NULL, "chroot", b->tree, "/usr/sbin/update-initramfs", "-u", "-k", b->kernel_version)
                    : -ENOMEM;
        if (r >= 0)
                step_end(b, NULL);
        return r;
}

/* ---- step normalise: nothing of the build host or the build's time in the tree ---- */

/* path's access and modification times set to epoch (a symlink's own, with AT_SYMLINK_NOFOLLOW). */
static int set_dates(const char *path, int64_t epoch, int flags) {
        struct timespec ts[2] = { { .tv_sec = (time_t) epoch }, { .tv_sec = (time_t) epoch } };
        return utimensat(AT_FDCWD, path, ts, flags) < 0 ? -errno : 0;
}

static int64_t clamp_epoch;
static int clamp_errno;
static uint64_t tree_bytes;

static int clamp_one(const char *path, const struct stat *st, int flag, struct FTW *ftw) {
        tree_bytes += ((uint64_t) st->st_size + 4095) / 4096 * 4096 + 4096;
        /* Every date set, not only those after the epoch: a base tree made now and the same base reused later
         * differ in the dates of some symlinks older than the epoch (measured: /etc/alternatives/ after a
         * fresh debootstrap), and the outputs must not depend on the cache's history. */
        if (st->st_mtime == clamp_epoch && st->st_atime == clamp_epoch)
                return 0;
        int r = set_dates(path, clamp_epoch, AT_SYMLINK_NOFOLLOW);
        if (r < 0) {
                clamp_errno = -r;
                return 1;
        }
        return 0;
}

/* Clamps every date under dir to the epoch; *ret_bytes: about what the files take on a file system. */
static int clamp_dates(const char *dir, int64_t epoch, uint64_t *ret_bytes) {
        clamp_epoch = epoch;
        clamp_errno = 0;
        tree_bytes = 0;
        int r = nftw(dir, clamp_one, 64, FTW_PHYS | FTW_MOUNT);
        if (r != 0)
                return -(clamp_errno ?: errno ?: EIO);
        if (ret_bytes)
                *ret_bytes = tree_bytes;
        return 0;
}

static int step_normalise(Build *b) {
        step_begin(b, "normalise");
        /* The build host's names and resolver, the build's logs, caches and package files, backups made by
         * adduser; none belongs in every machine. */
        static const char *const remove[] = {
                "/etc/hostname",        "/etc/resolv.conf",       "/etc/*-",          "/etc/ssh/ssh_host_*",
                "/var/lib/dbus/machine-id", "/var/cache/apt/archives/*.deb", "/var/cache/apt/*.bin",
                "/var/lib/apt/lists/*_*", "/var/cache/debconf/*-old", "/var/lib/dpkg/*-old",
                "/var/cache/ldconfig/aux-cache", "/var/log/*.log", "/var/log/apt/*", "/var/log/journal/*",
                "/var/log/lastlog", "/var/log/faillog", "/var/log/wtmp", "/var/log/btmp",
                "/var/lib/systemd/random-seed", "/tmp/*", "/var/tmp/*",
        };
        int r = 0;
        for (size_t i = 0; r >= 0 && i < ELEMENTSOF(remove); i++) {
                _cleanup_free_ char *pattern = strprintf("%s%s", b->tree, remove[i]);
                glob_t g = {};
                int k = pattern ? glob(pattern, GLOB_NOSORT, NULL, &g) : GLOB_NOSPACE;
                if (k == GLOB_NOSPACE)
                        r = -ENOMEM;
                for (size_t j = 0; k == 0 && r >= 0 && j < g.gl_pathc; j++)
                        if ((r = rm_rf(g.gl_pathv[j])) < 0)
                                fail(b, r, NULL, NULL, "cannot remove %s", g.gl_pathv[j]);
                globfree(&g);
        }
        if (r < 0)
                return r;

        /* An empty machine id: each machine makes its own at its first boot (systemd's first-boot semantics),
         * which D-Bus shares. */
        _cleanup_free_ char *machine_id = strprintf("%s/etc/machine-id", b->tree);
        _cleanup_free_ char *dbus_id = strprintf("%s/var/lib/dbus/machine-id", b->tree);
        if (!machine_id || !dbus_id)
                return -ENOMEM;
        if ((r = write_file_atomic(machine_id, "", 0, 0444)) < 0)
                return fail(b, r, NULL, NULL, "cannot empty /etc/machine-id");
        if (symlink("/etc/machine-id", dbus_id) < 0)
                return fail(b, -errno, NULL, NULL, "cannot link /var/lib/dbus/machine-id");

        uint64_t bytes = 0;
        if ((r = clamp_dates(b->tree, b->epoch, &bytes)) < 0)
                return fail(b, r, NULL, NULL, "cannot clamp the dates of the tree to SOURCE_DATE_EPOCH");
        image_layout(bytes, &b->layout);
        _cleanup_free_ char *note = strprintf("%" PRIu64 " MiB, dates clamped to %" PRId64, bytes / IMAGE_MIB, b->epoch);
        step_end(b, note);
        return 0;
}

/* ---- outputs ---- */

/* A file made by the build, its date clamped like the tree's. */
static int write_output(Build *b, const char *path, const char *content) {
        int r = content ? write_file_atomic(path, content, strlen(content), 0644) : -ENOMEM;
        r = r ?: set_dates(path, b->epoch, 0);
        return r < 0 ? fail(b, r, NULL, NULL, "cannot write %s", path) : 0;
}

static int copy_output(Build *b, const char *src, const char *dst) {
        int r = copy_file_atomic(src, dst, 0644);
        r = r ?: set_dates(dst, b->epoch, 0);
        return r < 0 ? fail(b, r, NULL, NULL, "cannot copy %s to %s", src, dst) : 0;
}

static int add_output(Build *b, const char *rel) {
        _cleanup_free_ char *path = strprintf("%s/%s", b->staging, rel);
        char sha[65];
        uint64_t size = 0;
        int r = path ? file_sha256(path, sha, &size) : -ENOMEM;
        r = r ?: set_dates(path, b->epoch, 0);
        if (r < 0)
                return fail(b, r, NULL, NULL, "cannot read %s", rel);
        if (json_array_append_new(b->outputs, json_pack("{s:s,s:I,s:s}", "path", rel, "size", (json_int_t) size,
                                                        "sha256", sha)) < 0)
                return -ENOMEM;
        return 0;
}

/* mke2fs -d copies each inode's ctime from the tree, where it is the time the build touched the file (no
 * program can set it), and its atime, which mke2fs's own reading moved (relatime): debugfs sets both to the
 * epoch, path by path, and the superblock's last write time. */
static FILE *ctime_cmds;
static size_t ctime_root_len;
static size_t ctime_skipped;

static int ctime_one(const char *path, const struct stat *st, int flag, struct FTW *ftw) {
        const char *rel = path + ctime_root_len;
        if (strpbrk(rel, "\"\n")) {
                ctime_skipped++; /* debugfs cannot quote it (a backslash it takes as it is) */
                return 0;
        }
        return fprintf(ctime_cmds, "sif \"%s\" ctime @%" PRId64 "\nsif \"%s\" atime @%" PRId64 "\n", *rel ? rel : "/",
                       clamp_epoch, *rel ? rel : "/", clamp_epoch) < 0;
}

static int clamp_ctimes(Build *b, const char *disk, const char *cmds_path) {
        _cleanup_free_ char *target = strprintf("%s?offset=%" PRIu64, disk, b->layout.root_offset);
        if (!target)
                return -ENOMEM;
        ctime_cmds = fopen(cmds_path, "we");
        if (!ctime_cmds)
                return fail(b, -errno, NULL, NULL, "cannot write %s", cmds_path);
        ctime_root_len = strlen(b->tree);
        ctime_skipped = 0;
        clamp_epoch = b->epoch;
        int r = nftw(b->tree, ctime_one, 64, FTW_PHYS | FTW_MOUNT);
        if (r == 0 && fprintf(ctime_cmds, "ssv wtime @%" PRId64 "\n", b->epoch) < 0)
                r = -EIO;
        if (fclose(ctime_cmds) != 0 || r != 0)
                return fail(b, -EIO, NULL, NULL, "cannot write %s", cmds_path);
        _cleanup_free_ char *debugfs = tool_path("debugfs");
        /* debugfs echoes each command on stdout (tens of thousands of lines: to a file) and exits 0 when one
         * fails: its errors are what it says on stderr besides its version line. */
        _cleanup_free_ char *output = NULL;
        _cleanup_free_ char *echo = strprintf("%s.out", cmds_path);
        _cleanup_free_ char *fake_time = strprintf("E2FSPROGS_FAKE_TIME=%" PRId64, b->epoch);
        const char *envv[] = { fake_time, NULL };
        ProgramIO io = { .env = envv, .stdout_path = echo };
        char *argv[] = { debugfs, "-w", "-f", (char *) cmds_path, target, NULL };
        r = debugfs && fake_time && echo ? run_program_io(argv, &io, &output) : -ENOENT;
        if (r != 0)
                return fail(b, r < 0 ? r : -EPROTO, output, NULL, "debugfs could not set the root's ctimes");
        for (const char *line = output; line && *line; line = strchr(line, '\n') ? strchr(line, '\n') + 1 : NULL)
                if (!startswith(line, "debugfs "))
                        return fail(b, -EPROTO, line, NULL, "debugfs could not set a ctime or atime in the root");
        return 0;
}

static int step_disk(Build *b) {
        step_begin(b, "disk");
        const ImageLayout *l = &b->layout;
        _cleanup_free_ char *disk = strprintf("%s/disk.raw", b->staging);
        _cleanup_free_ char *work = strprintf("%s/disk.work", b->staging);
        _cleanup_free_ char *script = strprintf("%s/sfdisk", work);
        _cleanup_free_ char *loader = strprintf("%s/loader.conf", work);
        _cleanup_free_ char *entry = strprintf("%s/clusterboot.conf", work);
        _cleanup_free_ char *efi = strprintf("%s/usr/lib/systemd/boot/efi/systemd-bootx64.efi", b->tree);
        _cleanup_free_ char *esp = strprintf("%s@@%" PRIu64, disk, l->esp_offset);
        _cleanup_free_ char *esp_kib = strprintf("%" PRIu64, l->esp_size / 1024);
        _cleanup_free_ char *esp_sector = strprintf("--offset=%" PRIu64, l->esp_offset / 512);
        _cleanup_free_ char *root_kib = strprintf("%" PRIu64 "k", l->root_size / 1024);
        _cleanup_free_ char *ext_opts = strprintf("offset=%" PRIu64 ",hash_seed=%s,nodiscard,lazy_itable_init=0",
                                                  l->root_offset, b->ids.root_fs);
        _cleanup_free_ char *fake_time = strprintf("E2FSPROGS_FAKE_TIME=%" PRId64, b->epoch);
        _cleanup_free_ char *epoch = epoch_env(b);
        _cleanup_free_ char *script_text = image_sfdisk_script(l, &b->ids);
        _cleanup_free_ char *loader_text = image_loader_conf();
        _cleanup_free_ char *entry_text = image_loader_entry(b->inv, b->kernel_version, &b->ids);
        if (!disk || !work || !script || !loader || !entry || !efi || !esp || !esp_kib ||
            !esp_sector || !root_kib || !ext_opts || !fake_time || !epoch || !script_text || !loader_text || !entry_text)
                return -ENOMEM;
        int r = mkdir_p(work, 0755);
        if (r < 0)
                return fail(b, r, NULL, NULL, "cannot make %s", work);
        r = write_output(b, script, script_text);
        r = r ?: write_output(b, loader, loader_text);
        r = r ?: write_output(b, entry, entry_text);
        if (r < 0)
                return r;

        int fd = open(disk, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
        if (fd < 0 || ftruncate(fd, (off_t) l->disk_size) < 0) {
                r = -errno;
                if (fd >= 0)
                        close(fd);
                return fail(b, r, NULL, "free space where --out is (the disk image is sparse)", "cannot make %s", disk);
        }
        close(fd);

        const char *envv[] = { epoch, fake_time, NULL };
        ProgramIO io_script = { .env = envv, .stdin_path = script };
        ProgramIO io = { .env = envv };
        r = RUN(b, &io_script, NULL, "sfdisk", "--quiet", "--no-reread", "--no-tell-kernel", disk);
        /* The ESP: systemd-boot at the removable-media path (no firmware boot entry needed), the kernel and
         * initrd of the tree, one loader entry. FAT32 of 512-byte clusters: with the default 4 KiB ones a
         * 256 MiB FAT32 has too few clusters for mtools ("Error reading FAT"). --invariant fixes what
         * mkfs.fat takes from the clock; -i after it, the serial. */
        r = r ?: RUN(b, &io, NULL, "mkfs.vfat", "-F", "32", "-s", "1", "-n", "ESP", "--invariant", "-i", b->ids.fat_serial,
                     esp_sector, disk, esp_kib);
        r = r ?: RUN(b, &io, NULL, "mmd", "-i", esp, "::/EFI", "::/EFI/BOOT", "::/loader", "::/loader/entries",
                     "::/clusterboot");
        r = r ?: RUN(b, &io, NULL, "mcopy", "-m", "-i", esp, efi, "::/EFI/BOOT/BOOTX64.EFI");
        r = r ?: RUN(b, &io, NULL, "mcopy", "-m", "-i", esp, loader, "::/loader/loader.conf");
        r = r ?: RUN(b, &io, NULL, "mcopy", "-m", "-i", esp, entry, "::/loader/entries/clusterboot.conf");
        r = r ?: RUN(b, &io, NULL, "mcopy", "-m", "-i", esp, b->vmlinuz, "::/clusterboot/vmlinuz");
        r = r ?: RUN(b, &io, NULL, "mcopy", "-m", "-i", esp, b->initrd, "::/clusterboot/initrd.img");
        /* The root: the tree as it is, written by mke2fs itself (-d), no mount. */
        r = r ?: RUN(b, &io, NULL, "mkfs.ext4", "-q", "-F", "-L", "root", "-U", b->ids.root_fs,
                     "-E", ext_opts, "-d", b->tree, disk, root_kib);
        _cleanup_free_ char *cmds = strprintf("%s/debugfs", work);
        r = r ?: cmds ? clamp_ctimes(b, disk, cmds) : -ENOMEM;
        r = r ?: rm_rf(work);
        r = r ?: add_output(b, "disk.raw");
        if (r >= 0) {
                /* Said, not hidden: such a file's ctime is the build's, and disk.raw differs build to build. */
                _cleanup_free_ char *note = strprintf("disk.raw, %" PRIu64 " MiB (sparse)%s", l->disk_size / IMAGE_MIB,
                                                      ctime_skipped ? "; a path with '\"' keeps its ctime: not reproducible"
                                                                    : "");
                step_end(b, note);
        }
        return r;
}

/* "NAME N MiB", the size of the file at path, for a step's line; NULL when it cannot be read. */
static char *size_note(const char *path, const char *name) {
        struct stat st;
        return stat(path, &st) >= 0 ? strprintf("%s %lld MiB", name, (long long) st.st_size >> 20) : NULL;
}

static int step_netboot(Build *b) {
        step_begin(b, "netboot");
        _cleanup_free_ char *dir = strprintf("%s/netboot", b->staging);
        _cleanup_free_ char *squashfs = strprintf("%s/rootfs.squashfs", dir);
        _cleanup_free_ char *vmlinuz = strprintf("%s/vmlinuz", dir);
        _cleanup_free_ char *initrd = strprintf("%s/initrd.img", dir);
        _cleanup_free_ char *list = strprintf("%s/.cpio-list", dir);
        _cleanup_free_ char *cpio = strprintf("%s/.rootfs.cpio", dir);
        _cleanup_free_ char *live = strprintf("%s/live.img", dir);
        _cleanup_free_ char *ipxe = strprintf("%s/boot.ipxe", dir);
        _cleanup_free_ char *cmdline = strprintf("%s/cmdline.txt", dir);
        _cleanup_free_ char *epoch = epoch_env(b);
        _cleanup_free_ char *ipxe_text = image_ipxe_script(b->inv);
        _cleanup_free_ char *cmdline_text = image_live_cmdline();
        if (!dir || !squashfs || !vmlinuz || !initrd || !list || !cpio || !live ||
            !ipxe || !cmdline || !epoch || !ipxe_text || !cmdline_text)
                return -ENOMEM;
        int r = mkdir_p(dir, 0755);
        if (r < 0)
                return fail(b, r, NULL, NULL, "cannot make %s", dir);
        const char *envv[] = { epoch, NULL };
        ProgramIO io = { .env = envv };
        /* Its dates: SOURCE_DATE_EPOCH (mksquashfs refuses it together with -mkfs-time/-all-time). zstd level
         * 9, not the default 15: for examples/homelab's tree on 2 cores 11.7 s and 456 MiB against 75 s and
         * 431 MiB (level 3: 4 s, 487 MiB); reading it back is as fast at any level. */
        r = RUN(b, &io, NULL, "mksquashfs", b->tree, squashfs, "-noappend", "-comp", "zstd", "-Xcompression-level", "9",
                "-quiet", "-no-progress");
        r = r ?: copy_output(b, b->vmlinuz, vmlinuz);
        r = r ?: copy_output(b, b->initrd, initrd);
        r = r ?: write_output(b, ipxe, ipxe_text);
        r = r ?: write_output(b, cmdline, cmdline_text);
        if (r < 0)
                return r;

        /* live.img: the initrd, then a cpio archive of the squashfs alone, which the kernel unpacks after it
         * (concatenated archives must start 4-byte aligned); the boot script finds /rootfs.squashfs there. */
        if ((r = set_dates(squashfs, b->epoch, 0)) < 0)
                return fail(b, r, NULL, NULL, "cannot date %s", squashfs);
        r = write_output(b, list, "rootfs.squashfs\n");
        ProgramIO io_cpio = { .env = envv, .cwd = dir, .stdin_path = list, .stdout_path = cpio };
        r = r ?: RUN(b, &io_cpio, NULL, "cpio", "--create", "--format=newc", "--owner=0:0", "--reproducible", "--quiet");
        if (r < 0)
                return r;
        int fd = open(live, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
        if (fd < 0)
                return fail(b, -errno, NULL, NULL, "cannot make %s", live);
        r = copy_file_to_fd(initrd, fd);
        off_t end = r >= 0 ? lseek(fd, 0, SEEK_END) : -1;
        static const char zeros[4] = {};
        if (r >= 0 && (end < 0 || write(fd, zeros, (size_t) ((4 - end % 4) % 4)) < 0))
                r = -errno;
        r = r ?: copy_file_to_fd(cpio, fd);
        if (r >= 0 && fsync(fd) < 0)
                r = -errno;
        close(fd);
        if (r < 0)
                return fail(b, r, NULL, "free space where --out is", "cannot write %s", live);
        if (unlink(list) < 0 || unlink(cpio) < 0)
                return fail(b, -errno, NULL, NULL, "cannot remove the cpio archive's work files");

        /* Made for cluster.iso alone (its live.img), netboot/ is no output: step_iso removes it. */
        static const char *const files[] = { "netboot/boot.ipxe", "netboot/cmdline.txt", "netboot/initrd.img",
                                             "netboot/live.img", "netboot/rootfs.squashfs", "netboot/vmlinuz" };
        for (size_t i = 0; r >= 0 && (b->o->formats & IMAGE_FORMAT_NETBOOT) && i < ELEMENTSOF(files); i++)
                r = add_output(b, files[i]);
        if (r >= 0) {
                _cleanup_free_ char *note = size_note(squashfs, "rootfs.squashfs");
                step_end(b, note);
        }
        return r;
}

/* ---- step iso: cluster.iso, hybrid ---- */

/* "YYYYMMDDhhmmss00", xorriso's form of a date, for epoch (UTC). */
static int iso_date(int64_t epoch, char ret[static 17]) {
        time_t t = (time_t) epoch;
        struct tm tm;
        if (!gmtime_r(&t, &tm) || strftime(ret, 17, "%Y%m%d%H%M%S00", &tm) != 16)
                return -EINVAL;
        return 0;
}

/* One ISO 9660 file system that boots from a CD or a USB stick, under BIOS or UEFI: GRUB for both (its BIOS
 * El Torito image in the file system; its UEFI image in a small FAT image that is both the El Torito UEFI
 * entry and a GPT partition appended for a stick), and grub.cfg booting the kernel with netboot's live.img
 * (the initrd and the root squashfs as one), as QEMU's -initrd does. The same GRUB modules each way. */
static int step_iso(Build *b) {
        step_begin(b, "iso");
        static const char *const modules[] = { "iso9660", "normal", "linux", "search", "search_fs_file", "configfile",
                                                "echo", "test", "serial", "terminal" };
        _cleanup_free_ char *work = strprintf("%s/iso.work", b->staging);
        _cleanup_free_ char *root = strprintf("%s/iso.work/root", b->staging);
        _cleanup_free_ char *grub_dir = strprintf("%s/boot/grub", root);
        _cleanup_free_ char *live_dir = strprintf("%s/live", root);
        _cleanup_free_ char *marker_dir = strprintf("%s" IMAGE_ISO_MARKER_DIR, root);
        _cleanup_free_ char *marker = strprintf("%s" IMAGE_ISO_MARKER_DIR "/%s", root, b->ids.disk);
        _cleanup_free_ char *grub_cfg = strprintf("%s/grub.cfg", grub_dir);
        _cleanup_free_ char *eltorito = strprintf("%s/eltorito.img", grub_dir);
        _cleanup_free_ char *early = strprintf("%s/early.cfg", work);
        _cleanup_free_ char *efi = strprintf("%s/bootx64.efi", work);
        _cleanup_free_ char *efi_img = strprintf("%s/efi.img", work);
        _cleanup_free_ char *vmlinuz = strprintf("%s/vmlinuz", live_dir);
        _cleanup_free_ char *live = strprintf("%s/live.img", live_dir);
        _cleanup_free_ char *netboot = strprintf("%s/netboot", b->staging);
        _cleanup_free_ char *netboot_live = strprintf("%s/netboot/live.img", b->staging);
        _cleanup_free_ char *iso = strprintf("%s/cluster.iso", b->staging);
        _cleanup_free_ char *epoch = epoch_env(b);
        _cleanup_free_ char *cfg_text = image_grub_cfg(b->inv);
        _cleanup_free_ char *early_text = image_grub_early_cfg(&b->ids);
        char date[17];
        if (!work || !root || !grub_dir || !live_dir || !marker_dir || !marker || !grub_cfg || !eltorito || !early ||
            !efi || !efi_img || !vmlinuz || !live || !netboot || !netboot_live || !iso || !epoch || !cfg_text ||
            !early_text || iso_date(b->epoch, date) < 0)
                return -ENOMEM;
        int r = mkdir_p(grub_dir, 0755);
        r = r ?: mkdir_p(live_dir, 0755);
        r = r ?: mkdir_p(marker_dir, 0755);
        if (r < 0)
                return fail(b, r, NULL, NULL, "cannot make %s", root);
        r = write_output(b, grub_cfg, cfg_text);
        r = r ?: write_output(b, early, early_text);
        r = r ?: write_output(b, marker, "clusterboot image\n");
        r = r ?: copy_output(b, b->vmlinuz, vmlinuz);
        /* netboot's live.img itself, linked (it is the ISO's bulk), or copied where links cannot be made. */
        if (r >= 0 && link(netboot_live, live) < 0)
                r = copy_output(b, netboot_live, live);
        if (r < 0)
                return r;

        const char *envv[] = { epoch, NULL };
        ProgramIO io = { .env = envv };
        /* Each list ends in NULLs, room for the modules both take (16 arguments before them at most). */
        _Static_assert(16 + ELEMENTSOF(modules) < 32, "room for GRUB's modules and the final NULL");
        char *bios[32] = { (char *) "grub-mkimage", (char *) "-O", (char *) "i386-pc-eltorito", (char *) "-d",
                           (char *) GRUB_BIOS_DIR, (char *) "-o", eltorito, (char *) "-p", (char *) "/boot/grub",
                           (char *) "-c", early, (char *) "biosdisk" };
        char *uefi[32] = { (char *) "grub-mkimage", (char *) "-O", (char *) "x86_64-efi", (char *) "-d", (char *) GRUB_EFI_DIR,
                           (char *) "-o", efi, (char *) "-p", (char *) "/boot/grub", (char *) "-c", early,
                           (char *) "fat", (char *) "part_gpt", (char *) "part_msdos", (char *) "efi_gop", (char *) "efi_uga" };
        size_t nb = 0, nu = 0;
        while (bios[nb])
                nb++;
        while (uefi[nu])
                nu++;
        for (size_t i = 0; i < ELEMENTSOF(modules); i++) {
                bios[nb++] = (char *) modules[i];
                uefi[nu++] = (char *) modules[i];
        }
        r = run(b, &io, NULL, bios);
        r = r ?: run(b, &io, NULL, uefi);
        /* The FAT image of the UEFI entry: dates and serial fixed (mkfs.fat --invariant, -i; mtools keeps the
         * file's clamped date with -m). */
        r = r ?: set_dates(efi, b->epoch, 0);
        r = r ?: RUN(b, &io, NULL, "mkfs.vfat", "-C", "-n", "EFIBOOT", "--invariant", "-i", b->ids.fat_serial, efi_img,
                     "4096");
        r = r ?: RUN(b, &io, NULL, "mmd", "-i", efi_img, "::/EFI", "::/EFI/BOOT");
        r = r ?: RUN(b, &io, NULL, "mcopy", "-m", "-i", efi_img, efi, "::/EFI/BOOT/BOOTX64.EFI");
        uint64_t ignored;
        if (r >= 0 && clamp_dates(root, b->epoch, &ignored) < 0)
                r = fail(b, -clamp_errno, NULL, NULL, "cannot date the files under %s", root);
        _cleanup_free_ char *mod_date = strprintf("--modification-date=%s", date);
        if (r >= 0 && !mod_date)
                r = -ENOMEM;
        /* xorriso's mkisofs emulation, dates from SOURCE_DATE_EPOCH and --modification-date: GRUB's hybrid MBR
         * (a stick under BIOS), the FAT image appended as a GPT partition (a stick under UEFI) and as the
         * El Torito UEFI entry, GRUB's El Torito image for a CD under BIOS. */
        r = r ?: RUN(b, &io, NULL, "xorriso", "-as", "mkisofs", "-o", iso, "-R", "-V", "CLUSTERBOOT", mod_date,
                     "--grub2-mbr", GRUB_BIOS_DIR "/boot_hybrid.img", "-partition_offset", "16", "--mbr-force-bootable",
                     "-append_partition", "2", "0xef", efi_img, "-appended_part_as_gpt", "-c", "boot/boot.cat",
                     "-b", "boot/grub/eltorito.img", "-no-emul-boot", "-boot-load-size", "4", "-boot-info-table",
                     "--grub2-boot-info", "-eltorito-alt-boot", "-e", "--interval:appended_partition_2:all::",
                     "-no-emul-boot", root);
        r = r ?: rm_rf(work);
        if (r >= 0 && !(b->o->formats & IMAGE_FORMAT_NETBOOT))
                r = rm_rf(netboot);
        r = r ?: add_output(b, "cluster.iso");
        if (r >= 0) {
                _cleanup_free_ char *note = size_note(iso, "cluster.iso");
                step_end(b, note);
        }
        return r;
}

/* ---- manifest, SHA256SUMS ---- */

static char *inventory_digest(const Inventory *inv) {
        /* Over the files as installed (sorted by name): each name, a NUL, its bytes, a NUL. */
        size_t n = inv->sources.n_files;
        _cleanup_free_ const SourceFile **files = calloc(n ?: 1, sizeof(*files));
        EVP_MD_CTX *ctx = files ? EVP_MD_CTX_new() : NULL;
        if (!ctx || EVP_DigestInit_ex(ctx, EVP_sha256(), NULL) != 1) {
                EVP_MD_CTX_free(ctx);
                return NULL;
        }
        for (size_t i = 0; i < n; i++)
                files[i] = inv->sources.files + i;
        for (size_t i = 1; i < n; i++)
                for (size_t k = i; k > 0 && strcmp(files[k - 1]->rel, files[k]->rel) > 0; k--) {
                        const SourceFile *t = files[k];
                        files[k] = files[k - 1];
                        files[k - 1] = t;
                }
        bool ok = true;
        for (size_t i = 0; ok && i < n; i++)
                ok = EVP_DigestUpdate(ctx, files[i]->rel, strlen(files[i]->rel) + 1) == 1 &&
                     EVP_DigestUpdate(ctx, files[i]->data, files[i]->size) == 1 && EVP_DigestUpdate(ctx, "", 1) == 1;
        unsigned char md[EVP_MAX_MD_SIZE];
        unsigned len = 0;
        ok = ok && EVP_DigestFinal_ex(ctx, md, &len) == 1 && len == 32;
        EVP_MD_CTX_free(ctx);
        char *hex = ok ? malloc(65) : NULL;
        if (hex)
                hex_encode(md, 32, hex);
        return hex;
}

static int step_manifest(Build *b) {
        step_begin(b, "manifest");
        char self_sha[65];
        int r = file_sha256(b->o->self, self_sha, NULL);
        if (r < 0)
                return fail(b, r, NULL, NULL, "cannot read %s", b->o->self);
        _cleanup_free_ char *inv_sha = inventory_digest(b->inv);
        _cleanup_free_ char *cmdline = image_live_cmdline();
        if (!inv_sha || !cmdline)
                return -ENOMEM;
        cmdline[strcspn(cmdline, "\n")] = 0;
        json_t *m = json_pack("{s:s,s:{s:s,s:s},s:s,s:s,s:I,s:{s:s,s:s,s:s,s:s,s:s},s:s,s:{s:s,s:s},s:O,s:O,s:b}",
                              "cluster", strempty(b->inv->cluster.name.v), "clusterboot", "version", PROJECT_VERSION,
                              "sha256", self_sha, "inventory_sha256", inv_sha, "secret_policy",
                              b->o->embedded ? "embedded" : "join", "source_date_epoch", (json_int_t) b->epoch, "base",
                              "suite", IMAGE_SUITE, "architecture", IMAGE_ARCH, "mirror", b->o->mirror, "release_date",
                              b->release_date, "cache_key", b->base_key, "kernel", b->kernel_version, "cmdline", "disk",
                              IMAGE_CMDLINE, "netboot", cmdline, "components", b->components, "outputs", b->outputs,
                              "rootfs", (b->o->formats & IMAGE_FORMAT_TREE) != 0);
        _cleanup_free_ char *text = m ? json_dumps(m, JSON_INDENT(2) | JSON_PRESERVE_ORDER) : NULL;
        json_decref(m);
        _cleanup_free_ char *manifest = strprintf("%s/manifest.json", b->staging);
        _cleanup_free_ char *with_nl = text ? strprintf("%s\n", text) : NULL;
        if (!manifest || !with_nl)
                return -ENOMEM;
        r = write_output(b, manifest, with_nl);
        r = r ?: add_output(b, "manifest.json");
        if (r < 0)
                return r;

        /* `sha256sum -c SHA256SUMS` in the output folder checks every output, the manifest included. */
        StrBuf sums = {};
        size_t i;
        json_t *o;
        json_array_foreach(b->outputs, i, o) {
                if (strbuf_printf(&sums, "%s  %s\n", json_string_value(json_object_get(o, "sha256")),
                                  json_string_value(json_object_get(o, "path"))) < 0) {
                        strbuf_done(&sums);
                        return -ENOMEM;
                }
        }
        _cleanup_free_ char *sums_path = strprintf("%s/SHA256SUMS", b->staging);
        r = sums_path ? write_output(b, sums_path, sums.s) : -ENOMEM;
        strbuf_done(&sums);
        if (r >= 0)
                step_end(b, NULL);
        return r;
}

/* ---- publish: the outputs moved into --out, replacing the last build's ---- */

static const char *const output_names[] = { "disk.raw", "cluster.iso", "netboot", "rootfs", "manifest.json", "SHA256SUMS" };

static int step_publish(Build *b) {
        step_begin(b, "publish");
        _cleanup_free_ char *old = strprintf("%s/old", b->staging);
        if (!old || mkdir(old, 0755) < 0)
                return fail(b, old ? -errno : -ENOMEM, NULL, NULL, "cannot make %s", old);
        /* The last build's outputs go first, also those of formats not built this time: the folder then
         * holds one build, which SHA256SUMS describes. SHA256SUMS moves last. */
        int r = 0;
        for (size_t i = 0; r >= 0 && i < ELEMENTSOF(output_names); i++) {
                _cleanup_free_ char *cur = strprintf("%s/%s", b->o->out, output_names[i]);
                _cleanup_free_ char *aside = strprintf("%s/%s", old, output_names[i]);
                if (!cur || !aside)
                        r = -ENOMEM;
                else if (rename(cur, aside) < 0 && errno != ENOENT)
                        r = fail(b, -errno, NULL, NULL, "cannot move the last build's %s aside", cur);
        }
        /* The tree is the output rootfs/ when asked for (else it goes with the staging folder). */
        _cleanup_free_ char *rootfs = strprintf("%s/rootfs", b->staging);
        if (r >= 0 && (b->o->formats & IMAGE_FORMAT_TREE) && (!rootfs || rename(b->tree, rootfs) < 0))
                r = fail(b, rootfs ? -errno : -ENOMEM, NULL, NULL, "cannot move the tree to %s", rootfs);
        for (size_t i = 0; r >= 0 && i < ELEMENTSOF(output_names); i++) {
                _cleanup_free_ char *made = strprintf("%s/%s", b->staging, output_names[i]);
                _cleanup_free_ char *dst = strprintf("%s/%s", b->o->out, output_names[i]);
                if (!made || !dst)
                        r = -ENOMEM;
                else if (rename(made, dst) < 0 && errno != ENOENT)
                        r = fail(b, -errno, NULL, NULL, "cannot move %s into place", dst);
        }
        if (r >= 0 && fsync_directory(b->o->out) < 0)
                r = fail(b, -errno, NULL, NULL, "cannot sync %s", b->o->out);
        if (r >= 0)
                step_end(b, b->o->out);
        return r;
}

int image_build(const Inventory *inv, const ImageBuildOptions *o, ImageProgress progress, void *userdata,
                ImageError *ret_error) {
        Build b = {
                .inv = inv,
                .o = o,
                .progress = progress,
                .userdata = userdata,
                .err = ret_error,
                .epoch = o->source_date_epoch,
                .components = json_array(),
                .outputs = json_array(),
        };
        *ret_error = (ImageError) {};
        b.total = 7 + !!(o->formats & IMAGE_FORMAT_DISK) + !!(o->formats & (IMAGE_FORMAT_NETBOOT | IMAGE_FORMAT_ISO)) +
                  !!(o->formats & IMAGE_FORMAT_ISO) + 1;
        int r = b.components && b.outputs ? 0 : -ENOMEM;
        r = r ?: image_packages(inv, &b.packages, &b.n_packages);
        r = r ?: image_ids(inv, &b.ids);
        if (r >= 0 && (r = mkdir_p(o->out, 0755)) < 0)
                fail(&b, r, NULL, "give a folder you can write to with --out DIR", "cannot make the output folder %s",
                     o->out);
        if (r >= 0) {
                b.staging = strprintf("%s/.build-XXXXXX", o->out);
                if (!b.staging)
                        r = -ENOMEM;
                else if (!mkdtemp(b.staging)) {
                        r = fail(&b, -errno, NULL, "give a folder you can write to with --out DIR",
                                 "cannot make a staging folder in %s", o->out);
                        free(b.staging);
                        b.staging = NULL;
                }
        }
        if (r >= 0 && !(b.tree = strprintf("%s/tree", b.staging)))
                r = -ENOMEM;

        r = r ?: step_base(&b);
        r = r ?: step_verify(&b);
        r = r ?: step_tree(&b);
        r = r ?: step_components(&b);
        r = r ?: step_initrd(&b);
        r = r ?: step_normalise(&b);
        if (r >= 0 && (o->formats & IMAGE_FORMAT_DISK))
                r = step_disk(&b);
        if (r >= 0 && (o->formats & (IMAGE_FORMAT_NETBOOT | IMAGE_FORMAT_ISO)))
                r = step_netboot(&b);
        if (r >= 0 && (o->formats & IMAGE_FORMAT_ISO))
                r = step_iso(&b);
        r = r ?: step_manifest(&b);
        r = r ?: step_publish(&b);
        if (r < 0 && !ret_error->what)
                fail(&b, r, NULL, NULL, "out of memory or an unexpected error");

        /* The tree, the last build's outputs and, on failure, everything half made. */
        int k = b.staging ? rm_rf(b.staging) : 0;
        if (k < 0 && r >= 0)
                r = fail(&b, k, NULL, NULL, "cannot remove the staging folder %s", b.staging);
        free(b.staging);
        free(b.tree);
        free(b.base);
        free(b.base_key);
        for (size_t i = 0; i < b.n_packages; i++)
                free(b.packages[i]);
        free(b.packages);
        free(b.kernel_version);
        free(b.vmlinuz);
        free(b.initrd);
        free(b.release_date);
        json_decref(b.components);
        json_decref(b.outputs);
        return r;
}
