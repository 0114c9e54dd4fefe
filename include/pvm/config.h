/* pvm/config.h: declarative plugin settings. A plugin type lists its
 * [plugin:NAME] keys in a table (pvm_plugin_type.keys) and the server
 * parses, checks and stores each value into the instance's state, the
 * way src/config.c does for [server]:
 *
 *     struct st { char *path; bool reload; int64_t every_ms; };
 *     static const pvm_plugin_key keys[] = {
 *         {"path", PVM_KEY_PATH, offsetof(struct st, path), .required = true,
 *          .doc = "the file to serve"},
 *         {"reload", PVM_KEY_BOOL, offsetof(struct st, reload),
 *          .def = "yes", .doc = "reload the file when it changes"},
 *         {"every", PVM_KEY_DURATION, offsetof(struct st, every_ms),
 *          .def = "1s", .min = 1, .doc = "how often to look"},
 *         {NULL},
 *     };
 *
 * A wrong value is reported as "FILE:LINE: [plugin:NAME] KEY: <what was
 * expected>, not 'VALUE'"; a missing required key as "FILE:LINE:
 * [plugin:NAME]: missing key 'KEY' (DOC)" at the section header. Keys the
 * table does not know, and PVM_KEY_CUSTOM keys, go to the type's configure
 * callback (when it has none: "unknown key"). Defaults (.def, as text) are
 * parsed by the same setter after the section's keys, for keys not given,
 * before check(). Strings (STRING, PATH, METRIC_NAME, LABEL_NAME) and
 * lists are malloc'd and freed by the server after destroy(): a plugin
 * only reads them. `pvm-fcgi --describe TYPE` prints the table. */
#ifndef PVM_PLUGIN_CONFIG_H
#define PVM_PLUGIN_CONFIG_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <pvm/error.h>

/* The type of a key, and the field its offset points at. */
typedef enum pvm_key_type {
    PVM_KEY_STRING,      /* char *: non-empty text; .max > 0: at most .max
                            bytes */
    PVM_KEY_BOOL,        /* bool: see pvm_parse_bool */
    PVM_KEY_INT,         /* int64_t: decimal, optional sign, in
                            [.min, .max] (.max 0: no upper bound) */
    PVM_KEY_SIZE,        /* size_t: digits with k/K, M or G (1024-based),
                            in [.min, .max] (.max 0: no upper bound) */
    PVM_KEY_DURATION,    /* int64_t ms: Prometheus duration ("1m30s",
                            "500ms"), in [.min, .max] ms (.max 0: none) */
    PVM_KEY_ENUM,        /* int: index of the value in .choices (exact,
                            case-sensitive) */
    PVM_KEY_METRIC_NAME, /* char *: [a-zA-Z_:][a-zA-Z0-9_:]* */
    PVM_KEY_LABEL_NAME,  /* char *: [a-zA-Z_][a-zA-Z0-9_]* */
    PVM_KEY_PATH,        /* char *: a file path resolved like
                            pvm_context_resolve_path */
    PVM_KEY_CUSTOM,      /* no field: the value goes to configure(); the
                            entry only declares and documents the key */
    PVM_KEY_FLOAT,       /* double: a finite decimal number (strtod,
                            no bounds) */
} pvm_key_type;

/* One key of a plugin type's table; the table ends with {NULL}. */
typedef struct pvm_plugin_key {
    const char *name;           /* key as written in pvm.ini */
    pvm_key_type type;          /* how the value is parsed */
    size_t offset;              /* offsetof the field in the plugin's state */
    bool required;              /* a section without the key is refused */
    bool repeat;                /* repeatable: the field is a pvm_key_list and
                             every occurrence (each a single value) is
                             appended; without it the last one wins */
    const char *def;            /* default as written in pvm.ini, or NULL */
    int64_t min, max;           /* bounds of INT, SIZE, DURATION (see above) */
    const char *const *choices; /* ENUM: the accepted words, NULL-ended */
    const char *doc;            /* one line for --describe and messages */
    bool secret;                /* the value is a secret (a connection string
                                   with a password): messages never repeat
                                   it, --describe shows no default */
} pvm_plugin_key;

/* The field of a repeatable key (.repeat): its values in file order,
 * each parsed as the key's type (STRING, PATH and the names only). */
typedef struct pvm_key_list {
    char **v; /* values, malloc'd */
    size_t n; /* number of values */
} pvm_key_list;

/* The one yes/no grammar of pvm.ini, [server] and plugins alike: yes, true,
 * on, 1 or no, false, off, 0, in any case. 0, or PVM_ERR_BAD_DATA with
 * *out untouched. */
int pvm_parse_bool(const char *s, bool *out);

/* The project's name validators (Prometheus' legacy syntax, which the
 * text formats and SQL columns use). */
bool pvm_is_metric_name(const char *s); /* [a-zA-Z_:][a-zA-Z0-9_:]* */
bool pvm_is_label_name(const char *s);  /* [a-zA-Z_][a-zA-Z0-9_]* */

/* A file path from a setting, resolved against the directory of the
 * configuration file base: absolute paths unchanged, relative ones
 * relative to that directory (unchanged when base has none or is NULL,
 * but "file:..." becomes "./file:..." so that SQLite never reads it as a
 * URI). malloc'd, or NULL when out of memory. */
char *pvm_path_resolve(const char *base, const char *path);

/* Reads a secret (password, token) from a file named by a setting
 * (password_file, bearer_token_file): the whole file without its trailing
 * newline characters, at most 64 KiB. The file must exist and be
 * readable; an empty secret is refused. Returns the secret, malloc'd (the
 * caller wipes it with pvm_secret_free), or NULL with err saying what is
 * wrong with the FILE (never its content). */
char *pvm_secret_file_read(const char *path, pvm_error *err);

/* Overwrites the secret with zeros and frees it (NULL: nothing). */
void pvm_secret_free(char *secret);

/* Finds key in a table ({NULL}-ended), or NULL. */
const pvm_plugin_key *pvm_plugin_key_find(const pvm_plugin_key *keys,
                                          const char *key);

/* Parses value as k says and stores it at state + k->offset (appends for
 * a repeatable key; frees the string it replaces). base is the
 * configuration file's path for PVM_KEY_PATH (NULL: kept as given). 0, or
 * a negative status with err->msg saying what was expected
 * ("must be an integer from 1 to 100, not 'x'"). PVM_KEY_CUSTOM: nothing
 * is done, 0. */
int pvm_plugin_key_set(const pvm_plugin_key *k, void *state, const char *value,
                       const char *base, pvm_error *err);

/* Frees the strings and lists a table's setters stored in state and
 * zeroes those fields. */
void pvm_plugin_keys_free(const pvm_plugin_key *keys, void *state);

/* "string", "bool", "integer", "size", "duration", "one of a|b|c",
 * "metric name", "label name", "path", "text", "number": what --describe
 * prints as a key's type (written into buf, n bytes; returns buf). */
const char *pvm_plugin_key_type_text(const pvm_plugin_key *k, char *buf,
                                     size_t n);

#endif
