#ifndef CHAT_HANDLER_H
#define CHAT_HANDLER_H

#include <stddef.h>
#include <stdint.h>

#include <jansson.h>

#include "../lib/config.h"
#include "../lib/db.h"
#include "../lib/error.h"
#include "../lib/message.h"
#include "../lib/relay.h"
#include "../lib/token.h"

/*
 * chat-ws: the program websocketd starts for each WebSocket connection.
 * Frames from the client arrive as lines on standard input; frames to the
 * client go out as lines on standard output. main.c runs the connection
 * (token check, offline messages, the poll loop, deliveries); frames.c
 * handles what the client sends.
 */

#define HANDLER_LINE_MAX 65536	/* longest client frame, bytes */

/* Message frames that came in together are stored in one transaction. */
#define PENDING_MAX 32

/* What became of a message frame waiting in the batch. */
enum pending_state {
	PENDING_STORED,		/* stored (or a repeat): ack it */
	PENDING_FORBIDDEN,	/* not the user's session */
	PENDING_CLOSED,		/* the session is closed */
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
	char *reply;		/* a repeat's ack line, new; NULL otherwise */
};

/* One connection, alive for the life of the process. */
struct conn {
	struct config cfg;
	struct db *db;
	struct relay *relay;
	struct relay_user user;
	struct token_info who;
	const char *token;		/* borrowed from the environment */
	int64_t id;			/* in the connections table; 0 before */
	int wake_fd;
	char wake_name[32];
	char log_id[48];
	int64_t cursor;			/* the last delivery sent */
	int64_t marked;			/* deliveries up to here are marked delivered */
	int64_t checkpoint;		/* sent by checkpoint_at, not yet marked; 0: none */
	int64_t checkpoint_at;
	struct message *scratch;	/* one message being read or sent */
	double allowance;		/* the message rate limit's bucket */
	int64_t allowance_at;
	int64_t typing_at;		/* when typing was last passed on */
	char *in;			/* HANDLER_LINE_MAX + 1 bytes, touched only as used */
	size_t inlen;
	int discarding;			/* skipping the rest of an overlong line */
	struct pending pending[PENDING_MAX];
	size_t npending;
};

/*
 * Write frame (borrowed) as one line on standard output, unflushed.
 * Returns 0, or -1 when the client is gone.
 */
int conn_send(struct conn *c, json_t *frame);

/* Write an error frame (code, message, client_msg_id or NULL). Returns 0 or -1. */
int conn_send_error(struct conn *c, enum error_code code,
    const char *client_msg_id, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));

/* Get ready for the client's frames: a full rate-limit bucket. */
void frames_start(struct conn *c);

/*
 * Handle one line the client sent. A valid message is only queued until
 * frames_flush. Returns 0, or -1 when the connection must end (the client
 * is gone, or the database failed).
 */
int frames_handle(struct conn *c, const char *line, size_t len);

/*
 * Store the message frames handle queued, in one transaction, and answer
 * each (ack or error) in the order they came. Call it once the lines read
 * together are handled. Returns 0, or -1 when the client is gone.
 */
int frames_flush(struct conn *c);

#endif
