/*
 * chat-authorizer: the FastCGI authorizer in front of /ws/chat. The web
 * server asks it about every handshake before anything is upgraded:
 * 200 lets the request through to websocketd; any other answer goes to
 * the client as it is, with X-WebSocket-Error-Code and
 * X-WebSocket-Error-Message and the contract's JSON error body.
 *
 *   not a WebSocket upgrade            400 INVALID_REQUEST
 *   an Origin that is not allowed      403 FORBIDDEN
 *   no token, or an empty one          401 MISSING_TOKEN
 *   unknown, expired or revoked token  401 TOKEN_EXPIRED
 */
#include <stdio.h>
#include <string.h>
#include <strings.h>

#include <sodium.h>

#include "../lib/config.h"
#include "../lib/db.h"
#include "../lib/http.h"
#include "../lib/log.h"
#include "../lib/serve.h"
#include "../lib/query.h"
#include "../lib/relay.h"
#include "../lib/token.h"

/*
 * A request header. Apache's mod_authnz_fcgi hides Upgrade and rewrites
 * Connection, so its configuration copies them into WS_UPGRADE and
 * WS_CONNECTION; those come first.
 */
static const char *
header(struct http_request *req, const char *ws_name, const char *http_name)
{
	const char *v = ws_name != NULL ? http_param(req, ws_name) : NULL;

	return v != NULL && v[0] != '\0' ? v : http_param(req, http_name);
}

/* Whether the comma-separated list holds item (spaces around items ignored), in any case. */
static int
list_has(const char *list, const char *item)
{
	size_t n = strlen(item);
	const char *p, *end, *e;

	for (p = list; p != NULL && *p != '\0'; p = *end == ',' ? end + 1 : end) {
		end = p + strcspn(p, ",");
		p += strspn(p, " \t");
		for (e = end; e > p && (e[-1] == ' ' || e[-1] == '\t'); e--)
			;
		if ((size_t)(e - p) == n && strncasecmp(p, item, n) == 0)
			return 1;
	}
	return 0;
}

/*
 * A WebSocket handshake: HTTP/1.1's GET with Upgrade: websocket, or
 * HTTP/2's extended CONNECT (RFC 8441), which browsers use where the server
 * offers it (lighttpd over TLS does). lighttpd 1.4.69 hands that on as
 * method CONNECT, protocol HTTP/2.0, without Upgrade, Connection or
 * Sec-WebSocket-Key (RFC 8441 has none); later versions turn it into the
 * HTTP/1.1 form themselves.
 */
static int
is_upgrade(struct http_request *req)
{
	const char *version = http_param(req, "HTTP_SEC_WEBSOCKET_VERSION");
	const char *key = http_param(req, "HTTP_SEC_WEBSOCKET_KEY");
	const char *protocol = http_param(req, "SERVER_PROTOCOL");

	if (version == NULL || strcmp(version, "13") != 0)
		return 0;
	if (strcmp(req->method, "CONNECT") == 0)
		return protocol != NULL && strncmp(protocol, "HTTP/2", 6) == 0;
	return strcmp(req->method, "GET") == 0 &&
	    list_has(header(req, "WS_UPGRADE", "HTTP_UPGRADE"), "websocket") &&
	    list_has(header(req, "WS_CONNECTION", "HTTP_CONNECTION"), "upgrade") &&
	    key != NULL && key[0] != '\0';
}

/* The host[:port] part of an origin such as https://host:port. */
static const char *
origin_host(const char *origin)
{
	const char *p = strstr(origin, "://");

	return p != NULL ? p + 3 : origin;
}

/*
 * Browsers send Origin; other clients need not. With no list, only the
 * page's own site may connect; with CHAT_ALLOWED_ORIGINS, exactly those.
 */
static int
origin_allowed(struct http_request *req, const char *allowed)
{
	const char *origin = http_param(req, "HTTP_ORIGIN");
	const char *host = http_param(req, "HTTP_HOST");

	if (origin == NULL || origin[0] == '\0')
		return 1;
	if (allowed[0] == '\0')
		return host != NULL && strcasecmp(origin_host(origin), host) == 0;
	return list_has(allowed, origin);
}

/*
 * The refusal: status and body from code, and the two X-WebSocket-Error
 * headers; Retry-After too when code is RATE_LIMITED.
 */
