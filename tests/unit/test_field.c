#include "testutil.h"

#include "../../lib/field.h"

/* One case: a request body, the field rules, and the expected outcome. */
struct string_case {
	const char *body;
	size_t min, max;
	int flags;
	const char *want;	/* the value, or NULL for a refusal */
	const char *err_has;	/* part of the refusal's message */
};

static const struct string_case string_cases[] = {
	{ "{\"name\":\"Zhang San\"}", 1, 100, 0, "Zhang San", NULL },
	{ "{\"name\":\"\"}", 1, 100, 0, NULL, "name must be 1 to 100 characters" },
	{ "{\"name\":\"abc\"}", 1, 2, 0, NULL, "name must be 1 to 2 characters" },
	{ "{\"name\":\"\\u5f20\\u4e09\"}", 1, 2, 0, "\xe5\xbc\xa0\xe4\xb8\x89", NULL },
	{ "{\"name\":\"\\ud83d\\ude00\"}", 1, 1, 0, "\xf0\x9f\x98\x80", NULL },
	{ "{\"name\":42}", 1, 100, 0, NULL, "name must be a string" },
	{ "{\"name\":[\"x\"]}", 1, 100, 0, NULL, "name must be a string" },
	{ "{\"name\":true}", 1, 100, 0, NULL, "name must be a string" },
	{ "{}", 1, 100, 0, NULL, "name is required" },
	{ "{\"name\":null}", 1, 100, 0, NULL, "name is required" },
	{ "{}", 1, 100, FIELD_OPTIONAL, "", NULL },
	{ "{\"name\":\"a\\nb\"}", 1, 100, FIELD_NO_CONTROL, NULL,
	    "name must not contain U+000A (a control character)" },
	{ "{\"name\":\"a\\nb\"}", 1, 100, 0, "a\nb", NULL },
	{ "{\"name\":\"a\\u0085b\"}", 1, 100, FIELD_NO_CONTROL, NULL,
	    "name must not contain U+0085 (a control character)" },
	{ "{\"name\":\"evil\\u202etxt.exe\"}", 1, 100, FIELD_NO_CONTROL, NULL,
	    "name must not contain U+202E (a bidirectional control)" },
	{ "{\"name\":\"a\\u2068b\"}", 1, 100, FIELD_NO_CONTROL, NULL,
	    "name must not contain U+2068 (a bidirectional control)" },
	{ "{\"name\":\"a\\u2028b\"}", 1, 100, FIELD_NO_CONTROL, NULL,
	    "name must not contain U+2028 (a line or paragraph separator)" },
	{ "{\"name\":\"\\u05e9\\u200f\\u05dc\"}", 1, 100, FIELD_NO_CONTROL,
	    "\xd7\xa9\xe2\x80\x8f\xd7\x9c", NULL },
	{ "{\"name\":\"\\u3000\\u00a0 \"}", 1, 100, FIELD_NOT_BLANK, NULL,
	    "name must not be only white space" },
	{ "{\"name\":\"\\u3000x\"}", 1, 100, FIELD_NOT_BLANK,
	    "\xe3\x80\x80x", NULL },
};

static void
field_string_checks_type_length_and_characters(void **state)
{
	const struct string_case *c;
	const char *out;
	char err[256];
	json_t *body;
	size_t i;
	int rc;

	(void)state;
	for (i = 0; i < sizeof(string_cases) / sizeof(string_cases[0]); i++) {
		c = &string_cases[i];
		body = json_loads(c->body, 0, NULL);
		assert_non_null(body);
		err[0] = '\0';
		rc = field_string(body, "name", c->min, c->max, c->flags, &out,
		    err, sizeof(err));
		if (c->want != NULL) {
			if (rc != 0)
				fail_msg("case %zu (%s): refused: %s", i, c->body, err);
			assert_string_equal(out != NULL ? out : "", c->want);
		} else {
			if (rc != -1)
				fail_msg("case %zu (%s): accepted", i, c->body);
			assert_string_equal(err, c->err_has);
		}
		json_decref(body);
	}
}

