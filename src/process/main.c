/* main.c: the pvm-fcgi command line: load the configuration, create the
 * plugin instances from the compile-time table, open (or inherit) the
 * socket, then serve FastCGI: as a master with worker processes
 * (master.h), or in this process (--single-process, workers = 1). */

#include <getopt.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <pvm/pvm.h>

#include "api.h"
#include "fcgi.h"
#include "master.h"
#include "metrics.h"
#include "registry.h"
#include "sd_listen.h"
#include "shm.h"
#include "worker.h"

/* The compile-time plugin table (plugins/table.c). */
extern const pvm_plugin_type *const pvm_plugin_table[];

static void usage(FILE *f)
{
    fprintf(f,
            "Usage: pvm-fcgi [OPTION]...\n"
            "Serve the Prometheus HTTP query API over FastCGI from plugins.\n"
            "\n"
            "  -c, --config FILE   configuration file (default: "
            "$PVM_CONFIG, else\n"
            "                      %s)\n"
            "  -L, --listen ADDR   listen on ADDR instead of [server] listen\n"
            "                      (HOST:PORT, [V6ADDR]:PORT or unix:/path)\n"
            "  -s, --single-process  serve in this process, without a "
            "master and\n"
            "                      workers (for supervisors such as "
            "spawn-fcgi)\n"
            "  -t, --check-config  check the configuration and plugin "
            "settings (files\n"
            "                      and databases opened read-only), print "
            "what would\n"
            "                      run, and exit (0: valid)\n"
            "  -l, --list-plugins  list the compiled-in plugin types (with\n"
            "                      -v, --verbose: and their settings)\n"
            "  -D, --describe TYPE print the settings of plugin type TYPE:\n"
            "                      each key's type, default and meaning\n"
            "  -V, --version       print the version and exit\n"
            "  -h, --help          print this help and exit\n"
            "\n"
            "See pvm-fcgi(8) and pvm.ini(5).\n",
            pvm_config_default_path());
}

/* --list-plugins: one line per type; verbose: --describe of each. */
static void list_plugins(bool verbose)
{
    for (size_t i = 0; pvm_plugin_table[i]; i++) {
        if (verbose) {
            printf("%s", i ? "\n" : "");
            pvm_plugin_describe(stdout, pvm_plugin_table[i]);
            continue;
        }
        printf("%-20s %s\n", pvm_plugin_table[i]->name,
               pvm_plugin_table[i]->description
                   ? pvm_plugin_table[i]->description
                   : "");
    }
}

/* --describe TYPE: 0, or 1 for an unknown type. */
static int describe(const char *name)
{
    const pvm_plugin_type *t = pvm_plugin_table_find(pvm_plugin_table, name);
    if (!t) {
        fprintf(stderr,
                "pvm-fcgi: unknown plugin type '%s' (see "
                "pvm-fcgi --list-plugins)\n",
                name);
        return 1;
    }
    pvm_plugin_describe(stdout, t);
    return 0;
}

static void print_summary(const pvm_context *ctx)
{
    const pvm_config *cfg = pvm_context_config(ctx);
    printf("configuration %s is valid\n", cfg->path);
    printf("listen: %s\n", cfg->server.listen ? cfg->server.listen
                                              : "(socket inherited on fd 0)");
    printf("api_url_prefix: %s/api/v1/\n", cfg->server.api_url_prefix);
    printf("plugin instances, in the order they run:\n");
    size_t n = pvm_context_plugin_count(ctx);
    for (size_t i = 0; i < n; i++) {
        const pvm_plugin *p = pvm_context_plugin_at(ctx, i);
        printf("  %zu. %s (type %s)%s\n", i + 1, pvm_plugin_name(p),
               pvm_plugin_get_type(p)->name,
               pvm_plugin_is_wrapped(p) ? ", wrapped" : "");
    }
    if (n == 0)
        printf("  (none: every query returns empty results)\n");
}

/* Takes over a systemd socket (moved onto fd 0), opens the listening
 * socket, then runs the master or the single-process loop. Owns ctx.
 * Returns the exit status. */
