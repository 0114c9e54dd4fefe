/* read.h: Prometheus' remote-read protocol (POST /api/v1/read): a
 * snappy-compressed protobuf ReadRequest of several queries (label
 * matchers, a time window, hints), answered with the raw samples the
 * plugins' query hooks produce for each, as a ReadResponse (SAMPLES) or a
 * stream of ChunkedReadResponse frames (STREAMED_XOR_CHUNKS). */
#ifndef PVM_REMOTE_READ_H
#define PVM_REMOTE_READ_H

#include <stddef.h>

#include "api_call.h"
#include "query_impl.h"
#include "prompb.pb-c.h"

/* Largest decompressed request accepted (Prometheus reads at most 32 MiB
 * of a remote-read body). */
#define PVM_REMOTE_READ_MAX_DECODED (32u << 20)

/* Answers one POST /api/v1/read through out, everything in arena a, and
 * notes in ans the series count, the first query's selector, the error
 * answered and the instance whose hook failed. Always writes a whole
 * answer; errors are plain text as Prometheus
 * writes them (400 for a request that cannot be decoded, a bad matcher or
 * a sample/memory limit, 503 for the query timeout, 500 for a failing
 * plugin, or the status and headers the plugin chose). Returns the HTTP
 * status written. */
int pvm_remote_read(const pvm_api_env *env, pvm_arena *a,
                    const pvm_http_request *hr, const pvm_http_out *out,
                    pvm_answer *ans);

/* Decompresses (snappy block format) and decodes a ReadRequest of len
 * bytes into a (everything it allocates is in a). NULL with err set
 * (PVM_ERR_BAD_DATA, or PVM_ERR_NOMEM when a ran out). */
Pvm__Prompb__ReadRequest *pvm_remote_read_decode(pvm_arena *a,
                                                 const char *body, size_t len,
                                                 pvm_error *err);

/* The query of one remote-read query: a single selector made of its
 * matchers (regexes compiled, as for PromQL), with the selector printed
 * back as the query text. NULL with err set (PVM_ERR_BAD_DATA for an
 * unknown matcher type or a bad regex). */
pvm_query *pvm_remote_read_query(pvm_arena *a, const Pvm__Prompb__Query *pq,
                                 pvm_error *err);

#endif
