/* SPDX-License-Identifier: Apache-2.0 */
/* Kafka in KRaft combined mode: every broker is also a controller, so the quorum voters are all brokers,
 * numbered and addressed exactly as `clusterboot plan` shows them. services/kafka.yaml's extra_properties
 * win over what is generated here: a key given there replaces the generated line rather than adding a
 * second one that Kafka would silently prefer or ignore. */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "paths.h"
#include "renderers.h"
#include "banned.h"

typedef struct Prop {
        const char *key;
        char *value;
} Prop;

static size_t count_brokers(const Inventory *inv) {
        size_t n = 0;
        for (size_t i = 0; i < inv->n_nodes; i++)
                if (node_is_kafka_broker(inv->nodes + i))
                        n++;
        return n;
}

/* "1@192.168.1.13:9093,2@..." in node name order, as plan.c builds it. */
static char *quorum_voters(const Inventory *inv) {
        StrBuf b = {};
        int r = 0;
        for (size_t i = 0; i < inv->n_nodes && r >= 0; i++) {
                const Node *n = inv->nodes + i;
                if (!node_is_kafka_broker(n))
                        continue;
                _cleanup_free_ char *hp = render_host_port(&n->ip, inv->kafka.controller_port.v);
                if (!hp)
                        r = -ENOMEM;
                else
                        r = strbuf_printf(&b, "%s%" PRId64 "@%s", b.len ? "," : "", n->kafka_node_id, hp);
        }
        if (r < 0) {
                strbuf_done(&b);
                return NULL;
        }
        return strbuf_steal(&b);
}

static const char *extra_property(const Inventory *inv, const char *key) {
        const KVList *l = &inv->kafka.extra_properties;
        for (size_t i = 0; i < l->n; i++)
                if (streq_ptr(l->items[i].key.v, key))
                        return l->items[i].value.v;
        return NULL;
}

static bool prop_generated(const Prop *props, size_t n, const char *key) {
        for (size_t i = 0; i < n; i++)
                if (streq(props[i].key, key))
                        return true;
        return false;
}

static int render_server_properties(const RenderContext *c, RenderSet *out) {
        const Inventory *inv = c->inv;
        const Node *n = c->node;
        const KafkaConfig *k = &inv->kafka;
        /* The internal topics cannot be created with more replicas than there are brokers; Kafka's default
         * of 3 would leave a smaller cluster without consumer offsets. */
        int64_t internal_rf = MIN((int64_t) 3, (int64_t) count_brokers(inv));
        if (internal_rf < 1)
                internal_rf = 1;
        /* One replica may be down while transactions go on, as long as one other copy is written. */
        int64_t internal_min_isr = internal_rf >= 3 ? 2 : 1;

        _cleanup_free_ char *plain = render_host_port(&n->ip, k->port.v);
        _cleanup_free_ char *ctrl = render_host_port(&n->ip, k->controller_port.v);
        if (!plain || !ctrl)
                return -ENOMEM;

        Prop props[] = {
                { "process.roles", strdup("broker,controller") },
                { "node.id", strprintf("%" PRId64, n->kafka_node_id) },
                { "controller.quorum.voters", quorum_voters(inv) },
                { "listeners", strprintf("PLAINTEXT://%s,CONTROLLER://%s", plain, ctrl) },
                /* Controller listeners are not advertised in combined mode: clients never talk to them. */
                { "advertised.listeners", strprintf("PLAINTEXT://%s", plain) },
                { "inter.broker.listener.name", strdup("PLAINTEXT") },
                { "controller.listener.names", strdup("CONTROLLER") },
                { "listener.security.protocol.map", strdup("PLAINTEXT:PLAINTEXT,CONTROLLER:PLAINTEXT") },
                { "log.dirs", strdup(KAFKA_DATA_DIR "/data") },
                { "num.partitions", strprintf("%" PRId64, k->num_partitions.v) },
                { "default.replication.factor", strprintf("%" PRId64, k->default_replication_factor.v) },
                { "offsets.topic.replication.factor", strprintf("%" PRId64, internal_rf) },
                { "transaction.state.log.replication.factor", strprintf("%" PRId64, internal_rf) },
                { "transaction.state.log.min.isr", strprintf("%" PRId64, internal_min_isr) },
        };

        StrBuf b = {};
        int r = 0;
        for (size_t i = 0; i < ELEMENTSOF(props); i++)
                if (!props[i].value)
                        r = -ENOMEM;

        r = r ?: render_header(&b, "#");
        r = r ?: strbuf_append(&b, "\n");
        for (size_t i = 0; i < ELEMENTSOF(props) && r >= 0; i++) {
                const char *v = extra_property(inv, props[i].key);
                r = render_properties_kv(&b, props[i].key, v ?: props[i].value);
        }

        const KVList *extra = &k->extra_properties;
        bool first = true;
        for (size_t i = 0; i < extra->n && r >= 0; i++) {
                const KeyValue *kv = extra->items + i;
                if (!kv->key.v || !kv->value.v || prop_generated(props, ELEMENTSOF(props), kv->key.v))
                        continue;
                if (first)
                        r = strbuf_append(&b, "\n# services/kafka.yaml extra_properties\n");
                first = false;
                r = r ?: render_properties_kv(&b, kv->key.v, kv->value.v);
        }

        r = r ?: render_set_add(out, KAFKA_CONFIG_DIR "/server.properties", 0644, &b);
        strbuf_done(&b);
        for (size_t i = 0; i < ELEMENTSOF(props); i++)
                free(props[i].value);
        return r;
}

static int render_kafka_env(const RenderContext *c, RenderSet *out) {
        char id[32];
        snprintf(id, sizeof(id), "%" PRId64, c->node->kafka_node_id);

        StrBuf b = {};
        int r = render_header(&b, "#");
        r = r ?: render_env(&b, "KAFKA_CLUSTER_ID", c->ids->kafka_cluster_id);
        r = r ?: render_env(&b, "KAFKA_NODE_ID", id);
        r = r ?: render_set_add(out, ENVIRONMENT_DIR "/kafka.env", 0644, &b);
        strbuf_done(&b);
        return r;
}

int render_kafka(const RenderContext *c, RenderSet *out) {
        if (!c->node->ip_valid || c->node->kafka_node_id < 0)
                return -EINVAL;
        int r = render_server_properties(c, out);
        return r ?: render_kafka_env(c, out);
}
