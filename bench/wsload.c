/*
 * wsload: the WebSocket load generator of bench/ws-run. One thread, one
 * epoll loop, non-blocking sockets and a minimal RFC 6455 client (masked
 * text frames out; text, fragmented, ping and close frames in), plus a
 * small blocking HTTP/1.1 client for the REST calls that set a run up.
 *
 *   wsload echo       --port P [--conns 50] [--seconds 10] [--window 16]
 *   wsload latency    --port P [--pairs 50] [--rate 100] [--seconds 10]
 *   wsload throughput --port P [--pairs 50] [--seconds 10] [--window 16]
 *   wsload hold       --port P [--conns 3000] [--idle-seconds 10]
 *   wsload connect    --port P [--seconds 5] [--concurrency 16]
 *
 * latency and throughput also take --agents-password [password123] and
 * --agent-prefix [bench]: the agents PREFIX1..PREFIXN must exist. Every
 * timed mode takes --warmup [1]: seconds run but not counted.
 *
 * Results go to standard output as "key value" lines, for scripts;
 * progress, a one-line summary and problems go to standard error.
 */
#include <errno.h>
#include <inttypes.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <time.h>
#include <unistd.h>

#include <jansson.h>
#include <sodium.h>

#define NS_PER_S	1000000000LL
#define NS_PER_MS	1000000LL
#define TOKEN_MAX	128		/* a token, NUL included; ours are 43 */
#define FRAME_MAX	(16 << 20)	/* a larger server frame is an error */
#define HEADER_MAX	16384		/* the largest handshake answer */
#define READ_CHUNK	8192
#define EVENTS_MAX	256
#define REPORT_ERRORS	3		/* problems told in full, then counted */
#define HOLD_OPENING	64		/* handshakes in flight in hold mode */
#define PING_WAIT_S	10
#define DRAIN_WAIT_S	5

enum opt_kind { OPT_INT, OPT_REAL, OPT_TEXT };

struct opts {
	int port;
	int conns;		/* echo, hold */
	int pairs;		/* latency, throughput: agents = customers */
	int window;		/* echo, throughput: messages in flight each */
	int concurrency;	/* connect */
	int customers;		/* connect: tokens used round-robin */
	double rate;		/* latency: messages/s over all customers */
	double seconds;
	double warmup;
	double idle_seconds;
	const char *password;
	const char *prefix;
	const char *path;	/* echo: the URL path */
};

struct opt_def {
	const char *name;
	enum opt_kind kind;
	size_t off;
	double min, max;
};

static const struct opt_def opt_defs[] = {
	{ "--port", OPT_INT, offsetof(struct opts, port), 1, 65535 },
	{ "--conns", OPT_INT, offsetof(struct opts, conns), 1, 1000000 },
	{ "--pairs", OPT_INT, offsetof(struct opts, pairs), 1, 100000 },
	{ "--window", OPT_INT, offsetof(struct opts, window), 1, 100000 },
	{ "--concurrency", OPT_INT, offsetof(struct opts, concurrency), 1, 100000 },
	{ "--customers", OPT_INT, offsetof(struct opts, customers), 1, 100000 },
	{ "--rate", OPT_REAL, offsetof(struct opts, rate), 0.001, 1e7 },
	{ "--seconds", OPT_REAL, offsetof(struct opts, seconds), 0.1, 86400 },
	{ "--warmup", OPT_REAL, offsetof(struct opts, warmup), 0, 3600 },
	{ "--idle-seconds", OPT_REAL, offsetof(struct opts, idle_seconds), 0, 86400 },
	{ "--agents-password", OPT_TEXT, offsetof(struct opts, password), 0, 0 },
	{ "--agent-prefix", OPT_TEXT, offsetof(struct opts, prefix), 0, 0 },
	{ "--path", OPT_TEXT, offsetof(struct opts, path), 0, 0 },
};

/* A growable byte buffer; one byte past len is always there for a NUL. */
struct buf {
	char *p;
	size_t len, cap;
};

/* Latency samples, ns. */
struct samples {
	int64_t *v;
	size_t n, cap;
};

enum conn_state { CONN_IDLE, CONN_CONNECTING, CONN_UPGRADING, CONN_OPEN,
	CONN_CLOSED };
enum role { ROLE_PLAIN, ROLE_AGENT, ROLE_CUSTOMER };

struct bench;

/* One WebSocket connection, in a slot of bench's array. */
struct conn {
	struct bench *b;
	int fd;
	enum conn_state state;
	enum role role;
	int out_armed;		/* EPOLLOUT is in the interest set */
	struct buf in, out, frag;
	const char *token;	/* borrowed from bench's tokens; NULL: none */
	const char *why;	/* what went wrong, for the report */
	int64_t session_id;
	int64_t opened_at;	/* ns, when connect() was called */
	int64_t seq;		/* messages this slot sent */
	int inflight;		/* sent, not yet answered */
	int ready;		/* offline_messages_complete seen; echo: open */
	int ponged;
	int sessions;		/* session frames seen: agents */
};

/*
 * The run: options, connections and counters. A mode sets on_text (its
 * part of frame handling) and tick (timed work, returning when it wants
 * the loop back) before it runs the loop.
 */
struct bench {
	struct opts o;
	int ep;
	struct conn *conns;
	int nconns;
	char (*tokens)[TOKEN_MAX];
	int ntokens;
	struct samples lat;		/* send to receipt by the other side */
	struct samples ack_lat;		/* send to ack: the sender's write */
	uint64_t rng;
	int (*on_text)(struct conn *, const char *, int64_t);
	int64_t (*tick)(struct bench *, int64_t);
	int ready_on_open;	/* echo: no offline_messages_complete */
	int refill;		/* keep the window full on each answer */
	int sending;
	int64_t measure_from, measure_to;	/* the counted window, ns */
	int64_t next_send;	/* latency: the next message's time */
	int64_t send_start;	/* latency: when message 0 went */
	long scheduled;		/* latency: messages due so far */
	int next_slot;		/* hold, connect: the next slot or token */
	long expect;		/* what the current wait is for */
	long sent, sent_window, acks, received, counted, ready, pongs;
	long failed, dropped, errors, sessions, started;
};

