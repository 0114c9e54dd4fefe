/* fcgi_wait.h: what a worker waits on between requests: the listening
 * socket, new connections whose FastCGI request header is still arriving
 * and connections the web server keeps open (FCGI_KEEP_CONN). Hands the
 * worker a connection only once its whole request header (BEGIN_REQUEST
 * and the PARAMS stream) is in the socket, so that libfcgi never blocks
 * reading it: an idle or half-sent connection costs a slot, not a worker. */
#ifndef PVM_FCGI_WAIT_H
#define PVM_FCGI_WAIT_H

#include <signal.h>
#include <stddef.h>
#include <stdint.h>

/* Connections one worker holds at most (new and kept ones together);
 * beyond, the one idle for the longest time (at least 1 s) is closed, or
 * when all are younger, no more are accepted until a slot frees. */
#define PVM_FCGI_MAX_CONNS 64

/* Largest FastCGI request header accepted (records up to the end of the
 * PARAMS stream), bytes. */
#define PVM_FCGI_MAX_HEADER (128 * 1024)

/* Results of pvm_fcgi_header_scan. */
#define PVM_FCGI_HEADER_PARTIAL 0  /* more bytes needed */
#define PVM_FCGI_HEADER_COMPLETE 1 /* a request header is complete */
#define PVM_FCGI_HEADER_BAD (-1)   /* not FastCGI, or not a responder */

/* pvm_fcgi_waiter_next: no connection left and told to stop. */
#define PVM_FCGI_WAIT_DONE (-1)

typedef struct pvm_fcgi_waiter pvm_fcgi_waiter;

/* Scans the bytes a connection received so far (buf, len): COMPLETE when
 * they hold a BEGIN_REQUEST of the responder role and every record up to
 * the empty PARAMS record of that request (*need: the bytes libfcgi will
 * read to parse the header), PARTIAL when more bytes are needed (*need:
 * how many at least before a new scan can progress), BAD for a protocol
 * error (libfcgi would drop the connection). Management records and
 * records of other requests are skipped as libfcgi skips them. Pure;
 * cost linear in the number of records. */
int pvm_fcgi_header_scan(const unsigned char *buf, size_t len, size_t *need);

/* A waiter on the listening socket listen_fd (non-blocking, shared with
 * other workers): new connections are closed when their request header
 * is not complete read_timeout_ms after the accept; kept connections are
 * closed after keepalive_timeout_ms without a request, or read_timeout_ms
 * after the first byte of a request that does not complete. TCP peers
 * not listed in FCGI_WEB_SERVER_ADDRS (read now), when set, are refused
 * as libfcgi refused them. NULL when out of memory or descriptors (errno
 * set). */
pvm_fcgi_waiter *pvm_fcgi_waiter_new(int listen_fd, int64_t read_timeout_ms,
                                     int64_t keepalive_timeout_ms);

/* Closes every connection still held; w may be NULL. */
void pvm_fcgi_waiter_free(pvm_fcgi_waiter *w);

/* Waits until a connection holds a complete request header and returns
 * its fd (blocking mode; the caller owns it). wait_mask is the signal mask
 * during the wait (the stop signals unblocked, atomically as ppoll does).
 * Once *stop is set: accepts nothing more, closes the kept connections
 * with nothing pending, still serves the new ones whose header completes
 * in time, and returns PVM_FCGI_WAIT_DONE when none is left. Other
 * negative values: accept(2) or epoll failed (errno set). */
int pvm_fcgi_waiter_next(pvm_fcgi_waiter *w, const sigset_t *wait_mask,
                         volatile sig_atomic_t *stop);

/* Takes back fd after a request the web server asked to keep the
 * connection for: the next request on it is awaited like a new one. */
void pvm_fcgi_waiter_keep(pvm_fcgi_waiter *w, int fd);

#endif
