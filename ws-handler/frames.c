#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "frames.h"
#include "../lib/clock.h"
#include "../lib/db.h"
#include "../lib/field.h"
#include "../lib/log.h"
#include "../lib/message.h"
#include "../lib/session.h"
#include "../lib/throttle.h"
#include "../lib/wake.h"
#include "../lib/wire.h"

/* The burst allowed above the sustained rate (CHAT_WS_RATE), in seconds of it. */
#define RATE_BURST_SECONDS 3.0
/* Typing is passed on at most this often per connection. */
#define TYPING_EVERY_MS 300
/* Message frames that came in together are stored in one transaction. */
#define PENDING_MAX 32

/* What became of a message frame waiting in the batch. */
enum pending_state {
	PENDING_STORED,		/* stored (or a repeat): ack it */
	PENDING_FORBIDDEN,	/* not the user's session */
	PENDING_CLOSED,		/* the session is closed */
	PENDING_LIMITED,	/* over the user's message rate */
	PENDING_FAILED		/* the database failed: nothing stored */
};

/* A checked message frame waiting to be stored with those that came with it. */
struct pending {
	json_t *frame;		/* new reference: text and cmid point into it */
	int64_t session_id;
	const char *text;
	const char *cmid;	/* NULL: none */
	enum pending_state state;
	int64_t id, created_at;	/* once stored */
	char *json;		/* once stored: the message as the wire has it, new */
	char *reply;		/* a repeat's ack line, new; NULL otherwise */
};

struct frames {
	struct ws_ctx *ctx;
	struct outq *q;
	struct delivery *delivery;
	struct message *scratch;	/* one message being stored or acked */
	int64_t typing_at;		/* when typing was last passed on */
	struct pending pending[PENDING_MAX];
	size_t npending;
};

struct frames *
frames_new(struct ws_ctx *ctx, struct outq *q, struct delivery *d)
{
	struct frames *f = calloc(1, sizeof(*f));

	if (f == NULL || (f->scratch = malloc(sizeof(*f->scratch))) == NULL) {
		free(f);
		return NULL;
	}
	f->ctx = ctx;
	f->q = q;
	f->delivery = d;
	return f;
}

void
frames_free(struct frames *f)
{
	size_t i;

	if (f == NULL)
		return;
	for (i = 0; i < f->npending; i++) {
		free(f->pending[i].reply);
		free(f->pending[i].json);
		json_decref(f->pending[i].frame);
	}
	free(f->scratch);
	free(f);
}

int
frames_send_error(struct outq *q, enum error_code code,
    const char *client_msg_id, int force, const char *fmt, ...)
{
	char message[512];
	json_t *frame;
	va_list ap;
	int rc;

	va_start(ap, fmt);
	vsnprintf(message, sizeof(message), fmt, ap);
	va_end(ap);
	if ((frame = error_frame_new(code, message, client_msg_id)) == NULL)
		return -1;
	rc = outq_put_json(q, frame, force);
	json_decref(frame);
	return rc;
}

/* An answer to the client: refused (-1) when it does not read its answers. */
#define send_error(f, code, cmid, ...) \
	frames_send_error((f)->q, code, cmid, 0, __VA_ARGS__)

static int
is_participant(const struct frames *f, const struct session *s)
{
	if (f->ctx->user.type == PRINCIPAL_CUSTOMER)
		return s->customer_id == f->ctx->user.id;
	return s->agent_id == f->ctx->user.id;
}

/*
 * Load who is in session id into *s (session_get_brief()) and tell whether
 * the user may act in it now.
 */
static enum pending_state
session_access(struct frames *f, int64_t id, struct session *s)
{
	enum session_status st = session_get_brief(f->ctx->db, id, s);

	if (st == SESSION_ERROR)
		return PENDING_FAILED;
	if (st == SESSION_NOT_FOUND || !is_participant(f, s))
		return PENDING_FORBIDDEN;
	return s->state == SESSION_CLOSED ? PENDING_CLOSED : PENDING_STORED;
}