/* Time */

static int64_t
now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * NS_PER_S + ts.tv_nsec;
}

static int64_t
after_s(double seconds)
{
	return now_ns() + (int64_t)(seconds * NS_PER_S);
}

/* CPU time this process used, ns. */
static int64_t
cpu_ns(void)
{
	struct rusage ru;

	getrusage(RUSAGE_SELF, &ru);
	return ((int64_t)ru.ru_utime.tv_sec + ru.ru_stime.tv_sec) * NS_PER_S +
	    ((int64_t)ru.ru_utime.tv_usec + ru.ru_stime.tv_usec) * 1000;
}

/* Buffers */

static int
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

static int
buf_append(struct buf *b, const void *data, size_t len)
{
	if (buf_reserve(b, len) == -1)
		return -1;
	memcpy(b->p + b->len, data, len);
	b->len += len;
	b->p[b->len] = '\0';
	return 0;
}

static void
buf_consume(struct buf *b, size_t n)
{
	memmove(b->p, b->p + n, b->len - n);
	b->len -= n;
}

static void
buf_free(struct buf *b)
{
	free(b->p);
	b->p = NULL;
	b->len = b->cap = 0;
}

/* Samples */

static void
samples_add(struct samples *s, int64_t v)
{
	int64_t *grown;

	if (s->n == s->cap) {
		s->cap = s->cap != 0 ? s->cap * 2 : 4096;
		if ((grown = realloc(s->v, s->cap * sizeof(*grown))) == NULL) {
			s->cap = s->n;
			return;	/* a lost sample does not stop the run */
		}
		s->v = grown;
	}
	s->v[s->n++] = v;
}

static int
cmp_i64(const void *a, const void *b)
{
	int64_t x = *(const int64_t *)a, y = *(const int64_t *)b;

	return x < y ? -1 : x > y;
}

/* The nearest-rank percentile of sorted samples, in ms; 0 with none. */
static double
samples_ms(const struct samples *s, double pct)
{
	size_t rank;

	if (s->n == 0)
		return 0;
	rank = (size_t)((double)s->n * pct / 100.0 + 0.999999);
	rank = rank == 0 ? 1 : rank > s->n ? s->n : rank;
	return (double)s->v[rank - 1] / NS_PER_MS;
}

/* Print the samples' count, p50, p99 and max as key lines, keys after prefix. */
static void
samples_report(struct samples *s, const char *prefix)
{
	qsort(s->v, s->n, sizeof(*s->v), cmp_i64);
	printf("%ssamples %zu\n", prefix, s->n);
	printf("%sp50_ms %.3f\n", prefix, samples_ms(s, 50));
	printf("%sp99_ms %.3f\n", prefix, samples_ms(s, 99));
	printf("%smax_ms %.3f\n", prefix, samples_ms(s, 100));
}

/* A cheap generator for masking keys, which need not be secret (xorshift64). */
static uint32_t
rng_next(struct bench *b)
{
	b->rng ^= b->rng << 13;
	b->rng ^= b->rng >> 7;
	b->rng ^= b->rng << 17;
	return (uint32_t)b->rng;
}

/* Tell one problem on standard error, or only count it past the first few. */
static void
problem(long *counter, const char *fmt, ...)
{
	va_list ap;

	if (++*counter > REPORT_ERRORS)
		return;
	fputs("wsload: ", stderr);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
}

/* Sockets and the blocking HTTP client */

/* A TCP connection to 127.0.0.1:port, connecting (non-blocking) or connected. */
static int
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

/* Log agent PREFIXi in over REST; its token goes to token. */
static int
rest_login(const struct opts *o, int i, char *token)
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
out:
	free(text);
	json_decref(body);
	json_decref(reply);
	return rc;
}

/* Open a session for the customer of token; its id and agent's are outputs. */
static int
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

/* Customers first..first+count-1 over REST, into b's tokens. */
static int
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

/* Connections */

/* Keep EPOLLOUT in the interest set only while there is output waiting. */
static int
conn_want_out(struct conn *c, int want)
{
	struct epoll_event ev;

	if (c->out_armed == want)
		return 0;
	memset(&ev, 0, sizeof(ev));
	ev.events = EPOLLIN | EPOLLRDHUP | (want ? EPOLLOUT : 0);
	ev.data.ptr = c;
	c->out_armed = want;
	return epoll_ctl(c->b->ep, EPOLL_CTL_MOD, c->fd, &ev);
}

static int
conn_flush(struct conn *c)
{
	ssize_t n;

	while (c->out.len > 0) {
		n = send(c->fd, c->out.p, c->out.len, MSG_NOSIGNAL);
		if (n > 0)
			buf_consume(&c->out, (size_t)n);
		else if (n == -1 && errno == EINTR)
			continue;
		else if (n == -1 && (errno == EAGAIN || errno == EWOULDBLOCK))
			break;
		else {
			c->why = "write failed";
			return -1;
		}
	}
	return conn_want_out(c, c->out.len > 0);
}

/*
 * Queue one masked frame and try to send it. Returns 0, or -1 when the
 * connection is gone.
 */
