/* example.c: the seed's example plugin. Serves one metric (name set by
 * `metric_name`) with labels type in {sine, cosine, square, sawtooth} and
 * amplitude in {1, 5, 10}: 12 series whose values follow the wave shape
 * over a 60 s period, computed at the requested timestamps (and stamped
 * with them: the plugin to copy for values computed rather than stored;
 * openmetrics_file.c returns stored samples at their own timestamps). */
#include <math.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <pvm/pvm.h>

#define DEFAULT_METRIC "prometheus_virtual_metrics_example_metric"

/* Per-instance state. */
struct example {
    char *metric; /* `metric_name =`, set by the server */
};

static const char *const types[] = {"sine", "cosine", "square", "sawtooth"};
static const char *const amplitudes[] = {"1", "5", "10"};

static const double amplitude_values[] = {1, 5, 10};

#define NSERIES 12 /* types x amplitudes */

/* The four wave shapes at amplitude 1, secs seconds into their 60 s
 * period (sine, cosine, square, sawtooth; types[] order). */
static void unit_waves(double secs, double w[4])
{
    w[0] = sin(secs * 2 * M_PI / 60);
    w[1] = cos(secs * 2 * M_PI / 60);
    w[2] = secs < 30 ? 1 : -1;
    w[3] = secs / 60;
}

/* [plugin:NAME] keys (pvm/config.h): stored by the server. */
static const pvm_plugin_key example_keys[] = {
    {"metric_name", PVM_KEY_METRIC_NAME, offsetof(struct example, metric),
     .def = DEFAULT_METRIC, .doc = "name of the metric served"},
    {NULL},
};

/* Finds the 12 series in resp: ser[a * 4 + type], NULL for a series the
 * query does not select. Returns 0 or a negative status. */
static int find_series(const struct example *st, pvm_response *resp,
                       pvm_series_ref *ser[NSERIES])
{
    for (size_t a = 0; a < 3; a++) {
        for (int ty = 0; ty < 4; ty++) {
            pvm_label labels[] = {{"type", types[ty]},
                                  {"amplitude", amplitudes[a]}};
            int rc = pvm_response_find_series(resp, st->metric, labels,
                                              PVM_NLABELS(labels), 0,
                                              &ser[a * 4 + (size_t)ty]);
            if (rc < 0)
                return rc;
        }
    }
    return 0;
}

/* Adds the samples of the selected series at timestamp t (ms). */
static int add_samples_at(pvm_response *resp, pvm_series_ref *ser[NSERIES],
                          int64_t t)
{
    double secs = fmod((double)t / 1000.0, 60.0);
    if (secs < 0)
        secs += 60.0;
    double w[4];
    unit_waves(secs, w);
    for (size_t i = 0; i < NSERIES; i++) {
        if (!ser[i])
            continue;
        double v = w[i % 4] * amplitude_values[i / 4];
        int rc = pvm_response_add_point(resp, ser[i], t, v);
        if (rc < 0)
            return rc;
    }
    return 0;
}

static int example_query(pvm_plugin *self, pvm_request *req,
                         pvm_response *resp)
{
    const struct example *st = pvm_plugin_state(self);
    /* A formula of the time: what it answers never changes (cache.h). */
    pvm_response_set_immutable_before(resp, PVM_IMMUTABLE_ALWAYS);
    if (!pvm_query_name_matches(pvm_request_query(req), st->metric))
        return 0;
    pvm_series_ref *ser[NSERIES];
    int rc = find_series(st, resp, ser);
    if (rc < 0)
        return rc;
    pvm_timestamps it = pvm_request_timestamps(req);
    int64_t t;
    for (unsigned n = 1; pvm_timestamps_next(&it, &t); n++) {
        rc = add_samples_at(resp, ser, t);
        if (rc < 0)
            return rc;
        /* Past the request's deadline, stop computing: the engine checks
         * the clock after every fetch and answers Prometheus' 503 timeout
         * error, so what was added is thrown away anyway. */
        if (n % 1024 == 0 && pvm_request_remaining_ms(req) <= 0)
            break;
    }
    return 0;
}

static int example_metric_names(pvm_plugin *self, pvm_request *req,
                                pvm_response *resp)
{
    const struct example *st = pvm_plugin_state(self);
    pvm_response_set_immutable_before(resp, PVM_IMMUTABLE_ALWAYS);
    if (!pvm_query_name_matches(pvm_request_query(req), st->metric))
        return 0;
    return pvm_response_add_value(resp, st->metric);
}

static int example_label_names(pvm_plugin *self, pvm_request *req,
                               pvm_response *resp)
{
    const struct example *st = pvm_plugin_state(self);
    static const char *const names[] = {"__name__", "type", "amplitude"};
    pvm_response_set_immutable_before(resp, PVM_IMMUTABLE_ALWAYS);
    if (!pvm_query_name_matches(pvm_request_query(req), st->metric))
        return 0;
    return pvm_response_add_values(resp, names, 3);
}

static int example_label_values(pvm_plugin *self, pvm_request *req,
                                pvm_response *resp)
{
    const struct example *st = pvm_plugin_state(self);
    const char *label = pvm_request_label_name(req);
    pvm_response_set_immutable_before(resp, PVM_IMMUTABLE_ALWAYS);
    if (!pvm_query_name_matches(pvm_request_query(req), st->metric))
        return 0;
    if (strcmp(label, "type") == 0)
        return pvm_response_add_values(resp, types, 4);
    if (strcmp(label, "amplitude") == 0)
        return pvm_response_add_values(resp, amplitudes, 3);
    return 0;
}

/* Its metadata: a gauge (a wave goes up and down), without a unit. */
static int example_metadata(pvm_plugin *self, pvm_request *req,
                            pvm_response *resp)
{
    (void)req;
    const struct example *st = pvm_plugin_state(self);
    pvm_metric_metadata md = {
        .name = st->metric,
        .type = PVM_METRIC_GAUGE,
        .help = "Example waves (sine, cosine, square, sawtooth) with a "
                "60 s period.",
        .unit = NULL,
    };
    int rc = pvm_response_add_metadata(resp, &md);
    return rc < 0 ? rc : 0;
}

const pvm_plugin_type pvm_plugin_example = {
    .name = "example",
    .description = "sine, cosine, square and sawtooth waves (the seed's "
                   "example plugin)",
    .state_size = sizeof(struct example),
    .on_instant_query_request = example_query, /* 12 samples at `time`
                                                   (computed there, so
                                                   stamped there) */
    .on_range_query_request = example_query,   /* 12 samples per step */
    .on_metric_names_request = example_metric_names,
    .on_label_names_request = example_label_names,
    .on_label_values_request = example_label_values,
    .on_metadata_request = example_metadata, /* a gauge, with HELP */
    .keys = example_keys,                    /* metric_name */
};
