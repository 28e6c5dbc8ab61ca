/* SPDX-License-Identifier: Apache-2.0 */
#pragma once

#include <stdbool.h>
#include <stdint.h>

#include "net-util.h"
#include "source.h"

/* The typed inventory. Every value remembers where it was written (Loc), so that a check anywhere can point
 * at the YAML node it is about. A value that was not written has loc.line == 0 (and, for strings,
 * v == NULL); defaults are applied after parsing and keep a zero loc. */

typedef struct StrVal {
        char *v;
        Loc loc;
} StrVal;

typedef struct IntVal {
        int64_t v;
        Loc loc;
        bool set;
} IntVal;

typedef struct BoolVal {
        bool v;
        Loc loc;
        bool set;
} BoolVal;

typedef struct StrList {
        StrVal *items;
        size_t n;
        Loc loc;
        bool set;
        bool dropped; /* an item was invalid (and reported): the list is not what the user wrote */
} StrList;

typedef struct KeyValue {
        StrVal key;
        StrVal value;
} KeyValue;

/* A mapping of names to plain values: labels, extra properties, one section of ceph.conf. */
typedef struct KVList {
        KeyValue *items;
        size_t n;
        Loc loc;
        bool set;
} KVList;

typedef struct Section {
        StrVal name;
        KVList values;
} Section;

/* A mapping of names to KVLists: extra_args per component, extra_config per ceph.conf section. */
typedef struct SectionList {
        Section *items;
        size_t n;
        Loc loc;
        bool set;
} SectionList;

typedef enum Role {
        ROLE_MASTER, /* "master" and its synonym "control-plane" */
        ROLE_WORKER,
        ROLE_KAFKA_BROKER,
        ROLE_CEPH_MON,
        ROLE_CEPH_OSD,
        ROLE_MQTT_BROKER,
        ROLE_DNS_SERVER,
        _ROLE_MAX,
        _ROLE_INVALID = -1,
} Role;

typedef enum Service {
        SERVICE_KUBERNETES,
        SERVICE_CEPH,
        SERVICE_KAFKA,
        SERVICE_MQTT,
        SERVICE_DNS,
        _SERVICE_MAX,
        _SERVICE_INVALID = -1,
} Service;

/* A node entry as written in cluster.yaml's nodes: list. */
typedef struct ClusterNodeEntry {
        Loc loc;
        StrVal name;
        StrVal ip;
        StrList roles;
        StrVal hostname;
        StrList mac_addresses;
} ClusterNodeEntry;

/* nodes/<name>.yaml */
typedef struct NodeFile {
        Loc loc;
        uint32_t file;
        StrVal name;
        StrVal hostname;
        StrVal ip;
        StrList roles;
        struct {
                Loc loc;
                StrList mac_addresses;
                StrVal serial;
                StrVal uuid;
        } hardware;
        struct {
                Loc loc;
                StrVal interface;
        } network;
        KVList labels;
        StrList taints;
        struct {
                Loc loc;
                StrList osd_devices;
        } ceph;
        struct {
                Loc loc;
                IntVal node_id;
        } kafka;
        /* The disk that keeps the node's state (certificates, etcd, Ceph, Kafka, the kubelet's) when its root
         * does not: a live or netbooted root forgets everything at reboot. */
        struct {
                Loc loc;
                StrVal disk;
        } state;
} NodeFile;

typedef struct ClusterConfig {
        Loc loc;
        StrVal name;
        StrVal domain;
        struct {
                Loc loc;
                StrVal node_cidr;
                StrVal gateway;
                StrList dns_servers;
                StrVal pod_cidr;
                StrVal service_cidr;
                StrVal cluster_domain;
        } networking;
        StrList services;
        struct {
                Loc loc;
                StrVal token;
        } bootstrap;
        struct {
                Loc loc;
                BoolVal enabled;
                StrVal role;
                StrVal hostname_prefix;
        } auto_register;
} ClusterConfig;

typedef struct KubernetesConfig {
        Loc loc;
        StrVal version;
        IntVal api_server_port;
        struct {
                Loc loc;
                StrVal key_algorithm;
                StrVal certificate_validity; /* a duration (checks.h parse_duration()): the leaves' life */
        } pki;
        StrVal cni;
        StrVal cgroup_driver; /* the kubelet's and containerd's: systemd or cgroupfs */
        BoolVal schedule_on_masters; /* no control-plane NoSchedule taint on masters (default false) */
        SectionList extra_args;
} KubernetesConfig;

