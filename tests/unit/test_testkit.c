/* test_testkit.c: the test kit's typed requests (pvm/testkit.h) below an
 * api_url_prefix, with start/end and HTTP Basic credentials, as the
 * original's fixture takes them. A small plugin records what reached
 * it; basic_auth checks the credentials. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <string.h>

#include <pvm/pvm.h>
#include <pvm/testkit.h>

extern const pvm_plugin_type pvm_plugin_basic_auth;

/* What the last discovery or query request carried. */
static struct {
    int64_t start, end; /* pvm_request_start/end */
    char user[64];      /* Basic credentials, "" when none */
    int calls;          /* hooks run */
} seen;

static int note(pvm_request *req)
{
    char pass[64];
    seen.start = pvm_request_start(req);
    seen.end = pvm_request_end(req);
    pvm_request_basic_credentials(req, seen.user, sizeof(seen.user), pass,
                                  sizeof(pass));
    seen.calls++;
    return 0;
}

static int rec_query(pvm_plugin *self, pvm_request *req, pvm_response *resp)
{
    (void)self;
    note(req);
    pvm_label l[] = {{"k", "v"}};
    int rc = pvm_response_add_sample(resp, "m", 1,
                                     pvm_request_get_type(req) ==
                                             PVM_REQUEST_RANGE
                                         ? pvm_request_end(req)
                                         : pvm_request_time(req),
                                     l, 1);
    return rc < 0 ? rc : 0;
}

static int rec_names(pvm_plugin *self, pvm_request *req, pvm_response *resp)
{
    (void)self;
    note(req);
    if (pvm_request_get_type(req) == PVM_REQUEST_SERIES) {
        pvm_label l[] = {{"__name__", "m"}, {"k", "v"}};
        return pvm_response_add_series(resp, l, 2);
    }
    return pvm_response_add_value(resp, "m");
}

static int rec_label_names(pvm_plugin *self, pvm_request *req,
                           pvm_response *resp)
{
    (void)self;
    note(req);
    return pvm_response_add_value(resp, "k");
}

static int rec_label_values(pvm_plugin *self, pvm_request *req,
                            pvm_response *resp)
{
    (void)self;
    note(req);
    return pvm_response_add_value(resp, "v");
}

static const pvm_plugin_type rec_type = {
    .name = "rec",
    .on_instant_query_request = rec_query,
    .on_range_query_request = rec_query,
    .on_metric_names_request = rec_names,
    .on_label_names_request = rec_label_names,
    .on_label_values_request = rec_label_values,
};

static const pvm_plugin_type *const table[] = {&rec_type,
                                               &pvm_plugin_basic_auth, NULL};

static pvm_testkit *kit_new(const char *ini)
{
    char err[512];
    pvm_testkit *kit = pvm_testkit_new(ini, table, err, sizeof(err));
    if (!kit)
        fail_msg("%s", err);
    return kit;
}

static void expect(pvm_test_response *r, int status, const char *path,
                   const char *want)
{
    assert_non_null(r);
    if (r->status != status)
        fail_msg("status %d, want %d: %s", r->status, status, r->body);
    const char *got = path ? pvm_test_json_string(r->json, path) : NULL;
    if (path && (!got || strcmp(got, want) != 0))
        fail_msg("%s: '%s', want '%s' in %s", path, got ? got : "(none)", want,
                 r->body);
    pvm_test_response_free(r);
}

/* Every typed helper reaches the API below the prefix (404 before). */
static void test_prefix(void **state)
{
    (void)state;
    pvm_testkit *kit = kit_new("[server]\napi_url_prefix = /prom\n"
                               "[plugin:rec]\n");
    expect(pvm_testkit_instant(kit, "m", 10), 200, "data.result[0].metric.k",
           "v");
    expect(pvm_testkit_range(kit, "m", 0, 60, 30), 200,
           "data.result[0].metric.k", "v");
    expect(pvm_testkit_series(kit, "m", 0, 60), 200, "data[0].k", "v");
    expect(pvm_testkit_label_names(kit, NULL), 200, "data[1]", "k");
    expect(pvm_testkit_label_values(kit, "k", "m"), 200, "data[0]", "v");
    expect(pvm_testkit_metric_names_opt(kit, NULL), 200, "data[0]", "m");
    /* a raw request is sent as given */
    expect(pvm_testkit_request(kit, "GET", "/api/v1/labels", NULL, NULL), 404,
           NULL, NULL);
    pvm_testkit_free(kit);
}

/* start and end reach discovery hooks; without a range none is sent. */
static void test_start_end(void **state)
{
    (void)state;
    pvm_testkit *kit = kit_new("[plugin:rec]\n");
    pvm_test_options o = {.range = true,
                          .start = 100,
                          .end = 200.5,
                          .match = "m"};
    expect(pvm_testkit_label_names_opt(kit, &o), 200, "data[1]", "k");
    assert_int_equal(seen.start, 100000);
    assert_int_equal(seen.end, 200500);
    expect(pvm_testkit_label_values_opt(kit, "k", &o), 200, "data[0]", "v");
    assert_int_equal(seen.start, 100000);
    expect(pvm_testkit_metric_names_opt(kit, &o), 200, "data[0]", "m");
    assert_int_equal(seen.end, 200500);
    expect(pvm_testkit_series_opt(kit, &o), 200, "data[0].__name__", "m");
    assert_int_equal(seen.start, 100000);
    o.range = false;
    expect(pvm_testkit_label_names_opt(kit, &o), 200, "data[1]", "k");
    assert_true(seen.start != 100000); /* the server's default range */
    assert_true(seen.end != 200500);
    pvm_testkit_free(kit);
}

/* auth: the helpers send Basic credentials; basic_auth checks them. */
static void test_auth(void **state)
{
    (void)state;
    pvm_testkit *kit = kit_new("[server]\napi_url_prefix = /p\n"
                               "[plugin:auth]\ntype = basic_auth\n"
                               "user = alice:s3cret:x\n[plugin:rec]\n");
    pvm_test_options good = {.user = "alice", .password = "s3cret:x"};
    pvm_test_options bad = {.user = "alice", .password = "nope"};
    expect(pvm_testkit_instant(kit, "m", 10), 401, NULL, NULL);
    expect(pvm_testkit_instant_opt(kit, "m", 10, &bad), 401, NULL, NULL);
    seen.user[0] = '\0';
    expect(pvm_testkit_instant_opt(kit, "m", 10, &good), 200,
           "data.result[0].metric.k", "v");
    assert_string_equal(seen.user, "alice");
    expect(pvm_testkit_range_opt(kit, "m", 0, 60, 15, &good), 200,
           "data.result[0].metric.k", "v");
    expect(pvm_testkit_label_names_opt(kit, &good), 200, "data[1]", "k");
    expect(pvm_testkit_label_values_opt(kit, "k", &good), 200, "data[0]", "v");
    expect(pvm_testkit_metric_names_opt(kit, &good), 200, "data[0]", "m");
    pvm_testkit_free(kit);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_prefix),
        cmocka_unit_test(test_start_end),
        cmocka_unit_test(test_auth),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
