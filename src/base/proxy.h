/* proxy.h: trusted front proxies ([server] trusted_proxies): a list of
 * addresses and CIDR ranges, and the client address a request stands for
 * when its peer is one of them (X-Forwarded-For, X-Real-IP), the way
 * nginx's realip module with real_ip_recursive on reads it. */
#ifndef PVM_PROXY_H
#define PVM_PROXY_H

#include <stdbool.h>
#include <stddef.h>

#include <pvm/arena.h>

/* One address range. IPv4 ranges are kept as IPv4-mapped IPv6
 * (::ffff:a.b.c.d/96+bits), so one comparison serves both families. */
typedef struct pvm_cidr {
    unsigned char addr[16]; /* network address, IPv6 form */
    int bits;               /* prefix length, 0..128 */
} pvm_cidr;

/* Parses a list of addresses and CIDRs separated by commas and/or blanks
 * ("127.0.0.1, 10.0.0.0/8 ::1 fd00::/8"). On success *out is a malloc'd
 * array the caller frees (NULL when the list is empty) and *n its length;
 * on error returns -1 with a message in why ("not an address or CIDR:
 * 'x'"). */
int pvm_cidr_list_parse(const char *s, pvm_cidr **out, size_t *n, char *why,
                        size_t whylen);

/* True when addr (textual IPv4 or IPv6; NULL or not an address: false)
 * lies in one of the n ranges of l. */
bool pvm_cidr_list_contains(const pvm_cidr *l, size_t n, const char *addr);

/* The client address of a request whose TCP peer is peer: when peer is
 * trusted, the rightmost address of xff (X-Forwarded-For, possibly NULL)
 * that is not trusted itself (the leftmost when all are), else, without
 * xff, xrealip (X-Real-IP). A header that is not a list of valid
 * addresses is ignored. Returns peer itself when it is not trusted, when
 * the list is empty or when no header applies; else an arena copy (peer
 * when out of memory). */
const char *pvm_proxy_client_addr(pvm_arena *a, const pvm_cidr *l, size_t n,
                                  const char *peer, const char *xff,
                                  const char *xrealip);

#endif
