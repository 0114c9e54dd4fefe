/* test_http_client.c: the shared HTTP client (plugins/http_client.c):
 * URL-encoding, URL redaction, settings checks, and fetches against a
 * tiny HTTP server forked on 127.0.0.1 (200, 500, an oversized body, a
 * slow answer past the timeout, Basic and bearer credentials, POST
 * bodies and the answer cache). */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cmocka.h>

#include <pvm/pvm.h>

#include "http_client.h"

/* ---- helpers ---------------------------------------------------------- */

static void test_urlencode(void **state)
{
    (void)state;
    char buf[64];
    assert_int_equal(pvm_http_urlencode_buf("a-b_c.d~e", buf, sizeof(buf)), 9);
    assert_string_equal(buf, "a-b_c.d~e");
    assert_int_equal(pvm_http_urlencode_buf("a b&c=d/é", buf, sizeof(buf)),
                     22);
    assert_string_equal(buf, "a%20b%26c%3Dd%2F%C3%A9");
    /* too small: the length needed, a clean prefix */
    assert_int_equal(pvm_http_urlencode_buf("ab cd", buf, 4), 7);
    assert_string_equal(buf, "ab");
    assert_int_equal(pvm_http_urlencode_buf("", buf, sizeof(buf)), 0);
    assert_string_equal(buf, "");
    pvm_arena *a = pvm_arena_new(0);
    assert_string_equal(pvm_http_urlencode(a, "x{y}"), "x%7By%7D");
    pvm_arena_free(a);
}

static void test_redact(void **state)
{
    (void)state;
    char buf[128];
    assert_string_equal(
        pvm_http_redact_url("https://u:secret@h:8080/p/q?key=abc&x=1&y#frag",
                            buf, sizeof(buf)),
        "https://h:8080/p/q?key=...&x=...&y");
    assert_string_equal(pvm_http_redact_url("http://h", buf, sizeof(buf)),
                        "http://h");
    assert_string_equal(pvm_http_redact_url("http://h/?", buf, sizeof(buf)),
                        "http://h/");
    char small[16];
    pvm_http_redact_url("http://host.example/a/very/long/path", small,
                        sizeof(small));
    assert_int_equal(strlen(small), 15);
    assert_string_equal(small + 12, "...");
    assert_null(
        strstr(pvm_http_redact_url("http://a@b/?t=tok", buf, sizeof(buf)),
               "tok"));
}

static pvm_http_settings defaults(const char *url)
{
    return (pvm_http_settings){.url = (char *)url,
                               .timeout_ms = 2000,
                               .max_response_bytes = 1000};
}

static void test_check(void **state)
{
    (void)state;
    pvm_error err = {0};
    pvm_http_settings s = defaults("http://127.0.0.1:1/x?a={start}");
    assert_int_equal(pvm_http_settings_check(&s, false, &err), 0);
    s.url = "ftp://h/";
    assert_int_equal(pvm_http_settings_check(&s, false, &err),
                     PVM_ERR_BAD_DATA);
    s.url = "file:///tmp/x.csv";
    assert_int_equal(pvm_http_settings_check(&s, false, &err),
                     PVM_ERR_BAD_DATA);
    assert_int_equal(pvm_http_settings_check(&s, true, &err), 0);
    s.url = "http://user:pw@h/";
    assert_int_equal(pvm_http_settings_check(&s, false, &err),
                     PVM_ERR_BAD_DATA);
    assert_null(strstr(err.msg, "pw"));
    s.url = "http:///x";
    assert_int_equal(pvm_http_settings_check(&s, false, &err),
                     PVM_ERR_BAD_DATA);
    s.url = "http://h/a b";
    assert_int_equal(pvm_http_settings_check(&s, false, &err),
                     PVM_ERR_BAD_DATA);
    s.url = "http://h/";
    char *bad[] = {"X-Key secret-value"};
    s.header = (pvm_key_list){bad, 1};
    assert_int_equal(pvm_http_settings_check(&s, false, &err),
                     PVM_ERR_BAD_DATA);
    assert_null(strstr(err.msg, "secret-value"));
    char *good[] = {"X-Key: v", "Accept: text/csv"};
    s.header = (pvm_key_list){good, 2};
    assert_int_equal(pvm_http_settings_check(&s, false, &err), 0);
    s.basic_user = "u";
    assert_int_equal(pvm_http_settings_check(&s, false, &err),
                     PVM_ERR_BAD_DATA);
    s.basic_password_file = "/nonexistent";
    assert_int_equal(pvm_http_settings_check(&s, false, &err), 0);
    assert_int_not_equal(pvm_http_settings_validate(&s, &err), 0);
    s.bearer_token_file = "/x";
    assert_int_equal(pvm_http_settings_check(&s, false, &err),
                     PVM_ERR_BAD_DATA);
}

