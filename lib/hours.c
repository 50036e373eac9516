#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "hours.h"

#define DAY_MIN		1440
#define WEEK_MIN	(7 * DAY_MIN)
#define DAY_S		86400
#define ZONE_DIR	"/usr/share/zoneinfo"
#define QUOTE_MAX	80	/* bytes of an entry quoted in a message */

static const char *const day_names[7] = {
	"mon", "tue", "wed", "thu", "fri", "sat", "sun"
};

struct span {
	int start, end;		/* minutes after Monday 00:00 */
};

/* A word of an entry: a day, "closed", a time, or "-". */
struct tok {
	const char *s;
	int len;		/* 0 at the end of the entry */
};

struct parse {
	const char *entry;	/* the entry being read, for messages */
	int entry_len;
	unsigned open_days;	/* a bit per day with hours opening on it */
	unsigned closed_days;	/* a bit per day said to be closed */
	int n;
	struct span raw[HOURS_MAX];	/* as written, an end may pass Sunday midnight */
	char *err;
	size_t errsz;
};

static int
is_blank(char c)
{
	return c == ' ' || c == '\t' || c == '\r' || c == '\n';
}

static int
is_digit(char c)
{
	return c >= '0' && c <= '9';
}

static int
is_alpha(char c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z');
}

/* The next word of [*p, end) (one entry): "-" alone, or a run of anything but blanks and "-". */
static struct tok
next_tok(const char **p, const char *end)
{
	struct tok t;

	while (*p < end && is_blank(**p))
		(*p)++;
	t.s = *p;
	if (*p < end && **p == '-')
		(*p)++;
	else
		while (*p < end && !is_blank(**p) && **p != '-')
			(*p)++;
	t.len = (int)(*p - t.s);
	return t;
}

static int
tok_is(struct tok t, const char *word)
{
	return (size_t)t.len == strlen(word) &&
	    strncasecmp(t.s, word, (size_t)t.len) == 0;
}

__attribute__((format(printf, 2, 3)))
static int
fail(struct parse *ps, const char *fmt, ...)
{
	va_list ap;
	int n;

	n = snprintf(ps->err, ps->errsz, "CHAT_HOURS: \"%.*s%s\": ",
	    ps->entry_len > QUOTE_MAX ? QUOTE_MAX : ps->entry_len, ps->entry,
	    ps->entry_len > QUOTE_MAX ? "..." : "");
	if (n < 0 || (size_t)n >= ps->errsz)
		return -1;
	va_start(ap, fmt);
	vsnprintf(ps->err + n, ps->errsz - (size_t)n, fmt, ap);
	va_end(ap);
	return -1;
}

/* The day of t, 0 (mon) to 6 (sun), or -1 with the message said. */
static int
read_day(struct parse *ps, struct tok t)
{
	int d;

	for (d = 0; d < 7; d++)
		if (tok_is(t, day_names[d]))
			return d;
	if (t.len == 0)
		return fail(ps, "a range of days needs its last day (mon-fri)");
	if (is_digit(t.s[0]))
		return fail(ps, "hours need a day before them (mon, or a "
		    "range such as mon-fri)");
	return fail(ps, "unknown day \"%.*s\" (mon tue wed thu fri sat sun)",
	    t.len, t.s);
}

/* The time of t in minutes, 0 to 1440 (24:00), or -1 with the message said. */
static int
read_time(struct parse *ps, struct tok t)
{
	int colon = t.len - 3, h = 0, m, i;

	if ((colon != 1 && colon != 2) || t.s[colon] != ':' ||
	    !is_digit(t.s[colon + 1]) || !is_digit(t.s[colon + 2]))
		goto bad;
	for (i = 0; i < colon; i++) {
		if (!is_digit(t.s[i]))
			goto bad;
		h = h * 10 + (t.s[i] - '0');
	}
	m = (t.s[colon + 1] - '0') * 10 + (t.s[colon + 2] - '0');
	if (m < 60 && (h < 24 || (h == 24 && m == 0)))
		return h * 60 + m;
bad:
	if (t.len == 0)
		return fail(ps, "a closing time is missing (09:00-17:00)");
	return fail(ps, "bad time \"%.*s\" (HH:MM, 00:00 to 24:00)", t.len, t.s);
}

static int
mark_closed(struct parse *ps, int first, int ndays)
{
	int i, d;

	for (i = 0; i < ndays; i++) {
		d = (first + i) % 7;
		if (ps->open_days & (1u << d))
			return fail(ps, "%s has hours in another entry",
			    day_names[d]);
		ps->closed_days |= 1u << d;
	}
	return 0;
}