static int
ws_send(struct conn *c, int opcode, const char *data, size_t len)
{
	unsigned char hdr[14], key[4];
	size_t hlen = 2, i;
	uint32_t r = rng_next(c->b);
	char *dst;

	hdr[0] = (unsigned char)(0x80 | opcode);
	if (len < 126)
		hdr[1] = (unsigned char)(0x80 | len);
	else if (len < 65536) {
		hdr[1] = 0x80 | 126;
		hdr[2] = (unsigned char)(len >> 8);
		hdr[3] = (unsigned char)len;
		hlen = 4;
	} else {
		hdr[1] = 0x80 | 127;
		for (i = 0; i < 8; i++)
			hdr[2 + i] = (unsigned char)((uint64_t)len >> (56 - 8 * i));
		hlen = 10;
	}
	memcpy(key, &r, sizeof(key));
	memcpy(hdr + hlen, key, sizeof(key));
	hlen += sizeof(key);
	if (buf_reserve(&c->out, hlen + len) == -1)
		return -1;
	dst = c->out.p + c->out.len;
	memcpy(dst, hdr, hlen);
	for (i = 0; i < len; i++)
		dst[hlen + i] = (char)(data[i] ^ key[i & 3]);
	c->out.len += hlen + len;
	return conn_flush(c);
}

/* Forget the socket; the slot's buffers stay for its next connection. */
static void
conn_close(struct conn *c)
{
	if (c->fd != -1)
		close(c->fd);
	c->fd = -1;
	c->state = CONN_CLOSED;
	c->out_armed = 0;
	c->in.len = c->out.len = c->frag.len = 0;
}

/* Our own end of a connection: a close frame, then the socket. */
static void
conn_close_polite(struct conn *c)
{
	if (c->state == CONN_OPEN)
		ws_send(c, 0x8, "\x03\xe8", 2);	/* 1000, normal closure */
	conn_close(c);
}

/* A connection that ended without us: failed before it was ready, dropped after. */
static void
conn_lost(struct conn *c)
{
	struct bench *b = c->b;
	int i = (int)(c - b->conns);

	if (c->state == CONN_CLOSED || c->state == CONN_IDLE)
		return;
	if (c->ready)
		problem(&b->dropped, "connection %d dropped: %s", i,
		    c->why != NULL ? c->why : "closed by the server");
	else
		problem(&b->failed, "connection %d failed: %s", i,
		    c->why != NULL ? c->why : "closed by the server");
	conn_close(c);
}

/* Start connecting slot c. Returns 0, or -1 (counted as a failure). */
static int
conn_open(struct conn *c)
{
	struct epoll_event ev;

	c->fd = tcp_connect(c->b->o.port, 1);
	c->state = CONN_CONNECTING;
	c->opened_at = now_ns();
	c->ready = c->ponged = c->inflight = c->sessions = 0;
	c->why = NULL;
	c->in.len = c->out.len = c->frag.len = 0;
	memset(&ev, 0, sizeof(ev));
	ev.events = EPOLLIN | EPOLLOUT | EPOLLRDHUP;
	ev.data.ptr = c;
	c->out_armed = 1;
	if (c->fd == -1 || epoll_ctl(c->b->ep, EPOLL_CTL_ADD, c->fd, &ev) == -1) {
		c->why = strerror(errno);
		conn_lost(c);
		return -1;
	}
	c->b->started++;
	return 0;
}

/* The connect finished: send the upgrade request. */
static int
conn_connected(struct conn *c)
{
	unsigned char raw[16];
	char key[sodium_base64_ENCODED_LEN(16, sodium_base64_VARIANT_ORIGINAL)];
	char req[512];
	int err = 0, n;
	socklen_t len = sizeof(err);

	if (getsockopt(c->fd, SOL_SOCKET, SO_ERROR, &err, &len) == -1 || err != 0) {
		c->why = strerror(err != 0 ? err : errno);
		return -1;
	}
	randombytes_buf(raw, sizeof(raw));
	sodium_bin2base64(key, sizeof(key), raw, sizeof(raw),
	    sodium_base64_VARIANT_ORIGINAL);
	if (c->token != NULL)
		n = snprintf(req, sizeof(req), "GET /ws/chat?token=%s", c->token);
	else
		n = snprintf(req, sizeof(req), "GET %s", c->b->o.path);
	n += snprintf(req + n, sizeof(req) - (size_t)n, " HTTP/1.1\r\n"
	    "Host: 127.0.0.1:%d\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
	    "Sec-WebSocket-Key: %s\r\nSec-WebSocket-Version: 13\r\n\r\n",
	    c->b->o.port, key);
	c->state = CONN_UPGRADING;
	if (n <= 0 || (size_t)n >= sizeof(req) ||
	    buf_append(&c->out, req, (size_t)n) == -1)
		return -1;
	return conn_flush(c);
}

/* Frames in */

static void
mark_ready(struct conn *c)
{
	if (!c->ready) {
		c->ready = 1;
		c->b->ready++;
	}
}

/* Whether the frame's "type" is type: the server writes that key first. */
static int
is_type(const char *text, const char *type)
{
	const char *v = strstr(text, "\"type\":\"");
	size_t n = strlen(type);

	return v != NULL && strncmp(v + 8, type, n) == 0 && v[8 + n] == '"';
}

/* One text message from the server: what every mode does, then the mode's part. */
static int
on_text(struct conn *c, const char *text)
{
	struct bench *b = c->b;
	int64_t now = now_ns();

	if (is_type(text, "offline_messages_complete"))
		mark_ready(c);
	else if (is_type(text, "pong") && !c->ponged) {
		c->ponged = 1;
		b->pongs++;
	} else if (is_type(text, "error"))
		problem(&b->errors, "connection %d: error frame %.300s",
		    (int)(c - b->conns), text);
	return b->on_text != NULL ? b->on_text(c, text, now) : 0;
}

/* A frame's header: its length, 0 if not all there yet, -1 if unusable. */
struct frame {
	int fin, opcode;
	size_t hlen;
	uint64_t len;
	unsigned char key[4];
	int masked;
};

