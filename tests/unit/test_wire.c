#include "testutil.h"

#include <jansson.h>

#include "../../lib/wire.h"

/* wire_message_text(m) parses to the very object wire_message(m) builds. */
static void
same_as_wire_message(const struct message *m)
{
	char *text = wire_message_text(m);
	json_t *want = wire_message(m), *got;
	json_error_t err;

	assert_non_null(text);
	assert_non_null(want);
	if ((got = json_loads(text, 0, &err)) == NULL)
		fail_msg("not JSON: %s: %s", err.text, text);
	if (!json_equal(got, want))
		fail_msg("differs: %s vs %s", text, json_dumps(want, JSON_COMPACT));
	json_decref(got);
	json_decref(want);
	free(text);
}

static void
wire_message_text_matches_wire_message(void **state)
{
	static const char *const texts[] = {
		"hi", "", "quote \" and backslash \\ and slash /",
		"tab\tnew\nline\rcr\bbs\fff \x01 \x1f \x7f", "日本語 emoji \xf0\x9f\x98\x80",
	};
	struct message *m = calloc(1, sizeof(*m));
	size_t i;

	(void)state;
	assert_non_null(m);
	for (i = 0; i < sizeof(texts) / sizeof(texts[0]); i++) {
		memset(m, 0, sizeof(*m));
		m->id = 42 + (int64_t)i;
		m->session_id = 7;
		m->sender_type = i % 2 == 0 ? SENDER_CUSTOMER : SENDER_AGENT;
		m->sender_id = (int64_t)i;	/* 0: null */
		snprintf(m->text, sizeof(m->text), "%s", texts[i]);
		snprintf(m->client_msg_id, sizeof(m->client_msg_id), "%s",
		    i % 2 == 0 ? texts[i] : "");
		m->created_at = i == 1 ? 0 : 1764633600123;
		snprintf(m->sender_name, sizeof(m->sender_name), "%s",
		    i == 2 ? "" : texts[i]);
		same_as_wire_message(m);
	}
	memset(m, 0, sizeof(*m));
	m->id = 9;
	m->session_id = 3;
	m->sender_type = SENDER_SYSTEM;
	m->event = EVENT_TRANSFERRED;
	m->event_agent_id = 2;
	m->event_from_agent_id = 1;
	snprintf(m->text, sizeof(m->text), "A transferred the chat to \"B\"");
	snprintf(m->event_agent, sizeof(m->event_agent), "\"B\"");
	snprintf(m->event_from_agent, sizeof(m->event_from_agent), "A");
	m->created_at = 1;
	same_as_wire_message(m);
	m->event = EVENT_JOINED;
	m->event_from_agent_id = 0;
	same_as_wire_message(m);
	free(m);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(wire_message_text_matches_wire_message),
	};

	return cmocka_run_group_tests_name("wire", tests, NULL, NULL);
}
