/* SPDX-License-Identifier: Apache-2.0 */
#pragma once

#include <stdint.h>
#include <yaml.h>

#include "string-util.h"

/* YAML output through libyaml's emitter, so quoting and escaping are libyaml's, never printf's. Calls
 * after an error do nothing; yaml_writer_finish() reports the first error. */
typedef struct YamlWriter {
        yaml_emitter_t emitter;
        StrBuf *out;
        int error;
} YamlWriter;

/* Starts a stream and a document, appending to out. */
int yaml_writer_init(YamlWriter *w, StrBuf *out);
void yaml_writer_map_start(YamlWriter *w);
void yaml_writer_map_end(YamlWriter *w);
void yaml_writer_seq_start(YamlWriter *w, bool flow);
void yaml_writer_seq_end(YamlWriter *w);
/* A string; quoted by libyaml when it would otherwise read as another type ("true", "1.0", ""). */
void yaml_writer_str(YamlWriter *w, const char *s);
/* A plain scalar written as is: numbers and booleans. */
void yaml_writer_plain(YamlWriter *w, const char *s);
void yaml_writer_int(YamlWriter *w, int64_t v);
void yaml_writer_bool(YamlWriter *w, bool v);
void yaml_writer_key_str(YamlWriter *w, const char *key, const char *value);
/* Ends the document and the stream; returns 0 or the first error. */
int yaml_writer_finish(YamlWriter *w);
