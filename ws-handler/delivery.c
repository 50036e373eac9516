#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "delivery.h"
#include "../lib/db.h"
#include "../lib/log.h"
#include "../lib/message.h"
#include "../lib/push.h"
#include "../lib/session.h"
#include "../lib/wire.h"

#define FETCH_BATCH 100
/*
 * The fallback's grace period: what went out this long ago on a connection
 * still up reached the client (websocketd and the web server pass a frame
 * on within moments; a handler killed before may have left it unsent).
 */
#define GRACE_MS 1000
/* Frames that went out this close together share one mark. */
#define COALESCE_MS 50

/*
 * Frames up to seq end at byte end of the output, and left at sent_at (0:
 * not yet), the last of a group that began to leave at first_at.
 */
struct mark {
	int64_t seq;
	uint64_t end;
	int64_t sent_at, first_at;
};

struct delivery {
	struct ws_ctx *ctx;
	struct outq *q;
	struct message *scratch;
	int online;		/* the offline messages are all queued */
	int started;
	int64_t bound;		/* the offline messages are those up to here */
	int64_t offline_after;	/* the offline pass is this far */
	json_int_t offline_count;
	int64_t offline_seq;	/* the last offline frame's */
	int64_t cursor;		/* live: queued (or skipped) up to here */
	int more;		/* live deliveries wait for room */
	int full;		/* the output queue has no room now */
	int failed;		/* a database error while fetching */
	int receipts;		/* the client sends receipts */
	int64_t confirmed;	/* marked delivered up to here */
	int64_t queued_seq;	/* the newest seq queued */
	struct mark *marks;	/* oldest first: marks[first..n) */
	size_t first, n, cap;
};

struct delivery *
delivery_new(struct ws_ctx *ctx, struct outq *q)
{
	struct delivery *d = calloc(1, sizeof(*d));

	if (d == NULL || (d->scratch = malloc(sizeof(*d->scratch))) == NULL) {
		free(d);
		return NULL;
	}
	d->ctx = ctx;
	d->q = q;
	return d;
}

void
delivery_free(struct delivery *d)
{
	if (d == NULL)
		return;
	free(d->scratch);
	free(d->marks);
	free(d);
}

/* Whether the output queue has room for more deliveries. */
static int
has_room(const struct delivery *d)
{
	return outq_pending(d->q) < (size_t)d->ctx->cfg.ws_queue_max / 4;
}

/* The frame carrying seq was queued: mark where it ends. Returns 0 or -1. */
static int
add_mark(struct delivery *d, int64_t seq)
{
	struct mark *m, *grown;
	size_t cap;

	d->queued_seq = seq;
	/* Not yet out either: one mark does for both, taken when the later leaves. */
	if (d->n > d->first && d->marks[d->n - 1].sent_at == 0) {
		d->marks[d->n - 1].seq = seq;
		d->marks[d->n - 1].end = outq_queued(d->q);
		return 0;
	}
	if (d->first > 0 && d->first == d->n)
		d->first = d->n = 0;
	if (d->n == d->cap) {
		if (d->first > d->cap / 2) {
			memmove(d->marks, d->marks + d->first,
			    (d->n - d->first) * sizeof(*m));
			d->n -= d->first;
			d->first = 0;
		} else {
			cap = d->cap == 0 ? 16 : d->cap * 2;
			if ((grown = realloc(d->marks, cap * sizeof(*m))) == NULL)
				return -1;
			d->marks = grown;
			d->cap = cap;
		}
	}
	m = &d->marks[d->n++];
	m->seq = seq;
	m->end = outq_queued(d->q);
	m->sent_at = m->first_at = 0;
	return 0;
}

/* Queue frame (new reference, consumed) carrying seq. Returns 0 or -1. */
static int
queue_owed(struct delivery *d, json_t *frame, int64_t seq)
{
	/* Deliveries are held back by has_room(), not by the client's limit. */
	int rc = frame != NULL && outq_put_json(d->q, frame, 1) == 0 &&
	    add_mark(d, seq) == 0 ? 0 : -1;

	json_decref(frame);
	return rc;
}

void
delivery_skip(struct delivery *d, int64_t before, int64_t last)
{
	if (d->online && d->cursor == before)
		d->cursor = last;
}

/*
 * Queue a message frame of type ("message" or "offline_message") carrying
 * seq and the message's JSON (len bytes). Returns 0 or -1.
 */
