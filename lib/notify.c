#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "db.h"
#include "field.h"
#include "letter.h"
#include "log.h"
#include "mail.h"
#include "notify.h"
#include "resume.h"

#define TRANSCRIPT_MAX (256 * 1024)	/* bytes of message text in one transcript */
#define FOLLOWUP_MAX 50			/* replies in one follow-up */
#define EXCERPT_CHARS 60		/* of a message in a subject */

enum stmt {
	STMT_SESSION,
	STMT_LAST_CUSTOMER,
	STMT_CONVERSATION,
	STMT_MARK_ALERTED,
	STMT_REPLIES,
	STMT_SET_FOLLOWUP,
	STMT__MAX
};

/* The name of a message's sender, by its type; NULL for system lines. */
#define SENDER_NAME \
	"CASE m.sender_type" \
	" WHEN 'agent' THEN (SELECT display_name FROM agents WHERE id = m.sender_id)" \
	" WHEN 'customer' THEN (SELECT name FROM customers WHERE id = m.sender_id)" \
	" END"

/* Undelivered: a delivery of message m to customer cust lies past their delivered.upto. */
#define UNDELIVERED(cust) \
	"EXISTS (SELECT 1 FROM deliveries d WHERE d.user_type = 'customer'" \
	" AND d.user_id = " cust " AND d.message_id = m.id AND d.id > coalesce(" \
	"(SELECT upto FROM delivered WHERE user_type = 'customer'" \
	" AND user_id = " cust "), 0))"

static const char *const stmts[STMT__MAX] = {
	[STMT_SESSION] =
	    "SELECT s.id, s.customer_id, coalesce(s.subject, ''), s.context,"
	    " s.created_at, c.name, coalesce(c.email, '')"
	    " FROM sessions s JOIN customers c ON c.id = s.customer_id"
	    " WHERE s.id = ?",
	[STMT_LAST_CUSTOMER] =
	    "SELECT text FROM messages WHERE session_id = ?"
	    " AND sender_type = 'customer' ORDER BY id DESC LIMIT 1",
	/* Newest first: a long conversation keeps its end. */
	[STMT_CONVERSATION] =
	    "SELECT m.sender_type, coalesce(" SENDER_NAME ", ''), m.text,"
	    " m.created_at FROM messages m WHERE m.session_id = ?"
	    " ORDER BY m.id DESC",
	[STMT_MARK_ALERTED] =
	    "UPDATE sessions SET alerted_at = coalesce(alerted_at, ?2)"
	    " WHERE id = ?1",
	[STMT_REPLIES] =
	    "SELECT m.id, coalesce(" SENDER_NAME ", ''), m.text, m.created_at"
	    " FROM messages m JOIN sessions s ON s.id = m.session_id"
	    " WHERE m.session_id = ?1 AND m.sender_type = 'agent'"
	    " AND m.id > s.followup_upto AND " UNDELIVERED("s.customer_id")
	    " ORDER BY m.id LIMIT ?2",
	[STMT_SET_FOLLOWUP] =
	    "UPDATE sessions SET followup_upto = max(followup_upto, ?2)"
	    " WHERE id = ?1",
};

/* A session with what its mails tell. */
struct about {
	int64_t id, customer_id, created_at;
	char subject[1024];
	char context[4097];
	char name[512];
	char email[256];
};

/* Lines of a conversation, in order. */
struct line {
	char *who;	/* "" for a system line */
	char *text;
	int64_t at;
	int system;
};

struct lines {
	struct line *v;
	size_t n, cap;
	size_t omitted;		/* older lines left out */
	int64_t last_id;	/* of the last line read, for replies */
};

/* Step s to its end and reset it: 0, or -1 on an error. */
static int
run(sqlite3_stmt *s)
{
	int rc = sqlite3_step(s);

	db_done(s);
	return rc == SQLITE_DONE ? 0 : -1;
}

/* Load session id into *a: 1, 0 when there is none, -1 on an error. */
static int
about_load(struct db *db, int64_t id, struct about *a)
{
	sqlite3_stmt *s = db_stmt(db, stmts[STMT_SESSION]);
	int rc;

	if (s == NULL)
		return -1;
	sqlite3_bind_int64(s, 1, id);
	if ((rc = sqlite3_step(s)) == SQLITE_ROW) {
		a->id = sqlite3_column_int64(s, 0);
		a->customer_id = sqlite3_column_int64(s, 1);
		db_column_copy(s, 2, a->subject, sizeof(a->subject));
		db_column_copy(s, 3, a->context, sizeof(a->context));
		a->created_at = sqlite3_column_int64(s, 4);
		db_column_copy(s, 5, a->name, sizeof(a->name));
		db_column_copy(s, 6, a->email, sizeof(a->email));
	}
	db_done(s);
	return rc == SQLITE_ROW ? 1 : rc == SQLITE_DONE ? 0 : -1;
}

