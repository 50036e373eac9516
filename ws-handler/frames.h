#ifndef CHAT_FRAMES_H
#define CHAT_FRAMES_H

#include <jansson.h>

#include "delivery.h"
#include "outq.h"
#include "ws.h"
#include "../lib/error.h"

/*
 * What the client sends: {"type":"message"|"typing"|"ping"|"pong"|
 * "received",...}, dispatched from a table. Every bad frame gets an error
 * frame and the connection stays open. Message frames that came in
 * together are stored in one transaction and answered in the order sent.
 */
struct frames;

/* Handle frames of ctx, answering on q, receipts going to d (all borrowed). NULL when out of memory. */
struct frames *frames_new(struct ws_ctx *ctx, struct outq *q,
    struct delivery *d);

/* Free f (storing nothing it still holds); frames_free(NULL) is a no-op. */
void frames_free(struct frames *f);

/*
 * Handle one frame (borrowed). A valid message is only queued until
 * frames_flush. Returns 0, or -1 when the connection must end (out of
 * memory, the client does not read, or the database failed).
 */
int frames_handle(struct frames *f, json_t *frame);

/* Answer a frame that was no frame (lib/framer) with INVALID_REQUEST. As frames_handle. */
int frames_bad(struct frames *f, const char *why);

/*
 * Store the message frames handle queued, in one transaction, and answer
 * each (ack or error) in the order they came. Call it once the frames
 * read together are handled. Returns 0 or -1 as frames_handle.
 */
int frames_flush(struct frames *f);

/* Queue an error frame (code, message, client_msg_id or NULL); force as outq_put. Returns 0 or -1. */
int frames_send_error(struct outq *q, enum error_code code,
    const char *client_msg_id, int force, const char *fmt, ...)
    __attribute__((format(printf, 5, 6)));

#endif
