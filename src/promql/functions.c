/* functions.c: the PromQL function table built from functions.def, and its
 * lookup (binary search: the .def file is sorted by name). */
#include <stdint.h>
#include <string.h>

#include "functions.h"

static const pvm_function table[PVM_FN_COUNT] = {
#define PVM_FUNC(ID_, NAME_, ARGS_, VAR_, RET_, EXP_)                         \
    {.id = PVM_FN_##ID_,                                                      \
     .name = NAME_,                                                           \
     .arg_types = ARGS_,                                                      \
     .variadic = VAR_,                                                        \
     .ret = PVM_VT_##RET_,                                                    \
     .experimental = EXP_},
#include "functions.def"
#undef PVM_FUNC
};

/* Compares the first len bytes of key with NUL-terminated name, like
 * strcmp on the key as if it were NUL-terminated. */
static int cmp_name(const char *key, size_t len, const char *name)
{
    size_t nlen = strlen(name);
    int c = memcmp(key, name, len < nlen ? len : nlen);
    if (c != 0)
        return c;
    return len < nlen ? -1 : len > nlen ? 1 : 0;
}

const pvm_function *pvm_function_lookup(const char *name, size_t len)
{
    size_t lo = 0, hi = PVM_FN_COUNT;
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        int c = cmp_name(name, len, table[mid].name);
        if (c == 0)
            return &table[mid];
        if (c < 0)
            hi = mid;
        else
            lo = mid + 1;
    }
    return NULL;
}

const pvm_function *pvm_function_at(pvm_func_id id)
{
    return (unsigned)id < PVM_FN_COUNT ? &table[id] : NULL;
}

static pvm_value_type type_of_char(char c)
{
    switch (c) {
    case 'v': return PVM_VT_VECTOR;
    case 'm': return PVM_VT_MATRIX;
    case 's': return PVM_VT_SCALAR;
    case 'S': return PVM_VT_STRING;
    default: return PVM_VT_NONE;
    }
}

pvm_value_type pvm_function_arg_type(const pvm_function *f, size_t i)
{
    size_t n = strlen(f->arg_types);
    if (i >= n) {
        if (f->variadic == 0 || n == 0)
            return PVM_VT_NONE;
        i = n - 1;
    }
    return type_of_char(f->arg_types[i]);
}

size_t pvm_function_min_args(const pvm_function *f)
{
    size_t n = strlen(f->arg_types);
    return f->variadic == 0 ? n : n - 1;
}

size_t pvm_function_max_args(const pvm_function *f)
{
    size_t n = strlen(f->arg_types);
    if (f->variadic == 0)
        return n;
    if (f->variadic < 0)
        return SIZE_MAX;
    return n - 1 + (size_t)f->variadic;
}
