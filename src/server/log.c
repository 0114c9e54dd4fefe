/* log.c: the logger of the server and of plugins (see pvm_log in
 * pvm/plugin.h and the settings in log.h). One line per message on
 * stderr, "2026-11-24T22:30:00.123Z pvm-fcgi[PID] info: message", built in
 * a local buffer and written with a single write(2) so that lines of
 * concurrent processes never interleave. */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>
#include <time.h>
#include <unistd.h>

#include <pvm/plugin.h>

#include "log.h"

/* Longest line written, newline included; longer messages are cut and end
 * in "...". At most PIPE_BUF, so a write to a pipe is atomic. */
#define LOG_LINE_MAX 4096

static void log_line(pvm_log_level level, const char *plugin, const char *fmt,
                     va_list ap) PVM_PRINTF(3, 0);

/* The global level: messages above it are dropped. */
static pvm_log_level log_level = PVM_LOG_INFO;

static const char *const log_level_names[] = {
    [PVM_LOG_ERROR] = "error",
    [PVM_LOG_WARNING] = "warning",
    [PVM_LOG_INFO] = "info",
    [PVM_LOG_DEBUG] = "debug",
};

void pvm_log_set_level(pvm_log_level level)
{
    if (level >= PVM_LOG_ERROR && level <= PVM_LOG_DEBUG)
        log_level = level;
}

pvm_log_level pvm_log_get_level(void)
{
    return log_level;
}

bool pvm_log_is_enabled(pvm_log_level level)
{
    return level <= log_level;
}

/* Accepts the four names, case-insensitively ("warn" too). */
int pvm_log_level_parse(const char *s, pvm_log_level *out)
{
    if (!s)
        return PVM_ERR_BAD_DATA;
    for (int i = PVM_LOG_ERROR; i <= PVM_LOG_DEBUG; i++) {
        if (strcasecmp(s, log_level_names[i]) == 0) {
            *out = (pvm_log_level)i;
            return 0;
        }
    }
    if (strcasecmp(s, "warn") == 0) {
        *out = PVM_LOG_WARNING;
        return 0;
    }
    return PVM_ERR_BAD_DATA;
}

const char *pvm_log_level_name(pvm_log_level level)
{
    if (level >= PVM_LOG_ERROR && level <= PVM_LOG_DEBUG)
        return log_level_names[level];
    return "unknown";
}

void pvm_logv(pvm_log_level level, const char *fmt, va_list ap)
{
    log_line(level, NULL, fmt, ap);
}

void pvm_log(pvm_log_level level, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    log_line(level, NULL, fmt, ap);
    va_end(ap);
}

void pvm_plugin_log(const pvm_plugin *self, pvm_log_level level,
                    const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    log_line(level, self ? pvm_plugin_name(self) : NULL, fmt, ap);
    va_end(ap);
}

/* Formats "TIME pvm-fcgi[PID] LEVEL: [plugin NAME: ]MESSAGE\n" into a
 * local buffer and writes it at once. Control characters of the message
 * (a newline in a plugin's error text) become spaces, so one call is one
 * line. Errors of write(2) are ignored: there is nowhere to report them. */
static void log_line(pvm_log_level level, const char *plugin, const char *fmt,
                     va_list ap)
{
    if (!pvm_log_is_enabled(level))
        return;

    int saved_errno = errno; /* callers may log, then use errno */
    char buf[LOG_LINE_MAX];
    size_t cap = sizeof(buf) - 1; /* room for the newline */
    struct timespec ts;
    struct tm tm;
    clock_gettime(CLOCK_REALTIME, &ts);
    gmtime_r(&ts.tv_sec, &tm);

    size_t n = strftime(buf, cap, "%Y-%m-%dT%H:%M:%S", &tm);
    int w = snprintf(buf + n, cap - n,
                     ".%03ldZ pvm-fcgi[%ld] %s: ", ts.tv_nsec / 1000000L,
                     (long)getpid(), pvm_log_level_name(level));
    n += (w > 0 && (size_t)w < cap - n) ? (size_t)w : 0;
    if (plugin) {
        w = snprintf(buf + n, cap - n, "plugin %s: ", plugin);
        n += (w > 0 && (size_t)w < cap - n) ? (size_t)w : cap - n - 1;
    }

    size_t msg_start = n;
    w = vsnprintf(buf + n, cap - n, fmt, ap);
    if (w < 0) {
        w = 0;
        buf[n] = '\0';
    }
    if ((size_t)w >= cap - n) {
        n = cap;
        memcpy(buf + n - 3, "...", 3);
    } else {
        n += (size_t)w;
    }
    for (size_t i = msg_start; i < n; i++)
        if ((unsigned char)buf[i] < 0x20 && buf[i] != '\t')
            buf[i] = ' ';
    buf[n++] = '\n';

    size_t off = 0;
    while (off < n) {
        ssize_t r = write(STDERR_FILENO, buf + off, n - off);
        if (r < 0 && errno == EINTR)
            continue;
        if (r <= 0)
            break;
        off += (size_t)r;
    }
    errno = saved_errno;
}
