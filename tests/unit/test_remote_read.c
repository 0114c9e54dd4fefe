/* test_remote_read.c: POST /api/v1/read in-process through the test kit
 * with the example plugin, driven by a hand-written remote-read client:
 * requests are built with the protobuf-c messages and snappy, answers
 * decoded the same way; STREAMED_XOR_CHUNKS frames are checked with an
 * independent XOR chunk decoder written after Prometheus' iterator. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <math.h>
#include <string.h>

#include <cmocka.h>
#include <snappy-c.h>

#include <pvm/testkit.h>

#include "kitutil.h"

#include "prompb.pb-c.h"
#include "remote/xor.h"

extern const pvm_plugin_type pvm_plugin_example;

static const pvm_plugin_type *const table[] = {&pvm_plugin_example, NULL};

#define METRIC "prometheus_virtual_metrics_example_metric"

/* A time on no round grid, in ms: answers must keep their timestamps. */
#define T0 1700000012345LL

static const char ini[] = "[plugin:example]\n";
static const char ini_limited[] = "[server]\nmax_samples = 100\n"
                                  "[plugin:example]\n";

static int setup(void **state)
{
    return setup_kit(state, ini, table);
}

static int setup_limited(void **state)
{
    return setup_kit(state, ini_limited, table);
}

/* A small memory cap, and a query timeout any real query outlasts. */
static const char ini_small[] = "[server]\nmax_request_memory = 16M\n"
                                "max_query_timeout = 1ms\n"
                                "[plugin:example]\n";

static int setup_small(void **state)
{
    return setup_kit(state, ini_small, table);
}

/* ---- a small remote-read client ---------------------------------------- */

#define MAXM 4

/* One query under construction. */
typedef struct tq {
    Pvm__Prompb__Query q;
    Pvm__Prompb__ReadHints h;
    Pvm__Prompb__LabelMatcher m[MAXM];
    Pvm__Prompb__LabelMatcher *pm[MAXM];
} tq;

static void tq_init(tq *t, int64_t start, int64_t end, int64_t step)
{
    pvm__prompb__query__init(&t->q);
    pvm__prompb__read_hints__init(&t->h);
    t->q.start_timestamp_ms = start;
    t->q.end_timestamp_ms = end;
    t->h.start_ms = start;
    t->h.end_ms = end;
    t->h.step_ms = step;
    t->q.hints = &t->h;
    t->q.matchers = t->pm;
}

static void tq_match(tq *t, Pvm__Prompb__LabelMatcher__Type type,
                     const char *name, const char *value)
{
    size_t i = t->q.n_matchers++;
    assert_true(i < MAXM);
    pvm__prompb__label_matcher__init(&t->m[i]);
    t->m[i].type = type;
    t->m[i].name = (char *)name;
    t->m[i].value = (char *)value;
    t->pm[i] = &t->m[i];
}

/* Packs and compresses a request of n queries; caller frees. */
static char *encode(tq *qs, size_t n, const int *types, size_t ntypes,
                    size_t *len)
{
    Pvm__Prompb__ReadRequest rq = PVM__PROMPB__READ_REQUEST__INIT;
    Pvm__Prompb__Query *pq[8];
    Pvm__Prompb__ReadRequest__ResponseType rt[4];
    assert_true(n <= 8 && ntypes <= 4);
    for (size_t i = 0; i < n; i++)
        pq[i] = &qs[i].q;
    for (size_t i = 0; i < ntypes; i++)
        rt[i] = (Pvm__Prompb__ReadRequest__ResponseType)types[i];
    rq.queries = pq;
    rq.n_queries = n;
    rq.accepted_response_types = rt;
    rq.n_accepted_response_types = ntypes;
    size_t raw_len = pvm__prompb__read_request__get_packed_size(&rq);
    uint8_t *raw = malloc(raw_len + 1);
    size_t zlen = snappy_max_compressed_length(raw_len);
    char *z = malloc(zlen);
    assert_non_null(raw);
    assert_non_null(z);
    pvm__prompb__read_request__pack(&rq, raw);
    assert_int_equal(snappy_compress((char *)raw, raw_len, z, &zlen),
                     SNAPPY_OK);
    free(raw);
    *len = zlen;
    return z;
}

