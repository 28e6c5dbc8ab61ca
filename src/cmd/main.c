/* SPDX-License-Identifier: Apache-2.0 */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "api-proxy.h"
#include "cmd.h"
#include "fs-util.h"
#include "paths.h"
#include "render.h"
#include "stages.h"
#include "log.h"
#include "macro.h"
#include "string-util.h"
#include "banned.h"

#ifndef PROJECT_VERSION
#define PROJECT_VERSION "0"
#endif

typedef struct Verb {
        const char *name;
        int min_args, max_args; /* positional arguments after the command */
        unsigned options;       /* OptionFlag: what the command accepts */
        int (*handler)(int argc, char **argv, const Options *o);
        const char *args; /* for the usage line */
        const char *summary;
        const char *description;
} Verb;

/* The one table of commands: dispatch, `help` and `help COMMAND` all come from here. */
static const Verb verbs[] = {
        { "validate", 0, 0, OPT_INVENTORY | OPT_OUTPUT | OPT_STRICT, cmd_validate, "",
          "Check an inventory and report every problem",
          "Reads cluster.yaml, nodes/*.yaml and services/*.yaml and reports every problem at once, each as\n"
          "FILE:LINE:COL: error: MESSAGE with the offending line. Nothing is written.\n"
          "Exit status: 0 valid, 1 invalid (or warnings with --strict), 2 unreadable or bad usage." },
        { "plan", 0, 0, OPT_INVENTORY | OPT_OUTPUT, cmd_plan, "",
          "Show what the cluster will be",
          "Validates the inventory, then shows each node with its roles, systemd targets and services, the\n"
          "first master, the etcd bootstrap order, the Kafka quorum, the Ceph monitors, the Kubernetes\n"
          "service addresses and which node serves what. Nothing is written." },
        { "detect", 0, 0, OPT_INVENTORY | OPT_ROOT | OPT_OUTPUT | OPT_DRY_RUN, cmd_detect, "",
          "Find out which node this machine is",
          "Matches the machine against the inventory: the kernel command line (clusterboot.node=NAME), the MAC\n"
          "of any physical NIC, the DMI product UUID, the serial number, then the hostname. Two candidates\n"
          "are an error, never a guess. Writes /etc/cluster-config/node-identity and current-node.yaml." },
        { "network", 0, 0, OPT_INVENTORY | OPT_ROOT | OPT_NODE | OPT_DRY_RUN | OPT_OUTPUT | OPT_NETWORK_BACKEND, cmd_network, "",
          "Write the node's network configuration",
          "Renders the node's NIC configuration (address, gateway and DNS from the inventory) as a\n"
          "systemd-networkd .network or, with --network-backend networkmanager, a NetworkManager keyfile;\n"
          "and /etc/hostname and /etc/hosts with every node of the cluster." },
        { "render", 0, 0, OPT_INVENTORY | OPT_ROOT | OPT_NODE | OPT_DRY_RUN | OPT_OUTPUT | OPT_NETWORK_BACKEND | OPT_SECRETS,
          cmd_render, "",
          "Write the configuration of every service of the node's roles",
          "Renders environment files and configuration for the node's services and writes each file\n"
          "atomically; files that are already right are not touched." },
        { "activate", 0, 0, OPT_INVENTORY | OPT_ROOT | OPT_NODE | OPT_DRY_RUN | OPT_OUTPUT, cmd_activate, "",
          "Enable the systemd targets of the node's roles",
          "Enables the target of every role the node has and disables those of roles it does not have.\n"
          "With --root the links are made offline, as 'systemctl --root=DIR enable' would; without,\n"
          "through systemd, which also starts and stops the targets." },
        { "firstboot", 0, 0, OPT_INVENTORY | OPT_ROOT | OPT_DRY_RUN | OPT_NETWORK_BACKEND | OPT_SECRETS, cmd_firstboot, "",
          "Run detect, render (network included) and activate in order",
          "What cluster-detect.service runs at boot. With --secrets DIR (the bundle is on the machine) the\n"
          "node also makes its certificates (as 'pki node'). A state disk the node file names (state.disk)\n"
          "is formatted when blank, mounted and bound over the node's state directories after detect; a\n"
          "disk holding anything else is refused, untouched. Each step is idempotent: a second run\n"
          "changes nothing." },
        { "install", 0, 0, OPT_INVENTORY | OPT_ROOT | OPT_DRY_RUN | OPT_SECRETS | OPT_SECRET_POLICY, cmd_install, "",
          "Put clusterboot, its units and an inventory into an image tree",
          "Copies this binary to ROOT/usr/bin, the systemd units to ROOT/etc/systemd/system and the\n"
          "validated inventory to ROOT/etc/cluster-config (removing inventory files the source no longer\n"
          "has), and enables cluster-detect.service and cluster-bootstrap.service. Secrets, by\n"
          "--secret-policy: join (the default) puts only a join secret into the image\n"
          "(ROOT/etc/cluster-config/join/join-secret, 0600: the bundle's with --secrets DIR, else a new\n"
          "one, kept if the image has one); the first master makes the cluster's bundle at its first boot,\n"
          "the other masters get it from a master's join service, and every other node sends CSRs there\n"
          "(keys never leave a node). embedded (needs --secrets DIR) puts the whole bundle into\n"
          "ROOT/etc/cluster-config/secrets (0600): every node makes its own certificates. Needs --root and\n"
          "--inventory. Installing twice changes nothing." },
        { "secrets", 1, 2, OPT_INVENTORY | OPT_OUT | OPT_ROTATE | OPT_DRY_RUN | OPT_OUTPUT | OPT_ROOT | OPT_NODE,
          cmd_secrets, "init | rotate join-secret",
          "Make the cluster's secrets bundle; rotate the join secret of a running cluster",
          "Makes what the cluster shares: the Kubernetes, front-proxy and etcd CAs, the service-account key\n"
          "pair, the front-proxy client certificate, a bootstrap token, the join secret, the Ceph fsid and\n"
          "keyrings (mon., client.admin, client.bootstrap-osd, client.bootstrap-mds), passwords and the\n"
          "password file for the MQTT users, and the Kafka cluster id, in --out DIR. What exists is kept;\n"
          "--rotate ITEM (ca, front-proxy-ca, front-proxy-client, sa, etcd-ca, bootstrap-token,\n"
          "join-secret, ceph, mqtt, kafka-cluster-id) makes one anew. Keys are 0600 from creation; no secret\n"
          "is ever printed.\n"
          "'rotate join-secret', on a master of a running cluster: a new join secret, stored in its etcd as the\n"
          "next version, written to this master's bundle and image file, its join service restarted; every\n"
          "other node takes it at its next sync. Images built before can no longer join a machine." },
        { "pki", 1, 1, OPT_INVENTORY | OPT_ROOT | OPT_NODE | OPT_SECRETS | OPT_DRY_RUN | OPT_OUTPUT | OPT_RESTART, cmd_pki,
          "node|check|renew", "Issue, check or renew a node's certificates",
          "node: the node's certificates, keys and kubeconfigs with kubeadm's names, subjects, usages and\n"
          "SANs, and the service secrets its roles need, from the bundle (--secrets DIR); certificates that\n"
          "are still right are kept. check: every file present with the right mode, keys matching, chains\n"
          "verifying, names and addresses present, expiry (a warning under 30 days, an error under 7); exit 1\n"
          "on an error.\n"
          "renew: issue every certificate of the node anew from the bundle's CAs.\n"
          "A certificate with less than a third of its life left is issued anew by node. With --restart,\n"
          "the running services that read a changed file are then restarted one at a time, each active again\n"
          "before the next (what clusterboot-renew.timer runs daily)." },
        { "bootstrap", 0, 0, OPT_INVENTORY | OPT_ROOT | OPT_NODE | OPT_STAGE | OPT_RETRY_TIMEOUT, cmd_bootstrap, "",
          "Bring this node into the cluster (what cluster-bootstrap.service runs)",
          "Runs the bootstrap stages of the node's roles in order (below), each idempotent and recorded in\n"
          "/var/lib/cluster-state/steps. A stage may do its work, start its units and wait for a health\n"
          "gate; it is skipped when the image lacks its program. A stage that cannot proceed yet is retried\n"
          "with backoff for --retry-timeout seconds (default 300), then the command exits 75 for systemd to\n"
          "restart it. --stage NAME runs one stage alone: its work, then its gate; nothing is started." },
        { "serve", 0, 0, OPT_INVENTORY | OPT_ROOT | OPT_NODE | OPT_SECRETS, cmd_serve, "",
          "Serve joins: issue certificates to nodes joining the cluster (on masters)",
          "Runs the join service on the master's IP and 127.0.0.1, HTTPS port 9443, until SIGTERM. A node\n"
          "proves it holds the join secret and sends certificate requests; it gets certificates only for\n"
          "the names and addresses the inventory gives it, the CA, and the keyrings its roles need; a master\n"
          "may also ask for the CA bundle. A master answers other masters what cluster it holds\n"
          "(/v1/cluster-state); without the bundle yet it answers only that, with the image's join secret,\n"
          "and exits 75 once the bundle is there. Every decision is logged, never a secret." },
        { "api-proxy", 2, 1 + API_PROXY_MAX_UPSTREAMS, 0, cmd_api_proxy, "LISTEN UPSTREAM...",
          "Relay this node's connections to the API servers of every master (a worker)",
          "Listens on LISTEN (ADDRESS:PORT; clusterboot-api-proxy.service: 127.0.0.1:7445, where a worker's\n"
          "kubelet, kube-proxy and flanneld find the API) and relays each connection to one UPSTREAM (each\n"
          "master's API server), taking them in turn. A master that refuses or does not answer within 3 s is\n"
          "passed over for 10 s and the connection tries the next one, so a master that is down costs no\n"
          "client more than that once. TLS passes through: the clients check the API servers' certificates.\n"
          "Runs until SIGTERM." },
        { "kubeconfig", 0, 0, OPT_INVENTORY | OPT_ROOT | OPT_NODE | OPT_SECRETS | OPT_OUTPUT_FILE, cmd_kubeconfig, "",
          "Write an admin kubeconfig for the operator's workstation",
          "On a master: a client certificate for clusterboot-admin in group system:masters, signed now with\n"
          "the cluster's Kubernetes CA and valid for a year, in a kubeconfig whose server is this master's API\n"
          "server. With --output FILE it is written atomically, mode 0600 from creation; without, printed.\n"
          "Each run signs a new certificate; the bundle comes from this master (or --secrets DIR)." },
        { "image", 1, 1,
          OPT_INVENTORY | OPT_OUT | OPT_SECRETS | OPT_SECRET_POLICY | OPT_FORMAT | OPT_CACHE | OPT_MIRROR | OPT_OUTPUT |
                  OPT_LOCK | OPT_COMPONENTS | OPT_WITHOUT,
          cmd_image, "build", "Build the bootable image of a cluster: disk, ISO, netboot",
          "build: one root tree -- a Debian bookworm base (debootstrap, cached in --cache DIR, default\n"
          "/var/cache/clusterboot) with the packages the inventory's roles need, then 'clusterboot install' of\n"
          "the inventory with the join secret (or, with --secret-policy embedded, the whole bundle) of\n"
          "--secrets DIR, plus the components of the lock its roles run (Kubernetes, flannel, pause, CoreDNS,\n"
          "Kafka: fetched once by 'clusterboot binaries fetch' into --components DIR, each checked against\n"
          "the lock's sha256; --without LIST leaves some out) -- and from it, in --out DIR: disk.raw (GPT, an ESP with systemd-boot, the root\n"
          "ext4; dd it onto a disk), cluster.iso (hybrid: a CD or a USB stick, BIOS or UEFI, GRUB booting\n"
          "live.img), netboot/ (vmlinuz, initrd.img, rootfs.squashfs, boot.ipxe, cmdline.txt, and live.img:\n"
          "initrd and root as one), manifest.json (every component and output with its sha256) and\n"
          "SHA256SUMS; with --format tree, rootfs/ (the tree itself, for containers). --format\n"
          "disk,iso,netboot,tree picks outputs (default disk,iso,netboot). Every package file is\n"
          "checked against the signed Debian index and the installed files against dpkg. The same inputs\n"
          "give the same bytes: dates are clamped to SOURCE_DATE_EPOCH (default: the Debian release's date)\n"
          "and identifiers derive from the cluster's name. Outputs appear only when all are complete; a\n"
          "failure leaves --out as it was. Needs root. With --output json the manifest goes to stdout." },
        { "binaries", 1, 9, OPT_INVENTORY | OPT_CACHE | OPT_COMPONENTS | OPT_LOCK | OPT_OUTPUT, cmd_binaries,
          "list|verify|fetch [COMPONENT...]", "Fetch and check the components an image carries besides Debian's",
          "The components lock (built into clusterboot; --lock FILE names another) pins every component an\n"
          "image carries that Debian does not ship -- kubernetes, flannel, pause, coredns, kafka -- to one\n"
          "version, one source and one sha256. They live in --components DIR (default CACHE/components, CACHE\n"
          "being --cache, default /var/cache/clusterboot), one NAME-VERSION folder each.\n"
          "list: each component, its version and whether it is there. verify: hashes each and compares with the\n"
          "lock (exit 1 when one differs or is missing). fetch: builds or downloads each that is missing or\n"
          "differs from its registry (the Go module proxy with the pinned Go, Maven Central), then checks it:\n"
          "a sha256 other than the lock's is refused. Long (Kubernetes: about 20 minutes on 2 cores); the\n"
          "recipes' progress goes to stderr. Once fetched, 'image build' needs no network for them.\n"
          "Which components: those named, else those --inventory DIR's image carries, else all." },
        { "status", 0, 0, OPT_INVENTORY | OPT_ROOT | OPT_NODE | OPT_OUTPUT, cmd_status, "",
          "Show this node's bootstrap state and its services",
          "The bootstrap state (uninitialized, bootstrapped or joined) and since when, the node's role, its\n"
          "etcd member id, the steps done, and the state of every unit of its roles as systemd reports it." },
        { "apply", 0, 0, OPT_INVENTORY | OPT_ROOT | OPT_DRY_RUN | OPT_OUTPUT, cmd_apply, "",
          "Give the running cluster a new inventory (on a master)",
          "Compares --inventory DIR (required) with the inventory the cluster runs: the last version stored\n"
          "in etcd, else the one this master was installed with. What a running cluster cannot take in place\n"
          "is refused, each with the reason and what to do instead: its networks, name or domain, a node's\n"
          "address or name, more than one master or Ceph monitor at once or a removal below a majority, the\n"
          "master, ceph-mon or kafka-broker role of a running node, Kafka brokers (KRaft 3.6's quorum is\n"
          "static), the versions the image carries. Otherwise the\n"
          "nodes added, removed and changed and the settings changed are listed, and the inventory is stored\n"
          "in etcd as the next version (/clusterboot/inventory; every version under\n"
          "/clusterboot/inventory-history/), unless nothing changed or --dry-run. Two applies at once: the\n"
          "second stores nothing and says so. Exit 1 when refused, 75 when no etcd answers." },
        { "sync", 0, 0, OPT_INVENTORY | OPT_ROOT | OPT_NODE | OPT_DRY_RUN | OPT_SECRETS, cmd_sync, "",
          "Take the inventory the cluster runs, render again, restart what changed (clusterboot-sync.timer)",
          "Reads the inventory 'apply' stored: a master from etcd, any other node from a master's join\n"
          "service with the kubelet's client certificate. It writes it to /etc/cluster-config, renders the\n"
          "node's files again (unchanged ones keep their time), and restarts, one at a time and each active\n"
          "again before the next, every running service that reads a file newer than its start (what a\n"
          "stopped run left is restarted by the next). /etc/hosts and CoreDNS's hosts file and Corefile take\n"
          "effect without a restart; the network's file at the next boot. With it come the machines\n"
          "auto_register named (every /etc/hosts and the DNS zone list them) and a join secret that\n"
          "'secrets rotate join-secret' made. After an apply: on a master, an etcd member that no master of\n"
          "the version names is removed, and on a node with a Ceph monitor, a monitor that no ceph-mon node\n"
          "names, one per run, while every other one is healthy; an OSD whose device left the node file is\n"
          "disabled and stopped (Ceph keeps it until it is purged; the other OSDs keep their ids). Before\n"
          "the first apply it renders the\n"
          "installed inventory with the registry, and changes nothing else.\n"
          "The version taken is recorded in\n"
          "/var/lib/cluster-state/inventory-version. cluster-bootstrap.service starts it once it succeeded.\n"
          "A node the stored inventory no longer has changes\n"
          "nothing (exit 1); no etcd or join service answering is exit 75." },
        { "reset", 0, 0, OPT_INVENTORY | OPT_ROOT | OPT_YES | OPT_DRY_RUN, cmd_reset, "",
          "Forget this node's bootstrap state",
          "Removes the state files and step markers of /var/lib/cluster-state, so that the next boot sets\n"
          "the node up again. Service data is not touched. Needs --yes." },
        { "help", 0, 1, 0, cmd_help, "[COMMAND]", "Show help for clusterboot or one command", NULL },
        { "version", 0, 0, 0, cmd_version, "", "Show the version", NULL },
};