static void
lines_free(struct lines *l)
{
	size_t i;

	for (i = 0; i < l->n; i++) {
		free(l->v[i].who);
		free(l->v[i].text);
	}
	free(l->v);
	memset(l, 0, sizeof(*l));
}

static int
lines_add(struct lines *l, const char *who, const char *text, int64_t at,
    int system)
{
	struct line *v;

	if (l->n == l->cap) {
		if ((v = realloc(l->v, (l->cap * 2 + 16) * sizeof(*v))) == NULL)
			return -1;
		l->v = v;
		l->cap = l->cap * 2 + 16;
	}
	v = &l->v[l->n];
	v->who = strdup(who);
	v->text = strdup(text);
	v->at = at;
	v->system = system;
	if (v->who == NULL || v->text == NULL) {
		free(v->who);
		free(v->text);
		return -1;
	}
	l->n++;
	return 0;
}

/* The conversation, oldest first, its newest TRANSCRIPT_MAX bytes. 0 or -1. */
static int
lines_conversation(struct db *db, int64_t session_id, struct lines *l)
{
	sqlite3_stmt *s = db_stmt(db, stmts[STMT_CONVERSATION]);
	size_t bytes = 0, i;
	struct line t;
	int rc;

	if (s == NULL)
		return -1;
	sqlite3_bind_int64(s, 1, session_id);
	while ((rc = sqlite3_step(s)) == SQLITE_ROW) {
		const char *text = (const char *)sqlite3_column_text(s, 2);

		bytes += strlen(text);
		if (bytes > TRANSCRIPT_MAX && l->n > 0) {
			l->omitted++;
			continue;
		}
		if (lines_add(l, (const char *)sqlite3_column_text(s, 1), text,
		    sqlite3_column_int64(s, 3), strcmp((const char *)
		    sqlite3_column_text(s, 0), "system") == 0) == -1)
			break;
	}
	db_done(s);
	for (i = 0; i < l->n / 2; i++) {
		t = l->v[i];
		l->v[i] = l->v[l->n - 1 - i];
		l->v[l->n - 1 - i] = t;
	}
	return rc == SQLITE_DONE ? 0 : -1;
}

/* The replies a follow-up of session_id mails. 0 or -1. */
static int
lines_replies(struct db *db, int64_t session_id, struct lines *l)
{
	sqlite3_stmt *s = db_stmt(db, stmts[STMT_REPLIES]);
	int rc;

	if (s == NULL)
		return -1;
	sqlite3_bind_int64(s, 1, session_id);
	sqlite3_bind_int(s, 2, FOLLOWUP_MAX);
	while ((rc = sqlite3_step(s)) == SQLITE_ROW) {
		l->last_id = sqlite3_column_int64(s, 0);
		if (lines_add(l, (const char *)sqlite3_column_text(s, 1),
		    (const char *)sqlite3_column_text(s, 2),
		    sqlite3_column_int64(s, 3), 0) == -1)
			break;
	}
	db_done(s);
	return rc == SQLITE_DONE ? 0 : -1;
}

/* The first line of s, at most EXCERPT_CHARS characters, "…" when cut. */
static const char *
excerpt(const char *s, char *out, size_t outsz)
{
	size_t n = 0, chars = 0;

	s += strspn(s, " \t\r\n");
	while (s[n] != '\0' && s[n] != '\n' && s[n] != '\r' && n + 8 < outsz) {
		if (((unsigned char)s[n] & 0xc0) != 0x80 &&
		    ++chars > EXCERPT_CHARS)
			break;
		n++;
	}
	snprintf(out, outsz, "%.*s%s", (int)n, s, s[n] != '\0' ? "…" : "");
	return out;
}

/* CHAT_PUBLIC_URL without its trailing slashes, then path; "" when it is unset. */
static const char *
public_link(const struct config *cfg, const char *path, char *out,
    size_t outsz)
{
	size_t n = strlen(cfg->public_url);

	while (n > 0 && cfg->public_url[n - 1] == '/')
		n--;
	if (n == 0)
		out[0] = '\0';
	else
		snprintf(out, outsz, "%.*s%s", (int)n, cfg->public_url, path);
	return out;
}