/* Hours from open to close (minutes; close <= open: the next day) on ndays days from first. */
static int
add_hours(struct parse *ps, int first, int ndays, int open, int close)
{
	int i, d;

	if (open == DAY_MIN)
		return fail(ps, "24:00 is only a closing time");
	if (open == close)
		return fail(ps, "opens and closes at the same time (a whole "
		    "day is 00:00-24:00)");
	for (i = 0; i < ndays; i++) {
		d = (first + i) % 7;
		if (ps->closed_days & (1u << d))
			return fail(ps, "%s is closed in another entry",
			    day_names[d]);
		if (ps->n == HOURS_MAX)
			return fail(ps, "more than %d opening times a week",
			    HOURS_MAX);
		ps->open_days |= 1u << d;
		ps->raw[ps->n].start = d * DAY_MIN + open;
		ps->raw[ps->n].end = d * DAY_MIN + close +
		    (close < open ? DAY_MIN : 0);
		ps->n++;
	}
	return 0;
}

/* entry := day [ "-" day ] ( "closed" | time "-" time { time "-" time } ) */
static int
parse_entry(struct parse *ps, const char *p, const char *end)
{
	struct tok t;
	int first, last, open, close;

	if ((first = last = read_day(ps, next_tok(&p, end))) == -1)
		return -1;
	if (tok_is(t = next_tok(&p, end), "-")) {
		if ((last = read_day(ps, next_tok(&p, end))) == -1)
			return -1;
		if (last == first)
			return fail(ps, "a range needs two different days "
			    "(mon-sun is the whole week)");
		t = next_tok(&p, end);
	}
	if (t.len == 0)
		return fail(ps, "no hours (HH:MM-HH:MM, or closed)");
	if (tok_is(t, "closed")) {
		if ((t = next_tok(&p, end)).len != 0)
			return fail(ps, "unexpected \"%.*s\" after closed",
			    t.len, t.s);
		return mark_closed(ps, first, (last - first + 7) % 7 + 1);
	}
	do {
		if (is_alpha(t.s[0]))
			return fail(ps, "unexpected \"%.*s\" (a comma starts "
			    "the next entry)", t.len, t.s);
		if ((open = read_time(ps, t)) == -1)
			return -1;
		if (!tok_is(next_tok(&p, end), "-"))
			return fail(ps, "%.*s needs a closing time (%.*s-17:00)",
			    t.len, t.s, t.len, t.s);
		if ((close = read_time(ps, next_tok(&p, end))) == -1)
			return -1;
		if (add_hours(ps, first, (last - first + 7) % 7 + 1, open,
		    close) == -1)
			return -1;
	} while ((t = next_tok(&p, end)).len != 0);
	return 0;
}

static int
span_cmp(const void *a, const void *b)
{
	const struct span *x = a, *y = b;

	return x->start < y->start ? -1 : x->start > y->start;
}

/*
 * Put the hours as written into h as disjoint spans of the weekly circle:
 * laid on one week, cut at Sunday midnight, sorted and joined where they
 * overlap or touch, then joined again across Sunday midnight.
 */
static void
merge(const struct parse *ps, struct hours *h)
{
	struct span line[2 * HOURS_MAX];
	int n = 0, m = 0, i;

	for (i = 0; i < ps->n; i++) {
		line[n] = ps->raw[i];
		if (line[n].end > WEEK_MIN) {
			line[n + 1].start = 0;
			line[n + 1].end = line[n].end - WEEK_MIN;
			line[n++].end = WEEK_MIN;
		}
		n++;
	}
	qsort(line, (size_t)n, sizeof(line[0]), span_cmp);
	for (i = 0; i < n; i++) {
		if (m > 0 && line[i].start <= line[m - 1].end) {
			if (line[i].end > line[m - 1].end)
				line[m - 1].end = line[i].end;
		} else
			line[m++] = line[i];
	}
	if (m > 1 && line[0].start == 0 && line[m - 1].end == WEEK_MIN) {
		line[m - 1].end += line[0].end;
		memmove(&line[0], &line[1], (size_t)--m * sizeof(line[0]));
	}
	/* Each span holds at least one span as written: m <= ps->n <= HOURS_MAX. */
	for (i = 0; i < m && i < HOURS_MAX; i++) {
		h->iv[i].start = line[i].start;
		h->iv[i].end = line[i].end;
	}
	h->n = i;
	h->always_open = m == 1 && line[0].end - line[0].start == WEEK_MIN;
}

static int
zone_char_ok(char c)
{
	return is_alpha(c) || is_digit(c) || c == '/' || c == '_' ||
	    c == '-' || c == '+';
}