static const struct {
        unsigned flag;
        const char *usage;
        const char *help;
} option_help[] = {
        { OPT_INVENTORY, "--inventory DIR", "the inventory folder (default " DEFAULT_INVENTORY ")" },
        { OPT_OUTPUT, "--output text|json", "output format (default text)" },
        { OPT_OUTPUT_FILE, "--output FILE", "write it to FILE (default: standard output)" },
        { OPT_STRICT, "--strict", "treat warnings as errors" },
        { OPT_ROOT, "--root DIR", "act on the tree under DIR instead of / (for images and tests)" },
        { OPT_NODE, "--node NAME", "act as this node instead of the detected one" },
        { OPT_DRY_RUN, "--dry-run", "show what would change, change nothing" },
        { OPT_NETWORK_BACKEND, "--network-backend B", "networkd (default) or networkmanager (a keyfile)" },
        { OPT_OUT, "--out DIR", "the folder to write to (secrets init: the bundle; image build: the outputs)" },
        { OPT_ROTATE, "--rotate ITEM", "make this item of the bundle anew (repeatable)" },
        { OPT_SECRETS, "--secrets DIR", "the cluster's secrets bundle" },
        { OPT_YES, "--yes", "really do it" },
        { OPT_STAGE, "--stage NAME", "run only this bootstrap stage" },
        { OPT_RETRY_TIMEOUT, "--retry-timeout S", "how long to retry a stage that cannot proceed yet (300)" },
        { OPT_SECRET_POLICY, "--secret-policy P", "join (default: the image carries only the join secret) or embedded" },
        { OPT_FORMAT, "--format LIST", "the outputs to build: disk,iso,netboot,tree (default disk,iso,netboot)" },
        { OPT_CACHE, "--cache DIR", "where the Debian base trees (and components) are kept (default /var/cache/clusterboot)" },
        { OPT_MIRROR, "--mirror URL", "the Debian mirror (default http://deb.debian.org/debian)" },
        { OPT_LOCK, "--lock FILE", "the components lock (default: the one built into clusterboot)" },
        { OPT_COMPONENTS, "--components DIR", "the fetched components (default CACHE/components)" },
        { OPT_WITHOUT, "--without LIST", "leave these components out of the image (their units are skipped)" },
        { OPT_RESTART, "--restart", "then restart the running services that read a changed file, one at a time" },
};

