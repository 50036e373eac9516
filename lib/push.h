#ifndef CHAT_PUSH_H
#define CHAT_PUSH_H

#include <stddef.h>
#include <stdint.h>

#include "wake.h"

/*
 * Pushes: new deliveries handed over in the wake-up itself (lib/wake's
 * WAKE_PUSH), so that a woken connection need not read back from the
 * database what its writer has just stored there. The database stays the
 * truth. Each item names the user's delivery before it (prev): a
 * connection whose cursor is anywhere else has missed something and reads
 * the database instead, as it does for a plain WAKE_DELIVER. A push that
 * could not carry everything noted for the user says so (more), and the
 * connection reads the rest.
 *
 * The payload: one flags byte, then items, each the delivery's id (seq),
 * prev, the length of the message's JSON (8, 8 and 4 bytes, this
 * machine's byte order: both ends run here) and that JSON.
 */

/* A push being built: at most WAKE_MAX - 1 bytes of payload. */
struct push {
	size_t len;
	char buf[WAKE_MAX - 1];
};

/* One item read back: json points into the payload, len bytes, no NUL. */
struct push_item {
	int64_t seq, prev;
	const char *json;
	size_t len;
};

/* Reading a payload: item by item with push_next(). */
struct push_reader {
	const char *at, *end;
	int more;	/* deliveries followed that the push does not carry */
};

/* Start an empty push. */
void push_init(struct push *p);

/* Add one item. Returns 0, or -1 when it does not fit (p is unchanged). */
int push_add(struct push *p, int64_t seq, int64_t prev, const char *json,
    size_t len);

/* Whether p carries any item. */
int push_has_items(const struct push *p);

/* Say that deliveries followed that p does not carry. */
void push_set_more(struct push *p);

/* Begin reading payload (len bytes, borrowed). Returns 0, or -1 if malformed. */
int push_read(struct push_reader *r, const char *payload, size_t len);

/* The next item into *item. Returns 1, 0 at the end, -1 if malformed. */
int push_next(struct push_reader *r, struct push_item *item);

#endif
