/* test_plugin_exec.c: the exec plugin through the test kit, with shell
 * scripts written to a temporary directory: every request type, the
 * request's JSON and PVM_* variables, env/env_file, shell = yes, and
 * hostile commands (exit 1, garbage, 100 MB, never exiting, a child that
 * outlives its parent, no stdin read under a big request), persistent
 * mode with a crash and restart, configuration errors, the parsers
 * (exec_parse.c) alone, and no zombie left behind. */
#include <dirent.h>
#include <errno.h>
#include <math.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <cmocka.h>

#include <pvm/pvm.h>
#include <pvm/testkit.h>

#include "kitutil.h"

#include "exec.h"

extern const pvm_plugin_type pvm_plugin_exec;

static const pvm_plugin_type *const table[] = {&pvm_plugin_exec, NULL};

static char dir[64]; /* temporary directory with the scripts */

/* A data script: records its stdin and environment, answers samples of
 * temp (two rooms) and other, or values for discovery. */
static const char *const data_sh =
    "#!/bin/sh\n"
    "cat > \"$OUT/last.json\"\n"
    "env | grep -E '^(PVM_|FOO=|SECRET=)' | sort > \"$OUT/last.env\"\n"
    "case $PVM_REQUEST_TYPE in\n"
    "metric_names) printf 'temp\\nother\\n' ;;\n"
    "label_names) printf '__name__\\nroom\\n\\n' ;;\n"
    "label_values) printf 'a\\r\\nb\\n# EOF\\n' ;;\n"
    "*) echo 'temp{room=\"a\"} 1 100'\n"
    "   echo 'temp{room=\"a\"} 2 160.5'\n"
    "   echo 'temp{room=\"b\"} 5 100'\n"
    "   echo \"other{foo=\\\"$FOO\\\"} 7 100\"\n"
    "   echo '# EOF' ;;\n"
    "esac\n";

/* A persistent script: one answer per line read, a counter proving it is
 * the same process; "crash" in the request makes it exit 3. */
static const char *const persist_sh =
    "#!/bin/sh\n"
    "n=0\n"
    "while IFS= read -r line; do\n"
    "  n=$((n + 1))\n"
    "  case $line in *crash*) echo 'crashing' >&2; exit 3 ;; esac\n"
    "  case $line in *slow*) sleep 30 ;; esac\n"
    "  case $line in *extra*) printf 'calls 1 100\\n# EOF\\nmore\\n'; "
    "continue ;; esac\n"
    "  echo \"calls $n 100\"\n"
    "  echo '# EOF'\n"
    "done\n";

static void write_file(const char *name, const char *text, mode_t mode)
{
    char path[256];
    snprintf(path, sizeof(path), "%s/%s", dir, name);
    FILE *f = fopen(path, "w");
    assert_non_null(f);
    fputs(text, f);
    fclose(f);
    chmod(path, mode);
}

static char *read_file(const char *name)
{
    static char buf[8192];
    char path[256];
    snprintf(path, sizeof(path), "%s/%s", dir, name);
    FILE *f = fopen(path, "r");
    if (!f)
        return strcpy(buf, "");
    size_t n = fread(buf, 1, sizeof(buf) - 1, f);
    buf[n] = '\0';
    fclose(f);
    return buf;
}

/* A kit with one exec instance `ex` running command (more keys in
 * extra); NULL with the error in err. */
static pvm_testkit *kit(const char *command, const char *extra, char *err,
                        size_t errlen)
{
    char ini[4096];
    snprintf(ini, sizeof(ini),
             "[plugin:ex]\ntype = exec\ncommand = %s\n"
             "working_directory = %s\nenv = OUT=%s\n%s",
             command, dir, dir, extra ? extra : "");
    return pvm_testkit_new(ini, table, err, errlen);
}

static pvm_testkit *kit_ok(const char *command, const char *extra)
{
    char err[1024];
    pvm_testkit *k = kit(command, extra, err, sizeof(err));
    if (!k)
        fail_msg("pvm_testkit_new: %s", err);
    return k;
}

