/* SPDX-License-Identifier: Apache-2.0 */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <string.h>

#include "yaml-writer.h"
#include "banned.h"

static int write_handler(void *data, unsigned char *buffer, size_t size) {
        YamlWriter *w = data;
        return strbuf_appendn(w->out, (const char *) buffer, size) < 0 ? 0 : 1;
}

static void emit(YamlWriter *w, yaml_event_t *e, int initialized) {
        if (w->error)
                return;
        if (!initialized || !yaml_emitter_emit(&w->emitter, e))
                w->error = -EINVAL;
}

int yaml_writer_init(YamlWriter *w, StrBuf *out) {
        *w = (YamlWriter) { .out = out };
        if (!yaml_emitter_initialize(&w->emitter))
                return -ENOMEM;
        yaml_emitter_set_output(&w->emitter, write_handler, w);
        yaml_emitter_set_unicode(&w->emitter, 1);
        yaml_emitter_set_width(&w->emitter, -1);

        yaml_event_t e;
        emit(w, &e, yaml_stream_start_event_initialize(&e, YAML_UTF8_ENCODING));
        emit(w, &e, yaml_document_start_event_initialize(&e, NULL, NULL, NULL, 1));
        return w->error;
}

void yaml_writer_map_start(YamlWriter *w) {
        yaml_event_t e;
        emit(w, &e, yaml_mapping_start_event_initialize(&e, NULL, NULL, 1, YAML_BLOCK_MAPPING_STYLE));
}

void yaml_writer_map_end(YamlWriter *w) {
        yaml_event_t e;
        emit(w, &e, yaml_mapping_end_event_initialize(&e));
}

void yaml_writer_seq_start(YamlWriter *w, bool flow) {
        yaml_event_t e;
        emit(w, &e, yaml_sequence_start_event_initialize(&e, NULL, NULL, 1,
                                                         flow ? YAML_FLOW_SEQUENCE_STYLE : YAML_BLOCK_SEQUENCE_STYLE));
}

void yaml_writer_seq_end(YamlWriter *w) {
        yaml_event_t e;
        emit(w, &e, yaml_sequence_end_event_initialize(&e));
}

static void scalar(YamlWriter *w, const char *s, bool plain_implicit) {
        yaml_event_t e;
        /* plain_implicit=0 for strings: libyaml then quotes a value that would resolve to another type. */
        emit(w, &e, yaml_scalar_event_initialize(&e, NULL, (yaml_char_t *) YAML_STR_TAG, (yaml_char_t *) s,
                                                 (int) strlen(s), plain_implicit, 1, YAML_ANY_SCALAR_STYLE));
}

static bool looks_like_other_type(const char *s) {
        static const char *const words[] = { "", "~", "null", "Null", "NULL", "true", "True", "TRUE", "false",
                                             "False", "FALSE", "yes", "Yes", "YES", "no", "No", "NO", "on",
                                             "On", "ON", "off", "Off", "OFF", "y", "Y", "n", "N", NULL };
        for (size_t i = 0; words[i]; i++)
                if (streq(s, words[i]))
                        return true;
        /* Anything starting like a number may be read as one (1.29, 0x1F, 1e3, .5). */
        return (s[0] >= '0' && s[0] <= '9') || ((s[0] == '-' || s[0] == '+' || s[0] == '.') && s[1] >= '0' && s[1] <= '9');
}

void yaml_writer_str(YamlWriter *w, const char *s) {
        if (looks_like_other_type(s)) {
                yaml_event_t e;
                emit(w, &e, yaml_scalar_event_initialize(&e, NULL, (yaml_char_t *) YAML_STR_TAG, (yaml_char_t *) s,
                                                         (int) strlen(s), 0, 1, YAML_DOUBLE_QUOTED_SCALAR_STYLE));
        } else
                scalar(w, s, true);
}

void yaml_writer_plain(YamlWriter *w, const char *s) {
        yaml_event_t e;
        emit(w, &e, yaml_scalar_event_initialize(&e, NULL, NULL, (yaml_char_t *) s, (int) strlen(s), 1, 0,
                                                 YAML_PLAIN_SCALAR_STYLE));
}

void yaml_writer_int(YamlWriter *w, int64_t v) {
        char buf[32];
        snprintf(buf, sizeof(buf), "%" PRId64, v);
        yaml_writer_plain(w, buf);
}

void yaml_writer_bool(YamlWriter *w, bool v) {
        yaml_writer_plain(w, v ? "true" : "false");
}

void yaml_writer_key_str(YamlWriter *w, const char *key, const char *value) {
        yaml_writer_str(w, key);
        yaml_writer_str(w, value);
}

int yaml_writer_finish(YamlWriter *w) {
        yaml_event_t e;
        emit(w, &e, yaml_document_end_event_initialize(&e, 1));
        emit(w, &e, yaml_stream_end_event_initialize(&e));
        if (!w->error && !yaml_emitter_flush(&w->emitter))
                w->error = -EIO;
        yaml_emitter_delete(&w->emitter);
        return w->error;
}
