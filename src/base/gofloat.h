/* gofloat.h: numbers written as Go and Prometheus write them, the one
 * copy in the project: shortest round-trip digits (Schubfach), Go's
 * strconv.FormatFloat(v, 'f' | 'g', -1, 64), Prometheus' sample text and
 * MarshalTimestamp, and plain integers. All functions are thread-safe
 * (a table of powers of ten is built once, at first use). */
#ifndef PVM_BASE_GOFLOAT_H
#define PVM_BASE_GOFLOAT_H

#include <stddef.h>
#include <stdint.h>

#define PVM_FLOAT_BUFSIZE 32    /* room for pvm_format_float */
#define PVM_FLOAT_F_BUFSIZE 400 /* room for any double in 'f' form */

/* Writes v (no quotes) as Go's strconv.FormatFloat(v, 'f', -1, 64), but in
 * 'e' form (exponent with sign and at least two digits) when v != 0 and
 * |v| < 1e-6 or |v| >= 1e21, as Prometheus does; "NaN", "+Inf", "-Inf",
 * "-0". Digits are the shortest that read back as v. NUL-terminates buf;
 * returns the length (< PVM_FLOAT_BUFSIZE). */
size_t pvm_format_float(char buf[PVM_FLOAT_BUFSIZE], double v);

/* Writes ms as Prometheus' MarshalTimestamp does: seconds, and three
 * decimals when ms is not a whole second ("1.500", "-0.001", "1700000000").
 * NUL-terminates buf; returns the length. */
size_t pvm_format_timestamp(char buf[PVM_FLOAT_BUFSIZE], int64_t ms);

/* Go's strconv.FormatFloat(v, 'f', -1, 64): shortest digits, never an
 * exponent (1e21 is "1000000000000000000000"); "NaN", "+Inf", "-Inf",
 * "-0". Writes at most size - 1 bytes and a NUL (PVM_FLOAT_F_BUFSIZE
 * always suffices); returns the full length, like snprintf. */
size_t pvm_format_float_f(char *buf, size_t size, double v);

/* Go's strconv.FormatFloat(v, 'g', -1, 64), i.e. fmt's %v/%g of a
 * float64: 'e' form ("1e+06", "1.5e-05") when the decimal exponent is
 * below -4 or at least 6 (Go's %g: shortest precision counts as 6), else
 * the 'f' form; specials as pvm_format_float_f. Same buffer contract. */
size_t pvm_format_float_g(char *buf, size_t size, double v);

/* The shortest decimal digits that read back as finite, non-zero |v|, in
 * dig (NUL-terminated, no trailing zeros) with |v| = 0.dig * 10^*dp.
 * Returns the number of digits (1..17). */
size_t pvm_float_digits(double v, char dig[20], int *dp);

/* v in decimal at p (no NUL; room for 20 / 21 bytes); returns the bytes
 * written. pvm_format_i64 writes a '-' for negatives (INT64_MIN too). */
size_t pvm_format_u64(char *p, uint64_t v);
size_t pvm_format_i64(char *p, int64_t v);

#endif