static const Verb *find_verb(const char *name) {
        for (size_t i = 0; i < ELEMENTSOF(verbs); i++)
                if (streq(verbs[i].name, name))
                        return verbs + i;
        return NULL;
}

static const char *nearest_verb(const char *name) {
        const char *names[ELEMENTSOF(verbs) + 1];
        for (size_t i = 0; i < ELEMENTSOF(verbs); i++)
                names[i] = verbs[i].name;
        names[ELEMENTSOF(verbs)] = NULL;
        return nearest_word(name, names);
}

static void print_main_help(FILE *f) {
        fprintf(f, "Usage: clusterboot COMMAND [OPTIONS]\n\n"
                   "Provision a bare-metal cluster from one inventory: every machine boots the same image,\n"
                   "finds out which node it is, and the cluster assembles itself.\n\nCommands:\n");
        for (size_t i = 0; i < ELEMENTSOF(verbs); i++)
                fprintf(f, "  %-11s %s\n", verbs[i].name, verbs[i].summary);
        fprintf(f, "\nRun 'clusterboot help COMMAND' for a command's options. Every command takes -v, --verbose\n"
                   "(its decisions too: CLUSTERBOOT_LOG_LEVEL=debug; the levels: error, warning, info, debug).\n"
                   "Exit status: 0 done, 1 failed or invalid, 2 usage or unreadable input, 75 retry later.\n");
}

