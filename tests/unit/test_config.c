/* test_config.c: unit tests of config.c (pvm.ini loading): value
 * syntaxes, plugin sections, file checks and limits, and every error
 * message with its file:line; the [server] keys are in
 * test_config_server.c. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "test_config.h"

/* Loads text as "pvm.ini"; fails the test on error. */
pvm_config *load_ok(const char *text)
{
    pvm_error err = {0};
    pvm_config *c = pvm_config_load_string(text, "pvm.ini", &err);
    if (!c)
        fail_msg("unexpected error: %s", err.msg);
    return c;
}

/* Loads text as "pvm.ini" and checks the exact error message. */
void expect_error(const char *text, const char *msg)
{
    pvm_error err = {0};
    pvm_config *c = pvm_config_load_string(text, "pvm.ini", &err);
    if (c) {
        pvm_config_free(c);
        fail_msg("expected error '%s' for:\n%s", msg, text);
    }
    assert_int_equal(err.code, PVM_ERR_BAD_DATA);
    assert_string_equal(err.msg, msg);
}

/* Loads "[server]\nKEY = VALUE\n" and checks the error on line 2. */
void expect_server_error(const char *key, const char *value, const char *why)
{
    char text[512], msg[512];
    snprintf(text, sizeof(text), "[server]\n%s = %s\n", key, value);
    snprintf(msg, sizeof(msg), "pvm.ini:2: [server] %s: %s", key, why);
    expect_error(text, msg);
}

/* Loads "[server]\nKEY = VALUE\n"; the caller frees. */
pvm_config *load_server(const char *key, const char *value)
{
    char text[512];
    snprintf(text, sizeof(text), "[server]\n%s = %s\n", key, value);
    return load_ok(text);
}
static void test_comments_and_syntax(void **state)
{
    (void)state;
    pvm_config *c = load_ok("\xEF\xBB\xBF; leading comment\r\n"
                            "# another one\r\n"
                            "  [server]   ; header comment\r\n"
                            "\tworkers = 2 ; inline\r\n"
                            "    log_level: debug # hash inline\r\n"
                            "\r\n"
                            "[plugin:a]\n"
                            "url = http://x/#frag;x\n"
                            "empty =\n"
                            "spaced   =   a b  c   \n"
                            "last = 1");
    assert_int_equal(c->server.workers, 2);
    assert_int_equal(c->server.log_level, PVM_LOG_DEBUG);
    assert_int_equal(c->nsections, 2);
    assert_int_equal(c->sections[0].line, 3);
    const pvm_config_section *a = pvm_config_section_find(c, "plugin:a");
    assert_non_null(a);
    assert_int_equal(a->line, 7);
    assert_int_equal(a->nentries, 4);
    assert_string_equal(a->entries[0].value, "http://x/#frag;x");
    assert_int_equal(a->entries[0].line, 8);
    assert_string_equal(a->entries[1].value, "");
    assert_string_equal(a->entries[2].key, "spaced");
    assert_string_equal(a->entries[2].value, "a b  c");
    assert_string_equal(a->entries[3].value, "1");
    assert_int_equal(a->entries[3].line, 11);
    pvm_config_free(c);
}

