#include "testutil.h"

#include "../../lib/query.h"

static const struct {
	const char *query, *name;
	int rc;
	const char *value;
} cases[] = {
	{ "token=abc", "token", 1, "abc" },
	{ "a=1&token=x%2By%3D&b=2", "token", 1, "x+y=" },
	{ "token=a+b", "token", 1, "a b" },
	{ "token=", "token", 1, "" },
	{ "token", "token", 1, "" },
	{ "tokens=abc", "token", 0, "" },
	{ "xtoken=abc", "token", 0, "" },
	{ "", "token", 0, "" },
	{ NULL, "token", 0, "" },
	{ "token=%zz%4", "token", 1, "%zz%4" },
	{ "status=queued&status=closed", "status", 1, "queued" },
	{ "token=0123456789", "token", -1, "" },	/* too long for 8 bytes */
};

static void
query_param_finds_and_decodes_parameters(void **state)
{
	char out[8];
	size_t i;
	int rc;

	(void)state;
	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		rc = query_param(cases[i].query, cases[i].name, out, sizeof(out));
		if (rc != cases[i].rc || strcmp(out, cases[i].value) != 0)
			fail_msg("case %zu (%s): got %d \"%s\", want %d \"%s\"", i,
			    cases[i].query != NULL ? cases[i].query : "NULL", rc,
			    out, cases[i].rc, cases[i].value);
	}
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(query_param_finds_and_decodes_parameters),
	};

	return cmocka_run_group_tests_name("query", tests, NULL, NULL);
}
