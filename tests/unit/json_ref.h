/* json_ref.h: reference versions of pvm_format_float and
 * pvm_format_timestamp (the snprintf/strtod implementation that the fast
 * ones replaced), for comparison tests only. Same contracts as in json.h. */
#ifndef PVM_JSON_REF_H
#define PVM_JSON_REF_H

#include <stddef.h>
#include <stdint.h>

#include "json.h"

/* Go's FormatFloat(v, 'f' or 'e', -1, 64) as Prometheus writes it; see
 * pvm_format_float. */
size_t pvm_ref_format_float(char buf[PVM_FLOAT_BUFSIZE], double v);

/* Prometheus' MarshalTimestamp; see pvm_format_timestamp. */
size_t pvm_ref_format_timestamp(char buf[PVM_FLOAT_BUFSIZE], int64_t ms);

#endif
