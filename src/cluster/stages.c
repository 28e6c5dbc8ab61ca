/* SPDX-License-Identifier: Apache-2.0 */
#include <errno.h>
#include <inttypes.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>

#include "fs-util.h"
#include "health.h"
#include "inventory.h"
#include "join-node.h"
#include "join-protocol.h"
#include "kubeconfig.h"
#include "fileio.h"
#include "paths.h"
#include "renderers.h"
#include "osd-record.h"
#include "stages.h"
#include "secret-formats.h"
#include "string-util.h"
#include "banned.h"

static bool is_master(const Node *n) {
        return n->roles[ROLE_MASTER];
}

static bool is_not_master(const Node *n) {
        return !n->roles[ROLE_MASTER];
}

static bool any_node(const Node *n) {
        (void) n;
        return true;
}

static bool is_auto_registered(const Node *n) {
        return n->auto_name != NULL;
}

static bool is_ceph_mon(const Node *n) {
        return n->roles[ROLE_CEPH_MON];
}

static bool is_ceph_osd(const Node *n) {
        return n->roles[ROLE_CEPH_OSD] && n->n_osds > 0;
}

/* The message of a gate: "SERVICE: WHAT WAS SEEN". */
static int gate_result(BootstrapContext *c, const char *service, int r, char *why) {
        free(c->message);
        c->message = strprintf("%s %s (%s)", service, r >= 0 ? "is healthy" : "is not healthy yet", strempty(why));
        free(why);
        return r;
}

static char *node_url(const Node *n, const char *scheme, int port, const char *path) {
        return ip_url(scheme, &n->ip, port, path);
}

static int gate_join_service(BootstrapContext *c) {
        _cleanup_free_ char *path = path_join_root(c->root, SECRETS_BUNDLE_DIR "/join-secret");
        _cleanup_free_ char *url = node_url(c->node, "https", JOIN_PORT, "");
        _cleanup_secret_free_ char *secret = NULL;
        if (!path || !url)
                return -ENOMEM;
        int r = join_secret_read(path, &secret);
        if (r < 0)
                return r;
        r = join_node_ping(url, secret, 5);
        return gate_result(c, "the join service (clusterboot-join.service)", r,
                           strprintf("cluster-info on %s %s", url,
                                     r >= 0 ? "answered with a valid proof" : r == -EAGAIN ? "does not answer" : "gave a bad proof"));
}

static int gate_apiserver(BootstrapContext *c) {
        _cleanup_free_ char *url = node_url(c->node, "https", (int) c->inv->kubernetes.api_server_port.v, "/readyz");
        _cleanup_free_ char *ca = path_join_root(c->root, PKI_DIR "/ca.crt");
        char *why = NULL;
        if (!url || !ca)
                return -ENOMEM;
        int r = health_http(url, ca, "ok", c->timeout_ms, &why);
        return gate_result(c, "kube-apiserver", r, why);
}

static int gate_controllers(BootstrapContext *c) {
        /* Their serving certificates are self-signed: kubeadm's probes do not verify them either. */
        char *why = NULL;
        int r = health_http("https://127.0.0.1:10257/healthz", NULL, "ok", c->timeout_ms, &why);
        if (r < 0)
                return gate_result(c, "kube-controller-manager", r, why);
        free(why);
        r = health_http("https://127.0.0.1:10259/healthz", NULL, "ok", c->timeout_ms, &why);
        return gate_result(c, "kube-scheduler", r, why);
}

/* The Node's Ready condition, "True", "False" or "Unknown"; NULL when the answer has none. */
static const char *node_ready(json_t *node) {
        json_t *conds = json_object_get(json_object_get(node, "status"), "conditions"), *cond;
        size_t i;
        json_array_foreach(conds, i, cond)
                if (streq_ptr(json_string_value(json_object_get(cond, "type")), "Ready"))
                        return json_string_value(json_object_get(cond, "status"));
        return NULL;
}

