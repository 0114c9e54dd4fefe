/* tests/plugins/fixture.c: the `fixture` plugin of the integration tests.
 * Serves example_metric{type="a"} (a sawtooth: floor(t / 15 s) mod 10) and
 * example_metric{type="b"} (constant 2) at every timestamp asked for, with
 * settings that make it fail, refuse, warn or emit NaN/+Inf/-Inf, so the
 * tests can reach every error path of the server. Also a model of the
 * shape of a plugin file: state, config keys, configure, hooks, type. */
#include <math.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <pvm/pvm.h>

#define FIXTURE_FAILURE "fixture failure requested"

/* State */

typedef enum fixture_fail {
    FIXTURE_FAIL_NO,      /* behave */
    FIXTURE_FAIL_STARTUP, /* on_startup fails: the server must not start */
    FIXTURE_FAIL_REQUEST, /* every request hook fails: HTTP 500 */
} fixture_fail;

typedef struct fixture_state {
    char *metric;      /* metric name served (default "example_metric") */
    fixture_fail fail; /* where to fail on purpose */
    bool forbid;       /* answer every request with 401 */
    bool special;      /* serve NaN, +Inf, -Inf instead of a and b */
    char *warn;        /* warning added to matching answers, or NULL */
    char *info;        /* info added to matching answers, or NULL */
} fixture_state;

/* One series: the value of its `type` label and its value at t (ms). */
typedef struct fixture_series {
    const char *type;           /* value of the `type` label */
    double (*value)(int64_t t); /* sample value at t */
} fixture_series;

static double fixture_sawtooth(int64_t t);
static double fixture_two(int64_t t);
static double fixture_nan(int64_t t);
static double fixture_pos_inf(int64_t t);
static double fixture_neg_inf(int64_t t);

static const fixture_series fixture_normal[] = {
    {"a", fixture_sawtooth},
    {"b", fixture_two},
};

static const fixture_series fixture_special[] = {
    {"nan", fixture_nan},
    {"neg_inf", fixture_neg_inf},
    {"pos_inf", fixture_pos_inf},
};

/* The series this instance serves, and how many. */
static const fixture_series *fixture_series_of(const fixture_state *st,
                                               size_t *n)
{
    if (st->special) {
        *n = PVM_NLABELS(fixture_special);
        return fixture_special;
    }
    *n = PVM_NLABELS(fixture_normal);
    return fixture_normal;
}

static double fixture_sawtooth(int64_t t)
{
    int64_t k = t / 15000;
    if (t % 15000 < 0)
        k--; /* floor for times before 1970 */
    return (double)(((k % 10) + 10) % 10);
}

static double fixture_two(int64_t t)
{
    (void)t;
    return 2;
}

static double fixture_nan(int64_t t)
{
    (void)t;
    return NAN;
}

static double fixture_pos_inf(int64_t t)
{
    (void)t;
    return INFINITY;
}

static double fixture_neg_inf(int64_t t)
{
    (void)t;
    return -INFINITY;
}

/* Config keys
 *   metric = NAME                   metric name (default example_metric)
 *   fail   = no|startup|request     fail on purpose
 *   forbid = yes|no                 answer 401 to every request
 *   values = normal|special         a/b, or NaN/+Inf/-Inf series
 *   warn   = TEXT                   add a warning to matching answers
 *   info   = TEXT                   add an info to matching answers */

typedef int (*fixture_setter)(fixture_state *st, const char *value,
                              pvm_error *err);

typedef struct fixture_key {
    const char *name;   /* key in [plugin:NAME] */
    fixture_setter set; /* validates and stores the value */
} fixture_key;

/* Replaces *dst with a copy of value. */
static int fixture_set_string(char **dst, const char *value, pvm_error *err)
{
    char *copy = strdup(value);
    if (!copy)
        return pvm_error_set(err, PVM_ERR_NOMEM, "out of memory");
    free(*dst);
    *dst = copy;
    return 0;
}

/* Parses yes/no (also true/false, on/off, 1/0). */
static int fixture_parse_bool(const char *value, bool *out, pvm_error *err)
{
    static const char *const yes[] = {"yes", "true", "on", "1"};
    static const char *const no[] = {"no", "false", "off", "0"};

    for (size_t i = 0; i < 4; i++) {
        if (strcmp(value, yes[i]) == 0) {
            *out = true;
            return 0;
        }
        if (strcmp(value, no[i]) == 0) {
            *out = false;
            return 0;
        }
    }
    return pvm_error_set(err, PVM_ERR_BAD_DATA, "not yes or no: '%s'", value);
}

static int fixture_set_metric(fixture_state *st, const char *value,
                              pvm_error *err)
{
    if (!*value)
        return pvm_error_set(err, PVM_ERR_BAD_DATA, "empty metric name");
    return fixture_set_string(&st->metric, value, err);
}

