/* pvm/calendar.h: proleptic Gregorian dates and days since the Unix
 * epoch, for code that turns calendar fields (a database's DATETIME, a
 * Python datetime, RFC 3339 text) into pvm's millisecond timestamps and
 * back. Exact for every int64 day count a timestamp can reach (Howard
 * Hinnant's days_from_civil and civil_from_days), without the C
 * library's time zone or time_t limits. */
#ifndef PVM_CALENDAR_H
#define PVM_CALENDAR_H

#include <stdint.h>

/* Days since 1970-01-01 of year y, month m (1-12), day d (1-31); the
 * fields are not checked (31 February is 3 March). */
int64_t pvm_days_from_civil(int64_t y, int m, int d);

/* The date of day z since 1970-01-01 (negative before it). */
void pvm_civil_from_days(int64_t z, int64_t *y, int *m, int *d);

#endif
