/* read.c: POST /api/v1/read, Prometheus' remote-read protocol (see
 * read.h). Each query's matchers become one selector that goes to the
 * plugins' range hook, on the grid the engine would use for the same
 * selector (pvm_fetch_plan_make), and the raw samples in the query's
 * window are answered with their own timestamps. Everything is fetched
 * before the first byte is written, so a failure still gets its status. */
#include <snappy-c.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include "api_eval.h"
#include "labels.h"
#include "engine.h"
#include "output.h"
#include "strbuf.h"
#include "registry.h"
#include "remote/read.h"
#include "remote/xor.h"
#include "response_impl.h"

/* Prometheus' limit of a frame of a streamed response. */
#define FRAME_MAX_BYTES (1u << 20)

/* Largest hinted step and range followed (one day, ms). */
#define MAX_HINT_STEP_MS 86400000LL

/* The state of one remote-read request. */
typedef struct rr_ctx {
    const pvm_api_env *env;     /* server */
    pvm_arena *a;               /* request arena */
    const pvm_http_request *hr; /* the HTTP request */
    const pvm_http_out *out;    /* where the answer goes */
    pvm_answer *ans;            /* count, query, error and failing
                                     instance, for the log and /metrics */
    pvm_response *failed;       /* a plugin's failed response, if any */
    size_t nsamples;            /* samples answered so far */
    int64_t deadline_ns;        /* monotonic deadline, 0 = none */
} rr_ctx;

/* The samples of one series inside a query's window. */
typedef struct rr_series {
    const pvm_series *s; /* labels */
    const pvm_point *p;  /* first point in the window */
    size_t n;            /* points in the window */
} rr_series;

/* The answer to one query. */
typedef struct rr_result {
    rr_series *series; /* sorted by labels */
    size_t n;          /* number of series */
} rr_result;

/* ---- decoding ---------------------------------------------------------- */

static void *pb_alloc(void *data, size_t size)
{
    return pvm_arena_alloc(data, size ? size : 1);
}

static void pb_free(void *data, void *p)
{
    (void)data;
    (void)p; /* the arena frees everything at the end of the request */
}

Pvm__Prompb__ReadRequest *pvm_remote_read_decode(pvm_arena *a,
                                                 const char *body, size_t len,
                                                 pvm_error *err)
{
    size_t n = 0;
    if (!body || snappy_uncompressed_length(body, len, &n) != SNAPPY_OK) {
        pvm_error_set(err, PVM_ERR_BAD_DATA,
                      "snappy: corrupt input (the body of a remote-read "
                      "request is a snappy-compressed protobuf ReadRequest, "
                      "block format)");
        return NULL;
    }
    if (n > PVM_REMOTE_READ_MAX_DECODED) {
        pvm_error_set(err, PVM_ERR_BAD_DATA,
                      "snappy: decoded request too large (%zu bytes, at "
                      "most %u)",
                      n, PVM_REMOTE_READ_MAX_DECODED);
        return NULL;
    }
    char *raw = pvm_arena_alloc(a, n ? n : 1);
    if (!raw) {
        pvm_error_set(err, PVM_ERR_NOMEM, "out of memory");
        return NULL;
    }
    size_t got = n;
    if (snappy_uncompress(body, len, raw, &got) != SNAPPY_OK || got != n) {
        pvm_error_set(err, PVM_ERR_BAD_DATA, "snappy: corrupt input");
        return NULL;
    }
    ProtobufCAllocator al = {pb_alloc, pb_free, a};
    Pvm__Prompb__ReadRequest *rq =
        pvm__prompb__read_request__unpack(&al, n, (const uint8_t *)raw);
    if (!rq) {
        if (pvm_arena_is_exhausted(a))
            pvm_error_set(err, PVM_ERR_NOMEM, "out of memory");
        else
            pvm_error_set(err, PVM_ERR_BAD_DATA,
                          "proto: cannot decode the ReadRequest (invalid "
                          "protobuf)");
        return NULL;
    }
    return rq;
}