static int fixture_set_fail(fixture_state *st, const char *value,
                            pvm_error *err)
{
    if (strcmp(value, "no") == 0)
        st->fail = FIXTURE_FAIL_NO;
    else if (strcmp(value, "startup") == 0)
        st->fail = FIXTURE_FAIL_STARTUP;
    else if (strcmp(value, "request") == 0)
        st->fail = FIXTURE_FAIL_REQUEST;
    else
        return pvm_error_set(err, PVM_ERR_BAD_DATA,
                             "not no, startup or request: '%s'", value);
    return 0;
}

static int fixture_set_forbid(fixture_state *st, const char *value,
                              pvm_error *err)
{
    return fixture_parse_bool(value, &st->forbid, err);
}

static int fixture_set_values(fixture_state *st, const char *value,
                              pvm_error *err)
{
    if (strcmp(value, "normal") == 0)
        st->special = false;
    else if (strcmp(value, "special") == 0)
        st->special = true;
    else
        return pvm_error_set(err, PVM_ERR_BAD_DATA,
                             "not normal or special: '%s'", value);
    return 0;
}

static int fixture_set_warn(fixture_state *st, const char *value,
                            pvm_error *err)
{
    return fixture_set_string(&st->warn, value, err);
}

static int fixture_set_info(fixture_state *st, const char *value,
                            pvm_error *err)
{
    return fixture_set_string(&st->info, value, err);
}

static const fixture_key fixture_keys[] = {
    {"metric", fixture_set_metric}, {"fail", fixture_set_fail},
    {"forbid", fixture_set_forbid}, {"values", fixture_set_values},
    {"warn", fixture_set_warn},     {"info", fixture_set_info},
};

/* configure: one key of [plugin:NAME] (see pvm_plugin_type.configure). */
static int fixture_configure(pvm_plugin *self, const char *key,
                             const char *value, pvm_error *err)
{
    fixture_state *st = pvm_plugin_state(self);

    for (size_t i = 0; i < sizeof(fixture_keys) / sizeof(fixture_keys[0]); i++)
        if (strcmp(key, fixture_keys[i].name) == 0)
            return fixture_keys[i].set(st, value, err);
    return pvm_error_set(err, PVM_ERR_BAD_DATA,
                         "unknown key (known: metric, fail, forbid, values, "
                         "warn, info)");
}

/* check: defaults after all keys. */
static int fixture_check(pvm_plugin *self, pvm_error *err)
{
    fixture_state *st = pvm_plugin_state(self);

    if (!st->metric)
        return fixture_set_string(&st->metric, "example_metric", err);
    return 0;
}

static void fixture_destroy(pvm_plugin *self)
{
    fixture_state *st = pvm_plugin_state(self);

    free(st->metric);
    free(st->warn);
    free(st->info);
}

/* Hooks */

static int fixture_on_startup(pvm_plugin *self, pvm_context *ctx,
                              pvm_error *err)
{
    fixture_state *st = pvm_plugin_state(self);

    (void)ctx;
    if (st->fail == FIXTURE_FAIL_STARTUP)
        return pvm_error_set(err, PVM_ERR_INTERNAL, FIXTURE_FAILURE);
    pvm_plugin_log(self, PVM_LOG_DEBUG, "serving %s", st->metric);
    return 0;
}

/* What every request hook does first: fail or refuse when told to, then
 * skip requests that cannot concern our metric. Returns 1 to go on, 0 to
 * stop quietly, negative to stop with that status. */
static int fixture_enter(pvm_plugin *self, pvm_request *req,
                         pvm_response *resp)
{
    fixture_state *st = pvm_plugin_state(self);
    int rc;

    if (st->forbid)
        return pvm_response_set_error(resp, PVM_ERR_FORBIDDEN,
                                      "fixture: access forbidden");
    if (st->fail == FIXTURE_FAIL_REQUEST)
        return pvm_response_fail(resp, FIXTURE_FAILURE);
    if (!pvm_query_name_matches(pvm_request_query(req), st->metric))
        return 0;
    if (st->warn && (rc = pvm_response_add_warning(resp, "%s", st->warn)) < 0)
        return rc;
    if (st->info && (rc = pvm_response_add_info(resp, "%s", st->info)) < 0)
        return rc;
    return 1;
}

/* Adds the value of every series at t (the response drops what the query
 * does not select). */
static int fixture_add_samples_at(const fixture_state *st, pvm_response *resp,
                                  int64_t t)
{
    size_t n;
    const fixture_series *series = fixture_series_of(st, &n);

    for (size_t i = 0; i < n; i++) {
        pvm_label labels[] = {{"type", series[i].type}};
        int rc = pvm_response_add_sample(resp, st->metric, series[i].value(t),
                                         t, labels, PVM_NLABELS(labels));
        if (rc < 0)
            return rc;
    }
    return 0;
}

