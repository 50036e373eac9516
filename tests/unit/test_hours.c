#include "testutil.h"

#include <time.h>

#include "../../lib/hours.h"

/*
 * Instants are written in UTC ("2024-03-31 01:00", seconds and
 * milliseconds optional), worked out by hand from the zone's offsets; the
 * local time is in the comment beside each.
 */
static int64_t
utc(const char *s)
{
	struct tm tm;
	int sec = 0, msec = 0, n;

	memset(&tm, 0, sizeof(tm));
	n = sscanf(s, "%d-%d-%d %d:%d:%d.%d", &tm.tm_year, &tm.tm_mon,
	    &tm.tm_mday, &tm.tm_hour, &tm.tm_min, &sec, &msec);
	if (n < 5)
		fail_msg("bad instant in the test: %s", s);
	tm.tm_year -= 1900;
	tm.tm_mon -= 1;
	tm.tm_sec = sec;
	return (int64_t)timegm(&tm) * 1000 + msec;
}

static const char *
show(int64_t ms, char *out, size_t outsz)
{
	time_t t = (time_t)(ms / 1000);
	struct tm tm;

	if (ms == 0) {
		snprintf(out, outsz, "never");
		return out;
	}
	gmtime_r(&t, &tm);
	snprintf(out, outsz, "%04d-%02d-%02d %02d:%02d:%02d.%03d",
	    tm.tm_year + 1900, tm.tm_mon + 1, tm.tm_mday, tm.tm_hour,
	    tm.tm_min, tm.tm_sec, (int)(ms % 1000));
	return out;
}

static void
load(struct hours *h, const char *spec, const char *tz)
{
	char err[256];

	if (hours_parse(spec, tz, h, err, sizeof(err)) != 0)
		fail_msg("\"%s\" in %s refused: %s", spec,
		    tz != NULL ? tz : "(null)", err);
}

/* At an instant: open or closed, and the next change (NULL: never). */
struct at_case {
	const char *at;
	int open;
	const char *next;
};

static void
check_at(const char *spec, const char *tz, const struct at_case *c, size_t n)
{
	char got[80], want[80];
	struct hours h;
	int64_t next, want_next;
	size_t i;
	int open;

	load(&h, spec, tz);
	for (i = 0; i < n; i++) {
		open = hours_open_at(&h, utc(c[i].at), &next);
		want_next = c[i].next != NULL ? utc(c[i].next) : 0;
		if (open != c[i].open || next != want_next)
			fail_msg("\"%s\" in %s at %s: %s until %s, want %s "
			    "until %s", spec, tz, c[i].at,
			    open == 1 ? "open" : open == 0 ? "closed" : "error",
			    show(next, got, sizeof(got)),
			    c[i].open ? "open" : "closed",
			    show(want_next, want, sizeof(want)));
	}
}

#define CHECK_AT(spec, tz, cases) \
	check_at(spec, tz, cases, sizeof(cases) / sizeof(cases[0]))

/* The weekly table as "day open-close" rows joined by "|". */
static void
check_table(const char *spec, const char *want, int want_always)
{
	char got[1024] = "";
	struct hours h;
	json_t *rows, *row;
	size_t i, len;

	load(&h, spec, "Europe/Berlin");
	assert_non_null(rows = hours_json(&h));
	json_array_foreach(rows, i, row) {
		len = strlen(got);
		snprintf(got + len, sizeof(got) - len, "%s%s %s-%s",
		    i > 0 ? "|" : "",
		    json_string_value(json_object_get(row, "day")),
		    json_string_value(json_object_get(row, "open")),
		    json_string_value(json_object_get(row, "close")));
	}
	json_decref(rows);
	if (strcmp(got, want) != 0)
		fail_msg("\"%s\": table \"%s\", want \"%s\"", spec, got, want);
	if (hours_always_open(&h) != want_always)
		fail_msg("\"%s\": always open %d, want %d", spec,
		    hours_always_open(&h), want_always);
}

#define WEEKDAYS(t) "mon " t "|tue " t "|wed " t "|thu " t "|fri " t

