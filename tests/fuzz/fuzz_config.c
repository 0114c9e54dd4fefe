/* fuzz_config.c: libFuzzer target for the INI loader (config.h). Every
 * input is loaded with pvm_config_load_string; a failure must carry a
 * message, a success gives [server] settings within their documented
 * bounds; loaded configurations also create plugin instances (example and
 * bench types), exercising the [plugin:NAME] handling (abort on a broken
 * invariant; leaks and overflows are the sanitizers'). */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <pvm/plugin.h>

#include "config.h"
#include "registry.h"

extern const pvm_plugin_type pvm_plugin_example;
extern const pvm_plugin_type pvm_plugin_bench;

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static const pvm_plugin_type *const table[] = {&pvm_plugin_example,
                                               &pvm_plugin_bench, NULL};

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size > 65536)
        return 0;
    char *text = malloc(size + 1);
    if (!text)
        return 0;
    memcpy(text, data, size);
    text[size] = '\0';
    pvm_error err = {0};
    pvm_config *cfg = pvm_config_load_string(text, "fuzz.ini", &err);
    if (!cfg) {
        if (!err.msg[0] || err.code == 0)
            abort();
        free(text);
        return 0;
    }
    const pvm_server_config *s = &cfg->server;
    if (!s->api_url_prefix ||
        (s->api_url_prefix[0] && s->api_url_prefix[0] != '/') ||
        s->workers < 0 || !s->metrics_path)
        abort();
    for (size_t i = 0; i < cfg->nsections; i++) {
        const pvm_config_section *sec = &cfg->sections[i];
        if (!sec->name || pvm_config_section_find(cfg, sec->name) == NULL)
            abort();
        for (size_t k = 0; k < sec->nentries; k++)
            if (!sec->entries[k].key || !sec->entries[k].value ||
                pvm_config_get(cfg, sec->name, sec->entries[k].key) == NULL)
                abort();
    }
    pvm_log_set_level(PVM_LOG_ERROR);
    /* Takes ownership of cfg, also on failure. Keep the bench type from
     * allocating too much: skip configs naming huge counts. */
    if (!strstr(text, "labels") && !strstr(text, "value_len")) {
        pvm_context *ctx = pvm_context_new(cfg, table, &err);
        if (!ctx && !err.msg[0])
            abort();
        pvm_context_free(ctx);
    } else {
        pvm_config_free(cfg);
    }
    pvm_log_set_level(PVM_LOG_ERROR);
    free(text);
    return 0;
}
