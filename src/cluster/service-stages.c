/* SPDX-License-Identifier: Apache-2.0 */
/* The work of the service stages that must happen once before a service's first start: the Ceph
 * monitor's store, the Ceph manager's keyring, the OSDs, and Kafka's formatted log directory. */
#include <errno.h>
#include <inttypes.h>
#include <jansson.h>
#include <pwd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "activate.h"
#include "bootstrap.h"
#include "ceph-admin.h"
#include "ceph-answer.h"
#include "disk-probe.h"
#include "fileio.h"
#include "fs-util.h"
#include "log.h"
#include "osd-record.h"
#include "paths.h"
#include "process.h"
#include "render.h"
#include "secret-formats.h"
#include "string-util.h"
#include "banned.h"

static bool exists(const char *path) {
        struct stat st;
        return stat(path, &st) >= 0;
}

/* chown -R USER:USER path on the live system, when the user exists (the package made it). */
static int give_to(const char *root, const char *user, const char *path) {
        if (root || !getpwnam(user))
                return 0;
        _cleanup_free_ char *owner = strprintf("%s:%s", user, user);
        if (!owner)
                return -ENOMEM;
        char *argv[] = { "/bin/chown", "-R", owner, (char *) path, NULL };
        int r = run_program(argv, NULL);
        return r == 0 ? 0 : r < 0 ? r : -EIO;
}

static int remove_tree(const char *path) {
        if (!exists(path))
                return 0;
        char *argv[] = { "/bin/rm", "-rf", "--one-file-system", (char *) path, NULL };
        int r = run_program(argv, NULL);
        return r == 0 ? 0 : r < 0 ? r : -EIO;
}

/* The value of "key = value" in the rendered ceph.conf's [global], or NULL. */
static char *ceph_conf_value(const char *conf, const char *key) {
        _cleanup_free_ char *text = NULL;
        size_t size, klen = strlen(key);
        if (read_full_file(conf, 1024 * 1024, &text, &size) < 0)
                return NULL;
        for (char *line = text; line && *line;) {
                char *next = strchr(line, '\n');
                if (next)
                        *next++ = 0;
                line += strspn(line, " \t");
                if (strncmp(line, key, klen) == 0 && line[klen] && strchr(" \t=", line[klen])) {
                        char *v = line + klen;
                        v += strspn(v, " \t");
                        if (*v == '=') {
                                v++;
                                v += strspn(v, " \t");
                                return strndup(v, strcspn(v, " \t\r"));
                        }
                }
                line = next;
        }
        return NULL;
}

/* The initial monmap, as Ceph's manual deployment makes it: every monitor of the inventory by its name with
 * both messenger addresses, and the fsid of the rendered ceph.conf. Made from mon_host alone, the map would
 * name the other monitors "noname-X" and rename them (moving their ranks) as they first join, which
 * ceph-mon 16.2 can abort on (ConnectionTracker::notify_rank_removed, "FAILED ceph_assert(rank ==
 * new_rank)"): seen when three monitors formed at once. */
static int make_monmap(BootstrapContext *c, const char *conf, const char *path) {
        _cleanup_free_ char *fsid = ceph_conf_value(conf, "fsid");
        _cleanup_free_ char *output = NULL;
        char **argv = NULL;
        size_t n = 0;
        int r = 0;
        if (!fsid) {
                bootstrap_message(c, "%s has no fsid: the stage render comes first", CEPH_CONFIG_DIR "/ceph.conf");
                return -ENOENT;
        }
        argv = calloc(2 * c->inv->n_nodes + 8, sizeof(char *));
        if (!argv)
                return -ENOMEM;
        argv[n++] = strdup("/usr/bin/monmaptool");
        argv[n++] = strdup("--create");
        argv[n++] = strdup("--clobber");
        argv[n++] = strdup("--fsid");
        argv[n++] = strdup(fsid);
        for (size_t i = 0; i < c->inv->n_nodes; i++) {
                const Node *m = c->inv->nodes + i;
                if (!m->roles[ROLE_CEPH_MON] || !m->ip_valid)
                        continue;
                _cleanup_free_ char *v2 = render_host_port(&m->ip, 3300), *v1 = render_host_port(&m->ip, 6789);
                argv[n++] = strdup("--addv");
                argv[n++] = strdup(m->name);
                argv[n++] = v2 && v1 ? strprintf("[v2:%s,v1:%s]", v2, v1) : NULL;
        }
        argv[n++] = strdup(path);
        for (size_t i = 0; i < n; i++)
                if (!argv[i])
                        r = -ENOMEM;
        r = r ?: run_program(argv, &output);
        if (r > 0)
                bootstrap_message(c, "monmaptool --create for the inventory's monitors failed (exit %d): %s", r,
                                  output_last_line(output));
        for (size_t i = 0; i < n; i++)
                free(argv[i]);
        free(argv);
        return r > 0 ? -EIO : r;
}

