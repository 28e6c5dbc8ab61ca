/* SPDX-License-Identifier: Apache-2.0 */
#pragma once

#include <jansson.h>
#include <stddef.h>
#include <stdint.h>

#include "model.h"

/* What the cluster will be, derived from a valid inventory: the same facts every later stage uses (first
 * master, etcd order, Kafka ids and voters, Ceph monitors and OSD devices, service addresses), as one JSON
 * document. OSD ids are not in it: Ceph gives them when each OSD is made (osd-record.h). `plan` prints it; text output is a rendering of the same document. Returns NULL on allocation
 * failure. */
json_t *plan_build(const Inventory *inv);

/* The first master: the first node by name with role master/control-plane (SPEC "State machine"). */
const Node *plan_first_master(const Inventory *inv);

/* The systemd units a node runs for its roles, in start order, with one ceph-osd@ID for each of osd_ids
 * (the OSDs it made; none in the plan). Returns a JSON array of strings. */
json_t *plan_node_units(const Inventory *inv, const Node *n, const int64_t *osd_ids, size_t n_osd_ids);
