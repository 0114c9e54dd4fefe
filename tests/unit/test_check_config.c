/* test_check_config.c: the validate hook of the shipped plugins and
 * pvm_context_validate, what `pvm-fcgi --check-config` runs after
 * configure and check: files and databases are opened read-only and
 * parsed or prepared, nothing is created or started, and the messages
 * name the file, line and instance (never a password). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cmocka.h>
#include <sqlite3.h>

#include "config.h"
#include "registry.h"

extern const pvm_plugin_type pvm_plugin_openmetrics_file;
extern const pvm_plugin_type pvm_plugin_sqlite;
extern const pvm_plugin_type pvm_plugin_basic_auth;
extern const pvm_plugin_type pvm_plugin_catch_errors;
extern const pvm_plugin_type pvm_plugin_example;

static const pvm_plugin_type *const table[] = {
    &pvm_plugin_openmetrics_file, &pvm_plugin_sqlite,  &pvm_plugin_basic_auth,
    &pvm_plugin_catch_errors,     &pvm_plugin_example, NULL};

static char dir[64];   /* temporary directory */
static char path[256]; /* scratch file path */

/* dir/name into path. */
static const char *in_dir(const char *name)
{
    snprintf(path, sizeof(path), "%s/%s", dir, name);
    return path;
}

static void write_file(const char *name, const char *text)
{
    FILE *f = fopen(in_dir(name), "w");
    assert_non_null(f);
    fputs(text, f);
    fclose(f);
}

/* Loads the INI text as dir/pvm.ini (so that relative paths resolve in
 * dir) and runs configure/check and validate: returns the status and the
 * message in msg. */
static int validate(const char *ini, char *msg, size_t len)
{
    write_file("pvm.ini", ini);
    pvm_error err = {0};
    pvm_config *cfg = pvm_config_load(in_dir("pvm.ini"), &err);
    if (!cfg)
        fail_msg("config: %s", err.msg);
    pvm_context *ctx = pvm_context_new(cfg, table, &err);
    if (!ctx)
        fail_msg("context: %s", err.msg);
    int rc = pvm_context_validate(ctx, &err);
    snprintf(msg, len, "%s", rc < 0 ? err.msg : "");
    pvm_context_free(ctx);
    return rc;
}

/* validate() must fail with a message containing want. */
static void expect_invalid(const char *ini, const char *want)
{
    char msg[1024];
    int rc = validate(ini, msg, sizeof(msg));
    if (rc >= 0 || !strstr(msg, want))
        fail_msg("want an error with \"%s\", got %d \"%s\"", want, rc, msg);
}

static void expect_valid(const char *ini)
{
    char msg[1024];
    if (validate(ini, msg, sizeof(msg)) < 0)
        fail_msg("want valid, got \"%s\"", msg);
}

static int setup(void **state)
{
    (void)state;
    strcpy(dir, "/tmp/pvm-test-check-XXXXXX");
    assert_non_null(mkdtemp(dir));
    pvm_log_set_level(PVM_LOG_ERROR);
    return 0;
}

static int teardown(void **state)
{
    (void)state;
    static const char *const names[] = {"pvm.ini",   "ok.om", "bad.om",
                                        "db.sqlite", "users", "empty"};
    for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++)
        unlink(in_dir(names[i]));
    rmdir(dir);
    return 0;
}

/* ---- openmetrics_file --------------------------------------------------- */

static void test_openmetrics_file(void **state)
{
    (void)state;
    /* a missing file: configure and check accept it, validate does not */
    expect_invalid("[plugin:om]\ntype = openmetrics_file\n"
                   "path = missing.om\n",
                   "pvm.ini:1: [plugin:om]: cannot open ");
    expect_invalid("[plugin:om]\ntype = openmetrics_file\n"
                   "path = missing.om\n",
                   "missing.om: No such file or directory");
    /* a syntax error, with its line */
    write_file("bad.om", "a 1 1000\nb{x=\"1\" 2 1000\n");
    expect_invalid("[plugin:om]\ntype = openmetrics_file\npath = bad.om\n",
                   "bad.om:2: unterminated label set");
    /* seconds written as milliseconds are not a syntax error, but a
     * fraction is not milliseconds */
    write_file("ok.om", "a 1 1.5\n# EOF\n");
    expect_invalid("[plugin:om]\ntype = openmetrics_file\npath = ok.om\n"
                   "timestamp_unit = ms\n",
                   "ok.om:1: invalid timestamp '1.5'");
    expect_valid("[plugin:om]\ntype = openmetrics_file\npath = ok.om\n");
}

/* ---- sqlite ------------------------------------------------------------- */

