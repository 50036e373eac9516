/*
 * When nobody answers: a message left for the team, and the conversation
 * mailed to the visitor.
 *
 * POST /api/v1/leave-message              customer: leave a message
 * POST /api/v1/sessions/{id}/transcript   the session's customer: mail it
 *
 * What is stored and the mail it causes are one transaction: a mail is
 * never lost, nor sent about something that was not stored.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "api.h"
#include "../lib/customer.h"
#include "../lib/field.h"
#include "../lib/mail.h"
#include "../lib/notify.h"
#include "../lib/throttle.h"

/* Transcripts one customer may ask for in an hour: no mail cannon. */
#define TRANSCRIPT_LIMIT 5
#define TRANSCRIPT_WINDOW 3600

/* The message rate shared with the WebSocket: the same bucket, so REST is no way around it. */
#define RATE_BURST_SECONDS 3.0

/* What POST /leave-message carries, borrowed from its body. */
struct left {
	const char *email, *text, *cmid;
};

static int
read_left(struct call *c, json_t *body, struct left *l)
{
	char err[256];

	if (field_email(body, "email", 0, &l->email, err, sizeof(err)) == -1 ||
	    field_string(body, "text", 1, MESSAGE_TEXT_MAX, 0, &l->text, err,
	    sizeof(err)) == -1 ||
	    field_message_text("text", l->text, MESSAGE_TEXT_MAX, err,
	    sizeof(err)) == -1 ||
	    field_string(body, "clientMsgId", 1, MESSAGE_CLIENT_ID_MAX,
	    FIELD_OPTIONAL | FIELD_NO_CONTROL, &l->cmid, err,
	    sizeof(err)) == -1) {
		api_fail_field(c, err);
		return -1;
	}
	return 0;
}

/* Reply {"session","message"} with status. */
static void
reply_left(struct call *c, int status, const struct session *s,
    const struct message *m)
{
	json_t *obj = json_pack("{s:o,s:o}", "session", wire_session(s),
	    "message", wire_message(m));

	if (obj == NULL) {
		api_fail_internal(c, "leave-message reply");
		return;
	}
	http_reply_json(c->req, status, NULL, obj);
	json_decref(obj);
}

/*
 * In the open transaction: the customer's open session, or a new queued
 * one, marked as a left message, into *s. Returns 0, 1 after replying
 * (it has an agent), or -1 on a database error.
 */
static int
left_session(struct call *c, struct session *s)
{
	struct db *db = c->api->db;
	enum session_status st = session_find_open(db, c->who.principal_id, s);

	if (st == SESSION_NOT_FOUND)
		st = session_create(db, c->who.principal_id, NULL, 0, c->req->now,
		    s);
	if (st != SESSION_OK)
		return -1;
	if (s->state == SESSION_ACTIVE) {
		db_rollback(db);
		http_reply_error(c->req, ERROR_CONFLICT, NULL, "session %lld has "
		    "an agent: write to them in the chat", (long long)s->id);
		return 1;
	}
	if (session_set_left_message(db, s->id) != SESSION_OK ||
	    session_get(db, s->id, s) != SESSION_OK)
		return -1;
	return 0;
}

void
leave_message(struct call *c)
{
	const struct config *cfg = c->api->cfg;
	struct db *db = c->api->db;
	struct message *m = malloc(sizeof(*m));
	enum message_status ms;
	struct session s;
	struct left l;
	json_t *body;
	int granted = 0, rc;

	if ((body = api_read_body(c)) == NULL)
		goto out;
	if (m == NULL) {
		api_fail_internal(c, "leave-message: out of memory");
		goto out;
	}
	if (read_left(c, body, &l) == -1)
		goto out;
	if (db_begin(db) == -1)
		goto dberr;
	if ((rc = left_session(c, &s)) != 0) {
		if (rc == 1)
			goto out;
		goto dberr;
	}
	/* A repeat of the same clientMsgId is answered as the first was. */
	ms = message_add(db, s.id, SENDER_CUSTOMER, c->who.principal_id, l.text,
	    l.cmid, 0, c->req->now, m);
	if (ms == MESSAGE_DUPLICATE) {
		db_rollback(db);
		if (message_get(db, m->id, m, NULL) != MESSAGE_OK)
			goto dberr;
		reply_left(c, 200, &s, m);
		goto out;
	}
	if (ms != MESSAGE_OK || throttle_take(db, "customer",
	    c->who.principal_id, cfg->ws_rate, RATE_BURST_SECONDS, 1,
	    c->req->now, &granted) == -1)
		goto dberr;
	if (granted == 0) {
		db_rollback(db);
		api_fail_throttled(c, 1, "too many messages; wait a moment");
		goto out;
	}
	if (customer_set_email(db, c->who.principal_id, l.email) !=
	    CUSTOMER_OK || session_get(db, s.id, &s) != SESSION_OK ||
	    message_get(db, m->id, m, NULL) != MESSAGE_OK ||
	    relay_note_message(c->api->relay, &s, m, NULL, 0, c->req->now) == -1 ||
	    relay_note_session(c->api->relay, &s, 0, 1, c->req->now) == -1 ||
	    notify_left_message(db, cfg, s.id, c->req->now) == -1)
		goto dberr;
	if (db_commit(db) == -1)
		goto dberr;
	relay_flush(c->api->relay);
	reply_left(c, 201, &s, m);
	goto out;
dberr:
	relay_forget(c->api->relay);
	api_fail_internal(c, "leave-message");
out:
	free(m);
	json_decref(body);
}

