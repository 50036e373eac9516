/*
 * What the client sends: {"type":"message"|"typing"|"ping",...}. Every bad
 * frame gets an error frame and the connection stays open.
 */
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "handler.h"
#include "../lib/clock.h"
#include "../lib/field.h"
#include "../lib/log.h"
#include "../lib/session.h"
#include "../lib/wake.h"
#include "../lib/wire.h"

/* The burst allowed above the sustained rate (CHAT_WS_RATE), in seconds of it. */
#define RATE_BURST_SECONDS 3.0
/* Typing is passed on at most this often per connection. */
#define TYPING_EVERY_MS 300

void
frames_start(struct conn *c)
{
	c->allowance = (double)c->cfg.ws_rate * RATE_BURST_SECONDS;
	c->allowance_at = clock_now_ms();
}

/* Take one message from the bucket; 0 if allowed, -1 if over the rate. */
static int
rate_take(struct conn *c, int64_t now)
{
	double rate = (double)c->cfg.ws_rate, burst = rate * RATE_BURST_SECONDS;

	if (c->cfg.ws_rate == 0)
		return 0;
	c->allowance += (double)(now - c->allowance_at) / 1000.0 * rate;
	c->allowance_at = now;
	if (c->allowance > burst)
		c->allowance = burst;
	if (c->allowance < 1.0)
		return -1;
	c->allowance -= 1.0;
	return 0;
}

static int
is_participant(const struct conn *c, const struct session *s)
{
	if (c->user.type == PRINCIPAL_CUSTOMER)
		return s->customer_id == c->user.id;
	return s->agent_id == c->user.id;
}

/* Load session id into *s and tell whether the user may act in it now. */
static enum pending_state
session_access(struct conn *c, int64_t id, struct session *s)
{
	enum session_status st = session_get(c->db, id, s);

	if (st == SESSION_ERROR)
		return PENDING_FAILED;
	if (st == SESSION_NOT_FOUND || !is_participant(c, s))
		return PENDING_FORBIDDEN;
	return s->state == SESSION_CLOSED ? PENDING_CLOSED : PENDING_STORED;
}

/* The error frame of a refused session: FORBIDDEN, SESSION_CLOSED or INTERNAL. */
static int
send_refusal(struct conn *c, enum pending_state st, int64_t id,
    const char *cmid)
{
	if (st == PENDING_FORBIDDEN)
		return conn_send_error(c, ERROR_FORBIDDEN, cmid,
		    "session %lld is not yours", (long long)id);
	if (st == PENDING_CLOSED)
		return conn_send_error(c, ERROR_SESSION_CLOSED, cmid,
		    "session %lld is closed", (long long)id);
	return conn_send_error(c, ERROR_INTERNAL, cmid, "internal error");
}

/*
 * Reply to a bad frame with an error, after the answers of the messages
 * before it: the client hears back in the order it sent.
 */
static int
reply_error(struct conn *c, enum error_code code, const char *cmid,
    const char *fmt, ...)
{
	char message[512];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(message, sizeof(message), fmt, ap);
	va_end(ap);
	if (frames_flush(c) == -1)
		return -1;
	return conn_send_error(c, code, cmid, "%s", message);
}

/* Whether text has something besides white space. */
static int
has_content(const char *text)
{
	return text[strspn(text, " \t\r\n")] != '\0';
}

/* Check a message frame's fields; reply and return 1 when they do not do. */
static int
check_message(struct conn *c, json_t *frame, int64_t *session_id,
    const char **text, const char **cmid)
{
	json_t *v;
	char err[256];
	size_t len;

	*cmid = NULL;
	if ((v = json_object_get(frame, "clientMsgId")) != NULL &&
	    !json_is_null(v) && field_string(frame, "clientMsgId", 1,
	    MESSAGE_CLIENT_ID_MAX, FIELD_NO_CONTROL, cmid, err, sizeof(err)) == -1)
		return reply_error(c, ERROR_INVALID_REQUEST, NULL, "%s",
		    err) == -1 ? -1 : 1;
	if (field_id(frame, "sessionId", session_id, err, sizeof(err)) == -1)
		return reply_error(c, ERROR_INVALID_REQUEST, *cmid, "%s",
		    err) == -1 ? -1 : 1;
	v = json_object_get(frame, "text");
	if (v == NULL || !json_is_string(v))
		return reply_error(c, ERROR_INVALID_REQUEST, *cmid,
		    "text is required and must be a string") == -1 ? -1 : 1;
	*text = json_string_value(v);
	len = field_utf8_len(*text);
	if (len == 0 || len > MESSAGE_TEXT_MAX || !has_content(*text))
		return reply_error(c, ERROR_INVALID_MESSAGE, *cmid,
		    "text must be 1 to %d characters, not only white space",
		    MESSAGE_TEXT_MAX) == -1 ? -1 : 1;
	return 0;
}

