#include "error.h"

static const struct {
	const char *name;
	int status;
} errors[ERROR__MAX] = {
	[ERROR_OK] = { "OK", 200 },
	[ERROR_INVALID_REQUEST] = { "INVALID_REQUEST", 400 },
	[ERROR_MISSING_TOKEN] = { "MISSING_TOKEN", 401 },
	[ERROR_TOKEN_EXPIRED] = { "TOKEN_EXPIRED", 401 },
	[ERROR_INVALID_CREDENTIALS] = { "INVALID_CREDENTIALS", 401 },
	[ERROR_FORBIDDEN] = { "FORBIDDEN", 403 },
	[ERROR_NOT_FOUND] = { "NOT_FOUND", 404 },
	[ERROR_METHOD_NOT_ALLOWED] = { "METHOD_NOT_ALLOWED", 405 },
	[ERROR_CONFLICT] = { "CONFLICT", 409 },
	[ERROR_PAYLOAD_TOO_LARGE] = { "PAYLOAD_TOO_LARGE", 413 },
	[ERROR_UNSUPPORTED_MEDIA_TYPE] = { "UNSUPPORTED_MEDIA_TYPE", 415 },
	[ERROR_RATE_LIMITED] = { "RATE_LIMITED", 429 },
	[ERROR_INTERNAL] = { "INTERNAL", 500 },
	[ERROR_INVALID_MESSAGE] = { "INVALID_MESSAGE", 400 },
	[ERROR_SESSION_CLOSED] = { "SESSION_CLOSED", 400 },
	[ERROR_SLOW_CONSUMER] = { "SLOW_CONSUMER", 400 },
};

const char *
error_name(enum error_code code)
{
	return code < ERROR__MAX ? errors[code].name : errors[ERROR_INTERNAL].name;
}

int
error_status(enum error_code code)
{
	return code < ERROR__MAX ? errors[code].status : 500;
}

json_t *
error_body_new(enum error_code code, const char *message)
{
	return json_pack("{s:{s:s,s:s}}", "error", "code", error_name(code),
	    "message", message);
}

json_t *
error_frame_new(enum error_code code, const char *message,
    const char *client_msg_id)
{
	json_t *frame = json_pack("{s:s,s:s,s:s}", "type", "error", "code",
	    error_name(code), "message", message);

	if (frame != NULL && client_msg_id != NULL &&
	    json_object_set_new(frame, "clientMsgId",
	    json_string(client_msg_id)) == -1) {
		json_decref(frame);
		return NULL;
	}
	return frame;
}
