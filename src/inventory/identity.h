/* SPDX-License-Identifier: Apache-2.0 */
#pragma once

#include "model.h"

/* Which node is this machine? SPEC "Identity": the kernel command line (clusterboot.node=NAME), then the
 * MAC of any physical NIC, then the DMI product UUID, then the serial (DMI or Raspberry Pi), then the
 * hostname. Two candidates is an error, never a guess. */

typedef struct Nic {
        char name[32];
        char mac[18]; /* normalized */
} Nic;

/* What the machine says about itself, read from /proc, /sys and /etc under a root. */
typedef struct Facts {
        char *cmdline_node; /* clusterboot.node= */
        Nic *nics;          /* physical NICs only (those with a device link), sorted by name */
        size_t n_nics;
        char *product_uuid;
        char *product_serial;
        char *pi_serial; /* /proc/device-tree/serial-number or /proc/cpuinfo's Serial */
        char *hostname;
} Facts;

int facts_read(const char *root, Facts *ret);
void facts_done(Facts *f);
/* What the machine showed of itself: "MACs: eth0=...; product_uuid ...; serial ...; hostname ...". */
char *facts_describe(const Facts *f);

typedef enum Selector {
        SELECTOR_CMDLINE,
        SELECTOR_MAC,
        SELECTOR_UUID,
        SELECTOR_SERIAL,
        SELECTOR_HOSTNAME,
        SELECTOR_AUTO_REGISTER,
        _SELECTOR_MAX,
} Selector;

const char *selector_to_string(Selector s);

typedef struct Identity {
        const Node *node; /* NULL for an auto-registered machine */
        Selector selector;
        char *matched;   /* what matched: the MAC, the UUID, ... */
        char *interface; /* the NIC whose MAC matched, or NULL */
        char *auto_name; /* auto_register: hostname_prefix + last 6 hex digits of the first NIC's MAC */
        const char *auto_role;
} Identity;

/* Returns 0 and fills ret; -ENXIO when nothing matches and auto_register is off, -ENOTUNIQ when two nodes
 * match one selector, -EINVAL when clusterboot.node= names no node. *ret_problem then says, in one line,
 * what was seen (no secrets are involved in identity). */
int identity_match(const Inventory *inv, const Facts *f, Identity *ret, char **ret_problem);

/* The one line a machine's console shows at boot, for identity_match()'s result r (id filled when r is 0,
 * problem its problem otherwise): "clusterboot: this machine is NODE (matched by SELECTOR VALUE)", or
 * "clusterboot: this machine is not in the inventory (what was seen)". NULL when out of memory. */
char *identity_console_line(int r, const Identity *id, const Facts *f, const char *problem);
void identity_done(Identity *id);
