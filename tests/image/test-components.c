/* SPDX-License-Identifier: Apache-2.0 */
/* The components lock and catalogue (src/image/components.c), in-process: parsing the lock as a shell reads
 * it, what it pins, the digest of a payload (the same as the sha256sum pipeline the lock's comment gives),
 * and which components an inventory's image carries. `clusterboot binaries` and image build run on them. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "components.h"
#include "fileio.h"
#include "fs-util.h"
#include "string-util.h"
#include "tap.h"
#include "test-inventory-util.h"

static const char *examples, *lock_path;

TEST(test_lock_parse) {
        Lock l = {};
        unsigned line = 0;
        const char *reason = NULL;
        ASSERT_INT_EQ(lock_parse("# comment\n\nKAFKA_VERSION=3.6.1\nKAFKA_SHA256=abc\n"
                                 "COREDNS_VERSION=v1.0.0  \nCOREDNS_VERSION=v1.11.1\nCOREDNS_SHA256_amd64=def\n",
                                 &l, &line, &reason),
                      0);
        /* A later NAME wins, as when a shell sources the file; trailing blanks are not part of the value. */
        ASSERT_STREQ(lock_version(&l, COMPONENT_COREDNS), "v1.11.1");
        ASSERT_STREQ(lock_digest(&l, COMPONENT_COREDNS, "amd64"), "def");
        ASSERT_NULL(lock_digest(&l, COMPONENT_COREDNS, "arm64"));
        /* Kafka's jars are the same everywhere: one digest for every architecture. */
        ASSERT_STREQ(lock_digest(&l, COMPONENT_KAFKA, "arm64"), "abc");
        ASSERT_NULL(lock_version(&l, COMPONENT_KUBERNETES));
        char *p = component_payload(&l, COMPONENT_KAFKA, "/c");
        ASSERT_STREQ(p, "/c/kafka-3.6.1/lib");
        free(p);
        ASSERT_NULL(component_payload(&l, COMPONENT_PAUSE, "/c")); /* no version pinned */
        lock_done(&l);

        /* What a shell would read otherwise is refused, with its line. */
        ASSERT_INT_EQ(lock_parse("A=1\nKAFKA_VERSION=\"3.6.1\"\n", &l, &line, &reason), -EINVAL);
        ASSERT_INT_EQ(line, 2);
        ASSERT_NOT_NULL(reason);
        ASSERT_INT_EQ(lock_parse("A=1\n\nexport B=2\n", &l, &line, &reason), -EINVAL);
        ASSERT_INT_EQ(line, 3);
        ASSERT_INT_EQ(lock_parse("A=$(rm -rf /)\n", &l, &line, &reason), -EINVAL);
        ASSERT_INT_EQ(lock_parse("1A=x\n", &l, &line, &reason), -EINVAL);
}

/* The lock of the source tree pins every component, with a version-named payload for pause. */
TEST(test_lock_of_the_tree) {
        char *text = NULL;
        ASSERT_INT_EQ(read_full_file(lock_path, 1 << 20, &text, NULL), 0);
        Lock l = {};
        ASSERT_INT_EQ(lock_parse(text, &l, NULL, NULL), 0);
        free(text);
        bool all = true;
        for (Component c = 0; c < _COMPONENT_MAX; c++) {
                const char *d = lock_digest(&l, c, "amd64");
                if (!lock_version(&l, c) || !d || strlen(d) != 64) {
                        printf("# %s: version %s, digest %s\n", component_info(c)->name, lock_version(&l, c), d);
                        all = false;
                }
        }
        ASSERT_TRUE(all);
        char *p = component_payload(&l, COMPONENT_PAUSE, "/c");
        ASSERT_STREQ(p, "/c/pause-3.9/pause-3.9.oci.tar");
        free(p);
        ASSERT_INT_EQ(component_from_string("kafka"), COMPONENT_KAFKA);
        ASSERT_INT_EQ(component_from_string("etcd"), _COMPONENT_INVALID);
        lock_done(&l);
}

static int put(const char *path, const char *content) {
        return write_file_atomic(path, content, strlen(content), 0644);
}

/* The digest is what `find PAYLOAD -type f | sort | xargs sha256sum | sha256sum` prints, as the lock says. */
TEST(test_digest) {
        char dir[] = "/tmp/test-components-XXXXXX";
        ASSERT_NOT_NULL(mkdtemp(dir));
        char path[256], cmd[512];
        snprintf(path, sizeof(path), "%s/bin/sub", dir);
        ASSERT_INT_EQ(mkdir_p(path, 0755), 0);
        snprintf(path, sizeof(path), "%s/bin/kubelet", dir);
        ASSERT_INT_EQ(put(path, "kubelet\n"), 0);
        snprintf(path, sizeof(path), "%s/bin/sub/b", dir);
        ASSERT_INT_EQ(put(path, "b\n"), 0);
        snprintf(path, sizeof(path), "%s/bin/a-b", dir); /* '-' sorts before '/': bytewise, as sort does */
        ASSERT_INT_EQ(put(path, ""), 0);

        snprintf(cmd, sizeof(cmd),
                 "cd %s && find bin -type f -print0 | LC_ALL=C sort -z | xargs -0 sha256sum | sha256sum", dir);
        FILE *f = popen(cmd, "r");
        char want[65] = "";
        ASSERT_TRUE(f && fscanf(f, "%64s", want) == 1);
        pclose(f);

        char got[65];
        snprintf(path, sizeof(path), "%s/bin", dir);
        ASSERT_INT_EQ(component_digest(path, got, NULL), 0);
        ASSERT_STREQ(got, want);

        /* One byte more changes it. */
        snprintf(path, sizeof(path), "%s/bin/sub/b", dir);
        ASSERT_INT_EQ(put(path, "b!\n"), 0);
        snprintf(path, sizeof(path), "%s/bin", dir);
        ASSERT_INT_EQ(component_digest(path, got, NULL), 0);
        ASSERT_TRUE(!streq(got, want));

        /* A symbolic link is neither file nor folder: named, not followed. */
        snprintf(path, sizeof(path), "%s/bin/link", dir);
        ASSERT_INT_EQ(symlink("/etc/passwd", path), 0);
        char *odd = NULL;
        snprintf(path, sizeof(path), "%s/bin", dir);
        ASSERT_INT_EQ(component_digest(path, got, &odd), -EMEDIUMTYPE);
        ASSERT_TRUE(odd && endswith(odd, "/bin/link"));
        free(odd);
        snprintf(path, sizeof(path), "%s/none", dir);
        ASSERT_INT_EQ(component_digest(path, got, NULL), -ENOENT);
        ASSERT_INT_EQ(rm_rf(dir), 0);
}

