/* SPDX-License-Identifier: Apache-2.0 */
#include <stdlib.h>
#include <string.h>

#include "tap.h"
#include "yaml-tree.h"

static SourceSet sources;
static Report report;

static YNode *parse(const char *text, size_t len) {
        source_set_done(&sources);
        report_done(&report);
        report_init(&report, &sources);
        char *data = malloc(len + 1);
        memcpy(data, text, len);
        data[len] = 0;
        source_set_add(&sources, NULL, "t.yaml", data, len);
        return yaml_tree_parse(&sources, 0, &report);
}

#define PARSE(s) parse((s), strlen(s))

TEST(test_locations) {
        YNode *root = PARSE("a: 1\nlist:\n  - x\n  - \"y\"\n");
        ASSERT_NOT_NULL(root);
        ASSERT_INT_EQ(root->kind, YNODE_MAPPING);
        ASSERT_INT_EQ(root->n_items, 4);
        YNode *list = root->items[3];
        ASSERT_INT_EQ(list->kind, YNODE_SEQUENCE);
        ASSERT_INT_EQ(list->items[1]->loc.line, 4);
        ASSERT_INT_EQ(list->items[1]->loc.col, 5);
        ASSERT_TRUE(list->items[1]->quoted);
        ASSERT_TRUE(!list->items[0]->quoted);
        ASSERT_INT_EQ(report.n_diags, 0);
        ynode_free(root);
}

TEST(test_duplicate_key) {
        YNode *root = PARSE("a: 1\nb: 2\na: 3\n");
        ASSERT_NOT_NULL(root); /* the tree stays usable; the first value counts */
        ASSERT_INT_EQ(report.n_errors, 1);
        ASSERT_STREQ(report.diags[0].message, "duplicate key 'a' (first defined at line 1)");
        ASSERT_INT_EQ(report.diags[0].loc.line, 3);
        ynode_free(root);
}

TEST(test_alias_refused) {
        ASSERT_NULL(PARSE("a: &x [1, 2]\nb: *x\n"));
        ASSERT_INT_EQ(report.n_errors, 1);
        ASSERT_INT_EQ(report.diags[0].loc.line, 2);
        ASSERT_INT_EQ(report.diags[0].loc.col, 4);
}

TEST(test_tab) {
        ASSERT_NULL(PARSE("a:\n\tb: 1\n"));
        ASSERT_INT_EQ(report.n_errors, 1);
        ASSERT_STREQ(report.diags[0].message, "tab character in indentation; YAML allows only spaces");
        ASSERT_INT_EQ(report.diags[0].loc.line, 2);
        ASSERT_INT_EQ(report.diags[0].loc.col, 1);
}

TEST(test_two_documents) {
        ASSERT_NULL(PARSE("a: 1\n---\nb: 2\n"));
        ASSERT_INT_EQ(report.n_errors, 1);
        ASSERT_INT_EQ(report.diags[0].loc.line, 2);
}

TEST(test_empty) {
        ASSERT_NULL(PARSE(""));
        ASSERT_STREQ(report.diags[0].message, "file is empty");
        ASSERT_NULL(PARSE("# only a comment\n"));
        ASSERT_STREQ(report.diags[0].message, "file is empty");
}

TEST(test_depth_limit) {
        char deep[300];
        memset(deep, '[', 100);
        deep[100] = 0;
        ASSERT_NULL(PARSE(deep));
        ASSERT_STREQ(report.diags[0].message, "nesting is too deep");
}

TEST(test_long_scalar) {
        size_t n = YAML_MAX_SCALAR + 10;
        char *text = malloc(n + 4);
        memcpy(text, "a: ", 3);
        memset(text + 3, 'x', n);
        text[n + 3] = 0;
        YNode *root = parse(text, n + 3);
        free(text);
        ASSERT_INT_EQ(report.n_errors, 1);
        ASSERT_TRUE(strstr(report.diags[0].message, "value is too long") != NULL);
        ynode_free(root);
}

TEST(test_invalid_utf8) {
        ASSERT_NULL(parse("a: \xff\xfe\n", 6));
        ASSERT_INT_EQ(report.n_errors, 1);
        ASSERT_TRUE(strstr(report.diags[0].message, "not valid UTF-8") != NULL);
}

TEST(test_complex_key) {
        ASSERT_NULL(PARSE("? [a, b]\n: 1\n"));
        ASSERT_INT_EQ(report.n_errors, 1);
}

TEST(test_null) {
        YNode *root = PARSE("a:\nb: ~\nc: ''\nd: null\n");
        ASSERT_NOT_NULL(root);
        ASSERT_TRUE(ynode_is_null(root->items[1]));
        ASSERT_TRUE(ynode_is_null(root->items[3]));
        ASSERT_TRUE(!ynode_is_null(root->items[5])); /* a quoted empty string is a string */
        ASSERT_TRUE(ynode_is_null(root->items[7]));
        ynode_free(root);
}

int main(void) {
        RUN(test_locations);
        RUN(test_duplicate_key);
        RUN(test_alias_refused);
        RUN(test_tab);
        RUN(test_two_documents);
        RUN(test_empty);
        RUN(test_depth_limit);
        RUN(test_long_scalar);
        RUN(test_invalid_utf8);
        RUN(test_complex_key);
        RUN(test_null);
        source_set_done(&sources);
        report_done(&report);
        return tap_done();
}