static void
field_id_accepts_only_positive_integers(void **state)
{
	static const struct {
		const char *body;
		int ok;
		int64_t want;
	} cases[] = {
		{ "{\"customerId\":7}", 1, 7 },
		{ "{\"customerId\":9007199254740993}", 1, 9007199254740993LL },
		{ "{\"customerId\":0}", 0, 0 },
		{ "{\"customerId\":-3}", 0, 0 },
		{ "{\"customerId\":\"7\"}", 0, 0 },
		{ "{\"customerId\":7.5}", 0, 0 },
		{ "{\"customerId\":null}", 0, 0 },
		{ "{}", 0, 0 },
	};
	char err[256];
	json_t *body;
	int64_t id;
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		body = json_loads(cases[i].body, 0, NULL);
		err[0] = '\0';
		if (cases[i].ok) {
			assert_int_equal(field_id(body, "customerId", &id, err,
			    sizeof(err)), 0);
			assert_int_equal(id, cases[i].want);
		} else {
			assert_int_equal(field_id(body, "customerId", &id, err,
			    sizeof(err)), -1);
			assert_non_null(strstr(err, "customerId"));
		}
		json_decref(body);
	}
}

static void
field_object_checks_type_and_size(void **state)
{
	char err[256], big[5000];
	json_t *body, *out;

	(void)state;
	body = json_loads("{\"metadata\":{\"source\":\"homepage\"}}", 0, NULL);
	assert_int_equal(field_object(body, "metadata", 4096, FIELD_OPTIONAL,
	    &out, err, sizeof(err)), 0);
	assert_true(json_is_object(out));
	json_decref(body);

	body = json_loads("{}", 0, NULL);
	assert_int_equal(field_object(body, "metadata", 4096, FIELD_OPTIONAL,
	    &out, err, sizeof(err)), 0);
	assert_null(out);
	json_decref(body);

	body = json_loads("{\"metadata\":[1]}", 0, NULL);
	assert_int_equal(field_object(body, "metadata", 4096, FIELD_OPTIONAL,
	    &out, err, sizeof(err)), -1);
	assert_string_equal(err, "metadata must be an object");
	json_decref(body);

	memset(big, 'x', sizeof(big) - 1);
	big[sizeof(big) - 1] = '\0';
	body = json_pack("{s:{s:s}}", "metadata", "k", big);
	assert_int_equal(field_object(body, "metadata", 4096, FIELD_OPTIONAL,
	    &out, err, sizeof(err)), -1);
	assert_string_equal(err, "metadata must be at most 4096 bytes of JSON");
	json_decref(body);

	/* Keys follow the rules of names; values are the site's own. */
	body = json_loads("{\"metadata\":{\"pl\\u202eh\":\"v\"}}", 0, NULL);
	assert_int_equal(field_object(body, "metadata", 4096, FIELD_OPTIONAL,
	    &out, err, sizeof(err)), -1);
	assert_string_equal(err, "metadata: the keys of the object must not "
	    "contain U+202E (a bidirectional control)");
	json_decref(body);
	body = json_loads("{\"metadata\":{\"note\":\"a\\u0007b\"}}", 0, NULL);
	assert_int_equal(field_object(body, "metadata", 4096, FIELD_OPTIONAL,
	    &out, err, sizeof(err)), 0);
	json_decref(body);
}

