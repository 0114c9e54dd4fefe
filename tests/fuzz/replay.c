/* replay.c: replays a fuzz target's seed corpus and regression inputs in
 * every build (not only fuzzing builds): main() runs the target's
 * LLVMFuzzerTestOneInput over each file of
 *   PVM_FUZZ_DIR/corpus/PVM_FUZZ_TARGET/ and
 *   PVM_FUZZ_DIR/regressions/PVM_FUZZ_TARGET/
 * (or over the files and directories named on the command line). A
 * target aborts on a broken invariant, and the sanitizer build catches
 * memory errors, so a crash found once stays fixed. Prints
 *   PVM-RESULT: replay-TARGET: N passed, 0 failed, 0 skipped
 * (a failing input aborts the program, which fails the test). */
#include <dirent.h>
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#ifndef PVM_FUZZ_TARGET
#error "PVM_FUZZ_TARGET (the target's name, e.g. \"form\") must be defined"
#endif
#ifndef PVM_FUZZ_DIR
#error "PVM_FUZZ_DIR (the source directory tests/fuzz) must be defined"
#endif

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* Runs the target on one file; -1 when it cannot be read. */
static int replay_file(const char *path)
{
    FILE *f = fopen(path, "rb");
    if (!f) {
        fprintf(stderr, "replay: %s: %s\n", path, strerror(errno));
        return -1;
    }
    size_t cap = 4096, len = 0;
    uint8_t *buf = malloc(cap);
    size_t n;
    while (buf && (n = fread(buf + len, 1, cap - len, f)) > 0) {
        len += n;
        if (len == cap) {
            uint8_t *b = realloc(buf, cap *= 2);
            if (!b)
                free(buf);
            buf = b;
        }
    }
    fclose(f);
    if (!buf) {
        fprintf(stderr, "replay: %s: out of memory\n", path);
        return -1;
    }
    /* A private copy of exactly len bytes, as libFuzzer passes it (so
     * that the sanitizers see reads past the end). */
    uint8_t *copy = malloc(len ? len : 1);
    if (!copy) {
        free(buf);
        return -1;
    }
    memcpy(copy, buf, len);
    free(buf);
    fprintf(stderr, "replay %s: %s (%zu bytes)\n", PVM_FUZZ_TARGET, path, len);
    LLVMFuzzerTestOneInput(copy, len);
    free(copy);
    return 0;
}

static int by_name(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

/* Replays every regular file of dir in name order; counts them in *n.
 * A missing directory is fine (no regressions yet). */
static int replay_dir(const char *dir, size_t *n)
{
    DIR *d = opendir(dir);
    if (!d)
        return errno == ENOENT ? 0 : -1;
    char **names = NULL;
    size_t count = 0, cap = 0;
    int rc = 0;
    struct dirent *e;
    while ((e = readdir(d))) {
        if (e->d_name[0] == '.')
            continue;
        if (count == cap) {
            char **nn = realloc(names,
                                (cap = cap ? cap * 2 : 64) * sizeof(*names));
            if (!nn) {
                rc = -1;
                break;
            }
            names = nn;
        }
        if (!(names[count] = malloc(strlen(dir) + strlen(e->d_name) + 2))) {
            rc = -1;
            break;
        }
        sprintf(names[count++], "%s/%s", dir, e->d_name);
    }
    closedir(d);
    if (count)
        qsort(names, count, sizeof(*names), by_name);
    for (size_t i = 0; i < count; i++) {
        struct stat st;
        if (rc == 0 && stat(names[i], &st) == 0 && S_ISREG(st.st_mode)) {
            if (replay_file(names[i]) < 0)
                rc = -1;
            else
                (*n)++;
        }
        free(names[i]);
    }
    free(names);
    return rc;
}

int main(int argc, char **argv)
{
    size_t n = 0;
    int rc = 0;
    if (argc > 1) {
        for (int i = 1; i < argc && rc == 0; i++) {
            struct stat st;
            if (stat(argv[i], &st) == 0 && S_ISDIR(st.st_mode))
                rc = replay_dir(argv[i], &n);
            else if ((rc = replay_file(argv[i])) == 0)
                n++;
        }
    } else {
        static const char *const kinds[] = {"corpus", "regressions"};
        for (size_t k = 0; k < 2 && rc == 0; k++) {
            char dir[4096];
            snprintf(dir, sizeof(dir), "%s/%s/%s", PVM_FUZZ_DIR, kinds[k],
                     PVM_FUZZ_TARGET);
            rc = replay_dir(dir, &n);
        }
    }
    printf("PVM-RESULT: replay-%s: %zu passed, %d failed, 0 skipped\n",
           PVM_FUZZ_TARGET, rc == 0 ? n : 0, rc == 0 ? 0 : 1);
    return rc == 0 && n > 0 ? 0 : 1;
}
