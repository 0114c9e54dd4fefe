/* registry.c: plugin instances and the server context (see registry.h and
 * pvm/plugin.h). One instance per [plugin:NAME] section, in file order;
 * the context owns the config, the instances and their states, and runs
 * their hooks in that order (startup forwards, shutdown backwards). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <pvm/plugin.h>

#include "cache.h"
#include "registry.h"
#include "response_impl.h"

/* A plugin instance. */
struct pvm_plugin {
    char *name;                        /* NAME of [plugin:NAME], owned */
    const pvm_plugin_type *type;       /* its type, from the table */
    void *state;                       /* type->state_size zeroed bytes,
                                          owned; NULL when the size is 0 */
    pvm_context *ctx;                  /* the context owning the instance */
    const pvm_config_section *section; /* its section, owned by ctx->cfg */
    bool wrapped;                      /* hooks are called by a wrapper */
    bool started;                      /* on_startup succeeded (or absent),
                                          on_shutdown not yet run */
};

/* The server context. */
struct pvm_context {
    pvm_config *cfg;     /* the loaded configuration, owned */
    pvm_plugin *plugins; /* instances in file order (array), owned */
    size_t nplugins;     /* instances created; all get destroy() */
};

static const char *const hook_names[PVM_HOOK_COUNT];

static int instance_create(pvm_context *ctx, const pvm_config_section *sec,
                           const pvm_plugin_type *const *table,
                           pvm_error *err);
static int instance_check(pvm_plugin *p, pvm_error *err);
static int instance_set(pvm_plugin *p, const char *key, const char *value,
                        int line, pvm_error *err);
static int instance_defaults(pvm_plugin *p, pvm_error *err);

/* Context life cycle */

/* Two passes: all instances are created and configured first, then all
 * are checked, so that check() (of a wrapper, say) can find every
 * instance by name. */
pvm_context *pvm_context_new(pvm_config *cfg,
                             const pvm_plugin_type *const *table,
                             pvm_error *err)
{
    size_t n = 0;
    pvm_context *ctx = calloc(1, sizeof(*ctx));
    if (!ctx) {
        pvm_config_free(cfg);
        pvm_error_set(err, PVM_ERR_INTERNAL, "out of memory");
        return NULL;
    }
    ctx->cfg = cfg;
    pvm_log_set_level(cfg->server.log_level);

    for (size_t i = 0; i < cfg->nsections; i++)
        if (strncmp(cfg->sections[i].name, "plugin:", 7) == 0)
            n++;
    ctx->plugins = calloc(n ? n : 1, sizeof(*ctx->plugins));
    if (!ctx->plugins) {
        pvm_error_set(err, PVM_ERR_INTERNAL, "out of memory");
        goto fail;
    }
    for (size_t i = 0; i < cfg->nsections; i++)
        if (strncmp(cfg->sections[i].name, "plugin:", 7) == 0 &&
            instance_create(ctx, &cfg->sections[i], table, err) < 0)
            goto fail;
    for (size_t i = 0; i < ctx->nplugins; i++)
        if (instance_check(&ctx->plugins[i], err) < 0)
            goto fail;
    return ctx;
fail:
    pvm_context_free(ctx);
    return NULL;
}

int pvm_context_startup(pvm_context *ctx, pvm_error *err)
{
    for (size_t i = 0; i < ctx->nplugins; i++) {
        pvm_plugin *p = &ctx->plugins[i];
        if (p->started || p->wrapped)
            continue;
        if (p->type->on_startup) {
            pvm_error perr = {0};
            int rc = p->type->on_startup(p, ctx, &perr);
            if (rc < 0) {
                pvm_error_set(err, perr.code ? perr.code : rc,
                              "plugin %s: on_startup failed: %s", p->name,
                              perr.msg[0] ? perr.msg : "(no message)");
                pvm_context_shutdown(ctx);
                return rc;
            }
        }
        p->started = true;
    }
    return 0;
}

bool pvm_context_is_started(const pvm_context *ctx)
{
    for (size_t i = 0; i < ctx->nplugins; i++)
        if (!ctx->plugins[i].wrapped && !ctx->plugins[i].started)
            return false;
    return true;
}