/* The kubelet has registered its Node: asked with the kubelet's own credentials (kubelet.conf, which a
 * worker's kubelet writes itself once TLS bootstrapping got it a certificate), which the Node authorizer
 * lets read that Node. Ready is reported, not waited for: a CNI other than the bridge may come later. */
static int node_registered(BootstrapContext *c, char **ret_why) {
        Kubeconfig k = {};
        _cleanup_free_ char *body = NULL, *path = strprintf("/api/v1/nodes/%s", c->node->name);
        if (!path)
                return -ENOMEM;
        int r = kubeconfig_load(c->root, KUBERNETES_DIR "/kubelet.conf", &k, ret_why);
        if (r == -ENOENT) {
                /* No kubelet.conf yet, or one naming the certificate the kubelet is about to write. */
                char *why = strprintf("TLS bootstrapping has not got the kubelet its certificate yet: %s",
                                      strempty(*ret_why));
                free(*ret_why);
                *ret_why = why;
                return -EAGAIN;
        }
        if (r < 0)
                return r;
        int status = kubeconfig_get(&k, path, c->timeout_ms, &body, ret_why);
        kubeconfig_done(&k);
        if (status < 0)
                return status;
        if (status == 404) {
                *ret_why = strprintf("Node %s is not registered yet", c->node->name);
                return -EAGAIN;
        }
        if (status != 200) {
                /* A 401 or 403 may pass: the certificate may be a moment old, the RBAC not there yet. */
                *ret_why = strprintf("the API server answered GET %s with HTTP %d for the kubelet's credentials",
                                     path, status);
                return -EAGAIN;
        }
        _cleanup_(json_decrefp) json_t *node = json_loads(body, 0, NULL);
        const char *ready = node_ready(node);
        *ret_why = strprintf("Node %s registered, Ready: %s", c->node->name, ready ? ready : "not reported yet");
        return 0;
}

static int gate_kubelet(BootstrapContext *c) {
        char *why = NULL;
        int r = health_http("http://127.0.0.1:10248/healthz", NULL, "ok", c->timeout_ms, &why);
        if (r >= 0) {
                free(why);
                why = NULL;
                r = node_registered(c, &why);
        }
        return gate_result(c, "kubelet", r, why);
}

static int gate_kube_proxy(BootstrapContext *c) {
        char *why = NULL;
        int r = health_http("http://127.0.0.1:10256/healthz", NULL, NULL, c->timeout_ms, &why);
        return gate_result(c, "kube-proxy", r, why);
}

/* flanneld has the node's subnet (its Node's podCIDR) and wrote it where CNI and people read it. */
static int gate_pod_network(BootstrapContext *c) {
        _cleanup_free_ char *path = path_join_root(c->root, FLANNEL_SUBNET_ENV), *env = NULL;
        size_t size;
        if (!path)
                return -ENOMEM;
        int r = read_full_file(path, 4096, &env, &size);
        const char *subnet = r >= 0 ? strstr(env, "FLANNEL_SUBNET=") : NULL;
        if (!subnet)
                return gate_result(c, "flanneld", -EAGAIN,
                                   strprintf("no FLANNEL_SUBNET in " FLANNEL_SUBNET_ENV " yet (%s)",
                                             r < 0 ? strerror(-r) : "not written"));
        subnet += strlen("FLANNEL_SUBNET=");
        return gate_result(c, "flanneld", 0,
                           strprintf("the node's subnet %.*s in " FLANNEL_SUBNET_ENV, (int) strcspn(subnet, "\n"),
                                     subnet));
}

static int gate_tcp(BootstrapContext *c, const char *service, int port) {
        char *why = NULL;
        int r = health_tcp(&c->node->ip, port, c->timeout_ms, &why);
        return gate_result(c, service, r, why);
}

static int gate_ceph_mon(BootstrapContext *c) {
        return gate_tcp(c, "ceph-mon", 3300);
}