int bootstrap_ceph_mon(BootstrapContext *c) {
        _cleanup_free_ char *rel = strprintf(CEPH_MON_STORE_PREFIX "%s", c->node->name);
        _cleanup_free_ char *data = rel ? path_join_root(c->root, rel) : NULL;
        _cleanup_free_ char *tmp = data ? strprintf("%s.mkfs", data) : NULL;
        _cleanup_free_ char *monmap = data ? strprintf("%s.monmap", data) : NULL;
        _cleanup_free_ char *conf = path_join_root(c->root, CEPH_CONFIG_DIR "/ceph.conf");
        _cleanup_free_ char *keyring = path_join_root(c->root, CEPH_CONFIG_DIR "/ceph.mon.keyring");
        _cleanup_free_ char *log = path_join_root(c->root, "/var/log/ceph/ceph-mon-mkfs.log");
        _cleanup_free_ char *output = NULL;
        if (!tmp || !monmap || !conf || !keyring || !log)
                return -ENOMEM;

        if (exists(data)) {
                bootstrap_message(c, "the store of mon.%s exists (%s)", c->node->name, rel);
                return 0;
        }
        if (!exists(conf) || !exists(keyring)) {
                bootstrap_message(c, "%s or %s is missing: the stages render and certificates come first",
                                  CEPH_CONFIG_DIR "/ceph.conf", CEPH_CONFIG_DIR "/ceph.mon.keyring");
                return -ENOENT;
        }
        /* A half-made store of a run that died is made again. */
        int r = remove_tree(tmp);
        r = r ?: mkdir_parents(tmp, 0755);
        r = r ?: mkdir_parents(log, 0755);
        if (r < 0) {
                bootstrap_message(c, "cannot prepare %s", tmp);
                return r;
        }
        r = make_monmap(c, conf, monmap);
        if (r < 0)
                return r;
        char *argv[] = { "/usr/bin/ceph-mon", "--mkfs", "-i", (char *) c->node->name, "--mon-data", tmp,
                         "--monmap", monmap, "--keyring", keyring, "-c", conf, "--log-file", log, NULL };
        r = run_program(argv, &output);
        (void) unlink(monmap);
        if (r != 0) {
                bootstrap_message(c, "ceph-mon --mkfs for mon.%s failed (%s%d): %s", c->node->name,
                                  r < 0 ? "error " : "exit ", r, output_last_line(output));
                return r < 0 ? r : -EIO;
        }
        r = give_to(c->root, "ceph", tmp);
        if (r >= 0 && rename(tmp, data) < 0)
                r = -errno;
        if (r >= 0) {
                _cleanup_free_ char *parent = strdup(data);
                if (parent && strrchr(parent, '/'))
                        *strrchr(parent, '/') = 0;
                r = parent ? fsync_directory(parent) : -ENOMEM;
        }
        if (r < 0) {
                bootstrap_message(c, "cannot put the store of mon.%s into place", c->node->name);
                return r;
        }
        bootstrap_message(c, "made the store of mon.%s (ceph-mon --mkfs with the inventory's monitors as the "
                             "initial monmap, from monmaptool)", c->node->name);
        return 0;
}

/* The key of entity in a keyring as Ceph prints it ("[mgr.a]\n\tkey = AQ...==\n"), or NULL. */
static char *keyring_key(const char *text, const char *entity) {
        _cleanup_free_ char *header = strprintf("[%s]\n", entity);
        const char *p = header && text ? strstr(text, header) : NULL;
        if (!p)
                return NULL;
        p += strlen(header);
        p += strspn(p, " \t");
        if (!startswith(p, "key"))
                return NULL;
        p += strlen("key");
        p += strspn(p, " \t");
        if (*p != '=')
                return NULL;
        p += 1 + strspn(p + 1, " \t");
        size_t n = strcspn(p, " \t\r\n");
        return n > 0 ? strndup(p, n) : NULL;
}

