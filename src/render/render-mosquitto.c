/* SPDX-License-Identifier: Apache-2.0 */
/* Mosquitto 2.x: one set of rules for every listener (per_listener_settings false), nobody anonymous,
 * users from the password file that the secrets stage writes (not rendered here: it holds secrets), and
 * what each may do from the ACL file rendered from services/mqtt.yaml. The TLS listener takes the
 * certificate the PKI stage issues. */
#include <errno.h>
#include <inttypes.h>
#include <string.h>

#include "paths.h"
#include "renderers.h"
#include "banned.h"

#define MOSQUITTO_CERT_DIR MOSQUITTO_CONFIG_DIR "/certs"

static int render_mosquitto_conf(const RenderContext *c, RenderSet *out) {
        const MqttConfig *m = &c->inv->mqtt;
        StrBuf b = {};
        int r;

        r = render_header(&b, "#");
        /* Must come before any other option: it changes how the ones after it are read. */
        r = r ?: strbuf_append(&b, "\nper_listener_settings false\n"
                                   "allow_anonymous false\n"
                                   "password_file " MOSQUITTO_CONFIG_DIR "/passwd\n"
                                   "acl_file " MOSQUITTO_CONFIG_DIR "/acl\n");
        r = r ?: strbuf_printf(&b, "\npersistence %s\n", m->persistence.v ? "true" : "false");
        if (m->persistence.v)
                /* The trailing slash is required: mosquitto appends the file name as is. */
                r = r ?: strbuf_append(&b, "persistence_location " MOSQUITTO_DATA_DIR "/\n");
        r = r ?: strbuf_append(&b, "log_dest stderr\n");

        /* No bind address: every address of the node, IPv4 and IPv6. */
        r = r ?: strbuf_printf(&b, "\nlistener %" PRId64 "\n", m->port.v);
        if (m->tls_port.v != 0)
                r = r ?: strbuf_printf(&b,
                                       "\nlistener %" PRId64 "\n"
                                       "cafile " MOSQUITTO_CERT_DIR "/ca.crt\n"
                                       "certfile " MOSQUITTO_CERT_DIR "/server.crt\n"
                                       "keyfile " MOSQUITTO_CERT_DIR "/server.key\n",
                                       m->tls_port.v);

        r = r ?: render_set_add(out, MOSQUITTO_CONFIG_DIR "/mosquitto.conf", 0644, &b);
        strbuf_done(&b);
        return r;
}

static int render_mosquitto_acl(const RenderContext *c, RenderSet *out) {
        const MqttConfig *m = &c->inv->mqtt;
        StrBuf b = {};
        int r;

        /* Rules before the first "user" line would apply to anonymous clients: there are none. */
        r = render_header(&b, "#");
        for (size_t i = 0; i < m->users.n && r >= 0; i++) {
                const MqttUser *u = m->users.items + i;
                if (!u->name.v || strpbrk(u->name.v, " \t\n")) {
                        r = -EINVAL;
                        break;
                }
                r = strbuf_printf(&b, "\nuser %s\n", u->name.v);
                /* The inventory's rules are "ACCESS TOPIC", checked when it was read: mosquitto's own
                 * "topic [read|write|readwrite|deny] TOPIC" after the keyword. */
                for (size_t j = 0; j < u->acl.n && r >= 0; j++) {
                        if (!u->acl.items[j].v || strchr(u->acl.items[j].v, '\n')) {
                                r = -EINVAL;
                                break;
                        }
                        r = strbuf_printf(&b, "topic %s\n", u->acl.items[j].v);
                }
        }

        r = r ?: render_set_add(out, MOSQUITTO_CONFIG_DIR "/acl", 0644, &b);
        strbuf_done(&b);
        return r;
}

int render_mosquitto(const RenderContext *c, RenderSet *out) {
        int r = render_mosquitto_conf(c, out);
        return r ?: render_mosquitto_acl(c, out);
}