/* ---- a tiny server ------------------------------------------------------ */

static pid_t server_pid;
static int port;
static char dir[64]; /* temporary directory for secret files */

/* Answers one connection: the path picks the answer. */
static void answer(int fd, int *counter)
{
    char req[8192] = "";
    size_t n = 0;
    while (n < sizeof(req) - 1 && !strstr(req, "\r\n\r\n")) {
        ssize_t r = read(fd, req + n, sizeof(req) - 1 - n);
        if (r <= 0)
            return;
        req[n += (size_t)r] = '\0';
    }
    char path[256] = "";
    sscanf(req, "%*s %255s", path);
    path[strcspn(path, "?")] = '\0';
    char body[4096];
    int status = 200;
    if (strcmp(path, "/500") == 0) {
        status = 500;
        snprintf(body, sizeof(body), "broken");
    } else if (strcmp(path, "/big") == 0) {
        memset(body, 'x', 2000);
        body[2000] = '\0';
    } else if (strcmp(path, "/slow") == 0) {
        usleep(600000);
        snprintf(body, sizeof(body), "late");
    } else if (strcmp(path, "/count") == 0) {
        snprintf(body, sizeof(body), "%d", ++*counter);
    } else if (strcmp(path, "/echo") == 0) {
        /* the Authorization header and the body of a POST */
        const char *a = strstr(req, "Authorization: ");
        const char *end = a ? strstr(a, "\r\n") : NULL;
        const char *b = strstr(req, "\r\n\r\n") + 4;
        snprintf(body, sizeof(body), "%.*s|%s", a ? (int)(end - a) : 0,
                 a ? a : "", b);
    } else if (strcmp(path, "/encoding") == 0) {
        /* the Accept-Encoding header asked, or "none" */
        const char *a = strstr(req, "Accept-Encoding: ");
        const char *end = a ? strstr(a, "\r\n") : NULL;
        snprintf(body, sizeof(body), "%.*s", a ? (int)(end - a - 17) : 4,
                 a ? a + 17 : "none");
    } else {
        snprintf(body, sizeof(body), "hello");
    }
    char head[256];
    int hl = snprintf(head, sizeof(head),
                      "HTTP/1.1 %d X\r\nContent-Length: %zu\r\n"
                      "Connection: close\r\n\r\n",
                      status, strlen(body));
    if (write(fd, head, (size_t)hl) < 0 || write(fd, body, strlen(body)) < 0)
        return;
}

static int start_server(void **state)
{
    (void)state;
    int ls = socket(AF_INET, SOCK_STREAM, 0);
    struct sockaddr_in sa = {.sin_family = AF_INET};
    sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    socklen_t sl = sizeof(sa);
    if (ls < 0 || bind(ls, (struct sockaddr *)&sa, sizeof(sa)) < 0 ||
        listen(ls, 16) < 0 || getsockname(ls, (struct sockaddr *)&sa, &sl) < 0)
        return -1;
    port = ntohs(sa.sin_port);
    server_pid = fork();
    if (server_pid == 0) {
        int counter = 0;
        signal(SIGPIPE, SIG_IGN);
        /* bounded: at most 100 connections, 20 s without one */
        for (int i = 0; i < 100; i++) {
            struct pollfd p = {ls, POLLIN, 0};
            if (poll(&p, 1, 20000) <= 0)
                break;
            int fd = accept(ls, NULL, NULL);
            if (fd < 0)
                break;
            answer(fd, &counter);
            close(fd);
        }
        _exit(0);
    }
    close(ls);
    snprintf(dir, sizeof(dir), "/tmp/pvm-http-client-XXXXXX");
    return server_pid > 0 && mkdtemp(dir) ? 0 : -1;
}