/* Message text: newline and tab, nothing else below U+0020; not only white space. */
static void
field_message_text_takes_text_and_refuses_controls(void **state)
{
	static const struct {
		const char *text;
		const char *err;	/* NULL: taken */
	} cases[] = {
		{ "Hello", NULL },
		{ "line one\nline two\tand a tab", NULL },
		{ "\xd7\xa9\xd7\x9c\xd7\x95\xd7\x9d \xe2\x80\x8f!", NULL },	/* Hebrew, RLM */
		{ "a \xe2\x80\xae b", NULL },	/* an override is only text here */
		{ "", "text must be 1 to 40 characters, not only white space" },
		{ "01234567890123456789012345678901234567890", "text must be 1 to 40 characters, not only white space" },
		{ " \t\n", "text must be 1 to 40 characters, not only white space" },
		{ "\xc2\xa0\xe3\x80\x80", "text must be 1 to 40 characters, not only white space" },
		{ "\xe2\x80\x8b\xef\xbb\xbf", "text must be 1 to 40 characters, not only white space" },
		{ "bell \x07", "text must not contain U+0007 (a control character)" },
		{ "esc \x1b[2J", "text must not contain U+001B (a control character)" },
		{ "cr\r\n", "text must not contain U+000D (a control character)" },
		{ "del \x7f", "text must not contain U+007F (a control character)" },
		{ "nel \xc2\x85", "text must not contain U+0085 (a control character)" },
	};
	char err[256];
	size_t i;
	int rc;

	(void)state;
	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		err[0] = '\0';
		rc = field_message_text("text", cases[i].text, 40, err,
		    sizeof(err));
		if (cases[i].err == NULL) {
			if (rc != 0)
				fail_msg("case %zu: refused: %s", i, err);
		} else {
			if (rc != -1)
				fail_msg("case %zu: accepted", i);
			assert_string_equal(err, cases[i].err);
		}
	}
}

static void
field_email_valid_takes_plain_addresses_only(void **state)
{
	static const char *const good[] = {
		"a@b.co", "first.last+tag@mail.example.com", "x_y-z@a-b.example",
		"o'brien@example.ie", "123@456.example",
	};
	static const char *const bad[] = {
		"", "plain", "@example.com", "a@", "a@b", "a@@b.com", "a@b@c.com",
		"a b@c.com", "a@b .com", ".a@b.com", "a.@b.com", "a..b@c.com",
		"\"q\"@b.com", "a@-b.com", "a@b-.com", "a@b..com", "a@.b.com",
		"a@b.com.", "a<b@c.com", "a@b.com\r\nBcc: x@y.com", "é@b.com",
		"a@bé.com", "a,b@c.com",
	};
	char local[70], domain[300];
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(good) / sizeof(good[0]); i++)
		if (!field_email_valid(good[i]))
			fail_msg("refused %s", good[i]);
	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		if (field_email_valid(bad[i]))
			fail_msg("took %s", bad[i]);
	/* 64 bytes of local part are fine, 65 are not; 254 in all at most. */
	memset(local, 'a', 65);
	local[65] = '\0';
	snprintf(domain, sizeof(domain), "%s@b.com", local);
	assert_false(field_email_valid(domain));
	local[64] = '\0';
	snprintf(domain, sizeof(domain), "%s@b.com", local);
	assert_true(field_email_valid(domain));
	/* A domain label of 64 characters is too long. */
	memset(local, 'd', 64);
	local[64] = '\0';
	snprintf(domain, sizeof(domain), "a@%s.com", local);
	assert_false(field_email_valid(domain));
}

static void
field_email_and_bool_name_the_field(void **state)
{
	char err[256];
	const char *out;
	json_t *body = json_loads("{\"email\":\"nope\",\"consent\":1,"
	    "\"ok\":true}", 0, NULL);
	int b;

	(void)state;
	assert_int_equal(field_email(body, "email", 0, &out, err, sizeof(err)),
	    -1);
	assert_string_equal(err, "email must be an email address "
	    "(name@example.com)");
	assert_int_equal(field_email(body, "missing", FIELD_OPTIONAL, &out, err,
	    sizeof(err)), 0);
	assert_null(out);
	assert_int_equal(field_bool(body, "consent", 0, &b, err, sizeof(err)),
	    -1);
	assert_string_equal(err, "consent must be true or false");
	assert_int_equal(field_bool(body, "ok", 0, &b, err, sizeof(err)), 0);
	assert_int_equal(b, 1);
	json_decref(body);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(field_string_checks_type_length_and_characters),
		cmocka_unit_test(field_id_accepts_only_positive_integers),
		cmocka_unit_test(field_object_checks_type_and_size),
		cmocka_unit_test(field_message_text_takes_text_and_refuses_controls),
		cmocka_unit_test(field_email_valid_takes_plain_addresses_only),
		cmocka_unit_test(field_email_and_bool_name_the_field),
	};

	return cmocka_run_group_tests_name("field", tests, NULL, NULL);
}
