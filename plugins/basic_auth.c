/* basic_auth.c: the seed's BasicAuthPlugin. Every request must carry HTTP
 * Basic credentials of a user given in the section (`user = NAME:PASSWORD`)
 * or in an htpasswd file (bcrypt or SHA-crypt hashes); otherwise it is
 * answered 401 with a WWW-Authenticate challenge. The check is the
 * on_request gate, so it covers every path (API endpoints, /metrics,
 * unknown paths) before anything else runs; only the paths listed in
 * `exempt_paths` pass without credentials. The credentials are read with
 * the request API's pvm_request_basic_credentials() (pvm/request.h). */
#include <crypt.h>
#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <pvm/pvm.h>

#include "basic_auth.h"

#define BCRYPT_COST 5 /* for `user =` passwords, as `htpasswd -B` */

/* One user: a name and a crypt(3) hash of the password. */
struct ba_user {
    char *name; /* user name, malloc'd */
    char *hash; /* "$2b$05$...", "$6$...", malloc'd */
};

/* Per-instance state. */
struct basic_auth {
    struct ba_user *users; /* `user =` entries, then the htpasswd ones */
    size_t nusers;         /* entries used */
    size_t cap;            /* entries allocated */
    size_t nconfigured;    /* how many came from `user =` */
    char *htpasswd;        /* `htpasswd =` path, resolved (set and freed
                               by the server) */
    char realm[PVM_BASIC_AUTH_REALM_MAX + 1]; /* `realm =` */
    char challenge[160];                      /* WWW-Authenticate value */
    char **exempt;  /* `exempt_paths =`: exact request paths let
                               through without credentials, malloc'd */
    size_t nexempt; /* entries in exempt */
};

/* ---- users ------------------------------------------------------------ */

/* Checks a hash read from a file: a kind libcrypt verifies and that
 * `htpasswd -B` (or a SHA-crypt tool) writes, and well-formed. */
static const char *hash_problem(const char *hash, struct crypt_data *cd)
{
    static const char *const kinds[] = {"$2y$", "$2b$", "$2a$", "$5$", "$6$"};
    bool known = false;
    for (size_t i = 0; i < sizeof(kinds) / sizeof(kinds[0]); i++)
        known = known || strncmp(hash, kinds[i], strlen(kinds[i])) == 0;
    if (!known) {
        if (strncmp(hash, "$apr1$", 6) == 0)
            return "unsupported hash kind $apr1$ (Apache MD5, htpasswd -m): "
                   "use bcrypt (htpasswd -B)";
        if (strncmp(hash, "{SHA}", 5) == 0)
            return "unsupported hash kind {SHA} (htpasswd -s): use bcrypt "
                   "(htpasswd -B)";
        return "unsupported hash kind (bcrypt $2y$/$2b$ or SHA-crypt "
               "$5$/$6$ are supported: use htpasswd -B)";
    }
    if (strlen(hash) >= CRYPT_OUTPUT_SIZE)
        return "malformed hash (too long)";
    const char *out = crypt_r("", hash, cd);
    if (!out || out[0] == '*' || strlen(out) != strlen(hash))
        return "malformed hash";
    return NULL;
}

static struct ba_user *find_user(struct basic_auth *st, const char *name)
{
    for (size_t i = 0; i < st->nusers; i++)
        if (strcmp(st->users[i].name, name) == 0)
            return &st->users[i];
    return NULL;
}

/* Appends a user, taking ownership of name and hash (freed on error). */
static int add_user(struct basic_auth *st, char *name, char *hash,
                    pvm_error *err)
{
    if (!name || !hash)
        goto nomem;
    if (find_user(st, name)) {
        pvm_error_set(err, PVM_ERR_BAD_DATA, "user '%s' given twice", name);
        goto fail;
    }
    if (st->nusers == st->cap) {
        size_t cap = st->cap ? st->cap * 2 : 8;
        struct ba_user *u = realloc(st->users, cap * sizeof(*u));
        if (!u)
            goto nomem;
        st->users = u;
        st->cap = cap;
    }
    st->users[st->nusers++] = (struct ba_user){name, hash};
    return 0;
nomem:
    pvm_error_set(err, PVM_ERR_INTERNAL, "out of memory");
fail:
    free(name);
    free(hash);
    return err ? err->code : PVM_ERR_INTERNAL;
}

static void drop_users_from(struct basic_auth *st, size_t first)
{
    for (size_t i = first; i < st->nusers; i++) {
        free(st->users[i].name);
        free(st->users[i].hash);
    }
    st->nusers = first;
}

