/* SPDX-License-Identifier: Apache-2.0 */
#pragma once

#include <jansson.h>

#include "model.h"

/* What the cluster will be, derived from a valid inventory: the same facts every later stage uses (first
 * master, etcd order, Kafka ids and voters, Ceph monitors and OSD ids, service addresses), as one JSON
 * document. `plan` prints it; text output is a rendering of the same document. Returns NULL on allocation
 * failure. */
json_t *plan_build(const Inventory *inv);

/* The first master: the first node by name with role master/control-plane (SPEC "State machine"). */
const Node *plan_first_master(const Inventory *inv);

/* The systemd units a node runs for its roles, in start order. Returns a JSON array of strings. */
json_t *plan_node_units(const Inventory *inv, const Node *n);