static int stop_server(void **state)
{
    (void)state;
    kill(server_pid, SIGTERM);
    waitpid(server_pid, NULL, 0);
    char cmd[128];
    snprintf(cmd, sizeof(cmd), "rm -rf %s", dir);
    return system(cmd) == 0 ? 0 : -1;
}

static const char *url(const char *path)
{
    static char buf[128];
    snprintf(buf, sizeof(buf), "http://127.0.0.1:%d%s", port, path);
    return buf;
}

static char *secret_file(const char *name, const char *content)
{
    static char path[128];
    snprintf(path, sizeof(path), "%s/%s", dir, name);
    FILE *f = fopen(path, "w");
    assert_non_null(f);
    fprintf(f, "%s\n", content);
    fclose(f);
    return path;
}

/* Fetches path with s; returns the status code, *out the answer. */
static int get(pvm_http_client *c, const char *path, pvm_http_answer *out,
               pvm_error *err)
{
    pvm_http_call call = {.url = url(path), .method = PVM_HTTP_GET};
    return pvm_http_fetch(c, NULL, &call, out, err);
}

static void test_fetch(void **state)
{
    (void)state;
    pvm_http_settings s = defaults("http://127.0.0.1/");
    pvm_error err = {0};
    pvm_http_client *c = pvm_http_client_new(&s, "web", &err);
    assert_non_null(c);
    pvm_http_answer a;
    assert_int_equal(get(c, "/", &a, &err), 0);
    assert_string_equal(a.body, "hello");
    assert_int_equal(a.status, 200);
    assert_false(a.cached);

    assert_int_equal(get(c, "/500?token=s3cr3t", &a, &err), PVM_ERR_EXECUTION);
    assert_non_null(strstr(err.msg, "instance web: GET"));
    assert_non_null(strstr(err.msg, "HTTP 500"));
    assert_null(strstr(err.msg, "s3cr3t"));

    assert_int_equal(get(c, "/big", &a, &err), PVM_ERR_TOO_LARGE);
    assert_non_null(strstr(err.msg, "max_response_bytes"));

    s.timeout_ms = 200;
    assert_int_equal(get(c, "/slow", &a, &err), PVM_ERR_TIMEOUT);
    assert_non_null(strstr(err.msg, "200 ms"));
    s.timeout_ms = 2000;

    /* the handle is reused after failures */
    assert_int_equal(get(c, "/", &a, &err), 0);
    assert_string_equal(a.body, "hello");
    pvm_http_client_free(c);

    /* connection refused */
    s.url = "http://127.0.0.1:1/";
    c = pvm_http_client_new(&s, "web", &err);
    pvm_http_call call = {.url = "http://127.0.0.1:1/x", .method = 0};
    assert_int_equal(pvm_http_fetch(c, NULL, &call, &a, &err),
                     PVM_ERR_EXECUTION);
    pvm_http_client_free(c);
}

/* compression = yes asks for compressed answers (curl's encodings),
 * compression = no sends no Accept-Encoding. */