static int
frame_header(const unsigned char *p, size_t avail, struct frame *f)
{
	unsigned len7;
	size_t ext, i;

	if (avail < 2)
		return 0;
	f->fin = p[0] >> 7;
	f->opcode = p[0] & 0x0f;
	f->masked = p[1] >> 7;
	len7 = p[1] & 0x7f;
	ext = len7 == 126 ? 2 : len7 == 127 ? 8 : 0;
	f->hlen = 2 + ext + (f->masked ? 4 : 0);
	if (avail < f->hlen)
		return 0;
	f->len = ext == 0 ? len7 : 0;
	for (i = 0; i < ext; i++)
		f->len = f->len << 8 | p[2 + i];
	if (f->masked)
		memcpy(f->key, p + f->hlen - 4, 4);
	return f->len > FRAME_MAX ? -1 : 1;
}

/* A data frame: whole, or a piece of a fragmented message. */
static int
frame_data(struct conn *c, const struct frame *f, char *payload)
{
	int rc;

	if (f->opcode != 0 && f->fin) {
		/* The buffer's spare byte, or the next frame's first (put back). */
		payload[f->len] = '\0';
		return on_text(c, payload);
	}
	if (buf_append(&c->frag, payload, (size_t)f->len) == -1)
		return -1;
	if (!f->fin)
		return 0;
	rc = on_text(c, c->frag.p);
	c->frag.len = 0;
	return rc;
}

/* Act on one whole frame. Returns 0, or -1 when the connection ends. */
static int
frame_handle(struct conn *c, const struct frame *f, char *payload)
{
	switch (f->opcode) {
	case 0x0:
	case 0x1:
	case 0x2:
		return frame_data(c, f, payload);
	case 0x8:
		ws_send(c, 0x8, payload, f->len >= 2 ? 2 : 0);
		c->why = "close frame from the server";
		return -1;
	case 0x9:
		return ws_send(c, 0xA, payload, (size_t)f->len);
	case 0xA:
		return 0;
	default:
		c->why = "unknown opcode";
		return -1;
	}
}

/* Handle every whole frame in the input buffer. */
static int
frames_read(struct conn *c)
{
	struct frame f;
	size_t pos = 0, i;
	char *payload, saved;
	int rc;

	while (c->state == CONN_OPEN && (rc = frame_header(
	    (unsigned char *)c->in.p + pos, c->in.len - pos, &f)) == 1 &&
	    c->in.len - pos >= f.hlen + f.len) {
		payload = c->in.p + pos + f.hlen;
		if (f.masked)
			for (i = 0; i < f.len; i++)
				payload[i] ^= (char)f.key[i & 3];
		/* The NUL after the payload must not eat the next frame's start. */
		saved = payload[f.len];
		if (frame_handle(c, &f, payload) == -1)
			return -1;
		if (c->state != CONN_OPEN)
			return 0;	/* the mode closed it: nothing left */
		payload[f.len] = saved;
		pos += f.hlen + f.len;
	}
	if (c->state == CONN_OPEN && rc == -1) {
		c->why = "frame too large";
		return -1;
	}
	if (c->state == CONN_OPEN)
		buf_consume(&c->in, pos);
	return 0;
}

/* The handshake's answer: 101, or the connection fails. */
static int
handshake_read(struct conn *c)
{
	char *end = strstr(c->in.p, "\r\n\r\n"), *eol;

	if (end == NULL) {
		if (c->in.len < HEADER_MAX)
			return 0;
		c->why = "handshake answer too long";
		return -1;
	}
	eol = strstr(c->in.p, "\r\n");
	*eol = '\0';
	if (strstr(c->in.p, " 101 ") == NULL) {
		problem(&c->b->errors, "handshake refused: %.200s", c->in.p);
		c->why = "handshake refused";
		return -1;
	}
	buf_consume(&c->in, (size_t)(end + 4 - c->in.p));
	c->state = CONN_OPEN;
	if (c->b->ready_on_open)
		mark_ready(c);
	return frames_read(c);
}

static int
conn_read(struct conn *c)
{
	ssize_t n;

	if (buf_reserve(&c->in, READ_CHUNK) == -1)
		return -1;
	n = read(c->fd, c->in.p + c->in.len, c->in.cap - c->in.len - 1);
	if (n == 0) {
		c->why = "closed by the server";
		return -1;
	}
	if (n == -1) {
		if (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR)
			return 0;
		c->why = strerror(errno);
		return -1;
	}
	c->in.len += (size_t)n;
	c->in.p[c->in.len] = '\0';
	return c->state == CONN_UPGRADING ? handshake_read(c) : frames_read(c);
}

static void
conn_event(struct conn *c, uint32_t events)
{
	int rc = 0;

	if (c->state == CONN_CONNECTING)
		rc = conn_connected(c);
	else {
		if (events & (EPOLLIN | EPOLLRDHUP | EPOLLHUP | EPOLLERR))
			rc = conn_read(c);
		if (rc == 0 && (events & EPOLLOUT) && (c->state == CONN_OPEN ||
		    c->state == CONN_UPGRADING))
			rc = conn_flush(c);
	}
	if (rc == -1)
		conn_lost(c);
}

/* The loop */

static int
timeout_ms(int64_t now, int64_t until)
{
	int64_t ms = (until - now + NS_PER_MS - 1) / NS_PER_MS;

	return ms <= 0 ? 0 : ms > 60000 ? 60000 : (int)ms;
}

/*
 * Run until done(b), if not NULL, says so or until deadline (ns).
 * Returns 0 when done, 1 at the deadline, -1 if epoll fails.
 */
