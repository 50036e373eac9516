/*
 * chat-api: the FastCGI program behind /api/v1/. The web server spawns it
 * (or it is started with its listening socket on standard input); each
 * process serves one request at a time with one database connection.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>


#include "api.h"
#include "../lib/log.h"
#include "../lib/serve.h"

enum auth {
	AUTH_NONE,	/* anyone */
	AUTH_BEARER,	/* any valid access token */
	AUTH_CUSTOMER,	/* a customer's access token */
	AUTH_AGENT	/* an agent's access token */
};

struct route {
	const char *method;
	const char *pattern;	/* "{id}" matches a positive integer segment */
	enum auth auth;
	void (*handler)(struct call *);
};

static const struct route routes[] = {
	{ "POST", "/api/v1/customers", AUTH_NONE, customers_create },
	{ "POST", "/api/v1/customers/token", AUTH_NONE, customers_refresh },
	{ "POST", "/api/v1/public/login", AUTH_NONE, auth_login },
	{ "POST", "/api/v1/logout", AUTH_BEARER, auth_logout },
	{ "GET", "/api/v1/me", AUTH_BEARER, auth_me },
	{ "POST", "/api/v1/sessions", AUTH_CUSTOMER, sessions_create },
	{ "GET", "/api/v1/sessions", AUTH_BEARER, sessions_list },
	{ "GET", "/api/v1/sessions/{id}", AUTH_BEARER, sessions_get },
	{ "GET", "/api/v1/sessions/{id}/messages", AUTH_BEARER, sessions_messages },
	{ "POST", "/api/v1/sessions/{id}/claim", AUTH_AGENT, sessions_claim },
	{ "POST", "/api/v1/sessions/{id}/transfer", AUTH_AGENT, sessions_transfer },
	{ "POST", "/api/v1/sessions/{id}/close", AUTH_BEARER, sessions_close },
	{ "POST", "/api/v1/sessions/{id}/context", AUTH_CUSTOMER, visitor_context },
	{ "POST", "/api/v1/customers/resume", AUTH_NONE, customers_resume },
	{ "POST", "/api/v1/customers/handoff", AUTH_CUSTOMER, customers_handoff },
	{ "POST", "/api/v1/sessions/{id}/transcript", AUTH_CUSTOMER, leave_transcript },
	{ "POST", "/api/v1/leave-message", AUTH_CUSTOMER, leave_message },
	{ "GET", "/api/v1/availability", AUTH_NONE, availability_get },
	{ "GET", "/api/v1/agents", AUTH_AGENT, agents_list },
};

#define NROUTES (sizeof(routes) / sizeof(routes[0]))

/* Parse a path segment [s, s+n) as a positive integer. Returns 0 or -1. */
static int
parse_id(const char *s, size_t n, int64_t *out)
{
	int64_t v = 0;
	size_t i;

	if (n == 0 || n > 18 || s[0] == '0')
		return -1;
	for (i = 0; i < n; i++) {
		if (s[i] < '0' || s[i] > '9')
			return -1;
		v = v * 10 + (s[i] - '0');
	}
	*out = v;
	return 0;
}

/* Whether path matches pattern; the {id} segments go into ids. */
static int
match(const char *pattern, const char *path, int64_t ids[2])
{
	const char *p = pattern, *q = path, *pe, *qe;
	size_t nids = 0;

	while (*p != '\0' && *q != '\0') {
		pe = p + strcspn(p, "/");
		qe = q + strcspn(q, "/");
		if (pe - p == 4 && strncmp(p, "{id}", 4) == 0) {
			if (nids == 2 || parse_id(q, (size_t)(qe - q),
			    &ids[nids++]) == -1)
				return 0;
		} else if (pe - p != qe - q || strncmp(p, q, (size_t)(pe - p)) != 0)
			return 0;
		p = *pe == '/' ? pe + 1 : pe;
		q = *qe == '/' ? qe + 1 : qe;
		if ((*pe == '/') != (*qe == '/'))
			return 0;
	}
	return *p == '\0' && *q == '\0';
}