static pvm_test_response *post(void **state, const char *body, size_t len)
{
    static const char *const headers[] = {
        "Content-Type: application/x-protobuf", "Content-Encoding: snappy",
        "X-Prometheus-Remote-Read-Version: 0.1.0", NULL};
    return pvm_testkit_request_bytes(*state, "POST", "/api/v1/read", body, len,
                                     headers);
}

/* Sends n queries accepting SAMPLES and returns the decoded answer. */
static Pvm__Prompb__ReadResponse *read_samples(void **state, tq *qs, size_t n)
{
    size_t len;
    char *body = encode(qs, n, NULL, 0, &len);
    pvm_test_response *r = post(state, body, len);
    free(body);
    assert_non_null(r);
    if (r->status != 200)
        fprintf(stderr, "got %d: %s\n", r->status, r->body);
    assert_int_equal(r->status, 200);
    assert_string_equal(pvm_test_response_header(r, "Content-Type"),
                        "application/x-protobuf");
    assert_string_equal(pvm_test_response_header(r, "Content-Encoding"),
                        "snappy");
    size_t raw_len;
    assert_int_equal(snappy_uncompressed_length(r->body, r->body_len,
                                                &raw_len),
                     SNAPPY_OK);
    char *raw = malloc(raw_len + 1);
    assert_non_null(raw);
    assert_int_equal(snappy_uncompress(r->body, r->body_len, raw, &raw_len),
                     SNAPPY_OK);
    Pvm__Prompb__ReadResponse *rsp =
        pvm__prompb__read_response__unpack(NULL, raw_len, (uint8_t *)raw);
    assert_non_null(rsp);
    free(raw);
    pvm_test_response_free(r);
    return rsp;
}

/* Expects a plain-text error with status and a message containing needle. */
static void expect_error(pvm_test_response *r, int status, const char *needle)
{
    assert_non_null(r);
    if (r->status != status || !strstr(r->body, needle))
        fprintf(stderr, "got %d: %s\n", r->status, r->body);
    assert_int_equal(r->status, status);
    assert_non_null(
        strstr(pvm_test_response_header(r, "Content-Type"), "text/plain"));
    assert_non_null(strstr(r->body, needle));
    pvm_test_response_free(r);
}

static const char *label(const Pvm__Prompb__TimeSeries *ts, const char *name)
{
    for (size_t i = 0; i < ts->n_labels; i++)
        if (strcmp(ts->labels[i]->name, name) == 0)
            return ts->labels[i]->value;
    return NULL;
}

/* The value pvm's own /api/v1/query gives for one series at t (ms). */
static double query_value(void **state, const char *type, const char *amp,
                          int64_t t)
{
    char q[256];
    snprintf(q, sizeof(q), METRIC "{type=\"%s\",amplitude=\"%s\"}", type, amp);
    pvm_test_response *r = pvm_testkit_instant(*state, q, (double)t / 1000);
    assert_int_equal(r->status, 200);
    assert_int_equal(pvm_test_json_length(r->json, "data.result"), 1);
    const char *v = pvm_test_json_string(r->json, "data.result[0].value[1]");
    assert_non_null(v);
    double d = strtod(v, NULL);
    pvm_test_response_free(r);
    return d;
}

/* ---- tests ------------------------------------------------------------- */

/* Three queries in one request: a name and a label, a regex on the name
 * with a negative matcher, and one that matches nothing. */