/*
 * The address a transcript goes to: the body's "email" (kept for the
 * customer), else the customer's own, into addr. Returns 0, or -1 after
 * replying.
 */
static int
transcript_address(struct call *c, json_t *body, char *addr, size_t addrsz)
{
	struct customer *cu = malloc(sizeof(*cu));
	const char *email = NULL;
	char err[256];
	int rc = -1;

	if (cu == NULL) {
		api_fail_internal(c, "transcript: out of memory");
		return -1;
	}
	if (body != NULL && field_email(body, "email", FIELD_OPTIONAL, &email,
	    err, sizeof(err)) == -1)
		api_fail_field(c, err);
	else if (email != NULL) {
		snprintf(addr, addrsz, "%s", email);
		rc = 0;
	} else if (customer_get(c->api->db, c->who.principal_id, cu) !=
	    CUSTOMER_OK)
		api_fail_internal(c, "transcript");
	else if (cu->email[0] == '\0')
		api_fail_field(c, "email is required: no address is known for "
		    "you yet");
	else {
		snprintf(addr, addrsz, "%s", cu->email);
		rc = 0;
	}
	free(cu);
	return rc;
}

void
leave_transcript(struct call *c)
{
	const struct config *cfg = c->api->cfg;
	struct db *db = c->api->db;
	const char *cl = http_param(c->req, "CONTENT_LENGTH");
	char addr[EMAIL_MAX + 1], key[32];
	struct session s;
	json_t *body = NULL, *reply;
	long retry_after = 0;

	if (cl != NULL && cl[0] != '\0' && strcmp(cl, "0") != 0 &&
	    (body = api_read_body(c)) == NULL)
		return;
	switch (session_get(db, c->ids[0], &s)) {
	case SESSION_OK:
		break;
	case SESSION_NOT_FOUND:
		http_reply_error(c->req, ERROR_NOT_FOUND, NULL, "no session %lld",
		    (long long)c->ids[0]);
		goto out;
	default:
		api_fail_internal(c, "transcript");
		goto out;
	}
	if (s.customer_id != c->who.principal_id) {
		http_reply_error(c->req, ERROR_FORBIDDEN, NULL, "session %lld is "
		    "not yours", (long long)s.id);
		goto out;
	}
	if (!mail_enabled(cfg)) {
		http_reply_error(c->req, ERROR_CONFLICT, NULL, "this chat sends no "
		    "email (CHAT_SMTP_URL and CHAT_MAIL_FROM are not set)");
		goto out;
	}
	if (transcript_address(c, body, addr, sizeof(addr)) == -1)
		goto out;
	snprintf(key, sizeof(key), "%lld", (long long)c->who.principal_id);
	if (db_begin(db) == -1 || throttle_check(db, "transcript", key,
	    TRANSCRIPT_LIMIT, TRANSCRIPT_WINDOW, c->req->now, &retry_after) == -1)
		goto dberr;
	if (retry_after > 0) {
		db_rollback(db);
		api_fail_throttled(c, retry_after, "too many transcripts asked "
		    "for; try again later");
		goto out;
	}
	if (throttle_record(db, "transcript", key, TRANSCRIPT_WINDOW,
	    c->req->now) == -1 ||
	    customer_set_email(db, c->who.principal_id, addr) != CUSTOMER_OK ||
	    notify_transcript(db, cfg, s.id, addr, c->req->now) == -1 ||
	    db_commit(db) == -1)
		goto dberr;
	if ((reply = json_pack("{s:b,s:s}", "queued", 1, "email", addr)) ==
	    NULL) {
		api_fail_internal(c, "transcript reply");
		goto out;
	}
	http_reply_json(c->req, 202, NULL, reply);
	json_decref(reply);
	goto out;
dberr:
	api_fail_internal(c, "transcript");
out:
	json_decref(body);
}
