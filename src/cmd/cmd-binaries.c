/* SPDX-License-Identifier: Apache-2.0 */
/* clusterboot binaries list|verify|fetch: the components of the lock in a components folder. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <jansson.h>

#include "cmd.h"
#include "component-files.h"
#include "components.h"
#include "fileio.h"
#include "fs-util.h"
#include "image.h"
#include "inventory.h"
#include "log.h"
#include "process.h"
#include "string-util.h"
#include "banned.h"

#define log_oom() log_error("out of memory")

int cmd_load_lock(const Options *o, Lock *ret, char **ret_text) {
        _cleanup_free_ char *text = NULL;
        const char *origin = o->lock ?: "the lock built into clusterboot";
        if (o->lock) {
                int r = read_full_file(o->lock, 1 << 20, &text, NULL);
                if (r < 0) {
                        log_error_errno(r, "cannot read the components lock %s: %m", o->lock);
                        return EXIT_USAGE;
                }
        } else {
                for (size_t i = 0; i < n_component_files && !text; i++)
                        if (streq(component_files[i].path, COMPONENT_FILES_LOCK))
                                text = strndup(component_files[i].content, component_files[i].size);
                if (!text) {
                        log_oom();
                        return EXIT_FAILED;
                }
        }
        unsigned line = 0;
        const char *reason = NULL;
        int r = lock_parse(text, ret, &line, &reason);
        if (r == -ENOMEM) {
                log_oom();
                return EXIT_FAILED;
        }
        if (r < 0) {
                log_error("%s:%u: %s (a lock holds NAME=VALUE lines and # comments)", origin, line, reason);
                return EXIT_USAGE;
        }
        if (ret_text)
                *ret_text = TAKE_PTR(text);
        return EXIT_DONE;
}

char *cmd_components_dir(const Options *o) {
        return o->components ? strdup(o->components) : strprintf("%s/components", o->cache ?: DEFAULT_CACHE);
}

/* Which components the command is about: those named, else those --inventory's image carries, else all. */
static int select_components(int argc, char **argv, const Options *o, bool ret[static _COMPONENT_MAX]) {
        for (Component c = 0; c < _COMPONENT_MAX; c++)
                ret[c] = argc <= 1 && !o->inventory_set;
        for (int i = 1; i < argc; i++) {
                Component c = component_from_string(argv[i]);
                if (c < 0) {
                        StrBuf names = {};
                        for (Component k = 0; k < _COMPONENT_MAX; k++)
                                (void) strbuf_printf(&names, "%s%s", k ? ", " : "", component_info(k)->name);
                        log_error("there is no component '%s'; the lock has: %s", argv[i], strempty(names.s));
                        strbuf_done(&names);
                        return EXIT_USAGE;
                }
                ret[c] = true;
        }
        if (argc <= 1 && o->inventory_set) {
                Inventory *inv = NULL;
                int r = cmd_load_inventory(o, false, &inv);
                if (r != EXIT_DONE)
                        return r;
                image_components(inv, ret);
                inventory_free(inv);
        }
        return EXIT_DONE;
}

typedef enum State {
        STATE_MISSING,    /* not in the components folder */
        STATE_PRESENT,    /* there; not checked (list) */
        STATE_OK,         /* there, and its digest is the lock's */
        STATE_DIFFERS,    /* there, and its digest is not the lock's */
        STATE_UNPINNED,   /* the lock has no version or no digest for this architecture */
        STATE_UNREADABLE, /* there, but it could not be read (or holds something neither file nor folder) */
} State;

static const char *const state_names[] = {
        [STATE_MISSING] = "missing", [STATE_PRESENT] = "present", [STATE_OK] = "ok",
        [STATE_DIFFERS] = "differs", [STATE_UNPINNED] = "unpinned", [STATE_UNREADABLE] = "unreadable",
};

typedef struct Check {
        State state;
        char *payload;
        char digest[65]; /* when hashed */
        char *problem;   /* for STATE_UNREADABLE */
} Check;

static void check_done(Check *k) {
        free(k->payload);
        free(k->problem);
}