static void
hours_parse_reads_days_ranges_and_times_into_the_weekly_table(void **state)
{
	static const struct {
		const char *spec, *table;
		int always;
	} cases[] = {
		{ "mon-fri 09:00-17:30, sat 10:00-14:00, sun closed",
		    WEEKDAYS("09:00-17:30") "|sat 10:00-14:00", 0 },
		{ "MON-Fri 9:00-17:00", WEEKDAYS("09:00-17:00"), 0 },
		{ "  mon 09:00 - 17:00  ,sat\t10:00-14:00 ",
		    "mon 09:00-17:00|sat 10:00-14:00", 0 },
		{ "mon-tue 09:00-12:00 13:00-17:00",
		    "mon 09:00-12:00|mon 13:00-17:00|tue 09:00-12:00|"
		    "tue 13:00-17:00", 0 },
		{ "mon-tue 13:00-17:00, mon-tue 09:00-12:00",
		    "mon 09:00-12:00|mon 13:00-17:00|tue 09:00-12:00|"
		    "tue 13:00-17:00", 0 },
		{ "fri-mon 10:00-16:00",
		    "mon 10:00-16:00|fri 10:00-16:00|sat 10:00-16:00|"
		    "sun 10:00-16:00", 0 },
		{ "fri 22:00-02:00", "fri 22:00-02:00", 0 },
		{ "fri 22:00-00:00", "fri 22:00-24:00", 0 },
		{ "mon 10:00-09:00", "mon 10:00-09:00", 0 },
		{ "sun 22:00-02:00, wed 08:00-09:00",
		    "wed 08:00-09:00|sun 22:00-02:00", 0 },
		{ "mon 09:00-13:00, mon 12:00-17:00", "mon 09:00-17:00", 0 },
		{ "mon 12:00-17:00, mon 09:00-12:00", "mon 09:00-17:00", 0 },
		{ "sat 20:00-24:00, sun 00:00-03:00", "sat 20:00-03:00", 0 },
		{ "mon 00:00-03:00, sun 20:00-24:00", "sun 20:00-03:00", 0 },
		{ "fri 20:00-04:00, sat 04:00-08:00", "fri 20:00-08:00", 0 },
		{ "mon 10:00-24:00, tue 00:00-10:00",
		    "mon 10:00-24:00|tue 00:00-10:00", 0 },
		{ "thu 12:00-24:00, fri 00:00-24:00, sat 00:00-06:00",
		    "thu 12:00-24:00|fri 00:00-24:00|sat 00:00-06:00", 0 },
		{ "sat-mon 00:00-24:00",
		    "mon 00:00-24:00|sat 00:00-24:00|sun 00:00-24:00", 0 },
		{ "sun 10:00-24:00, mon-tue 00:00-24:00, wed 00:00-01:00",
		    "mon 00:00-24:00|tue 00:00-24:00|wed 00:00-01:00|"
		    "sun 10:00-24:00", 0 },
		{ "mon-sun 00:00-24:00",
		    WEEKDAYS("00:00-24:00") "|sat 00:00-24:00|sun 00:00-24:00", 1 },
		{ "mon-fri 00:00-24:00, sat-sun 00:00-24:00",
		    WEEKDAYS("00:00-24:00") "|sat 00:00-24:00|sun 00:00-24:00", 1 },
		{ "", "", 1 },
		{ " \t ", "", 1 },
		{ "mon-sun closed", "", 0 },
		{ "fri 22:00-02:00, sat closed", "fri 22:00-02:00", 0 },
	};
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++)
		check_table(cases[i].spec, cases[i].table, cases[i].always);
}