pvm_query *pvm_remote_read_query(pvm_arena *a, const Pvm__Prompb__Query *pq,
                                 pvm_error *err)
{
    static const pvm_match_op ops[] = {
        [PVM__PROMPB__LABEL_MATCHER__TYPE__EQ] = PVM_MATCH_EQUAL,
        [PVM__PROMPB__LABEL_MATCHER__TYPE__NEQ] = PVM_MATCH_NOT_EQUAL,
        [PVM__PROMPB__LABEL_MATCHER__TYPE__RE] = PVM_MATCH_REGEX,
        [PVM__PROMPB__LABEL_MATCHER__TYPE__NRE] = PVM_MATCH_NOT_REGEX,
    };
    pvm_query *q = pvm_arena_calloc(a, 1, sizeof(*q));
    pvm_selector *s = pvm_arena_calloc(a, 1, sizeof(*s));
    pvm_matcher *m = pvm_arena_calloc(a, pq->n_matchers + 1, sizeof(*m));
    if (!q || !s || !m) {
        pvm_error_set(err, PVM_ERR_NOMEM, "out of memory");
        return NULL;
    }
    pvm_strbuf sb;
    pvm_strbuf_init(&sb, a);
    pvm_strbuf_putc(&sb, '{');
    for (size_t i = 0; i < pq->n_matchers; i++) {
        const Pvm__Prompb__LabelMatcher *lm = pq->matchers[i];
        const char *name = lm->name ? lm->name : "";
        const char *value = lm->value ? lm->value : "";
        if ((unsigned)lm->type >= sizeof(ops) / sizeof(ops[0])) {
            pvm_error_set(err, PVM_ERR_BAD_DATA,
                          "invalid matcher type %d for label \"%.100s\" "
                          "(EQ, NEQ, RE or NRE)",
                          (int)lm->type, name);
            return NULL;
        }
        pvm_match_op op = ops[lm->type];
        if (pvm_matcher_init(&m[i], a, op, name, strlen(name), value,
                             strlen(value), err) < 0)
            return NULL;
        if (op == PVM_MATCH_EQUAL && strcmp(name, PVM_METRIC_NAME_LABEL) == 0)
            s->name = m[i].value;
        if (i > 0)
            pvm_strbuf_putc(&sb, ',');
        if (pvm_label_name_is_legacy(name, strlen(name)))
            pvm_strbuf_puts(&sb, name);
        else
            pvm_strbuf_quote(&sb, name, strlen(name), 0);
        pvm_strbuf_puts(&sb, pvm_match_op_str(op));
        pvm_strbuf_quote(&sb, value, strlen(value), 0);
    }
    pvm_strbuf_putc(&sb, '}');
    if (sb.failed) {
        pvm_error_set(err, PVM_ERR_NOMEM, "out of memory");
        return NULL;
    }
    s->matchers = m;
    s->nmatchers = pq->n_matchers;
    q->string = sb.buf;
    q->selectors = s;
    q->nselectors = 1;
    return q;
}

/* ---- fetching ---------------------------------------------------------- */

static int64_t monotonic_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

static int64_t clamp_time(int64_t t)
{
    return t < PVM_MIN_TIME_MS   ? PVM_MIN_TIME_MS
           : t > PVM_MAX_TIME_MS ? PVM_MAX_TIME_MS
                                 : t;
}

/* The sample-limit error, in Prometheus' words. */
static int sample_limit(rr_ctx *c)
{
    return pvm_error_set(&c->ans->err, PVM_ERR_EXECUTION,
                         "exceeded sample limit (%zu)",
                         c->env->cfg->max_samples);
}

/* The plugin request of one query: the range hook on the engine's grid
 * for the same selector (hints.step_ms and hints.range_ms tell which). */
static pvm_request *query_request(rr_ctx *c, const Pvm__Prompb__Query *pq,
                                  const pvm_query *q, int64_t start,
                                  int64_t end)
{
    const pvm_http_request *hr = c->hr;
    pvm_request *req = pvm_arena_calloc(c->a, 1, sizeof(*req));
    if (!req)
        return NULL;
    const Pvm__Prompb__ReadHints *h = pq->hints;
    int64_t step = h && h->step_ms > 0 ? h->step_ms : 0;
    int64_t range = h && h->range_ms > 0 ? h->range_ms : 0;
    /* Steps over a day are no query's: sample the window as for an
     * instant query instead (this also keeps the grid arithmetic far
     * from overflowing). */
    if (step > MAX_HINT_STEP_MS)
        step = 0;
    if (range > MAX_HINT_STEP_MS)
        range = MAX_HINT_STEP_MS;
    pvm_fetch_request fr = {.instant = step == 0,
                            .step = step,
                            .range_ms = range,
                            .mint = start,
                            .maxt = end,
                            .time = end,
                            .start = start,
                            .end = end};
    pvm_fetch_plan plan;
    /* a negative lookback: never the instant hook, always a window */
    pvm_fetch_plan_make(&fr, -1, &plan);
    req->type = PVM_REQUEST_RANGE;
    req->arena = c->a;
    req->ctx = c->env->ctx;
    req->query = q;
    req->query_string = q->string;
    req->time = plan.end;
    req->start = plan.start;
    req->end = plan.end;
    req->step = plan.step;
    req->method = hr->method;
    req->path = hr->request_uri;
    req->remote = hr->remote_addr ? hr->remote_addr : "";
    req->headers = hr->headers;
    req->nheaders = hr->nheaders;
    return req;
}