static int gate_ceph_mgr(BootstrapContext *c) {
        char *why = NULL;
        int r = bootstrap_ceph_mgr_health(c, &why);
        return gate_result(c, "ceph-mgr", r, why);
}

static int gate_ceph_osd(BootstrapContext *c) {
        char *why = NULL;
        int r = bootstrap_ceph_osd_health(c, &why);
        return gate_result(c, "ceph-osd", r, why);
}

static int gate_kafka(BootstrapContext *c) {
        return gate_tcp(c, "kafka", (int) c->inv->kafka.port.v);
}

static int gate_mqtt(BootstrapContext *c) {
        return gate_tcp(c, "mosquitto", (int) c->inv->mqtt.port.v);
}

static int gate_dns(BootstrapContext *c) {
        return gate_tcp(c, "coredns", (int) c->inv->dns.port.v);
}

const Stage stages[] = {
        { "register", is_auto_registered, bootstrap_register, {}, NULL, NULL,
          "an auto-registered machine is named by the join service, which records its address and issues its "
          "certificates; then the node's configuration is rendered and its roles activated" },
        { "secrets", is_master, bootstrap_secrets, {}, NULL, NULL,
          "the secrets bundle on this master: already there (embedded), from another master's join service, or "
          "made here (the first master, when no other master answers)" },
        { "certificates", any_node, bootstrap_certificates, {}, NULL, NULL,
          "this node's certificates, keys and kubeconfigs: signed here from the bundle, or through the join "
          "service (keys made here, CSRs sent)" },
        { "etcd-member", is_master, bootstrap_etcd_member, { "etcd.service" }, NULL, NULL,
          "how this master's etcd starts: a one-member cluster (first master) or added as a learner" },
        { "etcd-ready", is_master, bootstrap_etcd_ready, {}, NULL, NULL,
          "etcd healthy here, the learner promoted; the node becomes bootstrapped or joined" },
        { "join-service", is_master, NULL, { "clusterboot-join.service" }, NULL, gate_join_service,
          "the join service serves other nodes" },
        { "kube-apiserver", is_master, NULL, { "kube-apiserver.service" }, "/usr/local/bin/kube-apiserver",
          gate_apiserver, "kube-apiserver answers /readyz" },
        { "kube-controllers", is_master, NULL, { "kube-controller-manager.service", "kube-scheduler.service" },
          "/usr/local/bin/kube-controller-manager", gate_controllers,
          "kube-controller-manager and kube-scheduler answer /healthz" },
        { "kube-bootstrap", is_master, bootstrap_kube_bootstrap, {}, "/usr/local/bin/kube-apiserver", NULL,
          "the bootstrap token secret and the RBAC for kubelet TLS bootstrapping and CSR auto-approval" },
        { "kubelet", node_runs_kubelet, NULL, { "containerd.service", "kubelet.service" }, "/usr/local/bin/kubelet",
          gate_kubelet, "containerd and kubelet run; kubelet answers /healthz and its Node is registered" },
        { "mark-control-plane", is_master, bootstrap_mark_control_plane, {}, "/usr/local/bin/kubelet", NULL,
          "this master's Node labelled node-role.kubernetes.io/control-plane and tainted NoSchedule (unless "
          "kubernetes.schedule_on_masters), through the API as kubeadm does: the kubelet may not label itself so" },
        { "pod-network", node_runs_kubelet, NULL, { "flanneld.service" }, "/usr/local/bin/flanneld", gate_pod_network,
          "flanneld routes between the nodes' pod subnets (kubernetes.cni: flannel): it has this node's subnet",
          inventory_uses_flannel },
        { "kube-proxy", node_runs_kubelet, NULL, { "kube-proxy.service" }, "/usr/local/bin/kube-proxy", gate_kube_proxy,
          "kube-proxy runs and has synced Services into iptables (/healthz)" },
        { "ceph-mon", is_ceph_mon, bootstrap_ceph_mon, { "ceph-mon@%n.service" }, "/usr/bin/ceph-mon", gate_ceph_mon,
          "the monitor's store made once (ceph-mon --mkfs), the monitor listens (msgr2, port 3300)" },
        { "ceph-mgr", is_ceph_mon, bootstrap_ceph_mgr, { "ceph-mgr@%n.service" }, "/usr/bin/ceph-mgr", gate_ceph_mgr,
          "the manager's keyring made once (ceph auth get-or-create mgr.NODE), the manager reports to the monitors" },
        { "ceph-osd", is_ceph_osd, bootstrap_ceph_osd, { "ceph-osd@%o.service" }, "/usr/bin/ceph-osd", gate_ceph_osd,
          "each OSD device of the node file made an OSD once (ceph osd new, ceph-osd --mkfs), started, and active" },
        { "kafka", node_is_kafka_broker, bootstrap_kafka_storage, { "kafka.service" }, "/opt/kafka/bin/kafka-server-start.sh",
          gate_kafka, "the log directory formatted once with the cluster's id, the Kafka broker listens" },
        { "mqtt", node_is_mqtt_broker, NULL, { "mosquitto.service" }, "/usr/sbin/mosquitto", gate_mqtt,
          "mosquitto listens" },
        { "dns", node_is_dns_server, NULL, { "coredns.service" }, "/usr/local/bin/coredns", gate_dns,
          "CoreDNS listens" },
        { "joined", is_not_master, bootstrap_joined, {}, NULL, NULL,
          "every stage of this node done: the node becomes joined" },
};