#define MGR_CAPS "mon 'allow profile mgr' osd 'allow *' mds 'allow *'"

/* The manager's keyring, as Ceph's manual setup of a ceph-mgr makes it (doc/mgr/administrator.rst):
 *   ceph auth get-or-create mgr.NODE mon 'allow profile mgr' osd 'allow *' mds 'allow *'
 * as client.admin, its key written to /var/lib/ceph/mgr/ceph-NODE/keyring. get-or-create answers the same
 * key again for the same entity, so a run that died after it repeats it and gets the key it lost. The file
 * appears whole and owned by ceph, or not at all: keyring.new, chown, rename. */
int bootstrap_ceph_mgr(BootstrapContext *c) {
        const char *name = c->node->name;
        _cleanup_free_ char *rel = strprintf(CEPH_DATA_DIR "/mgr/ceph-%s", name);
        _cleanup_free_ char *dir = rel ? path_join_root(c->root, rel) : NULL;
        _cleanup_free_ char *path = dir ? strprintf("%s/keyring", dir) : NULL;
        _cleanup_free_ char *tmp = dir ? strprintf("%s/keyring.new", dir) : NULL;
        _cleanup_free_ char *conf = path_join_root(c->root, CEPH_CONFIG_DIR "/ceph.conf");
        _cleanup_free_ char *admin = path_join_root(c->root, CEPH_CONFIG_DIR "/ceph.client.admin.keyring");
        _cleanup_free_ char *entity = strprintf("mgr.%s", name);
        _cleanup_secret_free_ char *output = NULL, *key = NULL, *keyring = NULL;
        if (!path || !tmp || !conf || !admin || !entity)
                return -ENOMEM;

        if (exists(path)) {
                bootstrap_message(c, "the keyring of %s exists (%s/keyring)", entity, rel);
                return 0;
        }
        if (!exists(conf) || !exists(admin)) {
                bootstrap_message(c, "%s or %s is missing: the stages render and certificates come first",
                                  CEPH_CONFIG_DIR "/ceph.conf",
                                  CEPH_CONFIG_DIR "/ceph.client.admin.keyring");
                return -ENOENT;
        }
        char *args[] = { "auth", "get-or-create", entity, "mon", "allow profile mgr", "osd", "allow *",
                         "mds", "allow *", NULL };
        int r = ceph_admin(c->root, c->timeout_ms, args, &output);
        if (r != 0) {
                /* Exit 1 is most often no monitor in quorum yet; anything else (EACCES, EINVAL: mgr.NODE
                 * exists with other caps) will not go away by waiting. */
                const char *why = output_last_line(output);
                bool later = r == 1 || strstr(why, "timed out");
                bootstrap_message(c, "ceph auth get-or-create %s " MGR_CAPS " failed (%s%d): %s%s%s%s",
                                  entity, r < 0 ? "error " : "exit ", r, why,
                                  later ? "" : " (`ceph auth get ", later ? "" : entity,
                                  later ? "" : "` shows what the monitors have)");
                return r < 0 ? r : later ? -EAGAIN : -EIO;
        }
        key = keyring_key(output, entity);
        r = key ? cephx_keyring_entry(entity, key, NULL, &keyring) : -EBADMSG;
        if (r < 0) {
                bootstrap_message(c, "ceph auth get-or-create %s answered no well-formed key for it",
                                  entity);
                return r == -ENOMEM ? r : -EIO;
        }

        r = mkdir_p(dir, 0755);
        r = r ?: write_file_atomic(tmp, keyring, strlen(keyring), 0600);
        /* The manager reads it after dropping to ceph (--setuser ceph). */
        r = r ?: give_to(c->root, "ceph", dir);
        if (r >= 0 && rename(tmp, path) < 0)
                r = -errno;
        r = r ?: fsync_directory(dir);
        if (r < 0) {
                (void) unlink(tmp);
                bootstrap_message(c, "cannot put the keyring of %s into place (%s/keyring)", entity, rel);
                return r;
        }
        bootstrap_message(c, "made the keyring of %s (ceph auth get-or-create %s " MGR_CAPS ")", entity,
                          entity);
        return 0;
}

/* This node's manager runs and the monitors know it: it is the active one (`ceph mgr stat` names only
 * that), or it has sent them its metadata, which they keep from its first beacon until mon_mgr_beacon_grace
 * after its last. Which manager becomes active is the cluster's affair: waiting for an election here
 * would hold every monitor node's later stages for it (~10 s). */