/* Keeps the points of ser in [start, end]; ser's points are sorted. */
static int window(rr_ctx *c, pvm_series_set *set, const pvm_series *ser,
                  int64_t start, int64_t end, rr_series *out)
{
    size_t n;
    const pvm_point *p = pvm_series_points(set, ser, &n);
    if (!p)
        return pvm_error_set(&c->ans->err, PVM_ERR_NOMEM, "out of memory");
    size_t i = 0, j;
    while (i < n && p[i].t < start)
        i++;
    for (j = i; j < n && p[j].t <= end; j++)
        ;
    out->s = ser;
    out->p = p + i;
    out->n = j - i;
    return 0;
}

/* Runs the hooks for one query and keeps its series and samples. */
static int fetch_query(rr_ctx *c, const Pvm__Prompb__Query *pq, rr_result *out)
{
    pvm_error *err = &c->ans->err;
    const pvm_query *q = pvm_remote_read_query(c->a, pq, err);
    if (!q)
        return err->code;
    if (!c->ans->query)
        c->ans->query = q->string;
    out->n = 0;
    int64_t start = clamp_time(pq->start_timestamp_ms);
    int64_t end = clamp_time(pq->end_timestamp_ms);
    if (end < start)
        return 0; /* an empty window: no series, as Prometheus answers */
    if (c->deadline_ns && monotonic_ns() > c->deadline_ns)
        return pvm_error_set(err, PVM_ERR_TIMEOUT,
                             "query timed out in remote read (see [server] "
                             "max_query_timeout)");
    pvm_request *req = query_request(c, pq, q, start, end);
    size_t max = c->env->cfg->max_samples;
    pvm_response *resp = req ? pvm_response_new(req, PVM_RESPONSE_MATRIX, max)
                             : NULL;
    if (!resp)
        return pvm_error_set(err, PVM_ERR_NOMEM, "out of memory");
    pvm_context_run_request_hook(c->env->ctx, PVM_HOOK_RANGE_QUERY, req, resp);
    if (resp->error_code) {
        if (resp->error_code == PVM_ERR_EXECUTION && max &&
            resp->nresults >= max)
            return sample_limit(c);
        c->failed = resp;
        return pvm_error_set(err, resp->error_code, "%s", resp->error_msg);
    }
    if (pvm_series_set_finish(&resp->series) < 0)
        return pvm_error_set(err, PVM_ERR_NOMEM, "out of memory");
    const pvm_series_set *set = &resp->series;
    out->series = pvm_arena_calloc(c->a, set->n + 1, sizeof(*out->series));
    if (!out->series)
        return pvm_error_set(err, PVM_ERR_NOMEM, "out of memory");
    const pvm_selector *sel = &q->selectors[0];
    for (size_t i = 0; i < set->n; i++) {
        const pvm_series *s = set->list[i];
        /* plugins may add series past the query check: re-check */
        const char *name = pvm_labels_get(s->labels, s->nlabels,
                                          PVM_METRIC_NAME_LABEL);
        int rc = pvm_selector_match(sel, name ? name : "", s->labels,
                                    s->nlabels);
        if (rc < 0)
            return pvm_error_set(err, rc,
                                 "regular expression match limit "
                                 "exceeded");
        rr_series *rs = &out->series[out->n];
        if (rc == 0 || window(c, &resp->series, s, start, end, rs) < 0) {
            if (err->code)
                return err->code;
            continue;
        }
        if (rs->n == 0)
            continue; /* no sample in the window: not a result */
        c->nsamples += rs->n;
        if (max && c->nsamples > max)
            return sample_limit(c);
        out->n++;
    }
    return 0;
}

/* ---- answers ----------------------------------------------------------- */