static void expect_error(pvm_test_response *r, int code, const char *part)
{
    status(r, code);
    const char *e = pvm_test_json_string(r->json, "error");
    if (!e || !strstr(e, part))
        fail_msg("error '%s' without '%s'", e ? e : "(none)", part);
    pvm_test_response_free(r);
}

static void expect_contains(const char *text, const char *part)
{
    if (!strstr(text, part))
        fail_msg("'%s' not in:\n%s", part, text);
}

static int64_t now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* Children of this process that are zombies (none may be left). */
static int zombie_children(void)
{
    DIR *d = opendir("/proc");
    struct dirent *e;
    int n = 0;
    while (d && (e = readdir(d))) {
        char path[300], buf[512], state;
        int ppid;
        snprintf(path, sizeof(path), "/proc/%s/stat", e->d_name);
        FILE *f = fopen(path, "r");
        if (!f)
            continue;
        size_t k = fread(buf, 1, sizeof(buf) - 1, f);
        fclose(f);
        buf[k] = '\0';
        char *p = strrchr(buf, ')');
        if (p && sscanf(p + 1, " %c %d", &state, &ppid) == 2 &&
            ppid == (int)getpid() && state == 'Z')
            n++;
    }
    if (d)
        closedir(d);
    return n;
}

/* True when pid runs (a zombie counts as gone). */
static bool process_runs(long pid)
{
    char path[64], buf[512];
    snprintf(path, sizeof(path), "/proc/%ld/stat", pid);
    FILE *f = fopen(path, "r");
    if (!f)
        return false;
    size_t k = fread(buf, 1, sizeof(buf) - 1, f);
    fclose(f);
    buf[k] = '\0';
    char *p = strrchr(buf, ')');
    return p && p[1] == ' ' && p[2] != 'Z' && p[2] != 'X';
}

static int setup(void **state)
{
    (void)state;
    strcpy(dir, "/tmp/pvm-test-exec-XXXXXX");
    assert_non_null(mkdtemp(dir));
    write_file("data.sh", data_sh, 0755);
    write_file("persist.sh", persist_sh, 0755);
    write_file("env.txt", "# a comment\n\nSECRET=s3cr=t\r\nFOO=from_file\n",
               0600);
    return 0;
}

static int teardown(void **state)
{
    (void)state;
    char cmd[128];
    snprintf(cmd, sizeof(cmd), "rm -rf '%s'", dir);
    assert_int_equal(system(cmd), 0);
    assert_int_equal(zombie_children(), 0);
    return 0;
}

/* ---- requests ----------------------------------------------------------- */