/* What is in the folder for c, hashed when hash. */
static int check_component(const Lock *l, Component c, const char *dir, bool hash, Check *ret) {
        *ret = (Check) {};
        if (!lock_version(l, c) || !lock_digest(l, c, IMAGE_ARCH)) {
                ret->state = STATE_UNPINNED;
                return 0;
        }
        if (!(ret->payload = component_payload(l, c, dir)))
                return -ENOMEM;
        if (access(ret->payload, F_OK) < 0) {
                ret->state = STATE_MISSING;
                return 0;
        }
        if (!hash) {
                ret->state = STATE_PRESENT;
                return 0;
        }
        char *odd = NULL;
        int r = component_digest(ret->payload, ret->digest, &odd);
        if (r == -ENOMEM)
                return r;
        if (r < 0) {
                ret->state = STATE_UNREADABLE;
                ret->problem = r == -EMEDIUMTYPE ? strprintf("%s is neither a file nor a folder", odd)
                                                 : strprintf("cannot read it: %s", strerror(-r));
                free(odd);
                return ret->problem ? 0 : -ENOMEM;
        }
        ret->state = streq(ret->digest, lock_digest(l, c, IMAGE_ARCH)) ? STATE_OK : STATE_DIFFERS;
        return 0;
}

static json_t *check_json(const Lock *l, Component c, const Check *k) {
        const ComponentInfo *info = component_info(c);
        json_t *j = json_pack("{s:s, s:s?, s:s, s:s?, s:s, s:s}", "name", info->name, "version", lock_version(l, c),
                              "state", state_names[k->state], "sha256", lock_digest(l, c, IMAGE_ARCH), "source",
                              info->source, "summary", info->summary);
        if (j && k->payload)
                json_object_set_new(j, "path", json_string(k->payload));
        if (j && (k->state == STATE_OK || k->state == STATE_DIFFERS))
                json_object_set_new(j, "found_sha256", json_string(k->digest));
        if (j && k->problem)
                json_object_set_new(j, "problem", json_string(k->problem));
        return j;
}

static void print_check(const Lock *l, Component c, const Check *k) {
        const ComponentInfo *info = component_info(c);
        printf("%-11s %-9s %-9s", info->name, strempty(lock_version(l, c)), state_names[k->state]);
        switch (k->state) {
        case STATE_DIFFERS:
                printf(" sha256 %s, the lock pins %s\n", k->digest, lock_digest(l, c, IMAGE_ARCH));
                break;
        case STATE_UNREADABLE:
                printf(" %s\n", k->problem);
                break;
        case STATE_UNPINNED:
                printf(" the lock pins no %s for %s\n", lock_version(l, c) ? "digest" : "version", IMAGE_ARCH);
                break;
        default:
                printf(" %s\n", info->summary);
        }
}

static int print_json(json_t *list) {
        if (!list)
                return log_oom(), EXIT_FAILED;
        json_dumpf(list, stdout, JSON_INDENT(2));
        putchar('\n');
        json_decref(list);
        return EXIT_DONE;
}

/* list (hash false) and verify (hash true). */
static int list_or_verify(const Options *o, const Lock *l, const bool want[static _COMPONENT_MAX], bool hash) {
        _cleanup_free_ char *dir = cmd_components_dir(o);
        if (!dir)
                return log_oom(), EXIT_FAILED;
        json_t *list = o->output == OUTPUT_JSON ? json_array() : NULL;
        bool all_ok = true;
        if (o->output != OUTPUT_JSON)
                printf("%-11s %-9s %-9s %s\n", "COMPONENT", "VERSION", "STATE", "WHAT");
        for (Component c = 0; c < _COMPONENT_MAX; c++) {
                if (!want[c])
                        continue;
                Check k;
                if (check_component(l, c, dir, hash, &k) < 0) {
                        check_done(&k);
                        json_decref(list);
                        return log_oom(), EXIT_FAILED;
                }
                all_ok = all_ok && (k.state == STATE_OK || (!hash && k.state == STATE_PRESENT));
                if (list)
                        json_array_append_new(list, check_json(l, c, &k));
                else
                        print_check(l, c, &k);
                check_done(&k);
        }
        if (list)
                return print_json(list) == EXIT_DONE && (all_ok || !hash) ? EXIT_DONE : EXIT_FAILED;
        printf("\ncomponents folder: %s\n", dir);
        if (!all_ok)
                printf("%s: clusterboot binaries fetch%s%s%s%s%s%s\n",
                       hash ? "to make them right (a differing one is moved aside and made anew)" : "to fetch what is missing",
                       o->inventory_set ? " --inventory " : "", o->inventory_set ? o->inventory : "",
                       o->components ? " --components " : "", o->components ?: "", o->lock ? " --lock " : "",
                       o->lock ?: "");
        return all_ok || !hash ? EXIT_DONE : EXIT_FAILED;
}

