/* test_registry_log.c: settings plugins read through the context, and
 * log.c (levels, line format, long lines) with stderr captured. Part of
 * test_registry (test_registry.h). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <regex.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include "registry.h"
#include "test_registry.h"

/* Logging */

/* Settings plugins read through the context. */
void test_context_lookback_and_paths(void **state)
{
    (void)state;
    pvm_error err = {0};
    pvm_config *cfg = pvm_config_load_string("[server]\nlookback_delta = 2m\n",
                                             "/etc/pvm/pvm.ini", &err);
    assert_non_null(cfg);
    pvm_context *ctx = pvm_context_new(cfg, table, &err);
    assert_non_null(ctx);
    assert_int_equal(pvm_context_lookback_ms(ctx), 120000);
    char *p = pvm_context_resolve_path(ctx, "data/x.om");
    assert_string_equal(p, "/etc/pvm/data/x.om");
    free(p);
    p = pvm_context_resolve_path(ctx, "/abs/y.db");
    assert_string_equal(p, "/abs/y.db");
    free(p);
    pvm_context_free(ctx);
    /* a config named without a directory, and the default lookback */
    ctx = new_ok("[server]\n");
    assert_int_equal(pvm_context_lookback_ms(ctx), 300000);
    p = pvm_context_resolve_path(ctx, "file:z.db");
    assert_string_equal(p, "./file:z.db");
    free(p);
    p = pvm_context_resolve_path(ctx, "../data/x.om");
    assert_string_equal(p, "../data/x.om");
    free(p);
    pvm_context_free(ctx);
}

void test_log_levels(void **state)
{
    (void)state;
    pvm_log_level l = PVM_LOG_ERROR;
    assert_int_equal(pvm_log_level_parse("debug", &l), 0);
    assert_int_equal(l, PVM_LOG_DEBUG);
    assert_int_equal(pvm_log_level_parse("Warning", &l), 0);
    assert_int_equal(l, PVM_LOG_WARNING);
    assert_int_equal(pvm_log_level_parse("warn", &l), 0);
    assert_int_equal(pvm_log_level_parse("ERROR", &l), 0);
    assert_int_equal(l, PVM_LOG_ERROR);
    assert_int_equal(pvm_log_level_parse("info", &l), 0);
    assert_int_equal(l, PVM_LOG_INFO);
    assert_int_equal(pvm_log_level_parse("verbose", &l), PVM_ERR_BAD_DATA);
    assert_int_equal(pvm_log_level_parse("", &l), PVM_ERR_BAD_DATA);
    assert_int_equal(pvm_log_level_parse(NULL, &l), PVM_ERR_BAD_DATA);
    assert_int_equal(l, PVM_LOG_INFO);
    assert_string_equal(pvm_log_level_name(PVM_LOG_ERROR), "error");
    assert_string_equal(pvm_log_level_name(PVM_LOG_WARNING), "warning");
    assert_string_equal(pvm_log_level_name(PVM_LOG_INFO), "info");
    assert_string_equal(pvm_log_level_name(PVM_LOG_DEBUG), "debug");
    assert_string_equal(pvm_log_level_name((pvm_log_level)9), "unknown");

    pvm_log_set_level(PVM_LOG_WARNING);
    assert_int_equal(pvm_log_get_level(), PVM_LOG_WARNING);
    assert_true(pvm_log_is_enabled(PVM_LOG_ERROR));
    assert_true(pvm_log_is_enabled(PVM_LOG_WARNING));
    assert_false(pvm_log_is_enabled(PVM_LOG_INFO));
    pvm_log_set_level((pvm_log_level)42); /* ignored */
    assert_int_equal(pvm_log_get_level(), PVM_LOG_WARNING);
}

void test_log_format(void **state)
{
    (void)state;
    pvm_context *ctx = new_ok("[plugin:demo]\ntype = rec\n");
    pvm_log_set_level(PVM_LOG_INFO);
    struct capture cap;
    capture_start(&cap);
    pvm_log(PVM_LOG_INFO, "hello %d", 42);
    pvm_log(PVM_LOG_DEBUG, "not shown");
    pvm_plugin_log(pvm_context_plugin(ctx, "demo"), PVM_LOG_WARNING,
                   "two\nlines");
    char *out = capture_end(&cap);

    char pattern[256];
    snprintf(pattern, sizeof(pattern),
             "^[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}:[0-9]{2}\\."
             "[0-9]{3}Z pvm-fcgi\\[%ld\\] info: hello 42\n"
             "[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}:[0-9]{2}\\."
             "[0-9]{3}Z pvm-fcgi\\[%ld\\] warning: plugin demo: two lines\n$",
             (long)getpid(), (long)getpid());
    regex_t re;
    assert_int_equal(regcomp(&re, pattern, REG_EXTENDED), 0);
    if (regexec(&re, out, 0, NULL, 0) != 0)
        fail_msg("unexpected log output:\n%s", out);
    regfree(&re);
    free(out);
    pvm_context_free(ctx);
}

void test_log_long_line(void **state)
{
    (void)state;
    char *big = malloc(10000);
    memset(big, 'x', 9999);
    big[9999] = '\0';
    struct capture cap;
    capture_start(&cap);
    pvm_log(PVM_LOG_ERROR, "%s", big);
    char *out = capture_end(&cap);
    size_t n = strlen(out);
    assert_int_equal(n, 4096);
    assert_string_equal(out + n - 5, "x...\n");
    assert_ptr_equal(strchr(out, '\n'), out + n - 1);
    free(out);
    free(big);
}