/*
 * Check that tz names a zone file (glibc would take an unknown name as
 * UTC without a word) and keep its name and the TZ value that loads it.
 */
static int
zone_load(struct hours *h, const char *tz, char *err, size_t errsz)
{
	char path[sizeof(ZONE_DIR) + HOURS_ZONE_MAX];
	unsigned char magic[4];
	struct stat st;
	size_t len, i;
	int fd = -1, rc = -1;

	if (tz == NULL || *tz == '\0')
		tz = "UTC";
	len = strlen(tz);
	for (i = 0; i < len && zone_char_ok(tz[i]); i++)
		continue;
	if (len >= HOURS_ZONE_MAX || i < len || tz[0] == '/' ||
	    tz[len - 1] == '/' || strstr(tz, "..") != NULL ||
	    strstr(tz, "//") != NULL) {
		snprintf(err, errsz, "CHAT_TIMEZONE: \"%.*s\": not a time zone "
		    "name (an IANA name such as Europe/Berlin)", HOURS_ZONE_MAX,
		    tz);
		goto out;
	}
	if (strncmp(tz, "right/", 6) == 0) {
		/* Those count leap seconds, which our UTC milliseconds do not. */
		snprintf(err, errsz, "CHAT_TIMEZONE: \"%s\": a leap-second "
		    "zone (use the name without right/)", tz);
		goto out;
	}
	snprintf(path, sizeof(path), "%s/%s", ZONE_DIR, tz);
	if ((fd = open(path, O_RDONLY | O_CLOEXEC)) == -1 ||
	    fstat(fd, &st) == -1 || !S_ISREG(st.st_mode) ||
	    read(fd, magic, sizeof(magic)) != (ssize_t)sizeof(magic) ||
	    memcmp(magic, "TZif", sizeof(magic)) != 0) {
		snprintf(err, errsz, "CHAT_TIMEZONE: \"%s\": no such time zone "
		    "in " ZONE_DIR " (an IANA name such as Europe/Berlin, "
		    "America/New_York or UTC; case matters)", tz);
		goto out;
	}
	memcpy(h->zone, tz, len + 1);
	snprintf(h->tz, sizeof(h->tz), ":%s", path);
	rc = 0;
out:
	if (fd != -1)
		close(fd);
	return rc;
}

int
hours_parse(const char *spec, const char *tz, struct hours *out,
    char *err, size_t errsz)
{
	struct parse ps;
	const char *p, *b, *c, *e;

	memset(out, 0, sizeof(*out));
	memset(&ps, 0, sizeof(ps));
	ps.err = err;
	ps.errsz = errsz;
	if (zone_load(out, tz, err, errsz) == -1)
		return -1;
	for (p = spec != NULL ? spec : ""; is_blank(*p); p++)
		continue;
	if (*p == '\0') {
		out->always_open = 1;
		return 0;
	}
	for (p = spec; ; p = c + 1) {
		for (c = p; *c != '\0' && *c != ','; c++)
			continue;
		for (b = p; b < c && is_blank(*b); b++)
			continue;
		for (e = c; e > b && is_blank(e[-1]); e--)
			continue;
		ps.entry = b;
		ps.entry_len = (int)(e - b);
		if (b == e) {
			snprintf(err, errsz, "CHAT_HOURS: \"%.*s%s\": an empty "
			    "entry (two commas, or one at the start or end)",
			    QUOTE_MAX, spec, strlen(spec) > QUOTE_MAX ? "..." : "");
			return -1;
		}
		if (parse_entry(&ps, b, e) == -1)
			return -1;
		if (*c == '\0')
			break;
	}
	merge(&ps, out);
	return 0;
}

int
hours_always_open(const struct hours *h)
{
	return h->always_open;
}

static int64_t
floor_div(int64_t a, int64_t b)
{
	return a / b - (a % b != 0 && (a < 0) != (b < 0));
}

/* The zone's offset from UTC at t, in seconds east. */
static long
offset_at(time_t t)
{
	struct tm tm;

	if (localtime_r(&t, &tm) == NULL)
		return 0;
	return tm.tm_gmtoff;
}

/*
 * The first instant at which the zone's clock reads local (seconds since
 * 1970-01-01 00:00 of the local calendar) or later: the one instant that
 * reads it, the first of two when the clock goes back, the change itself
 * when local is in the hour skipped going forward. Zones change their
 * offset at most once within a day of any time, so the offsets a day
 * before and a day after are the only two that can apply.
 */