/* "  NAME   TEXT", TEXT wrapped at 100 columns under itself. */
static void print_wrapped(FILE *f, const char *name, const char *text) {
        enum { INDENT = 21, WIDTH = 100 };
        int col = fprintf(f, "  %-*s ", INDENT - 3, name);
        for (const char *w = text; *w;) {
                size_t n = strcspn(w, " ");
                if (col > INDENT && col + 1 + (int) n > WIDTH)
                        col = fprintf(f, "\n%*s", INDENT, "") - 1;
                col += fprintf(f, "%s%.*s", col > INDENT ? " " : "", (int) n, w);
                w += n + strspn(w + n, " ");
        }
        fputc('\n', f);
}

static void print_verb_help(const Verb *v, FILE *f) {
        fprintf(f, "Usage: clusterboot %s%s%s%s\n\n%s.\n", v->name, v->args[0] ? " " : "", v->args,
                v->options ? " [OPTIONS]" : "", v->summary);
        if (v->description)
                fprintf(f, "\n%s\n", v->description);
        if (v->handler == cmd_bootstrap) {
                fprintf(f, "\nStages, in order (each where the node's roles need it):\n");
                for (size_t i = 0; i < n_stages; i++)
                        print_wrapped(f, stages[i].name, stages[i].summary);
        }
        if (v->options) {
                fprintf(f, "\nOptions:\n");
                for (size_t i = 0; i < ELEMENTSOF(option_help); i++)
                        if (v->options & option_help[i].flag)
                                fprintf(f, "  %-20s %s\n", option_help[i].usage, option_help[i].help);
                fprintf(f, "  %-20s %s\n", "-h, --help", "show this help");
        }
        fprintf(f, "  %-20s %s\n", "-v, --verbose", "show the decisions too (debug messages; CLUSTERBOOT_LOG_LEVEL=debug)");
}