/* Where the visitor was, from the session's context: the fields it has. */
static void
put_context(struct letter *l, const char *context)
{
	static const char *const keys[][2] = {
		{ "url", "Page" }, { "title", "Page title" },
		{ "referrer", "Came from" }, { "browser", "Browser" },
		{ "os", "System" }, { "language", "Language" },
	};
	json_t *obj = json_loads(context, 0, NULL), *v;
	size_t i;
	int any = 0;

	for (i = 0; obj != NULL && i < sizeof(keys) / sizeof(keys[0]); i++) {
		v = json_object_get(obj, keys[i][0]);
		if (json_is_string(v) && json_string_value(v)[0] != '\0') {
			letter_field(l, keys[i][1], json_string_value(v));
			any = 1;
		}
	}
	if (any)
		letter_gap(l);
	json_decref(obj);
}

/* The visitor's name and address, and their question, for the team. */
static void
put_visitor(struct letter *l, const struct about *a)
{
	letter_field(l, "Name", a->name);
	letter_field(l, "Email", a->email[0] != '\0' ? a->email :
	    "(none given)");
	if (a->subject[0] != '\0')
		letter_field(l, "Question", a->subject);
	letter_gap(l);
}

/* The team's way to the workbench, when there is an address for it. */
static void
put_workbench(struct letter *l, const struct config *cfg)
{
	char url[2048];

	if (public_link(cfg, "/agent", url, sizeof(url))[0] != '\0')
		letter_link(l, "Answer in the workbench", url);
}

/*
 * Finish l and queue it as m (m->to NULL: to the team). Frees l. Returns
 * 0, or -1 on a database error; a mail refused as invalid is logged and
 * skipped.
 */
static int
send_letter(struct db *db, const struct config *cfg, struct letter *l,
    struct mail *m, int64_t now)
{
	enum mail_status st = MAIL_ERROR;

	if (l == NULL || letter_finish(l, &m->text, &m->html) == -1)
		log_msg(LOG_ERROR, NULL, "mail %s for session %lld: out of "
		    "memory composing it", m->kind, (long long)m->session_id);
	else if (m->to == NULL)
		st = mail_enqueue_team(db, cfg, m, now);
	else
		st = mail_enqueue(db, cfg, m, now, NULL);
	if (st == MAIL_INVALID)
		log_msg(LOG_WARN, NULL, "mail %s to %s for session %lld: not "
		    "queued: %s", m->kind, m->to != NULL ? m->to : "the team",
		    (long long)m->session_id,
		    mail_strerror(st));
	letter_free(l);
	return st == MAIL_ERROR ? -1 : 0;
}

/* The session's last customer message into out; "" when there is none. 0 or -1. */
static int
last_customer_text(struct db *db, int64_t session_id, char *out,
    size_t outsz)
{
	sqlite3_stmt *s = db_stmt(db, stmts[STMT_LAST_CUSTOMER]);
	int rc;

	out[0] = '\0';
	if (s == NULL)
		return -1;
	sqlite3_bind_int64(s, 1, session_id);
	if ((rc = sqlite3_step(s)) == SQLITE_ROW)
		db_column_copy(s, 0, out, outsz);
	db_done(s);
	return rc == SQLITE_ROW || rc == SQLITE_DONE ? 0 : -1;
}

static int
mark_alerted(struct db *db, int64_t session_id, int64_t now)
{
	sqlite3_stmt *s = db_stmt(db, stmts[STMT_MARK_ALERTED]);

	if (s == NULL)
		return -1;
	sqlite3_bind_int64(s, 1, session_id);
	sqlite3_bind_int64(s, 2, now);
	return run(s);
}

