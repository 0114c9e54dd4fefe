/* remote_read_client.c: a minimal remote-read client for
 * tests/integration/remote_read.sh, to compare pvm's XOR chunks with the
 * ones Prometheus' own TSDB serves for the same samples.
 *   remote_read_client PORT export NAME START_MS END_MS MATCHER...
 *       asks SAMPLES and prints them as OpenMetrics text with the metric
 *       renamed to NAME (for `promtool tsdb create-blocks-from
 *       openmetrics`);
 *   remote_read_client PORT chunks START_MS END_MS MATCHER...
 *       asks STREAMED_XOR_CHUNKS and prints one line per series: its
 *       labels without __name__, then each chunk as "min-max:hex".
 * MATCHER is name=value, name!=value, name=~re or name!~re. Talks only to
 * 127.0.0.1 (tests/lib/http.c); exits 1 on any protocol error. */
#include <inttypes.h>
#include <snappy-c.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../lib/http.h"
#include "prompb.pb-c.h"
#include "remote/xor.h"

#define MAXM 16

static int die(const char *msg)
{
    fprintf(stderr, "remote_read_client: %s\n", msg);
    exit(1);
}

/* Parses "name<op>value" into m (pointers into s, which is modified). */
static void parse_matcher(char *s, Pvm__Prompb__LabelMatcher *m)
{
    static const struct {
        const char *op;
        Pvm__Prompb__LabelMatcher__Type type;
    } ops[] = {{"!~", PVM__PROMPB__LABEL_MATCHER__TYPE__NRE},
               {"=~", PVM__PROMPB__LABEL_MATCHER__TYPE__RE},
               {"!=", PVM__PROMPB__LABEL_MATCHER__TYPE__NEQ},
               {"=", PVM__PROMPB__LABEL_MATCHER__TYPE__EQ}};
    pvm__prompb__label_matcher__init(m);
    for (size_t i = 0; i < 4; i++) {
        char *p = strstr(s, ops[i].op);
        if (!p)
            continue;
        *p = '\0';
        m->name = s;
        m->value = p + strlen(ops[i].op);
        m->type = ops[i].type;
        return;
    }
    die("bad matcher (name=value, !=, =~, !~)");
}

/* Posts one query; returns the answer's body (caller frees resp). */
static void post(int port, int64_t start, int64_t end, char **mv, int nm,
                 int type, test_http_response *resp)
{
    Pvm__Prompb__LabelMatcher m[MAXM], *pm[MAXM];
    if (nm > MAXM)
        die("too many matchers");
    for (int i = 0; i < nm; i++) {
        parse_matcher(mv[i], &m[i]);
        pm[i] = &m[i];
    }
    Pvm__Prompb__Query q = PVM__PROMPB__QUERY__INIT;
    q.start_timestamp_ms = start;
    q.end_timestamp_ms = end;
    q.matchers = pm;
    q.n_matchers = (size_t)nm;
    Pvm__Prompb__Query *pq = &q;
    Pvm__Prompb__ReadRequest__ResponseType rt =
        (Pvm__Prompb__ReadRequest__ResponseType)type;
    Pvm__Prompb__ReadRequest rq = PVM__PROMPB__READ_REQUEST__INIT;
    rq.queries = &pq;
    rq.n_queries = 1;
    rq.accepted_response_types = &rt;
    rq.n_accepted_response_types = 1;
    size_t len = pvm__prompb__read_request__get_packed_size(&rq);
    uint8_t *raw = malloc(len + 1);
    size_t zlen = snappy_max_compressed_length(len);
    char *z = malloc(zlen);
    if (!raw || !z)
        die("out of memory");
    pvm__prompb__read_request__pack(&rq, raw);
    if (snappy_compress((char *)raw, len, z, &zlen) != SNAPPY_OK)
        die("snappy");
    static const char *const headers[] = {
        "Content-Type: application/x-protobuf", "Content-Encoding: snappy",
        "X-Prometheus-Remote-Read-Version: 0.1.0", NULL};
    test_http_request req = {.method = "POST",
                             .path = "/api/v1/read",
                             .headers = headers,
                             .body = z,
                             .body_len = zlen};
    if (test_http_do(port, &req, resp) < 0)
        die(resp->error);
    if (resp->status != 200) {
        fprintf(stderr, "remote_read_client: HTTP %d: %.300s\n", resp->status,
                resp->body ? resp->body : "");
        exit(1);
    }
    free(raw);
    free(z);
}