/* `user = NAME:PASSWORD`: the password is hashed with bcrypt at once, so
 * that every user is checked the same way and no plain text is kept. */
static int configure_user(struct basic_auth *st, const char *value,
                          pvm_error *err)
{
    const char *colon = strchr(value, ':');
    if (!colon || colon == value)
        return pvm_error_set(err, PVM_ERR_BAD_DATA,
                             "must be NAME:PASSWORD with a non-empty name");
    char salt[CRYPT_GENSALT_OUTPUT_SIZE];
    struct crypt_data *cd = calloc(1, sizeof(*cd));
    if (!cd)
        return pvm_error_set(err, PVM_ERR_INTERNAL, "out of memory");
    const char *out = NULL;
    if (crypt_gensalt_rn("$2b$", BCRYPT_COST, NULL, 0, salt, sizeof(salt)))
        out = crypt_r(colon + 1, salt, cd);
    int rc;
    if (!out || out[0] == '*')
        rc = pvm_error_set(err, PVM_ERR_INTERNAL,
                           "cannot hash the password: %s", strerror(errno));
    else
        rc = add_user(st, strndup(value, (size_t)(colon - value)), strdup(out),
                      err);
    explicit_bzero(cd, sizeof(*cd));
    free(cd);
    if (rc == 0)
        st->nconfigured = st->nusers;
    return rc;
}

/* `exempt_paths = PATH...`: blank or comma separated exact paths, each
 * starting with '/'; repeated keys add to the list. */
static int configure_exempt(struct basic_auth *st, const char *value,
                            pvm_error *err)
{
    const char *sep = ", \t";
    for (const char *p = value + strspn(value, sep); *p; p += strspn(p, sep)) {
        size_t len = strcspn(p, sep);
        if (p[0] != '/' || memchr(p, '?', len))
            return pvm_error_set(err, PVM_ERR_BAD_DATA,
                                 "'%.*s' is not a path (it must start with "
                                 "/ and have no query string)",
                                 (int)len, p);
        char **e = realloc(st->exempt, (st->nexempt + 1) * sizeof(*e));
        if (!e)
            return pvm_error_set(err, PVM_ERR_INTERNAL, "out of memory");
        st->exempt = e;
        if (!(e[st->nexempt] = strndup(p, len)))
            return pvm_error_set(err, PVM_ERR_INTERNAL, "out of memory");
        st->nexempt++;
        p += len;
    }
    return 0;
}

/* `realm = TEXT`: quoted into the challenge, so no " or \. */
static int configure_realm(struct basic_auth *st, const char *value,
                           pvm_error *err)
{
    if (!*value || strlen(value) >= sizeof(st->realm) ||
        strpbrk(value, "\"\\"))
        return pvm_error_set(err, PVM_ERR_BAD_DATA,
                             "must be 1 to %zu characters without \" "
                             "or \\",
                             sizeof(st->realm) - 1);
    strcpy(st->realm, value);
    return 0;
}

/* The keys that need code (the table's PVM_KEY_CUSTOM ones). */
static int basic_auth_configure(pvm_plugin *self, const char *key,
                                const char *value, pvm_error *err)
{
    struct basic_auth *st = pvm_plugin_state(self);
    if (strcmp(key, "user") == 0)
        return configure_user(st, value, err);
    if (strcmp(key, "realm") == 0)
        return configure_realm(st, value, err);
    if (strcmp(key, "exempt_paths") == 0)
        return configure_exempt(st, value, err);
    return pvm_error_set(err, PVM_ERR_BAD_DATA, "unknown key");
}

/* [plugin:NAME] keys (pvm/config.h). */
static const pvm_plugin_key basic_auth_keys[] = {
    {"user", PVM_KEY_CUSTOM, .repeat = true,
     .doc = "NAME:PASSWORD, hashed with bcrypt at once"},
    {"htpasswd", PVM_KEY_PATH, offsetof(struct basic_auth, htpasswd),
     .doc = "htpasswd file of NAME:HASH lines (bcrypt, SHA-crypt), "
            "read at each start"},
    {"realm", PVM_KEY_CUSTOM, .def = PVM_BASIC_AUTH_REALM,
     .doc = "realm of the WWW-Authenticate challenge, without \" or \\"},
    {"exempt_paths", PVM_KEY_CUSTOM, .repeat = true,
     .doc = "request paths let through without credentials, comma or "
            "blank separated"},
    {NULL},
};

