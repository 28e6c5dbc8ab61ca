/* SPDX-License-Identifier: Apache-2.0 */
#pragma once

#include "render.h"

/* One function per renderer, each in render-<name>.c; the table in renderers.c lists them. */

bool node_is_master(const Node *n);
bool node_runs_kubelet(const Node *n);
bool node_is_kafka_broker(const Node *n);
bool node_is_ceph(const Node *n);
bool node_is_mqtt_broker(const Node *n);
bool node_is_dns_server(const Node *n);

int render_network(const RenderContext *c, RenderSet *out);
int render_kafka(const RenderContext *c, RenderSet *out);
int render_ceph(const RenderContext *c, RenderSet *out);
int render_mosquitto(const RenderContext *c, RenderSet *out);
int render_coredns(const RenderContext *c, RenderSet *out);
int render_containerd(const RenderContext *c, RenderSet *out);
int render_etcd(const RenderContext *c, RenderSet *out);
int render_kubernetes(const RenderContext *c, RenderSet *out);
int render_kubelet(const RenderContext *c, RenderSet *out);
int render_kube_proxy(const RenderContext *c, RenderSet *out);
int render_api_proxy(const RenderContext *c, RenderSet *out);
int render_flannel(const RenderContext *c, RenderSet *out);

/* The MTU of the pods' interfaces (and their bridge): the NIC's, less vxlan's overhead under flannel. */
int pod_network_mtu(const Inventory *inv);

/* Command-line flags of a Kubernetes component (render-kubernetes.c). The generated flags (name without
 * "--", value) are merged with the component's extra_args from services/kubernetes.yaml, which replace a
 * generated flag of the same name or add one, then sorted by name and written as one KEY="--a=1 --b=2"
 * line. The unit expands $KEY unquoted, so systemd splits it at whitespace: a name or value with whitespace
 * is -EINVAL. */
typedef struct KubeFlag {
        const char *name;
        const char *value;
} KubeFlag;

int render_kube_flags(StrBuf *b, const char *key, const KubeFlag *flags, size_t n_flags, const Inventory *inv,
                      const char *component);
/* services/kubernetes.yaml's extra_args for a component ("etcd", "kubelet", ...), or NULL. */
const KVList *kube_extra_args(const Inventory *inv, const char *component);
