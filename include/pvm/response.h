/* pvm/response.h: what a request hook fills. Everything passed in is
 * copied; the caller keeps ownership of its arguments. Functions return 0
 * or a negative pvm_status; on failure (out of the request's memory, a
 * sample limit, the wrong call for this response type) the response is
 * already marked failed and the hook should return that status. */
#ifndef PVM_RESPONSE_H
#define PVM_RESPONSE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <pvm/error.h>
#include <pvm/labels.h>
#include <pvm/request.h>

typedef struct pvm_response pvm_response;

typedef enum pvm_response_type {
    PVM_RESPONSE_VECTOR,   /* instant query: samples, one per series */
    PVM_RESPONSE_MATRIX,   /* range query: samples, many per series */
    PVM_RESPONSE_DATA,     /* label names and values: strings */
    PVM_RESPONSE_SERIES,   /* series: metric names (or label sets) */
    PVM_RESPONSE_METADATA, /* metadata: HELP, TYPE and UNIT per metric */
} pvm_response_type;

pvm_response_type pvm_response_get_type(const pvm_response *r);

/* Flags for pvm_response_add_sample_ex. */
#define PVM_SAMPLE_SKIP_QUERY_CHECK                                           \
    0x1u /* add even if the query does not match */

/* A sample: a metric name, labels (without __name__), a timestamp and a
 * value. When value_fn is set it is called for the value only if the
 * sample is kept (lazy values), and `value` is ignored. */
typedef struct pvm_sample {
    const char *name;              /* metric name */
    const pvm_label *labels;       /* borrowed, copied when kept */
    size_t nlabels;                /* number of labels */
    int64_t timestamp;             /* ms since the epoch: the time the
                                        value is for (see below) */
    double value;                  /* the value, unless value_fn */
    double (*value_fn)(void *arg); /* lazy value, or NULL */
    void *value_arg;               /* argument of value_fn */
} pvm_sample;

/* Parses a sample value written as text, as Prometheus' text format
 * parser does (strconv.ParseFloat without hex floats and '_'): decimal
 * numbers with optional sign, fraction and exponent ("42", "-1.5", ".5",
 * "1e3", "1E-3"), and NaN, Inf, Infinity in any case (Inf with a sign).
 * All of s must be the number: no blanks, no "0x10", no "1_000", no
 * "0x1p4". Returns 0 with *out set, or PVM_ERR_BAD_DATA for any other
 * text and for a magnitude beyond the largest double ("1e400"). */
int pvm_parse_sample_value(const char *s, double *out);

/* The timestamp of a sample says what it is, in every hook, as a sample
 * in Prometheus' storage: a value computed for a time asked (a timestamp
 * of pvm_request_timestamps, `time` in an instant hook) carries that
 * time; a value read from storage carries the time it was stored with.
 * An instant query reads, per series, the latest sample in
 * (time - lookback_delta, time] (later ones are ignored), answers at the
 * evaluation time, and timestamp(x) gives the sample's own time, so
 * `time() - timestamp(x) > 60` works for stored data. Do not re-stamp a
 * stored sample with `time`: that makes it look fresh. */

/* Three ways to add samples, each for its own case:
 * - pvm_response_add_sample: one sample, checked against the query (the
 *   original's add_sample); the usual call.
 * - pvm_response_add_sample_ex: the general form of the same, for what the
 *   short form cannot say: flags (PVM_SAMPLE_SKIP_QUERY_CHECK, the
 *   original's skip_query_checks=True) and a lazy value (value_fn, the
 *   original's callable metric_value), computed only when the sample is
 *   kept.
 * - pvm_response_find_series + pvm_response_add_point: many points of one
 *   series, the series looked up and checked once (see below), for
 *   plugins that add thousands of points. */

/* Adds a sample if it matches the request's query. Returns 1 when added,
 * 0 when skipped because it does not match, negative on error. A response
 * remembers the label arrays it was given: a sample whose name and labels
 * equal (string by string, in the same order) those of a recent sample
 * skips the query check and the series lookup, so adding the points of
 * one series in a row, or of the same few series at each timestamp in a
 * fixed order, costs little more than pvm_response_add_point. */