static int basic_auth_check(pvm_plugin *self, pvm_error *err)
{
    struct basic_auth *st = pvm_plugin_state(self);
    if (!st->nusers && !st->htpasswd)
        return pvm_error_set(err, PVM_ERR_BAD_DATA,
                             "no users: give `user = NAME:PASSWORD` or "
                             "`htpasswd = PATH`");
    snprintf(st->challenge, sizeof(st->challenge), PVM_BASIC_AUTH_CHALLENGE,
             st->realm);
    return 0;
}

static void basic_auth_destroy(pvm_plugin *self)
{
    struct basic_auth *st = pvm_plugin_state(self);
    drop_users_from(st, 0);
    free(st->users);
    for (size_t i = 0; i < st->nexempt; i++)
        free(st->exempt[i]);
    free(st->exempt);
}

/* Parses one "user:hash" line of an htpasswd file. */
static int htpasswd_line(struct basic_auth *st, char *line,
                         struct crypt_data *cd, const char *path, int lineno,
                         pvm_error *err)
{
    line[strcspn(line, "\r\n")] = '\0';
    if (!line[0] || line[0] == '#')
        return 0;
    char *colon = strchr(line, ':');
    if (!colon || colon == line)
        return pvm_error_set(err, PVM_ERR_BAD_DATA,
                             "%s:%d: expected USER:HASH", path, lineno);
    *colon = '\0';
    const char *why = hash_problem(colon + 1, cd);
    if (why)
        return pvm_error_set(err, PVM_ERR_BAD_DATA, "%s:%d: user '%s': %s",
                             path, lineno, line, why);
    pvm_error uerr = {0};
    if (add_user(st, strdup(line), strdup(colon + 1), &uerr) < 0)
        return pvm_error_set(err, uerr.code, "%s:%d: %s", path, lineno,
                             uerr.msg);
    return 0;
}

static int load_htpasswd(struct basic_auth *st, const char *path,
                         pvm_error *err)
{
    FILE *f = fopen(path, "r");
    if (!f)
        return pvm_error_set(err, PVM_ERR_BAD_DATA,
                             "htpasswd: cannot open "
                             "%s: %s",
                             path, strerror(errno));
    struct crypt_data *cd = calloc(1, sizeof(*cd));
    char *line = NULL;
    size_t cap = 0;
    int rc = cd ? 0 : pvm_error_set(err, PVM_ERR_INTERNAL, "out of memory");
    for (int lineno = 1; rc == 0 && getline(&line, &cap, f) >= 0; lineno++)
        rc = htpasswd_line(st, line, cd, path, lineno, err);
    if (rc == 0 && ferror(f))
        rc = pvm_error_set(err, PVM_ERR_BAD_DATA,
                           "htpasswd: cannot read "
                           "%s: %s",
                           path, strerror(errno));
    free(line);
    free(cd);
    fclose(f);
    return rc;
}

/* Loads the htpasswd file (again, on each start). */
static int basic_auth_startup(pvm_plugin *self, pvm_context *ctx,
                              pvm_error *err)
{
    struct basic_auth *st = pvm_plugin_state(self);
    (void)ctx;
    drop_users_from(st, st->nconfigured);
    if (st->htpasswd) {
        int rc = load_htpasswd(st, st->htpasswd, err);
        if (rc < 0) {
            drop_users_from(st, st->nconfigured);
            return rc;
        }
    }
    if (!st->nusers)
        return pvm_error_set(err, PVM_ERR_BAD_DATA,
                             "htpasswd: %s has no users", st->htpasswd);
    pvm_plugin_log(self, PVM_LOG_INFO,
                   "%zu user(s), realm \"%s\", %zu "
                   "path(s) exempt",
                   st->nusers, st->realm, st->nexempt);
    return 0;
}

/* --check-config: loads the htpasswd file as the start does, then
 * drops its users again. Messages name the file, line and user, never a
 * hash or password. */
static int basic_auth_validate(pvm_plugin *self, pvm_context *ctx,
                               pvm_error *err)
{
    struct basic_auth *st = pvm_plugin_state(self);
    if (!st->htpasswd)
        return 0;
    (void)ctx;
    int rc = load_htpasswd(st, st->htpasswd, err);
    if (rc == 0 && !st->nusers) /* as the start */
        rc = pvm_error_set(err, PVM_ERR_BAD_DATA, "htpasswd: %s has no users",
                           st->htpasswd);
    drop_users_from(st, st->nconfigured);
    return rc;
}