static void test_plugin_sections(void **state)
{
    (void)state;
    pvm_config *c = load_ok("[plugin:first]\n"
                            "type = example\n"
                            "metric_name = one\n"
                            "\n"
                            "[server]\n"
                            "workers = 1\n"
                            "[plugin:second.instance-2]\n"
                            "type = example\n"
                            "metric_name = two\n"
                            "metric_name = three\n"
                            "[plugin:empty]\n");
    assert_int_equal(c->nsections, 4);
    assert_string_equal(c->sections[0].name, "plugin:first");
    assert_string_equal(c->sections[1].name, "server");
    assert_string_equal(c->sections[2].name, "plugin:second.instance-2");
    assert_string_equal(c->sections[3].name, "plugin:empty");
    assert_int_equal(c->sections[3].line, 11);
    assert_int_equal(c->sections[3].nentries, 0);

    const pvm_config_section *s = &c->sections[2];
    assert_int_equal(s->line, 7);
    assert_int_equal(s->nentries, 3);
    assert_string_equal(s->entries[0].key, "type");
    assert_int_equal(s->entries[0].line, 8);
    assert_string_equal(s->entries[1].value, "two");
    assert_int_equal(s->entries[1].line, 9);
    assert_string_equal(s->entries[2].value, "three");
    assert_int_equal(s->entries[2].line, 10);
    assert_string_equal(pvm_config_get(c, "plugin:second.instance-2",
                                       "metric_name"),
                        "three");
    assert_string_equal(pvm_config_get(c, "plugin:first", "metric_name"),
                        "one");
    assert_null(pvm_config_section_find(c, "plugin:none"));
    pvm_config_free(c);

    /* Long plugin names are kept whole (inih would cut them at 49). */
    char text[256], name[128];
    memset(name, 'n', 100);
    name[100] = '\0';
    snprintf(text, sizeof(text), "[plugin:%s]\nk = v\n", name);
    c = load_ok(text);
    assert_string_equal(c->sections[0].name + 7, name);
    assert_int_equal(c->sections[0].nentries, 1);
    pvm_config_free(c);
}

static void test_section_errors(void **state)
{
    (void)state;
    expect_error("[server]\n\n[foo]\n",
                 "pvm.ini:3: unknown section [foo] (expected [server] or "
                 "[plugin:NAME])");
    expect_error("[Server]\n",
                 "pvm.ini:1: unknown section [Server] (expected [server] or "
                 "[plugin:NAME])");
    expect_error("[]\n", "pvm.ini:1: unknown section [] (expected [server] "
                         "or [plugin:NAME])");
    expect_error("[server]\n[plugin:a]\n[server]\n",
                 "pvm.ini:3: duplicate section [server] (first on line 1)");
    expect_error("[plugin:a]\nx = 1\n[plugin:b]\n[plugin:a]\n",
                 "pvm.ini:4: duplicate section [plugin:a] (first on line 1)");
    expect_error("[plugin:]\n",
                 "pvm.ini:1: invalid plugin name '' in [plugin:] (use "
                 "letters, digits, '_', '.' and '-')");
    expect_error("\n[plugin:a b]\n",
                 "pvm.ini:2: invalid plugin name 'a b' in [plugin:a b] (use "
                 "letters, digits, '_', '.' and '-')");
    expect_error("[plugin:a/b]\n",
                 "pvm.ini:1: invalid plugin name 'a/b' in [plugin:a/b] (use "
                 "letters, digits, '_', '.' and '-')");
    expect_error("[server\n",
                 "pvm.ini:1: unterminated section header '[server' (missing "
                 "']')");
    expect_error("[server] x\n",
                 "pvm.ini:1: unexpected text after section header: ' x'");
    /* Empty unknown sections are errors too (inih never reports them). */
    expect_error("[server]\n[bar]", "pvm.ini:2: unknown section [bar] "
                                    "(expected [server] or [plugin:NAME])");
}

