/* fcgi.h: the FastCGI side: listening sockets and the accept loop of one
 * process, using only libfcgi's reentrant FCGX_*_r calls. */
#ifndef PVM_FCGI_H
#define PVM_FCGI_H

#include <signal.h>

#include "api.h"

/* Opens the listening socket named by spec: "HOST:PORT", "[V6ADDR]:PORT"
 * or "unix:/path". NULL spec: the socket inherited on fd 0 (checked to be
 * a listening socket). Returns the fd, or a negative status with err. */
int pvm_fcgi_listen(const char *spec, pvm_error *err);

/* Accepts and answers requests on fd one at a time until *stop is set by
 * the caller's SIGTERM/SIGINT handler. Those two signals are blocked while
 * a request is served (it always finishes) and unblocked only while the
 * loop waits for a connection; fd is made non-blocking so that several
 * processes can share it. Publishes each request line in env->shm's slot
 * env->slot (when shm is set). Returns 0, or a negative status when the
 * loop could not start. */
int pvm_fcgi_serve(const pvm_api_env *env, int fd,
                   volatile sig_atomic_t *stop);

/* Async-signal-safe: makes a blocked accept return so the loop sees the
 * stop flag. */
void pvm_fcgi_request_stop(void);

#endif
