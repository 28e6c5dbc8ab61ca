/* SPDX-License-Identifier: Apache-2.0 */
/* The etcd client without an etcd: ETCD_INITIAL_CLUSTER from member lists, and the parsing of answers
 * etcd 3.4.23's gateway gave (recorded with curl). The real thing is test-etcd-membership.sh. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "etcd-client.h"
#include "macro.h"
#include "tap.h"

#define STR(s) (s), strlen(s)

/* A hand-built list: what member list says once master-01 and master-02 run and master-03 was added. */
static char *u01[] = { (char *) "https://10.20.0.11:2380" }, *u02[] = { (char *) "https://10.20.0.12:2380" },
            *u03[] = { (char *) "https://10.20.0.13:2380" }, *c01[] = { (char *) "https://10.20.0.11:2379" },
            *u03old[] = { (char *) "https://10.20.0.23:2380" };

static EtcdMemberList three(EtcdMember *m) {
        m[0] = (EtcdMember) { .id = 2, .name = (char *) "master-02", .peer_urls = u02, .n_peer_urls = 1 };
        m[1] = (EtcdMember) { .id = 3, .name = (char *) "", .peer_urls = u03, .n_peer_urls = 1, .is_learner = true };
        m[2] = (EtcdMember) { .id = 1, .name = (char *) "master-01", .peer_urls = u01, .n_peer_urls = 1,
                              .client_urls = c01, .n_client_urls = 1 };
        return (EtcdMemberList) { .cluster_id = 42, .members = m, .n = 3 };
}

TEST(test_initial_cluster_after_add) {
        EtcdMember m[3];
        EtcdMemberList l = three(m);
        char *s = etcd_initial_cluster(&l, "master-03", "https://10.20.0.13:2380");
        /* Sorted by name: the order of the rendered etcd.env, whatever order etcd lists them in. */
        ASSERT_STREQ(s, "master-01=https://10.20.0.11:2380,master-02=https://10.20.0.12:2380,"
                        "master-03=https://10.20.0.13:2380");
        free(s);
}

TEST(test_initial_cluster_self_missing) {
        /* A list from before the add: self is appended. */
        EtcdMember m[3];
        EtcdMemberList l = three(m);
        l.n = 1;
        l.members = m + 2;
        char *s = etcd_initial_cluster(&l, "master-02", "https://10.20.0.12:2380");
        ASSERT_STREQ(s, "master-01=https://10.20.0.11:2380,master-02=https://10.20.0.12:2380");
        free(s);
}

TEST(test_initial_cluster_self_started) {
        /* Called again after our etcd started (it has its name now): the same answer. */
        EtcdMember m[3];
        EtcdMemberList l = three(m);
        m[1].name = (char *) "master-03";
        char *s = etcd_initial_cluster(&l, "master-03", "https://10.20.0.13:2380");
        ASSERT_STREQ(s, "master-01=https://10.20.0.11:2380,master-02=https://10.20.0.12:2380,"
                        "master-03=https://10.20.0.13:2380");
        free(s);
}

TEST(test_initial_cluster_two_peer_urls) {
        char *two[] = { (char *) "https://10.20.0.11:2380", (char *) "https://[fd00::11]:2380" };
        EtcdMember m[3];
        EtcdMemberList l = three(m);
        m[2].peer_urls = two;
        m[2].n_peer_urls = 2;
        char *s = etcd_initial_cluster(&l, "master-03", "https://10.20.0.13:2380");
        ASSERT_STREQ(s, "master-01=https://10.20.0.11:2380,master-01=https://[fd00::11]:2380,"
                        "master-02=https://10.20.0.12:2380,master-03=https://10.20.0.13:2380");
        free(s);
}

