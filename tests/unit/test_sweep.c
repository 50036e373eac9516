/*
 * lib/sweep and lib/notify: when the mails nobody asks for are queued, and
 * what the mails say, on a database whose rows the tests write directly.
 */
#include "testutil.h"

#include "../../lib/agent.h"
#include "../../lib/customer.h"
#include "../../lib/notify.h"
#include "../../lib/sweep.h"

#define MIN_MS 60000LL

static void
mail_on(struct config *cfg)
{
	cfg->smtp_url = "smtp://127.0.0.1:2525";
	cfg->mail_from = "chat@example.com";
	cfg->mail_team = "team@example.com, second@example.com";
	cfg->chat_name = "Example Support";
	cfg->public_url = "https://chat.example.com/";
	cfg->unclaimed_timeout = 120;
	cfg->followup_after = 300;
}

static int
setup(void **state)
{
	struct fixture *f;

	tu_setup_db(state);
	f = *state;
	mail_on(&f->cfg);
	return 0;
}

static int64_t
customer(struct db *db, const char *name, const char *email)
{
	int64_t id;

	assert_int_equal(customer_create(db, name, "WEB", "{}", 0, &id),
	    CUSTOMER_OK);
	if (email != NULL)
		assert_int_equal(customer_set_email(db, id, email), CUSTOMER_OK);
	return id;
}

static int64_t
agent(struct db *db, const char *name)
{
	int64_t id;

	assert_int_equal(agent_add(db, name, name, "x", 0, &id), AGENT_OK);
	return id;
}

/* SQL built by the test, then run. */
static int64_t
run_sql(struct db *db, const char *fmt, ...)
{
	char sql[8192];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(sql, sizeof(sql), fmt, ap);
	va_end(ap);
	assert_int_equal(db_exec(db, sql), 0);
	return sqlite3_last_insert_rowid(db_handle(db));
}

static int64_t
session(struct db *db, int64_t cu, int64_t ag, const char *status,
    const char *kind, int64_t at)
{
	return run_sql(db, "INSERT INTO sessions (customer_id, agent_id, status,"
	    " channel, subject, kind, context, created_at) VALUES (%lld, %s, "
	    "'%s', 'WEB', 'Shipping', '%s', '{\"url\":\"https://shop.example.com/"
	    "cart\",\"browser\":\"Firefox 120\"}', %lld)", (long long)cu,
	    ag > 0 ? "1" : "NULL", status, kind, (long long)at);
}

/* A message, and its delivery to the customer; returns the message's id. */
static int64_t
message(struct db *db, int64_t s, const char *type, int64_t sender,
    const char *text, int64_t at)
{
	int64_t id = run_sql(db, "INSERT INTO messages (session_id, sender_type,"
	    " sender_id, text, created_at) VALUES (%lld, '%s', %s, '%s', %lld)",
	    (long long)s, type, sender > 0 ? "1" : "NULL", text, (long long)at);

	run_sql(db, "INSERT INTO deliveries (user_type, user_id, message_id, "
	    "session_id, created_at) SELECT 'customer', customer_id, %lld, id, "
	    "%lld FROM sessions WHERE id = %lld", (long long)id, (long long)at,
	    (long long)s);
	return id;
}

static int64_t
count(struct db *db, const char *where)
{
	char sql[512];

	snprintf(sql, sizeof(sql), "SELECT count(*) FROM mail_queue WHERE %s",
	    where);
	return tu_query_int(db, sql);
}

static int
hexval(char c)
{
	return c >= 'A' && c <= 'F' ? c - 'A' + 10 : c - '0';
}

/* The queued message of kind, its quoted-printable parts decoded, a new string. */
static char *
decoded(struct db *db, const char *kind)
{
	sqlite3_stmt *s;
	const char *qp;
	char *out, *o;

	assert_int_equal(sqlite3_prepare_v2(db_handle(db), "SELECT message FROM "
	    "mail_queue WHERE kind = ? ORDER BY id DESC LIMIT 1", -1, &s, NULL),
	    SQLITE_OK);
	sqlite3_bind_text(s, 1, kind, -1, SQLITE_STATIC);
	assert_int_equal(sqlite3_step(s), SQLITE_ROW);
	qp = (const char *)sqlite3_column_text(s, 0);
	o = out = malloc(strlen(qp) + 1);
	for (; *qp != '\0'; qp++) {
		if (qp[0] == '=' && qp[1] == '\r')
			qp += 2;
		else if (qp[0] == '=' && qp[1] != '\0' && qp[1] != '?' &&
		    qp[1] != '_') {
			*o++ = (char)(hexval(qp[1]) * 16 + hexval(qp[2]));
			qp += 2;
		} else if (qp[0] != '\r')
			*o++ = *qp;
	}
	*o = '\0';
	sqlite3_finalize(s);
	return out;
}

