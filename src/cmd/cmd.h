/* SPDX-License-Identifier: Apache-2.0 */
#pragma once

#include <stdbool.h>

/* The command layer: the only code that prints results, logs at info level, and chooses exit codes. */

enum {
        EXIT_DONE = 0,
        EXIT_FAILED = 1,   /* failed, or the input is invalid */
        EXIT_USAGE = 2,    /* bad command line, or the input cannot be read */
        EXIT_TEMPFAIL = 75 /* EX_TEMPFAIL: not yet possible, retry later */
};

typedef enum OutputFormat {
        OUTPUT_TEXT,
        OUTPUT_JSON,
} OutputFormat;

/* Options shared by the commands; each command says which it accepts. */
typedef enum OptionFlag {
        OPT_INVENTORY = 1 << 0,
        OPT_OUTPUT = 1 << 1,
        OPT_STRICT = 1 << 2,
} OptionFlag;

typedef struct Options {
        const char *inventory;
        OutputFormat output;
        bool strict;
} Options;

#define DEFAULT_INVENTORY "/etc/cluster-config"

int cmd_help(int argc, char **argv, const Options *o);
int cmd_version(int argc, char **argv, const Options *o);
int cmd_validate(int argc, char **argv, const Options *o);
int cmd_plan(int argc, char **argv, const Options *o);

/* Loads and validates the inventory, printing the diagnostics (text to stderr, or JSON to stdout when
 * json_report). Returns EXIT_DONE when the inventory is usable, else the exit code to end with. */
typedef struct Inventory Inventory;
int cmd_load_inventory(const Options *o, bool json_report, Inventory **ret);
