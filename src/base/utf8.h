/* utf8.h: UTF-8 decoding, validation and encoding with Go's rules (the
 * one copy in the project): overlong forms, surrogates (U+D800..U+DFFF),
 * code points above U+10FFFF and cut sequences are invalid. */
#ifndef PVM_BASE_UTF8_H
#define PVM_BASE_UTF8_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* The replacement character U+FFFD, as UTF-8. */
#define PVM_UTF8_REPLACEMENT "\xEF\xBF\xBD"

/* Decodes the code point at s (n > 0 bytes) into *cp. Returns its width
 * (1..4), or 0 for an invalid sequence (*cp untouched). Constant time. */
size_t pvm_utf8_decode(const char *s, size_t n, uint32_t *cp);

/* Decodes like Go's utf8.DecodeRune: returns the width (1..4) and the code
 * point in *r; an invalid sequence gives width 1 and U+FFFD. n > 0. */
size_t pvm_utf8_decode_rune(const char *s, size_t n, int32_t *r);

/* Offset of the first byte of s[0..n) that starts no valid sequence, or n
 * when all of s is valid UTF-8. Linear. */
size_t pvm_utf8_invalid_at(const char *s, size_t n);

/* True when s[0..n) is valid UTF-8. */
bool pvm_utf8_is_valid(const char *s, size_t n);

/* Writes code point r into out (room for 4 bytes) and returns the bytes
 * written; negative values, surrogates and values above U+10FFFF are
 * written as U+FFFD, as Go's utf8.EncodeRune does. */
size_t pvm_utf8_encode(int32_t r, char *out);

#endif
