#ifndef CHAT_DELIVERY_H
#define CHAT_DELIVERY_H

#include <stdint.h>

#include "outq.h"
#include "ws.h"

/*
 * What is owed to the user on this connection: the offline messages, then
 * live deliveries, each frame with its "seq" (the deliveries row's id,
 * which grows for the user in the order they are sent), and what counts
 * as delivered.
 *
 * A connection that sent {"type":"received"} is a receipt client: only
 * what it confirmed counts. Any other follows the contract's fallback:
 * what went out counts once the connection stayed up a grace period after
 * it, or when the client left while websocketd was still there to pass it
 * on. Whatever does not count is offered again on the next connection.
 */
struct delivery;

/* Start with the user's offline messages on q (borrowed). NULL when out of memory. */
struct delivery *delivery_new(struct ws_ctx *ctx, struct outq *q);

/* Free d; delivery_free(NULL) is a no-op. */
void delivery_free(struct delivery *d);

/*
 * Queue what is owed, as far as the output queue has room: the offline
 * messages and offline_messages_complete first, then what is new since
 * the cursor (when fetch is set, or more was left over). The cursor moves
 * only past what was queued. Returns 0, or -1 on a database error (the
 * connection ends; nothing unsent counts).
 */
int delivery_pump(struct delivery *d, int fetch);

/*
 * This connection stored the user's deliveries after cursor before up to
 * last itself (relay_noted_range()): its own messages, acked. The cursor
 * moves past them if it stood at before.
 */
void delivery_skip(struct delivery *d, int64_t before, int64_t last);

/*
 * A push (lib/push) payload of len bytes came: queue the messages it
 * carries that follow on the cursor. Returns 0, 1 when the database must
 * be read all the same (not online yet, a gap before an item, no room,
 * more than the push carries, a malformed push), or -1 when out of memory.
 */
int delivery_push(struct delivery *d, const char *payload, size_t len);

/* Whether the offline messages are all queued, and offline_messages_complete too. */
int delivery_online(const struct delivery *d);

/* Whether deliveries wait for room in the output queue. */
int delivery_backlog(const struct delivery *d);

/* Call after each outq_flush(): note when frames left, at now. */
void delivery_written(struct delivery *d, int64_t now);

/*
 * The client confirmed everything up to seq. Returns 0; 1 when seq was
 * never sent on this connection (reply INVALID_REQUEST); -1 on a database
 * error.
 */
int delivery_receipt(struct delivery *d, int64_t seq);

/* Whether the client sends receipts. */
int delivery_receipts(const struct delivery *d);

/*
 * How long, at now, a receipt client has left the oldest frame it was
 * sent unconfirmed (0: nothing waits, or no receipts): one that reads
 * confirms within moments, however much the servers in between buffer.
 */
int64_t delivery_unconfirmed_ms(const struct delivery *d, int64_t now);

/*
 * The fallback's marking: what went out a grace period ago counts as
 * delivered. Returns 0 or -1.
 */
int delivery_tick(struct delivery *d, int64_t now);

/* When delivery_tick has work next (ms), or INT64_MAX. */
int64_t delivery_next_tick(const struct delivery *d);

/*
 * Whether how the connection ends matters: a client without receipts was
 * sent something in the last moments that does not count yet.
 */
int delivery_end_matters(const struct delivery *d);

/*
 * The connection ends at now. client_left: the client closed it (input
 * ended, and websocketd's peer took what it was sent: ws-handler/peer.h),
 * so as the contract's fallback has it, what websocketd took from the pipe
 * counts. Otherwise (websocketd gone, a peer that reset with our frames
 * unread, an error) only delivery_tick's rule holds: a frame of the last
 * second may never have left, and is offered again.
 */
void delivery_end(struct delivery *d, int client_left, int64_t now);

#endif