const size_t n_stages = ELEMENTSOF(stages);

bool stage_applies(const Stage *s, const Inventory *inv, const Node *node) {
        return s->applies(node) && (!s->in_cluster || s->in_cluster(inv));
}

const Stage *stage_find(const char *name) {
        for (size_t i = 0; i < n_stages; i++)
                if (streq(stages[i].name, name))
                        return stages + i;
        return NULL;
}

char *stage_names(void) {
        StrBuf b = {};
        for (size_t i = 0; i < n_stages; i++)
                if (strbuf_printf(&b, "%s%s", i ? ", " : "", stages[i].name) < 0) {
                        strbuf_done(&b);
                        return NULL;
                }
        return strbuf_steal(&b);
}

int stage_units(const Stage *s, const Node *node, const char *root, char ***ret, size_t *ret_n) {
        _cleanup_free_ int64_t *osds = NULL;
        size_t n_osds = 0;
        for (size_t i = 0; i < ELEMENTSOF(s->units) && s->units[i]; i++)
                if (strstr(s->units[i], "%o")) {
                        int k = osd_node_ids(root, node, false, &osds, &n_osds);
                        if (k < 0)
                                return k;
                        break;
                }
        size_t max = ELEMENTSOF(s->units) * (n_osds + 1), n = 0;
        char **units = calloc(max + 1, sizeof(char *));
        if (!units)
                return -ENOMEM;
        int r = 0;
        for (size_t i = 0; i < ELEMENTSOF(s->units) && s->units[i] && r >= 0; i++) {
                _cleanup_free_ char *named = strreplace(s->units[i], "%n", node->name);
                if (!named) {
                        r = -ENOMEM;
                        break;
                }
                if (!strstr(named, "%o")) {
                        units[n++] = TAKE_PTR(named);
                        continue;
                }
                for (size_t k = 0; k < n_osds && r >= 0; k++) {
                        char id[24];
                        snprintf(id, sizeof(id), "%" PRId64, osds[k]);
                        if (!(units[n++] = strreplace(named, "%o", id)))
                                r = -ENOMEM;
                }
        }
        if (r < 0) {
                for (size_t i = 0; i < n; i++)
                        free(units[i]);
                free(units);
                return r;
        }
        *ret = units;
        *ret_n = n;
        return 0;
}