static void
sweep_mails_the_team_once_for_a_chat_queued_past_the_timeout(void **state)
{
	struct fixture *f = *state;
	int64_t s = session(f->db, customer(f->db, "Li Lei", "li@example.com"), 0,
	    "queued", "chat", 0);
	char *text;

	assert_int_equal(sweep_mail(f->db, &f->cfg, 2 * MIN_MS - 1), 0);
	assert_int_equal(count(f->db, "1"), 0);
	assert_int_equal(sweep_mail(f->db, &f->cfg, 2 * MIN_MS), 0);
	assert_int_equal(count(f->db, "kind = 'team_waiting'"), 2);
	assert_int_equal(count(f->db, "recipient = 'second@example.com'"), 1);
	assert_int_equal(tu_query_int(f->db, "SELECT alerted_at FROM sessions"),
	    2 * MIN_MS);
	assert_int_equal(sweep_mail(f->db, &f->cfg, 10 * MIN_MS), 0);
	assert_int_equal(count(f->db, "1"), 2);
	text = decoded(f->db, "team_waiting");
	assert_non_null(strstr(text, "Reply-To: <li@example.com>"));
	assert_non_null(strstr(text, "Li Lei has waited 2 minutes for an agent"));
	assert_non_null(strstr(text, "Question: Shipping"));
	assert_non_null(strstr(text, "Page: https://shop.example.com/cart"));
	assert_non_null(strstr(text, "Browser: Firefox 120"));
	assert_non_null(strstr(text, "https://chat.example.com/agent"));
	assert_int_equal(count(f->db, "session_id IS NOT NULL"), 2);
	(void)s;
	free(text);
}

static void
sweep_leaves_left_messages_taken_chats_and_a_chat_without_team_alone(void **state)
{
	struct fixture *f = *state;

	agent(f->db, "alice");
	session(f->db, customer(f->db, "A", NULL), 0, "queued", "message", 0);
	session(f->db, customer(f->db, "B", NULL), 1, "active", "chat", 0);
	session(f->db, customer(f->db, "C", NULL), 0, "closed", "chat", 0);
	assert_int_equal(sweep_mail(f->db, &f->cfg, 60 * MIN_MS), 0);
	assert_int_equal(count(f->db, "1"), 0);
	session(f->db, customer(f->db, "D", NULL), 0, "queued", "chat", 0);
	f->cfg.mail_team = "";
	assert_int_equal(sweep_mail(f->db, &f->cfg, 60 * MIN_MS), 0);
	f->cfg.mail_team = "team@example.com";
	f->cfg.smtp_url = "";
	assert_int_equal(sweep_mail(f->db, &f->cfg, 60 * MIN_MS), 0);
	assert_int_equal(count(f->db, "1"), 0);
	assert_int_equal(tu_query_int(f->db, "SELECT count(*) FROM sessions "
	    "WHERE alerted_at IS NOT NULL"), 0);
}

/* A visitor with an address whose chat Alice answered at 1000; returns the session. */
static int64_t
answered(struct db *db, int64_t *reply)
{
	int64_t cu = customer(db, "Li Lei", "li@example.com"), s;

	agent(db, "Alice Wong");
	s = session(db, cu, 1, "active", "chat", 0);
	message(db, s, "customer", cu, "Where is my parcel?", 500);
	*reply = message(db, s, "agent", 1, "It ships <today> & arrives Friday.",
	    1000);
	return s;
}