static void test_several_queries(void **state)
{
    tq qs[3];
    int64_t start = T0 - 60000, end = T0;
    tq_init(&qs[0], start, end, 0);
    tq_match(&qs[0], PVM__PROMPB__LABEL_MATCHER__TYPE__EQ, "__name__", METRIC);
    tq_match(&qs[0], PVM__PROMPB__LABEL_MATCHER__TYPE__EQ, "type", "sine");
    tq_init(&qs[1], start, end, 0);
    tq_match(&qs[1], PVM__PROMPB__LABEL_MATCHER__TYPE__RE, "__name__",
             "prometheus_virtual_.*");
    tq_match(&qs[1], PVM__PROMPB__LABEL_MATCHER__TYPE__NEQ, "amplitude", "1");
    tq_match(&qs[1], PVM__PROMPB__LABEL_MATCHER__TYPE__NRE, "type", "s.*");
    tq_init(&qs[2], start, end, 0);
    tq_match(&qs[2], PVM__PROMPB__LABEL_MATCHER__TYPE__EQ, "__name__",
             "no_such_metric");
    Pvm__Prompb__ReadResponse *rsp = read_samples(state, qs, 3);
    assert_int_equal(rsp->n_results, 3);
    assert_int_equal(rsp->results[0]->n_timeseries, 3); /* 3 amplitudes */
    assert_int_equal(rsp->results[1]->n_timeseries, 2); /* cosine 5, 10 */
    assert_int_equal(rsp->results[2]->n_timeseries, 0);
    for (size_t q = 0; q < 2; q++) {
        for (size_t i = 0; i < rsp->results[q]->n_timeseries; i++) {
            const Pvm__Prompb__TimeSeries *ts = rsp->results[q]->timeseries[i];
            assert_string_equal(label(ts, "__name__"), METRIC);
            assert_string_equal(label(ts, "type"), q ? "cosine" : "sine");
            /* sorted labels, as Prometheus sends them */
            for (size_t k = 1; k < ts->n_labels; k++)
                assert_true(
                    strcmp(ts->labels[k - 1]->name, ts->labels[k]->name) < 0);
            /* a 15 s grid anchored at end: start..end has 5 samples */
            assert_int_equal(ts->n_samples, 5);
            for (size_t k = 0; k < ts->n_samples; k++) {
                int64_t t = ts->samples[k]->timestamp;
                assert_true(t >= start && t <= end);
                assert_int_equal(t, end - (int64_t)(4 - k) * 15000);
            }
            /* the values pvm's own query API gives at those times */
            const Pvm__Prompb__Sample *last = ts->samples[4];
            double want = query_value(state, label(ts, "type"),
                                      label(ts, "amplitude"), last->timestamp);
            assert_true(last->value == want);
        }
    }
    pvm__prompb__read_response__free_unpacked(rsp, NULL);
}

/* A range query's hints: the step of the query, so that the samples fall
 * on its evaluation times. */
static void test_range_hints(void **state)
{
    tq q;
    tq_init(&q, T0 - 600000, T0, 60000);
    tq_match(&q, PVM__PROMPB__LABEL_MATCHER__TYPE__EQ, "__name__", METRIC);
    tq_match(&q, PVM__PROMPB__LABEL_MATCHER__TYPE__EQ, "type", "sawtooth");
    tq_match(&q, PVM__PROMPB__LABEL_MATCHER__TYPE__EQ, "amplitude", "10");
    Pvm__Prompb__ReadResponse *rsp = read_samples(state, &q, 1);
    assert_int_equal(rsp->n_results, 1);
    assert_int_equal(rsp->results[0]->n_timeseries, 1);
    const Pvm__Prompb__TimeSeries *ts = rsp->results[0]->timeseries[0];
    assert_int_equal(ts->n_samples, 11);
    for (size_t k = 0; k < 11; k++) {
        int64_t t = ts->samples[k]->timestamp;
        assert_int_equal(t, T0 - 600000 + (int64_t)k * 60000);
        assert_true(ts->samples[k]->value ==
                    query_value(state, "sawtooth", "10", t));
    }
    pvm__prompb__read_response__free_unpacked(rsp, NULL);
}

/* Hints no query sends (steps and ranges of years, negative ones) are
 * not followed into huge or overflowing grids: the window is sampled as
 * for an instant query. */
static void test_absurd_hints(void **state)
{
    static const int64_t steps[] = {INT64_MAX, 86400001, -5, 0};
    static const int64_t ranges[] = {INT64_MAX, -1, 86400001, 3};
    for (size_t i = 0; i < 4; i++) {
        tq q;
        tq_init(&q, T0 - 60000, T0, steps[i]);
        q.h.range_ms = ranges[i];
        tq_match(&q, PVM__PROMPB__LABEL_MATCHER__TYPE__EQ, "__name__", METRIC);
        tq_match(&q, PVM__PROMPB__LABEL_MATCHER__TYPE__EQ, "type", "sine");
        tq_match(&q, PVM__PROMPB__LABEL_MATCHER__TYPE__EQ, "amplitude", "1");
        Pvm__Prompb__ReadResponse *rsp = read_samples(state, &q, 1);
        const Pvm__Prompb__TimeSeries *ts = rsp->results[0]->timeseries[0];
        /* 15 s anchored at the end; for the 3 ms range 1 ms, grown to
         * 2 ms by the limit of 50,000 timestamps per fetch */
        assert_int_equal(ts->n_samples, i == 3 ? 30001 : 5);
        assert_int_equal(ts->samples[ts->n_samples - 1]->timestamp, T0);
        pvm__prompb__read_response__free_unpacked(rsp, NULL);
    }
}