int pvm_response_add_sample(pvm_response *r, const char *name, double value,
                            int64_t timestamp, const pvm_label *labels,
                            size_t nlabels);

/* The general form: s->value_fn (when set) is called for the value only
 * if the sample is kept; flags are PVM_SAMPLE_* bits. Returns as
 * pvm_response_add_sample. */
int pvm_response_add_sample_ex(pvm_response *r, const pvm_sample *s,
                               unsigned flags);

/* A series of a VECTOR or MATRIX response, to add many points to it
 * without naming it each time. Valid until the request ends. */
typedef struct pvm_series_ref pvm_series_ref;

/* Finds or creates the series (name, labels) and checks it against the
 * request's query once, for all its points (flags: PVM_SAMPLE_SKIP_QUERY_CHECK
 * adds it even if the query does not match). Returns 1 with *out set when
 * the series is kept; 0 with *out = NULL when it does not match (skip its
 * points: do not even compute them); negative on error, as
 * pvm_response_add_sample (invalid labels, out of memory). name and labels
 * are copied. Labels that differ only by order or by empty values give the
 * same series. Cost: that of one pvm_response_add_sample. */
int pvm_response_find_series(pvm_response *r, const char *name,
                             const pvm_label *labels, size_t nlabels,
                             unsigned flags, pvm_series_ref **out);

/* Adds a point to a series found in this response: the same as
 * pvm_response_add_sample with its name and labels, without the lookup and
 * the query check (a few nanoseconds). Returns 1 when added, negative on
 * error (the sample limit, out of memory, a series of another response). */
int pvm_response_add_point(pvm_response *r, pvm_series_ref *s,
                           int64_t timestamp, double value);

/* Adds n points to a series found in this response, from parallel arrays
 * of timestamps (ms) and values, e.g. a slice of a plugin's stored
 * series: the same as n pvm_response_add_point calls, at the cost of a
 * copy (about a nanosecond a point). Points in time order are kept as
 * one run; the engine sorts otherwise. Returns 1 when added (0 when n is
 * 0), negative on error: a series of another response, out of memory, or
 * the sample limit (then none is added). */
int pvm_response_add_points(pvm_response *r, pvm_series_ref *s,
                            const int64_t *timestamps, const double *values,
                            size_t n);

/* Adds a string value (label name, label value or metric name) to a DATA
 * or SERIES response. Duplicates are removed and values sorted on output. */
int pvm_response_add_value(pvm_response *r, const char *value);
int pvm_response_add_values(pvm_response *r, const char *const *values,
                            size_t n);

/* Adds a whole label set (with __name__) to a SERIES response. */
int pvm_response_add_series(pvm_response *r, const pvm_label *labels,
                            size_t n);

/* Metric metadata (on_metadata_request). The types of OpenMetrics; the
 * Prometheus text format knows counter, gauge, histogram, summary and
 * untyped (= unknown), and shows the others as untyped. */
typedef enum pvm_metric_type {
    PVM_METRIC_UNKNOWN,        /* "unknown" (untyped) */
    PVM_METRIC_COUNTER,        /* "counter": samples NAME_total (or NAME) */
    PVM_METRIC_GAUGE,          /* "gauge" */
    PVM_METRIC_HISTOGRAM,      /* "histogram": NAME_bucket, _sum, _count */
    PVM_METRIC_SUMMARY,        /* "summary": NAME{quantile}, _sum, _count */
    PVM_METRIC_GAUGEHISTOGRAM, /* "gaugehistogram" (OpenMetrics) */
    PVM_METRIC_INFO,           /* "info": NAME_info (OpenMetrics) */
    PVM_METRIC_STATESET,       /* "stateset" (OpenMetrics) */
} pvm_metric_type;

