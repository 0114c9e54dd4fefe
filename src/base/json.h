/* json.h: streaming JSON writer. Writes compact JSON through a sink
 * callback, byte for byte as Prometheus' API does (jsoniter with the
 * standard library configuration): Go-style string escaping with HTML
 * escaping, sample values as strings in Go's float format, timestamps as
 * seconds with millisecond decimals. Commas are automatic; the first error
 * (a sink failure or a misuse) sticks and every later call returns it. */
#ifndef PVM_JSON_H
#define PVM_JSON_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <pvm/arena.h>
#include <pvm/error.h>

#include "gofloat.h" /* pvm_format_float, pvm_format_timestamp */

/* Receives output: returns 0, or a negative pvm_status that stops the
 * writer (it is returned by every later call). */
typedef int (*pvm_json_sink_fn)(void *ctx, const char *buf, size_t len);

typedef struct pvm_json pvm_json;

/* Deepest nesting of {} and []: room for the JSON AST of parse_query
 * (up to two levels per level of the deepest expression the parser
 * accepts, PVM_PROMQL_MAX_DEPTH = 1000, checked in ast_json.c) inside the
 * envelope. */
#define PVM_JSON_MAX_DEPTH 2048
#define PVM_JSON_BUFSIZE (64 * 1024) /* default buffer size */

/* Creates a writer in arena a with a buffer of bufsize bytes (0: the
 * default, PVM_JSON_BUFSIZE). Output reaches sink(ctx, ...) when the buffer
 * is full and on pvm_json_flush. Returns NULL when out of memory. Valid
 * until the arena is freed; nothing to release. */
pvm_json *pvm_json_new(pvm_arena *a, size_t bufsize, pvm_json_sink_fn sink,
                       void *ctx);

/* Containers. Each returns 0 or the sticky error; ending the wrong kind,
 * nesting deeper than PVM_JSON_MAX_DEPTH, a value in an object without a
 * key, or a key outside an object give PVM_ERR_INTERNAL. */
int pvm_json_begin_object(pvm_json *j);
int pvm_json_end_object(pvm_json *j);
int pvm_json_begin_array(pvm_json *j);
int pvm_json_end_array(pvm_json *j);

/* An object key (escaped like strings); the next call writes its value. */
int pvm_json_key(pvm_json *j, const char *key);
int pvm_json_key_n(pvm_json *j, const char *key, size_t len);

/* A string value: NUL-terminated, or len bytes (may contain NUL and
 * invalid UTF-8, written as \u0000 and \ufffd). */
int pvm_json_string(pvm_json *j, const char *s);
int pvm_json_string_n(pvm_json *j, const char *s, size_t len);

/* Numbers and literals. */
int pvm_json_int64(pvm_json *j, int64_t v);
int pvm_json_bool(pvm_json *j, bool v);
int pvm_json_null(pvm_json *j);

/* A sample value: a JSON string with Prometheus' float text ("1", "0.1",
 * "1e-07", "NaN", "+Inf", "-Inf"; see pvm_format_float). */
int pvm_json_float(pvm_json *j, double v);

/* A timestamp in ms as a JSON number of seconds: "1767355200",
 * "1767355200.5" is written 1767355200.500, -1500 as -1.500. */
int pvm_json_timestamp(pvm_json *j, int64_t ms);

/* A complete JSON value written verbatim (the caller vouches for it),
 * with the comma handled like any value. */
int pvm_json_raw(pvm_json *j, const char *s, size_t len);

/* Sends buffered output to the sink. Returns 0 or the sticky error. */
int pvm_json_flush(pvm_json *j);

/* The sticky error (0 when none). */
int pvm_json_error(const pvm_json *j);

/* The ctx given to pvm_json_new. */
void *pvm_json_sink_ctx(const pvm_json *j);

/* Nesting depth (0 at top level) and bytes produced so far (sent or
 * buffered). */
size_t pvm_json_depth(const pvm_json *j);
uint64_t pvm_json_bytes(const pvm_json *j);

#endif
