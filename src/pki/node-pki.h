/* SPDX-License-Identifier: Apache-2.0 */
#pragma once

#include <stdbool.h>
#include <time.h>

#include "bundle.h"
#include "model.h"
#include "render.h"
#include "x509.h"

/* A node's certificates, keys, kubeconfigs and service secrets (`clusterboot pki node`), with kubeadm's
 * names, subjects, key usages and SANs, for what its roles need and nothing more. */

typedef enum PkiKind {
        PKI_COPY,       /* a file made from the bundle as it is: a CA certificate, a CA key, a keyring */
        PKI_LEAF,       /* a certificate and key issued for this node */
        PKI_KUBECONFIG, /* a kubeconfig with a client certificate issued for this node */
} PkiKind;

typedef enum PkiSource {
        SRC_CA_CRT,
        SRC_CA_KEY,
        SRC_FRONT_PROXY_CA_CRT,
        SRC_FRONT_PROXY_CA_KEY,
        SRC_FRONT_PROXY_CLIENT_CRT,
        SRC_FRONT_PROXY_CLIENT_KEY,
        SRC_SA_KEY,
        SRC_SA_PUB,
        SRC_ETCD_CA_CRT,
        SRC_ETCD_CA_KEY,
        SRC_CEPH_MON_KEYRING,
        SRC_CEPH_ADMIN_KEYRING,
        SRC_CEPH_BOOTSTRAP_OSD_KEYRING,
        SRC_CEPH_BOOTSTRAP_MDS_KEYRING,
        SRC_MQTT_PASSWD,
        SRC_BOOTSTRAP_KUBECONFIG, /* a kubeconfig with the bundle's bootstrap token (entry's server) */
        _SRC_MAX,
} PkiSource;

/* One thing the node should have. */
typedef struct PkiEntry {
        PkiKind kind;
        PkiSource source; /* PKI_COPY */
        const char *path; /* .crt for a leaf (its key is the same path with .key), the file otherwise */
        char *common_name;
        const char *organization;
        unsigned usage;   /* CertUsage */
        int ca;           /* which CA signs it: 0 kubernetes, 1 etcd, 2 front-proxy */
        char **dns_names; /* NULL-terminated */
        IpAddr *ips;
        size_t n_ips;
        char *server; /* kubeconfig: the API server URL */
        const char *key_group; /* a group that must read the key (then 0640 root:group), or NULL */
        uint64_t validity;     /* a leaf's or kubeconfig's life from its issue, in seconds */
} PkiEntry;

typedef struct PkiPlan {
        PkiEntry *entries;
        size_t n;
        size_t allocated;
} PkiPlan;

/* Every file of the plan, a leaf's key after its certificate: *ret is NULL-terminated and malloc()ed, as are
 * its strings. */
int pki_plan_paths(const PkiPlan *p, char ***ret, size_t *ret_n);

/* The CA (and its key) that signs entry e. */
X509 *pki_entry_ca(const Bundle *b, const PkiEntry *e, EVP_PKEY **ret_key);
/* A certificate for subject_key with what entry e says (subject, usages, names), from its CA, valid from five
 * minutes before now until e->validity after now: what pki node and the join service both issue. */
int pki_entry_issue(const PkiEntry *e, const Bundle *b, EVP_PKEY *subject_key, time_t now, X509 **ret);
/* The text of copy entry e, made from the bundle as it is (a PEM, a keyring, the password file, the
 * bootstrap kubeconfig); free with secret_free(). */
int pki_copy_text(const Inventory *inv, const Bundle *b, const PkiEntry *e, char **ret);

/* What the node should have (pure: from the inventory alone). */
int pki_plan_node(const Inventory *inv, const Node *n, PkiPlan *ret);
void pki_plan_done(PkiPlan *p);

/* Whether the certificate or kubeconfig of leaf entry e under root can be kept (pki_node_files()'s rule), its
 * CA taken from b (which needs only the certificates of the CAs); true for a copy. */
bool pki_entry_current(const PkiEntry *e, const Bundle *b, const char *root, time_t now);

/* The files to write under root for the plan: certificates are issued only where the one on disk is
 * missing, does not match its key, is not signed by the bundle's CA, lacks a wanted name, or has less than a
 * third of its life left (pki_cert_renewal_due()); force issues every leaf anew (pki renew). */
int pki_node_files(const Inventory *inv, const PkiPlan *p, const Bundle *b, const char *root, bool force,
                   time_t now, RenderSet *out);

/* The key algorithm the inventory asks for (kubernetes.pki.key_algorithm; ECDSA P-256 by default). */
KeyAlgorithm pki_key_algorithm(const Inventory *inv);
/* The life of a node's certificates in seconds (kubernetes.pki.certificate_validity; 8760h by default). */
uint64_t pki_certificate_validity(const Inventory *inv);

/* The files of the plan from certificates issued elsewhere (the join service): for entry i, keys[i] (the
 * node's own key) and certs[i] for a leaf or kubeconfig, copies[i] the text of a copy; NULL entries are
 * left out. ca is the Kubernetes CA (for kubeconfigs). -EBADMSG when a certificate is not for its key. */
int pki_node_files_issued(const Inventory *inv, const PkiPlan *p, X509 *ca, EVP_PKEY *const *keys,
                          X509 *const *certs, char *const *copies, RenderSet *out);

/* One finding of pki_check(). */
typedef void (*PkiCheckCallback)(const char *path, bool ok, bool warning, const char *what, void *userdata);

/* Checks what is under root against the plan: present, modes (keys 0600), key matches certificate, chain
 * verifies against the CA on the node, names and addresses present, not expired (a warning under 30
 * days). Returns the number of errors (warnings not counted), or a negative errno. */
int pki_check(const PkiPlan *p, const char *root, time_t now, PkiCheckCallback cb, void *userdata);

/* An admin kubeconfig for an operator's workstation (`clusterboot kubeconfig`): a new key and a client
 * certificate for user in group system:masters from the bundle's Kubernetes CA, valid as long as a node's
 * (kubernetes.pki.certificate_validity), for master n's API server. *ret_text is freed with secret_free();
 * *ret_server (the server's URL) with free(). */
int pki_admin_kubeconfig(const Inventory *inv, const Node *n, const Bundle *b, const char *user, time_t now,
                         char **ret_text, char **ret_server, time_t *ret_not_after);