TEST(test_initial_cluster_refused) {
        EtcdMember m[3];
        EtcdMemberList l = three(m);

        /* Another member without a name: etcd wants it listed, under a name nobody knows yet. */
        errno = 0;
        ASSERT_NULL(etcd_initial_cluster(&l, "master-02b", "https://10.20.0.14:2380"));
        ASSERT_INT_EQ(errno, EAGAIN);

        /* A stale member of our name with another peer URL: remove it first. */
        m[1].name = (char *) "master-03";
        m[1].peer_urls = u03old;
        m[1].is_learner = false;
        errno = 0;
        ASSERT_NULL(etcd_initial_cluster(&l, "master-03", "https://10.20.0.13:2380"));
        ASSERT_INT_EQ(errno, EEXIST);

        /* What cannot be written into "name=url,...". */
        m[1].name = (char *) "master-03";
        m[1].peer_urls = u03;
        errno = 0;
        ASSERT_NULL(etcd_initial_cluster(&l, "bad,name", "https://10.20.0.14:2380"));
        ASSERT_INT_EQ(errno, EINVAL);
        errno = 0;
        ASSERT_NULL(etcd_initial_cluster(&l, "", "https://10.20.0.14:2380"));
        ASSERT_INT_EQ(errno, EINVAL);
        m[0].name = (char *) "master=02";
        errno = 0;
        ASSERT_NULL(etcd_initial_cluster(&l, "master-04", "https://10.20.0.14:2380"));
        ASSERT_INT_EQ(errno, EINVAL);
}

/* Recorded from etcd 3.4.23: POST /v3/cluster/member/list {} on a one-member cluster. */
static const char list_one[] =
        "{\"header\":{\"cluster_id\":\"2037210783374497686\",\"member_id\":\"13195394291058371180\","
        "\"raft_term\":\"2\"},\"members\":[{\"ID\":\"13195394291058371180\",\"name\":\"p1\","
        "\"peerURLs\":[\"http://127.0.0.1:2380\"],\"clientURLs\":[\"http://127.0.0.1:2379\"]}]}";

/* ... and POST /v3/cluster/member/add {"peerURLs":["http://127.0.0.1:2390"],"isLearner":true}. */
static const char add_learner[] =
        "{\"header\":{\"cluster_id\":\"2037210783374497686\",\"member_id\":\"13195394291058371180\","
        "\"raft_term\":\"2\"},\"member\":{\"ID\":\"1974168223691946220\",\"peerURLs\":[\"http://127.0.0.1:2390\"],"
        "\"isLearner\":true},\"members\":[{\"ID\":\"1974168223691946220\",\"peerURLs\":[\"http://127.0.0.1:2390\"],"
        "\"isLearner\":true},{\"ID\":\"13195394291058371180\",\"name\":\"p1\",\"peerURLs\":"
        "[\"http://127.0.0.1:2380\"],\"clientURLs\":[\"http://127.0.0.1:2379\"]}]}";

TEST(test_parse_list) {
        EtcdMemberList l = {};
        ASSERT_INT_EQ(etcd_parse_member_list(STR(list_one), NULL, &l), 0);
        ASSERT_TRUE(l.cluster_id == UINT64_C(2037210783374497686));
        ASSERT_INT_EQ(l.n, 1);
        ASSERT_TRUE(l.members[0].id == UINT64_C(13195394291058371180));
        ASSERT_STREQ(l.members[0].name, "p1");
        ASSERT_INT_EQ(l.members[0].n_peer_urls, 1);
        ASSERT_STREQ(l.members[0].peer_urls[0], "http://127.0.0.1:2380");
        ASSERT_INT_EQ(l.members[0].n_client_urls, 1);
        ASSERT_STREQ(l.members[0].client_urls[0], "http://127.0.0.1:2379");
        ASSERT_TRUE(!l.members[0].is_learner);
        etcd_member_list_done(&l);
        etcd_member_list_done(&l); /* done twice is harmless */
}