/* Check the bearer token and its role; reply and return -1 when it does not do. */
static int
authenticate(struct call *c, enum auth auth)
{
	enum token_status st;

	if ((c->token = http_bearer(c->req)) == NULL) {
		http_reply_error(c->req, ERROR_MISSING_TOKEN, NULL,
		    "Authorization: Bearer token is missing");
		return -1;
	}
	st = token_verify(c->api->db, c->token, TOKEN_ACCESS, c->req->now,
	    &c->who);
	if (st == TOKEN_ERROR) {
		api_fail_internal(c, "token check");
		return -1;
	}
	if (st == TOKEN_INVALID) {
		http_reply_error(c->req, ERROR_TOKEN_EXPIRED, NULL,
		    "Token is invalid or expired, please obtain a new one");
		return -1;
	}
	if ((auth == AUTH_CUSTOMER && c->who.principal != PRINCIPAL_CUSTOMER) ||
	    (auth == AUTH_AGENT && c->who.principal != PRINCIPAL_AGENT)) {
		http_reply_error(c->req, ERROR_FORBIDDEN, NULL, "this call is for "
		    "%s only", auth == AUTH_AGENT ? "agents" : "customers");
		return -1;
	}
	return 0;
}

/*
 * Authenticate and call the route's handler. A GET reads everything in
 * one transaction: one consistent snapshot, and one lock instead of one
 * per statement.
 */
static void
run(struct call *c, const struct route *r)
{
	int reading = strcmp(r->method, "GET") == 0 &&
	    db_begin_read(c->api->db) == 0;

	if (r->auth == AUTH_NONE || authenticate(c, r->auth) == 0)
		r->handler(c);
	if (reading)
		db_end_read(c->api->db);
}

static void
dispatch(struct api *api, struct http_request *req)
{
	char allow[128] = "Allow: ";
	const struct route *r;
	struct call c;
	size_t i;
	int path_known = 0;

	memset(&c, 0, sizeof(c));
	c.api = api;
	c.req = req;
	for (i = 0; i < NROUTES; i++) {
		r = &routes[i];
		if (!match(r->pattern, req->path, c.ids))
			continue;
		if (strcmp(r->method, req->method) == 0) {
			run(&c, r);
			return;
		}
		snprintf(allow + strlen(allow), sizeof(allow) - strlen(allow),
		    "%s%s", path_known ? ", " : "", r->method);
		path_known = 1;
	}
	if (!path_known) {
		http_reply_error(req, ERROR_NOT_FOUND, NULL, "no such resource: %s",
		    req->path);
		return;
	}
	strcat(allow, "\r\n");
	http_reply_error(req, ERROR_METHOD_NOT_ALLOWED, allow,
	    "method %s is not allowed here", req->method);
}

json_t *
api_read_body(struct call *c)
{
	char err[256];
	enum error_code code;
	json_t *body;

	code = http_read_json(c->req, c->api->cfg->max_body, &body, err,
	    sizeof(err));
	if (code != ERROR_OK) {
		http_reply_error(c->req, code, NULL, "%s", err);
		return NULL;
	}
	return body;
}

void
api_fail_field(struct call *c, const char *message)
{
	http_reply_error(c->req, ERROR_INVALID_REQUEST, NULL, "%s", message);
}

void
api_fail_internal(struct call *c, const char *what)
{
	log_msg(LOG_ERROR, c->req->id, "%s %s: %s: %s", c->req->method,
	    c->req->path, what, db_errmsg(c->api->db));
	db_rollback(c->api->db);
	http_reply_error(c->req, ERROR_INTERNAL, NULL, "internal error");
}

void
api_fail_throttled(struct call *c, long retry_after, const char *message)
{
	char headers[64];

	snprintf(headers, sizeof(headers), "Retry-After: %ld\r\n", retry_after);
	http_reply_error(c->req, ERROR_RATE_LIMITED, headers, "%s; retry in "
	    "%ld s", message, retry_after);
}

/* One process serving requests from listen_fd with its own database connection. */
static int
serve(int listen_fd, void *arg)
{
	struct http_request req;
	struct api api = { .cfg = arg };
	unsigned long seq;
	char err[512];

	if ((api.db = db_open(api.cfg, 0, err, sizeof(err))) == NULL) {
		log_msg(LOG_ERROR, NULL, "%s", err);
		return 1;
	}
	if ((api.relay = relay_new(api.db, api.cfg->presence_stale)) == NULL ||
	    http_request_init(&req, listen_fd) == -1) {
		log_msg(LOG_ERROR, NULL, "cannot start: %s", db_errmsg(api.db));
		relay_free(api.relay);
		db_close(api.db);
		return 1;
	}
	for (seq = 1; http_accept(&req, seq) == 0; seq++) {
		dispatch(&api, &req);
		http_finish(&req);
	}
	relay_free(api.relay);
	db_close(api.db);
	return 0;
}

int
main(int argc, char **argv)
{
	return serve_main(argc, argv, "chat-api", serve);
}