static void
hours_parse_refuses_bad_hours_naming_the_entry_and_the_fault(void **state)
{
	static const struct {
		const char *spec, *err;
	} cases[] = {
		{ "mon-fry 09:00-17:00", "CHAT_HOURS: \"mon-fry 09:00-17:00\": "
		    "unknown day \"fry\" (mon tue wed thu fri sat sun)" },
		{ "sat 10:00-14:00, monday 09:00-17:00",
		    "CHAT_HOURS: \"monday 09:00-17:00\": "
		    "unknown day \"monday\" (mon tue wed thu fri sat sun)" },
		{ "09:00-17:00", "CHAT_HOURS: \"09:00-17:00\": hours need a "
		    "day before them (mon, or a range such as mon-fri)" },
		{ "mon- 09:00-17:00", "CHAT_HOURS: \"mon- 09:00-17:00\": hours "
		    "need a day before them (mon, or a range such as mon-fri)" },
		{ "mon-", "CHAT_HOURS: \"mon-\": a range of days needs its "
		    "last day (mon-fri)" },
		{ "mon-mon 09:00-17:00", "CHAT_HOURS: \"mon-mon 09:00-17:00\": "
		    "a range needs two different days (mon-sun is the whole week)" },
		{ "mon-fri", "CHAT_HOURS: \"mon-fri\": no hours (HH:MM-HH:MM, "
		    "or closed)" },
		{ "mon 9:60-17:00", "CHAT_HOURS: \"mon 9:60-17:00\": bad time "
		    "\"9:60\" (HH:MM, 00:00 to 24:00)" },
		{ "mon 09:00-25:00", "CHAT_HOURS: \"mon 09:00-25:00\": bad time "
		    "\"25:00\" (HH:MM, 00:00 to 24:00)" },
		{ "mon 09:00-24:01", "CHAT_HOURS: \"mon 09:00-24:01\": bad time "
		    "\"24:01\" (HH:MM, 00:00 to 24:00)" },
		{ "mon 0900-1700", "CHAT_HOURS: \"mon 0900-1700\": bad time "
		    "\"0900\" (HH:MM, 00:00 to 24:00)" },
		{ "mon 009:00-17:00", "CHAT_HOURS: \"mon 009:00-17:00\": bad "
		    "time \"009:00\" (HH:MM, 00:00 to 24:00)" },
		{ "mon 09:00-17:00-18:00", "CHAT_HOURS: \"mon 09:00-17:00-18:00\": "
		    "bad time \"-\" (HH:MM, 00:00 to 24:00)" },
		{ "mon 09:00", "CHAT_HOURS: \"mon 09:00\": 09:00 needs a "
		    "closing time (09:00-17:00)" },
		{ "mon 09:00 17:00", "CHAT_HOURS: \"mon 09:00 17:00\": 09:00 "
		    "needs a closing time (09:00-17:00)" },
		{ "mon 09:00-", "CHAT_HOURS: \"mon 09:00-\": a closing time is "
		    "missing (09:00-17:00)" },
		{ "mon 24:00-02:00", "CHAT_HOURS: \"mon 24:00-02:00\": 24:00 is "
		    "only a closing time" },
		{ "mon 09:00-09:00", "CHAT_HOURS: \"mon 09:00-09:00\": opens and "
		    "closes at the same time (a whole day is 00:00-24:00)" },
		{ "sat closed 10:00-12:00", "CHAT_HOURS: \"sat closed "
		    "10:00-12:00\": unexpected \"10:00\" after closed" },
		{ "sat 10:00-12:00 closed", "CHAT_HOURS: \"sat 10:00-12:00 "
		    "closed\": unexpected \"closed\" (a comma starts the next "
		    "entry)" },
		{ "mon 09:00-12:00 tue 10:00-12:00", "CHAT_HOURS: \"mon "
		    "09:00-12:00 tue 10:00-12:00\": unexpected \"tue\" (a comma "
		    "starts the next entry)" },
		{ "mon-fri 09:00-17:00, fri closed", "CHAT_HOURS: \"fri "
		    "closed\": fri has hours in another entry" },
		{ "sun closed, sat-mon 10:00-12:00", "CHAT_HOURS: \"sat-mon "
		    "10:00-12:00\": sun is closed in another entry" },
		{ "mon 09:00-17:00,, tue 09:00-17:00", "CHAT_HOURS: \"mon "
		    "09:00-17:00,, tue 09:00-17:00\": an empty entry (two commas, "
		    "or one at the start or end)" },
		{ "mon 09:00-17:00,", "CHAT_HOURS: \"mon 09:00-17:00,\": an "
		    "empty entry (two commas, or one at the start or end)" },
		{ "mon-sun 00:00-00:01 01:00-01:01 02:00-02:01 03:00-03:01 "
		    "04:00-04:01 05:00-05:01 06:00-06:01 07:00-07:01 08:00-08:01 "
		    "09:00-09:01", "CHAT_HOURS: \"mon-sun 00:00-00:01 01:00-01:01 "
		    "02:00-02:01 03:00-03:01 04:00-04:01 05:00-05:01 ...\": more "
		    "than 64 opening times a week" },
	};
	struct hours h;
	char err[512];
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		err[0] = '\0';
		if (hours_parse(cases[i].spec, "UTC", &h, err, sizeof(err)) != -1)
			fail_msg("\"%s\" accepted", cases[i].spec);
		if (strcmp(err, cases[i].err) != 0)
			fail_msg("\"%s\": \"%s\", want \"%s\"", cases[i].spec, err,
			    cases[i].err);
	}
}