int pvm_context_validate(pvm_context *ctx, pvm_error *err)
{
    for (size_t i = 0; i < ctx->nplugins; i++) {
        pvm_plugin *p = &ctx->plugins[i];
        if (!p->type->validate)
            continue;
        pvm_error perr = {0};
        int rc = p->type->validate(p, ctx, &perr);
        if (rc < 0)
            return pvm_error_set(err, perr.code ? perr.code : rc,
                                 "%s:%d: [plugin:%s]: %s", ctx->cfg->path,
                                 p->section->line, p->name,
                                 perr.msg[0] ? perr.msg : "(no message)");
    }
    return 0;
}

/* Failures are logged here: there is no caller to report them to. */
void pvm_context_shutdown(pvm_context *ctx)
{
    for (size_t i = ctx->nplugins; i-- > 0;) {
        pvm_plugin *p = &ctx->plugins[i];
        if (!p->started)
            continue;
        p->started = false;
        if (!p->type->on_shutdown)
            continue;
        pvm_error perr = {0};
        if (p->type->on_shutdown(p, ctx, &perr) < 0)
            pvm_log(PVM_LOG_ERROR, "plugin %s: on_shutdown failed: %s",
                    p->name, perr.msg[0] ? perr.msg : "(no message)");
    }
}

/* Destroys in reverse order, like the shutdown. */
void pvm_context_free(pvm_context *ctx)
{
    if (!ctx)
        return;
    for (size_t i = ctx->nplugins; i-- > 0;) {
        pvm_plugin *p = &ctx->plugins[i];
        if (p->type->destroy)
            p->type->destroy(p);
        pvm_plugin_keys_free(p->type->keys, p->state);
        free(p->state);
        free(p->name);
    }
    free(ctx->plugins);
    pvm_config_free(ctx->cfg);
    free(ctx);
}

const pvm_config *pvm_context_config(const pvm_context *ctx)
{
    return ctx->cfg;
}

/* Request hooks */

int pvm_context_run_request_hook(pvm_context *ctx, pvm_hook hook,
                                 pvm_request *req, pvm_response *resp)
{
    for (size_t i = 0; i < ctx->nplugins; i++) {
        pvm_plugin *p = &ctx->plugins[i];
        /* A gate is never left to a wrapper, which could drop it. */
        if (p->wrapped && hook != PVM_HOOK_REQUEST)
            continue;
        pvm_request_hook_fn fn = pvm_plugin_request_hook(p, hook);
        if (!fn)
            continue;
        bool data_hook = hook != PVM_HOOK_REQUEST && hook != PVM_HOOK_METADATA;
        if (data_hook)
            pvm_cache_hook_begin(resp);
        int rc = fn(p, req, resp);
        if (data_hook)
            pvm_cache_hook_end(req, resp);
        if (rc >= 0 && !pvm_response_has_error(resp))
            continue;
        /* An answer the hook chose (a 401, ...) is not a plugin error:
         * it stands, logged at info level; a failure becomes a 500. */
        bool chosen = pvm_response_has_error(resp);
        rc = pvm_response_note_failure(resp, p, hook,
                                       rc < 0 ? rc : PVM_ERR_PLUGIN);
        if (chosen)
            pvm_log(PVM_LOG_INFO, "plugin %s: %s answered %d", p->name,
                    pvm_hook_name(hook), pvm_status_http(rc));
        else
            pvm_log(PVM_LOG_ERROR, "plugin %s: %s failed", p->name,
                    pvm_hook_name(hook));
        return rc;
    }
    return 0;
}

/* Table and instance accessors */

const pvm_plugin_type *pvm_plugin_table_find(
    const pvm_plugin_type *const *table, const char *name)
{
    for (; table && *table; table++)
        if ((*table)->name && strcmp((*table)->name, name) == 0)
            return *table;
    return NULL;
}

void *pvm_plugin_state(const pvm_plugin *self)
{
    return self->state;
}

const char *pvm_plugin_name(const pvm_plugin *self)
{
    return self->name;
}

