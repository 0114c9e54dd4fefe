/* test_settings.c: declarative plugin settings (pvm/config.h,
 * src/settings.c, the registry's use of key tables): every setter type
 * with good and bad values, the messages (file, line, key, what was
 * expected), defaults, required and repeatable keys, the configure
 * fallback, --describe's output, and that each shipped plugin's doc page
 * (docs/plugins/NAME.md) shows its keys exactly as --describe prints
 * them. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <pvm/config.h>
#include <pvm/plugin.h>

#include "registry.h"

extern const pvm_plugin_type *const pvm_plugin_table[];

/* A state with one field of every type. */
struct st {
    char *s;
    bool b;
    int64_t i;
    size_t z;
    int64_t d;
    int e;
    char *metric;
    char *label;
    char *path;
    pvm_key_list list;
    char custom[32];
    double f;
};

static const char *const colours[] = {"red", "green", "blue", NULL};

#define F(field) offsetof(struct st, field)

static const pvm_plugin_key keys[] = {
    {"s", PVM_KEY_STRING, F(s), .max = 8, .doc = "a short text"},
    {"b", PVM_KEY_BOOL, F(b), .def = "on", .doc = "a switch"},
    {"i", PVM_KEY_INT, F(i), .min = -5, .max = 10, .doc = "a number"},
    {"z", PVM_KEY_SIZE, F(z), .min = 1, .def = "1k", .doc = "a size"},
    {"d", PVM_KEY_DURATION, F(d), .min = 1, .max = 3600000, .def = "1m30s",
     .doc = "a duration"},
    {"e", PVM_KEY_ENUM, F(e), .choices = colours, .def = "green",
     .doc = "a colour"},
    {"metric", PVM_KEY_METRIC_NAME, F(metric), .required = true,
     .doc = "the metric"},
    {"label", PVM_KEY_LABEL_NAME, F(label), .doc = "a label"},
    {"path", PVM_KEY_PATH, F(path), .doc = "a file"},
    {"list", PVM_KEY_STRING, F(list), .repeat = true, .doc = "some texts"},
    {"custom", PVM_KEY_CUSTOM, .doc = "anything, checked by configure"},
    {"f", PVM_KEY_FLOAT, F(f), .def = "0.5", .doc = "a number"},
    {NULL},
};

static int configure(pvm_plugin *self, const char *key, const char *value,
                     pvm_error *err)
{
    struct st *st = pvm_plugin_state(self);
    if (strcmp(key, "custom") == 0 && strlen(value) < sizeof(st->custom)) {
        strcpy(st->custom, value);
        return 0;
    }
    return pvm_error_set(err, PVM_ERR_BAD_DATA, "no, not '%s'", value);
}

static const pvm_plugin_type all_type = {
    .name = "all",
    .description = "every key type",
    .state_size = sizeof(struct st),
    .keys = keys,
};

static const pvm_plugin_type custom_type = {
    .name = "custom",
    .description = "a table and configure",
    .state_size = sizeof(struct st),
    .configure = configure,
    .keys = keys,
};

static const pvm_plugin_type *const table[] = {&all_type, &custom_type, NULL};

/* Loads text as "dir/pvm.ini"; returns the context or NULL with the
 * error in err. */
static pvm_context *load(const char *text, pvm_error *err)
{
    *err = (pvm_error){0};
    pvm_config *cfg = pvm_config_load_string(text, "dir/pvm.ini", err);
    if (!cfg)
        return NULL;
    return pvm_context_new(cfg, table, err);
}

static void expect_error(const char *text, const char *msg)
{
    pvm_error err;
    pvm_context *ctx = load(text, &err);
    if (ctx || strcmp(err.msg, msg) != 0)
        fail_msg("for:\n%s\nexpected: %s\ngot:      %s", text, msg,
                 ctx ? "(no error)" : err.msg);
    pvm_context_free(ctx);
}