TEST(test_parse_add) {
        EtcdMemberList l = {};
        uint64_t id = 0;
        ASSERT_INT_EQ(etcd_parse_member_list(STR(add_learner), &id, &l), 0);
        ASSERT_TRUE(id == UINT64_C(1974168223691946220));
        ASSERT_INT_EQ(l.n, 2);
        /* The new member: no name (not started), no client URLs, a learner. */
        ASSERT_TRUE(l.members[0].id == id);
        ASSERT_STREQ(l.members[0].name, "");
        ASSERT_INT_EQ(l.members[0].n_client_urls, 0);
        ASSERT_TRUE(l.members[0].is_learner);
        char *s = etcd_initial_cluster(&l, "p2", "http://127.0.0.1:2390");
        ASSERT_STREQ(s, "p1=http://127.0.0.1:2380,p2=http://127.0.0.1:2390");
        free(s);
        etcd_member_list_done(&l);

        /* A list answer has no "member": not an add answer. */
        ASSERT_INT_EQ(etcd_parse_member_list(STR(list_one), &id, &l), -EBADMSG);
}

TEST(test_parse_bad) {
        static const char *const bad[] = {
                "",
                "not json",
                "[]",
                "{}",
                "{\"header\":{}}",
                /* uint64 is a decimal string in protobuf's JSON; a number, a sign, hex, or 2^64 is not one */
                "{\"header\":{\"cluster_id\":2037210783374497686}}",
                "{\"header\":{\"cluster_id\":\"-1\"}}",
                "{\"header\":{\"cluster_id\":\"0x1c45\"}}",
                "{\"header\":{\"cluster_id\":\"18446744073709551616\"}}",
                "{\"header\":{\"cluster_id\":\"\"}}",
                "{\"header\":{\"cluster_id\":\"1\"},\"members\":{}}",
                "{\"header\":{\"cluster_id\":\"1\"},\"members\":[{}]}",
                "{\"header\":{\"cluster_id\":\"1\"},\"members\":[{\"ID\":\"1\",\"name\":7}]}",
                "{\"header\":{\"cluster_id\":\"1\"},\"members\":[{\"ID\":\"1\",\"peerURLs\":\"x\"}]}",
                "{\"header\":{\"cluster_id\":\"1\"},\"members\":[{\"ID\":\"1\",\"peerURLs\":[1]}]}",
                "{\"header\":{\"cluster_id\":\"1\"},\"members\":[{\"ID\":\"1\",\"isLearner\":\"true\"}]}",
                "{\"header\":{\"cluster_id\":\"1\",\"cluster_id\":\"2\"}}",
                "{\"header\":{\"cluster_id\":\"1\"},\"members\":[{\"ID\":\"1\",\"name\":\"a\\u0000b\"}]}",
        };
        for (size_t i = 0; i < ELEMENTSOF(bad); i++) {
                EtcdMemberList l = { .cluster_id = 99 };
                int r = etcd_parse_member_list(STR(bad[i]), NULL, &l);
                if (r != -EBADMSG)
                        TAP_FAIL("%s: %d, expected -EBADMSG", bad[i], r);
                ASSERT_TRUE(l.cluster_id == 99 && !l.members); /* untouched */
        }
        EtcdMemberList l;
        ASSERT_INT_EQ(etcd_parse_member_list(NULL, 0, NULL, &l), -EBADMSG);

        /* The largest uint64, and fields a later etcd may add, are fine. */
        static const char max[] = "{\"header\":{\"cluster_id\":\"18446744073709551615\",\"x\":1},"
                                  "\"members\":[{\"ID\":\"1\",\"new_field\":[]}]}";
        ASSERT_INT_EQ(etcd_parse_member_list(STR(max), NULL, &l), 0);
        ASSERT_TRUE(l.cluster_id == UINT64_MAX);
        ASSERT_STREQ(l.members[0].name, "");
        etcd_member_list_done(&l);
}