static void
hours_parse_takes_real_zones_only(void **state)
{
	static const char *const good[] = {
		"UTC", "Europe/Berlin", "America/New_York", "Asia/Shanghai",
		"Australia/Lord_Howe", "America/Argentina/Buenos_Aires",
		"Etc/GMT+5",
	};
	static const struct {
		const char *tz, *err;
	} bad[] = {
		{ "Mars/Olympus", "CHAT_TIMEZONE: \"Mars/Olympus\": no such time "
		    "zone in /usr/share/zoneinfo (an IANA name such as "
		    "Europe/Berlin, America/New_York or UTC; case matters)" },
		{ "europe/berlin", "CHAT_TIMEZONE: \"europe/berlin\": no such "
		    "time zone in /usr/share/zoneinfo (an IANA name such as "
		    "Europe/Berlin, America/New_York or UTC; case matters)" },
		{ "Europe", "CHAT_TIMEZONE: \"Europe\": no such time zone in "
		    "/usr/share/zoneinfo (an IANA name such as Europe/Berlin, "
		    "America/New_York or UTC; case matters)" },
		{ "zone.tab", "CHAT_TIMEZONE: \"zone.tab\": not a time zone name "
		    "(an IANA name such as Europe/Berlin)" },
		{ "leapseconds", "CHAT_TIMEZONE: \"leapseconds\": no such time "
		    "zone in /usr/share/zoneinfo (an IANA name such as "
		    "Europe/Berlin, America/New_York or UTC; case matters)" },
		{ "../../etc/passwd", "CHAT_TIMEZONE: \"../../etc/passwd\": not "
		    "a time zone name (an IANA name such as Europe/Berlin)" },
		{ "Europe/../Europe/Berlin", "CHAT_TIMEZONE: "
		    "\"Europe/../Europe/Berlin\": not a time zone name (an IANA "
		    "name such as Europe/Berlin)" },
		{ "/usr/share/zoneinfo/UTC", "CHAT_TIMEZONE: "
		    "\"/usr/share/zoneinfo/UTC\": not a time zone name (an IANA "
		    "name such as Europe/Berlin)" },
		{ "Europe//Berlin", "CHAT_TIMEZONE: \"Europe//Berlin\": not a "
		    "time zone name (an IANA name such as Europe/Berlin)" },
		{ "Europe/", "CHAT_TIMEZONE: \"Europe/\": not a time zone name "
		    "(an IANA name such as Europe/Berlin)" },
		{ "Europe/Berlin ", "CHAT_TIMEZONE: \"Europe/Berlin \": not a "
		    "time zone name (an IANA name such as Europe/Berlin)" },
		{ "CET-1CEST,M3.5.0,M10.5.0/3", "CHAT_TIMEZONE: "
		    "\"CET-1CEST,M3.5.0,M10.5.0/3\": not a time zone name (an "
		    "IANA name such as Europe/Berlin)" },
		{ "right/UTC", "CHAT_TIMEZONE: \"right/UTC\": a leap-second zone "
		    "(use the name without right/)" },
	};
	struct hours h;
	char err[512];
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(good) / sizeof(good[0]); i++)
		load(&h, "mon 09:00-17:00", good[i]);
	load(&h, "mon 09:00-17:00", NULL);
	load(&h, "mon 09:00-17:00", "");
	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		err[0] = '\0';
		/* Refused with empty hours too: the zone is checked anyway. */
		if (hours_parse("", bad[i].tz, &h, err, sizeof(err)) != -1)
			fail_msg("zone \"%s\" accepted", bad[i].tz);
		if (strcmp(err, bad[i].err) != 0)
			fail_msg("\"%s\": \"%s\", want \"%s\"", bad[i].tz, err,
			    bad[i].err);
	}
}

static void
hours_open_at_changes_at_the_minute_of_opening_and_closing(void **state)
{
	/* 2024-06-03 is a Monday. */
	static const struct at_case cases[] = {
		{ "2024-06-03 08:59", 0, "2024-06-03 09:00" },
		{ "2024-06-03 08:59:59.999", 0, "2024-06-03 09:00" },
		{ "2024-06-03 09:00", 1, "2024-06-03 17:30" },
		{ "2024-06-03 09:01", 1, "2024-06-03 17:30" },
		{ "2024-06-03 17:29", 1, "2024-06-03 17:30" },
		{ "2024-06-03 17:29:59.999", 1, "2024-06-03 17:30" },
		{ "2024-06-03 17:30", 0, "2024-06-04 09:00" },
		{ "2024-06-03 17:31", 0, "2024-06-04 09:00" },
		{ "2024-06-03 00:00", 0, "2024-06-03 09:00" },
		{ "2024-06-05 12:00", 1, "2024-06-05 17:30" },
	};

	(void)state;
	CHECK_AT("mon-fri 09:00-17:30", "UTC", cases);
}

static void
hours_open_at_looks_past_the_weekend_for_the_next_opening(void **state)
{
	static const struct at_case cases[] = {
		{ "2024-06-07 17:29", 1, "2024-06-07 17:30" },	/* Friday */
		{ "2024-06-07 17:30", 0, "2024-06-08 10:00" },
		{ "2024-06-08 09:59", 0, "2024-06-08 10:00" },	/* Saturday */
		{ "2024-06-08 10:00", 1, "2024-06-08 14:00" },
		{ "2024-06-08 14:00", 0, "2024-06-10 09:00" },	/* to Monday */
		{ "2024-06-09 12:00", 0, "2024-06-10 09:00" },	/* Sunday */
		{ "2024-06-09 23:59:59.999", 0, "2024-06-10 09:00" },
		{ "2024-06-10 09:00", 1, "2024-06-10 17:30" },
	};

	(void)state;
	CHECK_AT("mon-fri 09:00-17:30, sat 10:00-14:00, sun closed", "UTC",
	    cases);
}

static void
hours_open_at_runs_hours_past_midnight_into_the_next_day(void **state)
{
	static const struct at_case cases[] = {
		{ "2024-06-07 21:59", 0, "2024-06-07 22:00" },	/* Friday */
		{ "2024-06-07 22:00", 1, "2024-06-08 02:00" },
		{ "2024-06-07 23:59", 1, "2024-06-08 02:00" },
		{ "2024-06-08 00:00", 1, "2024-06-08 02:00" },	/* Saturday */
		{ "2024-06-08 01:59", 1, "2024-06-08 02:00" },
		{ "2024-06-08 02:00", 0, "2024-06-14 22:00" },
		{ "2024-06-06 23:00", 0, "2024-06-07 22:00" },	/* Thursday */
	};

	(void)state;
	CHECK_AT("fri 22:00-02:00", "UTC", cases);
}