static void test_parse_bool(void **state)
{
    (void)state;
    static const char *const yes[] = {"yes", "YES", "true", "True",
                                      "on",  "ON",  "1"};
    static const char *const no[] = {"no",  "No",  "false", "FALSE",
                                     "off", "Off", "0"};
    static const char *const bad[] = {"", "y", "n", "2", "yess", "enable"};
    bool b;
    for (size_t i = 0; i < sizeof(yes) / sizeof(*yes); i++) {
        b = false;
        assert_int_equal(pvm_parse_bool(yes[i], &b), 0);
        assert_true(b);
    }
    for (size_t i = 0; i < sizeof(no) / sizeof(*no); i++) {
        b = true;
        assert_int_equal(pvm_parse_bool(no[i], &b), 0);
        assert_false(b);
    }
    for (size_t i = 0; i < sizeof(bad) / sizeof(*bad); i++) {
        b = true;
        assert_int_equal(pvm_parse_bool(bad[i], &b), PVM_ERR_BAD_DATA);
        assert_true(b);
    }
}

static void test_names(void **state)
{
    (void)state;
    assert_true(pvm_is_metric_name("a"));
    assert_true(pvm_is_metric_name("_a:b_9"));
    assert_true(pvm_is_metric_name(":x"));
    assert_false(pvm_is_metric_name(""));
    assert_false(pvm_is_metric_name("9a"));
    assert_false(pvm_is_metric_name("a-b"));
    assert_false(pvm_is_metric_name("a b"));
    assert_true(pvm_is_label_name("_a9"));
    assert_false(pvm_is_label_name("a:b"));
    assert_false(pvm_is_label_name("0a"));
    assert_false(pvm_is_label_name(""));
    assert_false(pvm_is_label_name("é"));
}

static void test_path_resolve(void **state)
{
    (void)state;
    static const struct {
        const char *base, *path, *want;
    } cases[] = {
        {"dir/pvm.ini", "x.db", "dir/x.db"},
        {"/etc/pvm/pvm.ini", "x.db", "/etc/pvm/x.db"},
        {"/etc/pvm/pvm.ini", "/abs/x.db", "/abs/x.db"},
        {"pvm.ini", "x.db", "x.db"},
        {"pvm.ini", "file:x.db", "./file:x.db"},
        {NULL, "x.db", "x.db"},
    };
    for (size_t i = 0; i < sizeof(cases) / sizeof(*cases); i++) {
        char *got = pvm_path_resolve(cases[i].base, cases[i].path);
        assert_non_null(got);
        assert_string_equal(got, cases[i].want);
        free(got);
    }
}

/* Every type, good values, through the registry; defaults applied. */
static void test_table_good(void **state)
{
    (void)state;
    pvm_error err;
    pvm_context *ctx = load("[plugin:a]\ntype = all\n"
                            "s = 12345678\nb = No\ni = -5\nz = 2M\n"
                            "d = 1h\ne = blue\nmetric = m:x\nlabel = l_1\n"
                            "path = data/x.om\nlist = one\nlist = two\n"
                            "s = short\nf = -1e3\n",
                            &err);
    if (!ctx)
        fail_msg("%s", err.msg);
    const struct st *st = pvm_plugin_state(pvm_context_plugin(ctx, "a"));
    assert_string_equal(st->s, "short"); /* the last one wins */
    assert_false(st->b);
    assert_int_equal(st->i, -5);
    assert_int_equal(st->z, 2 * 1024 * 1024);
    assert_int_equal(st->d, 3600000);
    assert_int_equal(st->e, 2);
    assert_string_equal(st->metric, "m:x");
    assert_string_equal(st->label, "l_1");
    assert_string_equal(st->path, "dir/data/x.om");
    assert_true(st->f == -1000);
    assert_int_equal(st->list.n, 2);
    assert_string_equal(st->list.v[0], "one");
    assert_string_equal(st->list.v[1], "two");
    pvm_context_free(ctx);

    ctx = load("[plugin:a]\ntype = all\nmetric = m\n", &err);
    if (!ctx)
        fail_msg("%s", err.msg);
    st = pvm_plugin_state(pvm_context_plugin(ctx, "a"));
    assert_null(st->s);
    assert_true(st->b);            /* default on */
    assert_int_equal(st->i, 0);    /* no default: zero */
    assert_int_equal(st->z, 1024); /* default 1k */
    assert_int_equal(st->d, 90000);
    assert_int_equal(st->e, 1); /* green */
    assert_null(st->path);
    assert_int_equal(st->list.n, 0);
    assert_true(st->f == 0.5);
    pvm_context_free(ctx);
}