int bootstrap_ceph_mgr_health(BootstrapContext *c, char **ret_why) {
        const char *name = c->node->name;
        _cleanup_free_ char *output = NULL, *active = NULL;
        char *meta[] = { "mgr", "metadata", (char *) name, "--format", "json", NULL };
        char *stat_args[] = { "mgr", "stat", "--format", "json", NULL };
        bool healthy = false, available = false;
        char *why;

        int r = ceph_admin(c->root, c->timeout_ms, stat_args, &output);
        if (r < 0)
                return r;
        int p = r == 0 ? ceph_mgr_stat_parse(output, &active, &available) : -EBADMSG;
        if (p == -ENOMEM)
                return p;
        if (r != 0)
                why = strprintf("ceph mgr stat (exit %d): %s", r, output_last_line(output));
        else if (p < 0)
                why = strprintf("ceph mgr stat answered no JSON object: %s", output_last_line(output));
        else if (streq(active, name) && available) {
                why = strprintf("mgr.%s is active", name);
                healthy = true;
        } else {
                free(output);
                output = NULL;
                r = ceph_admin(c->root, c->timeout_ms, meta, &output);
                if (r < 0)
                        return r;
                healthy = r == 0;
                if (healthy)
                        why = *active ? strprintf("mgr.%s reports to the monitors; mgr.%s is the active one", name, active)
                                      : strprintf("mgr.%s reports to the monitors; no manager is active yet", name);
                else
                        why = *active ? strprintf("mgr.%s is active; mgr.%s has not reported to the monitors", active, name)
                                      : strprintf("no active mgr yet, waiting for mgr.%s", name);
        }
        if (!why)
                return -ENOMEM;
        *ret_why = why;
        return healthy ? 0 : -EAGAIN;
}

/* A file of the state directory holding one line, or NULL. */
static char *state_line(const char *path) {
        char *text = NULL;
        size_t size;
        if (read_full_file(path, 4096, &text, &size) < 0)
                return NULL;
        text[strcspn(text, "\n")] = 0;
        return text;
}

/* The OSD uuid in the BlueStore label on dev (ceph-bluestore-tool show-label: {"DEV": {"osd_uuid": ...}}),
 * or NULL. */
static char *bluestore_osd_uuid(const char *dev) {
        _cleanup_free_ char *output = NULL;
        char *argv[] = { "/usr/bin/ceph-bluestore-tool", "show-label", "--dev", (char *) dev, NULL };
        if (run_program(argv, &output) != 0)
                return NULL;
        return ceph_label_osd_uuid(output);
}

/* An OSD's device is blank, or holds this very OSD's BlueStore (its uuid, recorded before `ceph osd new`: a
 * run that died in ceph-osd --mkfs). Anything else is refused and never written: the node file may name the
 * wrong disk, or the disk may hold another cluster's OSD. -EEXIST then, with the stage's message. */
static int check_osd_device(BootstrapContext *c, const char *dev, const char *device, const char *uuid) {
        DiskContent d = {};
        _cleanup_free_ char *why = NULL, *found = NULL;
        int r = disk_probe(dev, &d, &why);
        if (r < 0) {
                bootstrap_message(c, "cannot tell what the OSD device %s holds: %s", device, strempty(why));
                return r;
        }
        if (d.blank)
                return 0;
        bool bluestore = streq(d.type, "ceph_bluestore");
        if (bluestore && uuid && (found = bluestore_osd_uuid(dev)) && streq(found, uuid)) {
                disk_content_done(&d);
                return 0;
        }
        if (bluestore)
                bootstrap_message(c, "the OSD device %s holds the BlueStore of %s%s, not one this node made: it is never "
                                     "wiped; if that OSD may go, wipe the disk (wipefs -a %s) and run again, or name the "
                                     "right disk in nodes/%s.yaml",
                                  device, found ? "OSD " : "another OSD", strempty(found), device, c->node->name);
        else
                bootstrap_message(c, "the OSD device %s holds %s, which Ceph did not make: it is never wiped; if what it "
                                     "holds may go, wipe it (wipefs -a %s) and run again, or name the right disk in "
                                     "nodes/%s.yaml",
                                  device, d.type, device, c->node->name);
        disk_content_done(&d);
        return -EEXIST;
}