static void export(int port, const char *name, int64_t start, int64_t end,
                   char **mv, int nm)
{
    test_http_response resp;
    post(port, start, end, mv, nm,
         PVM__PROMPB__READ_REQUEST__RESPONSE_TYPE__SAMPLES, &resp);
    size_t n;
    if (snappy_uncompressed_length(resp.body, resp.body_len, &n) != SNAPPY_OK)
        die("answer is not snappy");
    char *raw = malloc(n + 1);
    if (!raw ||
        snappy_uncompress(resp.body, resp.body_len, raw, &n) != SNAPPY_OK)
        die("answer is not snappy");
    Pvm__Prompb__ReadResponse *rsp =
        pvm__prompb__read_response__unpack(NULL, n, (uint8_t *)raw);
    if (!rsp || rsp->n_results != 1)
        die("answer is not a ReadResponse of one result");
    const Pvm__Prompb__QueryResult *qr = rsp->results[0];
    for (size_t i = 0; i < qr->n_timeseries; i++) {
        const Pvm__Prompb__TimeSeries *ts = qr->timeseries[i];
        for (size_t k = 0; k < ts->n_samples; k++) {
            printf("%s{", name);
            const char *sep = "";
            for (size_t l = 0; l < ts->n_labels; l++) {
                if (strcmp(ts->labels[l]->name, "__name__") == 0)
                    continue;
                printf("%s%s=\"%s\"", sep, ts->labels[l]->name,
                       ts->labels[l]->value);
                sep = ",";
            }
            int64_t t = ts->samples[k]->timestamp;
            printf("} %.17g %" PRId64 ".%03d\n", ts->samples[k]->value,
                   t / 1000, (int)(t % 1000));
        }
    }
    printf("# EOF\n");
    pvm__prompb__read_response__free_unpacked(rsp, NULL);
    free(raw);
    test_http_free(&resp);
}

static void chunks(int port, int64_t start, int64_t end, char **mv, int nm)
{
    test_http_response resp;
    post(port, start, end, mv, nm,
         PVM__PROMPB__READ_REQUEST__RESPONSE_TYPE__STREAMED_XOR_CHUNKS, &resp);
    const uint8_t *p = (const uint8_t *)resp.body;
    const uint8_t *endp = p + resp.body_len;
    while (p < endp) {
        uint64_t len = 0;
        for (int shift = 0; p < endp && shift < 64; shift += 7) {
            len |= (uint64_t)(*p & 0x7f) << shift;
            if (!(*p++ & 0x80))
                break;
        }
        if ((uint64_t)(endp - p) < 4 || (uint64_t)(endp - p) - 4 < len)
            die("truncated frame");
        uint32_t crc = (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 |
                       (uint32_t)p[2] << 8 | p[3];
        if (crc != pvm_crc32c(p + 4, len))
            die("frame checksum mismatch");
        Pvm__Prompb__ChunkedReadResponse *fr =
            pvm__prompb__chunked_read_response__unpack(NULL, len, p + 4);
        if (!fr)
            die("frame is not a ChunkedReadResponse");
        for (size_t s = 0; s < fr->n_chunked_series; s++) {
            const Pvm__Prompb__ChunkedSeries *cs = fr->chunked_series[s];
            for (size_t l = 0; l < cs->n_labels; l++)
                if (strcmp(cs->labels[l]->name, "__name__") != 0)
                    printf("%s=%s,", cs->labels[l]->name,
                           cs->labels[l]->value);
            for (size_t c = 0; c < cs->n_chunks; c++) {
                const Pvm__Prompb__Chunk *ch = cs->chunks[c];
                printf(" %" PRId64 "-%" PRId64 ":%d:", ch->min_time_ms,
                       ch->max_time_ms, (int)ch->type);
                for (size_t b = 0; b < ch->data.len; b++)
                    printf("%02x", ch->data.data[b]);
            }
            printf("\n");
        }
        pvm__prompb__chunked_read_response__free_unpacked(fr, NULL);
        p += 4 + len;
    }
    test_http_free(&resp);
}

int main(int argc, char **argv)
{
    if (argc < 5)
        die("usage: PORT export NAME START END MATCHER... | "
            "PORT chunks START END MATCHER...");
    int port = atoi(argv[1]);
    if (strcmp(argv[2], "export") == 0 && argc >= 6)
        export(port, argv[3], strtoll(argv[4], NULL, 10),
               strtoll(argv[5], NULL, 10), argv + 6, argc - 6);
    else if (strcmp(argv[2], "chunks") == 0)
        chunks(port, strtoll(argv[3], NULL, 10), strtoll(argv[4], NULL, 10),
               argv + 5, argc - 5);
    else
        die("unknown mode (export or chunks)");
    return 0;
}