typedef struct CephConfig {
        Loc loc;
        IntVal osd_pool_default_size;
        IntVal osd_pool_default_min_size;
        StrVal public_network;
        StrVal cluster_network;
        SectionList extra_config;
        bool public_network_derived, cluster_network_derived; /* defaults taken from another value */
} CephConfig;

typedef struct KafkaConfig {
        Loc loc;
        StrVal version;
        IntVal port;
        IntVal controller_port;
        IntVal default_replication_factor;
        IntVal num_partitions;
        KVList extra_properties;
} KafkaConfig;

typedef struct MqttUser {
        Loc loc;
        StrVal name;
        StrList acl;
} MqttUser;

typedef struct MqttConfig {
        Loc loc;
        IntVal port;
        IntVal tls_port;
        BoolVal persistence;
        struct {
                MqttUser *items;
                size_t n;
                Loc loc;
                bool set;
                bool dropped;
        } users;
} MqttConfig;

typedef struct DnsConfig {
        Loc loc;
        IntVal port;
        StrVal zone;
        StrList forwarders;
} DnsConfig;

/* One node, merged from its cluster.yaml entry and its node file, with defaults applied. Values point into
 * the entry or the file (whichever wrote them), so their locations stay true. */
typedef struct Node {
        const ClusterNodeEntry *entry;
        const NodeFile *file; /* NULL when there is no nodes/<name>.yaml */
        bool file_broken;     /* nodes/<name>.yaml exists but could not be parsed */
        const char *name;
        const char *hostname;
        IpAddr ip;
        bool ip_valid;
        bool roles[_ROLE_MAX];
        char (*macs)[18]; /* normalized, lowercase */
        size_t n_macs;
        int64_t kafka_node_id; /* assigned when not written; -1 for non-brokers */
        /* The node's OSD devices, 0 without the ceph-osd role. Their OSD ids are Ceph's, given when each OSD
         * is made (osd-record.h), not the inventory's. */
        size_t n_osds;
        /* Where to point at for a value: the node file's if it has one, else cluster.yaml's. */
        Loc name_loc, ip_loc, roles_loc, hostname_loc;
        /* A machine not in the inventory, added by cluster.auto_register (inventory_add_auto_node()); it
         * owns its name. NULL for every node of the inventory. */
        char *auto_name;
} Node;

typedef struct Inventory {
        SourceSet sources;
        char *dir;

        ClusterConfig cluster;
        struct {
                ClusterNodeEntry *items;
                size_t n;
                Loc loc;
                bool set;
                bool dropped; /* an item was not a mapping (reported) */
        } node_entries;
        NodeFile *node_files;
        size_t n_node_files;
        size_t node_files_allocated;

        KubernetesConfig kubernetes;
        CephConfig ceph;
        KafkaConfig kafka;
        MqttConfig mqtt;
        DnsConfig dns;

        /* Files that could not be parsed: checks that would need their content are skipped, since their
         * errors would only follow from the one already reported. */
        bool service_file_broken[_SERVICE_MAX];

        /* Derived after parsing: */
        bool services_known; /* cluster.services could be read (or was left out): inv->services is true */
        bool services[_SERVICE_MAX];
        Node *nodes; /* sorted by name */
        size_t n_nodes;
        IpPrefix node_cidr, pod_cidr, service_cidr, ceph_public_network, ceph_cluster_network;
        bool node_cidr_valid, pod_cidr_valid, service_cidr_valid, ceph_networks_valid;
} Inventory;

const char *role_to_string(Role r);
Role role_from_string(const char *s);
const char *service_to_string(Service s);
Service service_from_string(const char *s);
/* The service a role belongs to: worker and master need kubernetes, kafka-broker needs kafka, ... */
Service role_service(Role r);
/* The systemd target that a role enables. */
const char *role_target(Role r);

extern const char *const role_names[];    /* NULL-terminated, includes "control-plane" */
extern const char *const service_names[]; /* NULL-terminated */
