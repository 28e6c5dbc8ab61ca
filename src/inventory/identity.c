/* SPDX-License-Identifier: Apache-2.0 */
#include <ctype.h>
#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "fileio.h"
#include "fs-util.h"
#include "identity.h"
#include "inventory.h"
#include "string-util.h"
#include "banned.h"

const char *selector_to_string(Selector s) {
        static const char *const table[_SELECTOR_MAX] = {
                [SELECTOR_CMDLINE] = "kernel command line",
                [SELECTOR_MAC] = "MAC address",
                [SELECTOR_UUID] = "DMI product UUID",
                [SELECTOR_SERIAL] = "serial number",
                [SELECTOR_HOSTNAME] = "hostname",
                [SELECTOR_AUTO_REGISTER] = "auto_register",
        };
        return s >= 0 && s < _SELECTOR_MAX ? table[s] : NULL;
}

/* Reads a small file under root, stripped of trailing whitespace and NULs; NULL when missing or empty. */
static char *read_fact(const char *root, const char *path) {
        _cleanup_free_ char *full = path_join_root(root, path);
        char *data;
        size_t size;
        if (!full || read_full_file(full, 64 * 1024, &data, &size) < 0)
                return NULL;
        while (size > 0 && (isspace((unsigned char) data[size - 1]) || data[size - 1] == 0))
                data[--size] = 0;
        if (size == 0 || strlen(data) != size) {
                free(data);
                return NULL;
        }
        return data;
}

static char *cmdline_node(const char *cmdline) {
        /* Words are separated by spaces; the last clusterboot.node= wins, as the kernel's own options do. */
        char *found = NULL;
        for (const char *p = cmdline; p && *p;) {
                while (*p == ' ' || *p == '\t')
                        p++;
                size_t len = strcspn(p, " \t");
                if (len > 17 && strncmp(p, "clusterboot.node=", 17) == 0) {
                        free(found);
                        found = strndup(p + 17, len - 17);
                }
                p += len;
        }
        return found;
}

static char *cpuinfo_serial(const char *cpuinfo) {
        for (const char *p = cpuinfo; p && *p; p = strchr(p, '\n') ? strchr(p, '\n') + 1 : NULL) {
                if (strncmp(p, "Serial", 6) != 0)
                        continue;
                const char *colon = strchr(p, ':');
                if (!colon)
                        return NULL;
                colon++;
                while (*colon == ' ' || *colon == '\t')
                        colon++;
                return strndup(colon, strcspn(colon, "\n"));
        }
        return NULL;
}

static int nic_cmp(const void *a, const void *b) {
        return strcmp(((const Nic *) a)->name, ((const Nic *) b)->name);
}

static int read_nics(const char *root, Facts *f) {
        _cleanup_free_ char *dir = path_join_root(root, "/sys/class/net");
        if (!dir)
                return -ENOMEM;
        DIR *d = opendir(dir);
        if (!d)
                return errno == ENOENT ? 0 : -errno;

        size_t allocated = 0;
        struct dirent *de;
        int r = 0;
        while ((de = readdir(d))) {
                if (de->d_name[0] == '.' || strlen(de->d_name) >= sizeof(f->nics[0].name))
                        continue;
                /* Physical NICs have a device; bridges, veths, bonds and lo do not. */
                _cleanup_free_ char *dev = strprintf("/sys/class/net/%s/device", de->d_name);
                _cleanup_free_ char *devfull = dev ? path_join_root(root, dev) : NULL;
                _cleanup_free_ char *addr = strprintf("/sys/class/net/%s/address", de->d_name);
                if (!devfull || !addr) {
                        r = -ENOMEM;
                        break;
                }
                if (access(devfull, F_OK) < 0)
                        continue;
                _cleanup_free_ char *mac = read_fact(root, addr);
                Nic nic = {};
                if (!mac || mac_addr_normalize(mac, nic.mac) < 0)
                        continue;
                memcpy(nic.name, de->d_name, strlen(de->d_name) + 1); /* length checked above */
                if (!GREEDY_REALLOC(f->nics, allocated, f->n_nics + 1)) {
                        r = -ENOMEM;
                        break;
                }
                f->nics[f->n_nics++] = nic;
        }
        closedir(d);
        if (f->n_nics > 1)
                qsort(f->nics, f->n_nics, sizeof(Nic), nic_cmp);
        return r;
}

