/* SPDX-License-Identifier: Apache-2.0 */
#pragma once

#include "inventory.h"
#include "state.h"

/* The login banner: what a screen or a serial console shows above the login prompt, for the operator who
 * walks up to a machine. agetty prints /etc/issue, then each /etc/issue.d/\*.issue in order; ours is one of
 * them. `detect` writes it, then `bootstrap` when it has run every stage, failed, or given up waiting. */
#define ISSUE_PATH "/etc/issue.d/50-clusterboot.issue"

typedef struct IssueInfo {
        const char *node;         /* NULL: the machine is no node; console_line says why */
        const char *roles;        /* "master, dns-server" */
        const char *address;      /* NULL: an address from DHCP (an auto-registered machine) */
        const char *console_line; /* detect's identity line, for a machine that is no node */
        const ClusterState *state;
        const char *progress; /* what bootstrap did last ("every stage done", "stage kafka failed"); NULL: not run */
} IssueInfo;

/* The banner's text: two lines and an empty one. agetty reads a backslash as an escape (\n is the host
 * name): every backslash of a value is doubled. NULL when out of memory. */
char *issue_text(const IssueInfo *i);

/* Writes text to ISSUE_PATH under root atomically (0644), unless it holds that text already, and, on the
 * running system (root NULL or "/"), asks the agettys that show a prompt to print it anew (`agetty
 * --reload`). A machine that has no agetty is no error. */
int issue_write(const char *root, const char *text);

/* The banner of node n, or (n NULL) of a machine auto-registered as name with role, with the bootstrap
 * state found under root, written by issue_write(). */
int issue_update(const char *root, const Node *n, const char *name, const char *role, const char *progress);