/* Answers an error as Prometheus' remote-read handler does: the message
 * as plain text (http.Error), 400 for what the client asked wrongly or
 * too much of, 500 for failures; a plugin's own status and headers stand. */
static int answer_error(rr_ctx *c)
{
    pvm_error *err = &c->ans->err;
    int status;
    switch (err->code) {
    case PVM_ERR_BAD_DATA:
    case PVM_ERR_NOMEM: status = 400; break;
    case PVM_ERR_EXECUTION:
        status = strncmp(err->msg, "exceeded sample limit", 21) == 0 ? 400
                                                                     : 500;
        break;
    default: status = pvm_status_http(err->code);
    }
    if (err->code == PVM_ERR_NOMEM)
        snprintf(err->msg, sizeof(err->msg), "%s", PVM_MSG_TOO_MUCH_MEMORY);
    const pvm_response *f = c->failed;
    c->ans->failed = f ? f->failed_plugin : NULL;
    return pvm_output_text_error(c->out, status, err->msg,
                                 f ? f->headers : NULL, f ? f->nheaders : 0);
}

/* The labels of a series as protobuf labels. */
static Pvm__Prompb__Label **pb_labels(pvm_arena *a, const pvm_series *s)
{
    Pvm__Prompb__Label *l = pvm_arena_alloc(a, (s->nlabels + 1) * sizeof(*l));
    Pvm__Prompb__Label **v = pvm_arena_alloc(a, (s->nlabels + 1) * sizeof(*v));
    if (!l || !v)
        return NULL;
    for (size_t i = 0; i < s->nlabels; i++) {
        pvm__prompb__label__init(&l[i]);
        l[i].name = (char *)s->labels[i].name;
        l[i].value = (char *)s->labels[i].value;
        v[i] = &l[i];
    }
    return v;
}

/* The SAMPLES answer: one snappy-compressed ReadResponse. */
static int answer_samples(rr_ctx *c, const rr_result *results, size_t nq)
{
    pvm_arena *a = c->a;
    Pvm__Prompb__ReadResponse rsp = PVM__PROMPB__READ_RESPONSE__INIT;
    Pvm__Prompb__QueryResult *qr = pvm_arena_alloc(a, (nq + 1) * sizeof(*qr));
    rsp.results = pvm_arena_alloc(a, (nq + 1) * sizeof(*rsp.results));
    if (!qr || !rsp.results)
        goto nomem;
    rsp.n_results = nq;
    for (size_t q = 0; q < nq; q++) {
        const rr_result *r = &results[q];
        pvm__prompb__query_result__init(&qr[q]);
        rsp.results[q] = &qr[q];
        Pvm__Prompb__TimeSeries *ts = pvm_arena_alloc(a, (r->n + 1) *
                                                             sizeof(*ts));
        qr[q].timeseries = pvm_arena_alloc(a, (r->n + 1) * sizeof(void *));
        if (!ts || !qr[q].timeseries)
            goto nomem;
        qr[q].n_timeseries = r->n;
        for (size_t i = 0; i < r->n; i++) {
            const rr_series *rs = &r->series[i];
            pvm__prompb__time_series__init(&ts[i]);
            qr[q].timeseries[i] = &ts[i];
            ts[i].labels = pb_labels(a, rs->s);
            ts[i].n_labels = rs->s->nlabels;
            Pvm__Prompb__Sample *sm = pvm_arena_alloc(a, rs->n * sizeof(*sm));
            ts[i].samples = pvm_arena_alloc(a, rs->n * sizeof(void *));
            if (!ts[i].labels || !sm || !ts[i].samples)
                goto nomem;
            ts[i].n_samples = rs->n;
            for (size_t k = 0; k < rs->n; k++) {
                pvm__prompb__sample__init(&sm[k]);
                sm[k].timestamp = rs->p[k].t;
                sm[k].value = rs->p[k].v;
                ts[i].samples[k] = &sm[k];
            }
        }
    }
    size_t len = pvm__prompb__read_response__get_packed_size(&rsp);
    uint8_t *raw = pvm_arena_alloc(a, len + 1);
    size_t zlen = snappy_max_compressed_length(len);
    char *z = raw ? pvm_arena_alloc(a, zlen) : NULL;
    if (!z)
        goto nomem;
    pvm__prompb__read_response__pack(&rsp, raw);
    if (snappy_compress((const char *)raw, len, z, &zlen) != SNAPPY_OK) {
        pvm_error_set(&c->ans->err, PVM_ERR_INTERNAL,
                      "snappy: cannot "
                      "compress the answer");
        return answer_error(c);
    }
    pvm_output_head(c->out, 200, "application/x-protobuf", "snappy", NULL, 0);
    c->out->write(c->out->ctx, z, zlen);
    return 200;
nomem:
    pvm_error_set(&c->ans->err, PVM_ERR_NOMEM, "out of memory");
    return answer_error(c);
}