int facts_read(const char *root, Facts *ret) {
        Facts f = {};
        _cleanup_free_ char *cmdline = read_fact(root, "/proc/cmdline");
        _cleanup_free_ char *cpuinfo = read_fact(root, "/proc/cpuinfo");

        f.cmdline_node = cmdline ? cmdline_node(cmdline) : NULL;
        f.product_uuid = read_fact(root, "/sys/class/dmi/id/product_uuid");
        f.product_serial = read_fact(root, "/sys/class/dmi/id/product_serial");
        f.pi_serial = read_fact(root, "/proc/device-tree/serial-number");
        if (!f.pi_serial && cpuinfo)
                f.pi_serial = cpuinfo_serial(cpuinfo);
        f.hostname = read_fact(root, "/etc/hostname");

        int r = read_nics(root, &f);
        if (r < 0) {
                facts_done(&f);
                return r;
        }
        *ret = f;
        return 0;
}

void facts_done(Facts *f) {
        free(f->cmdline_node);
        free(f->nics);
        free(f->product_uuid);
        free(f->product_serial);
        free(f->pi_serial);
        free(f->hostname);
        *f = (Facts) {};
}

void identity_done(Identity *id) {
        free(id->matched);
        free(id->interface);
        free(id->auto_name);
        *id = (Identity) {};
}

/* Candidates for one selector: more than one distinct node is an error. */
typedef struct Match {
        const Node *node;
        const char *value;
        const char *interface;
        bool ambiguous;
        const Node *other;
        const char *other_value;
} Match;

static void match_add(Match *m, const Node *n, const char *value, const char *interface) {
        if (!m->node) {
                *m = (Match) { .node = n, .value = value, .interface = interface };
        } else if (m->node != n && !m->ambiguous) {
                m->ambiguous = true;
                m->other = n;
                m->other_value = value;
        }
}

static bool str_eq_ci(const char *a, const char *b) {
        return a && b && strcasecmp(a, b) == 0;
}

static int finish(const Match *m, Selector sel, Identity *ret, char **ret_problem) {
        if (m->ambiguous) {
                if (streq(m->value, m->other_value))
                        *ret_problem = strprintf("%s %s matches both node '%s' and node '%s'; refusing to guess",
                                                 selector_to_string(sel), m->value, m->node->name, m->other->name);
                else
                        *ret_problem = strprintf("this machine has the %s of node '%s' (%s) and of node '%s' (%s); "
                                                 "refusing to guess",
                                                 selector_to_string(sel), m->node->name, m->value, m->other->name,
                                                 m->other_value);
                return -ENOTUNIQ;
        }
        *ret = (Identity) {
                .node = m->node,
                .selector = sel,
                .matched = strdup(m->value),
                .interface = m->interface ? strdup(m->interface) : NULL,
        };
        if (!ret->matched || (m->interface && !ret->interface)) {
                identity_done(ret);
                return -ENOMEM;
        }
        return 0;
}

char *facts_describe(const Facts *f) {
        StrBuf b = {};
        (void) strbuf_append(&b, "MACs:");
        for (size_t i = 0; i < f->n_nics; i++)
                (void) strbuf_printf(&b, " %s=%s", f->nics[i].name, f->nics[i].mac);
        if (f->n_nics == 0)
                (void) strbuf_append(&b, " none");
        (void) strbuf_printf(&b, "; product_uuid %s; serial %s; hostname %s", f->product_uuid ?: "-",
                             f->product_serial ?: f->pi_serial ?: "-", f->hostname ?: "-");
        return strbuf_steal(&b);
}

/* A machine named as /etc/hosts names the node: by its FQDN (cp-a.lab.internal), its hostname's first label
 * (cp-a) or its name. */
static bool hostname_matches(const Inventory *inv, const Node *n, const char *hostname) {
        NodeHostNames h;
        node_host_names(inv, n, &h);
        return streq(hostname, h.fqdn) || streq(hostname, h.short_name) || streq(hostname, n->name);
}

