/* SPDX-License-Identifier: Apache-2.0 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "bundle.h"
#include "fileio.h"
#include "inventory.h"
#include "secret-formats.h"
#include "tap.h"
#include "writer.h"
#include "x509.h"

static const char *examples;
static Inventory *inv;
static char dir[64];

/* bundle_init() and write what it made; returns the number of items made, or a negative errno. */
static int init(const bool rotate[_BUNDLE_ITEM_MAX], Bundle *ret, size_t *ret_files) {
        RenderSet set = {};
        unsigned created;
        const char *missing = NULL;
        int r = bundle_init(inv, dir, rotate, ret, &set, &created, &missing);
        if (r >= 0)
                r = render_set_write(&set, NULL, false, NULL, NULL, NULL);
        if (ret_files)
                *ret_files = set.n;
        render_set_done(&set);
        return r < 0 ? r : (int) created;
}

static mode_t mode_of(const char *rel) {
        char path[256];
        struct stat st;
        snprintf(path, sizeof(path), "%s/%s", dir, rel);
        return stat(path, &st) < 0 ? 0 : st.st_mode & 07777;
}

static char *slurp(const char *rel) {
        char path[256], *data = NULL;
        snprintf(path, sizeof(path), "%s/%s", dir, rel);
        return read_full_file(path, 1 << 20, &data, NULL) < 0 ? NULL : data;
}

TEST(test_init_makes_everything_with_modes) {
        Bundle b = {};
        size_t files;
        ASSERT_INT_EQ(init(NULL, &b, &files), _BUNDLE_ITEM_MAX);
        ASSERT_INT_EQ(files, 20);
        ASSERT_INT_EQ(mode_of("kubernetes/ca.key"), 0600);
        ASSERT_INT_EQ(mode_of("kubernetes/ca.crt"), 0644);
        ASSERT_INT_EQ(mode_of("etcd/ca.key"), 0600);
        ASSERT_INT_EQ(mode_of("join-secret"), 0600);
        ASSERT_INT_EQ(mode_of("ceph/ceph.client.admin.keyring"), 0600);
        ASSERT_INT_EQ(mode_of("mqtt/passwd"), 0600);
        ASSERT_INT_EQ(strlen(b.join_secret), 64);
        ASSERT_INT_EQ(strlen(b.bootstrap_token), 23);
        ASSERT_INT_EQ(strlen(b.kafka_cluster_id), 22);
        /* examples/homelab has two MQTT users; each gets a password in credentials and a line in passwd. */
        ASSERT_INT_EQ(b.n_mqtt, 2);
        char first[256];
        snprintf(first, sizeof(first), "%.*s", (int) strcspn(b.mqtt_passwd, "\n"), b.mqtt_passwd);
        ASSERT_TRUE(strncmp(first, "admin:$7$101$", 13) == 0);
        ASSERT_INT_EQ(mosquitto_password_verify(first, b.mqtt[0].password), 1);
        ASSERT_INT_EQ(mosquitto_password_verify(first, "not the password"), 0);
        /* The front-proxy client is signed by the front-proxy CA, not the cluster's. */
        ASSERT_INT_EQ(pki_cert_verify(b.front_proxy_client, b.front_proxy_ca, time(NULL)), 0);
        ASSERT_TRUE(pki_cert_verify(b.front_proxy_client, b.ca, time(NULL)) < 0);
        bundle_done(&b);
}

TEST(test_second_init_keeps_everything) {
        Bundle b = {};
        size_t files;
        char *before = slurp("kubernetes/ca.crt");
        char *passwd = slurp("mqtt/passwd");
        ASSERT_INT_EQ(init(NULL, &b, &files), 0);
        ASSERT_INT_EQ(files, 0);
        char *after = slurp("kubernetes/ca.crt");
        char *passwd_after = slurp("mqtt/passwd");
        ASSERT_STREQ(after, before);
        ASSERT_STREQ(passwd_after, passwd); /* not rehashed with new salts */
        free(before);
        free(after);
        free(passwd);
        free(passwd_after);
        bundle_done(&b);
}

TEST(test_rotate_front_proxy_ca_reissues_client) {
        bool rotate[_BUNDLE_ITEM_MAX] = { [BUNDLE_FRONT_PROXY_CA] = true };
        Bundle b = {};
        char *ca = slurp("kubernetes/ca.crt");
        char *client = slurp("kubernetes/front-proxy-client.crt");
        ASSERT_INT_EQ(init(rotate, &b, NULL), 2);
        char *ca_after = slurp("kubernetes/ca.crt");
        char *client_after = slurp("kubernetes/front-proxy-client.crt");
        ASSERT_STREQ(ca_after, ca); /* untouched */
        ASSERT_TRUE(strcmp(client_after, client) != 0);
        ASSERT_INT_EQ(pki_cert_verify(b.front_proxy_client, b.front_proxy_ca, time(NULL)), 0);
        free(ca);
        free(client);
        free(ca_after);
        free(client_after);
        bundle_done(&b);
}