/* No queries, a window that ends before it starts, nothing matching. */
static void test_empty_results(void **state)
{
    Pvm__Prompb__ReadResponse *rsp = read_samples(state, NULL, 0);
    assert_int_equal(rsp->n_results, 0);
    pvm__prompb__read_response__free_unpacked(rsp, NULL);
    tq qs[2];
    tq_init(&qs[0], T0, T0 - 1, 0);
    tq_match(&qs[0], PVM__PROMPB__LABEL_MATCHER__TYPE__EQ, "__name__", METRIC);
    tq_init(&qs[1], T0 - 60000, T0, 0);
    tq_match(&qs[1], PVM__PROMPB__LABEL_MATCHER__TYPE__EQ, "type", "triangle");
    rsp = read_samples(state, qs, 2);
    assert_int_equal(rsp->n_results, 2);
    assert_int_equal(rsp->results[0]->n_timeseries, 0);
    assert_int_equal(rsp->results[1]->n_timeseries, 0);
    pvm__prompb__read_response__free_unpacked(rsp, NULL);
}

static void test_bad_regex(void **state)
{
    tq qs[2];
    tq_init(&qs[0], T0 - 60000, T0, 0);
    tq_match(&qs[0], PVM__PROMPB__LABEL_MATCHER__TYPE__EQ, "__name__", METRIC);
    tq_init(&qs[1], T0 - 60000, T0, 0);
    tq_match(&qs[1], PVM__PROMPB__LABEL_MATCHER__TYPE__RE, "type", "sin(e");
    size_t len;
    char *body = encode(qs, 2, NULL, 0, &len);
    expect_error(post(state, body, len), 400, "invalid regular expression");
    free(body);
}

static void test_bad_matcher_type(void **state)
{
    tq q;
    tq_init(&q, T0 - 60000, T0, 0);
    tq_match(&q, (Pvm__Prompb__LabelMatcher__Type)7, "type", "sine");
    size_t len;
    char *body = encode(&q, 1, NULL, 0, &len);
    expect_error(post(state, body, len), 400, "invalid matcher type 7");
    free(body);
}

/* max_samples = 100 (setup_limited): 12 series x 21 samples is over it,
 * and so are two queries of 3 x 21 together; one of them is not. */
static void test_sample_limit(void **state)
{
    tq qs[2];
    tq_init(&qs[0], T0 - 300000, T0, 0);
    tq_match(&qs[0], PVM__PROMPB__LABEL_MATCHER__TYPE__EQ, "__name__", METRIC);
    size_t len;
    char *body = encode(qs, 1, NULL, 0, &len);
    expect_error(post(state, body, len), 400, "exceeded sample limit (100)");
    free(body);
    for (int i = 0; i < 2; i++) {
        tq_init(&qs[i], T0 - 300000, T0, 0);
        tq_match(&qs[i], PVM__PROMPB__LABEL_MATCHER__TYPE__EQ, "type",
                 "square");
        tq_match(&qs[i], PVM__PROMPB__LABEL_MATCHER__TYPE__EQ, "__name__",
                 METRIC);
    }
    Pvm__Prompb__ReadResponse *rsp = read_samples(state, qs, 1);
    assert_int_equal(rsp->results[0]->n_timeseries, 3);
    pvm__prompb__read_response__free_unpacked(rsp, NULL);
    body = encode(qs, 2, NULL, 0, &len);
    expect_error(post(state, body, len), 400, "exceeded sample limit");
    free(body);
}

/* Bodies that are not snappy, snappy that is not a ReadRequest, lengths
 * that lie, an empty body: 400 each, and the server answers the next. */
