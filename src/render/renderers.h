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
