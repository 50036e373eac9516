#include "testutil.h"

#include "../../lib/chars.h"

/* Every White_Space code point of Unicode's PropList.txt, and neighbours that are not. */
static void
chars_is_space_is_unicode_white_space(void **state)
{
	static const uint32_t space[] = {
		0x09, 0x0a, 0x0b, 0x0c, 0x0d, 0x20, 0x85, 0xa0, 0x1680,
		0x2000, 0x2001, 0x2002, 0x2003, 0x2004, 0x2005, 0x2006, 0x2007,
		0x2008, 0x2009, 0x200a, 0x2028, 0x2029, 0x202f, 0x205f, 0x3000,
	};
	static const uint32_t not_space[] = {
		0x00, 0x08, 0x0e, 0x1f, 0x21, 0x84, 0x86, 0x9f, 0xa1, 0x167f,
		0x1681, 0x180e, 0x200b, 0x200c, 0x200d, 0x2027, 0x202a, 0x202e,
		0x2030, 0x205e, 0x2060, 0x2fff, 0x3001, 0xfeff, 'a', 0x4e00,
	};
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(space) / sizeof(space[0]); i++)
		if (!chars_is_space(space[i]))
			fail_msg("U+%04X is white space", (unsigned)space[i]);
	for (i = 0; i < sizeof(not_space) / sizeof(not_space[0]); i++)
		if (chars_is_space(not_space[i]))
			fail_msg("U+%04X is not white space", (unsigned)not_space[i]);
}

/* What each rule refuses, code point by code point. */
static void
chars_refused_cp_follows_the_table(void **state)
{
	static const struct {
		uint32_t cp;
		int name, text;		/* refused in names, in message text */
	} cases[] = {
		{ 0x00, 1, 1 }, { 0x07, 1, 1 }, { 0x09, 1, 0 }, { 0x0a, 1, 0 },
		{ 0x0b, 1, 1 }, { 0x0d, 1, 1 }, { 0x1b, 1, 1 }, { 0x1f, 1, 1 },
		{ 0x20, 0, 0 }, { 'A', 0, 0 }, { 0x7e, 0, 0 }, { 0x7f, 1, 1 },
		{ 0x80, 1, 1 }, { 0x85, 1, 1 }, { 0x9f, 1, 1 }, { 0xa0, 0, 0 },
		{ 0xe9, 0, 0 }, { 0x061c, 0, 0 }, { 0x200e, 0, 0 }, { 0x200f, 0, 0 },
		{ 0x2027, 0, 0 }, { 0x2028, 1, 0 }, { 0x2029, 1, 0 },
		{ 0x202a, 1, 0 }, { 0x202b, 1, 0 }, { 0x202c, 1, 0 },
		{ 0x202d, 1, 0 }, { 0x202e, 1, 0 }, { 0x202f, 0, 0 },
		{ 0x2065, 0, 0 }, { 0x2066, 1, 0 }, { 0x2067, 1, 0 },
		{ 0x2068, 1, 0 }, { 0x2069, 1, 0 }, { 0x206a, 0, 0 },
		{ 0x3000, 0, 0 }, { 0x4e2d, 0, 0 }, { 0x1f600, 0, 0 },
	};
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		if (chars_refused_cp(cases[i].cp, CHARS_NAME) != cases[i].name)
			fail_msg("U+%04X in a name: want %s", (unsigned)cases[i].cp,
			    cases[i].name ? "refused" : "taken");
		if (chars_refused_cp(cases[i].cp, CHARS_TEXT) != cases[i].text)
			fail_msg("U+%04X in text: want %s", (unsigned)cases[i].cp,
			    cases[i].text ? "refused" : "taken");
	}
}

static void
chars_refused_and_blank_read_utf8(void **state)
{
	(void)state;
	assert_int_equal(chars_refused("plain", CHARS_NAME), 0);
	assert_int_equal(chars_refused("a\xe2\x80\xae" "b", CHARS_NAME), 0x202e);
	assert_int_equal(chars_refused("a\xe2\x80\xae" "b", CHARS_TEXT), 0);
	assert_int_equal(chars_refused("\xf0\x9f\x98\x80\x07", CHARS_TEXT), 0x07);
	assert_int_equal(chars_refused("x\xc2\x85", CHARS_NAME), 0x85);
	assert_true(chars_blank(""));
	assert_true(chars_blank(" \t\n\xc2\xa0\xe3\x80\x80\xe2\x80\x8b\xef\xbb\xbf"));
	assert_false(chars_blank(" \xc2\xa0x"));
	assert_false(chars_blank("\xf0\x9f\x98\x80"));
}

static void
chars_next_decodes_every_length(void **state)
{
	const char *s = "a\xc3\xa9\xe4\xb8\xad\xf0\x9f\x98\x80";

	(void)state;
	assert_int_equal(chars_next(&s), 'a');
	assert_int_equal(chars_next(&s), 0xe9);
	assert_int_equal(chars_next(&s), 0x4e2d);
	assert_int_equal(chars_next(&s), 0x1f600);
	assert_int_equal(chars_next(&s), 0);
	assert_int_equal(chars_next(&s), 0);
	/* A sequence cut short by the end: no reading past it. */
	s = "\xe4\xb8";
	assert_int_equal(chars_next(&s), 0xfffd);
	assert_int_equal(*s, '\0');
}

static void
chars_valid_utf8_and_name_problems(void **state)
{
	static const struct {
		const char *s;
		int valid;
	} utf8[] = {
		{ "", 1 }, { "plain", 1 }, { "\xc3\xa9", 1 }, { "\xe4\xb8\xad", 1 },
		{ "\xf0\x9f\x98\x80", 1 }, { "\xf4\x8f\xbf\xbf", 1 },
		{ "\x80", 0 }, { "\xc3", 0 }, { "\xc0\xaf", 0 }, { "\xc1\xbf", 0 },
		{ "\xe0\x80\xaf", 0 }, { "\xed\xa0\x80", 0 }, { "\xf4\x90\x80\x80", 0 },
		{ "\xf8\x88\x80\x80\x80", 0 }, { "\xff", 0 }, { "ok\xe4\xb8", 0 },
	};
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(utf8) / sizeof(utf8[0]); i++)
		if (chars_valid_utf8(utf8[i].s) != utf8[i].valid)
			fail_msg("case %zu: want %s", i, utf8[i].valid ? "valid" :
			    "invalid");
	assert_null(chars_name_problem("Ida Agent"));
	assert_null(chars_name_problem("\xe5\xbc\xa0\xe4\xb8\x89"));
	assert_string_equal(chars_name_problem("a\xff"), "must be UTF-8");
	assert_string_equal(chars_name_problem(" \xe3\x80\x80"),
	    "must not be only white space");
	assert_string_equal(chars_name_problem("a\tb"),
	    "must not contain control characters");
	assert_string_equal(chars_name_problem("a\xe2\x80\xa8" "b"),
	    "must not contain line or paragraph separators");
	assert_string_equal(chars_name_problem("a\xe2\x81\xa6" "b"),
	    "must not contain bidirectional controls");
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(chars_is_space_is_unicode_white_space),
		cmocka_unit_test(chars_refused_cp_follows_the_table),
		cmocka_unit_test(chars_refused_and_blank_read_utf8),
		cmocka_unit_test(chars_next_decodes_every_length),
		cmocka_unit_test(chars_valid_utf8_and_name_problems),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
