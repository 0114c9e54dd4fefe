/* fuzz_remote_read.c: libFuzzer target for POST /api/v1/read (the
 * remote-read decoder and everything behind it), in-process through the
 * test kit with the example plugin. The first byte picks the form of the
 * rest: even, the request body as sent (snappy-compressed protobuf); odd,
 * a raw protobuf ReadRequest that the target compresses first, so that
 * the fuzzer reaches the matchers, windows and encoders. Every answer must
 * be complete: 200 with a ReadResponse of one result per query (SAMPLES)
 * or well-formed CRC-checked frames (STREAMED_XOR_CHUNKS), or a
 * plain-text 400/503 (abort otherwise). */
#include <snappy-c.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <pvm/testkit.h>

#include "prompb.pb-c.h"
#include "remote/xor.h"

extern const pvm_plugin_type pvm_plugin_example;

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static const pvm_plugin_type *const table[] = {&pvm_plugin_example, NULL};

/* Small limits, so that no input can make one run slow. */
static const char ini[] = "[server]\n"
                          "max_body_bytes = 65536\n"
                          "max_samples = 20000\n"
                          /* the engine's deadline, 5/6 of it (5 s), stays
                           * below run.sh's -timeout=10 */
                          "request_timeout = 6s\n"
                          "max_request_memory = 128M\n"
                          "access_log = off\n"
                          "log_level = error\n"
                          "[plugin:example]\n";

static pvm_testkit *kit;

/* The number of queries of the request body (snappy protobuf), or -1. */
static long count_queries(const char *body, size_t len)
{
    size_t n;
    if (snappy_uncompressed_length(body, len, &n) != SNAPPY_OK ||
        n > (32u << 20))
        return -1;
    char *raw = malloc(n ? n : 1);
    if (!raw || snappy_uncompress(body, len, raw, &n) != SNAPPY_OK) {
        free(raw);
        return -1;
    }
    Pvm__Prompb__ReadRequest *rq =
        pvm__prompb__read_request__unpack(NULL, n, (uint8_t *)raw);
    free(raw);
    if (!rq)
        return -1;
    long q = (long)rq->n_queries;
    pvm__prompb__read_request__free_unpacked(rq, NULL);
    return q;
}

static void check_samples(const pvm_test_response *r, long nq)
{
    size_t n;
    if (snappy_uncompressed_length(r->body, r->body_len, &n) != SNAPPY_OK)
        abort();
    char *raw = malloc(n ? n : 1);
    if (!raw || snappy_uncompress(r->body, r->body_len, raw, &n) != SNAPPY_OK)
        abort();
    Pvm__Prompb__ReadResponse *rsp =
        pvm__prompb__read_response__unpack(NULL, n, (uint8_t *)raw);
    if (!rsp || (long)rsp->n_results != nq)
        abort();
    pvm__prompb__read_response__free_unpacked(rsp, NULL);
    free(raw);
}

static void check_frames(const pvm_test_response *r, long nq)
{
    const uint8_t *p = (const uint8_t *)r->body, *end = p + r->body_len;
    while (p < end) {
        uint64_t len = 0;
        int shift = 0;
        while (p < end && (*p & 0x80) && shift < 63) {
            len |= (uint64_t)(*p++ & 0x7f) << shift;
            shift += 7;
        }
        if (p >= end)
            abort();
        len |= (uint64_t)*p++ << shift;
        if ((uint64_t)(end - p) < 4 || (uint64_t)(end - p) - 4 < len)
            abort();
        uint32_t crc = (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 |
                       (uint32_t)p[2] << 8 | p[3];
        if (crc != pvm_crc32c(p + 4, len))
            abort();
        Pvm__Prompb__ChunkedReadResponse *fr =
            pvm__prompb__chunked_read_response__unpack(NULL, len, p + 4);
        if (!fr || fr->query_index < 0 || fr->query_index >= nq)
            abort();
        pvm__prompb__chunked_read_response__free_unpacked(fr, NULL);
        p += 4 + len;
    }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static const char *const headers[] = {
        "Content-Type: application/x-protobuf", "Content-Encoding: snappy",
        NULL};
    if (size < 1 || size > 16384)
        return 0;
    if (!kit) {
        char err[256];
        kit = pvm_testkit_new(ini, table, err, sizeof(err));
        if (!kit) {
            fprintf(stderr, "fuzz_remote_read: %s\n", err);
            abort();
        }
    }
    const char *body = (const char *)data + 1;
    size_t len = size - 1;
    char *z = NULL;
    if (data[0] & 1) {
        size_t zlen = snappy_max_compressed_length(len);
        z = malloc(zlen);
        if (!z || snappy_compress(body, len, z, &zlen) != SNAPPY_OK)
            abort();
        body = z;
        len = zlen;
    }
    pvm_test_response *r = pvm_testkit_request_bytes(kit, "POST",
                                                     "/api/v1/read", body, len,
                                                     headers);
    if (!r || !r->head)
        abort();
    const char *ct = pvm_test_response_header(r, "Content-Type");
    if (!ct)
        abort();
    if (r->status == 200) {
        long nq = count_queries(body, len);
        if (nq < 0)
            abort(); /* answered a request that does not decode */
        if (strcmp(ct, "application/x-protobuf") == 0)
            check_samples(r, nq);
        else if (strncmp(ct, "application/x-streamed-protobuf", 31) == 0)
            check_frames(r, nq);
        else
            abort();
    } else if (r->status == 400 || r->status == 503) {
        if (strncmp(ct, "text/plain", 10) != 0 || r->body_len == 0)
            abort();
    } else {
        abort();
    }
    pvm_test_response_free(r);
    free(z);
    return 0;
}
