/* basic_auth.h: the challenge of a refused request, shared by the
 * basic_auth type (basic_auth.c) and the python type's BasicAuthPlugin
 * (python_response.c), so that both answer 401 the same way. */
#ifndef PVM_BASIC_AUTH_H
#define PVM_BASIC_AUTH_H

/* The realm when none is set. */
#define PVM_BASIC_AUTH_REALM "pvm"

/* Longest realm, bytes (without the NUL). */
#define PVM_BASIC_AUTH_REALM_MAX 127

/* printf format of the WWW-Authenticate value, with the realm (1 to
 * PVM_BASIC_AUTH_REALM_MAX bytes, without " or \). */
#define PVM_BASIC_AUTH_CHALLENGE "Basic realm=\"%s\""

#endif
