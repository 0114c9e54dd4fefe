/* pvm/basic_auth.h: HTTP Basic credentials of a request (the original's
 * get_credentials), for plugins that check users themselves. Defined by
 * the basic_auth plugin (plugins/basic_auth.c, in libpvmplugins.a). */
#ifndef PVM_BASIC_AUTH_H
#define PVM_BASIC_AUTH_H

#include <stddef.h>

#include <pvm/request.h>

/* Reads the user name and password of the request's
 * `Authorization: Basic BASE64(user:password)` header into the caller's
 * buffers (ulen and plen bytes, NUL-terminated; the password is the part
 * after the first colon and may contain colons). Returns 0, or
 *   PVM_ERR_NOT_FOUND  no Authorization header, or not the Basic scheme;
 *   PVM_ERR_BAD_DATA   bad base64, no colon, a NUL byte, or a part that
 *                      does not fit its buffer.
 * On error both buffers hold "". The scheme is matched case-insensitively
 * (RFC 7617). The function keeps no copy; wipe the password buffer
 * (explicit_bzero) when done with it. */
int pvm_basic_auth_credentials(const pvm_request *req, char *user,
                               size_t ulen, char *pass, size_t plen);

#endif