/* The metadata of one metric family, as in Prometheus' /api/v1/metadata. */
typedef struct pvm_metric_metadata {
    const char *name;     /* family name: "http_requests" or
                              "http_requests_total" for a counter,
                              "rpc_duration_seconds" for a histogram */
    pvm_metric_type type; /* its type */
    const char *help;     /* one-line description, or NULL */
    const char *unit;     /* unit ("seconds", "bytes"), or NULL; by the
                              OpenMetrics rule a suffix of name */
} pvm_metric_metadata;

/* Adds metadata to a METADATA response (strings are copied). Entries
 * equal in all four fields are kept once; different entries for one name
 * are all kept, as Prometheus keeps one per target. Returns 1 when added,
 * 0 when the request's query does not select m->name (or a duplicate),
 * negative on error (a NULL or empty name: PVM_ERR_BAD_DATA; the wrong
 * response type; out of memory). */
int pvm_response_add_metadata(pvm_response *r, const pvm_metric_metadata *m);

/* "counter", "gauge", ... ("unknown" for values out of range). */
const char *pvm_metric_type_name(pvm_metric_type type);

/* Parses a type name as written in # TYPE lines ("counter", ...; also
 * "untyped", the text format's word for unknown), case-sensitive. 0, or
 * PVM_ERR_BAD_DATA with *out untouched. */
int pvm_metric_type_parse(const char *s, pvm_metric_type *out);

/* Messages returned beside the data as "infos" / "warnings". */
int pvm_response_add_info(pvm_response *r, const char *fmt, ...)
    PVM_PRINTF(2, 3);
int pvm_response_add_warning(pvm_response *r, const char *fmt, ...)
    PVM_PRINTF(2, 3);

/* Marks the hook as failed with a message; the server answers 500 with an
 * error naming the plugin. Returns PVM_ERR_PLUGIN:
 *     return pvm_response_fail(resp, "cannot open %s: %s", path, err);  */
int pvm_response_fail(pvm_response *r, const char *fmt, ...) PVM_PRINTF(2, 3);

/* Answers the request with an error of the given status code instead
 * (PVM_ERR_FORBIDDEN gives 401, PVM_ERR_BAD_DATA 400, ...). Returns code. */
int pvm_response_set_error(pvm_response *r, int code, const char *fmt, ...)
    PVM_PRINTF(3, 4);

/* Adds a response header (e.g. WWW-Authenticate) sent with the answer. */
int pvm_response_add_header(pvm_response *r, const char *name,
                            const char *value);

/* Declares that this instance's data for times before ts_ms (ms since
 * the epoch) will not change: the same request asked again gives the same
 * samples, label names and values for those times (stored data: up to
 * the last write, e.g. openmetrics_file up to its file's modification
 * time; a formula: always, PVM_IMMUTABLE_ALWAYS). Call it from a query or
 * discovery hook (on_instant_query_request, on_range_query_request,
 * on_metric_names_request, on_label_names_request,
 * on_label_values_request), for the request at hand, whether or not the
 * hook added anything: "nothing before ts_ms, ever" is a declaration too.
 * The declaration holds for this one call; calling it again keeps the
 * earliest moment.
 *
 * The server uses it to make answers cacheable: when the request's times
 * were all given explicitly and every instance whose hook ran for it
 * declared a moment later than every time the hook was asked about (the
 * request's end; for an instant hook, its time), the answer carries
 * `Cache-Control: public, max-age=N` ([server] cache_max_age) and a strong
 * ETag, and a matching If-None-Match gets 304. An instance that does not
 * declare keeps every answer it takes part in uncacheable (`no-store`),
 * which is always safe. A failure swallowed by a wrapper (catch_errors)
 * also does. Returns 0. Cost: a comparison. */
#define PVM_IMMUTABLE_ALWAYS INT64_MAX
int pvm_response_set_immutable_before(pvm_response *r, int64_t ts_ms);

/* For wrappers: pvm_response_take_failure() is in pvm/wrap.h. */

/* True once an error was set on the response. */
bool pvm_response_has_error(const pvm_response *r);

/* Samples added (VECTOR/MATRIX) or values added (DATA/SERIES). */
size_t pvm_response_result_count(const pvm_response *r);

/* The request this response answers. */
const pvm_request *pvm_response_request(const pvm_response *r);

#endif
