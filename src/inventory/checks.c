/* SPDX-License-Identifier: Apache-2.0 */
#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "checks.h"
#include "net-util.h"
#include "string-util.h"
#include "banned.h"

static bool is_lower_alnum(char c) {
        return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9');
}

typedef enum LabelProblem {
        LABEL_OK,
        LABEL_EMPTY,
        LABEL_TOO_LONG,
        LABEL_BAD_CHAR, /* at *ret_bad */
        LABEL_LEADING_HYPHEN,
        LABEL_TRAILING_HYPHEN,
} LabelProblem;

/* The one rule for a DNS label (RFC 1123): the n bytes at s, not NUL-terminated when they are part of a
 * hostname. */
static LabelProblem label_problem(const char *s, size_t n, size_t *ret_bad) {
        if (n == 0)
                return LABEL_EMPTY;
        if (n > DNS_LABEL_MAX)
                return LABEL_TOO_LONG;
        for (size_t i = 0; i < n; i++)
                if (!is_lower_alnum(s[i]) && s[i] != '-') {
                        *ret_bad = i;
                        return LABEL_BAD_CHAR;
                }
        if (s[0] == '-')
                return LABEL_LEADING_HYPHEN;
        if (s[n - 1] == '-')
                return LABEL_TRAILING_HYPHEN;
        return LABEL_OK;
}

bool is_dns_label(const char *s) {
        size_t bad;
        return label_problem(s, strlen(s), &bad) == LABEL_OK;
}

const char *check_dns_label(const char *s) {
        return is_dns_label(s) ? NULL
                               : "a DNS label (1-63 lowercase letters, digits or '-', not starting or ending "
                                 "with '-')";
}

const char *check_dns_name(const char *s) {
        static const char *const expected = "a DNS name (dot-separated DNS labels, at most 253 characters)";
        size_t n = strlen(s);
        if (n == 0 || n > 253)
                return expected;

        char label[64];
        const char *p = s;
        for (;;) {
                const char *dot = strchr(p, '.');
                size_t len = dot ? (size_t) (dot - p) : strlen(p);
                if (len >= sizeof(label))
                        return expected;
                memcpy(label, p, len);
                label[len] = 0;
                if (!is_dns_label(label))
                        return expected;
                if (!dot)
                        return NULL;
                p = dot + 1;
        }
}

/* Says what is wrong with label number nr (counted from 1) of hostname s: the n bytes at l. */
static void explain_label(const char *s, const char *l, size_t n, size_t nr, LabelProblem p, size_t bad,
                          char *why, size_t size) {
        /* An undotted hostname is one label: "it", not "label 1". */
        bool one = !hostname_is_dotted(s);
        char label[96];
        if (one)
                snprintf(label, sizeof(label), "it");
        else
                snprintf(label, sizeof(label), "label %zu '%.*s'", nr, (int) MIN(n, (size_t) DNS_LABEL_MAX),
                         l);

        switch (p) {
        case LABEL_EMPTY:
                if (l == s)
                        snprintf(why, size, "it starts with '.'");
                else if (!l[0])
                        snprintf(why, size, "it ends with '.' (write it without the final dot)");
                else
                        snprintf(why, size, "label %zu is empty ('..')", nr);
                break;
        case LABEL_TOO_LONG:
                if (one)
                        snprintf(why, size, "it is one label of %zu characters, more than %d", n,
                                 DNS_LABEL_MAX);
                else
                        snprintf(why, size, "label %zu is %zu characters long, more than %d", nr, n,
                                 DNS_LABEL_MAX);
                break;
        case LABEL_BAD_CHAR:
                /* Name a printable character; anything else is better not quoted alone (a byte of UTF-8). */
                if (l[bad] > ' ' && l[bad] < 0x7F)
                        snprintf(why, size, "%s has '%c': only lowercase letters, digits and '-' are allowed",
                                 label, l[bad]);
                else
                        snprintf(why, size, "%s has a character other than lowercase letters, digits and '-'",
                                 label);
                break;
        case LABEL_LEADING_HYPHEN:
                snprintf(why, size, "%s starts with '-'", label);
                break;
        case LABEL_TRAILING_HYPHEN:
                snprintf(why, size, "%s ends with '-'", label);
                break;
        case LABEL_OK:
                break;
        }
}