static void test_garbage(void **state)
{
    static const char not_snappy[] = "\xff\xff\xff\xff\xff\xff\xff";
    expect_error(post(state, not_snappy, sizeof(not_snappy) - 1), 400,
                 "snappy");
    expect_error(post(state, "", 0), 400, "snappy");
    expect_error(pvm_testkit_request(*state, "POST", "/api/v1/read",
                                     "query=up", NULL),
                 400, "snappy");
    /* valid snappy of bytes that are no protobuf message */
    static const char junk[] = "\x0a\xff\xff\xff\xff\x0f\x01";
    char z[64];
    size_t zlen = sizeof(z);
    assert_int_equal(snappy_compress(junk, sizeof(junk) - 1, z, &zlen),
                     SNAPPY_OK);
    expect_error(post(state, z, zlen), 400, "proto");
    /* a truncated valid request */
    tq q;
    tq_init(&q, T0 - 60000, T0, 0);
    tq_match(&q, PVM__PROMPB__LABEL_MATCHER__TYPE__EQ, "__name__", METRIC);
    size_t len;
    char *body = encode(&q, 1, NULL, 0, &len);
    expect_error(post(state, body, len - 3), 400, "snappy");
    /* a decoded length far over the limit */
    static const char huge[] = "\xff\xff\xff\xff\x0f\x00";
    expect_error(post(state, huge, sizeof(huge) - 1), 400, "snappy");
    /* only unknown response types */
    free(body);
    int types[] = {5};
    body = encode(&q, 1, types, 1, &len);
    expect_error(post(state, body, len), 400, "response types");
    free(body);
    /* still serving */
    Pvm__Prompb__ReadResponse *rsp = read_samples(state, &q, 1);
    assert_int_equal(rsp->results[0]->n_timeseries, 12);
    pvm__prompb__read_response__free_unpacked(rsp, NULL);
}

/* max_request_memory = 16M: 12 series x 36,001 samples do not fit (400,
 * as Prometheus answers limits); max_query_timeout = 1ms: the second query
 * of a request whose first took longer is not started (503). */
static void test_memory_and_timeout(void **state)
{
    tq qs[2];
    tq_init(&qs[0], T0 - 36000000, T0, 1000);
    tq_match(&qs[0], PVM__PROMPB__LABEL_MATCHER__TYPE__EQ, "__name__", METRIC);
    size_t len;
    char *body = encode(qs, 1, NULL, 0, &len);
    expect_error(post(state, body, len), 400, "too much memory");
    free(body);
    /* 1 series x 36,001 samples fits, and takes well over 1 ms */
    tq_match(&qs[0], PVM__PROMPB__LABEL_MATCHER__TYPE__EQ, "type", "sine");
    tq_match(&qs[0], PVM__PROMPB__LABEL_MATCHER__TYPE__EQ, "amplitude", "1");
    tq_init(&qs[1], T0 - 60000, T0, 0);
    tq_match(&qs[1], PVM__PROMPB__LABEL_MATCHER__TYPE__EQ, "__name__", METRIC);
    Pvm__Prompb__ReadResponse *rsp = read_samples(state, qs, 1);
    assert_int_equal(rsp->results[0]->timeseries[0]->n_samples, 36001);
    pvm__prompb__read_response__free_unpacked(rsp, NULL);
    body = encode(qs, 2, NULL, 0, &len);
    expect_error(post(state, body, len), 503, "timed out");
    free(body);
}

static void test_method(void **state)
{
    pvm_test_response *r = pvm_testkit_request(*state, "GET", "/api/v1/read",
                                               NULL, NULL);
    assert_int_equal(r->status, 405);
    assert_non_null(strstr(r->body, "use POST"));
    pvm_test_response_free(r);
}

/* ---- STREAMED_XOR_CHUNKS ----------------------------------------------- */

/* An XOR chunk reader after Prometheus' xorIterator. */
typedef struct bitreader {
    const uint8_t *b;
    size_t n;
    size_t pos; /* bit position */
} bitreader;

static uint64_t rbits(bitreader *r, int nbits)
{
    uint64_t v = 0;
    for (int i = 0; i < nbits; i++) {
        assert_true(r->pos / 8 < r->n);
        v = v << 1 | ((r->b[r->pos / 8] >> (7 - r->pos % 8)) & 1);
        r->pos++;
    }
    return v;
}

static uint64_t ruvarint(bitreader *r)
{
    uint64_t v = 0;
    for (int shift = 0; shift < 64; shift += 7) {
        uint64_t byte = rbits(r, 8);
        v |= (byte & 0x7f) << shift;
        if (!(byte & 0x80))
            break;
    }
    return v;
}

static double from_bits(uint64_t u)
{
    double d;
    memcpy(&d, &u, sizeof(d));
    return d;
}

static uint64_t to_bits(double d)
{
    uint64_t u;
    memcpy(&u, &d, sizeof(u));
    return u;
}

