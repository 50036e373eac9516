#ifndef CHAT_HTTP_H
#define CHAT_HTTP_H

#include <stddef.h>
#include <stdint.h>

#include <fcgiapp.h>
#include <jansson.h>

#include "error.h"

/*
 * FastCGI requests and replies for the REST API and the WebSocket
 * authorizer: the request line, headers, a JSON body read with a size
 * limit, and replies in the contract's JSON shapes.
 */

#define HTTP_PATH_MAX 1024

struct http_request {
	FCGX_Request fcgi;
	char id[32];		/* for logs: pid and sequence number */
	const char *method;	/* borrowed from the FastCGI parameters */
	char path[HTTP_PATH_MAX];	/* REQUEST_URI up to '?' */
	const char *query;	/* after '?', "" when none */
	int64_t now;		/* ms, read once when the request arrived */
	long pid;		/* this process, for the ids */
};

/*
 * Prepare req to accept requests on listen_fd (0 when the web server
 * spawned this program). Returns 0 or -1.
 */
int http_request_init(struct http_request *req, int listen_fd);

/*
 * Wait for the next request; seq numbers it in the logs. Returns 0, or -1
 * when the listening socket failed (the server is shutting down).
 */
int http_accept(struct http_request *req, unsigned long seq);

/* End the current request, flushing its reply. */
void http_finish(struct http_request *req);

/* A FastCGI parameter (CGI variable), borrowed for the request; NULL if absent. */
const char *http_param(struct http_request *req, const char *name);

/*
 * The bearer token of the Authorization header, borrowed for the request.
 * NULL when there is no such header, it is not "Bearer", or the token is empty.
 */
const char *http_bearer(struct http_request *req);

/* The client's address, borrowed for the request ("" if unknown). */
const char *http_client_addr(struct http_request *req);

/*
 * Read the request body as a JSON object, at most max_body bytes, into
 * *out (new reference, caller decrefs). On failure returns the error to
 * answer (PAYLOAD_TOO_LARGE, UNSUPPORTED_MEDIA_TYPE, INVALID_REQUEST) with
 * a message in err (caller's buffer); *out is NULL then.
 */
enum error_code http_read_json(struct http_request *req, long max_body,
    json_t **out, char *err, size_t errsz);

/*
 * Reply with status and body (borrowed; NULL for no body) as JSON.
 * headers is NULL or more header lines, each ending in "\r\n".
 */
void http_reply_json(struct http_request *req, int status,
    const char *headers, json_t *body);

/*
 * Reply with the contract's error body for code and a message made from
 * fmt. headers as for http_reply_json(). 401s for bearer tokens also get
 * WWW-Authenticate.
 */
void http_reply_error(struct http_request *req, enum error_code code,
    const char *headers, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));

#endif