static void test_range_and_instant(void **state)
{
    (void)state;
    pvm_testkit *k = kit_ok("./data.sh", "env = FOO=bar\n");
    pvm_test_response *r = status(pvm_testkit_range(k, "temp{room=\"a\"}", 100,
                                                    220, 60),
                                  200);
    /* pvm filters by the selector: room a only; a plain selector in a
     * range query: the latest sample within 5m at each step */
    assert_int_equal(pvm_test_json_length(r->json, "data.result"), 1);
    assert_string_equal(pvm_test_json_string(r->json,
                                             "data.result[0].metric.room"),
                        "a");
    assert_int_equal(pvm_test_json_length(r->json, "data.result[0].values"),
                     3);
    assert_string_equal(pvm_test_json_string(r->json,
                                             "data.result[0].values[1][1]"),
                        "1");
    assert_string_equal(pvm_test_json_string(r->json,
                                             "data.result[0].values[2][1]"),
                        "2");
    pvm_test_response_free(r);
    const char *json = read_file("last.json");
    expect_contains(json, "{\"type\":\"range\",");
    expect_contains(json, "\"query\":\"temp{room=\\\"a\\\"}\"");
    expect_contains(json, "\"selectors\":[{\"name\":\"temp\",\"matchers\":[");
    expect_contains(json, "{\"name\":\"room\",\"op\":\"=\",\"value\":\"a\"}");
    expect_contains(json, "\"step\":60");
    expect_contains(json, "\"end\":220");
    expect_contains(json, "\"headers\":{}");
    const char *env = read_file("last.env");
    expect_contains(env, "PVM_END=220\n");
    expect_contains(env, "PVM_STEP=60\n");
    expect_contains(env, "PVM_METRIC=temp\n");
    expect_contains(env, "PVM_QUERY=temp{room=\"a\"}\n");
    expect_contains(env, "PVM_REQUEST_TYPE=range\n");
    expect_contains(env, "PVM_TIME=\n");
    expect_contains(env, "FOO=bar\n");

    /* instant: each series' latest sample at most 5m old */
    r = status(pvm_testkit_instant(k, "temp", 170.25), 200);
    assert_int_equal(pvm_test_json_length(r->json, "data.result"), 2);
    assert_string_equal(pvm_test_json_string(r->json,
                                             "data.result[0].value[1]"),
                        "2");
    assert_string_equal(pvm_test_json_string(r->json,
                                             "data.result[1].value[1]"),
                        "5");
    pvm_test_response_free(r);
    expect_contains(read_file("last.json"), "\"time\":170.25,");
    env = read_file("last.env");
    expect_contains(env, "PVM_TIME=170.25\n");
    expect_contains(env, "PVM_REQUEST_TYPE=instant\n");
    expect_contains(env, "PVM_START=\n");

    /* the env line reached the command */
    r = status(pvm_testkit_instant(k, "other", 120), 200);
    assert_string_equal(pvm_test_json_string(r->json,
                                             "data.result[0].metric.foo"),
                        "bar");
    pvm_test_response_free(r);
    /* one command per selector: both asked, the sum of both answers */
    expect_instant_value(k, "sum(temp) + sum(other)", 120, "13");
    pvm_testkit_free(k);
}

static void test_discovery(void **state)
{
    (void)state;
    pvm_testkit *k = kit_ok("./data.sh", NULL);
    pvm_test_response *r = status(pvm_testkit_label_values(k, "__name__",
                                                           NULL),
                                  200);
    assert_string_equal(pvm_test_json_string(r->json, "data[0]"), "other");
    assert_string_equal(pvm_test_json_string(r->json, "data[1]"), "temp");
    pvm_test_response_free(r);
    expect_contains(read_file("last.json"), "\"type\":\"metric_names\"");
    r = status(pvm_testkit_label_names(k, NULL), 200);
    assert_int_equal(pvm_test_json_length(r->json, "data"), 2);
    assert_string_equal(pvm_test_json_string(r->json, "data[1]"), "room");
    pvm_test_response_free(r);
    r = status(pvm_testkit_label_values(k, "room", NULL), 200);
    assert_int_equal(pvm_test_json_length(r->json, "data"), 2);
    assert_string_equal(pvm_test_json_string(r->json, "data[0]"), "a");
    pvm_test_response_free(r);
    expect_contains(read_file("last.json"), "\"label_name\":\"room\"");
    expect_contains(read_file("last.env"), "PVM_LABEL_NAME=room\n");
    /* /series with match[]: the label sets the range answer has */
    r = status(pvm_testkit_series(k, "temp", 0, 200), 200);
    assert_int_equal(pvm_test_json_length(r->json, "data"), 2);
    pvm_test_response_free(r);
    pvm_testkit_free(k);
}

static void test_headers_env_file_shell(void **state)
{
    (void)state;
    char extra[256];
    snprintf(extra, sizeof(extra),
             "env_file = %s/env.txt\npass_headers = X-Grafana-User, "
             "x-other\n",
             dir);
    pvm_testkit *k = kit_ok("'./data.sh'", extra);
    const char *const headers[] = {"X-Grafana-User: bob \"b\"",
                                   "Authorization: Basic c2VjcmV0", NULL};
    pvm_test_response *r = status(
        pvm_testkit_request(k, "GET", "/api/v1/query?query=other&time=120",
                            NULL, headers),
        200);
    assert_string_equal(pvm_test_json_string(r->json,
                                             "data.result[0].metric.foo"),
                        "from_file");
    pvm_test_response_free(r);
    const char *json = read_file("last.json");
    expect_contains(json, "\"X-Grafana-User\":\"bob \\\"b\\\"\"");
    assert_null(strstr(json, "Authorization"));
    expect_contains(read_file("last.env"), "SECRET=s3cr=t\n");
    pvm_testkit_free(k);

    k = kit_ok("echo \"temp $((6 * 7)) 100\" | cat", "shell = yes\n");
    expect_instant_value(k, "temp", 120, "42");
    pvm_testkit_free(k);
}

