#ifndef CHAT_OUTQ_H
#define CHAT_OUTQ_H

#include <stddef.h>
#include <stdint.h>

#include <jansson.h>

/*
 * The frames going to the client: lines queued in memory and written to a
 * non-blocking descriptor (standard output, websocketd's pipe) as fast as
 * it takes them, so the handler keeps reading its input while the client
 * is slow. websocketd reads our output and writes our input in one loop:
 * a handler that blocked on a full pipe while websocketd blocked on ours
 * would freeze both for good.
 *
 * Offsets count every byte ever queued: a frame ends at outq_queued()
 * after its put, and has left the process once outq_written() passes it.
 */
struct outq;

/*
 * A queue writing to fd (made non-blocking here), holding at most max
 * bytes not yet written. Returns one to free with outq_free(), or NULL.
 */
struct outq *outq_new(int fd, size_t max);

/* Free q; outq_free(NULL) is a no-op. */
void outq_free(struct outq *q);

/*
 * Queue text (len bytes, no newline) as one line. Returns 0, or -1 when
 * out of memory or when it would hold more than max unwritten bytes (the
 * client does not read: a slow consumer); force queues it all the same.
 */
int outq_put(struct outq *q, const char *text, size_t len, int force);

/* Queue frame (borrowed) as one line of compact JSON. As outq_put. */
int outq_put_json(struct outq *q, json_t *frame, int force);

/*
 * Write what the descriptor takes now, at time now (ms). Returns 0, or -1
 * when the reader is gone (websocketd ended).
 */
int outq_flush(struct outq *q, int64_t now);

/* Bytes queued and not yet written. */
size_t outq_pending(const struct outq *q);

/* Every byte ever queued, and every byte written. */
uint64_t outq_queued(const struct outq *q);
uint64_t outq_written(const struct outq *q);

/*
 * How long, at now, output has waited without a byte going out (0 while
 * nothing waits).
 */
int64_t outq_stalled_ms(const struct outq *q, int64_t now);

/* Bytes written but still in the pipe, not yet read by websocketd. */
size_t outq_unread(const struct outq *q);

/* Whether a put was refused for the limit: the client does not read. */
int outq_overflowed(const struct outq *q);

/* Whether the reader of the descriptor is gone (websocketd ended). */
int outq_reader_gone(const struct outq *q);

#endif