int cmd_help(int argc, char **argv, const Options *o) {
        (void) o;
        if (argc == 0) {
                print_main_help(stdout);
                return EXIT_DONE;
        }
        const Verb *v = find_verb(argv[0]);
        if (!v) {
                const char *near = nearest_verb(argv[0]);
                log_error("unknown command '%s'%s%s%s", argv[0], near ? "; did you mean '" : "", near ?: "",
                          near ? "'?" : "");
                return EXIT_USAGE;
        }
        print_verb_help(v, stdout);
        return EXIT_DONE;
}

int cmd_version(int argc, char **argv, const Options *o) {
        (void) argc, (void) argv, (void) o;
        printf("clusterboot %s\n", PROJECT_VERSION);
        return EXIT_DONE;
}

static int parse_options(const Verb *v, int argc, char **argv, Options *o, int *ret_first_arg) {
        enum {
                ARG_INVENTORY = 0x100,
                ARG_OUTPUT,
                ARG_STRICT,
                ARG_ROOT,
                ARG_NODE,
                ARG_DRY_RUN,
                ARG_NETWORK_BACKEND,
                ARG_OUT,
                ARG_ROTATE,
                ARG_SECRETS,
                ARG_YES,
                ARG_STAGE,
                ARG_RETRY_TIMEOUT,
                ARG_SECRET_POLICY,
                ARG_FORMAT,
                ARG_CACHE,
                ARG_MIRROR,
                ARG_LOCK,
                ARG_COMPONENTS,
                ARG_WITHOUT,
                ARG_RESTART,
        };
        static const struct option options[] = {
                { "help", no_argument, NULL, 'h' },
                { "verbose", no_argument, NULL, 'v' },
                { "inventory", required_argument, NULL, ARG_INVENTORY },
                { "output", required_argument, NULL, ARG_OUTPUT },
                { "strict", no_argument, NULL, ARG_STRICT },
                { "root", required_argument, NULL, ARG_ROOT },
                { "node", required_argument, NULL, ARG_NODE },
                { "dry-run", no_argument, NULL, ARG_DRY_RUN },
                { "network-backend", required_argument, NULL, ARG_NETWORK_BACKEND },
                { "out", required_argument, NULL, ARG_OUT },
                { "rotate", required_argument, NULL, ARG_ROTATE },
                { "secrets", required_argument, NULL, ARG_SECRETS },
                { "yes", no_argument, NULL, ARG_YES },
                { "stage", required_argument, NULL, ARG_STAGE },
                { "retry-timeout", required_argument, NULL, ARG_RETRY_TIMEOUT },
                { "secret-policy", required_argument, NULL, ARG_SECRET_POLICY },
                { "format", required_argument, NULL, ARG_FORMAT },
                { "cache", required_argument, NULL, ARG_CACHE },
                { "mirror", required_argument, NULL, ARG_MIRROR },
                { "lock", required_argument, NULL, ARG_LOCK },
                { "components", required_argument, NULL, ARG_COMPONENTS },
                { "without", required_argument, NULL, ARG_WITHOUT },
                { "restart", no_argument, NULL, ARG_RESTART },
                {},
        };
        static const unsigned flag_of[] = {
                [ARG_INVENTORY - ARG_INVENTORY] = OPT_INVENTORY,
                [ARG_OUTPUT - ARG_INVENTORY] = OPT_OUTPUT | OPT_OUTPUT_FILE,
                [ARG_STRICT - ARG_INVENTORY] = OPT_STRICT,       [ARG_ROOT - ARG_INVENTORY] = OPT_ROOT,
                [ARG_NODE - ARG_INVENTORY] = OPT_NODE,           [ARG_DRY_RUN - ARG_INVENTORY] = OPT_DRY_RUN,
                [ARG_NETWORK_BACKEND - ARG_INVENTORY] = OPT_NETWORK_BACKEND,
                [ARG_OUT - ARG_INVENTORY] = OPT_OUT,
                [ARG_ROTATE - ARG_INVENTORY] = OPT_ROTATE,
                [ARG_SECRETS - ARG_INVENTORY] = OPT_SECRETS,
                [ARG_YES - ARG_INVENTORY] = OPT_YES,
                [ARG_STAGE - ARG_INVENTORY] = OPT_STAGE,
                [ARG_RETRY_TIMEOUT - ARG_INVENTORY] = OPT_RETRY_TIMEOUT,
                [ARG_SECRET_POLICY - ARG_INVENTORY] = OPT_SECRET_POLICY,
                [ARG_FORMAT - ARG_INVENTORY] = OPT_FORMAT,
                [ARG_CACHE - ARG_INVENTORY] = OPT_CACHE,
                [ARG_MIRROR - ARG_INVENTORY] = OPT_MIRROR,
                [ARG_LOCK - ARG_INVENTORY] = OPT_LOCK,
                [ARG_COMPONENTS - ARG_INVENTORY] = OPT_COMPONENTS,
                [ARG_WITHOUT - ARG_INVENTORY] = OPT_WITHOUT,
                [ARG_RESTART - ARG_INVENTORY] = OPT_RESTART,
        };

        optind = 0; /* also resets getopt's state */
        opterr = 0;
        int c, index;
        while ((c = getopt_long(argc, argv, ":hv", options, &index)) >= 0) {
                unsigned need = c >= ARG_INVENTORY && c <= ARG_WITHOUT ? flag_of[c - ARG_INVENTORY] : 0;
                if (need && !(v->options & need)) {
                        /* The option's own name: argv[optind - 1] is its value when given as "--opt value". */
                        log_error("'%s' does not take --%s; see 'clusterboot help %s'", v->name, options[index].name,
                                  v->name);
                        return -1;
                }
                switch (c) {
                case 'h':
                        print_verb_help(v, stdout);
                        return 0;
                case 'v':
                        log_set_max_level(LOG_LEVEL_DEBUG);
                        break;
                case ARG_INVENTORY:
                        o->inventory = optarg;
                        o->inventory_set = true;
                        break;
                case ARG_ROOT:
                        o->root = optarg;
                        break;
                case ARG_NODE:
                        o->node = optarg;
                        break;
                case ARG_DRY_RUN:
                        o->dry_run = true;
                        break;
                case ARG_STAGE:
                        o->stage = optarg;
                        break;
                case ARG_RETRY_TIMEOUT: {
                        char *end;
                        unsigned long seconds = strtoul(optarg, &end, 10);
                        if (!*optarg || *end || seconds > 86400) {
                                log_error("--retry-timeout takes seconds (0 to 86400), not '%s'", optarg);
                                return -1;
                        }
                        o->retry_timeout = (unsigned) seconds;
                        break;
                }
                case ARG_YES:
                        o->yes = true;
                        break;
                case ARG_SECRET_POLICY:
                        if (streq(optarg, "embedded"))
                                o->embedded = true;
                        else if (streq(optarg, "join"))
                                o->embedded = false;
                        else {
                                log_error("--secret-policy takes join or embedded, not '%s'", optarg);
                                return -1;
                        }
                        break;
                case ARG_OUT:
                        o->out = optarg;
                        break;
                case ARG_SECRETS:
                        o->secrets = optarg;
                        break;
                case ARG_FORMAT:
                        o->format = optarg;
                        break;
                case ARG_CACHE:
                        o->cache = optarg;
                        break;
                case ARG_MIRROR:
                        o->mirror = optarg;
                        break;
                case ARG_LOCK:
                        o->lock = optarg;
                        break;
                case ARG_COMPONENTS:
                        o->components = optarg;
                        break;
                case ARG_WITHOUT:
                        o->without = optarg;
                        break;
                case ARG_RESTART:
                        o->restart = true;
                        break;
                case ARG_ROTATE: {
                        BundleItem item = bundle_item_from_string(optarg);
                        if (item < 0) {
                                log_error("--rotate takes ca, front-proxy-ca, front-proxy-client, sa, etcd-ca, "
                                          "bootstrap-token, join-secret, ceph, mqtt or kafka-cluster-id, not '%s'",
                                          optarg);
                                return -1;
                        }
                        o->rotate[item] = true;
                        break;
                }
                case ARG_NETWORK_BACKEND:
                        o->network_backend = network_backend_from_string(optarg);
                        if (o->network_backend < 0) {
                                log_error("--network-backend must be networkd or networkmanager, not '%s'", optarg);
                                return -1;
                        }
                        break;
                case ARG_OUTPUT:
                        if (v->options & OPT_OUTPUT_FILE)
                                o->output_file = optarg;
                        else if (streq(optarg, "text"))
                                o->output = OUTPUT_TEXT;
                        else if (streq(optarg, "json"))
                                o->output = OUTPUT_JSON;
                        else {
                                log_error("--output must be text or json, not '%s'", optarg);
                                return -1;
                        }
                        break;
                case ARG_STRICT:
                        o->strict = true;
                        break;
                case ':':
                        log_error("%s needs a value; see 'clusterboot help %s'", argv[optind - 1], v->name);
                        return -1;
                default:
                        log_error("unknown option '%s'; see 'clusterboot help %s'", argv[optind - 1], v->name);
                        return -1;
                }
        }
        *ret_first_arg = optind;
        return 1;
}