static int
loop_run(struct bench *b, int (*done)(const struct bench *), int64_t deadline)
{
	struct epoll_event ev[EVENTS_MAX];
	int64_t now, wake, t;
	int i, n;

	for (;;) {
		now = now_ns();
		if (done != NULL && done(b))
			return 0;
		if (now >= deadline)
			return 1;
		wake = deadline;
		if (b->tick != NULL && (t = b->tick(b, now)) < wake)
			wake = t;
		n = epoll_wait(b->ep, ev, EVENTS_MAX, timeout_ms(now_ns(), wake));
		if (n == -1 && errno != EINTR)
			return -1;
		for (i = 0; i < n; i++)
			conn_event(ev[i].data.ptr, ev[i].events);
	}
}

static int
done_ready(const struct bench *b)
{
	return b->ready + b->failed >= b->expect;
}

static int
done_pongs(const struct bench *b)
{
	return b->pongs >= b->expect;
}

static int
done_sessions(const struct bench *b)
{
	return b->sessions >= b->expect;
}

static int
done_received(const struct bench *b)
{
	return b->received >= b->sent;
}

static int
done_acked(const struct bench *b)
{
	return b->acks >= b->sent;
}

/* Open slots first..first+count-1 and wait until each is ready or failed. */
static int
open_and_wait(struct bench *b, int first, int count, double seconds)
{
	int i;

	b->expect = (int)(b->ready + b->failed) + count;
	for (i = first; i < first + count; i++)
		conn_open(&b->conns[i]);
	if (loop_run(b, done_ready, after_s(seconds)) == -1)
		return -1;
	if (b->ready + b->failed < b->expect)
		fprintf(stderr, "wsload: %ld of %d connections not ready in %.0f s\n",
		    b->expect - b->ready - b->failed, count, seconds);
	return 0;
}

/* How many slots are open and ready now. */
static int
count_held(const struct bench *b)
{
	int i, n = 0;

	for (i = 0; i < b->nconns; i++)
		n += b->conns[i].state == CONN_OPEN && b->conns[i].ready;
	return n;
}

static int
bench_alloc(struct bench *b, int nconns, int ntokens)
{
	int i;

	if ((b->conns = calloc((size_t)nconns, sizeof(*b->conns))) == NULL ||
	    (ntokens > 0 && (b->tokens = calloc((size_t)ntokens,
	    sizeof(*b->tokens))) == NULL)) {
		fprintf(stderr, "wsload: out of memory\n");
		return -1;
	}
	b->nconns = nconns;
	b->ntokens = ntokens;
	for (i = 0; i < nconns; i++) {
		b->conns[i].b = b;
		b->conns[i].fd = -1;
	}
	return 0;
}

static void
bench_free(struct bench *b)
{
	int i;

	for (i = 0; i < b->nconns; i++) {
		conn_close(&b->conns[i]);
		buf_free(&b->conns[i].in);
		buf_free(&b->conns[i].out);
		buf_free(&b->conns[i].frag);
	}
	free(b->conns);
	free(b->tokens);
	free(b->lat.v);
	free(b->ack_lat.v);
	if (b->ep != -1)
		close(b->ep);
}

static void
close_all(struct bench *b)
{
	int i;

	for (i = 0; i < b->nconns; i++)
		if (b->conns[i].state != CONN_CLOSED &&
		    b->conns[i].state != CONN_IDLE)
			conn_close_polite(&b->conns[i]);
}

/* Messages */

/*
 * Send one chat message, its send time (CLOCK_MONOTONIC ns) in the text:
 * the receiver, this same process, takes the latency from it. Echo sends
 * the same frame, so both runs move the same bytes.
 */
static int
send_message(struct conn *c)
{
	struct bench *b = c->b;
	int64_t now = now_ns();
	char text[320];
	int n;

	c->seq++;
	n = snprintf(text, sizeof(text), "{\"type\":\"message\",\"sessionId\":%"
	    PRId64 ",\"text\":\"bench %" PRId64 " %" PRId64 ": hello, a question "
	    "about my order\",\"clientMsgId\":\"c%d-%" PRId64 "\"}",
	    c->session_id, now, c->seq, (int)(c - b->conns), c->seq);
	c->inflight++;
	b->sent++;
	if (now >= b->measure_from && now < b->measure_to)
		b->sent_window++;
	return ws_send(c, 0x1, text, (size_t)n);
}

static int
fill_window(struct conn *c)
{
	while (c->b->sending && c->state == CONN_OPEN &&
	    c->inflight < c->b->o.window)
		if (send_message(c) == -1)
			return -1;
	return 0;
}

/* The send time written in a message's text by send_message(); 0 if none. */
static int64_t
sent_at(const char *text)
{
	const char *p = strstr(text, "\"text\":\"bench ");

	return p != NULL ? strtoll(p + 14, NULL, 10) : 0;
}

/* A message arrived: count it in the window; its latency if sent in it. */
static void
count_delivery(struct bench *b, const char *text, int64_t now)
{
	int64_t sent = sent_at(text);

	b->received++;
	if (now >= b->measure_from && now < b->measure_to)
		b->counted++;
	if (sent >= b->measure_from && sent < b->measure_to)
		samples_add(&b->lat, now - sent);
}

/* Start the counted window after the warm-up; the senders stop at its end. */
static void
window_start(struct bench *b)
{
	b->measure_from = after_s(b->o.warmup);
	b->measure_to = b->measure_from + (int64_t)(b->o.seconds * NS_PER_S);
}

/* Print what every timed mode reports. */
static void
report_common(struct bench *b, int64_t cpu)
{
	double secs = b->o.seconds + b->o.warmup;

	printf("sent %ld\nreceived %ld\ncounted %ld\nacks %ld\n", b->sent,
	    b->received, b->counted, b->acks);
	printf("rate %.1f\n", (double)b->counted / b->o.seconds);
	samples_report(&b->lat, "");
	if (b->ack_lat.n > 0)
		samples_report(&b->ack_lat, "ack_");
	printf("errors %ld\nfailed %ld\ndropped %ld\n", b->errors, b->failed,
	    b->dropped);
	printf("client_cpu_pct %.1f\n", (double)cpu / NS_PER_S / secs * 100);
}

