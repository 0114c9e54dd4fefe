/* params.h: Prometheus API parameter parsing (times, durations, limits),
 * with Prometheus' messages; values in milliseconds. Callers prefix the
 * messages with the parameter, e.g. `invalid parameter "start": `. */
#ifndef PVM_PARAMS_H
#define PVM_PARAMS_H

#include <stddef.h>
#include <stdint.h>

#include <pvm/error.h>

/* Prometheus' MinTime and MaxTime (web/api/v1) in ms, as
 * timestamp.FromTime gives them: what their RFC 3339 texts below parse
 * to. */
#define PVM_PARAMS_MIN_TIME_MS (-9223309901257974000LL)
#define PVM_PARAMS_MAX_TIME_MS (9223309901257974999LL)

/* Their RFC 3339 text, which parse to the values above. */
#define PVM_MIN_TIME_STRING "-292273086-05-16T16:47:06Z"
#define PVM_MAX_TIME_STRING "292277025-08-18T07:12:54.999999999Z"

/* Parses a time as Prometheus' parseTime: float seconds in Go's
 * ParseFloat syntax ("4", "1732480012.345", "-1.5", "1e3", "0x1p-2"), the
 * fraction rounded to ms half away from zero; or RFC 3339 with optional
 * fraction and zone ("2024-11-24T20:30:00Z", "...T21:30:00.5+01:00"); or
 * PVM_MIN/MAX_TIME_STRING. NaN, infinities and times outside the int64 ms
 * range fail like garbage: PVM_ERR_BAD_DATA,
 *   cannot parse "abc" to a valid timestamp                              */
int pvm_parse_time(const char *s, int64_t *ms, pvm_error *err);

/* Parses a duration as Prometheus' parseDuration: float seconds (then
 * truncated to ns, then to ms: "1e-9" gives 0, "0.5" 500) or a Prometheus
 * duration ("1m30s"). Errors (PVM_ERR_BAD_DATA):
 *   cannot parse "x" to a valid duration
 *   cannot parse "1e300" to a valid duration. It overflows int64         */
int pvm_parse_duration(const char *s, int64_t *ms, pvm_error *err);

/* Prometheus' duration syntax (model.ParseDuration): "0", or integers
 * with units y w d h m s ms, largest first, each at most once ("1h30m",
 * "500ms", "1w2d"), at most 2^63-1 ns. Returns 0 with *ms set, or
 * PVM_ERR_BAD_DATA. */
int pvm_parse_prom_duration(const char *s, size_t len, int64_t *ms);

/* Same, with model.ParseDuration's messages in err: `not a valid duration
 * string: "1x1"`, `unknown unit "x" in duration "1x"`, "duration out of
 * range", "empty duration string". */
int pvm_parse_prom_duration_err(const char *s, size_t len, int64_t *ms,
                                pvm_error *err);

/* Writes ms as model.Duration.String() ("1h30m", "5m", "500ms", "0s",
 * "1y", "2w", "-5m"; years and weeks only when nothing smaller remains, so
 * 9 days is "9d", not "1w2d") into buf (n bytes, 32 is enough). Returns the
 * length (truncated output when n is too small, always NUL-terminated
 * when n > 0). */
size_t pvm_format_duration(char *buf, size_t n, int64_t ms);

/* Parses the limit parameter as Prometheus' parseLimitParam: NULL or ""
 * gives 0 (no limit); otherwise a decimal integer (Go's strconv.Atoi,
 * optional sign). Errors (PVM_ERR_BAD_DATA): "limit must be a number",
 * "limit must be non-negative". */
int pvm_parse_limit(const char *s, size_t *out, pvm_error *err);

#endif