/* The recipes and the lock, written out for bash to run: DIR/.recipes-XXXXXX/{NAME.sh,components.lock}. */
static int write_recipes(const char *dir, const char *lock_text, char **ret_tmp) {
        int r = mkdir_p(dir, 0755);
        if (r < 0)
                return r;
        _cleanup_free_ char *tmp = strprintf("%s/.recipes-XXXXXX", dir);
        if (!tmp)
                return -ENOMEM;
        if (!mkdtemp(tmp))
                return -errno;
        for (size_t i = 0; r >= 0 && i < n_component_files; i++) {
                const EmbeddedFile *f = component_files + i;
                if (!startswith(f->path, COMPONENT_FILES_RECIPES))
                        continue;
                _cleanup_free_ char *path = strprintf("%s/%s", tmp, f->path + strlen(COMPONENT_FILES_RECIPES));
                r = path ? write_file_atomic(path, f->content, f->size, f->mode) : -ENOMEM;
        }
        _cleanup_free_ char *lock = strprintf("%s/components.lock", tmp);
        r = r < 0 ? r : lock ? write_file_atomic(lock, lock_text, strlen(lock_text), 0644) : -ENOMEM;
        if (r < 0) {
                (void) rm_rf(tmp);
                return r;
        }
        *ret_tmp = TAKE_PTR(tmp);
        return 0;
}

/* Runs the recipe of c; its progress goes to our standard error as it comes. */
static int run_recipe(Component c, const char *dir, const char *recipes, char **ret_output) {
        static const char *const passed[] = { "HOME", "GOPROXY", "GOSUMDB", "http_proxy",
                                              "https_proxy", "no_proxy", "MAVEN_OPTS", "JAVA", "MVN" };
        _cleanup_free_ char *script = strprintf("%s/%s.sh", recipes, component_info(c)->name);
        _cleanup_free_ char *cache = strprintf("CLUSTERBOOT_DEPS_CACHE=%s", dir);
        _cleanup_free_ char *lock = strprintf("CLUSTERBOOT_LOCK=%s/components.lock", recipes);
        /* pause.sh imports its image into a containerd that answers: not the build machine's. */
        _cleanup_free_ char *containerd = strprintf("CONTAINERD_ADDRESS=%s/no-containerd.sock", recipes);
        char *env_owned[ELEMENTSOF(passed)] = {};
        const char *env[ELEMENTSOF(passed) + 4] = { cache, lock, containerd };
        size_t n = 3;
        int r = script && cache && lock && containerd ? 0 : -ENOMEM;
        for (size_t i = 0; r >= 0 && i < ELEMENTSOF(passed); i++) {
                const char *v = getenv(passed[i]);
                if (!v)
                        continue;
                if (!(env_owned[i] = strprintf("%s=%s", passed[i], v)))
                        r = -ENOMEM;
                env[n++] = env_owned[i];
        }
        if (r >= 0) {
                char *argv[] = { (char *) "/bin/bash", script, NULL };
                ProgramIO io = { .env = env, .pass_stderr = true };
                r = run_program_io(argv, &io, ret_output);
        }
        for (size_t i = 0; i < ELEMENTSOF(passed); i++)
                free(env_owned[i]);
        return r;
}