static void
sweep_follows_up_a_reply_the_visitor_did_not_receive(void **state)
{
	struct fixture *f = *state;
	int64_t reply, s = answered(f->db, &reply);
	char *text;

	assert_int_equal(sweep_mail(f->db, &f->cfg, 1000 + 5 * MIN_MS - 1), 0);
	assert_int_equal(count(f->db, "1"), 0);
	assert_int_equal(sweep_mail(f->db, &f->cfg, 1000 + 5 * MIN_MS), 0);
	assert_int_equal(count(f->db, "kind = 'followup' AND recipient = "
	    "'li@example.com'"), 1);
	assert_int_equal(tu_query_int(f->db, "SELECT followup_upto FROM "
	    "sessions"), reply);
	assert_int_equal(tu_query_int(f->db, "SELECT count(*) FROM resume_codes "
	    "WHERE customer_id = 1 AND session_id = 1"), 1);
	text = decoded(f->db, "followup");
	assert_non_null(strstr(text, "Subject: Alice Wong replied to your "
	    "message"));
	assert_non_null(strstr(text, "Hello Li Lei, you had left the chat with "
	    "Example Support when this answer came:"));
	assert_non_null(strstr(text, "Alice Wong:\nIt ships <today> & arrives "
	    "Friday."));
	assert_non_null(strstr(text, "It ships &lt;today&gt; &amp; arrives"));
	assert_null(strstr(text, "Where is my parcel?"));
	assert_non_null(strstr(text, "https://chat.example.com/#resume="));
	assert_non_null(strstr(text, "for 30 days; do not forward"));
	free(text);

	/* Mailed once; a later reply in a mail of its own. */
	assert_int_equal(sweep_mail(f->db, &f->cfg, 60 * MIN_MS), 0);
	assert_int_equal(count(f->db, "1"), 1);
	message(f->db, s, "agent", 1, "One more thing.", 61 * MIN_MS);
	assert_int_equal(sweep_mail(f->db, &f->cfg, 66 * MIN_MS), 0);
	assert_int_equal(count(f->db, "kind = 'followup'"), 2);
	text = decoded(f->db, "followup");
	assert_non_null(strstr(text, "One more thing."));
	assert_null(strstr(text, "It ships"));
	free(text);
}

static void
sweep_sends_no_follow_up_once_the_reply_reached_the_visitor(void **state)
{
	struct fixture *f = *state;
	int64_t reply;

	answered(f->db, &reply);
	run_sql(f->db, "INSERT INTO delivered (user_type, user_id, upto) SELECT "
	    "'customer', 1, max(id) FROM deliveries");
	assert_int_equal(sweep_mail(f->db, &f->cfg, 60 * MIN_MS), 0);
	assert_int_equal(count(f->db, "1"), 0);
}

static void
sweep_sends_no_follow_up_while_the_visitor_is_connected(void **state)
{
	struct fixture *f = *state;
	int64_t reply;

	answered(f->db, &reply);
	run_sql(f->db, "INSERT INTO connections (user_type, user_id, socket, "
	    "pid, created_at) VALUES ('customer', 1, 'sock', 1, 1)");
	assert_int_equal(sweep_mail(f->db, &f->cfg, 60 * MIN_MS), 0);
	assert_int_equal(count(f->db, "1"), 0);
	run_sql(f->db, "DELETE FROM connections");
	assert_int_equal(sweep_mail(f->db, &f->cfg, 60 * MIN_MS), 0);
	assert_int_equal(count(f->db, "1"), 1);
}

static void
sweep_sends_no_follow_up_for_a_closed_chat_or_when_it_is_off(void **state)
{
	struct fixture *f = *state;
	int64_t reply;

	answered(f->db, &reply);
	f->cfg.followup_after = 0;
	assert_int_equal(sweep_mail(f->db, &f->cfg, 60 * MIN_MS), 0);
	assert_int_equal(count(f->db, "1"), 0);
	f->cfg.followup_after = 300;
	run_sql(f->db, "UPDATE sessions SET status = 'closed', closed_at = 2000");
	assert_int_equal(sweep_mail(f->db, &f->cfg, 60 * MIN_MS), 0);
	assert_int_equal(count(f->db, "1"), 0);
}

static void
sweep_writes_the_follow_up_without_a_link_when_there_is_no_public_url(void **state)
{
	struct fixture *f = *state;
	int64_t reply;
	char *text;

	f->cfg.public_url = "";
	answered(f->db, &reply);
	assert_int_equal(sweep_mail(f->db, &f->cfg, 60 * MIN_MS), 0);
	text = decoded(f->db, "followup");
	assert_null(strstr(text, "#resume="));
	assert_non_null(strstr(text, "To answer, open the chat on our website "
	    "again."));
	assert_int_equal(tu_query_int(f->db, "SELECT count(*) FROM "
	    "resume_codes"), 0);
	free(text);
}