/* What etcd 3.4 answers, and what that means. */
TEST(test_parse_error) {
        static const struct {
                long status;
                const char *body;
                int error;
                bool skip;
        } cases[] = {
                { 412, "{\"error\":\"etcdserver: can only promote a learner member which is in sync with leader\","
                       "\"message\":\"etcdserver: can only promote a learner member which is in sync with leader\","
                       "\"code\":9}", -EAGAIN, false },
                { 412, "{\"error\":\"etcdserver: can only promote a learner member\",\"message\":\"etcdserver: can "
                       "only promote a learner member\",\"code\":9}", -EALREADY, false },
                { 503, "{\"error\":\"etcdserver: unhealthy cluster\",\"message\":\"etcdserver: unhealthy cluster\","
                       "\"code\":14}", -EAGAIN, true },
                { 404, "{\"error\":\"etcdserver: member not found\",\"message\":\"etcdserver: member not found\","
                       "\"code\":5}", -ENOENT, false },
                { 412, "{\"error\":\"etcdserver: Peer URLs already exists\",\"message\":\"etcdserver: Peer URLs "
                       "already exists\",\"code\":9}", -EEXIST, false },
                { 412, "{\"error\":\"etcdserver: member ID already exist\",\"message\":\"etcdserver: member ID "
                       "already exist\",\"code\":9}", -EEXIST, false },
                { 412, "{\"error\":\"etcdserver: too many learner members in cluster\",\"message\":\"etcdserver: too "
                       "many learner members in cluster\",\"code\":9}", -EAGAIN, false },
                { 500, "{\"error\":\"etcdserver: re-configuration failed due to not enough started members\","
                       "\"message\":\"etcdserver: re-configuration failed due to not enough started members\","
                       "\"code\":2}", -EAGAIN, false },
                /* Another endpoint may serve these. */
                { 503, "{\"error\":\"etcdserver: rpc not supported for learner\",\"message\":\"etcdserver: rpc not "
                       "supported for learner\",\"code\":14}", -EAGAIN, true },
                { 503, "{\"error\":\"etcdserver: no leader\",\"message\":\"etcdserver: no leader\",\"code\":14}",
                  -EAGAIN, true },
                { 400, "{\"error\":\"invalid character 'o' in literal null (expecting 'u')\",\"message\":\"invalid "
                       "character 'o' in literal null (expecting 'u')\",\"code\":3}", -EINVAL, false },
                { 403, "{\"error\":\"etcdserver: permission denied\",\"message\":\"etcdserver: permission denied\","
                       "\"code\":7}", -EACCES, false },
                { 500, "{\"error\":\"etcdserver: corrupt cluster\",\"message\":\"etcdserver: corrupt cluster\","
                       "\"code\":15}", -EIO, false },
                /* Not etcd's error body. */
                { 404, "Not Found\n", -EIO, false },
                { 502, "<html>Bad Gateway</html>", -EAGAIN, true },
                { 500, "", -EIO, false },
        };
        for (size_t i = 0; i < ELEMENTSOF(cases); i++) {
                bool skip = !cases[i].skip;
                int r = etcd_parse_error(cases[i].status, STR(cases[i].body), &skip);
                if (r != cases[i].error || skip != cases[i].skip)
                        TAP_FAIL("%ld %s: %d skip=%d, expected %d skip=%d", cases[i].status, cases[i].body, r, skip,
                                 cases[i].error, cases[i].skip);
        }
        ASSERT_INT_EQ(etcd_parse_error(500, NULL, 0, NULL), -EIO);
}

/* POST /v3/kv/range and /v3/kv/txn, as etcd 3.4.23 answered them (tests/cluster/answers). */
static const char range_one[] =
        "{\"header\":{\"cluster_id\":\"14841639068965178418\",\"member_id\":\"10276657743932975437\",\"revision\":\"4\","
        "\"raft_term\":\"2\"},\"kvs\":[{\"key\":\"L2NsdXN0ZXJib290L2ludmVudG9yeQ==\",\"create_revision\":\"2\","
        "\"mod_revision\":\"4\",\"version\":\"3\",\"value\":\"aGVsbG8AeA==\"}],\"count\":\"1\"}";
/* No such key: no "kvs". An empty value: no "value". A transaction whose compare failed: no "succeeded". */
static const char range_none[] =
        "{\"header\":{\"cluster_id\":\"14841639068965178418\",\"member_id\":\"10276657743932975437\",\"revision\":\"4\","
        "\"raft_term\":\"2\"}}";
