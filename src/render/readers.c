/* SPDX-License-Identifier: Apache-2.0 */
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "macro.h"
#include "paths.h"
#include "readers.h"
#include "string-util.h"
#include "banned.h"

#define KUBE_APISERVER "kube-apiserver.service"
#define KUBE_CONTROLLER_MANAGER "kube-controller-manager.service"
#define CEPH_DAEMONS "ceph-mon@", "ceph-mgr@", "ceph-osd@"

/* A path ending in '/' stands for every file under it. */
static const struct {
        const char *path;
        const char *units[4];
} readers[] = {
        /* etcd */
        { ETCD_PKI_DIR "/ca.crt", { "etcd.service", KUBE_APISERVER } },
        { ETCD_PKI_DIR "/server.crt", { "etcd.service" } },
        { ETCD_PKI_DIR "/peer.crt", { "etcd.service" } },
        { ENVIRONMENT_DIR "/etcd.env", { "etcd.service" } },
        /* the control plane */
        { PKI_DIR "/ca.crt", { KUBE_APISERVER, KUBE_CONTROLLER_MANAGER, "kubelet.service" } },
        { PKI_DIR "/ca.key", { KUBE_CONTROLLER_MANAGER } },
        { PKI_DIR "/front-proxy-ca.crt", { KUBE_APISERVER, KUBE_CONTROLLER_MANAGER } },
        { PKI_DIR "/front-proxy-client.crt", { KUBE_APISERVER } },
        { PKI_DIR "/sa.key", { KUBE_APISERVER, KUBE_CONTROLLER_MANAGER } },
        { PKI_DIR "/sa.pub", { KUBE_APISERVER } },
        { PKI_DIR "/apiserver.crt", { KUBE_APISERVER } },
        { PKI_DIR "/apiserver-kubelet-client.crt", { KUBE_APISERVER } },
        { PKI_DIR "/apiserver-etcd-client.crt", { KUBE_APISERVER } },
        { ENVIRONMENT_DIR "/kube-apiserver.env", { KUBE_APISERVER } },
        { KUBERNETES_DIR "/controller-manager.conf", { KUBE_CONTROLLER_MANAGER } },
        { ENVIRONMENT_DIR "/kube-controller-manager.env", { KUBE_CONTROLLER_MANAGER } },
        { KUBERNETES_DIR "/scheduler.conf", { "kube-scheduler.service" } },
        { ENVIRONMENT_DIR "/kube-scheduler.env", { "kube-scheduler.service" } },
        /* every node of Kubernetes */
        { CONTAINERD_CONFIG_DIR "/config.toml", { "containerd.service" } },
        { KUBELET_PKI_DIR "/kubelet.crt", { "kubelet.service" } },
        /* flanneld authenticates with the kubelet's kubeconfig (units/flanneld.service). */
        { KUBERNETES_DIR "/kubelet.conf", { "kubelet.service", "flanneld.service" } },
        { ENVIRONMENT_DIR "/kubelet.env", { "kubelet.service" } },
        { KUBELET_DIR "/config.yaml", { "kubelet.service" } },
        { KUBERNETES_DIR "/kube-proxy.conf", { "kube-proxy.service" } },
        { ENVIRONMENT_DIR "/kube-proxy.env", { "kube-proxy.service" } },
        { ENVIRONMENT_DIR "/api-proxy.env", { "clusterboot-api-proxy.service" } },
        { ENVIRONMENT_DIR "/flanneld.env", { "flanneld.service" } },
        { FLANNEL_NET_CONF, { "flanneld.service" } },
        /* the cluster's services */
        /* ceph.conf restarts nothing by itself: ceph.env carries the digest of its settings but the monitors'
         * addresses, which a running daemon takes from the monmap (render-ceph.c). */
        { ENVIRONMENT_DIR "/ceph.env", { CEPH_DAEMONS } },
        { KAFKA_CONFIG_DIR "/server.properties", { "kafka.service" } },
        { ENVIRONMENT_DIR "/kafka.env", { "kafka.service" } },
        { MOSQUITTO_CONFIG_DIR "/mosquitto.conf", { "mosquitto.service" } },
        { MOSQUITTO_CONFIG_DIR "/acl", { "mosquitto.service" } },
        { MOSQUITTO_CONFIG_DIR "/certs/ca.crt", { "mosquitto.service" } },
        { MOSQUITTO_CONFIG_DIR "/certs/server.crt", { "mosquitto.service" } },
        { MOSQUITTO_CONFIG_DIR "/passwd", { "mosquitto.service" } },
        { COREDNS_KUBECONFIG, { "coredns.service" } },
        { COREDNS_UNIT_DROPIN, { "coredns.service" } },
        /* The join service answers from the inventory it read at its start (which nodes may join, with
         * which names and addresses). */
        { CLUSTER_CONFIG_DIR "/cluster.yaml", { "clusterboot-join.service" } },
        { CLUSTER_CONFIG_DIR "/nodes/", { "clusterboot-join.service" } },
        { CLUSTER_CONFIG_DIR "/services/", { "clusterboot-join.service" } },
        /* And with the join secret it read at its start (a rotation: `secrets rotate join-secret`). */
        { SECRETS_BUNDLE_DIR "/join-secret", { "clusterboot-join.service" } },
        /* The Corefile (the reload plugin) and the hosts file (the hosts plugin) CoreDNS reads again itself;
         * the zone file only when its serial changes, which it never does. */
        { COREDNS_CONFIG_DIR "/db.", { "coredns.service" } },
};

static bool path_matches(const char *entry, const char *path) {
        size_t n = strlen(entry);
        /* "/etc/coredns/db." is the start of a name: the zone's file, whatever the zone. */
        return entry[n - 1] == '/' || entry[n - 1] == '.' ? strncmp(entry, path, n) == 0 : streq(entry, path);
}

static const char *const *readers_of(const char *path) {
        for (size_t i = 0; i < ELEMENTSOF(readers); i++)
                if (path_matches(readers[i].path, path))
                        return readers[i].units;
        return NULL;
}

/* Its own readers, or for a key without, its certificate's. */
static const char *const *file_readers(const char *path) {
        const char *const *units = readers_of(path);
        if (!units && endswith(path, ".key")) {
                _cleanup_free_ char *crt = strprintf("%.*s.crt", (int) (strlen(path) - 4), path);
                units = crt ? readers_of(crt) : NULL;
        }
        return units;
}

const char *const *node_file_readers(const char *path) {
        static const char *const none[] = { NULL };
        return file_readers(path) ?: none;
}

static void add_unit(const char *unit, const char **ret, size_t size, size_t *k) {
        for (size_t m = 0; m < *k; m++)
                if (streq(ret[m], unit))
                        return;
        if (*k < size)
                ret[(*k)++] = unit;
}

size_t node_units_to_restart(const char *const *changed, size_t n, const char *const *node_units, size_t n_units,
                             const char **ret, size_t size) {
        size_t k = 0;
        for (size_t i = 0; i < ELEMENTSOF(readers); i++) {
                bool hit = false;
                for (size_t j = 0; j < n && !hit; j++)
                        hit = file_readers(changed[j]) == readers[i].units;
                for (size_t u = 0; hit && u < ELEMENTSOF(readers[i].units) && readers[i].units[u]; u++) {
                        const char *unit = readers[i].units[u];
                        if (!endswith(unit, "@")) {
                                add_unit(unit, ret, size, &k);
                                continue;
                        }
                        for (size_t m = 0; node_units && m < n_units; m++)
                                if (startswith(node_units[m], unit))
                                        add_unit(node_units[m], ret, size, &k);
                }
        }
        return k;
}
