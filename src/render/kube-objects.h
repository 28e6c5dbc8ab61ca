/* SPDX-License-Identifier: Apache-2.0 */
#pragma once

#include <jansson.h>

#include "model.h"

/* The objects clusterboot keeps in Kubernetes (the stage kube-bootstrap applies them through the API server
 * with server-side apply, so a second run changes nothing and a changed inventory updates them). Pure: the
 * inventory in, a JSON array out, in the order they are applied, each {"path": the object's URL path,
 * "object": the object}. token_id and token_secret: the cluster's bootstrap token, or NULL for no Secret.
 *   Secret kube-system/bootstrap-token-ID and kubeadm's three ClusterRoleBindings for kubelet TLS
 *     bootstrapping and CSR auto-approval;
 *   with dns-server nodes: kubeadm's ClusterRole system:coredns bound to the user system:coredns (the
 *     dns-server nodes' CoreDNS, /etc/kubernetes/coredns.conf), the Service kube-system/kube-dns at the tenth
 *     service address with no selector, and its EndpointSlice naming the dns-server nodes' addresses. */
json_t *kube_objects(const Inventory *inv, const char *token_id, const char *token_secret);

/* The user the dns-server nodes' CoreDNS is in Kubernetes (its kubeconfig's certificate). */
#define COREDNS_KUBE_USER "system:coredns"