static int serve(pvm_context *ctx, const char *path, const char *listen,
                 int single)
{
    pvm_error err = {0};
    pvm_config *cfg = (pvm_config *)pvm_context_config(ctx);
    int activated = pvm_sd_listen(&err);
    if (activated < 0) {
        pvm_log(PVM_LOG_ERROR, "%s", err.msg);
        pvm_context_free(ctx);
        return 1;
    }
    if (activated) { /* the systemd socket wins over [server] listen */
        free(cfg->server.listen);
        cfg->server.listen = NULL;
        listen = NULL;
    }
    const pvm_server_config *scfg = &cfg->server;
    char *unix_path = scfg->listen && strncmp(scfg->listen, "unix:", 5) == 0
                          ? strdup(scfg->listen + 5)
                          : NULL;
    int rc = 1, fd = pvm_fcgi_listen(scfg->listen, &err);
    pvm_shm *shm = NULL;
    signal(SIGPIPE, SIG_IGN);
    if (fd < 0) {
        pvm_log(PVM_LOG_ERROR, "%s", err.msg);
        free(unix_path); /* not ours: maybe a live server's socket */
        unix_path = NULL;
        goto out;
    }
    shm = pvm_shm_new();
    if (!shm) {
        pvm_log(PVM_LOG_ERROR, "cannot map shared memory");
        goto out;
    }
    shm->metrics.start_time = (uint64_t)time(NULL);
    shm->config_time = shm->metrics.start_time;
    shm->metrics.workers_configured = 1;
    pvm_metrics_register_plugins(shm, ctx);
    if (pvm_master_startup_hooks(ctx, &err) < 0) {
        pvm_log(PVM_LOG_ERROR, "%s", err.msg);
        goto out;
    }
    pvm_log(PVM_LOG_INFO, "pvm-fcgi %s serving on %s (%zu plugin instances)",
            PACKAGE_VERSION,
            scfg->listen ? scfg->listen
            : activated  ? "a systemd socket"
                         : "fd 0",
            pvm_context_plugin_count(ctx));
    if (single || scfg->workers == 1) {
        rc = pvm_worker_run_inline(ctx, fd, shm);
        pvm_log(PVM_LOG_INFO, "stopped");
    } else {
        pvm_master_opts o = {path, listen, scfg->listen == NULL,
                             pvm_plugin_table, unix_path};
        rc = pvm_master_run(&o, ctx, fd, shm);
        ctx = NULL; /* freed by the master */
    }
out:
    if (fd > 0)
        close(fd);
    if (unix_path)
        unlink(unix_path);
    free(unix_path);
    pvm_shm_free(shm);
    pvm_context_free(ctx);
    return rc;
}

int main(int argc, char **argv)
{
    static const struct option opts[] = {
        {"config", required_argument, NULL, 'c'},
        {"listen", required_argument, NULL, 'L'},
        {"single-process", no_argument, NULL, 's'},
        {"check-config", no_argument, NULL, 't'},
        {"list-plugins", no_argument, NULL, 'l'},
        {"verbose", no_argument, NULL, 'v'},
        {"describe", required_argument, NULL, 'D'},
        {"version", no_argument, NULL, 'V'},
        {"help", no_argument, NULL, 'h'},
        {NULL, 0, NULL, 0},
    };
    /* The configuration file: -c, else $PVM_CONFIG, else the default. */
    const char *path = getenv("PVM_CONFIG");
    if (!path || !*path)
        path = pvm_config_default_path();
    const char *listen = NULL;
    const char *describe_type = NULL;
    int check_only = 0, single = 0, list = 0, verbose = 0, c;
    while ((c = getopt_long(argc, argv, "c:L:stlvD:Vh", opts, NULL)) != -1) {
        switch (c) {
        case 'c': path = optarg; break;
        case 'L': listen = optarg; break;
        case 's': single = 1; break;
        case 't': check_only = 1; break;
        case 'l': list = 1; break;
        case 'v': verbose = 1; break;
        case 'D': describe_type = optarg; break;
        case 'V': printf("pvm-fcgi %s\n", PACKAGE_VERSION); return 0;
        case 'h': usage(stdout); return 0;
        default: usage(stderr); return 2;
        }
    }
    if (optind < argc) {
        fprintf(stderr, "pvm-fcgi: unexpected argument '%s'\n", argv[optind]);
        usage(stderr);
        return 2;
    }
    if (describe_type)
        return describe(describe_type);
    if (list) {
        list_plugins(verbose);
        return 0;
    }

    pvm_error err = {0};
    pvm_config *cfg = pvm_config_load(path, &err);
    if (!cfg) {
        fprintf(stderr, "pvm-fcgi: %s\n", err.msg);
        return 1;
    }
    if (listen) {
        free(cfg->server.listen);
        cfg->server.listen = strdup(listen);
        if (!cfg->server.listen) {
            fprintf(stderr, "pvm-fcgi: out of memory\n");
            pvm_config_free(cfg);
            return 1;
        }
    }
    pvm_log_set_level(cfg->server.log_level);
    pvm_context *ctx = pvm_context_new(cfg, pvm_plugin_table, &err);
    if (!ctx) {
        fprintf(stderr, "pvm-fcgi: %s\n", err.msg);
        return 1;
    }
    if (check_only) {
        /* each plugin's own validation: files, databases, statements */
        if (pvm_context_validate(ctx, &err) < 0) {
            fprintf(stderr, "pvm-fcgi: %s\n", err.msg);
            pvm_context_free(ctx);
            return 1;
        }
        print_summary(ctx);
        pvm_context_free(ctx);
        return 0;
    }

    return serve(ctx, path, listen, single);
}
