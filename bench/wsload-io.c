/*
 * What wsload stands on: clocks, byte buffers, TCP sockets to 127.0.0.1,
 * and a small blocking HTTP/1.1 client for the REST calls that set a run
 * up (customers, agents' logins, sessions). Nothing here knows WebSocket.
 */
#include <errno.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <time.h>
#include <unistd.h>

#include <jansson.h>

#include "wsload.h"

/* Time */

int64_t
now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * NS_PER_S + ts.tv_nsec;
}

int64_t
after_s(double seconds)
{
	return now_ns() + (int64_t)(seconds * NS_PER_S);
}

int64_t
cpu_ns(void)
{
	struct rusage ru;

	getrusage(RUSAGE_SELF, &ru);
	return ((int64_t)ru.ru_utime.tv_sec + ru.ru_stime.tv_sec) * NS_PER_S +
	    ((int64_t)ru.ru_utime.tv_usec + ru.ru_stime.tv_usec) * 1000;
}

/* Buffers */

int
buf_reserve(struct buf *b, size_t more)
{
	size_t cap = b->cap != 0 ? b->cap : 1024;
	char *p;

	if (b->len + more + 1 <= b->cap)
		return 0;
	while (cap < b->len + more + 1)
		cap *= 2;
	if ((p = realloc(b->p, cap)) == NULL)
		return -1;
	b->p = p;
	b->cap = cap;
	return 0;
}

int
buf_append(struct buf *b, const void *data, size_t len)
{
	if (buf_reserve(b, len) == -1)
		return -1;
	memcpy(b->p + b->len, data, len);
	b->len += len;
	b->p[b->len] = '\0';
	return 0;
}

void
buf_consume(struct buf *b, size_t n)
{
	memmove(b->p, b->p + n, b->len - n);
	b->len -= n;
}

void
buf_free(struct buf *b)
{
	free(b->p);
	b->p = NULL;
	b->len = b->cap = 0;
}

/* Sockets and the blocking HTTP client */

int
tcp_connect(int port, int nonblock)
{
	struct sockaddr_in sa;
	int fd, one = 1;

	memset(&sa, 0, sizeof(sa));
	sa.sin_family = AF_INET;
	sa.sin_port = htons((uint16_t)port);
	sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC |
	    (nonblock ? SOCK_NONBLOCK : 0), 0);
	if (fd == -1)
		return -1;
	/* Small frames must leave at once, as a browser's do. */
	setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
	if (connect(fd, (struct sockaddr *)&sa, sizeof(sa)) == -1 &&
	    errno != EINPROGRESS) {
		close(fd);
		return -1;
	}
	return fd;
}

static int
write_all(int fd, const char *p, size_t len)
{
	ssize_t n;

	while (len > 0) {
		if ((n = send(fd, p, len, MSG_NOSIGNAL)) == -1) {
			if (errno == EINTR)
				continue;
			return -1;
		}
		p += n;
		len -= (size_t)n;
	}
	return 0;
}

/* Read until the server closes (we ask it to), at most 30 s. */
static int
read_all(int fd, struct buf *in)
{
	struct timeval tv = { 30, 0 };
	ssize_t n;

	if (setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv)) == -1)
		return -1;
	for (;;) {
		if (buf_reserve(in, READ_CHUNK) == -1)
			return -1;
		n = read(fd, in->p + in->len, in->cap - in->len - 1);
		if (n == 0)
			return 0;
		if (n == -1 && errno == EINTR)
			continue;
		if (n == -1)
			return -1;
		in->len += (size_t)n;
		in->p[in->len] = '\0';
	}
}

/*
 * POST body (JSON text, "" for none) to path, with a bearer token unless
 * NULL. Returns the status, or -1 with no answer; *reply (new, or NULL if
 * the body is not JSON) is the answer's body.
 */
