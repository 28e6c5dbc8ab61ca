/* SPDX-License-Identifier: Apache-2.0 */
#pragma once

/* Where things live on a node (SPEC "On the node"; the seeds' layout). Every path is absolute as seen on
 * the node; commands with --root DIR put them under DIR. */

#define CLUSTER_CONFIG_DIR "/etc/cluster-config"
#define NODE_IDENTITY_PATH CLUSTER_CONFIG_DIR "/node-identity"
#define CURRENT_NODE_PATH CLUSTER_CONFIG_DIR "/current-node.yaml"
#define ENVIRONMENT_DIR CLUSTER_CONFIG_DIR "/environment"
/* etcd's variables it reads only to make its member (render-etcd.c): a change restarts nothing. */
#define ETCD_INITIAL_ENV ENVIRONMENT_DIR "/etcd-initial.env"
/* The secrets bundle on a node under the "embedded" policy (the seeds' option A): install --secrets puts
 * it there, and render, pki and firstboot use it when it is there. */
#define SECRETS_BUNDLE_DIR CLUSTER_CONFIG_DIR "/secrets"
/* Where a master makes or receives its bundle before renaming it to SECRETS_BUNDLE_DIR: the bundle is
 * there whole or not at all. */
#define SECRETS_BUNDLE_STAGING_DIR CLUSTER_CONFIG_DIR "/secrets.new"
/* Under the "join" policy (the default) the image carries only this: the join secret (0600) and, when the
 * CA was made before the image, its certificate (then the join service is trusted by it, not by proof). */
#define JOIN_DIR CLUSTER_CONFIG_DIR "/join"
#define JOIN_SECRET_PATH JOIN_DIR "/join-secret"
#define JOIN_CA_PATH JOIN_DIR "/ca.crt"

#define KUBERNETES_DIR "/etc/kubernetes"
#define PKI_DIR KUBERNETES_DIR "/pki"
#define ETCD_PKI_DIR PKI_DIR "/etcd"
/* kubeadm's etcd health check client, on every master: what clusterboot itself talks to etcd with. */
#define ETCD_HEALTHCHECK_CERT ETCD_PKI_DIR "/healthcheck-client.crt"
#define ETCD_HEALTHCHECK_KEY ETCD_PKI_DIR "/healthcheck-client.key"
#define KUBELET_DIR "/var/lib/kubelet"
#define KUBELET_PKI_DIR KUBELET_DIR "/pki"
/* The kubelet's client certificate and key in one file, which the kubelet writes (TLS bootstrapping) and
 * renews itself: a node's credential for renewing its other certificates through the join service. */
#define KUBELET_CLIENT_PEM KUBELET_PKI_DIR "/kubelet-client-current.pem"

#define ETCD_DATA_DIR "/var/lib/etcd"
#define KAFKA_CONFIG_DIR "/etc/kafka"
#define KAFKA_DATA_DIR "/var/lib/kafka"
#define CEPH_CONFIG_DIR "/etc/ceph"
#define CEPH_DATA_DIR "/var/lib/ceph"
/* A monitor's store: this and its name (ceph-mon --mon-data; stage ceph-mon makes it). */
#define CEPH_MON_STORE_PREFIX CEPH_DATA_DIR "/mon/ceph-"
#define CEPH_RUN_DIR "/run/ceph" /* the daemons' admin sockets: $run_dir/$cluster-$name.asok */
#define MOSQUITTO_CONFIG_DIR "/etc/mosquitto"
#define MOSQUITTO_DATA_DIR "/var/lib/mosquitto"
#define COREDNS_CONFIG_DIR "/etc/coredns"
/* CoreDNS's kubeconfig (user system:coredns), root's; coredns.service loads it as the credential "kubeconfig",
 * which its DynamicUser= reads at COREDNS_KUBECONFIG_CREDENTIAL. */
#define COREDNS_KUBECONFIG KUBERNETES_DIR "/coredns.conf"
#define COREDNS_KUBECONFIG_CREDENTIAL "/run/credentials/coredns.service/kubeconfig"
#define COREDNS_UNIT_DROPIN SYSTEMD_ADMIN_DIR "/coredns.service.d/10-kubernetes.conf"
/* flanneld's network (its --net-config-path) and the file it writes once it has the node's subnet. */
#define FLANNEL_NET_CONF "/etc/kube-flannel/net-conf.json"
#define FLANNEL_SUBNET_ENV "/run/flannel/subnet.env"
#define CONTAINERD_CONFIG_DIR "/etc/containerd"

#define STATE_DIR "/var/lib/cluster-state"
/* An auto-registered machine's address, as the join service saw and recorded it (stage register). */
#define AUTO_ADDRESS_PATH STATE_DIR "/auto-address"

/* Our units go to the administrator's directory, not /usr/lib/systemd/system: there they take precedence over
 * the units the distribution's containerd, mosquitto and ceph packages ship under the same names, and a
 * package upgrade does not overwrite them. */
#define SYSTEMD_ADMIN_DIR "/etc/systemd/system"
#define UNIT_INSTALL_DIR SYSTEMD_ADMIN_DIR
#define NETWORKD_DIR "/etc/systemd/network"
#define NM_CONNECTIONS_DIR "/etc/NetworkManager/system-connections"