/* Bad values: file, line, key and what was expected. */
static void test_table_bad(void **state)
{
    (void)state;
    static const struct {
        const char *line, *msg;
    } cases[] = {
        {"s = ", "s: must be a text of 1 to 8 bytes, not ''"},
        {"s = 123456789", "s: must be a text of 1 to 8 bytes, not "
                          "'123456789'"},
        {"b = maybe", "b: must be yes or no (true/false, on/off, 1/0), not "
                      "'maybe'"},
        {"i = 11", "i: must be an integer from -5 to 10, not '11'"},
        {"i = -6", "i: must be an integer from -5 to 10, not '-6'"},
        {"i = 1x", "i: must be an integer from -5 to 10, not '1x'"},
        {"i = ", "i: must be an integer from -5 to 10, not ''"},
        {"i = 99999999999999999999", "i: must be an integer from -5 to 10, "
                                     "not '99999999999999999999'"},
        {"z = 0", "z: must be a size (digits with k, M or G) of at least 1, "
                  "not '0'"},
        {"z = 1T", "z: must be a size (digits with k, M or G) of at least "
                   "1, not '1T'"},
        {"d = 2h", "d: must be a duration (like 1m30s) from 1ms to 1h, not "
                   "'2h'"},
        {"d = 0s", "d: must be a duration (like 1m30s) from 1ms to 1h, not "
                   "'0s'"},
        {"d = 5", "d: must be a duration (like 1m30s) from 1ms to 1h, not "
                  "'5'"},
        {"e = Red", "e: must be one of red|green|blue, not 'Red'"},
        {"metric = 1m", "metric: must be a metric name "
                        "([a-zA-Z_:][a-zA-Z0-9_:]*), not '1m'"},
        {"label = a:b", "label: must be a label name "
                        "([a-zA-Z_][a-zA-Z0-9_]*), not 'a:b'"},
        {"path = ", "path: must be a file path, not ''"},
        {"list = ", "list: must be a non-empty text, not ''"},
        {"f = 1x", "f: must be a number, not '1x'"},
        {"f = inf", "f: must be a number, not 'inf'"},
        {"f = 1e999", "f: must be a number, not '1e999'"},
        {"nokey = 1", "nokey: unknown key (see pvm-fcgi --describe all)"},
        {"custom = x", "custom: unknown key (see pvm-fcgi --describe all)"},
    };
    for (size_t i = 0; i < sizeof(cases) / sizeof(*cases); i++) {
        char text[256], msg[256];
        snprintf(text, sizeof(text),
                 "; settings\n[plugin:a]\ntype = all\nmetric = m\n%s\n",
                 cases[i].line);
        snprintf(msg, sizeof(msg), "dir/pvm.ini:5: [plugin:a] %s",
                 cases[i].msg);
        expect_error(text, msg);
    }
    expect_error("\n[plugin:a]\ntype = all\n",
                 "dir/pvm.ini:2: [plugin:a]: missing key 'metric' (the "
                 "metric)");
}