int identity_match(const Inventory *inv, const Facts *f, Identity *ret, char **ret_problem) {
        *ret_problem = NULL;

        if (f->cmdline_node) {
                const Node *n = inventory_find_node(inv, f->cmdline_node);
                if (!n) {
                        *ret_problem = strprintf("clusterboot.node=%s on the kernel command line names no node of "
                                                 "the inventory",
                                                 f->cmdline_node);
                        return -EINVAL;
                }
                Match m = { .node = n, .value = f->cmdline_node };
                return finish(&m, SELECTOR_CMDLINE, ret, ret_problem);
        }

        for (Selector sel = SELECTOR_MAC; sel <= SELECTOR_HOSTNAME; sel++) {
                Match m = {};
                for (size_t i = 0; i < inv->n_nodes; i++) {
                        const Node *n = inv->nodes + i;
                        const NodeFile *nf = n->file;
                        switch (sel) {
                        case SELECTOR_MAC:
                                for (size_t j = 0; j < f->n_nics; j++)
                                        for (size_t k = 0; k < n->n_macs; k++)
                                                if (streq(f->nics[j].mac, n->macs[k]))
                                                        match_add(&m, n, f->nics[j].mac, f->nics[j].name);
                                break;
                        case SELECTOR_UUID:
                                if (nf && str_eq_ci(nf->hardware.uuid.v, f->product_uuid))
                                        match_add(&m, n, f->product_uuid, NULL);
                                break;
                        case SELECTOR_SERIAL:
                                if (nf && str_eq_ci(nf->hardware.serial.v, f->product_serial))
                                        match_add(&m, n, f->product_serial, NULL);
                                else if (nf && str_eq_ci(nf->hardware.serial.v, f->pi_serial))
                                        match_add(&m, n, f->pi_serial, NULL);
                                break;
                        case SELECTOR_HOSTNAME:
                                if (f->hostname && hostname_matches(inv, n, f->hostname))
                                        match_add(&m, n, f->hostname, NULL);
                                break;
                        default:
                                break;
                        }
                }
                if (m.node)
                        return finish(&m, sel, ret, ret_problem);
        }

        const ClusterConfig *c = &inv->cluster;
        if (c->auto_register.enabled.v && f->n_nics > 0) {
                const char *mac = f->nics[0].mac;
                *ret = (Identity) {
                        .selector = SELECTOR_AUTO_REGISTER,
                        .matched = strdup(mac),
                        .interface = strdup(f->nics[0].name),
                        .auto_name = inventory_auto_name(inv, mac),
                        .auto_role = inventory_auto_role(inv),
                };
                if (!ret->matched || !ret->interface || !ret->auto_name) {
                        identity_done(ret);
                        return -ENOMEM;
                }
                return 0;
        }

        _cleanup_free_ char *facts = facts_describe(f);
        *ret_problem = facts ? strprintf("no node matches this machine (%s)", facts) : NULL;
        return -ENXIO;
}

char *identity_console_line(int r, const Identity *id, const Facts *f, const char *problem) {
        if (r == -ENXIO) {
                _cleanup_free_ char *facts = facts_describe(f);
                return facts ? strprintf("clusterboot: this machine is not in the inventory (%s)", facts) : NULL;
        }
        if (r < 0)
                return strprintf("clusterboot: this machine is no node of the inventory (%s)", problem ?: "identity failed");
        if (!id->node)
                return strprintf("clusterboot: this machine is %s (not in the inventory: auto-registered as %s, MAC %s)",
                                 id->auto_name, id->auto_role, id->matched);
        switch (id->selector) {
        case SELECTOR_CMDLINE:
                return strprintf("clusterboot: this machine is %s (matched by kernel command line)", id->node->name);
        case SELECTOR_MAC:
                return strprintf("clusterboot: this machine is %s (matched by MAC %s)", id->node->name, id->matched);
        case SELECTOR_UUID:
                return strprintf("clusterboot: this machine is %s (matched by DMI UUID %s)", id->node->name, id->matched);
        case SELECTOR_SERIAL:
                return strprintf("clusterboot: this machine is %s (matched by DMI serial %s)", id->node->name,
                                 id->matched);
        default:
                return strprintf("clusterboot: this machine is %s (matched by hostname %s)", id->node->name, id->matched);
        }
}