/* Decodes chunk data into t[], v[] (at most max); returns the count. */
static size_t xor_decode(const uint8_t *b, size_t n, int64_t *t, double *v,
                         size_t max)
{
    assert_true(n >= 2);
    size_t count = (size_t)b[0] << 8 | b[1];
    assert_true(count <= max);
    bitreader r = {b, n, 16};
    uint64_t tdelta = 0;
    int leading = 0, trailing = 0;
    for (size_t i = 0; i < count; i++) {
        if (i == 0) {
            uint64_t u = ruvarint(&r);
            t[0] = (int64_t)(u >> 1) ^ -(int64_t)(u & 1);
            v[0] = from_bits(rbits(&r, 64));
            continue;
        }
        if (i == 1) {
            tdelta = ruvarint(&r);
        } else {
            int d = 0;
            for (int k = 0; k < 4; k++) {
                d <<= 1;
                if (!rbits(&r, 1))
                    break;
                d |= 1;
            }
            int sz = d == 0x2 ? 14 : d == 0x6 ? 17 : d == 0xe ? 20 : 0;
            int64_t dod = 0;
            if (d == 0xf)
                dod = (int64_t)rbits(&r, 64);
            if (sz) {
                uint64_t bits = rbits(&r, sz);
                if (bits > (1ULL << (sz - 1)))
                    bits -= 1ULL << sz;
                dod = (int64_t)bits;
            }
            tdelta = (uint64_t)((int64_t)tdelta + dod);
        }
        t[i] = t[i - 1] + (int64_t)tdelta;
        v[i] = v[i - 1];
        if (rbits(&r, 1)) {
            if (rbits(&r, 1)) {
                leading = (int)rbits(&r, 5);
                int mbits = (int)rbits(&r, 6);
                if (mbits == 0)
                    mbits = 64;
                trailing = 64 - leading - mbits;
            }
            int mbits = 64 - leading - trailing;
            uint64_t bits = rbits(&r, mbits);
            v[i] = from_bits(to_bits(v[i - 1]) ^ (bits << trailing));
        }
    }
    return count;
}

static uint32_t be32(const uint8_t *p)
{
    return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 |
           p[3];
}

static void test_crc32c(void **state)
{
    (void)state;
    /* the check value of CRC-32C */
    assert_int_equal(pvm_crc32c("123456789", 9), 0xe3069283u);
}

/* The same two queries as SAMPLES and as chunks must give the same
 * samples; a long window gives series of several 120-sample chunks. */