/* An image carries the components its roles run, each once; and the inventory's versions are the lock's. */
TEST(test_image_components) {
        Inventory *inv = test_load_example(examples, "homelab");
        ASSERT_NOT_NULL(inv);
        bool used[_COMPONENT_MAX];
        image_components(inv, used);
        ASSERT_TRUE(used[COMPONENT_KUBERNETES] && used[COMPONENT_PAUSE] && used[COMPONENT_FLANNEL] &&
                    used[COMPONENT_COREDNS] && used[COMPONENT_KAFKA]);

        Lock l = {};
        ASSERT_INT_EQ(lock_parse("KUBERNETES_VERSION=v1.29.1\nKAFKA_VERSION=3.6.1\n", &l, NULL, NULL), 0);
        char *m = image_components_mismatch(inv, &l, used);
        ASSERT_NULL(m);
        lock_done(&l);
        ASSERT_INT_EQ(lock_parse("KUBERNETES_VERSION=v1.29.1\nKAFKA_VERSION=3.7.0\n", &l, NULL, NULL), 0);
        m = image_components_mismatch(inv, &l, used);
        printf("# %s\n", strempty(m));
        ASSERT_TRUE(m && strstr(m, "services/kafka.yaml asks for kafka 3.6.1") && strstr(m, "pins 3.7.0"));
        free(m);
        /* An image built without Kafka does not care which Kafka the lock pins. */
        used[COMPONENT_KAFKA] = false;
        ASSERT_NULL(image_components_mismatch(inv, &l, used));
        used[COMPONENT_KAFKA] = true;
        lock_done(&l);
        inventory_free(inv);

        /* Masters only, no DNS or Kafka service: Kubernetes and its pause image, no CoreDNS or Kafka; and an
         * auto-registered machine's role counts. */
        static const char *const small[] = { "cluster.yaml",
                                             "cluster:\n"
                                             "  name: t\n"
                                             "  services: [mqtt]\n"
                                             "  networking:\n"
                                             "    node_cidr: 10.0.0.0/24\n"
                                             "    pod_cidr: 10.244.0.0/16\n"
                                             "    service_cidr: 10.96.0.0/12\n"
                                             "  auto_register: { enabled: true, role: mqtt-broker }\n"
                                             "nodes:\n"
                                             "  - { name: m, ip: 10.0.0.10, roles: [mqtt-broker] }\n",
                                             NULL };
        inv = test_load_mem(small);
        ASSERT_NOT_NULL(inv);
        image_components(inv, used);
        bool none = true;
        for (Component c = 0; c < _COMPONENT_MAX; c++)
                none = none && !used[c];
        ASSERT_TRUE(none); /* Mosquitto is Debian's */
        inventory_free(inv);

        static const char *const kube[] = { "cluster.yaml",
                                            "cluster:\n"
                                            "  name: t\n"
                                            "  services: [kubernetes, dns]\n"
                                            "  networking:\n"
                                            "    node_cidr: 10.0.0.0/24\n"
                                            "    pod_cidr: 10.244.0.0/16\n"
                                            "    service_cidr: 10.96.0.0/12\n"
                                            "  auto_register: { enabled: true, role: dns-server }\n"
                                            "nodes:\n"
                                            "  - { name: m, ip: 10.0.0.10, roles: [master] }\n",
                                            NULL };
        inv = test_load_mem(kube);
        ASSERT_NOT_NULL(inv);
        image_components(inv, used);
        ASSERT_TRUE(used[COMPONENT_KUBERNETES] && used[COMPONENT_PAUSE] && used[COMPONENT_COREDNS] &&
                    !used[COMPONENT_KAFKA]);
        inventory_free(inv);
}

int main(int argc, char **argv) {
        if (argc < 3) {
                fprintf(stderr, "usage: %s EXAMPLES_DIR COMPONENTS_LOCK\n", argv[0]);
                return 2;
        }
        examples = argv[1];
        lock_path = argv[2];
        printf("1..4\n");
        RUN(test_lock_parse);
        RUN(test_lock_of_the_tree);
        RUN(test_digest);
        RUN(test_image_components);
        return tap_failed ? 1 : 0;
}