const pvm_plugin_type *pvm_plugin_get_type(const pvm_plugin *self)
{
    return self->type;
}

pvm_context *pvm_plugin_context(const pvm_plugin *self)
{
    return self->ctx;
}

/* The dispatch, generated from pvm/hooks.def: a case per hook of the
 * kind, nothing for the others. */
#define REQUEST_CASE_REQUEST(id, slot)                                        \
    case PVM_HOOK_##id:                                                       \
        return self->type->slot;
#define REQUEST_CASE_CONTEXT(id, slot)
#define CONTEXT_CASE_CONTEXT(id, slot) REQUEST_CASE_REQUEST(id, slot)
#define CONTEXT_CASE_REQUEST(id, slot)

pvm_request_hook_fn pvm_plugin_request_hook(const pvm_plugin *self,
                                            pvm_hook hook)
{
    switch (hook) {
#define PVM_HOOK(id, slot, kind, wrap) REQUEST_CASE_##kind(id, slot)
#include <pvm/hooks.def>
    default: return NULL;
    }
}

pvm_context_hook_fn pvm_plugin_context_hook(const pvm_plugin *self,
                                            pvm_hook hook)
{
    switch (hook) {
#define PVM_HOOK(id, slot, kind, wrap) CONTEXT_CASE_##kind(id, slot)
#include <pvm/hooks.def>
    default: return NULL;
    }
}

const char *pvm_hook_name(pvm_hook hook)
{
    if ((int)hook >= 0 && hook < PVM_HOOK_COUNT)
        return hook_names[hook];
    return "unknown_hook";
}

void pvm_plugin_set_wrapped(pvm_plugin *self)
{
    self->wrapped = true;
}

bool pvm_plugin_is_wrapped(const pvm_plugin *self)
{
    return self->wrapped;
}

/* Context accessors */

const char *pvm_context_config_path(const pvm_context *ctx)
{
    return ctx->cfg->path;
}

const char *pvm_context_setting(const pvm_context *ctx, const char *section,
                                const char *key)
{
    return pvm_config_get(ctx->cfg, section, key);
}

size_t pvm_context_plugin_count(const pvm_context *ctx)
{
    return ctx->nplugins;
}

pvm_plugin *pvm_context_plugin_at(const pvm_context *ctx, size_t i)
{
    return i < ctx->nplugins ? &ctx->plugins[i] : NULL;
}

pvm_plugin *pvm_context_plugin(const pvm_context *ctx, const char *name)
{
    for (size_t i = 0; i < ctx->nplugins; i++)
        if (strcmp(ctx->plugins[i].name, name) == 0)
            return &ctx->plugins[i];
    return NULL;
}

/* Instances */

/* Creates the instance of one [plugin:NAME] section: finds its type,
 * allocates its state and passes it every key but `type`, in file order.
 * On failure after the state exists the instance is kept (counted in
 * ctx->nplugins) so that pvm_context_free destroys it. */
static int instance_create(pvm_context *ctx, const pvm_config_section *sec,
                           const pvm_plugin_type *const *table, pvm_error *err)
{
    const char *path = ctx->cfg->path;
    const char *name = sec->name + 7; /* after "plugin:" */
    const char *type_name = name;
    int type_line = sec->line;
    for (size_t j = 0; j < sec->nentries; j++) {
        if (strcmp(sec->entries[j].key, "type") == 0) {
            type_name = sec->entries[j].value;
            type_line = sec->entries[j].line;
        }
    }
    const pvm_plugin_type *type = pvm_plugin_table_find(table, type_name);
    if (!type)
        return pvm_error_set(err, PVM_ERR_BAD_DATA,
                             "%s:%d: [plugin:%s] unknown plugin type '%s' "
                             "(see pvm-fcgi --list-plugins)",
                             path, type_line, name, type_name);

    pvm_plugin *p = &ctx->plugins[ctx->nplugins];
    *p = (pvm_plugin){.type = type, .ctx = ctx, .section = sec};
    p->name = strdup(name);
    if (type->state_size)
        p->state = calloc(1, type->state_size);
    if (!p->name || (type->state_size && !p->state)) {
        free(p->name);
        free(p->state);
        return pvm_error_set(err, PVM_ERR_INTERNAL, "out of memory");
    }
    ctx->nplugins++;

    for (size_t j = 0; j < sec->nentries; j++) {
        const pvm_config_entry *e = &sec->entries[j];
        if (strcmp(e->key, "type") == 0)
            continue;
        if (instance_set(p, e->key, e->value, e->line, err) < 0)
            return err->code;
    }
    return instance_defaults(p, err);
}

