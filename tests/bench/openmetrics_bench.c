/* openmetrics_bench.c: loads an OpenMetrics file with the openmetrics_file
 * plugin's loader and prints the load time and the memory per sample
 * (the loader's own count, and the growth of the resident set). Not a
 * test: run it through tests/bench/openmetrics_bench.sh. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <pvm/pvm.h>

#include "openmetrics_load.h"

/* Resident set size in bytes, from /proc/self/statm. */
static size_t rss_bytes(void)
{
    unsigned long size = 0, resident = 0;
    FILE *f = fopen("/proc/self/statm", "r");
    if (f) {
        if (fscanf(f, "%lu %lu", &size, &resident) != 2)
            resident = 0;
        fclose(f);
    }
    return resident * (size_t)sysconf(_SC_PAGESIZE);
}

static double now_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

int main(int argc, char **argv)
{
    if (argc < 2 || argc > 3) {
        fprintf(stderr, "usage: %s FILE [s|ms]\n", argv[0]);
        return 2;
    }
    bool ms = argc == 3 && strcmp(argv[2], "ms") == 0;
    struct timespec mtime;
    off_t size;
    pvm_error err = {0};
    size_t rss0 = rss_bytes();
    double t0 = now_s();
    pvm_om_data *d = pvm_om_load(argv[1], ms, &mtime, &size, &err);
    double t1 = now_s();
    size_t rss1 = rss_bytes();
    if (!d) {
        fprintf(stderr, "%s\n", err.msg);
        return 1;
    }
    size_t n = d->nsamples ? d->nsamples : 1;
    printf("file:          %s (%.1f MB)\n", argv[1], (double)size / 1e6);
    printf("series:        %zu\n", d->nseries);
    printf("samples:       %zu\n", d->nsamples);
    printf("load time:     %.3f s\n", t1 - t0);
    printf("data bytes:    %zu (%.1f bytes/sample)\n", pvm_om_bytes(d),
           (double)pvm_om_bytes(d) / (double)n);
    printf("RSS growth:    %zu (%.1f bytes/sample)\n", rss1 - rss0,
           (double)(rss1 - rss0) / (double)n);
    pvm_om_free(d);
    return 0;
}
