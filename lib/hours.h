#ifndef CHAT_HOURS_H
#define CHAT_HOURS_H

#include <stddef.h>
#include <stdint.h>

#include <jansson.h>

/*
 * Business hours: when the chat is staffed, in the local time of one
 * IANA time zone (CHAT_HOURS and CHAT_TIMEZONE).
 *
 * CHAT_HOURS is a comma-separated list of entries. An entry is a day
 * (mon tue wed thu fri sat sun, any case) or a range of days (mon-fri;
 * fri-mon wraps over the weekend), then one or more opening times
 * HH:MM-HH:MM, or the word closed. A closing time before the opening
 * time is on the next day (fri 22:00-02:00 runs into Saturday); 24:00 is
 * midnight at the end of the day. Several entries may name one day; their
 * hours add up. "closed" says a day has no hours opening on it and may
 * not be combined with hours opening on that day. An empty CHAT_HOURS
 * means always open.
 *
 *     mon-fri 09:00-17:30, sat 10:00-14:00, sun closed
 *     mon-fri 09:00-12:00 13:00-17:00
 *     mon-thu 08:00-18:00, fri 08:00-24:00, sat 00:00-02:00
 *
 * Local time is resolved by one rule: an opening or closing time is the
 * first instant at which the zone's clock reads that time or later. On the
 * day the clocks go forward, a time in the skipped hour is therefore the
 * instant of the change (Europe/Berlin, last Sunday of March: 02:30 is
 * 03:00 CEST); hours lying wholly in the skipped hour do not open that
 * day. On the day the clocks go back, a time that the clock reads twice
 * is its first reading (Europe/Berlin, last Sunday of October: 02:30 is
 * 02:30 CEST). Hours are measured in real time: hours that span a change
 * are an hour shorter or longer (sun 00:00-24:00 lasts 23 or 25 hours).
 *
 * hours_open_at() sets the process's TZ variable to the zone and calls
 * tzset(): our programs are single-threaded and nothing else in them uses
 * local time (every other time is UTC, gmtime_r/timegm).
 */

#define HOURS_MAX	64	/* intervals a week, after the ranges of days are spread */
#define HOURS_ZONE_MAX	64	/* bytes of a zone name, with its NUL */

/*
 * Parsed hours. Fixed size, no allocation: copy it, keep it on the stack.
 * The members belong to this module; read them only through the functions.
 */
struct hours {
	char zone[HOURS_ZONE_MAX];		/* the IANA name */
	char tz[HOURS_ZONE_MAX + 24];		/* TZ for glibc: ":" and the zone file's path */
	int always_open;			/* open at every instant */
	int n;					/* intervals in iv */
	struct {
		int start;			/* minutes after Monday 00:00, 0 to 10079 */
		int end;			/* minutes after that Monday 00:00, > start, <= start + 10080 */
	} iv[HOURS_MAX];			/* sorted by start, apart on the weekly circle */
};

/*
 * Parse spec (CHAT_HOURS, NULL or "" = always open) in zone tz
 * (CHAT_TIMEZONE, an IANA name such as Europe/Berlin; NULL or "" = UTC)
 * into out (output). The zone must be a time zone file under
 * /usr/share/zoneinfo: an unknown name is refused, not taken as UTC.
 * Returns 0, or -1 with err (caller's buffer, NUL-terminated) naming the
 * variable, the bad entry and what is wrong with it, e.g.
 *   CHAT_HOURS: "mon-fry 09:00-17:00": unknown day "fry" (mon tue wed thu fri sat sun)
 * out is then unusable.
 */
int hours_parse(const char *spec, const char *tz, struct hours *out,
    char *err, size_t errsz);

/* 1 if the hours are open at every instant (no hours, or all week long), else 0. */
int hours_always_open(const struct hours *h);

/*
 * Whether the chat is within its hours at ms (UTC, milliseconds since the
 * epoch): 1 open, 0 closed. *next_change (output, may be NULL) is the next
 * instant after ms (ms) at which that answer changes: the closing time
 * when open, the next opening when closed; 0 when it never changes (always
 * open, or every day closed). Sets TZ (see above); returns -1 only when
 * it cannot (out of memory).
 */
int hours_open_at(const struct hours *h, int64_t ms, int64_t *next_change);

/*
 * The weekly table for the visitor page, in the zone's local time: a new
 * array of {"day":"mon","open":"09:00","close":"17:30"}, Monday first, in
 * order of opening. A close at or before its open is on the next day
 * ("fri" "22:00" "02:00"); "24:00" is midnight at the end of the day.
 * Hours of a day or more are cut at each midnight (mon-sun 00:00-24:00 is
 * seven rows). Empty when CHAT_HOURS is empty (always open) or every day
 * is closed: hours_always_open() tells them apart.
 * Returns NULL only when out of memory.
 */
json_t *hours_json(const struct hours *h);

#endif
