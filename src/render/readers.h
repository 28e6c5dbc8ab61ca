/* SPDX-License-Identifier: Apache-2.0 */
#pragma once

#include <stddef.h>

/* Which systemd units read a file a node holds, so that a new version of it takes effect once they restart:
 * one table for the node's certificates and keys (pki node, renewal) and its rendered configuration
 * (render, sync). A leaf's key is read with its certificate. Files that no unit reads at its start restart
 * nothing: what only tools and people read (admin.conf, CA keys, keyrings), and what the programs read again
 * themselves (/etc/hosts, CoreDNS's Corefile and hosts file). The table is in the order of restarts: etcd,
 * then the API server, then its clients, then the rest. */

#define NODE_MAX_READERS 32

/* The readers of one file, NULL-terminated (empty for a file nobody reads at start or one not known). A
 * unit ending in '@' stands for every instance of that template on the node. */
const char *const *node_file_readers(const char *path);

/* The units to restart, in order, for the n changed files to take effect: each once, at most size of them
 * into ret (static strings, or node_units' own). A template ('@') is expanded to the instances in
 * node_units; without node_units (NULL) only plain units are returned. Returns how many. */
size_t node_units_to_restart(const char *const *changed, size_t n, const char *const *node_units, size_t n_units,
                             const char **ret, size_t size);