static const char range_empty[] =
        "{\"header\":{\"cluster_id\":\"14841639068965178418\",\"member_id\":\"10276657743932975437\",\"revision\":\"3\","
        "\"raft_term\":\"2\"},\"kvs\":[{\"key\":\"L2NsdXN0ZXJib290L2ludmVudG9yeQ==\",\"create_revision\":\"2\","
        "\"mod_revision\":\"3\",\"version\":\"2\"}],\"count\":\"1\"}";
static const char txn_ok[] =
        "{\"header\":{\"cluster_id\":\"14841639068965178418\",\"member_id\":\"10276657743932975437\",\"revision\":\"4\","
        "\"raft_term\":\"2\"},\"succeeded\":true,\"responses\":[{\"response_put\":{\"header\":{\"revision\":\"4\"}}}]}";

TEST(test_parse_kv) {
        EtcdValue v = {};
        ASSERT_INT_EQ(etcd_parse_range(STR(range_one), &v), 0);
        ASSERT_INT_EQ(v.size, 7);
        ASSERT_TRUE(memcmp(v.value, "hello\0x", 8) == 0); /* a NUL inside, and one after */
        ASSERT_INT_EQ(v.mod_revision, 4);
        ASSERT_INT_EQ(v.version, 3);
        etcd_value_done(&v);
        ASSERT_INT_EQ(etcd_parse_range(STR(range_none), &v), -ENOENT);
        ASSERT_INT_EQ(etcd_parse_range(STR(range_empty), &v), 0);
        ASSERT_STREQ(v.value, "");
        ASSERT_INT_EQ(v.size, 0);
        ASSERT_INT_EQ(v.mod_revision, 3);
        etcd_value_done(&v);
        ASSERT_INT_EQ(etcd_parse_txn(STR(txn_ok), NULL, 0), 1);
        ASSERT_INT_EQ(etcd_parse_txn(STR(range_none), NULL, 0), 0);

        static const char *const bad[] = {
                "{}",
                "{\"header\":{},\"kvs\":{}}",
                "{\"header\":{},\"kvs\":[{\"value\":\"aGk=\",\"version\":\"1\"}]}", /* no mod_revision */
                "{\"header\":{},\"kvs\":[{\"value\":\"a\",\"mod_revision\":\"1\",\"version\":\"1\"}]}",
                "{\"header\":{},\"kvs\":[{\"value\":\"aGk=\",\"mod_revision\":\"-1\",\"version\":\"1\"}]}",
                "{\"header\":{},\"kvs\":[{\"value\":7,\"mod_revision\":\"1\",\"version\":\"1\"}]}",
        };
        for (size_t i = 0; i < ELEMENTSOF(bad); i++)
                if (etcd_parse_range(STR(bad[i]), &v) != -EBADMSG)
                        TAP_FAIL("range answer %s was not refused", bad[i]);
        ASSERT_INT_EQ(etcd_parse_txn(STR("{\"header\":{},\"succeeded\":\"yes\"}"), NULL, 0), -EBADMSG);
        ASSERT_INT_EQ(etcd_parse_txn(STR("[]"), NULL, 0), -EBADMSG);
        ASSERT_TRUE(!v.value);
}

/* etcd 3.4.23's answers to a range read of every key under /clusterboot/registry/name/ (two records), and
 * to the same with limit 1 (tests/cluster/answers/range-prefix.json, range-prefix-more.json). */
static const char range_prefix[] =
        "{\"header\":{\"cluster_id\":\"14841639068965178418\",\"member_id\":\"10276657743932975437\",\"revisio"
        "n\":\"5\",\"raft_term\":\"2\"},\"kvs\":[{\"key\":\"L2NsdXN0ZXJib290L3JlZ2lzdHJ5L25hbWUvbm9kZS1hYWJiY2M"
        "=\",\"create_revision\":\"2\",\"mod_revision\":\"2\",\"version\":\"1\",\"value\":\"eyJieSI6Im1hc3Rlci0wMSI"
        "sImlwIjoiMTAuMjAuMC41MCIsIm1hYyI6IjUyOjU0OjAwOmFhOmJiOmNjIiwibmFtZSI6Im5vZGUtYWFiYmNjIiwid"
        "GltZSI6MTc2NTAwMDAwMH0=\"},{\"key\":\"L2NsdXN0ZXJib290L3JlZ2lzdHJ5L25hbWUvbm9kZS1kZGVlZmY=\",\"c"
        "reate_revision\":\"3\",\"mod_revision\":\"3\",\"version\":\"1\",\"value\":\"eyJieSI6Im1hc3Rlci0wMiIsImlw"
        "IjoiMTAuMjAuMC41MSIsIm1hYyI6IjUyOjU0OjAwOmRkOmVlOmZmIiwibmFtZSI6Im5vZGUtZGRlZWZmIiwidGltZS"
        "I6MTc2NTAwMDEwMH0=\"}],\"count\":\"2\"}";