/* echo */

static int
echo_text(struct conn *c, const char *text, int64_t now)
{
	if (!is_type(text, "message"))
		return 0;
	count_delivery(c->b, text, now);
	c->inflight--;
	return fill_window(c);
}

static int
run_echo(struct bench *b)
{
	int64_t cpu;
	int i;

	if (bench_alloc(b, b->o.conns, 0) == -1)
		return -1;
	b->ready_on_open = 1;
	b->on_text = echo_text;
	if (open_and_wait(b, 0, b->nconns, 30) == -1 || b->failed > 0)
		return -1;
	b->sending = 1;
	window_start(b);
	cpu = cpu_ns();
	for (i = 0; i < b->nconns; i++)
		if (fill_window(&b->conns[i]) == -1)
			conn_lost(&b->conns[i]);
	if (loop_run(b, NULL, b->measure_to) == -1)
		return -1;
	cpu = cpu_ns() - cpu;
	b->sending = 0;
	printf("conns %d\nwindow %d\n", b->nconns, b->o.window);
	report_common(b, cpu);
	fprintf(stderr, "wsload echo: %d connections, window %d: %.0f messages/s, "
	    "p50 %.3f ms, p99 %.3f ms\n", b->nconns, b->o.window,
	    (double)b->counted / b->o.seconds, samples_ms(&b->lat, 50),
	    samples_ms(&b->lat, 99));
	close_all(b);
	return 0;
}

/* latency and throughput: agents in slots 0..pairs-1, customers after */

static int
chat_text(struct conn *c, const char *text, int64_t now)
{
	struct bench *b = c->b;
	int64_t sent;

	if (c->role == ROLE_AGENT) {
		if (is_type(text, "message"))
			count_delivery(b, text, now);
		else if (is_type(text, "session")) {
			c->sessions++;
			b->sessions++;
		}
		return 0;
	}
	if (is_type(text, "ack")) {
		b->acks++;
		sent = sent_at(text);
		if (sent >= b->measure_from && sent < b->measure_to)
			samples_add(&b->ack_lat, now - sent);
	} else if (!is_type(text, "error"))
		return 0;
	/* An error answers a message too: its slot in the window is free. */
	c->inflight--;
	return b->refill ? fill_window(c) : 0;
}

/* Log the agents in and connect them. */
static int
chat_agents(struct bench *b)
{
	int i, n = b->o.pairs;

	for (i = 0; i < n; i++) {
		if (rest_login(&b->o, i + 1, b->tokens[i]) == -1)
			return -1;
		b->conns[i].role = ROLE_AGENT;
		b->conns[i].token = b->tokens[i];
	}
	if (open_and_wait(b, 0, n, 30) == -1 || b->failed > 0)
		return -1;
	fprintf(stderr, "wsload: %d agents connected\n", n);
	return 0;
}

/* How many different agents, not 0, the sorted ids name. */
static int
distinct_agents(int64_t *ids, int n)
{
	int i, count = 0;

	qsort(ids, (size_t)n, sizeof(*ids), cmp_i64);
	for (i = 0; i < n; i++)
		count += ids[i] != 0 && (i == 0 || ids[i] != ids[i - 1]);
	return count;
}

/* Each customer opens a session; check that they spread one per agent. */
static int
chat_sessions(struct bench *b)
{
	int i, n = b->o.pairs, spread, one = 0, rc = -1;
	int64_t *agent = calloc((size_t)n, sizeof(*agent));
	struct conn *c;

	if (agent == NULL)
		goto out;
	for (i = 0; i < n; i++) {
		c = &b->conns[n + i];
		if (rest_session(b->o.port, c->token, &c->session_id,
		    &agent[i]) == -1)
			goto out;
	}
	b->expect = n;
	if (loop_run(b, done_sessions, after_s(5)) == -1)
		goto out;
	for (i = 0; i < n; i++)
		one += b->conns[i].sessions == 1;
	spread = distinct_agents(agent, n);
	printf("session_agents %d\nagents_with_one_session %d\n", spread, one);
	/* Without one session per agent the run would measure something else. */
	if (spread != n || one != n)
		fprintf(stderr, "wsload: %d sessions went to %d agents; %d agents "
		    "saw exactly one session event\n", n, spread, one);
	else
		rc = 0;
out:
	free(agent);
	return rc;
}

/* Agents, customers, sessions: everything before the first message. */
static int
chat_setup(struct bench *b)
{
	int i, n = b->o.pairs;

	if (bench_alloc(b, 2 * n, 2 * n) == -1)
		return -1;
	b->on_text = chat_text;
	if (chat_agents(b) == -1 || rest_customers(b, n, n) == -1)
		return -1;
	for (i = n; i < 2 * n; i++) {
		b->conns[i].role = ROLE_CUSTOMER;
		b->conns[i].token = b->tokens[i];
	}
	if (open_and_wait(b, n, n, 30) == -1 || b->failed > 0)
		return -1;
	fprintf(stderr, "wsload: %d customers connected\n", n);
	return chat_sessions(b);
}

/* latency: message k goes at start + k/rate, from customer k mod pairs. */
static int64_t
tick_rate(struct bench *b, int64_t now)
{
	int n = b->o.pairs;
	struct conn *c;

	if (b->sending && now >= b->measure_to)
		b->sending = 0;
	while (b->sending && b->next_send <= now) {
		c = &b->conns[n + (int)(b->scheduled % n)];
		b->scheduled++;
		if (c->state == CONN_OPEN && send_message(c) == -1)
			conn_lost(c);
		b->next_send = b->send_start +
		    (int64_t)((double)b->scheduled * NS_PER_S / b->o.rate);
	}
	return b->sending ? b->next_send : INT64_MAX;
}