/* Appends the XOR chunks of rs to cs. */
static int xor_chunks(pvm_arena *a, const rr_series *rs,
                      Pvm__Prompb__ChunkedSeries *cs, size_t *bytes)
{
    size_t nchunks = (rs->n + PVM_XOR_CHUNK_SAMPLES - 1) /
                     PVM_XOR_CHUNK_SAMPLES;
    Pvm__Prompb__Chunk *ch = pvm_arena_alloc(a, (nchunks + 1) * sizeof(*ch));
    cs->chunks = pvm_arena_alloc(a, (nchunks + 1) * sizeof(void *));
    if (!ch || !cs->chunks)
        return PVM_ERR_NOMEM;
    cs->n_chunks = nchunks;
    for (size_t k = 0; k < nchunks; k++) {
        const pvm_point *p = rs->p + k * PVM_XOR_CHUNK_SAMPLES;
        size_t n = rs->n - k * PVM_XOR_CHUNK_SAMPLES;
        if (n > PVM_XOR_CHUNK_SAMPLES)
            n = PVM_XOR_CHUNK_SAMPLES;
        pvm__prompb__chunk__init(&ch[k]);
        ch[k].min_time_ms = p[0].t;
        ch[k].max_time_ms = p[n - 1].t;
        ch[k].type = PVM__PROMPB__CHUNK__ENCODING__XOR;
        ch[k].data.data = pvm_xor_encode(a, p, n, &ch[k].data.len);
        if (!ch[k].data.data)
            return PVM_ERR_NOMEM;
        *bytes += ch[k].data.len + 32;
        cs->chunks[k] = &ch[k];
    }
    return 0;
}

/* Packs and writes one frame: n series of query qi. */
static int write_frame(rr_ctx *c, Pvm__Prompb__ChunkedSeries **cs, size_t n,
                       size_t qi)
{
    Pvm__Prompb__ChunkedReadResponse fr =
        PVM__PROMPB__CHUNKED_READ_RESPONSE__INIT;
    fr.chunked_series = cs;
    fr.n_chunked_series = n;
    fr.query_index = (int64_t)qi;
    size_t len = pvm__prompb__chunked_read_response__get_packed_size(&fr);
    uint8_t *buf = pvm_arena_alloc(c->a, len + PVM_FRAME_HEADER_MAX);
    if (!buf)
        return PVM_ERR_NOMEM;
    pvm__prompb__chunked_read_response__pack(&fr, buf + PVM_FRAME_HEADER_MAX);
    uint8_t head[PVM_FRAME_HEADER_MAX];
    size_t hn = pvm_frame_header(head, buf + PVM_FRAME_HEADER_MAX, len);
    memcpy(buf + PVM_FRAME_HEADER_MAX - hn, head, hn);
    if (c->out->write(c->out->ctx,
                      (const char *)buf + PVM_FRAME_HEADER_MAX - hn,
                      len + hn) < 0)
        return PVM_ERR_CANCELED;
    return 0;
}

/* The STREAMED_XOR_CHUNKS answer: per query, frames of ChunkedSeries of
 * at most about 1 MiB, each series' samples in XOR chunks of at most 120
 * samples, as Prometheus streams them. Chunks are encoded before the head
 * is written, so that running out of memory can still be answered. */
