/* form.h: application/x-www-form-urlencoded decoding as Go's
 * url.ParseQuery and http.Request.Form do (the way Prometheus reads its
 * API parameters), percent-decoding of a path segment, and Prometheus'
 * U__ label-name unescaping. Everything decoded lives in the arena given. */
#ifndef PVM_FORM_H
#define PVM_FORM_H

#include <stdbool.h>
#include <stddef.h>

#include <pvm/arena.h>
#include <pvm/error.h>

/* One decoded key=value pair. Strings are NUL-terminated copies in the
 * arena; they may also contain NUL bytes (from %00), so use the lengths. */
typedef struct pvm_form_pair {
    const char *key;   /* decoded key */
    size_t key_len;    /* bytes in key */
    const char *value; /* decoded value ("" for a key without '=') */
    size_t value_len;  /* bytes in value */
} pvm_form_pair;

/* Pairs in input order, repeated keys included. Zero-initialise
 * (PVM_FORM_INIT) before the first pvm_form_parse. */
typedef struct pvm_form {
    pvm_form_pair *pairs; /* arena array */
    size_t n;             /* pairs in use */
} pvm_form;

#define PVM_FORM_INIT                                                         \
    {                                                                         \
        NULL, 0                                                               \
    }

/* Decodes s (len bytes) and appends its pairs to f, as url.ParseQuery:
 * pairs split on '&', empty pairs skipped, key and value split on the
 * first '=', '+' is a space, %XX a byte (hex in either case). A pair with
 * a ';' or a malformed escape ("%zz", "%4", a trailing "%") is skipped
 * and makes the result PVM_ERR_BAD_DATA with Go's message for the first
 * such pair ("invalid semicolon separator in query", `invalid URL escape
 * "%zz"`); the other pairs are still added, as Go does. Returns 0,
 * PVM_ERR_BAD_DATA or PVM_ERR_NOMEM. */
int pvm_form_parse(pvm_form *f, pvm_arena *a, const char *s, size_t len,
                   pvm_error *err);

/* Builds out as http.Request.Form: the pairs of body first, then those of
 * query (either may be NULL). Pairs are shared, not copied. Returns 0 or
 * PVM_ERR_NOMEM. */
int pvm_form_merge(pvm_form *out, pvm_arena *a, const pvm_form *body,
                   const pvm_form *query);

/* The first value of key (FormValue), or NULL when absent. */
const char *pvm_form_get(const pvm_form *f, const char *key);

/* Same, with its length in *len (may be NULL). */
const char *pvm_form_get_n(const pvm_form *f, const char *key, size_t *len);

/* Number of values of key (e.g. repeated match[]). */
size_t pvm_form_count(const pvm_form *f, const char *key);

/* Iterates the values of key in order: set *pos = 0, then call until it
 * returns NULL. */
const pvm_form_pair *pvm_form_next(const pvm_form *f, const char *key,
                                   size_t *pos);

/* Decodes %XX in a path segment ('+' stays '+'), as url.PathUnescape.
 * On success *out (NUL-terminated, in a) and *out_len are set; a malformed
 * escape gives PVM_ERR_BAD_DATA (`invalid URL escape "%zz"`). */
int pvm_path_unescape(pvm_arena *a, const char *s, size_t len, char **out,
                      size_t *out_len, pvm_error *err);

/* Prometheus' model.UnescapeName with value-encoding escaping, as the
 * /api/v1/label/<name>/values handler applies it to names starting with
 * "U__": after the prefix, "__" is '_' and "_HEX_" a code point (1-6 hex
 * digits, a valid scalar value); any other '_' makes the whole name stay
 * as it was. Names without the prefix are returned unchanged. *out is
 * NUL-terminated in a (or s itself when unchanged). Returns 0 or
 * PVM_ERR_NOMEM. */
int pvm_label_name_unescape(pvm_arena *a, const char *s, size_t len,
                            const char **out, size_t *out_len);

/* True when s (n bytes) is valid UTF-8 (no overlongs, surrogates or code
 * points above U+10FFFF). */
bool pvm_is_valid_utf8(const char *s, size_t n); /* = pvm_utf8_is_valid */

#endif