static void
hours_open_at_wraps_from_sunday_into_monday(void **state)
{
	static const struct at_case late_sunday[] = {
		{ "2024-06-09 21:59", 0, "2024-06-09 22:00" },	/* Sunday */
		{ "2024-06-09 22:00", 1, "2024-06-10 02:00" },
		{ "2024-06-10 00:00", 1, "2024-06-10 02:00" },	/* Monday */
		{ "2024-06-10 01:59", 1, "2024-06-10 02:00" },
		{ "2024-06-10 02:00", 0, "2024-06-10 08:00" },
		{ "2024-06-10 10:00", 0, "2024-06-16 22:00" },
		{ "2024-06-12 12:00", 0, "2024-06-16 22:00" },
	};
	static const struct at_case weekend[] = {
		{ "2024-06-07 23:59", 0, "2024-06-08 00:00" },	/* Friday */
		{ "2024-06-08 00:00", 1, "2024-06-11 00:00" },	/* to Tuesday */
		{ "2024-06-09 23:59", 1, "2024-06-11 00:00" },
		{ "2024-06-10 00:00", 1, "2024-06-11 00:00" },
		{ "2024-06-11 00:00", 0, "2024-06-15 00:00" },
	};

	(void)state;
	CHECK_AT("sun 22:00-02:00, mon 08:00-10:00", "UTC", late_sunday);
	CHECK_AT("sat-mon 00:00-24:00", "UTC", weekend);
}

static void
hours_open_at_reads_the_hours_in_the_zones_local_time(void **state)
{
	static const struct at_case berlin[] = {
		/* Winter, CET (+1): 09:00 is 08:00 UTC. */
		{ "2024-01-15 07:59", 0, "2024-01-15 08:00" },
		{ "2024-01-15 08:00", 1, "2024-01-15 16:00" },
		{ "2024-01-15 16:00", 0, "2024-01-16 08:00" },
		/* Summer, CEST (+2): 09:00 is 07:00 UTC. */
		{ "2024-07-15 06:59", 0, "2024-07-15 07:00" },
		{ "2024-07-15 07:00", 1, "2024-07-15 15:00" },
		{ "2024-07-19 15:00", 0, "2024-07-22 07:00" },
	};
	static const struct at_case new_york[] = {
		/* EST (-5): Friday 20:00-23:00 is Saturday 01:00-04:00 UTC. */
		{ "2024-01-19 20:00", 0, "2024-01-20 01:00" },
		{ "2024-01-20 01:00", 1, "2024-01-20 04:00" },
		{ "2024-01-20 03:59", 1, "2024-01-20 04:00" },
		{ "2024-01-20 04:00", 0, "2024-01-27 01:00" },
		/* EDT (-4). */
		{ "2024-07-20 00:00", 1, "2024-07-20 03:00" },
	};
	static const struct at_case shanghai[] = {
		/* +8 all year: Monday 06:00-10:00 is Sunday 22:00 to Monday 02:00 UTC. */
		{ "2024-01-14 21:59", 0, "2024-01-14 22:00" },
		{ "2024-01-14 22:00", 1, "2024-01-15 02:00" },
		{ "2024-07-14 23:00", 1, "2024-07-15 02:00" },
		{ "2024-07-15 02:00", 0, "2024-07-21 22:00" },
	};

	(void)state;
	CHECK_AT("mon-fri 09:00-17:00", "Europe/Berlin", berlin);
	CHECK_AT("fri 20:00-23:00", "America/New_York", new_york);
	CHECK_AT("mon 06:00-10:00", "Asia/Shanghai", shanghai);
}

static void
hours_open_at_keeps_each_zone_apart_when_called_in_turn(void **state)
{
	struct hours berlin, new_york;
	int64_t next;
	int i;

	(void)state;
	/* Monday 2024-01-15 08:30 UTC: 09:30 in Berlin, 03:30 in New York. */
	load(&berlin, "mon-fri 09:00-17:00", "Europe/Berlin");
	load(&new_york, "mon-fri 09:00-17:00", "America/New_York");
	for (i = 0; i < 3; i++) {
		assert_int_equal(hours_open_at(&berlin, utc("2024-01-15 08:30"),
		    &next), 1);
		assert_int_equal(next, utc("2024-01-15 16:00"));
		assert_int_equal(hours_open_at(&new_york,
		    utc("2024-01-15 08:30"), &next), 0);
		assert_int_equal(next, utc("2024-01-15 14:00"));
	}
	assert_string_equal(getenv("TZ"), ":/usr/share/zoneinfo/America/New_York");
	assert_int_equal(hours_open_at(&berlin, utc("2024-01-15 08:30"), NULL), 1);
}

