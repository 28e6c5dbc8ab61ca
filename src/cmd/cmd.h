/* SPDX-License-Identifier: Apache-2.0 */
#pragma once

#include <stdbool.h>
#include <stddef.h>

#include "bundle.h"
#include "etcd-client.h"

/* The command layer: the only code that prints results, logs at info level, and chooses exit codes. */

enum {
        EXIT_DONE = 0,
        EXIT_FAILED = 1,   /* failed, or the input is invalid */
        EXIT_USAGE = 2,    /* bad command line, or the input cannot be read */
        EXIT_TEMPFAIL = 75 /* EX_TEMPFAIL: not yet possible, retry later */
};

typedef enum OutputFormat {
        OUTPUT_TEXT,
        OUTPUT_JSON,
} OutputFormat;

/* Options shared by the commands; each command says which it accepts. */
typedef enum OptionFlag {
        OPT_INVENTORY = 1 << 0,
        OPT_OUTPUT = 1 << 1,
        OPT_STRICT = 1 << 2,
        OPT_ROOT = 1 << 3,
        OPT_NODE = 1 << 4,
        OPT_DRY_RUN = 1 << 5,
        OPT_NETWORK_BACKEND = 1 << 6,
        OPT_OUT = 1 << 7,
        OPT_ROTATE = 1 << 8,
        OPT_SECRETS = 1 << 9,
        OPT_YES = 1 << 10,
        OPT_STAGE = 1 << 11,
        OPT_RETRY_TIMEOUT = 1 << 12,
        OPT_SECRET_POLICY = 1 << 13,
        OPT_OUTPUT_FILE = 1 << 14, /* --output FILE, for a command whose output is a file (not a format) */
        OPT_FORMAT = 1 << 15,
        OPT_CACHE = 1 << 16,
        OPT_MIRROR = 1 << 17,
        OPT_LOCK = 1 << 18,
        OPT_COMPONENTS = 1 << 19,
        OPT_WITHOUT = 1 << 20,
        OPT_RESTART = 1 << 21,
} OptionFlag;

typedef struct Options {
        const char *inventory;
        bool inventory_set; /* given on the command line; else it defaults to ROOT/etc/cluster-config */
        OutputFormat output;
        bool strict;
        const char *root; /* NULL: the real root */
        const char *node;
        bool dry_run;
        int network_backend; /* NetworkBackend */
        const char *out;     /* secrets init: the bundle folder */
        bool rotate[_BUNDLE_ITEM_MAX];
        const char *secrets; /* the bundle to take keys and CAs from */
        bool yes;            /* reset: really */
        const char *stage;   /* bootstrap: only this stage */
        unsigned retry_timeout; /* bootstrap: seconds to keep retrying a stage that cannot proceed yet */
        bool embedded;          /* install: --secret-policy embedded (the default is join) */
        const char *output_file; /* --output FILE of a command with OPT_OUTPUT_FILE; NULL or "-": stdout */
        const char *format;      /* image build: --format LIST */
        const char *cache;       /* image build: --cache DIR */
        const char *mirror;      /* image build: --mirror URL */
        const char *lock;        /* binaries, image build: --lock FILE */
        const char *components;  /* binaries, image build: --components DIR */
        const char *without;     /* image build: --without LIST of components */
        bool restart;            /* pki node|renew: restart the running services that read a changed file */
} Options;

#define DEFAULT_INVENTORY "/etc/cluster-config"
/* image build's and binaries' cache: CACHE/base/ (Debian trees), CACHE/components/ (fetched components). */
#define DEFAULT_CACHE "/var/cache/clusterboot"

int cmd_help(int argc, char **argv, const Options *o);
int cmd_version(int argc, char **argv, const Options *o);
int cmd_validate(int argc, char **argv, const Options *o);
int cmd_plan(int argc, char **argv, const Options *o);
int cmd_detect(int argc, char **argv, const Options *o);
int cmd_render(int argc, char **argv, const Options *o);
int cmd_network(int argc, char **argv, const Options *o);
int cmd_activate(int argc, char **argv, const Options *o);
int cmd_firstboot(int argc, char **argv, const Options *o);
int cmd_install(int argc, char **argv, const Options *o);
int cmd_secrets(int argc, char **argv, const Options *o);
int cmd_pki(int argc, char **argv, const Options *o);
int cmd_status(int argc, char **argv, const Options *o);
int cmd_apply(int argc, char **argv, const Options *o);
int cmd_sync(int argc, char **argv, const Options *o);
int cmd_reset(int argc, char **argv, const Options *o);
int cmd_bootstrap(int argc, char **argv, const Options *o);
int cmd_serve(int argc, char **argv, const Options *o);
int cmd_api_proxy(int argc, char **argv, const Options *o);
int cmd_kubeconfig(int argc, char **argv, const Options *o);
int cmd_image(int argc, char **argv, const Options *o);
int cmd_binaries(int argc, char **argv, const Options *o);

/* The components lock of --lock FILE, else the one built into the binary; logs and returns an exit code.
 * The components folder: --components DIR, else CACHE/components (--cache, default DEFAULT_CACHE). */
typedef struct Lock Lock;
int cmd_load_lock(const Options *o, Lock *ret, char **ret_text);
char *cmd_components_dir(const Options *o);

/* Loads and validates the inventory, printing the diagnostics (text to stderr, or JSON to stdout when
 * json_report). Returns EXIT_DONE when the inventory is usable, else the exit code to end with. */