static const char range_prefix_more[] =
        "{\"header\":{\"cluster_id\":\"14841639068965178418\",\"member_id\":\"10276657743932975437\",\"revisio"
        "n\":\"5\",\"raft_term\":\"2\"},\"kvs\":[{\"key\":\"L2NsdXN0ZXJib290L3JlZ2lzdHJ5L25hbWUvbm9kZS1hYWJiY2M"
        "=\",\"create_revision\":\"2\",\"mod_revision\":\"2\",\"version\":\"1\",\"value\":\"eyJieSI6Im1hc3Rlci0wMSI"
        "sImlwIjoiMTAuMjAuMC41MCIsIm1hYyI6IjUyOjU0OjAwOmFhOmJiOmNjIiwibmFtZSI6Im5vZGUtYWFiYmNjIiwid"
        "GltZSI6MTc2NTAwMDAwMH0=\"}],\"more\":true,\"count\":\"2\"}";

TEST(test_parse_range_all) {
        EtcdKeyValue *kvs = NULL;
        size_t n = 0;
        bool more = true;
        ASSERT_INT_EQ(etcd_parse_range_all(STR(range_prefix), &kvs, &n, &more), 0);
        ASSERT_INT_EQ(n, 2);
        ASSERT_TRUE(!more);
        ASSERT_STREQ(kvs[0].key, "/clusterboot/registry/name/node-aabbcc");
        ASSERT_STREQ(kvs[1].key, "/clusterboot/registry/name/node-ddeeff");
        ASSERT_TRUE(strstr(kvs[1].value.value, "\"ip\":\"10.20.0.51\"") != NULL);
        ASSERT_INT_EQ(kvs[1].value.mod_revision, 3);
        etcd_key_values_free(kvs, n);
        /* Cut by the limit: the first page, and "more" says so. */
        ASSERT_INT_EQ(etcd_parse_range_all(STR(range_prefix_more), &kvs, &n, &more), 0);
        ASSERT_INT_EQ(n, 1);
        ASSERT_TRUE(more);
        ASSERT_STREQ(kvs[0].key, "/clusterboot/registry/name/node-aabbcc");
        etcd_key_values_free(kvs, n);
        /* No key under the prefix: "kvs" is left out. */
        ASSERT_INT_EQ(etcd_parse_range_all(STR(range_none), &kvs, &n, &more), 0);
        ASSERT_INT_EQ(n, 0);
        ASSERT_TRUE(!more);
        etcd_key_values_free(kvs, n);
        static const char *const bad[] = {
                "{}",
                "{\"header\":{},\"kvs\":{}}",
                "{\"header\":{},\"more\":\"no\"}",
                "{\"header\":{},\"more\":true}", /* cut, yet nothing: a paged read would never end */
                "{\"header\":{},\"kvs\":[{\"value\":\"aGk=\",\"mod_revision\":\"1\",\"version\":\"1\"}]}", /* no key */
                "{\"header\":{},\"kvs\":[{\"key\":\"\",\"value\":\"aGk=\",\"mod_revision\":\"1\",\"version\":\"1\"}]}",
                "{\"header\":{},\"kvs\":[{\"key\":\"YQBi\",\"value\":\"aGk=\",\"mod_revision\":\"1\",\"version\":\"1\"}]}", /* a\0b */
        };
        for (size_t i = 0; i < ELEMENTSOF(bad); i++)
                if (etcd_parse_range_all(STR(bad[i]), &kvs, &n, &more) != -EBADMSG)
                        TAP_FAIL("range answer %s was not refused", bad[i]);
}