static void test_key_errors(void **state)
{
    (void)state;
    expect_error("; comment\nlisten = 127.0.0.1:9000\n",
                 "pvm.ini:2: 'listen' outside of a section (keys belong in "
                 "[server] or [plugin:NAME])");
    expect_error("[server]\nlog_level = info\nlisne = x\n",
                 "pvm.ini:3: [server] unknown key 'lisne' (did you mean "
                 "'listen'?)");
    expect_error("[server]\nmax_body_byte = 1\n",
                 "pvm.ini:2: [server] unknown key 'max_body_byte' (did you "
                 "mean 'max_body_bytes'?)");
    expect_error("[server]\ncolour = blue\n",
                 "pvm.ini:2: [server] unknown key 'colour' (see pvm.ini(5) "
                 "for the keys of [server])");
    expect_error("[server]\ntype = x\n",
                 "pvm.ini:2: [server] unknown key 'type' (see pvm.ini(5) "
                 "for the keys of [server])");
    expect_error("[plugin:a]\n= 1\n", "pvm.ini:2: [plugin:a] empty key");
    expect_error("[server]\nworkers = 2\nthis is not a setting\n",
                 "pvm.ini:3: syntax error: expected 'KEY = VALUE' or "
                 "'[SECTION]', got 'this ...'");
    expect_error("[plugin:auth]\nuser alice s3cr3t:x\n",
                 "pvm.ini:2: [plugin:auth] 'user ...' is not a key (a key "
                 "has no blanks: is the '=' missing?)");
    expect_error("user alice s3cr3t:x\n",
                 "pvm.ini:1: 'user ...' outside of a section (keys belong "
                 "in [server] or [plugin:NAME])");
    /* only the first word: the rest may be a password */
    expect_error("[plugin:auth]\nuser alice s3cr3t\n",
                 "pvm.ini:2: syntax error: expected 'KEY = VALUE' or "
                 "'[SECTION]', got 'user ...'");
    /* Continuation lines are not supported. */
    expect_error("[plugin:a]\nlist = one\n  two\n",
                 "pvm.ini:3: syntax error: expected 'KEY = VALUE' or "
                 "'[SECTION]', got 'two' (multi-line values are not "
                 "supported)");
    /* The first error wins. */
    expect_error("[server]\nworkers = x\n[foo]\n",
                 "pvm.ini:2: [server] workers: not a number from 0 to 1024: "
                 "'x'");
}

static void test_line_limits(void **state)
{
    (void)state;
    /* Long values (an SQL query) fit; past PVM_CONFIG_MAX_LINE they do
     * not. A long comment is fine either way. */
    size_t big = PVM_CONFIG_MAX_LINE + 100;
    char *text = malloc(big + 64);
    strcpy(text, "[plugin:a]\nk = v ; ");
    size_t n = strlen(text);
    memset(text + n, 'c', 1000);
    strcpy(text + n + 1000, "\nk2 = ");
    n = strlen(text);
    memset(text + n, 'v', 5000);
    text[n + 5000] = '\0';
    pvm_config *c = load_ok(text);
    assert_int_equal(strlen(pvm_config_get(c, "plugin:a", "k2")), 5000);
    assert_string_equal(pvm_config_get(c, "plugin:a", "k"), "v");
    pvm_config_free(c);

    strcpy(text, "[plugin:a]\n\nk = ");
    n = strlen(text);
    memset(text + n, 'v', big - n);
    text[big] = '\0';
    pvm_error err = {0};
    c = pvm_config_load_string(text, "pvm.ini", &err);
    assert_null(c);
    assert_non_null(strstr(err.msg, "pvm.ini:3: line too long (at most "));
    free(text);

    /* A NUL byte, through a file. */
    char path[] = "/tmp/pvm-test-config-XXXXXX";
    int fd = mkstemp(path);
    assert_true(fd >= 0);
    assert_int_equal(write(fd, "[server]\nworkers = 1\0\n", 23), 23);
    close(fd);
    c = pvm_config_load(path, &err);
    assert_null(c);
    char want[128];
    snprintf(want, sizeof(want), "%s:2: NUL byte in line", path);
    assert_string_equal(err.msg, want);
    unlink(path);
}

