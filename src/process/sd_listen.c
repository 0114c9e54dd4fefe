/* sd_listen.c: systemd socket activation (see sd_listen.h). */
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include <pvm/plugin.h>

#include "sd_listen.h"

#define SD_LISTEN_FDS_START 3

/* Parses a positive decimal number; -1 when s is not one. */
static long parse_pos(const char *s)
{
    char *end;
    if (!s || !*s)
        return -1;
    long v = strtol(s, &end, 10);
    return *end || v <= 0 ? -1 : v;
}

int pvm_sd_listen(pvm_error *err)
{
    const char *pid_s = getenv("LISTEN_PID");
    const char *fds_s = getenv("LISTEN_FDS");
    if (!pid_s || !fds_s)
        return 0;
    long pid = parse_pos(pid_s), n = parse_pos(fds_s);
    unsetenv("LISTEN_PID");
    unsetenv("LISTEN_FDS");
    unsetenv("LISTEN_FDNAMES");
    if (pid != (long)getpid())
        return 0; /* meant for another process (e.g. our parent) */
    if (n < 1 || n > 64)
        return pvm_error_set(err, PVM_ERR_BAD_DATA,
                             "socket activation: invalid LISTEN_FDS '%s'",
                             fds_s);
    int type;
    socklen_t len = sizeof(type);
    if (getsockopt(SD_LISTEN_FDS_START, SOL_SOCKET, SO_TYPE, &type, &len) <
            0 ||
        type != SOCK_STREAM)
        return pvm_error_set(err, PVM_ERR_BAD_DATA,
                             "socket activation: fd 3 is not a stream "
                             "socket");
    if (dup2(SD_LISTEN_FDS_START, 0) < 0)
        return pvm_error_set(err, PVM_ERR_INTERNAL,
                             "socket activation: cannot move fd 3 to 0");
    close(SD_LISTEN_FDS_START);
    fcntl(0, F_SETFD, 0); /* fd 0 stays open across exec, as inherited */
    if (n > 1)
        pvm_log(PVM_LOG_WARNING,
                "socket activation: %ld sockets passed, serving the first "
                "only",
                n);
    for (long i = 1; i < n; i++)
        close(SD_LISTEN_FDS_START + (int)i);
    return 1;
}
