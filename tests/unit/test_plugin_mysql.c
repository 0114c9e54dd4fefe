/* test_plugin_mysql.c: the mysql plugin type through the test kit, with
 * no server (tests/integration/sql_mysql.sh runs it against a real
 * MariaDB): the settings its check refuses, a server that is down at
 * startup (logged; each request answers 503 naming the instance; fatal
 * with require_at_startup), and password files, whose content never
 * appears in a message. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include <pvm/pvm.h>
#include <pvm/testkit.h>

extern const pvm_plugin_type pvm_plugin_mysql;

static const pvm_plugin_type *const table[] = {&pvm_plugin_mysql, NULL};

static char dir[64];            /* temporary directory */
static char sock[128];          /* a socket path nothing listens on */
static char pwfile[128];        /* a password file */
#define SECRET "s3cr3t-Hunter2" /* its content */

static int setup(void **state)
{
    (void)state;
    strcpy(dir, "/tmp/pvm-test-mysql-XXXXXX");
    assert_non_null(mkdtemp(dir));
    snprintf(sock, sizeof(sock), "%s/mysqld.sock", dir);
    snprintf(pwfile, sizeof(pwfile), "%s/password", dir);
    FILE *f = fopen(pwfile, "w");
    assert_non_null(f);
    fputs(SECRET "\n", f);
    fclose(f);
    return 0;
}

static int teardown(void **state)
{
    (void)state;
    unlink(pwfile);
    rmdir(dir);
    return 0;
}

/* An instance with the given extra lines; NULL and err when refused. */
static pvm_testkit *kit(const char *extra, char *err, size_t n)
{
    char ini[2048];
    snprintf(ini, sizeof(ini),
             "[plugin:db]\ntype = mysql\nsocket = %s\ndatabase = t\n"
             "user = pvm\nmetric = m\n"
             "query = SELECT ts AS timestamp, v AS value FROM x\n%s",
             sock, extra);
    return pvm_testkit_new(ini, table, err, n);
}

/* Settings that go together or exclude each other, named at startup. */
static void test_check(void **state)
{
    (void)state;
    static const struct {
        const char *extra, *msg;
    } bad[] = {
        {"tls_ca = /etc/ssl/ca.pem\n", "need tls = yes or verify"},
        {"tls = verify\n", "tls = verify needs tls_ca"},
        {"tls = yes\ntls_cert = /c.pem\n", "tls_cert and tls_key go together"},
        {"host = db.example\n", "set host (TCP) or socket, not both"},
        {"tls = maybe\n", "tls: must be one of no|yes|verify"},
        {"port = 70000\n", "port: must be an integer from 1 to 65535"},
        {"connect_timeout = 500ms\n", "connect_timeout"},
    };
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        char err[1024] = "";
        assert_null(kit(bad[i].extra, err, sizeof(err)));
        if (!strstr(err, bad[i].msg))
            fail_msg("'%s': '%s' does not say '%s'", bad[i].extra, err,
                     bad[i].msg);
    }
    char err[1024] = "";
    assert_null(pvm_testkit_new("[plugin:db]\ntype = mysql\nmetric = m\n"
                                "query = SELECT 1\n",
                                table, err, sizeof(err)));
    assert_non_null(strstr(err, "missing key 'database'"));
}

/* Down at startup: the instance starts, each request answers 503 with
 * the Prometheus envelope naming the instance and the connect error; the
 * password never shows. */
static void test_down(void **state)
{
    (void)state;
    char extra[256], err[1024] = "";
    snprintf(extra, sizeof(extra), "password_file = %s\n", pwfile);
    pvm_testkit *k = kit(extra, err, sizeof(err));
    if (!k)
        fail_msg("pvm_testkit_new: %s", err);
    for (int i = 0; i < 2; i++) {
        pvm_test_response *r = pvm_testkit_instant(k, "m", 1700000000);
        assert_int_equal(r->status, 503);
        assert_string_equal(pvm_test_json_string(r->json, "errorType"),
                            "unavailable");
        const char *msg = pvm_test_json_string(r->json, "error");
        assert_non_null(strstr(msg, "mysql instance db"));
        assert_non_null(strstr(msg, "Can't connect"));
        assert_null(strstr(r->body, SECRET));
        pvm_test_response_free(r);
    }
    pvm_testkit_free(k);
}

/* require_at_startup = yes: the server down stops the start. */
static void test_require(void **state)
{
    (void)state;
    char err[1024] = "";
    assert_null(kit("require_at_startup = yes\n", err, sizeof(err)));
    assert_non_null(strstr(err, "Can't connect"));
}

/* A missing password file is named (down or not, it is read at each
 * connect); the content of a present one never appears. */
static void test_password_file(void **state)
{
    (void)state;
    char extra[256], err[1024] = "";
    snprintf(extra, sizeof(extra),
             "password_file = %s/missing\nrequire_at_startup = yes\n", dir);
    assert_null(kit(extra, err, sizeof(err)));
    assert_non_null(strstr(err, "missing"));
    snprintf(extra, sizeof(extra),
             "password_file = %s\nrequire_at_startup = yes\n", pwfile);
    assert_null(kit(extra, err, sizeof(err)));
    assert_null(strstr(err, SECRET));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_check),
        cmocka_unit_test(test_down),
        cmocka_unit_test(test_require),
        cmocka_unit_test(test_password_file),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