static void test_files(void **state)
{
    (void)state;
    pvm_error err = {0};
    pvm_config *c = pvm_config_load("/nonexistent/pvm.ini", &err);
    assert_null(c);
    assert_string_equal(err.msg, "cannot open /nonexistent/pvm.ini: No such "
                                 "file or directory");
    c = pvm_config_load("/tmp", &err);
    assert_null(c);
    assert_string_equal(err.msg, "/tmp: not a regular file (it is a "
                                 "directory); give the path of an INI file");

    char path[] = "/tmp/pvm-test-config-XXXXXX";
    int fd = mkstemp(path);
    assert_true(fd >= 0);
    FILE *f = fdopen(fd, "w");
    /* Bigger than the first read buffer, to exercise its growth. */
    fputs("[server]\n", f);
    for (int i = 0; i < 1000; i++)
        fprintf(f, "; comment line %d of a long file\n", i);
    fputs("workers = 7\n[plugin:x]\ntype = example\n", f);
    fclose(f);
    c = pvm_config_load(path, &err);
    assert_non_null(c);
    assert_string_equal(c->path, path);
    assert_int_equal(c->server.workers, 7);
    assert_int_equal(c->sections[1].line, 1003);
    pvm_config_free(c);

    f = fopen(path, "w");
    fputs("[server]\nworkers = 7\nlisten = nowhere\n", f);
    fclose(f);
    c = pvm_config_load(path, &err);
    assert_null(c);
    char want[256];
    snprintf(want, sizeof(want),
             "%s:3: [server] listen: not an address: 'nowhere' (expected "
             "HOST:PORT, [IPV6]:PORT or unix:/PATH)",
             path);
    assert_string_equal(err.msg, want);
    unlink(path);

    /* A NULL err is allowed. */
    assert_null(pvm_config_load_string("[x]\n", "pvm.ini", NULL));
    pvm_config_free(NULL);

    const char *def = pvm_config_default_path();
    size_t len = strlen(def);
    assert_true(len > 12);
    assert_string_equal(def + len - 12, "/pvm/pvm.ini");
}

/* conf/pvm.ini, the installed default, loads and says what it documents. */
/* Seconds since an arbitrary start. */
static double mono_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* What is not a small regular file is refused at once, for every way a
 * configuration is loaded (pvm_config_load serves the start,
 * --check-config and SIGHUP): /dev/zero used to be read forever, a FIFO
 * blocked in open() until a writer came. */
static void test_not_a_config_file(void **state)
{
    (void)state;
    pvm_error err = {0};
    double t0 = mono_s();
    pvm_config *c = pvm_config_load("/dev/zero", &err);
    assert_null(c);
    assert_string_equal(err.msg, "/dev/zero: not a regular file (it is a "
                                 "character device); give the path of an "
                                 "INI file");

    char dir[] = "/tmp/pvm-test-config-XXXXXX";
    assert_non_null(mkdtemp(dir));
    char fifo[64];
    snprintf(fifo, sizeof(fifo), "%s/fifo", dir);
    assert_int_equal(mkfifo(fifo, 0600), 0);
    c = pvm_config_load(fifo, &err);
    assert_null(c);
    assert_non_null(strstr(err.msg, "not a regular file (it is a FIFO)"));
    unlink(fifo);

    /* one byte over the cap, then exactly at the cap */
    char big[64];
    snprintf(big, sizeof(big), "%s/big.ini", dir);
    FILE *f = fopen(big, "w");
    assert_non_null(f);
    fputs("[server]\n", f);
    for (long i = 9; i < PVM_CONFIG_MAX_BYTES + 1; i++)
        fputc(i % 64 == 63 ? '\n' : ';', f);
    fclose(f);
    c = pvm_config_load(big, &err);
    assert_null(c);
    assert_non_null(strstr(err.msg, "too large (more than 1048576 bytes)"));
    assert_int_equal(truncate(big, PVM_CONFIG_MAX_BYTES), 0);
    c = pvm_config_load(big, &err);
    assert_non_null(c);
    pvm_config_free(c);
    unlink(big);
    rmdir(dir);
    assert_true(mono_s() - t0 < 10.0);
}

/* Many sections and keys (the arrays grow by doubling): all kept, in
 * order, with their lines. */