static int
queue_message(struct delivery *d, const char *type, int64_t seq,
    const char *json, size_t len)
{
	char head[96], *line;
	int n = snprintf(head, sizeof(head), "{\"type\":\"%s\",\"seq\":%lld,"
	    "\"message\":", type, (long long)seq);
	int rc = -1;

	if (n < 0 || (size_t)n >= sizeof(head) ||
	    (line = malloc((size_t)n + len + 1)) == NULL)
		return -1;
	memcpy(line, head, (size_t)n);
	memcpy(line + n, json, len);
	line[(size_t)n + len] = '}';
	/* Deliveries are held back by has_room(), not by the client's limit. */
	if (outq_put(d->q, line, (size_t)n + len + 1, 1) == 0 &&
	    add_mark(d, seq) == 0)
		rc = 0;
	free(line);
	return rc;
}

int
delivery_push(struct delivery *d, const char *payload, size_t len)
{
	struct push_reader r;
	struct push_item item;
	int rc;

	/* The offline pass reads them, and anything the cursor missed. */
	if (!d->online || d->more || push_read(&r, payload, len) == -1)
		return 1;
	while ((rc = push_next(&r, &item)) == 1) {
		if (item.seq <= d->cursor)
			continue;	/* read from the database already */
		if (item.prev != d->cursor || !has_room(d))
			return 1;
		if (queue_message(d, "message", item.seq, item.json,
		    item.len) == -1)
			return -1;
		d->cursor = item.seq;
	}
	return rc == -1 || r.more;
}

/*
 * Queue the frame of a delivery of type ("message" or "offline_message"),
 * unless there is nothing to send (gone, or this connection's own message,
 * which had its ack): *sent (output) says which. Returns 0, or -1 on a
 * database error or when out of memory: the delivery is not skipped then.
 */
static int
queue_item(struct delivery *d, const struct relay_item *item,
    const char *type, int *sent)
{
	enum message_status ms;
	enum session_status ss;
	int64_t origin = 0;
	struct session s;
	json_t *frame;
	char *json;
	int rc;

	*sent = 0;
	if (item->message_id > 0) {
		ms = message_get(d->ctx->db, item->message_id, d->scratch, &origin);
		if (ms == MESSAGE_ERROR)
			return -1;
		if (ms != MESSAGE_OK || (d->online && origin == d->ctx->conn_id))
			return 0;
		if ((json = wire_message_text(d->scratch)) == NULL)
			return -1;
		rc = queue_message(d, type, item->id, json, strlen(json));
		free(json);
	} else {
		if ((ss = session_get(d->ctx->db, item->session_id, &s)) ==
		    SESSION_ERROR)
			return -1;
		if (ss != SESSION_OK)
			return 0;
		frame = json_pack("{s:s,s:I,s:o}", "type", "session", "seq",
		    (json_int_t)item->id, "session", wire_session(&s));
		rc = queue_owed(d, frame, item->id);
	}
	*sent = rc == 0;
	return rc;
}

/* relay_fetch's callback: stops (-1) when full or failed, with the flag saying which. */
static int
send_item(const struct relay_item *item, void *arg)
{
	struct delivery *d = arg;
	const char *type = d->online ? "message" : "offline_message";
	int sent;

	if (!has_room(d)) {
		d->full = 1;
		return -1;
	}
	if (queue_item(d, item, type, &sent) == -1) {
		d->failed = 1;
		return -1;
	}
	if (d->online)
		d->cursor = item->id;
	else {
		d->offline_after = item->id;
		if (sent) {
			d->offline_count++;
			d->offline_seq = item->id;
		}
	}
	return 0;
}

/* One batch in one snapshot. Returns the items seen, or -1 on a failure. */
static int
fetch_batch(struct delivery *d)
{
	int n;

	d->full = d->failed = 0;
	if (db_begin_read(d->ctx->db) == -1)
		return -1;
	if (!d->started) {
		if (relay_cursor(d->ctx->relay, &d->ctx->user, &d->bound) == -1) {
			db_end_read(d->ctx->db);
			return -1;
		}
		d->cursor = d->bound;
		d->started = 1;
	}
	n = d->online ?
	    relay_fetch(d->ctx->relay, &d->ctx->user, d->cursor, 0,
	    FETCH_BATCH, 0, send_item, d) :
	    relay_fetch(d->ctx->relay, &d->ctx->user, d->offline_after,
	    d->bound, FETCH_BATCH, 1, send_item, d);
	db_end_read(d->ctx->db);
	if (n == -1 && !d->full)
		return -1;
	return d->full ? 0 : n;
}

/* Queue offline_messages_complete: the offline pass is over. */
static int
complete_offline(struct delivery *d)
{
	json_t *done = json_pack("{s:s,s:I,s:I}", "type",
	    "offline_messages_complete", "count", d->offline_count, "seq",
	    (json_int_t)d->offline_seq);
	int rc = done != NULL && outq_put_json(d->q, done, 1) == 0 ? 0 : -1;

	json_decref(done);
	d->online = 1;
	return rc;
}

