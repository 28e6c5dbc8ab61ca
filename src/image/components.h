/* SPDX-License-Identifier: Apache-2.0 */
#pragma once

#include <stdbool.h>
#include <stddef.h>

#include "model.h"

/* The components an image carries that Debian does not ship (Kubernetes, flannel, the pause image, CoreDNS,
 * Kafka), and the lock that pins each to one version and one digest (image/components.lock, built into the
 * binary). `clusterboot binaries` fetches and verifies them into a components folder; `image build` copies
 * the ones the inventory needs into the root tree, refusing any whose digest is not the lock's.
 *
 * A components folder holds NAME-VERSION/ per component, as the recipes of image/components/ make it; the
 * payload in it (bin/, lib/ or one file) is what the digest covers and what goes into the image. */

typedef enum Component {
        COMPONENT_KUBERNETES,
        COMPONENT_FLANNEL,
        COMPONENT_PAUSE,
        COMPONENT_COREDNS,
        COMPONENT_KAFKA,
        _COMPONENT_MAX,
        _COMPONENT_INVALID = -1,
} Component;

typedef struct ComponentInfo {
        const char *name;    /* "kubernetes": the recipe NAME.sh, the folder NAME-VERSION/ */
        const char *key;     /* "KUBERNETES": the lock's KEY_VERSION and KEY_SHA256_ARCH */
        const char *payload; /* in NAME-VERSION/: "bin", "lib", or a file ("%s" is the version) */
        bool any_arch;       /* the same bytes on every architecture: one KEY_SHA256 */
        const char *dest;    /* where the image puts the payload's files (a folder of the root tree) */
        const char *source;  /* where it comes from, for people */
        const char *summary;
} ComponentInfo;

const ComponentInfo *component_info(Component c);
/* "kafka" -> COMPONENT_KAFKA; _COMPONENT_INVALID for a name that is none. */
Component component_from_string(const char *s);

/* The lock: NAME=VALUE lines, '#' comments and blank lines, nothing else (a shell sources it). */
typedef struct Lock {
        char **keys, **values;
        size_t n;
} Lock;
/* -EINVAL: line *ret_line is not NAME=VALUE (*ret_reason says why). A later NAME wins, as in a shell. */
int lock_parse(const char *text, Lock *ret, unsigned *ret_line, const char **ret_reason);
void lock_done(Lock *l);
const char *lock_get(const Lock *l, const char *key);
/* What the lock pins for c: its version, and its digest on arch ("amd64"); NULL when it pins none. */
const char *lock_version(const Lock *l, Component c);
const char *lock_digest(const Lock *l, Component c, const char *arch);

/* DIR/NAME-VERSION and DIR/NAME-VERSION/PAYLOAD of c at the locked version; NULL when out of memory or the
 * lock has no version (errno EINVAL). */
char *component_dir(const Lock *l, Component c, const char *dir);
char *component_payload(const Lock *l, Component c, const char *dir);

/* The digest of a payload: the sha256 of its listing, one "SHA256  PATH\n" line per regular file under it
 * (PATH relative to the payload's folder, so it starts with the payload's name), sorted by PATH. -ENOENT:
 * no payload; -EMEDIUMTYPE: it holds something that is neither a file nor a folder (*ret_odd is its path,
 * to free). */
int component_digest(const char *payload, char ret[static 65], char **ret_odd);

/* The components the inventory's machines run (the image carries each once, for every machine):
 * Kubernetes, flannel and the pause image where a node runs a kubelet; CoreDNS on a dns-server; Kafka on a
 * kafka-broker; auto_register's role counts as a node's. */
void image_components(const Inventory *inv, bool ret[static _COMPONENT_MAX]);
/* An inventory that asks for a Kubernetes or Kafka version other than the lock's, for a component the
 * image carries (with[]): a message saying which (allocated), else NULL (errno 0; ENOMEM when out of
 * memory). */
char *image_components_mismatch(const Inventory *inv, const Lock *l, const bool with[static _COMPONENT_MAX]);
