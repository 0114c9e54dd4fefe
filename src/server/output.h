/* output.h: writing answers: CGI header block, then the JSON envelope
 * streamed through the JSON writer (allocated in the arena a given).
 * Nothing is buffered beyond the writer's buffer, so large matrices never
 * exist as one JSON text.
 *
 * A success's 200 header block goes out with the first body bytes, when
 * the writer's buffer (PVM_JSON_BUFSIZE, 64 KB) first fills or at the end:
 * a failure before that (a JSON nesting or usage error) answers an error
 * envelope (500 internal) instead, never a 200 with a cut body. After it
 * (a body over 64 KB whose client went away, mostly) the status is out:
 * the body ends short, which no JSON client takes for a valid answer, and
 * the function returns 500. The success writers return the
 * status they answered. */
#ifndef PVM_OUTPUT_H
#define PVM_OUTPUT_H

#include <stdint.h>

#include "http.h"
#include "ast.h"
#include "response_impl.h"

/* Writes an error answer: status from code (pvm_status_http), body
 * {"status":"error","errorType":...,"error":msg}. extra headers may be
 * NULL. Returns the HTTP status. */
int pvm_output_error(const pvm_http_out *out, int code, const char *msg,
                     const pvm_kv *headers, size_t nheaders);

/* Writes a successful answer carrying what plugins added to r (after
 * pvm_series_set_finish): vector, matrix, data strings or series objects,
 * with warnings and infos, limited to `limit` items (0 = all; adds the
 * truncation warning as Prometheus does). Returns 200. */
int pvm_output_response(pvm_arena *a, const pvm_http_out *out, pvm_response *r,
                        size_t limit);

/* Writes {"status":"success","data":{"resultType":"scalar","result":[t,"v"]}}
 * (or "string" with the string value). */
int pvm_output_scalar(pvm_arena *a, const pvm_http_out *out, int64_t t,
                      double v);
int pvm_output_string(pvm_arena *a, const pvm_http_out *out, int64_t t,
                      const char *s);

/* Writes a matrix with one label-less series holding v at every
 * timestamp from start to end by step (a scalar over a range). */
int pvm_output_scalar_range(pvm_arena *a, const pvm_http_out *out,
                            int64_t start, int64_t end, int64_t step,
                            double v);

/* Writes {"status":"success","data":<data_json>} where data_json is a
 * constant JSON text, or with data a JSON string. */
int pvm_output_data_raw(pvm_arena *a, const pvm_http_out *out,
                        const char *data_json);
int pvm_output_data_string(pvm_arena *a, const pvm_http_out *out,
                           const char *s);

/* Writes {"status":"success","data":<AST as JSON>} (parse_query). */
int pvm_output_ast(pvm_arena *a, const pvm_http_out *out, const pvm_expr *e);

struct pvm_eval_result;

/* Writes the result of an evaluated query (scalar, string, vector or
 * matrix) with the given warnings and infos (sorted, de-duplicated, at
 * most PVM_MAX_ANNOTATIONS each), at most `limit` series (0 = all). */
int pvm_output_eval(pvm_arena *a, const pvm_http_out *out,
                    const struct pvm_eval_result *res, pvm_strlist *warnings,
                    pvm_strlist *infos, size_t limit);

/* Writes a header block of any content type, with a Content-Encoding
 * when encoding is not NULL and extra headers h (may be NULL), for
 * answers with non-JSON bodies (/federate, /-/healthy, /metrics, remote
 * read's protobuf); the caller writes the body. Only this module writes
 * header lines. Returns status, or -1 when the client is gone. */
int pvm_output_head(const pvm_http_out *out, int status,
                    const char *content_type, const char *encoding,
                    const pvm_kv *h, size_t nh);

/* Writes a plain-text error answer as Go's http.Error does (remote
 * read): the header block with headers h, then msg and a newline.
 * Returns status. */
int pvm_output_text_error(const pvm_http_out *out, int status, const char *msg,
                          const pvm_kv *h, size_t nh);

/* For handlers that write their own data: the 200 header block and
 * {"status":"success","data": through a writer allocated in a, positioned
 * for the data value. NULL after answering an out-of-memory error (the
 * caller then returns). pvm_output_end_data closes the envelope and
 * flushes. */
struct pvm_json;
struct pvm_json *pvm_output_begin_data(pvm_arena *a, const pvm_http_out *out);
void pvm_output_end_data(struct pvm_json *j);

/* Writes {"status":"success"} without data. */
int pvm_output_success_no_data(pvm_arena *a, const pvm_http_out *out);

#endif