static int fetch(const Options *o, const Lock *l, const char *lock_text, const bool want[static _COMPONENT_MAX]) {
        _cleanup_free_ char *dir = cmd_components_dir(o);
        if (!dir)
                return log_oom(), EXIT_FAILED;
        _cleanup_free_ char *recipes = NULL;
        json_t *list = o->output == OUTPUT_JSON ? json_array() : NULL;
        FILE *out = list ? stderr : stdout;
        unsigned failed = 0;
        int r = 0;
        for (Component c = 0; c < _COMPONENT_MAX && r >= 0; c++) {
                if (!want[c])
                        continue;
                const ComponentInfo *info = component_info(c);
                Check k;
                if ((r = check_component(l, c, dir, true, &k)) < 0)
                        break;
                if (k.state == STATE_UNPINNED) {
                        log_error("%s: the lock pins no %s for %s; nothing to fetch", info->name,
                                  lock_version(l, c) ? "digest" : "version", IMAGE_ARCH);
                        failed++;
                } else if (k.state == STATE_OK) {
                        fprintf(out, "%s %s: current (%s)\n", info->name, lock_version(l, c), k.payload);
                } else {
                        if (k.state == STATE_DIFFERS || k.state == STATE_UNREADABLE) {
                                /* Moved aside, so that the recipe (which trusts what it finds) makes it anew. */
                                _cleanup_free_ char *aside = strprintf("%s.rejected", k.payload);
                                if (!aside || (rm_rf(aside), rename(k.payload, aside) < 0)) {
                                        log_error_errno(aside ? -errno : -ENOMEM, "%s: cannot move %s aside: %m",
                                                        info->name, k.payload);
                                        failed++;
                                        check_done(&k);
                                        continue;
                                }
                                fprintf(out, "%s %s: %s is not the locked one (%s); moved to %s\n", info->name,
                                        lock_version(l, c), k.payload, state_names[k.state], aside);
                        }
                        if (!recipes && (r = write_recipes(dir, lock_text, &recipes)) < 0) {
                                log_error_errno(r, "cannot write the recipes into %s: %m", dir);
                                check_done(&k);
                                break;
                        }
                        fprintf(out, "%s %s: fetching (%s) ...\n", info->name, lock_version(l, c), info->source);
                        fflush(out);
                        _cleanup_free_ char *output = NULL;
                        int rr = run_recipe(c, dir, recipes, &output);
                        check_done(&k);
                        if ((r = check_component(l, c, dir, true, &k)) < 0)
                                break;
                        if (rr != 0) {
                                log_error("%s: its recipe failed (%s%d); its messages are above", info->name,
                                          rr < 0 ? "error " : "exit ", rr);
                                failed++;
                        } else if (k.state != STATE_OK) {
                                if (k.state == STATE_DIFFERS)
                                        log_error("%s %s: what was fetched has sha256 %s, but the lock pins %s: refused. "
                                                  "The source gave other bytes than when the lock was made",
                                                  info->name, lock_version(l, c), k.digest,
                                                  lock_digest(l, c, IMAGE_ARCH));
                                else
                                        log_error("%s %s: the recipe succeeded but %s is %s", info->name,
                                                  lock_version(l, c), k.payload, state_names[k.state]);
                                failed++;
                        } else
                                fprintf(out, "%s %s: fetched, sha256 %s as the lock pins (%s)\n", info->name,
                                        lock_version(l, c), k.digest, k.payload);
                }
                if (list)
                        json_array_append_new(list, check_json(l, c, &k));
                check_done(&k);
        }
        if (recipes)
                (void) rm_rf(recipes);
        if (r < 0) {
                json_decref(list);
                log_error_errno(r, "fetch: %m");
                return EXIT_FAILED;
        }
        if (list)
                print_json(list);
        return failed ? EXIT_FAILED : EXIT_DONE;
}

int cmd_binaries(int argc, char **argv, const Options *o) {
        bool want[_COMPONENT_MAX];
        bool is_list = streq(argv[0], "list"), is_verify = streq(argv[0], "verify"), is_fetch = streq(argv[0], "fetch");
        if (!is_list && !is_verify && !is_fetch) {
                log_error("unknown binaries command '%s'; there are: list, verify, fetch", argv[0]);
                return EXIT_USAGE;
        }
        Lock l = {};
        _cleanup_free_ char *text = NULL;
        int r = cmd_load_lock(o, &l, &text);
        if (r == EXIT_DONE)
                r = select_components(argc, argv, o, want);
        if (r == EXIT_DONE)
                r = is_fetch ? fetch(o, &l, text, want) : list_or_verify(o, &l, want, is_verify);
        lock_done(&l);
        return r;
}
