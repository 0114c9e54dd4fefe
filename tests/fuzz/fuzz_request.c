/* fuzz_request.c: libFuzzer target for the whole request pipeline,
 * in-process through the test kit with the example and bench plugins.
 * The input is "METHOD\nTARGET\nBODY" (missing parts are empty; a fourth
 * line onwards, when the body starts with "H:", is one header line).
 * Every answer must be complete: a status line in the CGI head, a
 * Content-Type, a body that parses with json-c as an object with
 * "status"; 5xx only for a plugin's own failure (abort otherwise). The kit
 * is created once and reused, as a worker reuses its state. */
#include <json-c/json.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <pvm/testkit.h>

extern const pvm_plugin_type pvm_plugin_example;
extern const pvm_plugin_type pvm_plugin_bench;

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static const pvm_plugin_type *const table[] = {&pvm_plugin_example,
                                               &pvm_plugin_bench, NULL};

/* Small limits, so that no input can make one run slow. */
static const char ini[] = "[server]\n"
                          "max_body_bytes = 4096\n"
                          "max_samples = 100000\n"
                          /* the engine's deadline, 5/6 of it (5 s), stays
                           * below run.sh's -timeout=10 */
                          "request_timeout = 6s\n"
                          "max_request_memory = 256M\n"
                          "access_log = off\n"
                          "log_level = error\n"
                          "metrics_path =\n"
                          "[plugin:example]\n"
                          "[plugin:bench]\n"
                          "series = 20\nlabels = 2\nvalue_len = 8\n"
                          "[plugin:nan]\n"
                          "type = bench\nmetric = nan_metric\nseries = 2\n"
                          "value = nan\n";

static pvm_testkit *kit;

/* Splits off the next line of [*p, end) as a malloc'd string. */
static char *line(const char **p, const char *end)
{
    const char *nl = memchr(*p, '\n', (size_t)(end - *p));
    const char *stop = nl ? nl : end;
    char *s = strndup(*p, (size_t)(stop - *p));
    *p = nl ? nl + 1 : end;
    return s;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (!kit) {
        char err[512];
        kit = pvm_testkit_new(ini, table, err, sizeof(err));
        if (!kit) {
            fprintf(stderr, "fuzz_request: %s\n", err);
            abort();
        }
    }
    const char *p = (const char *)data, *end = p + size;
    char *method = line(&p, end);
    char *target = line(&p, end);
    char *header = NULL;
    if (end - p >= 2 && p[0] == 'H' && p[1] == ':') {
        p += 2;
        header = line(&p, end);
    }
    char *body = p < end ? strndup(p, (size_t)(end - p)) : NULL;
    const char *headers[] = {header, NULL};
    if (!method || !target || (p < end && !body))
        abort();
    pvm_test_response *r = pvm_testkit_request(kit, method, target, body,
                                               header ? headers : NULL);
    /* JSON answers are complete envelopes; the others (the text of
     * /federate, /metrics and the health checks, remote read's protobuf
     * and its plain-text errors) carry at least their Content-Type. */
    const char *ct = r ? pvm_test_response_header(r, "Content-Type") : NULL;
    bool is_json = ct && strncmp(ct, "application/json", 16) == 0;
    if (!r || !r->head || !r->body || !ct ||
        (is_json &&
         (!r->json || !json_object_is_type(r->json, json_type_object) ||
          !pvm_test_json_string(r->json, "status")))) {
        fprintf(stderr, "incomplete answer to %s %.200s: %.500s\n", method,
                target, r && r->body ? r->body : "(none)");
        abort();
    }
    const char *type = is_json ? pvm_test_json_string(r->json, "errorType")
                               : NULL;
    if (r->status < 200 || r->status > 599 ||
        (r->status >= 500 &&
         !(type && strcmp(type, "internal") == 0 &&
           strstr(r->body, "plugin")) &&
         r->status != 503)) {
        fprintf(stderr, "status %d for %s %.200s: %.500s\n", r->status, method,
                target, r->body);
        abort();
    }
    pvm_test_response_free(r);
    free(method);
    free(target);
    free(header);
    free(body);
    return 0;
}