static char *osd_data_dir(const char *root, int64_t id) {
        return strprintf("%s" CEPH_DATA_DIR "/osd/ceph-%" PRId64, strempty(root), id);
}

/* osd.ID made: ceph-osd --mkfs wrote "ready" last, with its own fsync. */
static bool osd_made(const char *root, int64_t id) {
        _cleanup_free_ char *data = osd_data_dir(root, id);
        _cleanup_free_ char *ready = data ? strprintf("%s/ready", data) : NULL;
        return ready && exists(ready);
}

/* Forgets rec and its key: its OSD is gone from Ceph (purged, its id given to another), or its disk no
 * longer holds it (replaced, or wiped once it was purged). */
static int forget_osd(BootstrapContext *c, OsdRecords *records, OsdRecord *rec) {
        _cleanup_free_ char *key_path = osd_key_path(c->root, rec);
        if (!key_path)
                return -ENOMEM;
        log_info("forgetting osd.%" PRId64 " of %s (uuid %s): Ceph or the disk no longer has it", rec->id, rec->device,
                 rec->uuid);
        osd_records_remove(records, rec);
        int r = osd_records_save(c->root, records);
        if (r >= 0 && unlink(key_path) < 0 && errno != ENOENT)
                r = -errno;
        return r;
}

/* The id Ceph gives the OSD of rec (Ceph's "long form" manual deployment, without ceph-volume):
 *   ceph osd new UUID -i {"cephx_secret": KEY} --format json   as client.bootstrap-osd: {"osdid": ID}
 * Ceph picks the lowest free id. The uuid and the key were recorded before, so a run that died before the
 * answer was recorded asks again with both, and Ceph answers the same id. */
static int osd_new(BootstrapContext *c, OsdRecords *records, OsdRecord **recp, const char *key) {
        OsdRecord *rec = *recp;
        _cleanup_free_ char *dir = path_join_root(c->root, OSD_RECORD_DIR);
        _cleanup_free_ char *req_path = dir ? strprintf("%s/%s.json", dir, rec->uuid) : NULL;
        _cleanup_free_ char *conf = path_join_root(c->root, CEPH_CONFIG_DIR "/ceph.conf");
        _cleanup_free_ char *boot = path_join_root(c->root, CEPH_CONFIG_DIR "/ceph.bootstrap-osd.keyring");
        _cleanup_free_ char *req = strprintf("{\"cephx_secret\": \"%s\"}", key);
        _cleanup_free_ char *output = NULL;
        if (!req_path || !conf || !boot || !req)
                return -ENOMEM;
        int r = write_file_atomic(req_path, req, strlen(req), 0600);
        explicit_bzero(req, strlen(req));
        if (r < 0)
                return r;
        char *argv[] = { "/usr/bin/ceph", "--conf", conf, "--name", "client.bootstrap-osd", "--keyring", boot,
                         "--connect-timeout", "10", "osd", "new", rec->uuid, "-i", req_path, "--format", "json", NULL };
        r = run_program(argv, &output);
        (void) unlink(req_path);
        if (r != 0) {
                /* Most often: no monitor answers yet. */
                bootstrap_message(c, "ceph osd new for %s failed (%s%d): %s", rec->device, r < 0 ? "error " : "exit ", r,
                                  output_last_line(output));
                return r < 0 ? r : r == 1 || strstr(output_last_line(output), "timed out") ? -EAGAIN : -EIO;
        }
        int64_t id;
        if (ceph_osd_new_parse(output, &id) < 0) {
                bootstrap_message(c, "ceph osd new for %s answered no OSD id: %s", rec->device, output_last_line(output));
                return -EIO;
        }
        bootstrap_kill_point("ceph-osd", "after-osd-new");
        /* Ceph gives an id again only once its OSD was purged: a record of this node that still holds it is
         * of that gone OSD. */
        for (size_t i = 0; i < records->n; i++)
                if (records->items[i].id == id && records->items + i != rec) {
                        _cleanup_free_ char *device = strdup(rec->device);
                        if (!device)
                                return -ENOMEM;
                        int k = forget_osd(c, records, records->items + i);
                        if (k < 0)
                                return k;
                        *recp = rec = osd_records_find(records, device);
                        break;
                }
        rec->id = id;
        return osd_records_save(c->root, records);
}

