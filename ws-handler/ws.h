#ifndef CHAT_WS_H
#define CHAT_WS_H

#include <stdint.h>

#include "../lib/config.h"
#include "../lib/message.h"
#include "../lib/relay.h"
#include "../lib/token.h"

/*
 * chat-ws: the program websocketd starts for each WebSocket connection.
 * Frames from the client arrive on standard input (lib/framer splits
 * them); frames to the client go out as lines on standard output, through
 * a bounded queue that never blocks (outq). main.c runs the connection:
 * the token, the poll loop, liveness and presence; delivery.c owns what
 * is owed to the user (cursor, seq, receipts); frames.c handles what the
 * client sends.
 *
 * Who the connection is: set up once by main.c, then only read.
 */
struct ws_ctx {
	struct config cfg;
	struct db *db;
	struct relay *relay;
	struct relay_user user;
	struct token_info who;
	char name[MESSAGE_NAME_MAX * 4 + 1];	/* the user's name, for their acks */
	int64_t conn_id;		/* in the connections table; 0 before */
	char log_id[48];
};

#define WS_FRAME_MAX 65536	/* longest client frame, bytes */

#endif