static int
http_post(int port, const char *path, const char *bearer, const char *body,
    json_t **reply)
{
	char req[2048];
	struct buf in = { NULL, 0, 0 };
	const char *start;
	int fd = -1, status = -1, n;

	*reply = NULL;
	n = snprintf(req, sizeof(req), "POST %s HTTP/1.1\r\n"
	    "Host: 127.0.0.1:%d\r\nConnection: close\r\n%s%s%s"
	    "Content-Type: application/json\r\nContent-Length: %zu\r\n\r\n%s",
	    path, port, bearer != NULL ? "Authorization: Bearer " : "",
	    bearer != NULL ? bearer : "", bearer != NULL ? "\r\n" : "",
	    strlen(body), body);
	if (n < 0 || (size_t)n >= sizeof(req))
		goto out;
	if ((fd = tcp_connect(port, 0)) == -1 ||
	    write_all(fd, req, (size_t)n) == -1 || read_all(fd, &in) == -1 ||
	    in.len == 0 || sscanf(in.p, "HTTP/1.%*d %d", &status) != 1)
		goto out;
	if ((start = strstr(in.p, "\r\n\r\n")) != NULL)
		*reply = json_loads(start + 4, 0, NULL);
out:
	if (fd != -1)
		close(fd);
	buf_free(&in);
	return status;
}

/*
 * POST and expect the status want with a JSON object. Returns the object
 * (new), or NULL after saying on standard error what came instead.
 */
static json_t *
rest_call(int port, const char *path, const char *bearer, const char *body,
    int want)
{
	json_t *reply = NULL;
	char *text;
	int status = http_post(port, path, bearer, body, &reply);

	if (status == want && json_is_object(reply))
		return reply;
	text = reply != NULL ? json_dumps(reply, JSON_COMPACT) : NULL;
	fprintf(stderr, "wsload: POST %s: %s %d: %.300s\n", path,
	    status == -1 ? "no answer" : "status", status,
	    text != NULL ? text : "(no JSON body)");
	free(text);
	json_decref(reply);
	return NULL;
}

/* Copy the string reply[key] into out (TOKEN_MAX bytes). Returns 0 or -1. */
static int
copy_token(json_t *reply, const char *key, char *out)
{
	const char *v = json_string_value(json_object_get(reply, key));

	if (v == NULL || strlen(v) >= TOKEN_MAX) {
		fprintf(stderr, "wsload: no usable \"%s\" in the answer\n", key);
		return -1;
	}
	strcpy(out, v);
	return 0;
}

/* A new customer over REST; its access token goes to token. */
static int
rest_customer(int port, int i, char *token)
{
	char body[128];
	json_t *reply;
	int rc;

	snprintf(body, sizeof(body),
	    "{\"name\":\"bench customer %d\",\"channel\":\"WEB\"}", i);
	if ((reply = rest_call(port, "/api/v1/customers", NULL, body, 201)) ==
	    NULL)
		return -1;
	rc = copy_token(reply, "token", token);
	json_decref(reply);
	return rc;
}

int
rest_login(const struct opts *o, int i, char *token, int64_t *agent_id)
{
	json_t *body, *reply = NULL;
	char *text;
	char user[96];
	int rc = -1;

	snprintf(user, sizeof(user), "%s%d", o->prefix, i);
	body = json_pack("{s:s,s:s}", "username", user, "password", o->password);
	text = body != NULL ? json_dumps(body, JSON_COMPACT) : NULL;
	if (text == NULL)
		goto out;
	if ((reply = rest_call(o->port, "/api/v1/public/login", NULL, text,
	    200)) == NULL) {
		fprintf(stderr, "wsload: agent %s could not log in\n", user);
		goto out;
	}
	rc = copy_token(reply, "token", token);
	if (agent_id != NULL)
		*agent_id = json_integer_value(json_object_get(json_object_get(
		    reply, "agent"), "id"));
out:
	free(text);
	json_decref(body);
	json_decref(reply);
	return rc;
}

int
rest_session(int port, const char *token, int64_t *id, int64_t *agent_id)
{
	json_t *reply;

	if ((reply = rest_call(port, "/api/v1/sessions", token, "", 201)) == NULL)
		return -1;
	*id = json_integer_value(json_object_get(reply, "id"));
	*agent_id = json_integer_value(json_object_get(reply, "agentId"));
	json_decref(reply);
	return *id > 0 ? 0 : -1;
}

int
rest_close(int port, const char *token, int64_t id)
{
	char path[64];
	json_t *reply;

	snprintf(path, sizeof(path), "/api/v1/sessions/%lld/close", (long long)id);
	if ((reply = rest_call(port, path, token, "", 200)) == NULL)
		return -1;
	json_decref(reply);
	return 0;
}

int
rest_customers(struct bench *b, int first, int count)
{
	int i;

	for (i = 0; i < count; i++) {
		if (rest_customer(b->o.port, i, b->tokens[first + i]) == -1)
			return -1;
		if ((i + 1) % 1000 == 0)
			fprintf(stderr, "wsload: %d customers created\n", i + 1);
	}
	return 0;
}