static int
run_latency(struct bench *b)
{
	int64_t cpu;

	if (chat_setup(b) == -1)
		return -1;
	window_start(b);
	b->send_start = b->next_send = now_ns();
	b->sending = 1;
	b->tick = tick_rate;
	cpu = cpu_ns();
	if (loop_run(b, NULL, b->measure_to) == -1)
		return -1;
	cpu = cpu_ns() - cpu;
	b->sending = 0;
	loop_run(b, done_received, after_s(DRAIN_WAIT_S));
	printf("pairs %d\nrate_asked %.1f\nsent_window %ld\nlost %ld\n",
	    b->o.pairs, b->o.rate, b->sent_window,
	    b->sent_window - (long)b->lat.n);
	report_common(b, cpu);
	fprintf(stderr, "wsload latency: %d pairs, %.0f messages/s: p50 %.3f ms, "
	    "p99 %.3f ms, max %.3f ms over %zu messages; %ld acks, p50 %.3f ms, "
	    "p99 %.3f ms\n", b->o.pairs, b->o.rate, samples_ms(&b->lat, 50),
	    samples_ms(&b->lat, 99), samples_ms(&b->lat, 100), b->lat.n, b->acks,
	    samples_ms(&b->ack_lat, 50), samples_ms(&b->ack_lat, 99));
	close_all(b);
	return 0;
}

static int
run_throughput(struct bench *b)
{
	int64_t cpu;
	int i, n = b->o.pairs;

	if (chat_setup(b) == -1)
		return -1;
	b->refill = 1;
	b->sending = 1;
	window_start(b);
	cpu = cpu_ns();
	for (i = n; i < 2 * n; i++)
		if (fill_window(&b->conns[i]) == -1)
			conn_lost(&b->conns[i]);
	if (loop_run(b, NULL, b->measure_to) == -1)
		return -1;
	cpu = cpu_ns() - cpu;
	b->sending = 0;
	loop_run(b, done_acked, after_s(DRAIN_WAIT_S));
	loop_run(b, done_received, after_s(DRAIN_WAIT_S));
	printf("pairs %d\nwindow %d\nundelivered %ld\n", n, b->o.window,
	    b->sent - b->received);
	report_common(b, cpu);
	fprintf(stderr, "wsload throughput: %d pairs, window %d: %.0f messages/s "
	    "delivered, p50 %.3f ms, p99 %.3f ms\n", n, b->o.window,
	    (double)b->counted / b->o.seconds, samples_ms(&b->lat, 50),
	    samples_ms(&b->lat, 99));
	close_all(b);
	return 0;
}

/* hold */

/* Keep HOLD_OPENING handshakes in flight until every slot was started. */
static int64_t
tick_open(struct bench *b, int64_t now)
{
	(void)now;
	while (b->next_slot < b->nconns &&
	    b->started - b->ready - b->failed < HOLD_OPENING)
		conn_open(&b->conns[b->next_slot++]);
	return INT64_MAX;
}

/* Ping every held connection; how many answer within PING_WAIT_S. */
static int
ping_all(struct bench *b)
{
	int i, answering = 0;
	struct conn *c;

	b->pongs = 0;
	b->expect = count_held(b);
	for (i = 0; i < b->nconns; i++) {
		c = &b->conns[i];
		if (c->state == CONN_OPEN && c->ready && ws_send(c, 0x1,
		    "{\"type\":\"ping\"}", 15) == -1)
			conn_lost(c);
	}
	loop_run(b, done_pongs, after_s(PING_WAIT_S));
	for (i = 0; i < b->nconns; i++)
		answering += b->conns[i].state == CONN_OPEN && b->conns[i].ponged;
	return answering;
}

static int
run_hold(struct bench *b)
{
	int i, n = b->o.conns, held;
	int64_t t0;

	if (bench_alloc(b, n, n) == -1 || rest_customers(b, 0, n) == -1)
		return -1;
	for (i = 0; i < n; i++)
		b->conns[i].token = b->tokens[i];
	t0 = now_ns();
	b->tick = tick_open;
	b->expect = n;
	loop_run(b, done_ready, after_s(60 + n / 20.0));
	b->tick = NULL;
	held = count_held(b);
	printf("asked %d\nheld %d\nopen_seconds %.2f\nfailed %ld\n", n, held,
	    (double)(now_ns() - t0) / NS_PER_S, b->failed);
	printf("answering %d\n", ping_all(b));
	printf("idle-start\n");
	fflush(stdout);
	loop_run(b, NULL, after_s(b->o.idle_seconds));
	printf("idle-end\nstill_held %d\ndropped %ld\nerrors %ld\n",
	    count_held(b), b->dropped, b->errors);
	fprintf(stderr, "wsload hold: %d asked, %d held, %d held after %.0f s "
	    "idle\n", n, held, count_held(b), b->o.idle_seconds);
	close_all(b);
	return 0;
}

/* connect */

static int
connect_text(struct conn *c, const char *text, int64_t now)
{
	struct bench *b = c->b;

	if (!is_type(text, "offline_messages_complete"))
		return 0;
	if (now >= b->measure_from && now < b->measure_to) {
		b->counted++;
		samples_add(&b->lat, now - c->opened_at);
	}
	conn_close_polite(c);
	return 0;
}

/* Refill every free slot with a new connection until the window ends. */
static int64_t
tick_connect(struct bench *b, int64_t now)
{
	struct conn *c;
	int i;

	for (i = 0; i < b->nconns && now < b->measure_to; i++) {
		c = &b->conns[i];
		if (c->state != CONN_IDLE && c->state != CONN_CLOSED)
			continue;
		c->token = b->tokens[b->next_slot++ % b->ntokens];
		conn_open(c);
	}
	return now < b->measure_to ? b->measure_to : INT64_MAX;
}