/* PVM_KEY_CUSTOM and unknown keys go to configure when there is one. */
static void test_configure_fallback(void **state)
{
    (void)state;
    pvm_error err;
    pvm_context *ctx = load("[plugin:c]\ntype = custom\nmetric = m\n"
                            "custom = free form\n",
                            &err);
    if (!ctx)
        fail_msg("%s", err.msg);
    const struct st *st = pvm_plugin_state(pvm_context_plugin(ctx, "c"));
    assert_string_equal(st->custom, "free form");
    pvm_context_free(ctx);
    expect_error("[plugin:c]\ntype = custom\nmetric = m\nother = 7\n",
                 "dir/pvm.ini:4: [plugin:c] other: no, not '7'");
    expect_error("[plugin:c]\ntype = custom\nmetric = m\ni = 70\n",
                 "dir/pvm.ini:4: [plugin:c] i: must be an integer from -5 "
                 "to 10, not '70'");
}

/* The setter on its own: a repeatable key appends, frees on request. */
static void test_key_set_direct(void **state)
{
    (void)state;
    struct st st = {0};
    pvm_error err = {0};
    const pvm_plugin_key *k = pvm_plugin_key_find(keys, "list");
    assert_non_null(k);
    assert_null(pvm_plugin_key_find(keys, "missing"));
    assert_int_equal(pvm_plugin_key_set(k, &st, "a", NULL, &err), 0);
    assert_int_equal(pvm_plugin_key_set(k, &st, "b", NULL, &err), 0);
    k = pvm_plugin_key_find(keys, "path");
    assert_int_equal(pvm_plugin_key_set(k, &st, "p", NULL, &err), 0);
    assert_string_equal(st.path, "p");
    k = pvm_plugin_key_find(keys, "custom");
    assert_int_equal(pvm_plugin_key_set(k, &st, "zzz", NULL, &err), 0);
    assert_int_equal(st.list.n, 2);
    pvm_plugin_keys_free(keys, &st);
    assert_int_equal(st.list.n, 0);
    assert_null(st.list.v);
    assert_null(st.path);
}

/* A secret key's bad value is never repeated in the message. */
static void test_secret_key(void **state)
{
    (void)state;
    struct {
        int64_t n;
    } st = {0};
    static const pvm_plugin_key k = {"conninfo", PVM_KEY_INT, 0,
                                     .secret = true, .doc = "d"};
    pvm_error err = {0};
    assert_true(pvm_plugin_key_set(&k, &st, "password=hunter2", NULL, &err) <
                0);
    assert_null(strstr(err.msg, "hunter2"));
    assert_non_null(strstr(err.msg, "not shown"));
}

static void write_file(const char *path, const char *data, size_t n)
{
    FILE *f = fopen(path, "wb");
    assert_non_null(f);
    assert_int_equal(fwrite(data, 1, n, f), n);
    fclose(f);
}

/* Secret files: the trailing newline goes, the content never reaches an
 * error message, empty/NUL/missing files are refused. */
static void test_secret_file(void **state)
{
    (void)state;
    char path[] = "/tmp/pvm-secret.XXXXXX";
    int fd = mkstemp(path);
    assert_true(fd >= 0);
    close(fd);
    pvm_error err = {0};
    write_file(path, "s3cret\r\n\n", 9);
    char *s = pvm_secret_file_read(path, &err);
    assert_non_null(s);
    assert_string_equal(s, "s3cret");
    pvm_secret_free(s);
    write_file(path, "\n", 1);
    assert_null(pvm_secret_file_read(path, &err));
    assert_non_null(strstr(err.msg, "empty"));
    write_file(path, "ab\0cd", 5);
    assert_null(pvm_secret_file_read(path, &err));
    assert_non_null(strstr(err.msg, "NUL"));
    assert_null(strstr(err.msg, "ab"));
    unlink(path);
    assert_null(pvm_secret_file_read(path, &err));
    assert_non_null(strstr(err.msg, path));
    pvm_secret_free(NULL);
}

static char *describe(const pvm_plugin_type *t)
{
    char *buf = NULL;
    size_t len = 0;
    FILE *f = open_memstream(&buf, &len);
    assert_non_null(f);
    pvm_plugin_describe(f, t);
    fclose(f);
    return buf;
}

