/*
 * What the client sends: {"type":"message"|"typing"|"ping",...}. Every bad
 * frame gets an error frame and the connection stays open.
 */
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

/*
 * Load the session of a frame the user may act in: reply FORBIDDEN or
 * SESSION_CLOSED and return 1 when not; -1 on a database error.
 */
static int
own_open_session(struct conn *c, int64_t id, const char *cmid,
    struct session *s)
{
	enum session_status st = session_get(c->db, id, s);

	if (st == SESSION_ERROR)
		return -1;
	if (st == SESSION_NOT_FOUND || !is_participant(c, s))
		return conn_send_error(c, ERROR_FORBIDDEN, cmid,
		    "session %lld is not yours", (long long)id) == -1 ? -1 : 1;
	if (s->state == SESSION_CLOSED)
		return conn_send_error(c, ERROR_SESSION_CLOSED, cmid,
		    "session %lld is closed", (long long)id) == -1 ? -1 : 1;
	return 0;
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
		return conn_send_error(c, ERROR_INVALID_REQUEST, NULL, "%s",
		    err) == -1 ? -1 : 1;
	if (field_id(frame, "sessionId", session_id, err, sizeof(err)) == -1)
		return conn_send_error(c, ERROR_INVALID_REQUEST, *cmid, "%s",
		    err) == -1 ? -1 : 1;
	v = json_object_get(frame, "text");
	if (v == NULL || !json_is_string(v))
		return conn_send_error(c, ERROR_INVALID_REQUEST, *cmid,
		    "text is required and must be a string") == -1 ? -1 : 1;
	*text = json_string_value(v);
	len = field_utf8_len(*text);
	if (len == 0 || len > MESSAGE_TEXT_MAX || !has_content(*text))
		return conn_send_error(c, ERROR_INVALID_MESSAGE, *cmid,
		    "text must be 1 to %d characters, not only white space",
		    MESSAGE_TEXT_MAX) == -1 ? -1 : 1;
	return 0;
}

/* Store the message and its deliveries in one transaction; ack it. */
static int
store_message(struct conn *c, int64_t session_id, const char *text,
    const char *cmid)
{
	enum sender_type type = c->user.type == PRINCIPAL_AGENT ?
	    SENDER_AGENT : SENDER_CUSTOMER;
	int64_t now = clock_now_ms();
	enum message_status ms;
	struct session s;
	json_t *ack;
	int rc;

	if (db_begin(c->db) == -1)
		return -1;
	if ((rc = own_open_session(c, session_id, cmid, &s)) != 0) {
		db_rollback(c->db);
		return rc == 1 ? 0 : -1;
	}
	ms = message_add(c->db, s.id, type, c->user.id, text, cmid, c->id, now,
	    c->scratch);
	if (ms == MESSAGE_ERROR || (ms == MESSAGE_OK && relay_note_message(
	    c->relay, &s, c->scratch, now) == -1) || db_commit(c->db) == -1) {
		log_msg(LOG_ERROR, c->log_id, "message: %s", db_errmsg(c->db));
		db_rollback(c->db);
		relay_forget(c->relay);
		return conn_send_error(c, ERROR_INTERNAL, cmid, "internal error");
	}
	relay_flush(c->relay);
	ack = json_pack("{s:s,s:o,s:o}", "type", "ack", "clientMsgId",
	    cmid != NULL ? json_string(cmid) : json_null(), "message",
	    wire_message(c->scratch));
	rc = ack != NULL ? conn_send(c, ack) : -1;
	json_decref(ack);
	return rc;
}

static int
on_message(struct conn *c, json_t *frame)
{
	const char *text, *cmid;
	int64_t session_id;
	int rc;

	if ((rc = check_message(c, frame, &session_id, &text, &cmid)) != 0)
		return rc == 1 ? 0 : -1;
	if (rate_take(c, clock_now_ms()) == -1)
		return conn_send_error(c, ERROR_RATE_LIMITED, cmid,
		    "too many messages; slow down");
	return store_message(c, session_id, text, cmid);
}

/* Pass typing on to the other side of the session; nothing is stored. */
static int
on_typing(struct conn *c, json_t *frame)
{
	struct relay_user to;
	struct session s;
	int64_t id, now = clock_now_ms();
	char err[256], *text;
	json_t *out;
	int rc;

	if (field_id(frame, "sessionId", &id, err, sizeof(err)) == -1)
		return conn_send_error(c, ERROR_INVALID_REQUEST, NULL, "%s", err);
	if ((rc = own_open_session(c, id, NULL, &s)) != 0)
		return rc == 1 ? 0 : -1;
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
	if (frame == NULL || !json_is_object(frame)) {
		json_decref(frame);
		return conn_send_error(c, ERROR_INVALID_REQUEST, NULL,
		    "frame is not a JSON object");
	}
	type = json_string_value(json_object_get(frame, "type"));
	if (type == NULL)
		rc = conn_send_error(c, ERROR_INVALID_REQUEST, NULL,
		    "type is required and must be a string");
	else if (strcmp(type, "message") == 0)
		rc = on_message(c, frame);
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