static void
hours_open_at_is_always_open_or_never_without_a_change(void **state)
{
	static const struct at_case always[] = {
		{ "2024-03-31 01:00", 1, NULL },
		{ "2024-10-27 01:30", 1, NULL },
		{ "2024-06-09 23:59", 1, NULL },
	};
	static const struct at_case never[] = {
		{ "2024-06-03 09:00", 0, NULL },
		{ "2024-06-09 12:00", 0, NULL },
	};

	(void)state;
	CHECK_AT("", "Europe/Berlin", always);
	CHECK_AT("mon-sun 00:00-24:00", "Europe/Berlin", always);
	CHECK_AT("sat-fri 00:00-24:00", "America/New_York", always);
	CHECK_AT("mon-sun closed", "Europe/Berlin", never);
}

/* Europe/Berlin, Sunday 2024-03-31: at 01:00 UTC the clocks go from 02:00 CET to 03:00 CEST. */
static void
hours_open_at_follows_berlins_clocks_going_forward(void **state)
{
	static const struct at_case day[] = {
		{ "2024-03-30 07:59", 0, "2024-03-30 08:00" },	/* Saturday 08:59 CET */
		{ "2024-03-30 08:00", 1, "2024-03-30 16:00" },
		{ "2024-03-30 16:00", 0, "2024-03-31 07:00" },	/* to Sunday 09:00 CEST */
		{ "2024-03-31 06:59", 0, "2024-03-31 07:00" },
		{ "2024-03-31 07:00", 1, "2024-03-31 15:00" },
		{ "2024-03-31 15:00", 0, "2024-04-01 07:00" },	/* Monday */
	};
	static const struct at_case whole_day[] = {
		/* Sunday 00:00 CET to 24:00 CEST: 23 hours. */
		{ "2024-03-30 22:59", 0, "2024-03-30 23:00" },
		{ "2024-03-30 23:00", 1, "2024-03-31 22:00" },
		{ "2024-03-31 00:59:59.999", 1, "2024-03-31 22:00" },
		{ "2024-03-31 01:00", 1, "2024-03-31 22:00" },
		{ "2024-03-31 21:59", 1, "2024-03-31 22:00" },
		{ "2024-03-31 22:00", 0, "2024-04-06 22:00" },
	};
	static const struct at_case night[] = {
		/* Saturday 22:00 CET to Sunday 06:00 CEST: 7 hours. */
		{ "2024-03-30 20:59", 0, "2024-03-30 21:00" },
		{ "2024-03-30 21:00", 1, "2024-03-31 04:00" },
		{ "2024-03-31 01:00", 1, "2024-03-31 04:00" },
		{ "2024-03-31 03:59", 1, "2024-03-31 04:00" },
		{ "2024-03-31 04:00", 0, "2024-04-06 20:00" },	/* 22:00 CEST */
	};
	static const struct at_case skipped_open[] = {
		/* 02:30 does not exist: open at the change, 03:00 CEST. */
		{ "2024-03-31 00:29", 0, "2024-03-31 01:00" },	/* 01:29 CET */
		{ "2024-03-31 00:59", 0, "2024-03-31 01:00" },
		{ "2024-03-31 01:00", 1, "2024-03-31 03:00" },	/* 03:00 CEST */
		{ "2024-03-31 02:59", 1, "2024-03-31 03:00" },
		{ "2024-03-31 03:00", 0, "2024-04-07 00:30" },	/* 02:30 CEST */
	};
	static const struct at_case skipped_close[] = {
		/* Closing at 02:30, which does not exist: at the change. */
		{ "2024-03-30 23:59", 0, "2024-03-31 00:00" },
		{ "2024-03-31 00:00", 1, "2024-03-31 01:00" },	/* 01:00 CET */
		{ "2024-03-31 00:59", 1, "2024-03-31 01:00" },
		{ "2024-03-31 01:00", 0, "2024-04-06 23:00" },	/* 01:00 CEST */
	};
	static const struct at_case all_skipped[] = {
		/* 02:00-02:30 lies wholly in the skipped hour: not open that day. */
		{ "2024-03-30 12:00", 0, "2024-04-07 00:00" },	/* 02:00 CEST */
		{ "2024-03-31 01:00", 0, "2024-04-07 00:00" },
		{ "2024-03-24 01:15", 1, "2024-03-24 01:30" },	/* a week before, CET */
		{ "2024-03-24 12:00", 0, "2024-04-07 00:00" },	/* two weeks on */
	};
	static const struct at_case joined[] = {
		/* 01:00-02:15 and 02:45-04:00 meet at the change: one run. */
		{ "2024-03-30 23:59", 0, "2024-03-31 00:00" },
		{ "2024-03-31 00:00", 1, "2024-03-31 02:00" },
		{ "2024-03-31 00:59", 1, "2024-03-31 02:00" },
		{ "2024-03-31 01:00", 1, "2024-03-31 02:00" },
		{ "2024-03-31 02:00", 0, "2024-04-06 23:00" },
		/* A week later they are apart again. */
		{ "2024-04-07 00:15", 0, "2024-04-07 00:45" },
	};

	(void)state;
	CHECK_AT("mon-sat 09:00-17:00, sun 09:00-17:00", "Europe/Berlin", day);
	CHECK_AT("sun 00:00-24:00", "Europe/Berlin", whole_day);
	CHECK_AT("sat 22:00-06:00", "Europe/Berlin", night);
	CHECK_AT("sun 02:30-05:00", "Europe/Berlin", skipped_open);
	CHECK_AT("sun 01:00-02:30", "Europe/Berlin", skipped_close);
	CHECK_AT("sun 02:00-02:30", "Europe/Berlin", all_skipped);
	CHECK_AT("sun 01:00-02:15 02:45-04:00", "Europe/Berlin", joined);
}