/* The error frame of a refused message: FORBIDDEN, SESSION_CLOSED, RATE_LIMITED or INTERNAL. */
static int
send_refusal(struct frames *f, enum pending_state st, int64_t id,
    const char *cmid)
{
	if (st == PENDING_FORBIDDEN)
		return send_error(f, ERROR_FORBIDDEN, cmid,
		    "session %lld is not yours", (long long)id);
	if (st == PENDING_CLOSED)
		return send_error(f, ERROR_SESSION_CLOSED, cmid,
		    "session %lld is closed", (long long)id);
	if (st == PENDING_LIMITED)
		return send_error(f, ERROR_RATE_LIMITED, cmid,
		    "too many messages; slow down");
	return send_error(f, ERROR_INTERNAL, cmid, "internal error");
}

/*
 * Reply to a bad frame with an error, after the answers of the messages
 * before it: the client hears back in the order it sent.
 */
static int
reply_error(struct frames *f, enum error_code code, const char *cmid,
    const char *fmt, ...)
{
	char message[512];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(message, sizeof(message), fmt, ap);
	va_end(ap);
	if (frames_flush(f) == -1)
		return -1;
	return send_error(f, code, cmid, "%s", message);
}

/* Check a message frame's fields; reply and return 1 when they do not do. */
static int
check_message(struct frames *f, json_t *frame, int64_t *session_id,
    const char **text, const char **cmid)
{
	json_t *v;
	char err[256];

	*cmid = NULL;
	if ((v = json_object_get(frame, "clientMsgId")) != NULL &&
	    !json_is_null(v) && field_string(frame, "clientMsgId", 1,
	    MESSAGE_CLIENT_ID_MAX, FIELD_NO_CONTROL, cmid, err, sizeof(err)) == -1)
		return reply_error(f, ERROR_INVALID_REQUEST, NULL, "%s",
		    err) == -1 ? -1 : 1;
	if (field_id(frame, "sessionId", session_id, err, sizeof(err)) == -1)
		return reply_error(f, ERROR_INVALID_REQUEST, *cmid, "%s",
		    err) == -1 ? -1 : 1;
	v = json_object_get(frame, "text");
	if (v == NULL || !json_is_string(v))
		return reply_error(f, ERROR_INVALID_REQUEST, *cmid,
		    "text is required and must be a string") == -1 ? -1 : 1;
	*text = json_string_value(v);
	if (field_message_text("text", *text, MESSAGE_TEXT_MAX, err,
	    sizeof(err)) == -1)
		return reply_error(f, ERROR_INVALID_MESSAGE, *cmid, "%s",
		    err) == -1 ? -1 : 1;
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
 * Store pending message p of session s, with its deliveries, at now: the
 * message's JSON goes with the wake-ups. Returns 0, or -1 on a database
 * error or when out of memory.
 */
static int
store_one(struct frames *f, struct pending *p, const struct session *s,
    int64_t now)
{
	const struct ws_ctx *ctx = f->ctx;
	struct message *m = f->scratch;
	enum message_status ms;

	ms = message_add(ctx->db, s->id, ctx->user.type == PRINCIPAL_AGENT ?
	    SENDER_AGENT : SENDER_CUSTOMER, ctx->user.id, p->text, p->cmid,
	    ctx->conn_id, now, m);
	if (ms == MESSAGE_ERROR)
		return -1;
	if (ms == MESSAGE_DUPLICATE)
		return (p->reply = ack_text(m)) != NULL ? 0 : -1;
	snprintf(m->sender_name, sizeof(m->sender_name), "%s", ctx->name);
	if ((p->json = wire_message_text(m)) == NULL ||
	    relay_note_message(ctx->relay, s, m, p->json, strlen(p->json),
	    now) == -1)
		return -1;
	p->id = m->id;
	p->created_at = now;
	return 0;
}

/*
 * Store every pending message that may be stored, with its deliveries, in
 * one transaction: the frames that came in together cost one commit, and
 * the writers' lock is taken once. The user's rate limit is taken in the
 * same transaction, for all of their connections at once. Duplicates get
 * their ack text now. Returns 0 once committed, or -1 with nothing stored.
 */
static int
store_batch(struct frames *f)
{
	const struct ws_ctx *ctx = f->ctx;
	enum sender_type type = ctx->user.type == PRINCIPAL_AGENT ?
	    SENDER_AGENT : SENDER_CUSTOMER;
	int64_t now = clock_now_ms(), before, last;
	struct pending *p;
	struct session s;
	int granted;
	size_t i;

	if (db_begin(ctx->db) == -1 ||
	    throttle_take(ctx->db, type == SENDER_AGENT ? "agent" : "customer",
	    ctx->user.id, ctx->cfg.ws_rate, RATE_BURST_SECONDS,
	    (int)f->npending, now, &granted) == -1)
		goto fail;
	for (i = 0; i < f->npending; i++) {
		p = &f->pending[i];
		if ((int)i >= granted) {
			p->state = PENDING_LIMITED;
			continue;
		}
		if ((p->state = session_access(f, p->session_id, &s)) ==
		    PENDING_FAILED)
			goto fail;
		if (p->state == PENDING_STORED && store_one(f, p, &s, now) == -1)
			goto fail;
	}
	if (db_commit(ctx->db) == -1)
		goto fail;
	/* This connection's own deliveries: the messages it just had acked. */
	if (relay_noted_range(ctx->relay, &ctx->user, &before, &last))
		delivery_skip(f->delivery, before, last);
	relay_flush(ctx->relay);
	return 0;
fail:
	/* The cause, before the rollback replaces it. */
	log_msg(LOG_ERROR, ctx->log_id, "message: %s", db_errmsg(ctx->db));
	db_rollback(ctx->db);
	relay_forget(ctx->relay);
	for (i = 0; i < f->npending; i++)
		f->pending[i].state = PENDING_FAILED;
	return -1;
}

/* The ack of stored message p, from its JSON: one line (new), or NULL. */
static char *
ack_line(const struct pending *p)
{
	json_t *cmid = p->cmid != NULL ? json_string(p->cmid) : json_null();
	char *quoted = cmid != NULL ? json_dumps(cmid, JSON_ENCODE_ANY) : NULL;
	size_t size = (p->json != NULL ? strlen(p->json) : 0) +
	    (quoted != NULL ? strlen(quoted) : 0) + 48;
	char *line = quoted != NULL && p->json != NULL ? malloc(size) : NULL;

	if (line != NULL)
		snprintf(line, size, "{\"type\":\"ack\",\"clientMsgId\":%s,"
		    "\"message\":%s}", quoted, p->json);
	free(quoted);
	json_decref(cmid);
	return line;
}

/* Send what became of pending message p: its ack or its error. */
static int
answer(struct frames *f, struct pending *p)
{
	char *text = p->reply;
	int rc;

	if (p->state != PENDING_STORED)
		return send_refusal(f, p->state, p->session_id, p->cmid);
	if (text == NULL && (text = ack_line(p)) == NULL)
		return -1;
	rc = outq_put(f->q, text, strlen(text), 0);
	if (text != p->reply)
		free(text);
	return rc;
}

int
frames_flush(struct frames *f)
{
	size_t i;
	int rc = 0;

	if (f->npending == 0)
		return 0;
	store_batch(f);
	for (i = 0; i < f->npending; i++) {
		if (rc == 0 && answer(f, &f->pending[i]) == -1)
			rc = -1;
		free(f->pending[i].reply);
		free(f->pending[i].json);
		json_decref(f->pending[i].frame);
	}
	memset(f->pending, 0, f->npending * sizeof(f->pending[0]));
	f->npending = 0;
	return rc;
}

/* Check a message frame and queue it to be stored with what came with it. */
static int
on_message(struct frames *f, json_t *frame)
{
	const char *text, *cmid;
	int64_t session_id;
	struct pending *p;
	int rc;

	if ((rc = check_message(f, frame, &session_id, &text, &cmid)) != 0)
		return rc == 1 ? 0 : -1;
	if (f->npending == PENDING_MAX && frames_flush(f) == -1)
		return -1;
	p = &f->pending[f->npending++];
	p->frame = json_incref(frame);
	p->session_id = session_id;
	p->text = text;
	p->cmid = cmid;
	return 0;
}

/* Pass typing on to the other side of the session; nothing is stored. */
static int
on_typing(struct frames *f, json_t *frame)
{
	const struct ws_ctx *ctx = f->ctx;
	struct relay_user to;
	struct session s;
	int64_t id, now = clock_now_ms();
	enum pending_state st;
	char err[256], *text;
	json_t *out;

	if (field_id(frame, "sessionId", &id, err, sizeof(err)) == -1)
		return send_error(f, ERROR_INVALID_REQUEST, NULL, "%s", err);
	if ((st = session_access(f, id, &s)) != PENDING_STORED)
		return st == PENDING_FAILED ? -1 : send_refusal(f, st, id, NULL);
	if (now - f->typing_at < TYPING_EVERY_MS)
		return 0;
	f->typing_at = now;
	to.type = ctx->user.type == PRINCIPAL_AGENT ? PRINCIPAL_CUSTOMER :
	    PRINCIPAL_AGENT;
	to.id = to.type == PRINCIPAL_AGENT ? s.agent_id : s.customer_id;
	if (to.id == 0)
		return 0;
	out = json_pack("{s:s,s:I,s:s,s:I}", "type", "typing", "sessionId",
	    (json_int_t)s.id, "senderType", ctx->user.type == PRINCIPAL_AGENT ?
	    "agent" : "customer", "senderId", (json_int_t)ctx->user.id);
	text = out != NULL ? json_dumps(out, JSON_COMPACT) : NULL;
	if (text != NULL && strlen(text) < WAKE_MAX)
		relay_wake(ctx->relay, &to, WAKE_TYPING, text, strlen(text));
	free(text);
	json_decref(out);
	return 0;
}

static int
on_ping(struct frames *f, json_t *frame)
{
	json_t *pong = json_pack("{s:s}", "type", "pong");
	int rc = pong != NULL ? outq_put_json(f->q, pong, 0) : -1;

	(void)frame;
	json_decref(pong);
	return rc;
}

/* The answer to the server's liveness ping: arriving was all it had to do. */
static int
on_pong(struct frames *f, json_t *frame)
{
	(void)f;
	(void)frame;
	return 0;
}

/* {"type":"received","seq":N}: everything up to N reached this client. */
static int
on_received(struct frames *f, json_t *frame)
{
	json_t *v = json_object_get(frame, "seq");
	int rc;

	if (!json_is_integer(v))
		return send_error(f, ERROR_INVALID_REQUEST, NULL,
		    "seq is required and must be an integer");
	if ((rc = delivery_receipt(f->delivery, json_integer_value(v))) == 1)
		return send_error(f, ERROR_INVALID_REQUEST, NULL,
		    "seq %lld was never sent on this connection",
		    (long long)json_integer_value(v));
	return rc;
}

/* The frame types, like the REST routes. */
static const struct frame_type {
	const char *type;
	int (*handle)(struct frames *, json_t *);
	int batched;	/* stored with the frames that came with it */
} frame_types[] = {
	{ "message", on_message, 1 },
	{ "typing", on_typing, 0 },
	{ "ping", on_ping, 0 },
	{ "pong", on_pong, 0 },
	{ "received", on_received, 0 },
};

int
frames_handle(struct frames *f, json_t *frame)
{
	const char *type = json_string_value(json_object_get(frame, "type"));
	size_t i;

	for (i = 0; type != NULL && i < sizeof(frame_types) /
	    sizeof(frame_types[0]); i++)
		if (strcmp(type, frame_types[i].type) == 0)
			break;
	/* Anything not batched is answered after the messages before it. */
	if ((type == NULL || i == sizeof(frame_types) / sizeof(frame_types[0]) ||
	    !frame_types[i].batched) && frames_flush(f) == -1)
		return -1;
	if (!json_is_object(frame))
		return send_error(f, ERROR_INVALID_REQUEST, NULL,
		    "frame is not a JSON object");
	if (type == NULL)
		return send_error(f, ERROR_INVALID_REQUEST, NULL,
		    "type is required and must be a string");
	if (i == sizeof(frame_types) / sizeof(frame_types[0]))
		return send_error(f, ERROR_INVALID_REQUEST, NULL,
		    "unknown type: %.40s", type);
	return frame_types[i].handle(f, frame);
}

int
frames_bad(struct frames *f, const char *why)
{
	if (frames_flush(f) == -1)
		return -1;
	return send_error(f, ERROR_INVALID_REQUEST, NULL, "%s", why);
}
