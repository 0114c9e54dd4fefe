/* fuzz_exec.c: libFuzzer target for the byte parsers of the exec plugin
 * (plugins/exec_parse.c). The first byte picks the parser, the rest is
 * its input:
 *   0  pvm_exec_split_command: 1..256 words, NULL-terminated, none with
 *      a NUL, the first not empty; or an error with a message
 *   1  pvm_exec_parse_env: each entry NAME=VALUE with a valid name and
 *      no newline; or an error
 *   2  pvm_exec_parse_values: each value non-empty, without newline or
 *      NUL; or an error
 * and aborts on a broken invariant. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <pvm/pvm.h>

#include "exec.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static int check_env(void *arg, char *entry)
{
    const char *eq = strchr(entry, '=');
    if (!eq || !pvm_exec_is_env_name(entry, (size_t)(eq - entry)) ||
        strchr(entry, '\n'))
        abort();
    (*(size_t *)arg)++;
    free(entry);
    return 0;
}

static int check_value(void *arg, const char *v)
{
    size_t n = strlen(v);
    if (n == 0 || memchr(v, '\n', n))
        abort();
    (*(size_t *)arg)++;
    return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 1 || size > 65536)
        return 0;
    const char *in = (const char *)data + 1;
    size_t n = size - 1, count = 0;
    pvm_error err = {0};
    char **argv = NULL;
    int rc;
    switch (data[0] % 3) {
    case 0:
        rc = pvm_exec_split_command(in, n, &argv, &err);
        if (rc < 0) {
            if (!err.msg[0] || argv)
                abort();
            break;
        }
        if (rc < 1 || rc > PVM_EXEC_MAX_ARGS || argv[rc] || !argv[0][0])
            abort();
        for (int i = 0; i < rc; i++)
            if (!argv[i] || strlen(argv[i]) > n)
                abort();
        pvm_exec_argv_free(argv);
        break;
    case 1:
        rc = pvm_exec_parse_env(in, n, "fuzz", check_env, &count, &err);
        if (rc < 0 && !err.msg[0])
            abort();
        break;
    default:
        rc = pvm_exec_parse_values(in, n, check_value, &count, &err);
        if (rc < 0 && !err.msg[0])
            abort();
        break;
    }
    return 0;
}
