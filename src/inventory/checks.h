/* SPDX-License-Identifier: Apache-2.0 */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

/* Checks on the form of single values. Each returns NULL when the value is fine, else what it must be
 * ("a DNS label (...)"), to be used as "'name' must be <that>, got 'X'". */

#define DNS_LABEL_MAX 63
#define HOSTNAME_MAX 253

const char *check_dns_label(const char *s);
const char *check_dns_name(const char *s);
/* A node's hostname, as hostnamectl and RFC 1123 take it: DNS labels as check_dns_label() takes them,
 * separated by dots, at most HOSTNAME_MAX characters in all ("cp-a" or "cp-a.lab.internal"). */
const char *check_hostname(const char *s);
/* The same, and when s is no hostname, what is wrong with it precisely ("label 2 is empty ('..')") in why
 * (size bytes; why may be NULL). */
const char *check_hostname_explain(const char *s, char *why, size_t size);
const char *check_hostname_prefix(const char *s);
const char *check_ip_addr(const char *s);
const char *check_ip_prefix(const char *s);
const char *check_mac_addr(const char *s);
const char *check_bootstrap_token(const char *s);
const char *check_taint(const char *s);
/* A taint "KEY[=VALUE]:EFFECT": the length of its KEY; and whether KEY is key. */
size_t taint_key_length(const char *taint);
bool taint_has_key(const char *taint, const char *key);
const char *check_label_key(const char *s);
/* Why the kubelet would refuse to register its Node with label key (a well-formed one), or NULL when it may:
 * keys under kubernetes.io and k8s.io other than its well-known ones and the kubelet.kubernetes.io and
 * node.kubernetes.io namespaces, and any under node-restriction.kubernetes.io. */
const char *label_kubelet_refuses(const char *key);
const char *check_label_value(const char *s);
const char *check_version(const char *s);
/* A duration as Go writes it (kubeadm's certificateValidityPeriod): NUMBER UNIT, one or more, units h, m and
 * s ("8760h", "1h30m"); no sign, fraction or other unit (-EINVAL), at most DURATION_MAX_SECONDS (-ERANGE). */
#define DURATION_MAX_SECONDS (100ULL * 366 * 24 * 3600)
int parse_duration(const char *s, uint64_t *ret_seconds);
/* kubernetes.pki.certificate_validity: such a duration from 10 minutes to ten years (the CAs' life). */
#define CERT_VALIDITY_MIN (10 * 60)
#define CERT_VALIDITY_MAX (87600ULL * 3600)
const char *check_certificate_validity(const char *s);
const char *check_device_path(const char *s);
const char *check_interface_name(const char *s);
const char *check_mqtt_acl(const char *s);
const char *check_mqtt_user(const char *s);
const char *check_config_key(const char *s);

bool is_dns_label(const char *s);
const char *check_config_value(const char *s);
const char *check_flag_value(const char *s);
const char *check_flag_name(const char *s);

/* The first label of a hostname: "cp-a" of "cp-a.lab.internal"; an undotted hostname is its own. It is the
 * short name a node has in /etc/hosts and in the cluster's DNS zone, so no two nodes may share it. Returns
 * hostname itself or buf. */
const char *hostname_first_label(const char *hostname, char buf[static DNS_LABEL_MAX + 1]);
static inline bool hostname_is_dotted(const char *hostname) {
        return strchr(hostname, '.') != NULL;
}
