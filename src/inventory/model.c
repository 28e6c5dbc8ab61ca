/* SPDX-License-Identifier: Apache-2.0 */
#include "model.h"
#include "string-util.h"
#include "banned.h"

/* "control-plane" is kubeadm's word for what the seeds call "master"; both name ROLE_MASTER. */
const char *const role_names[] = {
        "master", "control-plane", "worker", "kafka-broker", "ceph-mon", "ceph-osd", "mqtt-broker", "dns-server", NULL,
};

static const struct {
        const char *name;
        Service service;
        const char *target;
} role_table[_ROLE_MAX] = {
        [ROLE_MASTER] = { "master", SERVICE_KUBERNETES, "kubernetes-master.target" },
        [ROLE_WORKER] = { "worker", SERVICE_KUBERNETES, "kubernetes-worker.target" },
        [ROLE_KAFKA_BROKER] = { "kafka-broker", SERVICE_KAFKA, "kafka.target" },
        [ROLE_CEPH_MON] = { "ceph-mon", SERVICE_CEPH, "ceph-mon.target" },
        [ROLE_CEPH_OSD] = { "ceph-osd", SERVICE_CEPH, "ceph-osd.target" },
        [ROLE_MQTT_BROKER] = { "mqtt-broker", SERVICE_MQTT, "mqtt.target" },
        [ROLE_DNS_SERVER] = { "dns-server", SERVICE_DNS, "dns.target" },
};

const char *const service_names[] = { "kubernetes", "ceph", "kafka", "mqtt", "dns", NULL };

const char *role_to_string(Role r) {
        return r >= 0 && r < _ROLE_MAX ? role_table[r].name : NULL;
}

Role role_from_string(const char *s) {
        if (streq(s, "control-plane"))
                return ROLE_MASTER;
        for (Role r = 0; r < _ROLE_MAX; r++)
                if (streq(s, role_table[r].name))
                        return r;
        return _ROLE_INVALID;
}

Service role_service(Role r) {
        return role_table[r].service;
}

const char *role_target(Role r) {
        return role_table[r].target;
}

const char *service_to_string(Service s) {
        return s >= 0 && s < _SERVICE_MAX ? service_names[s] : NULL;
}

Service service_from_string(const char *s) {
        for (Service i = 0; i < _SERVICE_MAX; i++)
                if (streq(s, service_names[i]))
                        return i;
        return _SERVICE_INVALID;
}