/* The ack of a stored message, as one line of JSON (new), or NULL. */
static char *
ack_text(const struct message *m)
{
	json_t *ack = json_pack("{s:s,s:o,s:o}", "type", "ack", "clientMsgId",
	    m->client_msg_id[0] != '\0' ? json_string(m->client_msg_id) :
	    json_null(), "message", wire_message(m));
	char *text = ack != NULL ? json_dumps(ack, JSON_COMPACT) : NULL;

	json_decref(ack);
	return text;
}

/*
 * Store every pending message that may be stored, with its deliveries, in
 * one transaction: the frames that came in together cost one commit, and
 * the writers' lock is taken once. Duplicates get their ack text now.
 * Returns 0 once committed, or -1 with nothing stored.
 */
static int
store_batch(struct conn *c)
{
	enum sender_type type = c->user.type == PRINCIPAL_AGENT ?
	    SENDER_AGENT : SENDER_CUSTOMER;
	int64_t now = clock_now_ms();
	enum message_status ms;
	struct pending *p;
	struct session s;
	size_t i;

	if (db_begin(c->db) == -1)
		goto fail;
	for (i = 0; i < c->npending; i++) {
		p = &c->pending[i];
		if ((p->state = session_access(c, p->session_id, &s)) ==
		    PENDING_FAILED)
			goto fail;
		if (p->state != PENDING_STORED)
			continue;
		ms = message_add(c->db, s.id, type, c->user.id, p->text, p->cmid,
		    c->id, now, c->scratch);
		if (ms == MESSAGE_ERROR || (ms == MESSAGE_OK &&
		    relay_note_message(c->relay, &s, c->scratch, now) == -1))
			goto fail;
		if (ms == MESSAGE_DUPLICATE && (p->reply =
		    ack_text(c->scratch)) == NULL)
			goto fail;
		p->id = c->scratch->id;
		p->created_at = now;
	}
	if (db_commit(c->db) == -1)
		goto fail;
	relay_flush(c->relay);
	return 0;
fail:
	log_msg(LOG_ERROR, c->log_id, "message: %s", db_errmsg(c->db));
	db_rollback(c->db);
	relay_forget(c->relay);
	for (i = 0; i < c->npending; i++)
		c->pending[i].state = PENDING_FAILED;
	return -1;
}

/* Send what became of pending message p: its ack or its error. */
static int
answer(struct conn *c, struct pending *p)
{
	struct message *m = c->scratch;
	char *text = p->reply;
	int rc;

	if (p->state != PENDING_STORED)
		return send_refusal(c, p->state, p->session_id, p->cmid);
	if (text == NULL) {
		m->id = p->id;
		m->session_id = p->session_id;
		m->sender_type = c->user.type == PRINCIPAL_AGENT ?
		    SENDER_AGENT : SENDER_CUSTOMER;
		m->sender_id = c->user.id;
		snprintf(m->text, sizeof(m->text), "%s", p->text);
		snprintf(m->client_msg_id, sizeof(m->client_msg_id), "%s",
		    p->cmid != NULL ? p->cmid : "");
		m->created_at = p->created_at;
		if ((text = ack_text(m)) == NULL)
			return -1;
	}
	rc = fputs(text, stdout) == EOF || fputc('\n', stdout) == EOF ? -1 : 0;
	if (text != p->reply)
		free(text);
	return rc;
}