const char *check_hostname_explain(const char *s, char *why, size_t size) {
        static const char *const expected = "a valid hostname";
        size_t total = strlen(s), nr = 0;

        if (total == 0) {
                if (why)
                        snprintf(why, size, "it is empty");
                return expected;
        }
        for (const char *l = s;;) {
                size_t n = strcspn(l, "."), bad = 0;
                LabelProblem p = label_problem(l, n, &bad);
                nr++;
                if (p != LABEL_OK) {
                        if (why)
                                explain_label(s, l, n, nr, p, bad, why, size);
                        return expected;
                }
                if (!l[n])
                        break;
                l += n + 1;
        }
        if (total > HOSTNAME_MAX) {
                if (why)
                        snprintf(why, size, "it is %zu characters long, more than %d", total, HOSTNAME_MAX);
                return expected;
        }
        return NULL;
}

const char *check_hostname(const char *s) {
        return check_hostname_explain(s, NULL, 0);
}

const char *hostname_first_label(const char *hostname, char buf[static DNS_LABEL_MAX + 1]) {
        size_t n = strcspn(hostname, ".");
        if (!hostname[n])
                return hostname;
        /* Cut at DNS_LABEL_MAX, for a hostname nobody checked (a valid one has no longer label). */
        snprintf(buf, DNS_LABEL_MAX + 1, "%.*s", (int) MIN(n, (size_t) DNS_LABEL_MAX), hostname);
        return buf;
}

const char *check_hostname_prefix(const char *s) {
        /* The prefix plus six hex digits must still be a DNS label. */
        size_t n = strlen(s);
        if (n == 0 || n > 57 || s[0] == '-')
                goto bad;
        for (size_t i = 0; i < n; i++)
                if (!is_lower_alnum(s[i]) && s[i] != '-')
                        goto bad;
        return NULL;
bad:
        return "the start of a DNS label (1-57 lowercase letters, digits or '-', not starting with '-')";
}

const char *check_ip_addr(const char *s) {
        IpAddr a;
        return ip_addr_parse(s, &a) < 0 ? "an IPv4 or IPv6 address" : NULL;
}

const char *check_ip_prefix(const char *s) {
        IpPrefix p;
        bool host_bits;
        if (ip_prefix_parse(s, &p, &host_bits) >= 0)
                return NULL;
        return host_bits ? "a network address in CIDR notation with the host bits zero (like 192.168.1.0/24)"
                         : "a network in CIDR notation (like 192.168.1.0/24)";
}

const char *check_mac_addr(const char *s) {
        char buf[18];
        return mac_addr_normalize(s, buf) < 0 ? "a MAC address (six hex pairs separated by ':')" : NULL;
}

const char *check_bootstrap_token(const char *s) {
        /* kubeadm's format: [a-z0-9]{6}.[a-z0-9]{16} */
        if (strlen(s) != 23 || s[6] != '.')
                goto bad;
        for (size_t i = 0; i < 23; i++)
                if (i != 6 && !is_lower_alnum(s[i]))
                        goto bad;
        return NULL;
bad:
        return "a bootstrap token of the form [a-z0-9]{6}.[a-z0-9]{16}";
}

static bool is_qualified_name(const char *s, size_t n) {
        /* Kubernetes' qualified name part: [A-Za-z0-9]([-A-Za-z0-9_.]*[A-Za-z0-9])?, at most 63. */
        if (n == 0 || n > 63 || !isalnum((unsigned char) s[0]) || !isalnum((unsigned char) s[n - 1]))
                return false;
        for (size_t i = 0; i < n; i++)
                if (!isalnum((unsigned char) s[i]) && !strchr("-_.", s[i]))
                        return false;
        return true;
}

const char *check_label_key(const char *s) {
        static const char *const expected =
                "a Kubernetes label key ([prefix/]name: name up to 63 letters, digits, '-', '_', '.')";
        const char *slash = strchr(s, '/');
        if (slash) {
                size_t plen = (size_t) (slash - s);
                char prefix[254];
                if (plen == 0 || plen >= sizeof(prefix))
                        return expected;
                memcpy(prefix, s, plen);
                prefix[plen] = 0;
                if (check_dns_name(prefix))
                        return expected;
                s = slash + 1;
        }
        return is_qualified_name(s, strlen(s)) ? NULL : expected;
}

