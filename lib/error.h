#ifndef CHAT_ERROR_H
#define CHAT_ERROR_H

#include <jansson.h>

/*
 * The error codes of the wire contract and the one place their shapes are
 * written: REST bodies {"error":{"code","message"}} and WebSocket frames
 * {"type":"error","code","message","clientMsgId"?}.
 */
enum error_code {
	ERROR_OK = 0,
	ERROR_INVALID_REQUEST,		/* 400 */
	ERROR_MISSING_TOKEN,		/* 401 */
	ERROR_TOKEN_EXPIRED,		/* 401 */
	ERROR_INVALID_CREDENTIALS,	/* 401 */
	ERROR_FORBIDDEN,		/* 403 */
	ERROR_NOT_FOUND,		/* 404 */
	ERROR_METHOD_NOT_ALLOWED,	/* 405 */
	ERROR_CONFLICT,			/* 409 */
	ERROR_PAYLOAD_TOO_LARGE,	/* 413 */
	ERROR_UNSUPPORTED_MEDIA_TYPE,	/* 415 */
	ERROR_RATE_LIMITED,		/* 429 */
	ERROR_INTERNAL,			/* 500 */
	ERROR_INVALID_MESSAGE,		/* WebSocket only */
	ERROR_SESSION_CLOSED,		/* WebSocket only */
	ERROR_SLOW_CONSUMER,		/* WebSocket only: then the connection ends */
	ERROR__MAX
};

/* The contract's name of code, e.g. "TOKEN_EXPIRED". Static. */
const char *error_name(enum error_code code);

/* The HTTP status that goes with code (400 for the WebSocket-only codes). */
int error_status(enum error_code code);

/* New reference: {"error":{"code":...,"message":message}}. NULL when out of memory. */
json_t *error_body_new(enum error_code code, const char *message);

/*
 * New reference: {"type":"error","code":...,"message":...} with
 * "clientMsgId" when client_msg_id is not NULL. NULL when out of memory.
 */
json_t *error_frame_new(enum error_code code, const char *message,
    const char *client_msg_id);

#endif