/* Sets one key of an instance: through the type's key table, then (for
 * PVM_KEY_CUSTOM keys and keys the table does not know) configure().
 * Errors name file, line and key. */
static int instance_set(pvm_plugin *p, const char *key, const char *value,
                        int line, pvm_error *err)
{
    const char *path = p->ctx->cfg->path;
    const pvm_plugin_type *type = p->type;
    const pvm_plugin_key *k = pvm_plugin_key_find(type->keys, key);
    pvm_error perr = {0};
    int rc = 0;
    if (k && k->type != PVM_KEY_CUSTOM)
        rc = pvm_plugin_key_set(k, p->state, value, path, &perr);
    else if (type->configure)
        rc = type->configure(p, key, value, &perr);
    else if (type->keys)
        return pvm_error_set(err, PVM_ERR_BAD_DATA,
                             "%s:%d: [plugin:%s] %s: unknown key (see "
                             "pvm-fcgi --describe %s)",
                             path, line, p->name, key, type->name);
    else
        return pvm_error_set(err, PVM_ERR_BAD_DATA,
                             "%s:%d: [plugin:%s] %s: plugin type '%s' "
                             "takes no settings",
                             path, line, p->name, key, type->name);
    if (rc >= 0)
        return 0;
    if (perr.msg[0])
        return pvm_error_set(err, perr.code ? perr.code : rc,
                             "%s:%d: [plugin:%s] %s: %s", path, line, p->name,
                             key, perr.msg);
    return pvm_error_set(err, perr.code ? perr.code : rc,
                         "%s:%d: [plugin:%s] %s: invalid value '%s'", path,
                         line, p->name, key, value);
}

/* After the section's keys: refuses a missing required key and sets the
 * defaults of the keys not given (errors at the section header). */
static int instance_defaults(pvm_plugin *p, pvm_error *err)
{
    const pvm_config_section *sec = p->section;
    for (const pvm_plugin_key *k = p->type->keys; k && k->name; k++) {
        bool given = false;
        for (size_t j = 0; j < sec->nentries && !given; j++)
            given = strcmp(sec->entries[j].key, k->name) == 0;
        if (given)
            continue;
        if (k->required)
            return pvm_error_set(err, PVM_ERR_BAD_DATA,
                                 "%s:%d: [plugin:%s]: missing key '%s' (%s)",
                                 p->ctx->cfg->path, sec->line, p->name,
                                 k->name, k->doc ? k->doc : "required");
        if (k->def && instance_set(p, k->name, k->def, sec->line, err) < 0)
            return err->code;
    }
    return 0;
}

/* Runs check() of one instance; errors point at its section header. */
static int instance_check(pvm_plugin *p, pvm_error *err)
{
    if (!p->type->check)
        return 0;
    pvm_error perr = {0};
    int rc = p->type->check(p, &perr);
    if (rc >= 0)
        return 0;
    return pvm_error_set(err, perr.code ? perr.code : rc,
                         "%s:%d: [plugin:%s]: %s", p->ctx->cfg->path,
                         p->section->line, p->name,
                         perr.msg[0] ? perr.msg : "invalid settings");
}

/* Tables */

static const char *const hook_names[PVM_HOOK_COUNT] = {
#define PVM_HOOK(id, slot, kind, wrap) [PVM_HOOK_##id] = #slot,
#include <pvm/hooks.def>
};

int64_t pvm_context_lookback_ms(const pvm_context *ctx)
{
    return pvm_context_config(ctx)->server.lookback_delta_ms;
}

char *pvm_context_resolve_path(const pvm_context *ctx, const char *path)
{
    return pvm_path_resolve(pvm_context_config_path(ctx), path);
}
