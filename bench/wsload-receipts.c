/*
 * Delivery receipts of wsload --receipts, the way the chat's own client
 * sends them (www/js/chat-delivery.js, whose constants these are): each
 * connection confirms with {"type":"received","seq":N} the highest seq it
 * was given, batched, and answers the server's {"type":"ping"} with
 * {"type":"pong"}. The frames are real: the server records each receipt.
 */
#include <inttypes.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "wsload.h"

#define RECEIPT_QUIET_MS	200	/* a receipt once frames paused this long, */
#define RECEIPT_EVERY		20	/* or after this many frames, */
#define RECEIPT_LATEST_MS	1000	/* or this long after the first unconfirmed, */
#define RECEIPT_GAP_MS		250	/* but never sooner than this after the last */

void
receipts_reset(struct conn *c)
{
	c->rc_seen = 0;
	c->rc_unconfirmed = 0;
	c->rc_since = 0;
	c->rc_sent_at = INT64_MIN / 2;
	c->rc_due = 0;
	c->said_at = 0;
}

/* The seq of a frame: the server writes it right after "type". -1: none. */
static int64_t
frame_seq(const char *text)
{
	const char *p = strstr(text, "\"seq\":");
	char *end;
	long long v;

	if (p == NULL)
		return -1;
	v = strtoll(p + 6, &end, 10);
	return end == p + 6 ? -1 : (int64_t)v;
}

/* Let the loop know when c's next receipt is due. */
static void
schedule(struct conn *c, int64_t at)
{
	struct bench *b = c->b;

	c->rc_due = at;
	if (b->receipt_next == 0 || at < b->receipt_next)
		b->receipt_next = at;
}

int
receipt_flush(struct conn *c, int64_t now, int force)
{
	char text[64];
	int n;

	c->rc_due = 0;
	if (c->state != CONN_OPEN || (c->rc_unconfirmed == 0 && !force))
		return 0;
	c->rc_unconfirmed = 0;
	c->rc_sent_at = c->said_at = now;
	c->b->receipts_sent++;
	n = snprintf(text, sizeof(text), "{\"type\":\"received\",\"seq\":%" PRId64
	    "}", c->rc_seen);
	return ws_send(c, 0x1, text, (size_t)n);
}

int
receipt_saw(struct conn *c, const char *text, int64_t now)
{
	int64_t seq = frame_seq(text), due, at;

	if (seq <= 0) {
		c->b->seq_missing++;
		return 0;
	}
	if (seq > c->rc_seen)
		c->rc_seen = seq;
	if (c->rc_unconfirmed == 0)
		c->rc_since = now;
	c->rc_unconfirmed++;
	due = now + RECEIPT_QUIET_MS * NS_PER_MS;
	if (due > c->rc_since + RECEIPT_LATEST_MS * NS_PER_MS)
		due = c->rc_since + RECEIPT_LATEST_MS * NS_PER_MS;
	if (c->rc_unconfirmed >= RECEIPT_EVERY)
		due = now;
	at = c->rc_sent_at + RECEIPT_GAP_MS * NS_PER_MS;
	if (at < due)
		at = due;
	if (at <= now)
		return receipt_flush(c, now, 0);
	schedule(c, at);
	return 0;
}

int
receipt_pong(struct conn *c, int64_t now)
{
	c->said_at = now;
	c->b->pings_answered++;
	return ws_send(c, 0x1, "{\"type\":\"pong\"}", 15);
}

int64_t
receipts_tick(struct bench *b, int64_t now)
{
	int64_t next = INT64_MAX;
	struct conn *c;
	int i;

	if (b->receipt_next == 0)
		return INT64_MAX;
	if (now < b->receipt_next)
		return b->receipt_next;
	for (i = 0; i < b->nconns; i++) {
		c = &b->conns[i];
		if (c->rc_due == 0)
			continue;
		if (c->state != CONN_OPEN)
			c->rc_due = 0;
		else if (c->rc_due <= now) {
			if (receipt_flush(c, now, 0) == -1)
				conn_lost(c);
		} else if (c->rc_due < next)
			next = c->rc_due;
	}
	b->receipt_next = next == INT64_MAX ? 0 : next;
	return next;
}