/* etcd 3.4.23's answer to a transaction whose guard failed, with two reads: the first key holds a value
 * (bound to a lease), the second does not exist (tests/cluster/answers/txn-failed-reads.json). */
static const char txn_failed_reads[] =
        "{\"header\":{\"cluster_id\":\"324952591200643719\",\"member_id\":\"3319814642761637952\",\"revision\":\"2\","
        "\"raft_term\":\"2\"},\"responses\":[{\"response_range\":{\"header\":{\"revision\":\"2\"},\"kvs\":[{\"key\":"
        "\"L3Qvbm9uY2UvYQ==\",\"create_revision\":\"2\",\"mod_revision\":\"2\",\"version\":\"1\",\"value\":"
        "\"eyJtYWMiOiJtIn0=\",\"lease\":\"2324035875503642117\"}],\"count\":\"1\"}},{\"response_range\":{\"header\":"
        "{\"revision\":\"2\"}}}]}";

TEST(test_parse_txn_reads) {
        EtcdValue reads[2] = {};
        ASSERT_INT_EQ(etcd_parse_txn(STR(txn_failed_reads), reads, 2), 0);
        ASSERT_STREQ(reads[0].value, "{\"mac\":\"m\"}");
        ASSERT_INT_EQ(reads[0].mod_revision, 2);
        ASSERT_TRUE(!reads[1].value);
        ASSERT_INT_EQ(reads[1].mod_revision, 0);
        etcd_value_done(reads);
        /* A succeeded transaction reads nothing. */
        ASSERT_INT_EQ(etcd_parse_txn(STR(txn_ok), reads, 2), 1);
        ASSERT_TRUE(!reads[0].value && !reads[1].value);
        /* Fewer answers than reads asked, or one that is not a range: not etcd's answer to this. */
        EtcdValue three[3] = {};
        ASSERT_INT_EQ(etcd_parse_txn(STR(txn_failed_reads), three, 3), -EBADMSG);
        ASSERT_INT_EQ(etcd_parse_txn(STR("{\"header\":{},\"responses\":[{\"response_put\":{}}]}"), reads, 1), -EBADMSG);
        ASSERT_TRUE(!three[0].value && !reads[0].value);

        int64_t id = 0;
        ASSERT_INT_EQ(etcd_parse_lease_grant(STR("{\"header\":{\"cluster_id\":\"324952591200643719\",\"revision\":\"1\"},"
                                                 "\"ID\":\"2324035875503642117\",\"TTL\":\"660\"}"), &id), 0);
        ASSERT_TRUE(id == 2324035875503642117);
        ASSERT_INT_EQ(etcd_parse_lease_grant(STR("{\"header\":{},\"TTL\":\"660\"}"), &id), -EBADMSG);
        ASSERT_INT_EQ(etcd_parse_lease_grant(STR("{\"header\":{},\"ID\":\"0\"}"), &id), -EBADMSG);
        /* The lease of an op is gone (expired): NotFound. */
        ASSERT_INT_EQ(etcd_parse_error(404, STR("{\"error\":\"etcdserver: requested lease not found\",\"message\":"
                                                "\"etcdserver: requested lease not found\",\"code\":5}"), NULL), -ENOENT);
}