TEST(test_half_an_item_is_refused) {
        char path[256];
        snprintf(path, sizeof(path), "%s/etcd/ca.key", dir);
        ASSERT_INT_EQ(unlink(path), 0);
        Bundle b = {};
        RenderSet set = {};
        unsigned created;
        const char *missing = NULL;
        /* Making a new etcd CA would orphan every certificate signed by the old one: say so instead. */
        ASSERT_INT_EQ(bundle_init(inv, dir, NULL, &b, &set, &created, &missing), -ENOENT);
        ASSERT_STREQ(missing, "etcd/ca.key");
        ASSERT_INT_EQ(set.n, 0);
        render_set_done(&set);

        bool rotate[_BUNDLE_ITEM_MAX] = { [BUNDLE_ETCD_CA] = true };
        ASSERT_INT_EQ(init(rotate, &b, NULL), 1);
        bundle_done(&b);
}

TEST(test_load) {
        Bundle b = {};
        const char *missing = NULL;
        ASSERT_INT_EQ(bundle_load(dir, &b, &missing), 0);
        ASSERT_NOT_NULL(b.ca_key);
        ASSERT_NOT_NULL(b.ceph_keys[CEPH_BOOTSTRAP_OSD]);
        ASSERT_TRUE(pki_key_matches(b.ca, b.ca_key));
        char *keyring = NULL;
        ASSERT_INT_EQ(bundle_ceph_keyring(&b, CEPH_MON, &keyring), 0);
        /* ceph-mon --mkfs wants the admin key in the mon keyring. */
        ASSERT_TRUE(strstr(keyring, "[mon.]") && strstr(keyring, "[client.admin]"));
        secret_free(keyring);
        bundle_done(&b);

        ASSERT_TRUE(bundle_load("/nonexistent", &b, &missing) < 0);
        ASSERT_STREQ(missing, "kubernetes/ca.crt");
}

/* One rule for every join secret file: the bundle's, the image's. */
static int read_secret_of(const char *content, char **ret) {
        char path[600];
        snprintf(path, sizeof(path), "%s/join-secret-test", dir);
        if (write_file_atomic(path, content, strlen(content), 0600) < 0)
                abort();
        return join_secret_read(path, ret);
}

TEST(test_join_secret_read) {
        char *s = NULL;
        ASSERT_INT_EQ(read_secret_of("0123456789abcdef\n", &s), 0);
        ASSERT_STREQ(s, "0123456789abcdef");
        secret_free(s);
        ASSERT_INT_EQ(read_secret_of("0123456789abcdef\r\n", &s), 0);
        ASSERT_STREQ(s, "0123456789abcdef");
        secret_free(s);
        ASSERT_INT_EQ(read_secret_of("0123456789abcdef", &s), 0);
        ASSERT_STREQ(s, "0123456789abcdef");
        secret_free(s);
        ASSERT_INT_EQ(read_secret_of("\n", &s), -EBADMSG);
        ASSERT_INT_EQ(read_secret_of("", &s), -EBADMSG);
        ASSERT_INT_EQ(read_secret_of("one\ntwo\n", &s), -EBADMSG);
        ASSERT_INT_EQ(join_secret_read("/nonexistent/join-secret", &s), -ENOENT);
}

int main(int argc, char **argv) {
        examples = argc > 1 ? argv[1] : "examples";
        char path[512];
        Report report;
        report_init(&report, NULL);
        snprintf(path, sizeof(path), "%s/homelab", examples);
        if (inventory_load_and_validate(path, &report, &inv) < 0)
                return 1;
        snprintf(dir, sizeof(dir), "/tmp/test-bundle-XXXXXX");
        if (!mkdtemp(dir))
                return 1;

        RUN(test_init_makes_everything_with_modes);
        RUN(test_second_init_keeps_everything);
        RUN(test_rotate_front_proxy_ca_reissues_client);
        RUN(test_half_an_item_is_refused);
        RUN(test_load);
        RUN(test_join_secret_read);

        char cmd[128];
        snprintf(cmd, sizeof(cmd), "rm -rf %s", dir);
        if (system(cmd) != 0)
                return 1;
        inventory_free(inv);
        report_done(&report);
        return tap_done();
}