/* Europe/Berlin, Sunday 2024-10-27: at 01:00 UTC the clocks go from 03:00 CEST back to 02:00 CET. */
static void
hours_open_at_follows_berlins_clocks_going_back(void **state)
{
	static const struct at_case day[] = {
		{ "2024-10-26 07:00", 1, "2024-10-26 15:00" },	/* Saturday CEST */
		{ "2024-10-26 15:00", 0, "2024-10-27 08:00" },	/* to Sunday 09:00 CET */
		{ "2024-10-27 07:59", 0, "2024-10-27 08:00" },
		{ "2024-10-27 08:00", 1, "2024-10-27 16:00" },
		{ "2024-10-27 16:00", 0, "2024-10-28 08:00" },	/* Monday */
	};
	static const struct at_case whole_day[] = {
		/* Sunday 00:00 CEST to 24:00 CET: 25 hours. */
		{ "2024-10-26 21:59", 0, "2024-10-26 22:00" },
		{ "2024-10-26 22:00", 1, "2024-10-27 23:00" },
		{ "2024-10-27 01:30", 1, "2024-10-27 23:00" },
		{ "2024-10-27 22:59", 1, "2024-10-27 23:00" },
		{ "2024-10-27 23:00", 0, "2024-11-02 23:00" },
	};
	static const struct at_case night[] = {
		/* Saturday 22:00 CEST to Sunday 06:00 CET: 9 hours. */
		{ "2024-10-26 19:59", 0, "2024-10-26 20:00" },
		{ "2024-10-26 20:00", 1, "2024-10-27 05:00" },
		{ "2024-10-27 04:59", 1, "2024-10-27 05:00" },
		{ "2024-10-27 05:00", 0, "2024-11-02 21:00" },	/* 22:00 CET */
	};
	static const struct at_case twice_open[] = {
		/* Opening at 02:30, read twice: the first, 02:30 CEST. */
		{ "2024-10-27 00:29", 0, "2024-10-27 00:30" },
		{ "2024-10-27 00:30", 1, "2024-10-27 04:00" },
		{ "2024-10-27 01:15", 1, "2024-10-27 04:00" },	/* 02:15 CET */
		{ "2024-10-27 01:45", 1, "2024-10-27 04:00" },	/* 02:45 CET */
		{ "2024-10-27 04:00", 0, "2024-11-03 01:30" },
	};
	static const struct at_case twice_close[] = {
		/* Closing at 02:30, read twice: the first, 02:30 CEST. */
		{ "2024-10-26 22:00", 1, "2024-10-27 00:30" },	/* 00:00 CEST */
		{ "2024-10-27 00:29", 1, "2024-10-27 00:30" },
		{ "2024-10-27 00:30", 0, "2024-11-02 23:00" },
		{ "2024-10-27 01:15", 0, "2024-11-02 23:00" },	/* 02:15 CET */
	};

	(void)state;
	CHECK_AT("mon-sun 09:00-17:00", "Europe/Berlin", day);
	CHECK_AT("sun 00:00-24:00", "Europe/Berlin", whole_day);
	CHECK_AT("sat 22:00-06:00", "Europe/Berlin", night);
	CHECK_AT("sun 02:30-05:00", "Europe/Berlin", twice_open);
	CHECK_AT("sun 00:00-02:30", "Europe/Berlin", twice_close);
}

/*
 * America/New_York, 2024: Sunday 03-10 at 07:00 UTC from 02:00 EST to
 * 03:00 EDT; Sunday 11-03 at 06:00 UTC from 02:00 EDT back to 01:00 EST.
 */
