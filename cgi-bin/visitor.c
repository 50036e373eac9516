/*
 * Where the visitor is: the context the widget passes (the host page's
 * address, title and referrer; the visitor's browser, system, language),
 * stored with their session and shown to its agent.
 *
 * POST /api/v1/sessions/{id}/context   the session's customer: it changed
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "api.h"
#include "../lib/field.h"

/* The fields a context may have, and their limits in characters. */
static const struct {
	const char *name;
	size_t max;
	int address;	/* must be an http or https address */
} context_fields[] = {
	{ "url", 2048, 1 },
	{ "title", 200, 0 },
	{ "referrer", 2048, 1 },
	{ "browser", 100, 0 },
	{ "os", 100, 0 },
	{ "language", 35, 0 },
};

#define NFIELDS (sizeof(context_fields) / sizeof(context_fields[0]))

/* Whether s starts an http or https address (any case). */
static int
is_web_address(const char *s)
{
	return strncasecmp(s, "http://", 7) == 0 ||
	    strncasecmp(s, "https://", 8) == 0;
}

int
visitor_read_context(struct call *c, json_t *body, char **out)
{
	char err[256], named[300];
	const char *v;
	json_t *ctx, *clean = NULL;
	size_t i;

	*out = NULL;
	if (field_object(body, "context", SESSION_CONTEXT_MAX, FIELD_OPTIONAL,
	    &ctx, err, sizeof(err)) == -1) {
		api_fail_field(c, err);
		return -1;
	}
	if (ctx == NULL)
		return 0;
	if ((clean = json_object()) == NULL)
		goto internal;
	/* Only the known fields are kept; others are ignored, as elsewhere. */
	for (i = 0; i < NFIELDS; i++) {
		if (field_string(ctx, context_fields[i].name, 0,
		    context_fields[i].max, FIELD_OPTIONAL | FIELD_NO_CONTROL,
		    &v, err, sizeof(err)) == -1) {
			snprintf(named, sizeof(named), "context.%s", err);
			api_fail_field(c, named);
			json_decref(clean);
			return -1;
		}
		if (v == NULL || v[0] == '\0')
			continue;
		if (context_fields[i].address && !is_web_address(v)) {
			snprintf(named, sizeof(named), "context.%s must be an "
			    "http or https address", context_fields[i].name);
			api_fail_field(c, named);
			json_decref(clean);
			return -1;
		}
		if (json_object_set_new(clean, context_fields[i].name,
		    json_string(v)) == -1)
			goto internal;
	}
	if ((*out = json_dumps(clean, JSON_COMPACT)) == NULL)
		goto internal;
	json_decref(clean);
	return 0;
internal:
	json_decref(clean);
	api_fail_internal(c, "context");
	return -1;
}

void
visitor_context(struct call *c)
{
	struct db *db = c->api->db;
	struct session s;
	char *context = NULL;
	json_t *body, *obj;

	if ((body = api_read_body(c)) == NULL)
		return;
	if (visitor_read_context(c, body, &context) == -1)
		goto out;
	if (context == NULL) {
		api_fail_field(c, "context is required");
		goto out;
	}
	if (db_begin(db) == -1)
		goto dberr;
	switch (session_get(db, c->ids[0], &s)) {
	case SESSION_OK:
		break;
	case SESSION_NOT_FOUND:
		db_rollback(db);
		http_reply_error(c->req, ERROR_NOT_FOUND, NULL, "no session "
		    "%lld", (long long)c->ids[0]);
		goto out;
	default:
		goto dberr;
	}
	if (s.customer_id != c->who.principal_id) {
		db_rollback(db);
		http_reply_error(c->req, ERROR_FORBIDDEN, NULL, "session %lld is "
		    "not yours", (long long)s.id);
		goto out;
	}
	/* A closed chat's context stays as it was when it ended. */
	if (s.state == SESSION_CLOSED) {
		db_rollback(db);
		http_reply_error(c->req, ERROR_CONFLICT, NULL, "session %lld is "
		    "closed", (long long)s.id);
		goto out;
	}
	if (session_set_context(db, s.id, context) != SESSION_OK ||
	    session_get(db, s.id, &s) != SESSION_OK ||
	    relay_note_session(c->api->relay, &s, 0, s.state ==
	    SESSION_QUEUED, c->req->now) == -1)
		goto dberr;
	if (db_commit(db) == -1)
		goto dberr;
	relay_flush(c->api->relay);
	if ((obj = wire_session(&s)) == NULL) {
		api_fail_internal(c, "context reply");
		goto out;
	}
	http_reply_json(c->req, 200, NULL, obj);
	json_decref(obj);
	goto out;
dberr:
	relay_forget(c->api->relay);
	api_fail_internal(c, "context");
out:
	free(context);
	json_decref(body);
}
