/* xor.c: XOR chunks and stream frames for remote read (see xor.h). The
 * bit layout is Prometheus' chunkenc.XORChunk: a 2-byte big-endian sample
 * count, the first timestamp as a varint and its value as 64 bits, the
 * second timestamp as a uvarint delta, then delta-of-deltas in 1, 16, 20,
 * 24 or 68 bits; values are XORed with the previous one and written with
 * the leading/trailing zero counts of Gorilla. */
#include <string.h>

#include "remote/xor.h"

/* A bit writer over a buffer big enough for the whole chunk. */
typedef struct bitbuf {
    uint8_t *b;    /* the bytes */
    size_t n;      /* whole bytes written */
    int free_bits; /* bits still free in b[n - 1] (0..7) */
} bitbuf;

static void put_bit(bitbuf *w, int bit)
{
    if (w->free_bits == 0) {
        w->b[w->n++] = 0;
        w->free_bits = 8;
    }
    if (bit)
        w->b[w->n - 1] |= (uint8_t)(1u << (w->free_bits - 1));
    w->free_bits--;
}

/* Writes the low nbits of v, most significant first. */
static void put_bits(bitbuf *w, uint64_t v, int nbits)
{
    for (int i = nbits - 1; i >= 0; i--)
        put_bit(w, (int)((v >> i) & 1));
}

static void put_byte(bitbuf *w, uint8_t byte)
{
    put_bits(w, byte, 8);
}

static size_t uvarint(uint8_t *buf, uint64_t v)
{
    size_t n = 0;
    while (v >= 0x80) {
        buf[n++] = (uint8_t)(v | 0x80);
        v >>= 7;
    }
    buf[n++] = (uint8_t)v;
    return n;
}

/* Go's binary.PutVarint: zig-zag, then uvarint. */
static size_t varint(uint8_t *buf, int64_t v)
{
    uint64_t u = (uint64_t)v << 1;
    if (v < 0)
        u = ~u;
    return uvarint(buf, u);
}

static uint64_t float_bits(double v)
{
    uint64_t u;
    memcpy(&u, &v, sizeof(u));
    return u;
}

/* True when x fits the nbits-bit range of a delta-of-delta
 * (Prometheus' bitRange). */
static int bit_range(int64_t x, int nbits)
{
    return -((1LL << (nbits - 1)) - 1) <= x && x <= (1LL << (nbits - 1));
}

/* Writes value v after prev (Prometheus' xorWrite). */
static void put_value(bitbuf *w, double v, double prev, uint8_t *leading,
                      uint8_t *trailing)
{
    uint64_t delta = float_bits(v) ^ float_bits(prev);
    if (delta == 0) {
        put_bit(w, 0);
        return;
    }
    put_bit(w, 1);
    uint8_t lead = (uint8_t)__builtin_clzll(delta);
    uint8_t trail = (uint8_t)__builtin_ctzll(delta);
    if (lead >= 32)
        lead = 31;
    if (*leading != 0xff && lead >= *leading && trail >= *trailing) {
        put_bit(w, 0);
        put_bits(w, delta >> *trailing, 64 - *leading - *trailing);
        return;
    }
    *leading = lead;
    *trailing = trail;
    put_bit(w, 1);
    put_bits(w, lead, 5);
    int sig = 64 - lead - trail;
    put_bits(w, (uint64_t)sig, 6); /* 64 is written as 0 */
    put_bits(w, delta >> trail, sig);
}

uint8_t *pvm_xor_encode(pvm_arena *a, const pvm_point *p, size_t n,
                        size_t *len)
{
    /* header, first sample (varint + 64 bits), then at most 68 + 77 bits
     * per sample */
    uint8_t *buf = pvm_arena_alloc(a, 2 + 10 + 8 + n * 19 + 8);
    if (!buf)
        return NULL;
    bitbuf w = {.b = buf, .n = 2, .free_bits = 0};
    buf[0] = (uint8_t)(n >> 8);
    buf[1] = (uint8_t)n;
    uint8_t tmp[10], leading = 0xff, trailing = 0;
    uint64_t tdelta = 0;
    for (size_t i = 0; i < n; i++) {
        if (i == 0) {
            size_t k = varint(tmp, p[0].t);
            for (size_t j = 0; j < k; j++)
                put_byte(&w, tmp[j]);
            put_bits(&w, float_bits(p[0].v), 64);
            continue;
        }
        uint64_t d = (uint64_t)p[i].t - (uint64_t)p[i - 1].t;
        if (i == 1) {
            size_t k = uvarint(tmp, d);
            for (size_t j = 0; j < k; j++)
                put_byte(&w, tmp[j]);
        } else {
            int64_t dod = (int64_t)(d - tdelta);
            if (dod == 0) {
                put_bit(&w, 0);
            } else if (bit_range(dod, 14)) {
                put_bits(&w, 0x2, 2);
                put_bits(&w, (uint64_t)dod, 14);
            } else if (bit_range(dod, 17)) {
                put_bits(&w, 0x6, 3);
                put_bits(&w, (uint64_t)dod, 17);
            } else if (bit_range(dod, 20)) {
                put_bits(&w, 0xe, 4);
                put_bits(&w, (uint64_t)dod, 20);
            } else {
                put_bits(&w, 0xf, 4);
                put_bits(&w, (uint64_t)dod, 64);
            }
        }
        tdelta = d;
        put_value(&w, p[i].v, p[i - 1].v, &leading, &trailing);
    }
    *len = w.n;
    return buf;
}

/* ---- CRC32C ------------------------------------------------------------ */

static uint32_t crc_table[256];
static int crc_ready;

static void crc_init(void)
{
    for (uint32_t i = 0; i < 256; i++) {
        uint32_t c = i;
        for (int k = 0; k < 8; k++)
            c = c & 1 ? 0x82f63b78u ^ (c >> 1) : c >> 1;
        crc_table[i] = c;
    }
    crc_ready = 1;
}

uint32_t pvm_crc32c(const void *data, size_t len)
{
    if (!crc_ready) /* idempotent: a race writes the same table */
        crc_init();
    const uint8_t *p = data;
    uint32_t c = 0xffffffffu;
    for (size_t i = 0; i < len; i++)
        c = crc_table[(c ^ p[i]) & 0xff] ^ (c >> 8);
    return c ^ 0xffffffffu;
}

size_t pvm_frame_header(uint8_t *buf, const void *data, size_t len)
{
    size_t n = uvarint(buf, len);
    uint32_t crc = pvm_crc32c(data, len);
    buf[n++] = (uint8_t)(crc >> 24);
    buf[n++] = (uint8_t)(crc >> 16);
    buf[n++] = (uint8_t)(crc >> 8);
    buf[n++] = (uint8_t)crc;
    return n;
}