/* ---- checking a request ------------------------------------------------ */

/* Compares n bytes without stopping at the first difference. */
static bool equal_const_time(const char *a, const char *b, size_t n)
{
    volatile unsigned char diff = 0;
    for (size_t i = 0; i < n; i++)
        diff |= (unsigned char)(a[i] ^ b[i]);
    return diff == 0;
}

/* True when user and pass are right. An unknown user is checked against
 * the first user's hash, so it costs the same crypt(3) call; the result
 * is compared in constant time over the stored hash's length. */
static bool verify(const struct basic_auth *st, struct crypt_data *cd,
                   const char *user, const char *pass)
{
    const struct ba_user *match = NULL;
    for (size_t i = 0; i < st->nusers; i++)
        if (!match && strcmp(st->users[i].name, user) == 0)
            match = &st->users[i];
    const char *hash = match ? match->hash : st->users[0].hash;
    const char *out = crypt_r(pass, hash, cd);
    /* out points into cd->output (CRYPT_OUTPUT_SIZE bytes), longer than
     * any stored hash (checked at load), so reading n bytes is safe. */
    bool same = out && out[0] != '*' &&
                equal_const_time(out, hash, strlen(hash) + 1);
    return same && match;
}

/* True when the request's path is listed in exempt_paths (exact match of
 * the raw path, the same string the server routes on). */
static bool is_exempt(const struct basic_auth *st, const pvm_request *req)
{
    const char *path = pvm_request_http_path(req);
    for (size_t i = 0; i < st->nexempt; i++)
        if (strcmp(st->exempt[i], path) == 0)
            return true;
    return false;
}

/* The gate (on_request): once per HTTP request, before routing. */
static int check_request(pvm_plugin *self, pvm_request *req,
                         pvm_response *resp)
{
    struct basic_auth *st = pvm_plugin_state(self);
    if (is_exempt(st, req))
        return 0;
    char user[256], pass[256];
    const char *why = NULL;
    int rc = pvm_request_basic_credentials(req, user, sizeof(user), pass,
                                           sizeof(pass));
    if (rc == PVM_ERR_NOT_FOUND) {
        why = "authentication required";
    } else if (rc < 0) {
        why = "malformed Authorization header";
    } else {
        struct crypt_data *cd = pvm_arena_calloc(pvm_request_arena(req), 1,
                                                 sizeof(*cd));
        if (!cd) {
            explicit_bzero(pass, sizeof(pass));
            return pvm_response_set_error(resp, PVM_ERR_NOMEM,
                                          "out of request memory");
        }
        if (!verify(st, cd, user, pass)) {
            why = "invalid credentials";
            pvm_plugin_log(self, PVM_LOG_INFO,
                           "wrong credentials for user '%.64s' from %s", user,
                           pvm_request_http_remote(req));
        }
        explicit_bzero(cd, sizeof(*cd));
    }
    explicit_bzero(pass, sizeof(pass));
    if (!why)
        return 0;
    int hrc = pvm_response_add_header(resp, "WWW-Authenticate", st->challenge);
    if (hrc < 0)
        return hrc;
    return pvm_response_set_error(resp, PVM_ERR_FORBIDDEN, "%s", why);
}

const pvm_plugin_type pvm_plugin_basic_auth = {
    .name = "basic_auth", /* `type = basic_auth` */
    .description = "HTTP Basic authentication from the section or an "
                   "htpasswd file (the seed's BasicAuthPlugin)",
    .state_size = sizeof(struct basic_auth), /* zeroed per instance */
    .configure = basic_auth_configure,       /* user, realm, exempt_paths */
    .check = basic_auth_check,               /* some users */
    .destroy = basic_auth_destroy,           /* frees users and paths */
    .on_startup = basic_auth_startup,        /* loads the htpasswd file */
    .on_shutdown = NULL,                     /* nothing to stop */
    .on_instant_query_request = NULL,        /* the gate covers them all */
    .on_range_query_request = NULL,
    .on_metric_names_request = NULL,
    .on_label_names_request = NULL,
    .on_label_values_request = NULL,
    .on_master_startup = NULL,       /* nothing before forking */
    .on_request = check_request,     /* every request: 401 or go on */
    .validate = basic_auth_validate, /* --check-config: htpasswd */
    .keys = basic_auth_keys,         /* user, htpasswd, realm,
                                                exempt_paths */
};
