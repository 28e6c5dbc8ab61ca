/* SPDX-License-Identifier: Apache-2.0 */
#pragma once

#include "etcd-client.h"
#include "model.h"

/* Membership follows the inventory (`apply`, then `sync` on a master): an etcd member whose name is no
 * master of the inventory was removed from it. The decision alone, for the tests; sync makes the call. */

/* The member to remove: a started member (it has a name) whose name no master of inv has. A member not
 * started yet (no name) is a master joining, and is left alone. One at a time: the first in the list. 1
 * with *ret set, or 0 when there is none. */
int etcd_member_not_in(const EtcdMemberList *l, const Inventory *inv, const EtcdMember **ret);