/* One OSD on one device: its record (uuid and key, before anything is asked of Ceph), its id from Ceph,
 * then /var/lib/ceph/osd/ceph-ID (keyring, block -> the device) and ceph-osd --mkfs (BlueStore). With
 * only_check, it stops once it knows the device may be used (check_osd_device). */
static int prepare_osd(BootstrapContext *c, OsdRecords *records, const char *device, bool only_check) {
        OsdRecord *rec = osd_records_find(records, device);
        _cleanup_free_ char *dev = path_join_root(c->root, device);
        _cleanup_free_ char *conf = path_join_root(c->root, CEPH_CONFIG_DIR "/ceph.conf");
        _cleanup_free_ char *output = NULL, *key_path = NULL;
        _cleanup_secret_free_ char *key = NULL, *keyring = NULL;
        int r;
        if (!dev || !conf)
                return -ENOMEM;
        if (rec && rec->id >= 0 && osd_made(c->root, rec->id)) {
                /* A disk gone missing: its OSD does not start, and Ceph says so; the node's other stages go on. */
                if (!exists(dev))
                        return 0;
                _cleanup_free_ char *found = bluestore_osd_uuid(dev);
                if (streq_ptr(found, rec->uuid))
                        return 0;
                DiskContent d = {};
                _cleanup_free_ char *why = NULL;
                bool probed = disk_probe(dev, &d, &why) >= 0, blank = probed && d.blank;
                bool bluestore = probed && streq_ptr(d.type, "ceph_bluestore");
                disk_content_done(&d);
                /* A BlueStore whose label could not be read now is not taken for another OSD's. */
                if (!found && bluestore) {
                        log_warning("cannot read the BlueStore label of %s: taking it for osd.%" PRId64 "'s", device,
                                    rec->id);
                        return 0;
                }
                /* A blank disk where this OSD was (replaced, or wiped after its OSD was purged): a new OSD.
                 * Anything else is refused below. */
                if (blank && !only_check) {
                        r = forget_osd(c, records, rec);
                        if (r < 0)
                                return r;
                        rec = NULL;
                }
        }
        if (!exists(dev)) {
                bootstrap_message(c, "the OSD device %s does not exist on this node", device);
                return -ENOENT;
        }
        r = check_osd_device(c, dev, device, rec ? rec->uuid : NULL);
        if (r < 0 || only_check)
                return r;

        if (!rec) {
                char u[37];
                r = uuid_generate_v4(u);
                r = r ?: osd_records_add(records, device, u, &rec);
                r = r ?: osd_records_save(c->root, records);
                if (r < 0)
                        return r;
        }
        if (!(key_path = osd_key_path(c->root, rec)))
                return -ENOMEM;
        key = state_line(key_path);
        if (!key && rec->id >= 0) {
                bootstrap_message(c, "the cephx key of osd.%" PRId64 " (%s) is gone from %s: it cannot be made again "
                                     "with another; purge it (ceph osd purge %" PRId64 " --yes-i-really-mean-it), wipe %s "
                                     "and run again",
                                  rec->id, device, key_path, rec->id, device);
                return -ENOKEY;
        }
        if (!key) {
                /* Before `ceph osd new` is first asked: it is asked with this key every time. */
                r = cephx_key_generate(&key);
                r = r ?: write_file_atomic(key_path, key, strlen(key), 0600);
                if (r < 0)
                        return r;
        }
        if (rec->id < 0 && (r = osd_new(c, records, &rec, key)) < 0)
                return r;

        /* The data directory, made again from the start if a run died in it. */
        _cleanup_free_ char *data = osd_data_dir(c->root, rec->id), *idstr = strprintf("%" PRId64, rec->id);
        _cleanup_free_ char *keyring_path = data ? strprintf("%s/keyring", data) : NULL;
        _cleanup_free_ char *block = data ? strprintf("%s/block", data) : NULL;
        if (!idstr || !keyring_path || !block)
                return -ENOMEM;
        r = remove_tree(data);
        r = r ?: mkdir_p(data, 0755);
        char entity[32];
        snprintf(entity, sizeof(entity), "osd.%" PRId64, rec->id);
        r = r ?: cephx_keyring_entry(entity, key, NULL, &keyring);
        r = r ?: write_file_atomic(keyring_path, keyring, strlen(keyring), 0600);
        if (r >= 0 && symlink(dev, block) < 0)
                r = -errno;
        if (r < 0)
                return r;
        char *mkfs[] = { "/usr/bin/ceph-osd", "--conf", conf, "--mkfs", "-i", idstr, "--osd-uuid", rec->uuid,
                         "--osd-data", data, "--osd-objectstore", "bluestore", "--keyring", keyring_path, NULL };
        r = run_program(mkfs, &output);
        if (r != 0) {
                bootstrap_message(c, "ceph-osd --mkfs for osd.%" PRId64 " on %s failed (%s%d): %s", rec->id, device,
                                  r < 0 ? "error " : "exit ", r, output_last_line(output));
                return r < 0 ? r : -EIO;
        }
        r = give_to(c->root, "ceph", data);
        return r < 0 ? r : osd_made(c->root, rec->id) ? 0 : -EIO;
}

