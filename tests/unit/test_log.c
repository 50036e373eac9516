#include "testutil.h"

#include "../../lib/clock.h"
#include "../../lib/log.h"

static void
log_mask_token_shows_first_8_and_last_4(void **state)
{
	char out[32];

	(void)state;
	assert_string_equal(log_mask_token("abcdefghijklmnopqrstuvwxyz", out,
	    sizeof(out)), "abcdefgh...wxyz");
	assert_string_equal(log_mask_token("0123456789", out, sizeof(out)),
	    "01234567...6789");
	assert_string_equal(log_mask_token("012345678", out, sizeof(out)), "***");
	assert_string_equal(log_mask_token("", out, sizeof(out)), "***");
	assert_string_equal(log_mask_token(NULL, out, sizeof(out)), "***");
}

/* Capture what log_msg writes to standard error. */
static void
capture(char *buf, size_t bufsz, enum log_level level, const char *id,
    const char *text)
{
	FILE *tmp = tmpfile();
	int saved = dup(STDERR_FILENO);
	size_t n;

	assert_non_null(tmp);
	fflush(stderr);
	dup2(fileno(tmp), STDERR_FILENO);
	log_msg(level, id, "%s", text);
	fflush(stderr);
	dup2(saved, STDERR_FILENO);
	close(saved);
	rewind(tmp);
	n = fread(buf, 1, bufsz - 1, tmp);
	buf[n] = '\0';
	fclose(tmp);
}

static void
log_msg_writes_one_line_in_fixed_field_order(void **state)
{
	char line[512];

	(void)state;
	log_init("chat-test", LOG_INFO, NULL);
	capture(line, sizeof(line), LOG_WARN, "42-7", "login failed");
	/* TIME PROGRAM LEVEL ID MESSAGE */
	assert_int_equal(strlen(line), CLOCK_RFC3339_LEN +
	    strlen(" chat-test warn 42-7 login failed\n"));
	assert_string_equal(line + CLOCK_RFC3339_LEN,
	    " chat-test warn 42-7 login failed\n");
	assert_int_equal(line[CLOCK_RFC3339_LEN - 1], 'Z');
}

static void
log_msg_escapes_control_characters(void **state)
{
	char line[512];

	(void)state;
	log_init("chat-test", LOG_INFO, NULL);
	capture(line, sizeof(line), LOG_ERROR, NULL, "a\nb\rc\x1b[31m\\");
	assert_string_equal(line + CLOCK_RFC3339_LEN,
	    " chat-test error - a\\nb\\x0dc\\x1b[31m\\\\\n");
}

static void
log_msg_skips_levels_above_the_configured_one(void **state)
{
	char line[512];

	(void)state;
	log_init("chat-test", LOG_WARN, NULL);
	capture(line, sizeof(line), LOG_INFO, NULL, "chatter");
	assert_string_equal(line, "");
}

static void
log_init_with_a_path_appends_lines_to_that_file(void **state)
{
	char dir[256], path[300], line[512];
	FILE *f;

	(void)state;
	tu_tmpdir(dir, sizeof(dir));
	snprintf(path, sizeof(path), "%s/chat.log", dir);
	log_init("chat-test", LOG_INFO, path);
	log_msg(LOG_INFO, "c-1", "first");
	log_msg(LOG_ERROR, "c-1", "second");
	assert_non_null(f = fopen(path, "r"));
	assert_non_null(fgets(line, sizeof(line), f));
	assert_string_equal(line + CLOCK_RFC3339_LEN, " chat-test info c-1 first\n");
	assert_non_null(fgets(line, sizeof(line), f));
	assert_string_equal(line + CLOCK_RFC3339_LEN, " chat-test error c-1 second\n");
	fclose(f);
	tu_rmdir(dir);
}

static void
clock_format_writes_rfc3339_with_milliseconds(void **state)
{
	char out[CLOCK_RFC3339_LEN + 1];

	(void)state;
	assert_string_equal(clock_format(1795520894123LL, out, sizeof(out)),
	    "2026-11-24T11:48:14.123Z");
	assert_string_equal(clock_format(0, out, sizeof(out)),
	    "1970-01-01T00:00:00.000Z");
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(log_mask_token_shows_first_8_and_last_4),
		cmocka_unit_test(log_msg_writes_one_line_in_fixed_field_order),
		cmocka_unit_test(log_msg_escapes_control_characters),
		cmocka_unit_test(log_msg_skips_levels_above_the_configured_one),
		cmocka_unit_test(log_init_with_a_path_appends_lines_to_that_file),
		cmocka_unit_test(clock_format_writes_rfc3339_with_milliseconds),
	};

	return cmocka_run_group_tests_name("log", tests, NULL, NULL);
}
