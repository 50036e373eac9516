#ifndef CHAT_CLOCK_H
#define CHAT_CLOCK_H

#include <stddef.h>
#include <stdint.h>

/* Length of an RFC 3339 UTC time with milliseconds: 2026-11-24T11:48:14.123Z */
#define CLOCK_RFC3339_LEN 24

/*
 * Current wall-clock time in milliseconds since the Unix epoch.
 * Every stored time in the database is in this unit.
 */
int64_t clock_now_ms(void);

/*
 * Write ms (milliseconds since the epoch) as an RFC 3339 UTC string with
 * milliseconds into out (caller's buffer, >= CLOCK_RFC3339_LEN + 1 bytes).
 * Returns out; on a time that cannot be represented, out holds "".
 */
char *clock_format(int64_t ms, char *out, size_t outsz);

#endif