int bootstrap_ceph_osd(BootstrapContext *c) {
        const Node *n = c->node;
        if (!n->file || n->n_osds == 0) {
                bootstrap_message(c, "no OSD devices in nodes/%s.yaml", n->name);
                return 0;
        }
        OsdRecords records = {};
        int r = osd_records_load(c->root, &records);
        if (r < 0) {
                bootstrap_message(c, "cannot read the node's OSDs from %s: %s%s", OSD_RECORD_PATH, strerror(-r),
                                  r == -EBADMSG ? " (clusterboot did not write it as it is; move it away only if no "
                                                  "OSD was made on this node)"
                                                : "");
                return r;
        }
        StrBuf made = {}, gone = {};
        /* Every device first: a disk that is refused stops the stage before any OSD is made. */
        for (size_t i = 0; i < n->n_osds && r >= 0; i++)
                r = prepare_osd(c, &records, n->file->ceph.osd_devices.items[i].v, true);
        for (size_t i = 0; i < n->n_osds && r >= 0; i++) {
                const char *device = n->file->ceph.osd_devices.items[i].v;
                r = prepare_osd(c, &records, device, false);
                r = r ?: strbuf_printf(&made, "%sosd.%" PRId64 " on %s", i ? ", " : "",
                                       osd_records_find(&records, device)->id, device);
        }
        /* Each made OSD is wanted by ceph-osd.target from now on (the next boot starts it); one whose device
         * left the node file is not, and is not started: it stays in Ceph's map until it is purged. */
        r = r ?: activate_osds_offline(c->root, n, false, NULL, NULL);
        for (size_t i = 0; i < records.n && r >= 0; i++)
                if (records.items[i].id >= 0 && !osd_node_lists(n, records.items[i].device))
                        r = strbuf_printf(&gone, "%sosd.%" PRId64 " (%s)", gone.len ? ", " : "", records.items[i].id,
                                          records.items[i].device);
        if (r >= 0)
                bootstrap_message(c, "%s made (BlueStore)%s%s%s", made.s, gone.len ? "; not in the node file any more, "
                                                                                     "so not started: "
                                                                                   : "",
                                  strempty(gone.s), gone.len ? " (ceph osd purge ID when its data moved)" : "");
        else if (!c->message)
                bootstrap_message(c, "cannot make the OSDs of this node");
        strbuf_done(&made);
        strbuf_done(&gone);
        osd_records_done(&records);
        return r;
}

/* Each OSD of the node says, on its admin socket, that it is "active": booted, and marked up by the
 * monitors. The local daemon answers without a key, however big the cluster is. */
int bootstrap_ceph_osd_health(BootstrapContext *c, char **ret_why) {
        _cleanup_free_ int64_t *osds = NULL;
        size_t n_osds;
        StrBuf ids = {};
        char *why = NULL;
        int r = osd_node_ids(c->root, c->node, false, &osds, &n_osds);
        if (r >= 0 && n_osds < c->node->n_osds)
                why = strprintf("%zu of the node's %zu OSD devices have no OSD yet", c->node->n_osds - n_osds,
                                c->node->n_osds);
        for (size_t i = 0; i < n_osds && r >= 0 && !why; i++) {
                int64_t id = osds[i];
                _cleanup_free_ char *asok = strprintf(CEPH_RUN_DIR "/ceph-osd.%" PRId64 ".asok", id);
                _cleanup_free_ char *output = NULL;
                char *argv[] = { "/usr/bin/ceph", "--admin-daemon", asok, "status", NULL };
                if (!asok) {
                        r = -ENOMEM;
                        break;
                }
                int k = run_program(argv, &output);
                if (k < 0) {
                        r = k;
                        break;
                }
                _cleanup_free_ char *state = k == 0 ? ceph_daemon_state(output) : NULL;
                if (k != 0)
                        why = strprintf("osd.%" PRId64 " does not answer on %s: %s", id, asok, output_last_line(output));
                else if (!streq_ptr(state, "active"))
                        why = strprintf("osd.%" PRId64 " is %s, not active yet", id, state ? state : "in no state");
                else
                        r = strbuf_printf(&ids, "%sosd.%" PRId64, i ? ", " : "", id);
        }
        bool healthy = r >= 0 && !why;
        if (healthy)
                why = strprintf("%s active", strempty(ids.s));
        strbuf_done(&ids);
        if (r < 0 || !why) {
                free(why);
                return r < 0 ? r : -ENOMEM;
        }
        *ret_why = why;
        return healthy ? 0 : -EAGAIN;
}

