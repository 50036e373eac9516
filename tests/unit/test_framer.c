#include "testutil.h"

#include "../../lib/framer.h"

/*
 * One case: the bytes websocketd wrote (in one piece, or byte by byte),
 * and what comes out, in order: "F:<type>" for a frame with that "type",
 * "B" for a bad frame, "M" once it wants more.
 */
struct framer_case {
	const char *input;
	const char *want;	/* outcomes separated by spaces */
};

static const struct framer_case framer_cases[] = {
	{ "{\"type\":\"ping\"}\n", "F:ping M" },
	{ "{\"type\":\"a\"}\n{\"type\":\"b\"}\n", "F:a F:b M" },
	/* Pretty-printed JSON is one frame, newlines and all. */
	{ "{\n  \"type\": \"ping\",\n  \"x\": [\n    1,\n    2\n  ]\n}\n",
	    "F:ping M" },
	{ "{\"type\":\"a\"}  \r\n", "F:a M" },
	/* No newline yet: the frame may go on. */
	{ "{\"type\":\"a\"", "M" },
	{ "{\"type\":\"a\"}", "M" },
	/* A binary frame (no newline) glued to the text frame after it. */
	{ "\x01\x02\xff{\"type\":\"a\"}\n", "B F:a M" },
	{ "{\"type\":\"bin\"}{\"type\":\"a\"}\n", "B F:a M" },
	{ "{\"a{\"type\":\"a\"}\n", "B F:a M" },
	/* Bad JSON is one bad frame; the next frame is found again. */
	{ "{\"type\": ping}\n{\"type\":\"a\"}\n", "B F:a M" },
	{ "not json\n{\"type\":\"a\"}\n", "B F:a M" },
	/* A bad pretty-printed frame: one error, not one per line. */
	{ "{\n  \"type\": ping,\n  \"x\": 1\n}\n{\"type\":\"a\"}\n", "B F:a M" },
	{ "{\"type\":\"a\",\"type\":\"b\"}\n{\"type\":\"c\"}\n", "B F:c M" },
	/* A value that is no object is still one frame; frames.c refuses it. */
	{ "[1,2]\n", "F:- M" },
	{ "\"text\"\n42\n", "F:- F:- M" },
	{ "\n\n  \n", "M" },
};

/* Input with NUL bytes (a binary frame may hold any byte), by length. */
static const char nul_input[] = "\0\1\2{\"type\":\"a\"}\n";

/* Run input through a framer (whole, or byte by byte) and describe what came out. */
static void
run_case(const char *input, int bytewise, char *out, size_t outsz)
{
	struct framer f;
	size_t len = strlen(input), fed = 0, room, n;
	enum framer_status st;
	const char *why, *type;
	json_t *frame;
	char *space;

	out[0] = '\0';
	assert_int_equal(framer_init(&f, 4096), 0);
	while (fed < len) {
		space = framer_space(&f, &room);
		n = bytewise ? 1 : len - fed;
		assert_true(room >= n);
		memcpy(space, input + fed, n);
		framer_added(&f, n);
		fed += n;
		while ((st = framer_next(&f, &frame, &why)) != FRAMER_MORE) {
			if (st == FRAMER_FRAME) {
				type = json_string_value(json_object_get(frame, "type"));
				snprintf(out + strlen(out), outsz - strlen(out),
				    "F:%s ", type != NULL ? type : "-");
				json_decref(frame);
			} else {
				assert_non_null(why);
				snprintf(out + strlen(out), outsz - strlen(out), "B ");
			}
		}
	}
	snprintf(out + strlen(out), outsz - strlen(out), "M");
	framer_free(&f);
}

/* Run the first n cases, whole or byte by byte, and check each outcome. */
static void
check_cases(size_t n, int bytewise)
{
	char got[256];
	size_t i;

	for (i = 0; i < n; i++) {
		run_case(framer_cases[i].input, bytewise, got, sizeof(got));
		if (strcmp(got, framer_cases[i].want) != 0)
			fail_msg("case %zu: got \"%s\", want \"%s\"", i, got,
			    framer_cases[i].want);
	}
}

static void
framer_splits_frames_by_parsing_not_by_lines(void **state)
{
	(void)state;
	check_cases(sizeof(framer_cases) / sizeof(framer_cases[0]), 0);
}

static void
framer_refuses_a_binary_frame_with_nul_bytes_and_keeps_the_next(void **state)
{
	struct framer f;
	size_t room;
	const char *why;
	json_t *frame;

	(void)state;
	assert_int_equal(framer_init(&f, 4096), 0);
	memcpy(framer_space(&f, &room), nul_input, sizeof(nul_input) - 1);
	framer_added(&f, sizeof(nul_input) - 1);
	assert_int_equal(framer_next(&f, &frame, &why), FRAMER_BAD);
	assert_int_equal(framer_next(&f, &frame, &why), FRAMER_FRAME);
	assert_string_equal(json_string_value(json_object_get(frame, "type")), "a");
	json_decref(frame);
	assert_int_equal(framer_next(&f, &frame, &why), FRAMER_MORE);
	framer_free(&f);
}

static void
framer_finds_the_same_frames_when_input_comes_byte_by_byte(void **state)
{
	(void)state;
	/* Good input only: a bad frame's end is found where the bytes allow. */
	check_cases(6, 1);
}

static void
framer_skips_a_frame_larger_than_its_buffer_and_keeps_the_next(void **state)
{
	char big[300], got[64];
	struct framer f;
	size_t room;
	const char *why;
	json_t *frame;
	char *space;

	(void)state;
	memset(big, 'x', sizeof(big));
	memcpy(big, "{\"t\":\"", 6);
	assert_int_equal(framer_init(&f, 128), 0);
	space = framer_space(&f, &room);
	memcpy(space, big, room);
	framer_added(&f, room);
	assert_int_equal(framer_next(&f, &frame, &why), FRAMER_BAD);
	assert_string_equal(why, "frame is too large");
	space = framer_space(&f, &room);
	snprintf(got, sizeof(got), "xxx\"}\n{\"type\":\"a\"}\n");
	memcpy(space, got, strlen(got));
	framer_added(&f, strlen(got));
	assert_int_equal(framer_next(&f, &frame, &why), FRAMER_FRAME);
	assert_string_equal(json_string_value(json_object_get(frame, "type")), "a");
	json_decref(frame);
	assert_int_equal(framer_next(&f, &frame, &why), FRAMER_MORE);
	framer_free(&f);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(framer_splits_frames_by_parsing_not_by_lines),
		cmocka_unit_test(framer_refuses_a_binary_frame_with_nul_bytes_and_keeps_the_next),
		cmocka_unit_test(framer_finds_the_same_frames_when_input_comes_byte_by_byte),
		cmocka_unit_test(framer_skips_a_frame_larger_than_its_buffer_and_keeps_the_next),
	};

	return cmocka_run_group_tests_name("framer", tests, NULL, NULL);
}