/* Refused before anything is sent: nothing here contacts a network. */
TEST(test_arguments) {
        const EtcdTls tls = { "/nonexistent/ca.crt", "/nonexistent/c.crt", "/nonexistent/c.key" };
        const EtcdTls no_key = { "/nonexistent/ca.crt", "/nonexistent/c.crt", NULL };
        const char *ep[] = { "https://10.20.0.11:2379" };
        const char *plain[] = { "http://127.0.0.1:9" };
        EtcdMemberList l = {};
        uint64_t id = 7;

        ASSERT_INT_EQ(etcd_member_list(ep, 0, &tls, 1000, &l), -EINVAL);
        ASSERT_INT_EQ(etcd_member_list(ep, 1, &no_key, 1000, &l), -EINVAL);
        ASSERT_INT_EQ(etcd_member_list(ep, 1, NULL, 1000, &l), -EINVAL);
        ASSERT_INT_EQ(etcd_member_list(ep, 1, &tls, 0, &l), -EINVAL);
        ASSERT_INT_EQ(etcd_member_add(ep, 1, &tls, 1000, "", true, &id, &l), -EINVAL);
        ASSERT_INT_EQ(etcd_endpoint_health(NULL, &tls, 1000), -EINVAL);
        const char *keys[] = { "/k" }, *values[] = { "v" }, *no_value[] = { NULL };
        ASSERT_INT_EQ(etcd_put_if(ep, 1, &tls, 1000, "", 0, keys, values, 1), -EINVAL);
        ASSERT_INT_EQ(etcd_put_if(ep, 1, &tls, 1000, "/k", -1, keys, values, 1), -EINVAL);
        ASSERT_INT_EQ(etcd_put_if(ep, 1, &tls, 1000, "/k", 0, keys, values, 0), -EINVAL);
        ASSERT_INT_EQ(etcd_put_if(ep, 1, &tls, 1000, "/k", 0, keys, no_value, 1), -EINVAL);
        const EtcdGuard no_key_guard = { "", 0 }, bad_revision = { "/k", -1 };
        const EtcdOp put = { "/k", "v", 0 }, bad_lease = { "/k", "v", -1 }, no_key_op = { NULL, "v", 0 };
        EtcdValue read = {};
        ASSERT_INT_EQ(etcd_txn(ep, 1, &tls, 1000, NULL, 0, NULL, 0, NULL, 0, NULL), -EINVAL);
        ASSERT_INT_EQ(etcd_txn(ep, 1, &tls, 1000, &no_key_guard, 1, &put, 1, NULL, 0, NULL), -EINVAL);
        ASSERT_INT_EQ(etcd_txn(ep, 1, &tls, 1000, &bad_revision, 1, &put, 1, NULL, 0, NULL), -EINVAL);
        ASSERT_INT_EQ(etcd_txn(ep, 1, &tls, 1000, NULL, 0, &bad_lease, 1, NULL, 0, NULL), -EINVAL);
        ASSERT_INT_EQ(etcd_txn(ep, 1, &tls, 1000, NULL, 0, &no_key_op, 1, NULL, 0, NULL), -EINVAL);
        ASSERT_INT_EQ(etcd_txn(ep, 1, &tls, 1000, NULL, 0, &put, 1, keys, 1, NULL), -EINVAL);
        ASSERT_INT_EQ(etcd_txn(ep, 1, &tls, 1000, NULL, 0, &put, 1, no_value, 1, &read), -EINVAL);
        int64_t lease = 9;
        ASSERT_INT_EQ(etcd_lease_grant(ep, 1, &tls, 1000, 0, &lease), -EINVAL);
        ASSERT_TRUE(lease == 9 && !read.value);
        EtcdValue v = {};
        ASSERT_INT_EQ(etcd_get(ep, 1, &tls, 1000, "", &v), -EINVAL);
        ASSERT_TRUE(id == 7 && l.n == 0 && !l.members);
        /* Only https: libcurl refuses the URL before it connects. */
        ASSERT_INT_EQ(etcd_member_list(plain, 1, &tls, 200, &l), -EINVAL);
        ASSERT_INT_EQ(etcd_endpoint_health(plain[0], &tls, 200), -EINVAL);
}

int main(void) {
        RUN(test_parse_txn_reads);
        RUN(test_initial_cluster_after_add);
        RUN(test_initial_cluster_self_missing);
        RUN(test_initial_cluster_self_started);
        RUN(test_initial_cluster_two_peer_urls);
        RUN(test_initial_cluster_refused);
        RUN(test_parse_list);
        RUN(test_parse_add);
        RUN(test_parse_bad);
        RUN(test_parse_error);
        RUN(test_parse_kv);
        RUN(test_parse_range_all);
        RUN(test_arguments);
        return tap_done();
}