/* The label's namespace (its prefix before '/') is NS, or ends in ".NS". */
static bool in_namespace(const char *prefix, size_t n, const char *ns) {
        size_t m = strlen(ns);
        return (n == m && strncmp(prefix, ns, n) == 0) ||
               (n > m && prefix[n - m - 1] == '.' && strncmp(prefix + n - m, ns, m) == 0);
}

const char *label_kubelet_refuses(const char *key) {
        /* k8s.io/kubelet/pkg/apis/well_known_labels.go (v1.29): what IsKubeletLabel() allows. */
        static const char *const allowed[] = {
                "kubernetes.io/hostname", "kubernetes.io/os", "kubernetes.io/arch",
                "beta.kubernetes.io/os", "beta.kubernetes.io/arch", "beta.kubernetes.io/instance-type",
                "node.kubernetes.io/instance-type", "topology.kubernetes.io/zone", "topology.kubernetes.io/region",
                "failure-domain.beta.kubernetes.io/zone", "failure-domain.beta.kubernetes.io/region", NULL,
        };
        const char *slash = strchr(key, '/');
        if (!slash)
                return NULL;
        size_t n = (size_t) (slash - key);
        if (in_namespace(key, n, "node-restriction.kubernetes.io"))
                return "the node-restriction.kubernetes.io namespace is for labels only an administrator sets";
        if (!in_namespace(key, n, "kubernetes.io") && !in_namespace(key, n, "k8s.io"))
                return NULL;
        for (size_t i = 0; allowed[i]; i++)
                if (streq(key, allowed[i]))
                        return NULL;
        if (in_namespace(key, n, "kubelet.kubernetes.io") || in_namespace(key, n, "node.kubernetes.io"))
                return NULL;
        return "the kubelet may set no other label under kubernetes.io or k8s.io on its own Node (the API "
               "server's NodeRestriction), and refuses to start with one";
}

const char *check_label_value(const char *s) {
        size_t n = strlen(s);
        return n == 0 || is_qualified_name(s, n) ? NULL
                                                 : "a Kubernetes label value (up to 63 letters, digits, '-', "
                                                   "'_', '.', starting and ending with a letter or digit)";
}

size_t taint_key_length(const char *taint) {
        const char *colon = strrchr(taint, ':'), *eq = strchr(taint, '=');
        const char *end = eq && (!colon || eq < colon) ? eq : colon;
        return end ? (size_t) (end - taint) : strlen(taint);
}

bool taint_has_key(const char *taint, const char *key) {
        size_t n = taint_key_length(taint);
        return strlen(key) == n && strncmp(taint, key, n) == 0;
}

const char *check_taint(const char *s) {
        static const char *const expected =
                "a taint KEY[=VALUE]:EFFECT with EFFECT NoSchedule, PreferNoSchedule or NoExecute";
        const char *colon = strrchr(s, ':');
        if (!colon)
                return expected;
        const char *effect = colon + 1;
        if (!streq(effect, "NoSchedule") && !streq(effect, "PreferNoSchedule") && !streq(effect, "NoExecute"))
                return expected;

        char kv[512];
        size_t n = (size_t) (colon - s);
        if (n == 0 || n >= sizeof(kv))
                return expected;
        memcpy(kv, s, n);
        kv[n] = 0;
        char *eq = strchr(kv, '=');
        if (eq) {
                *eq = 0;
                if (check_label_value(eq + 1))
                        return expected;
        }
        return check_label_key(kv) ? expected : NULL;
}

const char *check_version(const char *s) {
        /* MAJOR.MINOR.PATCH, digits only: the versions lock and download names are built from it. */
        int dots = 0;
        bool digit = false;
        for (const char *p = s; *p; p++) {
                if (*p == '.') {
                        if (!digit)
                                goto bad;
                        dots++;
                        digit = false;
                } else if (*p >= '0' && *p <= '9')
                        digit = true;
                else
                        goto bad;
        }
        if (dots == 2 && digit)
                return NULL;
bad:
        return "a version MAJOR.MINOR.PATCH (like 1.29.1)";
}