static int fixture_on_instant_query_request(pvm_plugin *self, pvm_request *req,
                                            pvm_response *resp)
{
    int rc = fixture_enter(self, req, resp);

    if (rc <= 0)
        return rc;
    return fixture_add_samples_at(pvm_plugin_state(self), resp,
                                  pvm_request_time(req));
}

static int fixture_on_range_query_request(pvm_plugin *self, pvm_request *req,
                                          pvm_response *resp)
{
    pvm_timestamps it = pvm_request_timestamps(req);
    int64_t t;
    int rc = fixture_enter(self, req, resp);

    if (rc <= 0)
        return rc;
    while (pvm_timestamps_next(&it, &t)) /* bounded by the server's limit */
        if ((rc = fixture_add_samples_at(pvm_plugin_state(self), resp, t)) < 0)
            return rc;
    return 0;
}

/* True when some series of ours matches the request's query. */
static bool fixture_any_series_matches(const fixture_state *st,
                                       const pvm_request *req)
{
    size_t n;
    const fixture_series *series = fixture_series_of(st, &n);

    for (size_t i = 0; i < n; i++) {
        pvm_label labels[] = {{"type", series[i].type}};
        if (pvm_query_matches(pvm_request_query(req), st->metric, labels,
                              PVM_NLABELS(labels)))
            return true;
    }
    return false;
}

/* Serves /api/v1/label/__name__/values (a DATA response: the metric
 * name) and /api/v1/series (a SERIES response: every label set, which the
 * response filters by the match[] selectors). */
static int fixture_on_metric_names_request(pvm_plugin *self, pvm_request *req,
                                           pvm_response *resp)
{
    fixture_state *st = pvm_plugin_state(self);
    size_t n;
    const fixture_series *series = fixture_series_of(st, &n);
    int rc = fixture_enter(self, req, resp);

    if (rc <= 0)
        return rc;
    if (pvm_response_get_type(resp) == PVM_RESPONSE_SERIES) {
        for (size_t i = 0; i < n; i++) {
            pvm_label labels[] = {{"__name__", st->metric},
                                  {"type", series[i].type}};
            if ((rc = pvm_response_add_series(resp, labels,
                                              PVM_NLABELS(labels))) < 0)
                return rc;
        }
        return 0;
    }
    if (!fixture_any_series_matches(st, req))
        return 0;
    return pvm_response_add_value(resp, st->metric);
}

static int fixture_on_label_names_request(pvm_plugin *self, pvm_request *req,
                                          pvm_response *resp)
{
    int rc = fixture_enter(self, req, resp);

    if (rc <= 0)
        return rc;
    if (!fixture_any_series_matches(pvm_plugin_state(self), req))
        return 0;
    return pvm_response_add_value(resp, "type");
}

static int fixture_on_label_values_request(pvm_plugin *self, pvm_request *req,
                                           pvm_response *resp)
{
    fixture_state *st = pvm_plugin_state(self);
    size_t n;
    const fixture_series *series = fixture_series_of(st, &n);
    int rc = fixture_enter(self, req, resp);

    if (rc <= 0)
        return rc;
    if (strcmp(pvm_request_label_name(req), "type") != 0)
        return 0;
    for (size_t i = 0; i < n; i++) {
        pvm_label labels[] = {{"type", series[i].type}};
        if (!pvm_query_matches(pvm_request_query(req), st->metric, labels,
                               PVM_NLABELS(labels)))
            continue;
        if ((rc = pvm_response_add_value(resp, series[i].type)) < 0)
            return rc;
    }
    return 0;
}

/* The type, listed in tests/plugins/table.c. */
const pvm_plugin_type pvm_plugin_fixture = {
    .name = "fixture", /* `type = fixture` in pvm.ini */
    .description = "test data: example_metric{type=a|b}, failures on demand",
    .state_size = sizeof(fixture_state), /* zeroed per instance */
    .configure = fixture_configure,   /* metric, fail, forbid, values, ... */
    .check = fixture_check,           /* default metric name */
    .destroy = fixture_destroy,       /* frees the strings */
    .on_startup = fixture_on_startup, /* fails with fail = startup */
    .on_shutdown = NULL,              /* nothing to release per worker */
    .on_instant_query_request = fixture_on_instant_query_request, /* at time */
    .on_range_query_request = fixture_on_range_query_request, /* every step */
    .on_metric_names_request = fixture_on_metric_names_request, /* metric */
    .on_label_names_request = fixture_on_label_names_request,   /* "type" */
    .on_label_values_request = fixture_on_label_values_request, /* a, b */
};