int
frames_flush(struct conn *c)
{
	size_t i;
	int rc = 0;

	if (c->npending == 0)
		return 0;
	store_batch(c);
	for (i = 0; i < c->npending; i++) {
		if (rc == 0 && answer(c, &c->pending[i]) == -1)
			rc = -1;
		free(c->pending[i].reply);
		json_decref(c->pending[i].frame);
	}
	memset(c->pending, 0, c->npending * sizeof(c->pending[0]));
	c->npending = 0;
	return rc;
}

/* Check a message frame and queue it to be stored with what came with it. */
static int
on_message(struct conn *c, json_t *frame)
{
	const char *text, *cmid;
	int64_t session_id;
	struct pending *p;
	int rc;

	if ((rc = check_message(c, frame, &session_id, &text, &cmid)) != 0)
		return rc == 1 ? 0 : -1;
	if (rate_take(c, clock_now_ms()) == -1)
		return reply_error(c, ERROR_RATE_LIMITED, cmid,
		    "too many messages; slow down");
	if (c->npending == PENDING_MAX && frames_flush(c) == -1)
		return -1;
	p = &c->pending[c->npending++];
	p->frame = json_incref(frame);
	p->session_id = session_id;
	p->text = text;
	p->cmid = cmid;
	return 0;
}

/* Pass typing on to the other side of the session; nothing is stored. */
static int
on_typing(struct conn *c, json_t *frame)
{
	struct relay_user to;
	struct session s;
	int64_t id, now = clock_now_ms();
	enum pending_state st;
	char err[256], *text;
	json_t *out;

	if (field_id(frame, "sessionId", &id, err, sizeof(err)) == -1)
		return conn_send_error(c, ERROR_INVALID_REQUEST, NULL, "%s", err);
	if ((st = session_access(c, id, &s)) != PENDING_STORED)
		return st == PENDING_FAILED ? -1 : send_refusal(c, st, id, NULL);
	if (now - c->typing_at < TYPING_EVERY_MS)
		return 0;
	c->typing_at = now;
	to.type = c->user.type == PRINCIPAL_AGENT ? PRINCIPAL_CUSTOMER :
	    PRINCIPAL_AGENT;
	to.id = to.type == PRINCIPAL_AGENT ? s.agent_id : s.customer_id;
	if (to.id == 0)
		return 0;
	out = json_pack("{s:s,s:I,s:s,s:I}", "type", "typing", "sessionId",
	    (json_int_t)s.id, "senderType", c->user.type == PRINCIPAL_AGENT ?
	    "agent" : "customer", "senderId", (json_int_t)c->user.id);
	text = out != NULL ? json_dumps(out, JSON_COMPACT) : NULL;
	if (text != NULL && strlen(text) < WAKE_MAX)
		relay_wake(c->relay, &to, WAKE_TYPING, text, strlen(text));
	free(text);
	json_decref(out);
	return 0;
}

int
frames_handle(struct conn *c, const char *line, size_t len)
{
	json_error_t jerr;
	json_t *frame, *pong;
	const char *type;
	int rc;

	frame = json_loadb(line, len, JSON_REJECT_DUPLICATES, &jerr);
	type = json_string_value(json_object_get(frame, "type"));
	if (type != NULL && strcmp(type, "message") == 0) {
		rc = on_message(c, frame);
		json_decref(frame);
		return rc;
	}
	/* Anything else is answered after the messages that came before it. */
	if (frames_flush(c) == -1)
		rc = -1;
	else if (frame == NULL || !json_is_object(frame))
		rc = conn_send_error(c, ERROR_INVALID_REQUEST, NULL,
		    "frame is not a JSON object");
	else if (type == NULL)
		rc = conn_send_error(c, ERROR_INVALID_REQUEST, NULL,
		    "type is required and must be a string");
	else if (strcmp(type, "typing") == 0)
		rc = on_typing(c, frame);
	else if (strcmp(type, "ping") == 0) {
		pong = json_pack("{s:s}", "type", "pong");
		rc = conn_send(c, pong);
		json_decref(pong);
	} else
		rc = conn_send_error(c, ERROR_INVALID_REQUEST, NULL,
		    "unknown type: %.40s", type);
	json_decref(frame);
	return rc;
}