static void
notify_transcript_holds_the_conversation_with_names_and_system_lines(void **state)
{
	struct fixture *f = *state;
	int64_t reply, s = answered(f->db, &reply);
	char *text;

	run_sql(f->db, "INSERT INTO messages (session_id, sender_type, text, "
	    "event, created_at) VALUES (%lld, 'system', 'Alice Wong joined the "
	    "chat', 'joined', 700)", (long long)s);
	assert_int_equal(notify_transcript(f->db, &f->cfg, s, "copy@example.com",
	    MIN_MS), 0);
	assert_int_equal(count(f->db, "kind = 'transcript' AND recipient = "
	    "'copy@example.com'"), 1);
	text = decoded(f->db, "transcript");
	assert_non_null(strstr(text, "Subject: Your conversation with Example "
	    "Support"));
	assert_non_null(strstr(text, "[1970-01-01 00:00 UTC] Li Lei:\nWhere is "
	    "my parcel?"));
	assert_non_null(strstr(text, "[1970-01-01 00:00 UTC] -- Alice Wong "
	    "joined the chat --"));
	assert_non_null(strstr(text, "Alice Wong:\nIt ships <today>"));
	/* In the order of the log, system lines too. */
	assert_true(strstr(text, "Where is my") < strstr(text, "It ships") &&
	    strstr(text, "It ships") < strstr(text, "joined the"));
	assert_int_equal(notify_transcript(f->db, &f->cfg, 99, "copy@example.com",
	    MIN_MS), 0);
	assert_int_equal(count(f->db, "1"), 1);
	free(text);
}

static void
notify_transcript_keeps_the_end_of_a_long_conversation(void **state)
{
	struct fixture *f = *state;
	int64_t s = session(f->db, customer(f->db, "Talker", NULL), 0, "queued",
	    "chat", 0);
	char text[4001], *mail;
	int i;

	memset(text, 'x', 4000);
	text[4000] = '\0';
	for (i = 0; i < 80; i++) {
		memcpy(text, "m", 1);
		text[1] = (char)('0' + i / 10);
		text[2] = (char)('0' + i % 10);
		message(f->db, s, "customer", 1, text, i);
	}
	assert_int_equal(notify_transcript(f->db, &f->cfg, s, "t@example.com",
	    MIN_MS), 0);
	mail = decoded(f->db, "transcript");
	assert_non_null(strstr(mail, "(15 earlier messages are not included"));
	/* The newest 65 of 4000 bytes fit in 256 KiB: m15 to m79. */
	assert_non_null(strstr(mail, "m79xxx"));
	assert_non_null(strstr(mail, "m15xxx"));
	assert_null(strstr(mail, "m14xxx"));
	assert_true(strstr(mail, "m15xxx") < strstr(mail, "m79xxx"));
	free(mail);
}

static void
notify_left_message_tells_the_team_with_a_reply_to_the_visitor(void **state)
{
	struct fixture *f = *state;
	int64_t cu = customer(f->db, "Night Owl", "owl@example.com");
	int64_t s = session(f->db, cu, 0, "queued", "message", 0);
	char *text;

	message(f->db, s, "customer", cu, "Call me back after nine, please, "
	    "about the order that never came.", 1000);
	assert_int_equal(notify_left_message(f->db, &f->cfg, s, 2000), 0);
	assert_int_equal(count(f->db, "kind = 'team_message'"), 2);
	assert_int_equal(tu_query_int(f->db, "SELECT alerted_at FROM sessions"),
	    2000);
	text = decoded(f->db, "team_message");
	assert_non_null(strstr(text, "Reply-To: <owl@example.com>"));
	assert_non_null(strstr(text, "> Call me back after nine"));
	assert_non_null(strstr(text, "Email: owl@example.com"));
	assert_non_null(strstr(text, "Replying to this mail writes to the "
	    "visitor's address."));
	free(text);
}

#define T(name) cmocka_unit_test_setup_teardown(name, setup, tu_teardown_db)

int
main(void)
{
	const struct CMUnitTest tests[] = {
		T(sweep_mails_the_team_once_for_a_chat_queued_past_the_timeout),
		T(sweep_leaves_left_messages_taken_chats_and_a_chat_without_team_alone),
		T(sweep_follows_up_a_reply_the_visitor_did_not_receive),
		T(sweep_sends_no_follow_up_once_the_reply_reached_the_visitor),
		T(sweep_sends_no_follow_up_while_the_visitor_is_connected),
		T(sweep_sends_no_follow_up_for_a_closed_chat_or_when_it_is_off),
		T(sweep_writes_the_follow_up_without_a_link_when_there_is_no_public_url),
		T(notify_transcript_holds_the_conversation_with_names_and_system_lines),
		T(notify_transcript_keeps_the_end_of_a_long_conversation),
		T(notify_left_message_tells_the_team_with_a_reply_to_the_visitor),
	};

	return cmocka_run_group_tests_name("sweep", tests, NULL, NULL);
}