static void test_xor_chunks(void **state)
{
    tq qs[2];
    int64_t start = T0 - 3600000, end = T0;
    tq_init(&qs[0], start, end, 1000); /* 1 s step: 3601 samples */
    tq_match(&qs[0], PVM__PROMPB__LABEL_MATCHER__TYPE__EQ, "__name__", METRIC);
    tq_match(&qs[0], PVM__PROMPB__LABEL_MATCHER__TYPE__RE, "type",
             "sine|square");
    tq_init(&qs[1], start, end, 0);
    tq_match(&qs[1], PVM__PROMPB__LABEL_MATCHER__TYPE__EQ, "__name__", METRIC);
    tq_match(&qs[1], PVM__PROMPB__LABEL_MATCHER__TYPE__EQ, "amplitude", "5");
    Pvm__Prompb__ReadResponse *want = read_samples(state, qs, 2);
    assert_int_equal(want->results[0]->n_timeseries, 6);
    assert_int_equal(want->results[1]->n_timeseries, 4);

    int types[] = {
        PVM__PROMPB__READ_REQUEST__RESPONSE_TYPE__STREAMED_XOR_CHUNKS,
        PVM__PROMPB__READ_REQUEST__RESPONSE_TYPE__SAMPLES};
    size_t len;
    char *body = encode(qs, 2, types, 2, &len);
    pvm_test_response *r = post(state, body, len);
    free(body);
    assert_int_equal(r->status, 200);
    assert_string_equal(pvm_test_response_header(r, "Content-Type"),
                        "application/x-streamed-protobuf; "
                        "proto=prometheus.ChunkedReadResponse");
    assert_null(pvm_test_response_header(r, "Content-Encoding"));
    const uint8_t *p = (const uint8_t *)r->body, *endp = p + r->body_len;
    size_t seen[2] = {0, 0}, frames = 0;
    static int64_t t[PVM_XOR_CHUNK_SAMPLES];
    static double v[PVM_XOR_CHUNK_SAMPLES];
    while (p < endp) {
        bitreader br = {p, (size_t)(endp - p), 0};
        uint64_t flen = ruvarint(&br);
        p += br.pos / 8;
        assert_true(p + 4 + flen <= endp);
        assert_int_equal(be32(p), pvm_crc32c(p + 4, flen));
        Pvm__Prompb__ChunkedReadResponse *fr =
            pvm__prompb__chunked_read_response__unpack(NULL, flen, p + 4);
        assert_non_null(fr);
        p += 4 + flen;
        frames++;
        size_t qi = (size_t)fr->query_index;
        assert_true(qi < 2);
        for (size_t s = 0; s < fr->n_chunked_series; s++) {
            const Pvm__Prompb__ChunkedSeries *cs = fr->chunked_series[s];
            const Pvm__Prompb__TimeSeries *ts =
                want->results[qi]->timeseries[seen[qi]++];
            assert_int_equal(cs->n_labels, ts->n_labels);
            for (size_t k = 0; k < ts->n_labels; k++)
                assert_string_equal(cs->labels[k]->value,
                                    ts->labels[k]->value);
            size_t k = 0;
            for (size_t c = 0; c < cs->n_chunks; c++) {
                const Pvm__Prompb__Chunk *ch = cs->chunks[c];
                assert_int_equal(ch->type, PVM__PROMPB__CHUNK__ENCODING__XOR);
                size_t n = xor_decode(ch->data.data, ch->data.len, t, v,
                                      PVM_XOR_CHUNK_SAMPLES);
                assert_true(n > 0);
                assert_int_equal(ch->min_time_ms, t[0]);
                assert_int_equal(ch->max_time_ms, t[n - 1]);
                for (size_t j = 0; j < n; j++, k++) {
                    assert_true(k < ts->n_samples);
                    assert_int_equal(t[j], ts->samples[k]->timestamp);
                    assert_true(to_bits(v[j]) ==
                                to_bits(ts->samples[k]->value));
                }
            }
            assert_int_equal(k, ts->n_samples);
            if (qi == 0)
                assert_int_equal(cs->n_chunks, (3601 + 119) / 120);
        }
        pvm__prompb__chunked_read_response__free_unpacked(fr, NULL);
    }
    assert_int_equal(seen[0], 6);
    assert_int_equal(seen[1], 4);
    assert_true(frames >= 2);
    pvm_test_response_free(r);
    pvm__prompb__read_response__free_unpacked(want, NULL);
}

/* Values whose XOR deltas use every encoding path: the same value, the
 * same leading/trailing window, a new window, NaN, infinities; gaps whose
 * delta-of-delta needs 14, 17, 20 and 64 bits. */
static void test_xor_encoding_paths(void **state)
{
    (void)state;
    pvm_arena *a = pvm_arena_new(1 << 20);
    pvm_point p[12] = {
        {-5000, 1.5},         {-4000, 1.5},         {-3000, 1.75},
        {-2000, 1.625},       {8000, -2.0},         {9000, NAN},
        {100000, INFINITY},   {1000000, -0.0},      {1000001, 1e300},
        {9000000000000LL, 3}, {9000000000001LL, 3}, {9000000000003LL, 4},
    };
    size_t len;
    uint8_t *b = pvm_xor_encode(a, p, 12, &len);
    assert_non_null(b);
    int64_t t[12];
    double v[12];
    assert_int_equal(xor_decode(b, len, t, v, 12), 12);
    for (size_t i = 0; i < 12; i++) {
        assert_int_equal(t[i], p[i].t);
        assert_true(to_bits(v[i]) == to_bits(p[i].v));
    }
    pvm_arena_free(a);
}

/* A test with a kit of its own, made by up (setup, setup_limited, ...). */
#define T(f, up) cmocka_unit_test_setup_teardown(f, up, teardown_kit)

int main(void)
{
    const struct CMUnitTest tests[] = {
        T(test_several_queries, setup),
        T(test_range_hints, setup),
        T(test_absurd_hints, setup),
        T(test_empty_results, setup),
        T(test_bad_regex, setup),
        T(test_bad_matcher_type, setup),
        T(test_sample_limit, setup_limited),
        T(test_garbage, setup),
        T(test_memory_and_timeout, setup_small),
        T(test_method, setup),
        cmocka_unit_test(test_crc32c),
        T(test_xor_chunks, setup),
        cmocka_unit_test(test_xor_encoding_paths),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