static void test_many_sections_and_keys(void **state)
{
    (void)state;
    size_t cap = 1 << 20, o = 0;
    char *text = malloc(cap);
    assert_non_null(text);
    o += (size_t)snprintf(text + o, cap - o, "[plugin:big]\n");
    for (int i = 0; i < 5000; i++)
        o += (size_t)snprintf(text + o, cap - o, "k%d = v%d\n", i, i);
    for (int i = 0; i < 1000; i++)
        o += (size_t)snprintf(text + o, cap - o, "[plugin:s%d]\nk = %d\n", i,
                              i);
    pvm_error err = {0};
    pvm_config *c = pvm_config_load_string(text, "pvm.ini", &err);
    free(text);
    assert_non_null(c);
    assert_int_equal(c->nsections, 1001);
    assert_int_equal(c->sections[0].nentries, 5000);
    for (int i = 0; i < 5000; i++) {
        char k[16], v[16];
        snprintf(k, sizeof(k), "k%d", i);
        snprintf(v, sizeof(v), "v%d", i);
        assert_string_equal(c->sections[0].entries[i].key, k);
        assert_string_equal(c->sections[0].entries[i].value, v);
        assert_int_equal(c->sections[0].entries[i].line, i + 2);
    }
    for (int i = 0; i < 1000; i++) {
        char name[32], v[16];
        snprintf(name, sizeof(name), "plugin:s%d", i);
        snprintf(v, sizeof(v), "%d", i);
        assert_string_equal(c->sections[i + 1].name, name);
        assert_int_equal(c->sections[i + 1].line, 5002 + 2 * i);
        assert_string_equal(pvm_config_get(c, name, "k"), v);
    }
    pvm_config_free(c);

    /* 20,000 sections (the duplicate check is hashed: this used to
     * compare each name with every one before it), then a duplicate of
     * one in the middle */
    cap = 1 << 20;
    o = 0;
    text = malloc(cap);
    assert_non_null(text);
    for (int i = 0; i < 20000; i++)
        o += (size_t)snprintf(text + o, cap - o, "[plugin:s%d]\n", i);
    snprintf(text + o, cap - o, "[plugin:s12345]\n");
    c = pvm_config_load_string(text, "pvm.ini", &err);
    assert_null(c);
    assert_string_equal(err.msg, "pvm.ini:20001: duplicate section "
                                 "[plugin:s12345] (first on line 12346)");
    text[o] = '\0';
    c = pvm_config_load_string(text, "pvm.ini", &err);
    free(text);
    assert_non_null(c);
    assert_int_equal(c->nsections, 20000);
    assert_int_equal(pvm_config_section_find(c, "plugin:s19999")->line, 20000);
    pvm_config_free(c);
}

static void test_shipped_config(void **state)
{
    (void)state;
#ifdef PVM_TOP_SRCDIR
    pvm_error err = {0};
    pvm_config *c = pvm_config_load(PVM_TOP_SRCDIR "/conf/pvm.ini", &err);
    if (!c)
        fail_msg("%s", err.msg);
    const pvm_server_config *s = &c->server;
    assert_string_equal(s->listen, "unix:/run/pvm/pvm.sock");
    assert_string_equal(s->api_url_prefix, "");
    assert_int_equal(s->max_body_bytes, 1048576);
    assert_int_equal(s->lookback_delta_ms, 300000);
    assert_int_equal(s->request_read_timeout_ms, 5000);
    assert_int_equal(c->nsections, 2);
    assert_string_equal(c->sections[1].name, "plugin:example");
    assert_string_equal(pvm_config_get(c, "plugin:example", "type"),
                        "example");
    assert_null(pvm_config_get(c, "plugin:example", "metric_name"));
    pvm_config_free(c);
#else
    skip();
#endif
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_defaults),
        cmocka_unit_test(test_all_keys),
        cmocka_unit_test(test_repeated_server_key),
        cmocka_unit_test(test_listen),
        cmocka_unit_test(test_prefix_normalization),
        cmocka_unit_test(test_sizes),
        cmocka_unit_test(test_counts),
        cmocka_unit_test(test_durations),
        cmocka_unit_test(test_log_levels),
        cmocka_unit_test(test_comments_and_syntax),
        cmocka_unit_test(test_plugin_sections),
        cmocka_unit_test(test_section_errors),
        cmocka_unit_test(test_key_errors),
        cmocka_unit_test(test_line_limits),
        cmocka_unit_test(test_files),
        cmocka_unit_test(test_not_a_config_file),
        cmocka_unit_test(test_many_sections_and_keys),
        cmocka_unit_test(test_shipped_config),
        cmocka_unit_test(test_fcgi_timeouts),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
