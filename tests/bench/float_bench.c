/* float_bench.c: nanoseconds per value of pvm_format_float and
 * pvm_format_timestamp, on the example plugin's kind of values (sine and
 * cosine of t*2pi/60, the sawtooth t/60 and the square wave, times the
 * amplitudes 1, 5 and 10), on random bit patterns and on millisecond
 * timestamps. Usage: float_bench [VALUES [REPEAT]]; prints best of REPEAT. */
#include "config.h"

#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "json.h"

#define BENCH_PI 3.14159265358979323846

static uint64_t bench_rng_state = 0x2545F4914F6CDD1DULL;

/* xorshift64: deterministic, so runs are comparable. */
static uint64_t bench_rng(void)
{
    bench_rng_state ^= bench_rng_state << 13;
    bench_rng_state ^= bench_rng_state >> 7;
    bench_rng_state ^= bench_rng_state << 17;
    return bench_rng_state;
}

static double now_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec * 1e9 + (double)ts.tv_nsec;
}

/* The example plugin's waves at n sample times 250 ms apart (so that t
 * takes 240 values in [0, 60)); waves selects the types: bit 0 sine, 1
 * cosine, 2 square, 3 sawtooth. */
static size_t fill_waves(double *out, size_t n, unsigned waves)
{
    static const double amplitudes[] = {1, 5, 10};
    size_t k = 0;
    for (size_t i = 0; k < n; i++) {
        double t = fmod((double)i * 0.25, 60.0);
        for (int a = 0; a < 3 && k < n; a++) {
            double amp = amplitudes[a];
            if ((waves & 1) && k < n)
                out[k++] = sin(t * 2 * BENCH_PI / 60) * amp;
            if ((waves & 2) && k < n)
                out[k++] = cos(t * 2 * BENCH_PI / 60) * amp;
            if ((waves & 4) && k < n)
                out[k++] = (t < 30 ? 1 : -1) * amp;
            if ((waves & 8) && k < n)
                out[k++] = t / 60 * amp;
        }
    }
    return k;
}

/* Random finite doubles from random bit patterns. */
static void fill_random(double *out, size_t n)
{
    for (size_t k = 0; k < n;) {
        uint64_t bits = bench_rng();
        double v;
        memcpy(&v, &bits, sizeof(v));
        if (isfinite(v))
            out[k++] = v;
    }
}

/* Best ns per value of pvm_format_float over repeat passes on v[0..n). */
static double time_floats(const double *v, size_t n, int repeat)
{
    char buf[PVM_FLOAT_BUFSIZE];
    double best = 1e300;
    volatile size_t sink = 0;
    for (int r = 0; r < repeat; r++) {
        double t0 = now_ns();
        size_t total = 0;
        for (size_t i = 0; i < n; i++)
            total += pvm_format_float(buf, v[i]) + (unsigned char)buf[0];
        double dt = (now_ns() - t0) / (double)n;
        sink += total;
        if (dt < best)
            best = dt;
    }
    (void)sink;
    return best;
}

/* Best ns per value of pvm_format_timestamp on range-query timestamps
 * (a step of 15 s, and 1 ms apart for the fractional case). */
static double time_timestamps(size_t n, int repeat, int64_t step)
{
    char buf[PVM_FLOAT_BUFSIZE];
    double best = 1e300;
    volatile size_t sink = 0;
    for (int r = 0; r < repeat; r++) {
        double t0 = now_ns();
        size_t total = 0;
        int64_t ms = 1767355200000;
        for (size_t i = 0; i < n; i++, ms += step)
            total += pvm_format_timestamp(buf, ms) + (unsigned char)buf[0];
        double dt = (now_ns() - t0) / (double)n;
        sink += total;
        if (dt < best)
            best = dt;
    }
    (void)sink;
    return best;
}

int main(int argc, char **argv)
{
    size_t n = argc > 1 ? strtoul(argv[1], NULL, 10) : 1000000;
    int repeat = argc > 2 ? atoi(argv[2]) : 5;
    if (n == 0 || repeat <= 0) {
        fprintf(stderr, "usage: %s [VALUES [REPEAT]]\n", argv[0]);
        return 2;
    }
    double *v = malloc(n * sizeof(*v));
    if (!v)
        return 1;
    static const struct {
        const char *name;
        unsigned waves;
    } sets[] = {
        {"example: sine+cosine x {1,5,10}", 3},
        {"example: sawtooth t/60 x {1,5,10}", 8},
        {"example: all four waves", 15},
    };
    printf("%-40s %10s\n", "values", "ns/value");
    for (size_t s = 0; s < sizeof(sets) / sizeof(sets[0]); s++) {
        size_t k = fill_waves(v, n, sets[s].waves);
        printf("%-40s %10.1f\n", sets[s].name, time_floats(v, k, repeat));
    }
    fill_random(v, n);
    printf("%-40s %10.1f\n", "random bit patterns", time_floats(v, n, repeat));
    printf("%-40s %10.1f\n", "timestamps, step 15 s",
           time_timestamps(n, repeat, 15000));
    printf("%-40s %10.1f\n", "timestamps, step 1 ms",
           time_timestamps(n, repeat, 1));
    free(v);
    return 0;
}