typedef struct Inventory Inventory;
int cmd_load_inventory(const Options *o, bool json_report, Inventory **ret);

/* The secrets bundle of --secrets DIR (on a master, or an image with the embedded policy, the one it holds).
 * Logs and returns an exit code. */
int cmd_load_bundle(const Options *o, Bundle *ret);

/* The node to act as: --node NAME, else the name `detect` wrote to ROOT/etc/cluster-config/node-identity.
 * Logs and returns an exit code on failure. */
typedef struct Node Node;
int cmd_resolve_node(const Options *o, Inventory *inv, const Node **ret);
/* cluster.auto_register: when this machine's facts give it the auto-registered name, a node of that name is
 * added to inv (with the address the join service recorded, once registered). -ENXIO: not this machine's. */
int cmd_add_auto_node(const Options *o, Inventory *inv, const char *name, Node **ret);

/* Loads the inventory, resolves the node (cmd_resolve_node()) and runs fn for it. */
typedef int (*NodeCommand)(const Options *o, const Inventory *inv, const Node *node, const void *arg);
int cmd_for_node(const Options *o, NodeCommand fn, const void *arg);

/* The stages behind detect, render and activate, for firstboot to chain. Each logs and returns an exit code.
 * cmd_run_detect() sets *ret_node to NULL for an auto-registered machine. */
int cmd_run_detect(const Options *o, const Inventory *inv, const Node **ret_node);
/* line on the console, when CLUSTERBOOT_CONSOLE names it (cluster-detect.service: /dev/console); 0 without. */
int cmd_console(const Options *o, const char *line);
/* The node's state disk (state.disk), when its node file names one: formatted when blank, mounted, its
 * directories bound over the root's (state-disk.h). Said on the console; a refused or missing disk fails. */
int cmd_run_state(const Options *o, const Inventory *inv, const Node *node);
int cmd_run_render(const Options *o, const Inventory *inv, const Node *node, const char *only);
/* The same, and the path (as on the node) of every file it rendered, written or not: *ret_paths
 * NULL-terminated, malloc()ed with its strings. */
int cmd_run_render_paths(const Options *o, const Inventory *inv, const Node *node, const char *only, char ***ret_paths,
                         size_t *ret_n);
int cmd_run_activate(const Options *o, const Node *node);
int cmd_run_pki(const Options *o, const Inventory *inv, const Node *node, bool renew);

/* Restarts, one at a time, each running unit that reads one of the n_paths files (node_file_readers();
 * node_units, when not NULL, expands templates such as ceph-osd@) and started before the newest of its files
 * changed; each must be active again before the next. restarts: a JSON array to add {unit, result} to, or
 * NULL to print. With --dry-run it only says. Logs; 0 or a negative errno once the restarts stopped. */
typedef struct json_t json_t;
/* The units node runs now (plan_node_units()), its OSDs those it made (osd-record.h, under --root): a JSON
 * array of strings. Unreadable OSD records count no OSD; the stage ceph-osd says what is wrong with them. */
json_t *cmd_node_units(const Options *o, const Inventory *inv, const Node *node);
int cmd_restart_readers(const Options *o, const char *const *paths, size_t n_paths, const char *const *node_units,
                        size_t n_units, json_t *restarts);

/* The cluster's etcd as a master reaches it: every master's client URL of inv (self's first, when given)
 * and this master's etcd client certificate (ETCD_HEALTHCHECK_CERT) under --root. 0, or -ENOENT/-EACCES when
 * a file of it cannot be read (not a master, or not yet), -ENOMEM. Does not log. */
#define ETCD_CLIENT_PORT 2379
typedef struct CmdEtcd {
        char **endpoints;
        size_t n;
        EtcdTls tls;
        char *files[3];
} CmdEtcd;
int cmd_etcd_access(const Options *o, const Inventory *inv, const Node *self, CmdEtcd *ret);
/* The same whether the files exist yet or not (the join service, which may start before its master's
 * certificates are there, looks again at each request). 0 or -ENOMEM. */
int cmd_etcd_paths(const Options *o, const Inventory *inv, const Node *self, CmdEtcd *ret);
void cmd_etcd_done(CmdEtcd *a);

/* The inventory's files as they were read (what was validated is what is written), for CLUSTER_CONFIG_DIR:
 * cluster.yaml 0600 when it holds the bootstrap token, the rest 0644. */
typedef struct RenderSet RenderSet;
int cmd_inventory_files(const Inventory *inv, RenderSet *set);
/* The cluster's join secret of that version where this node keeps one, for set: its image's
 * (JOIN_SECRET_PATH: to join again after it was off past its certificates' expiry) and its bundle's (a
 * master's join service answers with it; clusterboot-join.service reads it at its start), 0600; a file this
 * node does not have is not made. With them JOIN_SECRET_VERSION_PATH, the version they hold: never one older
 * than the node has (a sync that read etcd before a rotation on this node does not undo it), 0 then. */
#define JOIN_SECRET_VERSION_PATH STATE_DIR "/join-secret-version"
/* A join secret file at path for set: the secret and a newline, 0600, from one buffer that is wiped. */
int cmd_add_join_secret(RenderSet *set, const char *path, const char *secret);
int cmd_join_secret_files(const Options *o, const char *secret, int64_t version, RenderSet *set);
/* Removes the node and service files under --root's CLUSTER_CONFIG_DIR that set does not have (a node taken
 * out of the inventory), saying so; with --dry-run only says. */
int cmd_remove_stale_inventory(const Options *o, const RenderSet *set);
