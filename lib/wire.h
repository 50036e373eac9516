#ifndef CHAT_WIRE_H
#define CHAT_WIRE_H

#include <stdint.h>

#include <jansson.h>

#include "message.h"
#include "session.h"

/*
 * The JSON shapes of the wire contract that REST replies and WebSocket
 * frames share. Each returns a new reference, or NULL when out of memory.
 */

/* {"id","sessionId","senderType","senderId","text","clientMsgId","createdAt","senderName"}, and "event" for a system line */
json_t *wire_message(const struct message *m);

/*
 * The same as wire_message(), written straight to compact JSON text (new;
 * the caller frees it), or NULL when out of memory: for the frames that
 * every message costs.
 */
char *wire_message_text(const struct message *m);

/* {"id","customerId","customerName","agentId","status","channel","subject","createdAt","closedAt","kind","agentName","customerEmail","context"} */
json_t *wire_session(const struct session *s);

/* Set key of obj to ms as an RFC 3339 UTC time, or null for ms <= 0. Returns 0 or -1. */
int wire_set_time(json_t *obj, const char *key, int64_t ms);

/* A new JSON integer for id, or null for id <= 0. */
json_t *wire_id(int64_t id);

#endif
