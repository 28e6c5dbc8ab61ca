/* SPDX-License-Identifier: Apache-2.0 */
#include "inventory.h"
#include "membership.h"
#include "string-util.h"
#include "banned.h"

int etcd_member_not_in(const EtcdMemberList *l, const Inventory *inv, const EtcdMember **ret) {
        for (size_t i = 0; i < l->n; i++) {
                const EtcdMember *m = l->members + i;
                if (!m->name[0])
                        continue;
                const Node *n = inventory_find_node(inv, m->name);
                if (n && n->roles[ROLE_MASTER])
                        continue;
                *ret = m;
                return 1;
        }
        return 0;
}
