/* main.c: the pvm-fcgi command line: load the configuration, create the
 * plugin instances from the compile-time table, then serve FastCGI. */

#include <getopt.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <pvm/pvm.h>

#include "api.h"
#include "fcgi.h"
#include "registry.h"

/* The compile-time plugin table (plugins/table.c). */
extern const pvm_plugin_type *const pvm_plugin_table[];

static volatile sig_atomic_t stop_requested;

static void on_stop_signal(int sig)
{
    (void)sig;
    stop_requested = 1;
    pvm_fcgi_request_stop();
}

static void usage(FILE *f)
{
    fprintf(f,
            "Usage: pvm-fcgi [OPTION]...\n"
            "Serve the Prometheus HTTP query API over FastCGI from plugins.\n"
            "\n"
            "  -c, --config FILE   configuration file (default: %s)\n"
            "  -L, --listen ADDR   listen on ADDR instead of [server] listen\n"
            "                      (HOST:PORT, [V6ADDR]:PORT or unix:/path)\n"
            "  -t, --check-config  check the configuration and plugin "
            "settings, print\n"
            "                      what would run, and exit (0: valid)\n"
            "  -l, --list-plugins  list the compiled-in plugin types\n"
            "  -V, --version       print the version and exit\n"
            "  -h, --help          print this help and exit\n"
            "\n"
            "See pvm-fcgi(8) and pvm.ini(5).\n",
            pvm_config_default_path());
}

static void list_plugins(void)
{
    for (size_t i = 0; pvm_plugin_table[i]; i++)
        printf("%-20s %s\n", pvm_plugin_table[i]->name,
               pvm_plugin_table[i]->description
                   ? pvm_plugin_table[i]->description
                   : "");
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

static void install_signals(void)
{
    struct sigaction sa = {0};
    sa.sa_handler = on_stop_signal; /* no SA_RESTART: wake up accept() */
    sigemptyset(&sa.sa_mask);
    sigaction(SIGTERM, &sa, NULL);
    sigaction(SIGINT, &sa, NULL);
    signal(SIGPIPE, SIG_IGN);
}

int main(int argc, char **argv)
{
    static const struct option opts[] = {
        {"config", required_argument, NULL, 'c'},
        {"listen", required_argument, NULL, 'L'},
        {"check-config", no_argument, NULL, 't'},
        {"list-plugins", no_argument, NULL, 'l'},
        {"version", no_argument, NULL, 'V'},
        {"help", no_argument, NULL, 'h'},
        {NULL, 0, NULL, 0},
    };
    const char *path = pvm_config_default_path();
    const char *listen = NULL;
    int check_only = 0, c;
    while ((c = getopt_long(argc, argv, "c:L:tlVh", opts, NULL)) != -1) {
        switch (c) {
        case 'c': path = optarg; break;
        case 'L': listen = optarg; break;
        case 't': check_only = 1; break;
        case 'l': list_plugins(); return 0;
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
        print_summary(ctx);
        pvm_context_free(ctx);
        return 0;
    }

    const pvm_server_config *scfg = &pvm_context_config(ctx)->server;
    int rc = 1;
    int fd = pvm_fcgi_listen(scfg->listen, &err);
    if (fd < 0) {
        pvm_log(PVM_LOG_ERROR, "%s", err.msg);
        goto out;
    }
    install_signals();
    if (pvm_context_startup(ctx, &err) < 0) {
        pvm_log(PVM_LOG_ERROR, "%s", err.msg);
        goto out;
    }
    pvm_log(PVM_LOG_INFO, "pvm-fcgi %s serving on %s (%zu plugin instances)",
            PACKAGE_VERSION, scfg->listen ? scfg->listen : "fd 0",
            pvm_context_plugin_count(ctx));
    pvm_api_env env = {ctx, scfg};
    rc = pvm_fcgi_serve(&env, fd, &stop_requested) < 0 ? 1 : 0;
    pvm_log(PVM_LOG_INFO, "stopping");
    pvm_context_shutdown(ctx);
out:
    if (fd > 0)
        close(fd);
    if (scfg->listen && strncmp(scfg->listen, "unix:", 5) == 0)
        unlink(scfg->listen + 5);
    pvm_context_free(ctx);
    return rc;
}
