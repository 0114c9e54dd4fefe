/* fcgi.h: the FastCGI side: listening sockets and the accept loop of one
 * process, using only libfcgi's reentrant FCGX_*_r calls. */
#ifndef PVM_FCGI_H
#define PVM_FCGI_H

#include <signal.h>
#include <stdint.h>

#include "api.h"

/* Opens the listening socket named by spec: "HOST:PORT", "[V6ADDR]:PORT"
 * or "unix:/path". NULL spec: the socket inherited on fd 0 (checked to be
 * a listening socket). Returns the fd, or a negative status with err. */
int pvm_fcgi_listen(const char *spec, pvm_error *err);

/* Exit status of a worker that overran request_timeout (see
 * pvm_fcgi_serve). */
#define PVM_FCGI_EXIT_TIMEOUT 4

/* Answers requests on the listening socket fd one at a time until *stop
 * is set by the caller's SIGTERM/SIGINT handler. Connections are accepted
 * and held by a waiter (fcgi_wait.h) until their FastCGI request header
 * is complete ([server] request_read_timeout bounds that, keepalive_timeout
 * the idle time of a kept connection), so an idle or slow client never
 * blocks the loop. SIGTERM/SIGINT are blocked while a request is served
 * (it always finishes) and unblocked only while the loop waits; fd is made
 * non-blocking so that several processes can share it. Publishes each
 * request line in env->shm's slot env->slot (when shm is set).
 * request_timeout_ms > 0 (a forked worker only: the process ends): a
 * request running longer gets a 503 "timeout" envelope when nothing of
 * its answer was sent yet, and the process _exits with
 * PVM_FCGI_EXIT_TIMEOUT (SIGALRM is taken for this). Returns 0, or a
 * negative status when the loop could not start. */
int pvm_fcgi_serve(const pvm_api_env *env, int fd, volatile sig_atomic_t *stop,
                   int64_t request_timeout_ms);

#endif
