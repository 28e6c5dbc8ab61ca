/* SPDX-License-Identifier: Apache-2.0 */
#pragma once

#include "etcd-client.h"
#include "macro.h"
#include "model.h"

/* The bootstrap state machine's etcd stages (SPEC "State machine"), each idempotent and runnable alone, so
 * that systemd orders them around etcd.service and a crash anywhere converges on the next run:
 *
 *   etcd-member  before etcd starts. The first master (first by name) makes a one-member cluster with the
 *                rendered environment (state "new") -- unless a cluster already answers on another master,
 *                which means it was reinstalled and must join like the others. Every other master waits
 *                for a cluster (-EAGAIN), is added as a learner, and gets etcd-join.env with the members
 *                at that moment and state "existing". A stale member with its peer URL (a reinstalled
 *                node) is removed first; one added but never started (a crash after the add) is reused.
 *   etcd-ready   after etcd starts: healthy, promoted if a learner (-EAGAIN until caught up), and the
 *                node's state becomes bootstrapped (first master) or joined.
 *
 * A node whose etcd has data already (it ran before) does nothing in etcd-member: a node never makes a
 * second "new" cluster. Return: 0 done, -EAGAIN not possible yet (exit 75), other negative errno. */

typedef struct BootstrapContext {
        const Inventory *inv;
        const Node *node;
        const char *root; /* NULL: / */
        EtcdTls tls;      /* paths as seen from here (under root) */
        unsigned timeout_ms;
        char *message;    /* what the stage did or waits for, for the log; owned by the context */
        unsigned changed; /* files the last write of a stage created or updated */
} BootstrapContext;

/* Sets c->message, what the stage did or waits for. */
void bootstrap_message(BootstrapContext *c, const char *fmt, ...) _printf_(2, 3);

/* Fault injection for the crash tests (tests/bootstrap, tests/e2e): $CLUSTERBOOT_TEST_KILL_AT=STAGE:POINT
 * makes the process SIGKILL itself at that point of that stage, as a power cut or `kill -9` would. Every
 * stage has "before" (nothing done), "after-run" (the work done, no unit started, nothing recorded) and
 * "after-gate" (healthy, not recorded); a stage may name points of its own work. A crash anywhere must
 * converge on the next run. */
void bootstrap_kill_point(const char *stage, const char *point);

int bootstrap_context_init(BootstrapContext *c, const Inventory *inv, const Node *node, const char *root);
void bootstrap_context_done(BootstrapContext *c);

/* secrets (masters): the secrets bundle in /etc/cluster-config/secrets. There already (the embedded policy,
 * or an earlier run), else asked from the other masters' join services (a reinstalled first master gets the
 * cluster's this way too), else -- on the first master, when no other master answers -- made here with the
 * join secret the image carries. Others wait (-EAGAIN). -ENOKEY: neither a bundle nor a join secret. */
int bootstrap_secrets(BootstrapContext *c);
/* certificates (every node): with the bundle on the node, its PKI is signed here (as `pki node`, only
 * what is missing or bad); without, keys are made here and CSRs sent to a master's join service. */
int bootstrap_certificates(BootstrapContext *c);
/* register (auto-registered machines, first): the join service names the machine and records the address
 * it asked from (AUTO_ADDRESS_PATH), issuing its certificates in the same round trip; the node then is
 * what render and activate need. */
int bootstrap_register(BootstrapContext *c);
/* joined (every node but masters, last): the node's state becomes joined. */
int bootstrap_joined(BootstrapContext *c);

/* ceph-mon (ceph-mon nodes): the monitor's store made once with `ceph-mon --mkfs` from the rendered
 * ceph.conf (fsid, mon_initial_members, mon_host: every monitor starts from the same initial monmap) and
 * ceph.mon.keyring; into a temporary folder renamed into place, so a crash leaves none or a whole one. */
int bootstrap_ceph_mon(BootstrapContext *c);

/* ceph-mgr (ceph-mon nodes, after ceph-mon): the manager's keyring, once, in
 * /var/lib/ceph/mgr/ceph-NODE/keyring (service-stages.c). Its health: 0 when mgr.NODE is the active manager
 * or known to the monitors (a standby, or one waiting for an election), -EAGAIN when not (yet), *ret_why
 * saying what the monitors answered. */
int bootstrap_ceph_mgr(BootstrapContext *c);
int bootstrap_ceph_mgr_health(BootstrapContext *c, char **ret_why);
/* ceph-osd (ceph-osd nodes): each device of the node file made an OSD once, with the id the inventory
 * numbers it by (ceph osd new UUID ID as client.bootstrap-osd, then ceph-osd --mkfs, BlueStore on the device);
 * -EAGAIN while no monitor answers. */
int bootstrap_ceph_osd(BootstrapContext *c);
/* Its health: every OSD of the node "active" on its admin socket (/run/ceph/ceph-osd.ID.asok). */
int bootstrap_ceph_osd_health(BootstrapContext *c, char **ret_why);
/* kafka (brokers): the log directory formatted once with the cluster's id (kafka-storage format) before
 * the first start; one holding another cluster's meta.properties is never formatted again (-EEXIST). On
 * the live system only: under --root it checks and says what it would do. */
int bootstrap_kafka_storage(BootstrapContext *c);

/* kube-bootstrap (masters, after the control plane is healthy): the bootstrap token secret and the RBAC
 * bindings for kubelet TLS bootstrapping and CSR auto-approval, as kubeadm makes them (kube-bootstrap.c). */
int bootstrap_kube_bootstrap(BootstrapContext *c);
int bootstrap_mark_control_plane(BootstrapContext *c);

/* A system:masters client of this master's API server, as user: a certificate from the bundle's CA for one
 * day, only in memory (Kubernetes cannot revoke it), never written. _load takes the bundle from the node. */
typedef struct Kubeconfig Kubeconfig;
typedef struct Bundle Bundle;
int kube_admin_credentials(BootstrapContext *c, const Bundle *b, const char *user, Kubeconfig *ret);
int kube_admin_load(BootstrapContext *c, const char *user, Kubeconfig *ret);

int bootstrap_etcd_member(BootstrapContext *c);
int bootstrap_etcd_ready(BootstrapContext *c);