/* ---- hostile commands --------------------------------------------------- */

static void test_failures(void **state)
{
    (void)state;
    pvm_testkit *k = kit_ok("sh -c 'echo >&2; echo boom here >&2; exit 1'",
                            NULL);
    expect_error(pvm_testkit_instant(k, "temp", 120), 500, "plugin ex");
    expect_error(pvm_testkit_instant(k, "temp", 120), 500,
                 "sh exited with status 1: boom here");
    expect_error(pvm_testkit_label_names(k, NULL), 500, "boom here");
    pvm_testkit_free(k);

    k = kit_ok("echo this is no metric text", NULL);
    expect_error(pvm_testkit_instant(k, "temp", 120), 500,
                 "echo wrote no OpenMetrics text with timestamps: "
                 "output line:1:");
    pvm_testkit_free(k);
    k = kit_ok("echo temp 1", NULL);
    expect_error(pvm_testkit_instant(k, "temp", 120), 500,
                 "sample without a timestamp");
    pvm_testkit_free(k);
    k = kit_ok("printf 'a\\000b\\n'", NULL);
    expect_error(pvm_testkit_label_names(k, NULL), 500, "line 1: NUL byte");
    pvm_testkit_free(k);

    k = kit_ok("/nonexistent/program", NULL);
    expect_error(pvm_testkit_instant(k, "temp", 120), 500,
                 "status 127: cannot execute /nonexistent/program: No such");
    pvm_testkit_free(k);
    k = kit_ok("sh -c 'kill -9 $$'", NULL);
    expect_error(pvm_testkit_instant(k, "temp", 120), 500,
                 "killed by signal 9");
    pvm_testkit_free(k);
}

static void test_limits(void **state)
{
    (void)state;
    /* 100 MB on stdout: stopped at the limit, not read to the end */
    pvm_testkit *k = kit_ok("head -c 100000000 /dev/zero",
                            "max_output_bytes = 1M\n");
    int64_t t0 = now_ms();
    expect_error(pvm_testkit_instant(k, "temp", 120), 500,
                 "head wrote more than max_output_bytes = 1048576 bytes");
    assert_true(now_ms() - t0 < 5000);
    pvm_testkit_free(k);

    /* never exits: killed at the timeout; the next request is fine */
    k = kit_ok("sleep 60", "timeout = 300ms\n");
    t0 = now_ms();
    expect_error(pvm_testkit_instant(k, "temp", 120), 500,
                 "sleep did not answer within timeout = 300 ms (killed)");
    int64_t took = now_ms() - t0;
    assert_true(took >= 250 && took < 5000);
    pvm_testkit_free(k);

    /* a child that outlives the command: the group is killed */
    k = kit_ok("sh -c 'sleep 60 >/dev/null 2>&1 & echo $! > child.pid; "
               "sleep 60 & echo temp 1 100'",
               NULL);
    t0 = now_ms();
    pvm_test_response *r = status(pvm_testkit_instant(k, "temp", 120), 200);
    assert_true(now_ms() - t0 < 5000); /* not held by the child's stdout */
    pvm_test_response_free(r);
    long pid = atol(read_file("child.pid"));
    assert_true(pid > 0);
    for (int i = 0; i < 100 && process_runs(pid); i++)
        usleep(10000);
    assert_false(process_runs(pid));
    pvm_testkit_free(k);

    /* reads no stdin while the request is 1 MB: neither blocks nor dies
     * of SIGPIPE */
    k = kit_ok("echo temp 1 100", NULL);
    size_t n = 1 << 20;
    char *q = malloc(n + 64);
    assert_non_null(q);
    strcpy(q, "temp{room!=\"");
    memset(q + strlen(q), 'x', n);
    strcpy(q + 12 + n, "\"}");
    t0 = now_ms();
    r = status(pvm_testkit_instant(k, q, 120), 200);
    assert_int_equal(pvm_test_json_length(r->json, "data.result"), 1);
    assert_true(now_ms() - t0 < 5000);
    pvm_test_response_free(r);
    free(q);
    pvm_testkit_free(k);
}