int
notify_left_message(struct db *db, const struct config *cfg,
    int64_t session_id, int64_t now)
{
	char text[16384], cut[EXCERPT_CHARS * 4 + 8], subject[1024], intro[1024];
	struct mail m = { .kind = "team_message", .session_id = session_id };
	struct letter *l;
	struct about a;
	int rc;

	if (!mail_enabled(cfg))
		return 0;
	if ((rc = about_load(db, session_id, &a)) != 1 ||
	    last_customer_text(db, session_id, text, sizeof(text)) == -1)
		return rc == 0 ? 0 : -1;
	snprintf(subject, sizeof(subject), "Message from %s: %s", a.name,
	    excerpt(text, cut, sizeof(cut)));
	snprintf(intro, sizeof(intro), "%s left a message in chat %lld, "
	    "while nobody could answer:", a.name, (long long)a.id);
	if ((l = letter_new(subject, cfg->timezone)) != NULL) {
		letter_p(l, intro);
		letter_quote(l, text);
		put_visitor(l, &a);
		put_context(l, a.context);
		if (field_email_valid(a.email))
			letter_p(l, "Replying to this mail writes to the "
			    "visitor's address.");
		put_workbench(l, cfg);
	}
	m.subject = subject;
	m.reply_to = field_email_valid(a.email) ? a.email : NULL;
	if (send_letter(db, cfg, l, &m, now) == -1)
		return -1;
	return mark_alerted(db, session_id, now);
}

int
notify_waiting(struct db *db, const struct config *cfg, int64_t session_id,
    int64_t now)
{
	char text[16384], subject[1024], intro[1024], since[64];
	struct mail m = { .kind = "team_waiting", .session_id = session_id };
	struct letter *l;
	struct about a;
	int64_t minutes;
	int rc;

	if (!mail_enabled(cfg))
		return 0;
	if ((rc = about_load(db, session_id, &a)) != 1 ||
	    last_customer_text(db, session_id, text, sizeof(text)) == -1)
		return rc == 0 ? 0 : -1;
	minutes = (now - a.created_at) / 60000;
	snprintf(subject, sizeof(subject), "Visitor waiting: %s (chat %lld)",
	    a.name, (long long)a.id);
	snprintf(since, sizeof(since), minutes < 1 ? "under a minute" :
	    minutes == 1 ? "a minute" : "%lld minutes", (long long)minutes);
	snprintf(intro, sizeof(intro), "%s has waited %s for an agent to "
	    "take chat %lld, and nobody has yet.", a.name, since,
	    (long long)a.id);
	if ((l = letter_new(subject, cfg->timezone)) != NULL) {
		letter_p(l, intro);
		put_visitor(l, &a);
		if (text[0] != '\0') {
			letter_p(l, "Their last message:");
			letter_quote(l, text);
		}
		put_context(l, a.context);
		put_workbench(l, cfg);
	}
	m.subject = subject;
	m.reply_to = field_email_valid(a.email) ? a.email : NULL;
	return send_letter(db, cfg, l, &m, now);
}

int
notify_transcript(struct db *db, const struct config *cfg,
    int64_t session_id, const char *email, int64_t now)
{
	struct mail m = { .kind = "transcript", .session_id = session_id };
	struct lines lines = { 0 };
	char subject[512], intro[1024], omitted[256];
	struct letter *l;
	struct about a;
	size_t i;
	int rc;

	if (!mail_enabled(cfg))
		return 0;
	if ((rc = about_load(db, session_id, &a)) != 1 ||
	    lines_conversation(db, session_id, &lines) == -1) {
		lines_free(&lines);
		return rc == 0 ? 0 : -1;
	}
	snprintf(subject, sizeof(subject), "Your conversation with %s",
	    cfg->chat_name);
	snprintf(intro, sizeof(intro), "Hello %s, here is your conversation "
	    "with %s, as you asked in the chat.", a.name, cfg->chat_name);
	if ((l = letter_new(subject, cfg->timezone)) != NULL) {
		letter_p(l, intro);
		if (lines.omitted > 0) {
			snprintf(omitted, sizeof(omitted), "(%zu earlier "
			    "message%s not included: the conversation is too "
			    "long for one mail.)", lines.omitted,
			    lines.omitted == 1 ? " is" : "s are");
			letter_p(l, omitted);
		}
		for (i = 0; i < lines.n; i++)
			if (lines.v[i].system)
				letter_event(l, lines.v[i].at, lines.v[i].text);
			else
				letter_said(l, lines.v[i].who, lines.v[i].at,
				    lines.v[i].text);
		if (lines.n == 0)
			letter_p(l, "(No messages.)");
	}
	lines_free(&lines);
	m.to = email;
	m.subject = subject;
	return send_letter(db, cfg, l, &m, now);
}