int main(int argc, char **argv) {
        /* Progress lines reach the journal as they happen, and in order with errors on stderr. */
        setvbuf(stdout, NULL, _IOLBF, 0);
        log_setup();

        if (argc < 2) {
                print_main_help(stderr);
                return EXIT_USAGE;
        }
        const char *name = argv[1];
        if (streq(name, "--help") || streq(name, "-h"))
                name = "help";
        else if (streq(name, "--version"))
                name = "version";

        const Verb *v = find_verb(name);
        if (!v) {
                const char *near = nearest_verb(name);
                if (near)
                        log_error("unknown command '%s'; did you mean '%s'?", name, near);
                else
                        log_error("unknown command '%s'; run 'clusterboot help' for the list", name);
                return EXIT_USAGE;
        }

        Options o = { .inventory = DEFAULT_INVENTORY, .retry_timeout = 300 };
        int first;
        int r = parse_options(v, argc - 1, argv + 1, &o, &first);
        if (r <= 0)
                return r < 0 ? EXIT_USAGE : EXIT_DONE;

        int nargs = argc - 1 - first;
        if (nargs < v->min_args || nargs > v->max_args) {
                if (v->max_args == 0)
                        log_error("'%s' takes no arguments; see 'clusterboot help %s'", v->name, v->name);
                else
                        log_error("'%s' takes %s %s; see 'clusterboot help %s'", v->name,
                                  v->min_args == v->max_args ? "one argument:"
                                  : v->max_args == 1         ? "at most one argument:"
                                                             : "the arguments",
                                  v->args, v->name);
                return EXIT_USAGE;
        }

        /* The embedded secret policy: a bundle in the tree's /etc/cluster-config/secrets is used by the
         * commands that take one, unless another is named. */
        _cleanup_free_ char *embedded = NULL;
        if ((v->options & OPT_SECRETS) && !o.secrets && v->handler != cmd_install && v->handler != cmd_image) {
                embedded = path_join_root(o.root, SECRETS_BUNDLE_DIR "/kubernetes/ca.crt");
                if (embedded && access(embedded, F_OK) >= 0) {
                        free(embedded);
                        embedded = path_join_root(o.root, SECRETS_BUNDLE_DIR);
                        o.secrets = embedded;
                }
        }

        /* The inventory of a tree under --root is that tree's own, unless one is named. */
        _cleanup_free_ char *inventory = NULL;
        if (o.root && !o.inventory_set) {
                inventory = path_join_root(o.root, DEFAULT_INVENTORY);
                if (!inventory)
                        return log_error("out of memory"), EXIT_FAILED;
                o.inventory = inventory;
        }
        return v->handler(nargs, argv + 1 + first, &o);
}
