/* proxy.c: trusted front proxies and the real client address (see
 * proxy.h). */
#include <arpa/inet.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "proxy.h"

/* Longest textual address we accept (an IPv6 address with a zone is
 * refused anyway). */
#define ADDR_MAX 64

/* Parses a textual IPv4 or IPv6 address of len bytes into IPv6 form;
 * *v4 tells which it was. 0 or -1. */
static int parse_addr(const char *s, size_t len, unsigned char out[16],
                      bool *v4)
{
    char buf[ADDR_MAX];
    if (len == 0 || len >= sizeof(buf))
        return -1;
    memcpy(buf, s, len);
    buf[len] = '\0';
    struct in_addr a4;
    if (inet_pton(AF_INET, buf, &a4) == 1) {
        static const unsigned char mapped[12] = {0, 0, 0, 0, 0,    0,
                                                 0, 0, 0, 0, 0xff, 0xff};
        memcpy(out, mapped, 12);
        memcpy(out + 12, &a4, 4);
        *v4 = true;
        return 0;
    }
    if (inet_pton(AF_INET6, buf, out) == 1) {
        *v4 = false;
        return 0;
    }
    return -1;
}

/* Zeroes the host bits of a past its prefix. */
static void mask_host(unsigned char a[16], int bits)
{
    for (int i = 0; i < 16; i++) {
        int keep = bits - i * 8;
        if (keep >= 8)
            continue;
        a[i] &= keep <= 0 ? 0 : (unsigned char)(0xff << (8 - keep));
    }
}

static int parse_cidr(const char *s, size_t len, pvm_cidr *c)
{
    const char *slash = memchr(s, '/', len);
    size_t alen = slash ? (size_t)(slash - s) : len;
    bool v4;
    if (parse_addr(s, alen, c->addr, &v4) < 0)
        return -1;
    int max = v4 ? 32 : 128, bits = max;
    if (slash) {
        const char *p = slash + 1, *end = s + len;
        if (p == end || end - p > 3)
            return -1;
        bits = 0;
        for (; p < end; p++) {
            if (*p < '0' || *p > '9')
                return -1;
            bits = bits * 10 + (*p - '0');
        }
        if (bits > max)
            return -1;
    }
    c->bits = v4 ? bits + 96 : bits;
    mask_host(c->addr, c->bits);
    return 0;
}

int pvm_cidr_list_parse(const char *s, pvm_cidr **out, size_t *n, char *why,
                        size_t whylen)
{
    size_t cap = 0, k = 0;
    pvm_cidr *l = NULL;
    *out = NULL;
    *n = 0;
    for (const char *p = s; *p;) {
        p += strspn(p, ", \t");
        size_t len = strcspn(p, ", \t");
        if (len == 0)
            continue;
        if (k == cap) {
            cap = cap ? cap * 2 : 4;
            pvm_cidr *bigger = realloc(l, cap * sizeof(*l));
            if (!bigger) {
                free(l);
                snprintf(why, whylen, "out of memory");
                return -1;
            }
            l = bigger;
        }
        if (parse_cidr(p, len, &l[k]) < 0) {
            snprintf(why, whylen,
                     "not an address or CIDR: '%.*s' (write 10.0.0.1, "
                     "10.0.0.0/8 or fd00::/8)",
                     (int)(len > 100 ? 100 : len), p);
            free(l);
            return -1;
        }
        k++;
        p += len;
    }
    *out = l;
    *n = k;
    return 0;
}

static bool in_list(const pvm_cidr *l, size_t n, const unsigned char a[16])
{
    for (size_t i = 0; i < n; i++) {
        unsigned char m[16];
        memcpy(m, a, 16);
        mask_host(m, l[i].bits);
        if (memcmp(m, l[i].addr, 16) == 0)
            return true;
    }
    return false;
}

bool pvm_cidr_list_contains(const pvm_cidr *l, size_t n, const char *addr)
{
    unsigned char a[16];
    bool v4;
    return addr && parse_addr(addr, strlen(addr), a, &v4) == 0 &&
           in_list(l, n, a);
}

/* Bounds of the address token ending at end (exclusive) in s, trimmed of
 * blanks; sets *start. */
static size_t token_before(const char *s, const char *end, const char **start)
{
    while (end > s && (end[-1] == ' ' || end[-1] == '\t'))
        end--;
    const char *b = end;
    while (b > s && b[-1] != ',')
        b--;
    while (b < end && (*b == ' ' || *b == '\t'))
        b++;
    *start = b;
    return (size_t)(end - b);
}

/* X-Forwarded-For, right to left: the first untrusted address, or the
 * leftmost. NULL when an entry is not an address. */
static const char *from_xff(pvm_arena *a, const pvm_cidr *l, size_t n,
                            const char *xff)
{
    const char *end = xff + strlen(xff), *tok = NULL;
    size_t len = 0;
    while (end > xff) {
        const char *start;
        size_t tl = token_before(xff, end, &start);
        unsigned char addr[16];
        bool v4;
        if (parse_addr(start, tl, addr, &v4) < 0)
            return NULL;
        tok = start;
        len = tl;
        if (!in_list(l, n, addr))
            break;
        end = start;
        while (end > xff && end[-1] != ',')
            end--;
        if (end > xff)
            end--; /* before the comma */
    }
    return tok ? pvm_arena_strndup(a, tok, len) : NULL;
}

const char *pvm_proxy_client_addr(pvm_arena *a, const pvm_cidr *l, size_t n,
                                  const char *peer, const char *xff,
                                  const char *xrealip)
{
    if (!n || !pvm_cidr_list_contains(l, n, peer))
        return peer;
    const char *client = NULL;
    if (xff && *xff)
        client = from_xff(a, l, n, xff);
    else if (xrealip && *xrealip) {
        unsigned char addr[16];
        bool v4;
        const char *s = xrealip + strspn(xrealip, " \t");
        size_t len = strcspn(s, " \t");
        if (parse_addr(s, len, addr, &v4) == 0)
            client = pvm_arena_strndup(a, s, len);
    }
    return client ? client : peer;
}