static void
refuse(struct http_request *req, enum error_code code, const char *message)
{
	char headers[512];

	snprintf(headers, sizeof(headers), "X-WebSocket-Error-Code: %s\r\n"
	    "X-WebSocket-Error-Message: %s\r\n%s", error_name(code), message,
	    code == ERROR_RATE_LIMITED ? "Retry-After: 5\r\n" : "");
	http_reply_error(req, code, headers, "%s", message);
}

/*
 * Whether the token has as many open connections as it may (a reload
 * loop, or one visitor's thirty tabs): 1 yes, 0 no, -1 on a database error.
 */
static int
at_cap(struct relay *relay, const struct config *cfg,
    const struct token_info *who)
{
	long open;

	if (relay_token_connections(relay, who->token_id, &open) == -1)
		return -1;
	/* Handlers killed a moment ago still have rows: ask them first. */
	if (open >= cfg->ws_max_per_token && (relay_prune_token(relay,
	    who->token_id) == -1 || relay_token_connections(relay,
	    who->token_id, &open) == -1))
		return -1;
	return open >= cfg->ws_max_per_token;
}

static void
authorize(struct http_request *req, const struct config *cfg, struct db *db,
    struct relay *relay)
{
	struct token_info who;
	char token[512];
	int full;

	if (!is_upgrade(req)) {
		refuse(req, ERROR_INVALID_REQUEST, "Invalid request: a WebSocket "
		    "upgrade (GET with Upgrade: websocket) is expected");
		return;
	}
	if (!origin_allowed(req, cfg->allowed_origins)) {
		refuse(req, ERROR_FORBIDDEN, "Origin is not allowed");
		return;
	}
	query_param(req->query, "token", token, sizeof(token));
	if (token[0] == '\0') {
		refuse(req, ERROR_MISSING_TOKEN, "Token is missing, please add "
		    "the token parameter to the URL");
		return;
	}
	switch (token_verify(db, token, TOKEN_ACCESS, req->now, &who)) {
	case TOKEN_OK:
		if ((full = at_cap(relay, cfg, &who)) != 0) {
			if (full == -1)
				log_msg(LOG_ERROR, req->id, "connection count: %s",
				    db_errmsg(db));
			refuse(req, full == 1 ? ERROR_RATE_LIMITED : ERROR_INTERNAL,
			    full == 1 ? "Too many connections on this token, "
			    "close some first" : "Internal error");
			break;
		}
		/*
		 * Who it is, for the web server: Apache's mod_authnz_fcgi takes
		 * the user name from this variable (UserExpr); lighttpd passes
		 * it on to the backend's environment.
		 */
		FCGX_FPrintF(req->fcgi.out, "Status: 200 OK\r\n"
		    "Variable-WS_USER: %s-%lld\r\n\r\n",
		    who.principal == PRINCIPAL_AGENT ? "agent" : "customer",
		    (long long)who.principal_id);
		break;
	case TOKEN_INVALID:
		refuse(req, ERROR_TOKEN_EXPIRED, "Token is invalid or expired, "
		    "please obtain a new one");
		break;
	default:
		log_msg(LOG_ERROR, req->id, "token check: %s", db_errmsg(db));
		refuse(req, ERROR_INTERNAL, "Internal error");
	}
	sodium_memzero(token, sizeof(token));
}

/* One process answering handshakes from listen_fd with its own database connection. */
static int
serve(int listen_fd, void *arg)
{
	struct config *cfg = arg;
	struct http_request req;
	struct relay *relay = NULL;
	unsigned long seq;
	struct db *db;
	char err[512];
	int rc = 1;

	if ((db = db_open(cfg, 0, err, sizeof(err))) == NULL) {
		log_msg(LOG_ERROR, NULL, "%s", err);
		return 1;
	}
	if ((relay = relay_new(db, cfg->presence_stale)) == NULL ||
	    http_request_init(&req, listen_fd) == -1) {
		log_msg(LOG_ERROR, NULL, "cannot start: %s", db_errmsg(db));
		goto out;
	}
	for (seq = 1; http_accept(&req, seq) == 0; seq++) {
		authorize(&req, cfg, db, relay);
		http_finish(&req);
	}
	rc = 0;
out:
	relay_free(relay);
	db_close(db);
	return rc;
}

int
main(int argc, char **argv)
{
	return serve_main(argc, argv, "chat-authorizer", serve);
}
