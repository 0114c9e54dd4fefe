/* capture.h: stderr into a temporary file, for the unit tests that read
 * what is logged (test_registry, test_api_log). Include after
 * <cmocka.h>. */
#ifndef PVM_TESTS_UNIT_CAPTURE_H
#define PVM_TESTS_UNIT_CAPTURE_H

#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

/* stderr capture, for the log lines. */
struct capture {
    int saved;  /* the real stderr */
    FILE *file; /* temporary file on fd 2 meanwhile */
};

/* Sends stderr to a temporary file. */
static inline void capture_start(struct capture *c)
{
    fflush(stderr);
    c->file = tmpfile();
    assert_non_null(c->file);
    c->saved = dup(STDERR_FILENO);
    dup2(fileno(c->file), STDERR_FILENO);
}

/* Restores stderr; returns what was written (caller frees). */
static inline char *capture_end(struct capture *c)
{
    fflush(stderr);
    dup2(c->saved, STDERR_FILENO);
    close(c->saved);
    fseek(c->file, 0, SEEK_END);
    long n = ftell(c->file);
    char *buf = calloc(1, (size_t)n + 1);
    rewind(c->file);
    assert_int_equal(fread(buf, 1, (size_t)n, c->file), (size_t)n);
    fclose(c->file);
    return buf;
}

#endif