static void
hours_open_at_follows_new_yorks_clocks_both_ways(void **state)
{
	static const struct at_case weekdays[] = {
		/* Friday 17:00 EST to Monday 09:00 EDT: 63 hours. */
		{ "2024-03-08 21:59", 1, "2024-03-08 22:00" },
		{ "2024-03-08 22:00", 0, "2024-03-11 13:00" },
		{ "2024-03-10 07:00", 0, "2024-03-11 13:00" },
		{ "2024-03-11 13:00", 1, "2024-03-11 21:00" },
		/* Friday 17:00 EDT to Monday 09:00 EST: 65 hours. */
		{ "2024-11-01 21:00", 0, "2024-11-04 14:00" },
		{ "2024-11-03 05:30", 0, "2024-11-04 14:00" },
		{ "2024-11-04 13:59", 0, "2024-11-04 14:00" },
		{ "2024-11-04 14:00", 1, "2024-11-04 22:00" },
	};
	static const struct at_case spring_night[] = {
		/* Saturday 20:00 EST to Sunday 08:00 EDT: 11 hours. */
		{ "2024-03-10 00:59", 0, "2024-03-10 01:00" },
		{ "2024-03-10 01:00", 1, "2024-03-10 12:00" },
		{ "2024-03-10 11:59", 1, "2024-03-10 12:00" },
		{ "2024-03-10 12:00", 0, "2024-03-17 00:00" },
	};
	static const struct at_case spring_skipped[] = {
		/* 02:30 does not exist: open at 03:00 EDT until 04:00 EDT. */
		{ "2024-03-10 06:59", 0, "2024-03-10 07:00" },	/* 01:59 EST */
		{ "2024-03-10 07:00", 1, "2024-03-10 08:00" },
		{ "2024-03-10 08:00", 0, "2024-03-17 06:30" },
	};
	static const struct at_case autumn_twice[] = {
		/* 01:30 read twice: open at the first (EDT), until 03:00 EST. */
		{ "2024-11-03 05:29", 0, "2024-11-03 05:30" },
		{ "2024-11-03 05:30", 1, "2024-11-03 08:00" },
		{ "2024-11-03 06:15", 1, "2024-11-03 08:00" },	/* 01:15 EST */
		{ "2024-11-03 06:45", 1, "2024-11-03 08:00" },	/* 01:45 EST */
		{ "2024-11-03 08:00", 0, "2024-11-10 06:30" },
	};

	(void)state;
	CHECK_AT("mon-fri 09:00-17:00", "America/New_York", weekdays);
	CHECK_AT("sat 20:00-08:00", "America/New_York", spring_night);
	CHECK_AT("sun 02:30-04:00", "America/New_York", spring_skipped);
	CHECK_AT("sun 01:30-03:00", "America/New_York", autumn_twice);
}

/*
 * Australia/Lord_Howe moves its clocks by half an hour: 2024-04-07 02:00
 * (+11) back to 01:30 (+10:30) at 04-06 15:00 UTC; 2024-10-06 02:00
 * (+10:30) forward to 02:30 (+11) at 10-05 15:30 UTC.
 */
static void
hours_open_at_follows_half_hour_changes_on_lord_howe(void **state)
{
	static const struct at_case autumn[] = {
		/* 01:45 read twice: the first (+11), until 03:00 (+10:30). */
		{ "2024-04-06 14:44", 0, "2024-04-06 14:45" },
		{ "2024-04-06 14:45", 1, "2024-04-06 16:30" },
		{ "2024-04-06 15:10", 1, "2024-04-06 16:30" },	/* 01:40 again */
		{ "2024-04-06 16:30", 0, "2024-04-13 15:15" },
	};
	static const struct at_case spring[] = {
		/* 02:00 does not exist: open at 02:30 (+11) until 03:00. */
		{ "2024-10-05 15:29", 0, "2024-10-05 15:30" },	/* 01:59 +10:30 */
		{ "2024-10-05 15:30", 1, "2024-10-05 16:00" },
		{ "2024-10-05 16:00", 0, "2024-10-12 15:00" },
	};

	(void)state;
	CHECK_AT("sun 01:45-03:00", "Australia/Lord_Howe", autumn);
	CHECK_AT("sun 02:00-03:00", "Australia/Lord_Howe", spring);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(hours_parse_reads_days_ranges_and_times_into_the_weekly_table),
		cmocka_unit_test(hours_parse_refuses_bad_hours_naming_the_entry_and_the_fault),
		cmocka_unit_test(hours_parse_takes_real_zones_only),
		cmocka_unit_test(hours_open_at_changes_at_the_minute_of_opening_and_closing),
		cmocka_unit_test(hours_open_at_looks_past_the_weekend_for_the_next_opening),
		cmocka_unit_test(hours_open_at_runs_hours_past_midnight_into_the_next_day),
		cmocka_unit_test(hours_open_at_wraps_from_sunday_into_monday),
		cmocka_unit_test(hours_open_at_reads_the_hours_in_the_zones_local_time),
		cmocka_unit_test(hours_open_at_keeps_each_zone_apart_when_called_in_turn),
		cmocka_unit_test(hours_open_at_is_always_open_or_never_without_a_change),
		cmocka_unit_test(hours_open_at_follows_berlins_clocks_going_forward),
		cmocka_unit_test(hours_open_at_follows_berlins_clocks_going_back),
		cmocka_unit_test(hours_open_at_follows_new_yorks_clocks_both_ways),
		cmocka_unit_test(hours_open_at_follows_half_hour_changes_on_lord_howe),
	};

	return cmocka_run_group_tests_name("hours", tests, NULL, NULL);
}