int
delivery_pump(struct delivery *d, int fetch)
{
	int n;

	if (!d->online) {
		while ((n = fetch_batch(d)) == FETCH_BATCH && has_room(d))
			;
		if (n == -1)
			goto fail;
		if (d->full || n == FETCH_BATCH)
			return 0;
		if (complete_offline(d) == -1)
			goto fail;
		fetch = 1;
	}
	if (!fetch && !d->more)
		return 0;
	d->more = 0;
	while ((n = fetch_batch(d)) == FETCH_BATCH && has_room(d))
		;
	if (n == -1)
		goto fail;
	d->more = d->full || n == FETCH_BATCH;
	return 0;
fail:
	log_msg(LOG_ERROR, d->ctx->log_id, "deliveries: %s",
	    db_errmsg(d->ctx->db));
	return -1;
}

int
delivery_online(const struct delivery *d)
{
	return d->online;
}

int
delivery_backlog(const struct delivery *d)
{
	return !d->online || d->more;
}

void
delivery_written(struct delivery *d, int64_t now)
{
	uint64_t written = outq_written(d->q);
	size_t i;

	for (i = d->first; i < d->n; i++) {
		if (d->marks[i].sent_at != 0)
			continue;
		if (d->marks[i].end > written)
			break;
		d->marks[i].sent_at = d->marks[i].first_at = now;
		/*
		 * A group spans COALESCE_MS at most and takes its newest time:
		 * never older than the truth, and a steady stream still ages.
		 */
		if (i > d->first && now - d->marks[i - 1].first_at < COALESCE_MS) {
			d->marks[i].first_at = d->marks[i - 1].first_at;
			d->marks[i - 1] = d->marks[i];
			memmove(d->marks + i, d->marks + i + 1,
			    (d->n - i - 1) * sizeof(*d->marks));
			d->n--;
			i--;
		}
	}
}

/* Everything up to seq was delivered: record it, drop the marks it covers. */
static int
mark_delivered(struct delivery *d, int64_t seq)
{
	if (seq > d->confirmed) {
		if (relay_mark_delivered(d->ctx->relay, &d->ctx->user, seq) == -1) {
			log_msg(LOG_ERROR, d->ctx->log_id, "mark delivered: %s",
			    db_errmsg(d->ctx->db));
			return -1;
		}
		d->confirmed = seq;
	}
	while (d->first < d->n && d->marks[d->first].seq <= d->confirmed)
		d->first++;
	return 0;
}

int
delivery_receipt(struct delivery *d, int64_t seq)
{
	if (seq < 0 || seq > d->queued_seq)
		return 1;
	d->receipts = 1;
	return mark_delivered(d, seq);
}

int
delivery_receipts(const struct delivery *d)
{
	return d->receipts;
}

int64_t
delivery_unconfirmed_ms(const struct delivery *d, int64_t now)
{
	if (!d->receipts || d->first == d->n || d->marks[d->first].sent_at == 0)
		return 0;
	return now - d->marks[d->first].sent_at;
}

/* The newest mark that left at or before `before` and ends by byte `upto`, or NULL. */
static const struct mark *
newest_sent(const struct delivery *d, int64_t before, uint64_t upto)
{
	const struct mark *found = NULL;
	size_t i;

	for (i = d->first; i < d->n; i++) {
		if (d->marks[i].sent_at == 0 || d->marks[i].sent_at > before ||
		    d->marks[i].end > upto)
			break;
		found = &d->marks[i];
	}
	return found;
}

int
delivery_tick(struct delivery *d, int64_t now)
{
	const struct mark *m;

	if (d->receipts)
		return 0;
	m = newest_sent(d, now - GRACE_MS, UINT64_MAX);
	return m != NULL ? mark_delivered(d, m->seq) : 0;
}

int64_t
delivery_next_tick(const struct delivery *d)
{
	if (d->receipts || d->first == d->n || d->marks[d->first].sent_at == 0)
		return INT64_MAX;
	return d->marks[d->first].sent_at + GRACE_MS;
}

int
delivery_end_matters(const struct delivery *d)
{
	return !d->receipts && d->first < d->n;
}

void
delivery_end(struct delivery *d, int client_left, int64_t now)
{
	const struct mark *m;
	uint64_t taken;

	if (d->receipts)
		return;
	if (!client_left) {
		delivery_tick(d, now);
		return;
	}
	/* What websocketd took from the pipe went out before its close. */
	taken = outq_written(d->q) - outq_unread(d->q);
	if ((m = newest_sent(d, now, taken)) != NULL)
		mark_delivered(d, m->seq);
}