static void test_describe(void **state)
{
    (void)state;
    char *got = describe(&all_type);
    assert_string_equal(
        got, "all: every key type\n"
             "  s = string of at most 8 bytes\n      a short text\n"
             "  b = bool (default on)\n      a switch\n"
             "  i = integer from -5 to 10\n      a number\n"
             "  z = size of at least 1 (default 1k)\n      a size\n"
             "  d = duration from 1ms to 1h (default 1m30s)\n"
             "      a duration\n"
             "  e = one of red|green|blue (default green)\n      a colour\n"
             "  metric = metric name (required)\n      the metric\n"
             "  label = label name\n      a label\n"
             "  path = path\n      a file\n"
             "  list = string (repeatable)\n      some texts\n"
             "  custom = text\n      anything, checked by configure\n"
             "  f = number (default 0.5)\n      a number\n");
    free(got);
}

static char *read_doc(const char *name)
{
    char path[512];
    snprintf(path, sizeof(path), "%s/docs/plugins/%s.md", PVM_TOP_SRCDIR,
             name);
    FILE *f = fopen(path, "r");
    if (!f)
        fail_msg("%s: no doc page for plugin type %s", path, name);
    char *buf = NULL;
    size_t cap = 0, len = 0;
    for (;;) {
        if (len + 4096 + 1 > cap) {
            cap = cap ? cap * 2 : 8192;
            buf = realloc(buf, cap);
            assert_non_null(buf);
        }
        size_t n = fread(buf + len, 1, 4096, f);
        len += n;
        if (n == 0)
            break;
    }
    fclose(f);
    buf[len] = '\0';
    return buf;
}

/* Each shipped plugin's page shows `--describe NAME` verbatim in a text
 * block, and every key of its "## Settings" table is in the key table. */
static void test_docs_match(void **state)
{
    (void)state;
    for (size_t i = 0; pvm_plugin_table[i]; i++) {
        const pvm_plugin_type *t = pvm_plugin_table[i];
        assert_non_null(t->keys); /* every shipped plugin has a table */
        char *doc = read_doc(t->name);
        char *want = describe(t);
        char block[8192];
        snprintf(block, sizeof(block), "```text\n%s```\n", want);
        if (!strstr(doc, block))
            fail_msg("docs/plugins/%s.md does not show --describe %s "
                     "verbatim; it prints:\n%s",
                     t->name, t->name, want);
        const char *sec = strstr(doc, "\n## Settings\n");
        assert_non_null(sec);
        const char *end = strstr(sec + 1, "\n## ");
        size_t rows = 0;
        for (const char *p = strstr(sec, "\n| `"); p && (!end || p < end);
             p = strstr(p + 1, "\n| `")) {
            char key[64];
            const char *q = p + 4, *close = strchr(q, '`');
            assert_non_null(close);
            snprintf(key, sizeof(key), "%.*s", (int)(close - q), q);
            if (!pvm_plugin_key_find(t->keys, key))
                fail_msg("docs/plugins/%s.md documents key '%s' that "
                         "the plugin does not have",
                         t->name, key);
            rows++;
        }
        size_t nkeys = 0;
        for (const pvm_plugin_key *k = t->keys; k->name; k++)
            nkeys++;
        if (rows != nkeys)
            fail_msg("docs/plugins/%s.md: %zu keys in the Settings table, "
                     "%zu in the key table",
                     t->name, rows, nkeys);
        free(want);
        free(doc);
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_parse_bool),
        cmocka_unit_test(test_names),
        cmocka_unit_test(test_path_resolve),
        cmocka_unit_test(test_table_good),
        cmocka_unit_test(test_table_bad),
        cmocka_unit_test(test_configure_fallback),
        cmocka_unit_test(test_key_set_direct),
        cmocka_unit_test(test_secret_key),
        cmocka_unit_test(test_secret_file),
        cmocka_unit_test(test_describe),
        cmocka_unit_test(test_docs_match),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
