/* SPDX-License-Identifier: Apache-2.0 */
#include <stdio.h>

#include "cmd.h"
#include "inventory.h"
#include "log.h"
#include "plan.h"
#include "string-util.h"
#include "banned.h"

static void print_list(const char *label, json_t *a, const char *key) {
        size_t i;
        json_t *v;
        printf("%s", label);
        json_array_foreach(a, i, v) {
                const char *s = key ? json_string_value(json_object_get(v, key)) : json_string_value(v);
                printf("%s%s", i ? ", " : "", strempty(s));
        }
        printf("%s\n", json_array_size(a) ? "" : "-");
}

static const char *str(json_t *o, const char *key) {
        const char *s = json_string_value(json_object_get(o, key));
        return s ?: "-";
}

static void print_text(json_t *plan) {
        json_t *v, *n;
        size_t i;

        printf("Cluster %s", str(plan, "cluster"));
        if (json_is_string(json_object_get(plan, "domain")))
                printf(" (domain %s)", str(plan, "domain"));
        printf("\n");
        print_list("  services:        ", json_object_get(plan, "services"), NULL);
        json_t *net = json_object_get(plan, "networking");
        printf("  node network:    %s, gateway %s\n", str(net, "node_cidr"), str(net, "gateway"));
        printf("  pod network:     %s\n  service network: %s\n", str(net, "pod_cidr"), str(net, "service_cidr"));

        if ((v = json_object_get(plan, "kubernetes"))) {
                printf("\nKubernetes %s\n", str(v, "version"));
                printf("  first master:    %s\n  API endpoint:    %s\n", str(v, "first_master"), str(v, "api_endpoint"));
                printf("  API service IP:  %s\n  cluster DNS IP:  %s (domain %s)\n", str(v, "api_service_ip"),
                       str(v, "cluster_dns_ip"), str(net, "cluster_domain"));
                printf("  etcd bootstrap order:\n");
                json_array_foreach(json_object_get(v, "etcd_bootstrap_order"), i, n)
                        printf("    %zu. %-16s %-24s %s\n", i + 1, str(n, "node"), str(n, "peer_url"), str(n, "how"));
        }
        if ((v = json_object_get(plan, "kafka"))) {
                printf("\nKafka %s (KRaft, brokers are controllers)\n", str(v, "version"));
                json_array_foreach(json_object_get(v, "brokers"), i, n)
                        printf("  node.id %-4lld %-16s %s\n", (long long) json_integer_value(json_object_get(n, "node_id")),
                               str(n, "node"), str(n, "endpoint"));
                printf("  controller.quorum.voters=%s\n", str(v, "controller_quorum_voters"));
        }
        if ((v = json_object_get(plan, "ceph"))) {
                printf("\nCeph (pool size %lld, min size %lld)\n",
                       (long long) json_integer_value(json_object_get(v, "osd_pool_default_size")),
                       (long long) json_integer_value(json_object_get(v, "osd_pool_default_min_size")));
                printf("  mon host:        %s\n", str(v, "mon_host"));
                if (json_array_size(json_object_get(v, "osds")) > 0)
                        printf("  OSDs (Ceph numbers each one when it is made):\n");
                json_array_foreach(json_object_get(v, "osds"), i, n)
                        printf("    %-16s %s\n", str(n, "node"), str(n, "device"));
        }
        if ((v = json_object_get(plan, "mqtt")))
                print_list("\nMQTT brokers:      ", json_object_get(v, "brokers"), "endpoint");
        if ((v = json_object_get(plan, "dns"))) {
                printf("\nDNS zone %s\n", str(v, "zone"));
                print_list("  servers:         ", json_object_get(v, "servers"), "endpoint");
                print_list("  forwarders:      ", json_object_get(v, "forwarders"), NULL);
        }
        print_list("\nJoin service on:   ", json_object_get(plan, "join_service"), "node");

        printf("\nNodes\n");
        json_array_foreach(json_object_get(plan, "nodes"), i, n) {
                printf("  %s (%s)\n", str(n, "name"), str(n, "ip"));
                print_list("    roles:   ", json_object_get(n, "roles"), NULL);
                print_list("    targets: ", json_object_get(n, "targets"), NULL);
                print_list("    units:   ", json_object_get(n, "units"), NULL);
        }
}

int cmd_plan(int argc, char **argv, const Options *o) {
        (void) argc, (void) argv;
        Inventory *inv = NULL;

        /* Diagnostics go to stderr as text either way: stdout is the plan. */
        int r = cmd_load_inventory(o, false, &inv);
        if (r != EXIT_DONE)
                return r;

        json_t *plan = plan_build(inv);
        inventory_free(inv);
        if (!plan)
                return log_error("out of memory"), EXIT_FAILED;

        if (o->output == OUTPUT_JSON) {
                json_dumpf(plan, stdout, JSON_INDENT(2) | JSON_PRESERVE_ORDER);
                putchar('\n');
        } else
                print_text(plan);
        json_decref(plan);
        return EXIT_DONE;
}