/* The request's deadline bounds the command: 503 timeout. */
static void test_request_deadline(void **state)
{
    (void)state;
    pvm_testkit *k = kit_ok("sleep 60", "timeout = 20s\n");
    int64_t t0 = now_ms();
    pvm_test_response *r = pvm_testkit_request(
        k, "GET", "/api/v1/query?query=temp&time=120&timeout=300ms", NULL,
        NULL);
    assert_true(now_ms() - t0 < 5000);
    status(r, 503);
    pvm_test_response_free(r);
    pvm_testkit_free(k);
}

static void test_persistent(void **state)
{
    (void)state;
    pvm_testkit *k = kit_ok("./persist.sh",
                            "persistent = yes\ntimeout = 500ms\n");
    for (int i = 1; i <= 3; i++) {
        char want[8];
        snprintf(want, sizeof(want), "%d", i);
        expect_instant_value(k, "calls", 120, want);
    }
    /* a crash: the error names the instance and stderr; restarted */
    expect_error(pvm_testkit_instant(k, "calls{x=\"crash\"}", 120), 500,
                 "exited with status 3; restarted at the next request: "
                 "crashing");
    expect_instant_value(k, "calls", 120, "1");
    /* a timeout: killed, restarted */
    expect_error(pvm_testkit_instant(k, "calls{x=\"slow\"}", 120), 500,
                 "did not answer within timeout = 500 ms (killed; restarted");
    /* output after the terminator: a protocol error, restarted */
    expect_error(pvm_testkit_instant(k, "calls{x=\"extra\"}", 120), 500,
                 "wrote more after its # EOF line");
    expect_instant_value(k, "calls", 120, "1");
    pvm_testkit_free(k);
}

/* ---- configuration ------------------------------------------------------ */

static void test_config_errors(void **state)
{
    (void)state;
    char err[1024];
    assert_null(kit("'unterminated", NULL, err, sizeof(err)));
    expect_contains(err, "command: unterminated ' quote");
    assert_null(kit("./data.sh", "env = NOEQUALS\n", err, sizeof(err)));
    expect_contains(err, "env: expected NAME=VALUE");
    assert_null(kit("./data.sh", "env = PVM_TIME=1\n", err, sizeof(err)));
    expect_contains(err, "names starting with PVM_");
    assert_null(
        kit("./data.sh", "env_file = missing.txt\n", err, sizeof(err)));
    expect_contains(err, "env_file: cannot open");
    assert_null(kit("./data.sh", "timeout = 2h\n", err, sizeof(err)));
}

/* --check-config: the validate hook finds what the start would not. */
static int validate(const char *command, const char *extra, char *msg,
                    size_t len)
{
    pvm_testkit *k = kit_ok(command, extra);
    pvm_context *ctx = pvm_testkit_context(k);
    pvm_plugin *p = pvm_context_plugin(ctx, "ex");
    assert_non_null(p);
    pvm_error err = {0};
    int rc = pvm_plugin_exec.validate(p, ctx, &err);
    snprintf(msg, len, "%s", err.msg);
    pvm_testkit_free(k);
    return rc;
}

