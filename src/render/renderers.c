/* SPDX-License-Identifier: Apache-2.0 */
#include "renderers.h"
#include "banned.h"

bool node_is_master(const Node *n) {
        return n->roles[ROLE_MASTER];
}

bool node_runs_kubelet(const Node *n) {
        return n->roles[ROLE_MASTER] || n->roles[ROLE_WORKER];
}

bool node_is_kafka_broker(const Node *n) {
        return n->roles[ROLE_KAFKA_BROKER];
}

bool node_is_ceph(const Node *n) {
        return n->roles[ROLE_CEPH_MON] || n->roles[ROLE_CEPH_OSD];
}

bool node_is_mqtt_broker(const Node *n) {
        return n->roles[ROLE_MQTT_BROKER];
}

bool node_is_dns_server(const Node *n) {
        return n->roles[ROLE_DNS_SERVER];
}

/* In the order of IMPLEMENTATION.md's boot flow. */
const Renderer renderers[] = {
        { "network", NULL, render_network },
        { "containerd", node_runs_kubelet, render_containerd },
        { "etcd", node_is_master, render_etcd },
        { "kubernetes", node_is_master, render_kubernetes },
        { "kubelet", node_runs_kubelet, render_kubelet },
        { "kube-proxy", node_runs_kubelet, render_kube_proxy },
        { "api-proxy", node_runs_kubelet, render_api_proxy },
        { "flannel", node_runs_kubelet, render_flannel },
        { "kafka", node_is_kafka_broker, render_kafka },
        { "ceph", node_is_ceph, render_ceph },
        { "mosquitto", node_is_mqtt_broker, render_mosquitto },
        { "coredns", node_is_dns_server, render_coredns },
        /* RENDERERS: one line per renderer, added with its render-<name>.c */
};

const size_t n_renderers = ELEMENTSOF(renderers);