static int
done_closed(const struct bench *b)
{
	int i;

	for (i = 0; i < b->nconns; i++)
		if (b->conns[i].state != CONN_CLOSED)
			return 0;
	return 1;
}

static int
run_connect(struct bench *b)
{
	int64_t cpu;

	if (bench_alloc(b, b->o.concurrency, b->o.customers) == -1 ||
	    rest_customers(b, 0, b->o.customers) == -1)
		return -1;
	b->on_text = connect_text;
	b->tick = tick_connect;
	window_start(b);
	cpu = cpu_ns();
	if (loop_run(b, NULL, b->measure_to) == -1)
		return -1;
	cpu = cpu_ns() - cpu;
	b->tick = NULL;
	loop_run(b, done_closed, after_s(DRAIN_WAIT_S));
	printf("concurrency %d\nconnections %ld\n", b->nconns, b->started);
	report_common(b, cpu);
	fprintf(stderr, "wsload connect: %d at a time: %.0f connections/s to "
	    "offline_messages_complete, p50 %.3f ms, p99 %.3f ms\n", b->nconns,
	    (double)b->counted / b->o.seconds, samples_ms(&b->lat, 50),
	    samples_ms(&b->lat, 99));
	close_all(b);
	return 0;
}

/* Options and main */

struct mode {
	const char *name;
	int (*run)(struct bench *);
};

static const struct mode modes[] = {
	{ "echo", run_echo },
	{ "latency", run_latency },
	{ "throughput", run_throughput },
	{ "hold", run_hold },
	{ "connect", run_connect },
};

static void
usage(void)
{
	fputs("usage: wsload echo|latency|throughput|hold|connect --port P "
	    "[--conns N] [--pairs N]\n"
	    "       [--window N] [--rate R] [--seconds S] [--warmup S] "
	    "[--idle-seconds S]\n"
	    "       [--concurrency N] [--customers N] [--agents-password PW] "
	    "[--agent-prefix P] [--path /]\n", stderr);
}

static void
opts_default(struct opts *o, const char *mode)
{
	memset(o, 0, sizeof(*o));
	o->conns = strcmp(mode, "hold") == 0 ? 3000 : 50;
	o->pairs = 50;
	o->window = 16;
	o->concurrency = 16;
	o->customers = 64;
	o->rate = 100;
	o->seconds = strcmp(mode, "connect") == 0 ? 5 : 10;
	o->warmup = 1;
	o->idle_seconds = 10;
	o->password = "password123";
	o->prefix = "bench";
	o->path = "/";
}

/* Set one option from its text; says why not on standard error. */
static int
opt_set(struct opts *o, const struct opt_def *d, const char *text)
{
	char *end;
	double v;

	if (d->kind == OPT_TEXT) {
		*(const char **)(void *)((char *)o + d->off) = text;
		return 0;
	}
	errno = 0;
	v = strtod(text, &end);
	if (errno != 0 || end == text || *end != '\0' || v < d->min ||
	    v > d->max || (d->kind == OPT_INT && v != (double)(long)v)) {
		fprintf(stderr, "wsload: %s: \"%s\" is not %s in %g..%g\n",
		    d->name, text, d->kind == OPT_INT ? "an integer" : "a number",
		    d->min, d->max);
		return -1;
	}
	if (d->kind == OPT_INT)
		*(int *)(void *)((char *)o + d->off) = (int)v;
	else
		*(double *)(void *)((char *)o + d->off) = v;
	return 0;
}

static int
opts_parse(struct opts *o, int argc, char *argv[])
{
	size_t j;
	int i;

	for (i = 0; i < argc; i += 2) {
		for (j = 0; j < sizeof(opt_defs) / sizeof(opt_defs[0]); j++)
			if (strcmp(argv[i], opt_defs[j].name) == 0)
				break;
		if (j == sizeof(opt_defs) / sizeof(opt_defs[0]) || i + 1 >= argc) {
			fprintf(stderr, "wsload: %s: unknown option or no value\n",
			    argv[i]);
			return -1;
		}
		if (opt_set(o, &opt_defs[j], argv[i + 1]) == -1)
			return -1;
	}
	if (o->port == 0) {
		fprintf(stderr, "wsload: --port is required\n");
		return -1;
	}
	return 0;
}

/* Thousands of sockets need more than the usual 1024 descriptors. */
static int
raise_nofile(void)
{
	struct rlimit rl;

	if (getrlimit(RLIMIT_NOFILE, &rl) == -1)
		return -1;
	rl.rlim_cur = rl.rlim_max == RLIM_INFINITY ? 1048576 : rl.rlim_max;
	return setrlimit(RLIMIT_NOFILE, &rl);
}

int
main(int argc, char *argv[])
{
	const struct mode *m = NULL;
	struct bench b;
	size_t i;
	int rc = 2;

	memset(&b, 0, sizeof(b));
	b.ep = -1;
	signal(SIGPIPE, SIG_IGN);
	setvbuf(stdout, NULL, _IOLBF, 0);
	for (i = 0; argc >= 2 && i < sizeof(modes) / sizeof(modes[0]); i++)
		if (strcmp(argv[1], modes[i].name) == 0)
			m = &modes[i];
	if (m == NULL) {
		usage();
		goto out;
	}
	opts_default(&b.o, m->name);
	if (opts_parse(&b.o, argc - 2, argv + 2) == -1)
		goto out;
	rc = 1;
	if (sodium_init() < 0 || raise_nofile() == -1 ||
	    (b.ep = epoll_create1(EPOLL_CLOEXEC)) == -1) {
		fprintf(stderr, "wsload: cannot start: %s\n", strerror(errno));
		goto out;
	}
	b.rng = ((uint64_t)randombytes_random() << 32) | randombytes_random() | 1;
	rc = m->run(&b) == 0 ? 0 : 1;
out:
	bench_free(&b);
	return rc;
}