static int answer_chunks(rr_ctx *c, const rr_result *results, size_t nq)
{
    pvm_arena *a = c->a;
    Pvm__Prompb__ChunkedSeries ***all = pvm_arena_calloc(a, nq + 1,
                                                         sizeof(*all));
    size_t *bytes = pvm_arena_calloc(a, c->ans->count + 1, sizeof(*bytes));
    if (!all || !bytes)
        goto nomem;
    size_t b = 0;
    for (size_t q = 0; q < nq; q++) {
        const rr_result *r = &results[q];
        all[q] = pvm_arena_alloc(a, (r->n + 1) * sizeof(void *));
        Pvm__Prompb__ChunkedSeries *cs = pvm_arena_alloc(a, (r->n + 1) *
                                                                sizeof(*cs));
        if (!all[q] || !cs)
            goto nomem;
        for (size_t i = 0; i < r->n; i++) {
            pvm__prompb__chunked_series__init(&cs[i]);
            cs[i].labels = pb_labels(a, r->series[i].s);
            cs[i].n_labels = r->series[i].s->nlabels;
            bytes[b] = 0;
            if (!cs[i].labels ||
                xor_chunks(a, &r->series[i], &cs[i], &bytes[b]) < 0)
                goto nomem;
            b++;
            all[q][i] = &cs[i];
        }
    }
    pvm_output_head(c->out, 200,
                    "application/x-streamed-protobuf; "
                    "proto=prometheus.ChunkedReadResponse",
                    NULL, NULL, 0);
    b = 0;
    for (size_t q = 0; q < nq; q++) {
        size_t from = 0, size = 0;
        for (size_t i = 0; i < results[q].n; i++) {
            size += bytes[b++];
            if (size < FRAME_MAX_BYTES && i + 1 < results[q].n)
                continue;
            if (write_frame(c, all[q] + from, i + 1 - from, q) < 0)
                return 200; /* the client is gone, or memory: the stream
                               ends early, as Prometheus' does */
            from = i + 1;
            size = 0;
        }
    }
    return 200;
nomem:
    pvm_error_set(&c->ans->err, PVM_ERR_NOMEM, "out of memory");
    return answer_error(c);
}

/* Picks the response type: the first accepted one pvm speaks (FIFO, as
 * Prometheus' NegotiateResponseType); SAMPLES when none is listed. -1
 * when none of them is known. */
static int negotiate(const Pvm__Prompb__ReadRequest *rq)
{
    if (rq->n_accepted_response_types == 0)
        return PVM__PROMPB__READ_REQUEST__RESPONSE_TYPE__SAMPLES;
    for (size_t i = 0; i < rq->n_accepted_response_types; i++) {
        int t = (int)rq->accepted_response_types[i];
        if (t == PVM__PROMPB__READ_REQUEST__RESPONSE_TYPE__SAMPLES ||
            t == PVM__PROMPB__READ_REQUEST__RESPONSE_TYPE__STREAMED_XOR_CHUNKS)
            return t;
    }
    return -1;
}

/* POST /api/v1/read (body: snappy-compressed protobuf ReadRequest) */
int pvm_remote_read(const pvm_api_env *env, pvm_arena *a,
                    const pvm_http_request *hr, const pvm_http_out *out,
                    pvm_answer *ans)
{
    rr_ctx c = {.env = env, .a = a, .hr = hr, .out = out, .ans = ans};
    pvm_error_clear(&ans->err);
    ans->count = 0;
    ans->query = NULL; /* the first query's selector, once decoded */
    int64_t timeout = env->cfg->max_query_timeout_ms;
    c.deadline_ns = timeout > 0 ? monotonic_ns() + timeout * 1000000 : 0;
    Pvm__Prompb__ReadRequest *rq = pvm_remote_read_decode(a, hr->body,
                                                          hr->body_len,
                                                          &ans->err);
    if (!rq)
        return answer_error(&c);
    int type = negotiate(rq);
    if (type < 0) {
        pvm_error_set(&ans->err, PVM_ERR_BAD_DATA,
                      "server does not support any of the requested "
                      "response types; supported: SAMPLES, "
                      "STREAMED_XOR_CHUNKS");
        return answer_error(&c);
    }
    rr_result *results = pvm_arena_calloc(a, rq->n_queries + 1,
                                          sizeof(*results));
    if (!results) {
        pvm_error_set(&ans->err, PVM_ERR_NOMEM, "out of memory");
        return answer_error(&c);
    }
    for (size_t i = 0; i < rq->n_queries; i++) {
        if (fetch_query(&c, rq->queries[i], &results[i]) < 0) {
            if (pvm_arena_is_exhausted(a) && ans->err.code != PVM_ERR_NOMEM)
                pvm_error_set(&ans->err, PVM_ERR_NOMEM, "out of memory");
            return answer_error(&c);
        }
        ans->count += results[i].n;
    }
    if (type == PVM__PROMPB__READ_REQUEST__RESPONSE_TYPE__SAMPLES)
        return answer_samples(&c, results, rq->n_queries);
    return answer_chunks(&c, results, rq->n_queries);
}