static void test_compression(void **state)
{
    (void)state;
    pvm_http_settings s = defaults("http://127.0.0.1/");
    pvm_error err = {0};
    pvm_http_answer a;
    s.compression = true;
    pvm_http_client *c = pvm_http_client_new(&s, "web", &err);
    assert_non_null(c);
    assert_int_equal(get(c, "/encoding", &a, &err), 0);
    assert_non_null(strstr(a.body, "gzip"));
    pvm_http_client_free(c);
    s.compression = false;
    assert_non_null(c = pvm_http_client_new(&s, "web", &err));
    assert_int_equal(get(c, "/encoding", &a, &err), 0);
    assert_string_equal(a.body, "none");
    pvm_http_client_free(c);
}

static void test_auth_and_post(void **state)
{
    (void)state;
    pvm_http_settings s = defaults("http://127.0.0.1/");
    pvm_error err = {0};
    s.bearer_token_file = strdup(secret_file("token", "tok-123"));
    pvm_http_client *c = pvm_http_client_new(&s, "web", &err);
    assert_non_null(c);
    pvm_http_answer a;
    assert_int_equal(get(c, "/echo", &a, &err), 0);
    assert_string_equal(a.body, "Authorization: Bearer tok-123|");
    pvm_http_client_free(c);
    free(s.bearer_token_file);
    s.bearer_token_file = NULL;

    s.basic_user = "alice";
    s.basic_password_file = strdup(secret_file("pw", "pa:ss"));
    assert_non_null(c = pvm_http_client_new(&s, "web", &err));
    pvm_http_call call = {.url = url("/echo"),
                          .method = PVM_HTTP_POST,
                          .body = "q=1",
                          .body_len = 3,
                          .content_type = "application/x-www-form-urlencoded"};
    assert_int_equal(pvm_http_fetch(c, NULL, &call, &a, &err), 0);
    /* base64("alice:pa:ss") */
    assert_string_equal(a.body, "Authorization: Basic YWxpY2U6cGE6c3M=|q=1");
    pvm_http_client_free(c);
    free(s.basic_password_file);

    s.basic_user = NULL;
    s.basic_password_file = NULL;
    s.bearer_token_file = "/nonexistent/token";
    assert_null(pvm_http_client_new(&s, "web", &err));
    assert_non_null(strstr(err.msg, "/nonexistent/token"));
}

static void test_cache(void **state)
{
    (void)state;
    pvm_http_settings s = defaults("http://127.0.0.1/");
    s.cache_ttl_ms = 60000;
    pvm_error err = {0};
    pvm_http_client *c = pvm_http_client_new(&s, "web", &err);
    pvm_http_answer a;
    assert_int_equal(get(c, "/count", &a, &err), 0);
    char first[16];
    snprintf(first, sizeof(first), "%s", a.body);
    assert_int_equal(get(c, "/count", &a, &err), 0);
    assert_true(a.cached);
    assert_string_equal(a.body, first);
    /* another URL is another key */
    assert_int_equal(get(c, "/count?x=1", &a, &err), 0);
    assert_false(a.cached);
    assert_string_not_equal(a.body, first);
    /* errors are not kept */
    assert_int_equal(get(c, "/500", &a, &err), PVM_ERR_EXECUTION);
    assert_int_equal(get(c, "/500", &a, &err), PVM_ERR_EXECUTION);
    /* more keys than entries: the oldest go, all answers stay right */
    for (int i = 0; i < PVM_HTTP_CACHE_ENTRIES + 2; i++) {
        char p[32];
        snprintf(p, sizeof(p), "/count?i=%d", i);
        assert_int_equal(get(c, p, &a, &err), 0);
        assert_false(a.cached);
    }
    pvm_http_cache_clear(c);
    assert_int_equal(get(c, "/count", &a, &err), 0);
    assert_false(a.cached);
    assert_string_not_equal(a.body, first);
    pvm_http_client_free(c);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_urlencode),     cmocka_unit_test(test_redact),
        cmocka_unit_test(test_check),         cmocka_unit_test(test_fetch),
        cmocka_unit_test(test_auth_and_post), cmocka_unit_test(test_cache),
        cmocka_unit_test(test_compression),
    };
    return cmocka_run_group_tests(tests, start_server, stop_server);
}