static void test_validate(void **state)
{
    (void)state;
    char msg[1024];
    assert_int_equal(validate("./data.sh", NULL, msg, sizeof(msg)), 0);
    assert_int_equal(validate("sh -c true", NULL, msg, sizeof(msg)), 0);
    assert_true(validate("/nonexistent/x", NULL, msg, sizeof(msg)) < 0);
    expect_contains(msg, "command: /nonexistent/x is not an executable file");
    assert_true(validate("./env.txt", NULL, msg, sizeof(msg)) < 0);
    expect_contains(msg, "./env.txt is not an executable file");
    assert_true(validate("no-such-program-pvm", NULL, msg, sizeof(msg)) < 0);
    expect_contains(msg, "no-such-program-pvm is not an executable file in "
                         "PATH");
    /* shell = yes: the shell parses it, nothing to check */
    assert_int_equal(validate("no-such-program-pvm", "shell = yes\n", msg,
                              sizeof(msg)),
                     0);
}

/* ---- the parsers -------------------------------------------------------- */

static char *joined_argv(const char *cmd)
{
    static char out[600];
    char **argv;
    pvm_error err = {0};
    int n = pvm_exec_split_command(cmd, strlen(cmd), &argv, &err);
    if (n < 0) {
        snprintf(out, sizeof(out), "ERR %s", err.msg);
        return out;
    }
    out[0] = '\0';
    for (int i = 0; i < n; i++) {
        strcat(out, i ? "|" : "");
        strcat(out, argv[i]);
    }
    assert_null(argv[n]);
    pvm_exec_argv_free(argv);
    return out;
}

static void test_split_command(void **state)
{
    (void)state;
    assert_string_equal(joined_argv("  a  b\tc "), "a|b|c");
    assert_string_equal(joined_argv("a 'b c' \"d \\\" \\\\ \\n\" e\\ f"),
                        "a|b c|d \" \\ \\n|e f");
    assert_string_equal(joined_argv("x '' \"\" y"), "x|||y");
    assert_string_equal(joined_argv("a'b'\"c\"d"), "abcd");
    assert_string_equal(joined_argv("$HOME * ; | ~"), "$HOME|*|;|||~");
    assert_string_equal(joined_argv(""), "ERR empty command");
    assert_string_equal(joined_argv("   "), "ERR empty command");
    assert_string_equal(joined_argv("'' x"), "ERR empty command");
    assert_string_equal(joined_argv("a \"b"), "ERR unterminated \" quote");
    assert_string_equal(joined_argv("a\\"), "ERR trailing backslash");
    char many[1024] = "";
    for (int i = 0; i < 257; i++)
        strcat(many, "a ");
    assert_string_equal(joined_argv(many), "ERR more than 256 words");
    char **argv;
    pvm_error err = {0};
    assert_true(pvm_exec_split_command("a\0b", 3, &argv, &err) < 0);
}

static int collect(void *arg, const char *v)
{
    strcat(arg, v);
    strcat(arg, ";");
    return 0;
}

static void test_values(void **state)
{
    (void)state;
    char out[256] = "";
    pvm_error err = {0};
    const char *in = "a\r\n\n b \n# not a comment\n# EOF\n\n";
    assert_int_equal(pvm_exec_parse_values(in, strlen(in), collect, out, &err),
                     0);
    assert_string_equal(out, "a; b ;# not a comment;");
    assert_true(
        pvm_exec_parse_values("a\n# EOF\nb\n", 10, collect, out, &err) < 0);
    assert_string_equal(err.msg, "line 3: content after # EOF");
    out[0] = '\0';
    assert_int_equal(pvm_exec_parse_values("last", 4, collect, out, &err), 0);
    assert_string_equal(out, "last;");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_range_and_instant),
        cmocka_unit_test(test_discovery),
        cmocka_unit_test(test_headers_env_file_shell),
        cmocka_unit_test(test_failures),
        cmocka_unit_test(test_limits),
        cmocka_unit_test(test_request_deadline),
        cmocka_unit_test(test_persistent),
        cmocka_unit_test(test_config_errors),
        cmocka_unit_test(test_validate),
        cmocka_unit_test(test_split_command),
        cmocka_unit_test(test_values),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