static time_t
resolve(time_t local)
{
	long before = offset_at(local - DAY_S), after = offset_at(local + DAY_S);
	time_t a = local - before, b = local - after, lo, hi, mid;

	if (offset_at(a) == before)
		return a;
	if (offset_at(b) == after)
		return b;
	/* Skipped: the clock reads less than local before the change, more after. */
	lo = a < b ? a : b;
	hi = a < b ? b : a;
	while (lo < hi) {
		mid = lo + (hi - lo) / 2;
		if (mid + offset_at(mid) >= local)
			hi = mid;
		else
			lo = mid + 1;
	}
	return lo;
}

/* Our programs' only local time: TZ set to the zone, for localtime_r. */
static int
use_zone(const struct hours *h)
{
	const char *cur = getenv("TZ");

	if ((cur == NULL || strcmp(cur, h->tz) != 0) &&
	    setenv("TZ", h->tz, 1) == -1)
		return -1;
	tzset();
	return 0;
}

/*
 * The runs of opening hours in UTC (ms), in order, from the week before
 * week (a local Monday, days since 1970-01-01) to the end of two weeks
 * after it. A span lasts less than a week, so a run around an instant of
 * week starts in that week or the one before; the next run starts in the
 * following week, or the one after when the skipped hour takes all of
 * it. Runs that touch are joined: spans apart in local time meet when the
 * gap between them is skipped. Returns how many there are.
 */
static int
runs(const struct hours *h, int64_t week, int64_t *rs, int64_t *re)
{
	int64_t w, s, e;
	int n = 0, i;

	for (w = week - 7; w <= week + 14; w += 7)
		for (i = 0; i < h->n; i++) {
			s = (int64_t)resolve((time_t)(w * DAY_S +
			    h->iv[i].start * 60)) * 1000;
			e = (int64_t)resolve((time_t)(w * DAY_S +
			    h->iv[i].end * 60)) * 1000;
			if (s >= e)
				continue;
			if (n > 0 && s <= re[n - 1]) {
				if (e > re[n - 1])
					re[n - 1] = e;
				continue;
			}
			rs[n] = s;
			re[n++] = e;
		}
	return n;
}

int
hours_open_at(const struct hours *h, int64_t ms, int64_t *next_change)
{
	int64_t rs[4 * HOURS_MAX], re[4 * HOURS_MAX], t, day, week;
	int n, i;

	if (next_change != NULL)
		*next_change = 0;
	if (h->always_open)
		return 1;
	if (h->n == 0)
		return 0;
	if (use_zone(h) == -1)
		return -1;
	t = floor_div(ms, 1000);
	day = floor_div(t + offset_at((time_t)t), DAY_S);
	/* 1970-01-01 was a Thursday, day 3 of a week from Monday. */
	week = day - (day + 3 - floor_div(day + 3, 7) * 7);
	n = runs(h, week, rs, re);
	for (i = 0; i < n; i++) {
		if (ms < rs[i] || ms < re[i]) {
			if (next_change != NULL)
				*next_change = ms < rs[i] ? rs[i] : re[i];
			return ms >= rs[i];
		}
	}
	return 0;
}

/* minutes (0 to 1440) as HH:MM into out (6 bytes). */
static void
format_time(char *out, unsigned minutes)
{
	out[0] = (char)('0' + minutes / 600);
	out[1] = (char)('0' + minutes / 60 % 10);
	out[2] = ':';
	out[3] = (char)('0' + minutes % 60 / 10);
	out[4] = (char)('0' + minutes % 10);
	out[5] = '\0';
}

static int
add_row(json_t *rows, int start, int end)
{
	char open[6], close[6];

	format_time(open, (unsigned)(start % DAY_MIN));
	/* Only a row's own midnight can end it: a close of 00:00 is 24:00. */
	format_time(close, end % DAY_MIN == 0 ? DAY_MIN :
	    (unsigned)(end % DAY_MIN));
	return json_array_append_new(rows, json_pack("{s:s, s:s, s:s}", "day",
	    day_names[start / DAY_MIN % 7], "open", open, "close", close));
}

/*
 * Spans of a day or more are cut at each midnight. Only the last span can
 * pass Sunday midnight: its part in the next week goes first, as Monday's.
 */
json_t *
hours_json(const struct hours *h)
{
	json_t *rows = json_array();
	int pass, i, s, e, cut;

	if (rows == NULL)
		return NULL;
	for (pass = 0; pass < 2; pass++)
		for (i = 0; i < h->n; i++)
			for (s = h->iv[i].start, e = h->iv[i].end; s < e; s = cut) {
				cut = e - s >= DAY_MIN ?
				    (s / DAY_MIN + 1) * DAY_MIN : e;
				if ((pass == 0) != (s >= WEEK_MIN))
					continue;
				if (add_row(rows, s, cut) == -1) {
					json_decref(rows);
					return NULL;
				}
			}
	return rows;
}