int
notify_test(struct db *db, const struct config *cfg, const char *to,
    int64_t now, int64_t *id)
{
	struct mail m = { .to = to, .kind = "test" };
	char subject[512], intro[1024];
	struct letter *l;
	enum mail_status st = MAIL_ERROR;

	*id = 0;
	if (!mail_enabled(cfg))
		return 0;
	snprintf(subject, sizeof(subject), "Test mail from %s", cfg->chat_name);
	snprintf(intro, sizeof(intro), "This is a test mail from %s, queued "
	    "by chatctl mail test. It reached you, so the chat's mail works: "
	    "chat-mail handed it to the SMTP server.", cfg->chat_name);
	if ((l = letter_new(subject, cfg->timezone)) != NULL) {
		letter_p(l, intro);
		letter_field(l, "Sender", cfg->mail_from);
		letter_field(l, "Team", cfg->mail_team[0] != '\0' ?
		    cfg->mail_team : "(none: the team gets no mail)");
		letter_gap(l);
		letter_p(l, "Text outside ASCII reads as: Grüße, 你好, ✓");
		m.subject = subject;
		if (letter_finish(l, &m.text, &m.html) == 0)
			st = mail_enqueue(db, cfg, &m, now, id);
	}
	letter_free(l);
	return st == MAIL_OK ? 0 : -1;
}

static int
set_followup(struct db *db, int64_t session_id, int64_t upto)
{
	sqlite3_stmt *s = db_stmt(db, stmts[STMT_SET_FOLLOWUP]);

	if (s == NULL)
		return -1;
	sqlite3_bind_int64(s, 1, session_id);
	sqlite3_bind_int64(s, 2, upto);
	return run(s);
}

/* The link back to the conversation, after the replies; or how to answer without one. */
static int
put_way_back(struct db *db, const struct config *cfg, struct letter *l,
    const struct about *a, int64_t now)
{
	char base[2048], url[2048 + RESUME_CODE_LEN], code[RESUME_CODE_LEN + 1],
	    note[256];
	long days = cfg->refresh_token_ttl / 86400;

	if (public_link(cfg, "/#resume=", base, sizeof(base))[0] == '\0') {
		letter_p(l, "To answer, open the chat on our website again.");
		return 0;
	}
	if (resume_code_create(db, a->customer_id, a->id, now,
	    (int64_t)cfg->refresh_token_ttl * 1000, code, sizeof(code)) == -1)
		return -1;
	snprintf(url, sizeof(url), "%s%s", base, code);
	letter_link(l, "Continue the conversation", url);
	if (days >= 1)
		snprintf(note, sizeof(note), "The link opens this conversation "
		    "for %ld day%s; do not forward this mail.", days,
		    days == 1 ? "" : "s");
	else
		snprintf(note, sizeof(note), "The link opens this conversation "
		    "for a while; do not forward this mail.");
	letter_p(l, note);
	return 0;
}

int
notify_followup(struct db *db, const struct config *cfg, int64_t session_id,
    int64_t now)
{
	struct mail m = { .kind = "followup", .session_id = session_id };
	struct lines lines = { 0 };
	char subject[1024], intro[1024];
	struct letter *l = NULL;
	struct about a;
	const char *who;
	size_t i;
	int rc = -1, found;

	if (!mail_enabled(cfg))
		return 0;
	if ((found = about_load(db, session_id, &a)) == -1 ||
	    lines_replies(db, session_id, &lines) == -1)
		goto out;
	rc = 0;
	if (found == 0 || lines.n == 0 || a.email[0] == '\0')
		goto out;
	rc = -1;
	who = lines.v[lines.n - 1].who[0] != '\0' ? lines.v[lines.n - 1].who :
	    cfg->chat_name;
	snprintf(subject, sizeof(subject), "%s replied to your message", who);
	snprintf(intro, sizeof(intro), "Hello %s, you had left the chat with "
	    "%s when %s came:", a.name, cfg->chat_name, lines.n == 1 ?
	    "this answer" : "these answers");
	if ((l = letter_new(subject, cfg->timezone)) != NULL) {
		letter_p(l, intro);
		for (i = 0; i < lines.n; i++)
			letter_said(l, lines.v[i].who, lines.v[i].at,
			    lines.v[i].text);
		if (put_way_back(db, cfg, l, &a, now) == -1)
			goto out;
	}
	m.to = a.email;
	m.subject = subject;
	rc = send_letter(db, cfg, l, &m, now);
	l = NULL;
	if (rc == 0)
		rc = set_followup(db, session_id, lines.last_id);
out:
	letter_free(l);
	lines_free(&lines);
	return rc;
}