int parse_duration(const char *s, uint64_t *ret_seconds) {
        uint64_t total = 0;
        const char *p = s;
        if (!*p)
                return -EINVAL;
        while (*p) {
                uint64_t n = 0;
                const char *digits = p;
                for (; *p >= '0' && *p <= '9'; p++) {
                        if (n > DURATION_MAX_SECONDS)
                                return -ERANGE;
                        n = n * 10 + (uint64_t) (*p - '0');
                }
                uint64_t unit = *p == 'h' ? 3600 : *p == 'm' ? 60 : *p == 's' ? 1 : 0;
                if (p == digits || unit == 0)
                        return -EINVAL;
                p++;
                if (n > DURATION_MAX_SECONDS / unit || total + n * unit > DURATION_MAX_SECONDS)
                        return -ERANGE;
                total += n * unit;
        }
        *ret_seconds = total;
        return 0;
}

const char *check_certificate_validity(const char *s) {
        uint64_t seconds;
        if (parse_duration(s, &seconds) < 0 || seconds < CERT_VALIDITY_MIN || seconds > CERT_VALIDITY_MAX)
                return "a duration like 8760h (hours, minutes, seconds: h, m, s) from 10m to 87600h";
        return NULL;
}

const char *check_device_path(const char *s) {
        if (!startswith(s, "/dev/") || strlen(s) <= 5 || strstr(s, "/../") || endswith(s, "/.."))
                return "a block device path under /dev/";
        return NULL;
}

const char *check_interface_name(const char *s) {
        size_t n = strlen(s);
        if (n == 0 || n > 15 || streq(s, ".") || streq(s, ".."))
                goto bad;
        for (size_t i = 0; i < n; i++)
                if (!isgraph((unsigned char) s[i]) || s[i] == '/' || s[i] == ':')
                        goto bad;
        return NULL;
bad:
        return "a network interface name (1-15 characters, no '/', ':' or spaces)";
}

const char *check_mqtt_acl(const char *s) {
        static const char *const expected = "an ACL rule 'read|write|readwrite|deny TOPIC'";
        static const char *const access[] = { "read ", "write ", "readwrite ", "deny " };
        for (size_t i = 0; i < 4; i++)
                if (startswith(s, access[i])) {
                        const char *topic = s + strlen(access[i]);
                        if (!*topic || strchr(topic, ' ') || strchr(topic, '\n'))
                                return expected;
                        return NULL;
                }
        return expected;
}

const char *check_mqtt_user(const char *s) {
        /* The user name goes into mosquitto's password file as "name:hash". */
        size_t n = strlen(s);
        if (n == 0 || n > 64)
                goto bad;
        for (size_t i = 0; i < n; i++)
                if (!isalnum((unsigned char) s[i]) && !strchr("-_.@", s[i]))
                        goto bad;
        return NULL;
bad:
        return "a user name (1-64 letters, digits, '-', '_', '.', '@')";
}

const char *check_config_key(const char *s) {
        /* Keys of merged configuration (server.properties, ceph.conf, command-line flags) are written into
         * those files verbatim, so nothing that could end a line or a key may be in them. */
        size_t n = strlen(s);
        if (n == 0 || n > 128)
                goto bad;
        for (size_t i = 0; i < n; i++)
                if (!isalnum((unsigned char) s[i]) && !strchr("-_.", s[i]) && !(s[i] == ' ' && i > 0 && i < n - 1))
                        goto bad;
        return NULL;
bad:
        return "a configuration key (letters, digits, '-', '_', '.', inner spaces)";
}

const char *check_flag_name(const char *s) {
        size_t n = strlen(s);
        if (n == 0 || n > 128)
                goto bad;
        for (size_t i = 0; i < n; i++)
                if (!isalnum((unsigned char) s[i]) && !strchr("-_.", s[i]))
                        goto bad;
        return NULL;
bad:
        return "a command-line flag name (letters, digits, '-', '_', '.')";
}

const char *check_flag_value(const char *s) {
        /* Kubernetes components get their flags as one environment variable that systemd splits at
         * whitespace ($KUBE_APISERVER_ARGS): a value with a space would become two arguments. */
        for (const char *p = s; *p; p++)
                if ((unsigned char) *p <= ' ')
                        return "a command-line flag value without spaces or control characters";
        return NULL;
}

const char *check_config_value(const char *s) {
        for (const char *p = s; *p; p++)
                if ((unsigned char) *p < 0x20 && *p != '\t')
                        return "a single-line value (no newlines or control characters)";
        return NULL;
}
