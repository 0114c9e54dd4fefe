/* sd_listen.h: systemd socket activation without libsystemd: the sockets
 * passed with LISTEN_FDS/LISTEN_PID (sd_listen_fds(3)) start at fd 3;
 * the first is moved onto fd 0, where libfcgi and pvm_fcgi_listen(NULL)
 * expect an inherited FastCGI socket (as fcgiwrap does). */
#ifndef PVM_SD_LISTEN_H
#define PVM_SD_LISTEN_H

#include <pvm/error.h>

/* When LISTEN_PID names this process and LISTEN_FDS >= 1: moves fd 3 onto
 * fd 0, closes any further passed fds (pvm serves one socket; a warning
 * is logged) and unsets LISTEN_PID, LISTEN_FDS and LISTEN_FDNAMES so that
 * children do not see them. Returns 1 when a socket was taken over, 0
 * when the process was not socket-activated, or a negative status with
 * err (malformed variables, fd 3 not a socket). */
int pvm_sd_listen(pvm_error *err);

#endif
