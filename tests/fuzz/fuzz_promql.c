/* fuzz_promql.c: libFuzzer target for the PromQL front end. Every input is
 * parsed; when it parses, it is printed, the text parsed again, and the two
 * ASTs must be equal (abort otherwise). The selector walker runs too. One
 * arena per input, freed at the end of the run. */
#include "config.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <pvm/arena.h>

#include "ast.h"
#include "equal.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    pvm_arena *a = pvm_arena_new(64u << 20);
    if (!a)
        return 0;
    pvm_error err;
    pvm_error_clear(&err);
    pvm_expr *e = pvm_promql_parse(a, (const char *)data, size, &err);
    if (!e) {
        if (err.code == 0 || err.msg[0] == '\0')
            abort(); /* a failure must say why */
        pvm_arena_free(a);
        return 0;
    }
    const pvm_expr **sel;
    size_t n;
    if (pvm_expr_selectors(e, a, &sel, &n) == 0) {
        for (size_t i = 0; i < n; i++)
            if (sel[i]->kind != PVM_EXPR_VECTOR_SELECTOR)
                abort();
    }
    char *text = pvm_promql_format(a, e);
    if (text) {
        pvm_error err2;
        pvm_error_clear(&err2);
        pvm_expr *e2 = pvm_promql_parse(a, text, strlen(text), &err2);
        if (!e2 && err2.code != PVM_ERR_NOMEM) {
            fprintf(stderr, "printed text does not parse:\n%s\n%s\n", text,
                    err2.msg);
            abort();
        }
        if (e2 && !pvm_expr_equal(e, e2)) {
            fprintf(stderr, "round trip changed the AST:\n%s\n", text);
            abort();
        }
    }
    pvm_arena_free(a);
    return 0;
}
