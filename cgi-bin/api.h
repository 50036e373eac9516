#ifndef CHAT_API_H
#define CHAT_API_H

#include <stdint.h>

#include <jansson.h>

#include "../lib/config.h"
#include "../lib/db.h"
#include "../lib/http.h"
#include "../lib/relay.h"
#include "../lib/token.h"
#include "../lib/wire.h"

/*
 * The REST API program: api.c reads requests and routes them through its
 * route table to the handlers of one file per resource.
 */

/* What lives as long as the process. */
struct api {
	const struct config *cfg;
	struct db *db;
	struct relay *relay;	/* to wake WebSocket connections */
};

/* One request on its way through a handler. */
struct call {
	struct api *api;
	struct http_request *req;
	const char *token;	/* the bearer token, for routes that need one */
	struct token_info who;	/* whose token it is, for routes that need one */
	int64_t ids[2];		/* the {id} segments of the path, in order */
};

/*
 * Read the request body as a JSON object (new reference), or reply with the
 * matching error and return NULL.
 */
json_t *api_read_body(struct call *c);

/* Reply 400 INVALID_REQUEST with message (which names the field). */
void api_fail_field(struct call *c, const char *message);

/* Log what failed with the database's reason and reply 500, disclosing nothing. */
void api_fail_internal(struct call *c, const char *what);

/* Reply 429 RATE_LIMITED with Retry-After: retry_after seconds. */
void api_fail_throttled(struct call *c, long retry_after, const char *message);

/* customers.c */
void customers_create(struct call *c);
void customers_refresh(struct call *c);
void customers_resume(struct call *c);
void customers_handoff(struct call *c);
/* New reference: the public fields of customer id, or NULL (not found, error). */
json_t *customers_json(struct call *c, int64_t id);

/* sessions.c */
void sessions_create(struct call *c);
void sessions_list(struct call *c);
void sessions_get(struct call *c);
void sessions_messages(struct call *c);
void sessions_claim(struct call *c);
void sessions_transfer(struct call *c);
void sessions_close(struct call *c);

/* visitor.c */
/*
 * The optional "context" of body, checked, as compact JSON of its known
 * fields into *out (NULL when absent; free()). Returns 0, or -1 after
 * replying.
 */
int visitor_read_context(struct call *c, json_t *body, char **out);
void visitor_context(struct call *c);

/* leave.c */
void leave_message(struct call *c);
void leave_transcript(struct call *c);

/* availability.c */
void availability_get(struct call *c);

/* agents.c */
void agents_list(struct call *c);

/* auth.c */
void auth_login(struct call *c);
void auth_logout(struct call *c);
void auth_me(struct call *c);

#endif