/* VALUE of KEY=VALUE or KEY="VALUE" in a rendered environment or properties file. */
static char *file_value(const char *path, const char *key) {
        _cleanup_free_ char *text = NULL;
        size_t size, klen = strlen(key);
        if (read_full_file(path, 1024 * 1024, &text, &size) < 0)
                return NULL;
        for (char *line = text; line && *line;) {
                char *next = strchr(line, '\n');
                if (next)
                        *next++ = 0;
                if (strncmp(line, key, klen) == 0 && line[klen] == '=') {
                        char *v = line + klen + 1;
                        size_t n = strlen(v);
                        if (n >= 2 && v[0] == '"' && v[n - 1] == '"')
                                return strndup(v + 1, n - 2);
                        return strdup(v);
                }
                line = next;
        }
        return NULL;
}

int bootstrap_kafka_storage(BootstrapContext *c) {
        _cleanup_free_ char *env = path_join_root(c->root, ENVIRONMENT_DIR "/kafka.env");
        _cleanup_free_ char *dir = path_join_root(c->root, KAFKA_DATA_DIR "/data");
        _cleanup_free_ char *meta = dir ? strprintf("%s/meta.properties", dir) : NULL;
        _cleanup_free_ char *want = NULL, *have = NULL, *output = NULL;
        if (!env || !meta)
                return -ENOMEM;

        want = file_value(env, "KAFKA_CLUSTER_ID");
        if (!want) {
                bootstrap_message(c, "%s has no KAFKA_CLUSTER_ID: the stage render comes first",
                                  ENVIRONMENT_DIR "/kafka.env");
                return -ENOENT;
        }
        have = file_value(meta, "cluster.id");
        if (have && streq(have, want)) {
                bootstrap_message(c, "%s is formatted for this cluster (%s)", KAFKA_DATA_DIR "/data", want);
                return 0;
        }
        if (have) {
                bootstrap_message(c, "%s holds another cluster's metadata (cluster.id %s, not %s): it is never "
                                     "formatted again; move it away to make this broker part of the cluster",
                                  KAFKA_DATA_DIR "/data/meta.properties", have, want);
                return -EEXIST;
        }
        if (c->root) {
                bootstrap_message(c, "%s is not formatted; kafka-storage format runs on the live node only",
                                  KAFKA_DATA_DIR "/data");
                return 0;
        }
        /* "--cluster-id=ID", not "-t ID": an id may start with '-' (one made by secrets init never does). */
        _cleanup_free_ char *id = strprintf("--cluster-id=%s", want);
        if (!id)
                return -ENOMEM;
        char *argv[] = { "/opt/kafka/bin/kafka-storage.sh", "format", id, "-c", KAFKA_CONFIG_DIR "/server.properties",
                         NULL };
        int r = run_program(argv, &output);
        if (r != 0) {
                bootstrap_message(c, "kafka-storage format failed (%s%d): %s", r < 0 ? "error " : "exit ", r,
                                  output_last_line(output));
                return r < 0 ? r : -EIO;
        }
        /* The broker runs as kafka (units/kafka.service); the tool ran as root. */
        r = give_to(NULL, "kafka", dir);
        if (r < 0) {
                bootstrap_message(c, "cannot give %s to the kafka user", KAFKA_DATA_DIR "/data");
                return r;
        }
        bootstrap_message(c, "formatted %s for cluster %s", KAFKA_DATA_DIR "/data", want);
        return 0;
}
