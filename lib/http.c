#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#include "clock.h"
#include "http.h"
#include "log.h"

static const char *
reason(int status)
{
	switch (status) {
	case 200: return "OK";
	case 201: return "Created";
	case 204: return "No Content";
	case 400: return "Bad Request";
	case 401: return "Unauthorized";
	case 403: return "Forbidden";
	case 404: return "Not Found";
	case 405: return "Method Not Allowed";
	case 409: return "Conflict";
	case 413: return "Payload Too Large";
	case 415: return "Unsupported Media Type";
	case 429: return "Too Many Requests";
	default: return "Internal Server Error";
	}
}

int
http_request_init(struct http_request *req, int listen_fd)
{
	memset(req, 0, sizeof(*req));
	req->pid = (long)getpid();
	if (FCGX_Init() != 0)
		return -1;
	return FCGX_InitRequest(&req->fcgi, listen_fd, 0) == 0 ? 0 : -1;
}

int
http_accept(struct http_request *req, unsigned long seq)
{
	const char *uri, *q;
	size_t n;

	if (FCGX_Accept_r(&req->fcgi) < 0)
		return -1;
	req->now = clock_now_ms();
	snprintf(req->id, sizeof(req->id), "%ld-%lu", req->pid, seq);
	req->method = http_param(req, "REQUEST_METHOD");
	if (req->method == NULL)
		req->method = "";
	if ((uri = http_param(req, "REQUEST_URI")) == NULL)
		uri = "";
	q = strchr(uri, '?');
	n = q != NULL ? (size_t)(q - uri) : strlen(uri);
	if (n >= sizeof(req->path))
		n = sizeof(req->path) - 1;
	memcpy(req->path, uri, n);
	req->path[n] = '\0';
	req->query = q != NULL ? q + 1 : "";
	return 0;
}

void
http_finish(struct http_request *req)
{
	FCGX_Finish_r(&req->fcgi);
}

const char *
http_param(struct http_request *req, const char *name)
{
	return FCGX_GetParam(name, req->fcgi.envp);
}

const char *
http_bearer(struct http_request *req)
{
	const char *h = http_param(req, "HTTP_AUTHORIZATION");

	if (h == NULL || strncasecmp(h, "Bearer ", 7) != 0)
		return NULL;
	for (h += 7; *h == ' '; h++)
		;
	return *h != '\0' ? h : NULL;
}

const char *
http_client_addr(struct http_request *req)
{
	const char *a = http_param(req, "REMOTE_ADDR");

	return a != NULL ? a : "";
}

/*
 * Whether the Content-Type is JSON in UTF-8: "application/json", with no
 * parameter but charset=utf-8 (any case, quoted or not).
 */
static int
is_json_type(const char *ct)
{
	static const char type[] = "application/json";
	const char *p;

	if (ct == NULL || strncasecmp(ct, type, sizeof(type) - 1) != 0)
		return 0;
	p = ct + sizeof(type) - 1;
	while (*p == ' ' || *p == '\t')
		p++;
	if (*p == '\0')
		return 1;
	if (*p++ != ';')
		return 0;
	while (*p == ' ' || *p == '\t')
		p++;
	if (strncasecmp(p, "charset=", 8) != 0)
		return 0;
	p += 8;
	return strcasecmp(p, "utf-8") == 0 || strcasecmp(p, "\"utf-8\"") == 0;
}

/* Read exactly len body bytes into a new buffer (caller frees); NULL if short. */
static char *
read_body(struct http_request *req, long len)
{
	char *buf = malloc((size_t)len + 1);
	long got = 0;
	int n;

	if (buf == NULL)
		return NULL;
	while (got < len) {
		n = FCGX_GetStr(buf + got, (int)(len - got), req->fcgi.in);
		if (n <= 0)
			break;
		got += n;
	}
	if (got != len) {
		free(buf);
		return NULL;
	}
	buf[len] = '\0';
	return buf;
}

enum error_code
http_read_json(struct http_request *req, long max_body, json_t **out,
    char *err, size_t errsz)
{
	const char *cl = http_param(req, "CONTENT_LENGTH");
	json_error_t jerr;
	char *body = NULL, *end;
	long len = 0;

	*out = NULL;
	if (cl != NULL && cl[0] != '\0') {
		errno = 0;
		len = strtol(cl, &end, 10);
		if (errno != 0 || *end != '\0' || len < 0)
			len = max_body + 1;
	}
	if (len > max_body) {
		snprintf(err, errsz, "request body is larger than %ld bytes",
		    max_body);
		return ERROR_PAYLOAD_TOO_LARGE;
	}
	if (!is_json_type(http_param(req, "CONTENT_TYPE"))) {
		snprintf(err, errsz, "Content-Type must be application/json "
		    "(UTF-8)");
		return ERROR_UNSUPPORTED_MEDIA_TYPE;
	}
	if (len == 0) {
		snprintf(err, errsz, "request body is empty; a JSON object is "
		    "expected");
		return ERROR_INVALID_REQUEST;
	}
	if ((body = read_body(req, len)) == NULL) {
		snprintf(err, errsz, "request body is shorter than its "
		    "Content-Length");
		return ERROR_INVALID_REQUEST;
	}
	*out = json_loadb(body, (size_t)len, JSON_REJECT_DUPLICATES, &jerr);
	free(body);
	if (*out == NULL) {
		snprintf(err, errsz, "request body is not valid JSON: %s "
		    "(line %d, column %d)", jerr.text, jerr.line, jerr.column);
		return ERROR_INVALID_REQUEST;
	}
	if (!json_is_object(*out)) {
		json_decref(*out);
		*out = NULL;
		snprintf(err, errsz, "request body must be a JSON object");
		return ERROR_INVALID_REQUEST;
	}
	return ERROR_OK;
}

void
http_reply_json(struct http_request *req, int status, const char *headers,
    json_t *body)
{
	char *text = NULL;

	if (body != NULL && (text = json_dumps(body, JSON_COMPACT)) == NULL) {
		log_msg(LOG_ERROR, req->id, "reply: out of memory");
		status = 500;
	}
	FCGX_FPrintF(req->fcgi.out, "Status: %d %s\r\n"
	    "Cache-Control: no-store\r\n"
	    "X-Content-Type-Options: nosniff\r\n"
	    "%s%s\r\n", status, reason(status),
	    text != NULL ? "Content-Type: application/json\r\n" : "",
	    headers != NULL ? headers : "");
	if (text != NULL) {
		FCGX_PutS(text, req->fcgi.out);
		FCGX_PutS("\n", req->fcgi.out);
		free(text);
	}
}

void
http_reply_error(struct http_request *req, enum error_code code,
    const char *headers, const char *fmt, ...)
{
	char message[512], all[1024];
	json_t *body;
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(message, sizeof(message), fmt, ap);
	va_end(ap);
	snprintf(all, sizeof(all), "%s%s", (code == ERROR_MISSING_TOKEN ||
	    code == ERROR_TOKEN_EXPIRED) ? "WWW-Authenticate: Bearer\r\n" : "",
	    headers != NULL ? headers : "");
	if ((body = error_body_new(code, message)) == NULL) {
		log_msg(LOG_ERROR, req->id, "reply: out of memory");
		FCGX_FPrintF(req->fcgi.out, "Status: 500 %s\r\n\r\n", reason(500));
		return;
	}
	http_reply_json(req, error_status(code), all, body);
	json_decref(body);
}