static void make_db(void)
{
    sqlite3 *h;
    assert_int_equal(sqlite3_open(in_dir("db.sqlite"), &h), SQLITE_OK);
    assert_int_equal(sqlite3_exec(h,
                                  "DROP TABLE IF EXISTS t; "
                                  "CREATE TABLE t (timestamp, value, "
                                  "host TEXT); INSERT INTO t VALUES "
                                  "(1, 2, 'a');",
                                  NULL, NULL, NULL),
                     SQLITE_OK);
    sqlite3_close(h);
}

/* Rows in table t of the test database. */
static int rows(void)
{
    sqlite3 *h;
    sqlite3_stmt *s;
    assert_int_equal(sqlite3_open(in_dir("db.sqlite"), &h), SQLITE_OK);
    assert_int_equal(sqlite3_prepare_v2(h, "SELECT count(*) FROM t", -1, &s,
                                        NULL),
                     SQLITE_OK);
    assert_int_equal(sqlite3_step(s), SQLITE_ROW);
    int n = sqlite3_column_int(s, 0);
    sqlite3_finalize(s);
    sqlite3_close(h);
    return n;
}

#define SQLITE_INI(db, query)                                                 \
    "[plugin:s]\ntype = sqlite\ndatabase = " db "\nmetric = m\n"              \
    "query = " query "\n"

static void test_sqlite(void **state)
{
    (void)state;
    make_db();
    expect_valid(SQLITE_INI("db.sqlite", "SELECT * FROM t WHERE timestamp "
                                         "BETWEEN :start AND :end"));
    /* statements that would write, run nothing */
    expect_invalid(SQLITE_INI("db.sqlite", "DELETE FROM t"),
                   "pvm.ini:1: [plugin:s]: query: must be a SELECT (it "
                   "would write)");
    expect_invalid(SQLITE_INI("db.sqlite", "SELECT * FROM t; DELETE FROM t"),
                   "query: must be exactly one SELECT statement");
    expect_invalid(SQLITE_INI("db.sqlite", "SELECT * FROM t; SELECT 1"),
                   "query: must be exactly one SELECT statement");
    assert_int_equal(rows(), 1);
    /* the other statement is checked too */
    expect_invalid(
        SQLITE_INI("db.sqlite",
                   "SELECT * FROM t") "labels_query = DROP TABLE t\n",
        "labels_query: must be a SELECT (it would write)");
    expect_invalid(SQLITE_INI("db.sqlite", "SELECT * FROM nosuchtable"),
                   "query: no such table: nosuchtable");
    expect_invalid(SQLITE_INI("db.sqlite", "SELECT 1 AS timestamp"),
                   "query: no column named 'value'");
    /* a missing database is reported, and not created */
    expect_invalid(SQLITE_INI("nodb.sqlite", "SELECT 1"), "database ");
    struct stat sb;
    assert_int_equal(stat(in_dir("nodb.sqlite"), &sb), -1);
    assert_int_equal(rows(), 1);
}

/* ---- basic_auth, wrapped instances, the order --------------------------- */

static void test_basic_auth(void **state)
{
    (void)state;
    expect_invalid("[plugin:auth]\ntype = basic_auth\nhtpasswd = users\n",
                   "[plugin:auth]: htpasswd: cannot open ");
    write_file("empty", "# nobody\n");
    expect_invalid("[plugin:auth]\ntype = basic_auth\nhtpasswd = empty\n",
                   "has no users");
    /* as at the start: users from the section are enough */
    expect_valid("[plugin:auth]\ntype = basic_auth\nuser = a:b\n"
                 "htpasswd = empty\n");
    /* no file to check: valid; the password never appears */
    char msg[1024];
    assert_int_equal(validate("[plugin:auth]\ntype = basic_auth\n"
                              "user = alice:s3cr3t-pw\n",
                              msg, sizeof(msg)),
                     0);
    write_file("users", "bob:$2y$05$notahash\n");
    assert_true(validate("[plugin:auth]\ntype = basic_auth\n"
                         "user = alice:s3cr3t-pw\nhtpasswd = users\n",
                         msg, sizeof(msg)) < 0);
    assert_null(strstr(msg, "s3cr3t"));
    assert_null(strstr(msg, "notahash"));
}

static void test_wrapped_and_order(void **state)
{
    (void)state;
    /* a wrapped instance is validated as well; the first failure in
     * configuration order is reported */
    make_db();
    expect_invalid("[plugin:guard]\ntype = catch_errors\nwrap = om\n"
                   "[plugin:om]\ntype = openmetrics_file\npath = gone.om\n"
                   "[plugin:s]\ntype = sqlite\ndatabase = db.sqlite\n"
                   "metric = m\nquery = DELETE FROM t\n",
                   "pvm.ini:4: [plugin:om]: cannot open ");
    expect_valid("[plugin:example]\n[plugin:guard]\ntype = catch_errors\n"
                 "wrap = example\n");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_openmetrics_file),
        cmocka_unit_test(test_sqlite),
        cmocka_unit_test(test_basic_auth),
        cmocka_unit_test(test_wrapped_and_order),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
