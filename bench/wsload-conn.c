/*
 * One WebSocket connection of wsload, a minimal RFC 6455 client: a
 * non-blocking connect, the upgrade, masked frames out; text, fragmented,
 * ping and close frames in. What a text frame means is the mode's business
 * (bench's on_text); what happens here is the same in every mode.
 */
#include <errno.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <sodium.h>

#include "wsload.h"

#define FRAME_MAX	(16 << 20)	/* a larger server frame is an error */
#define HEADER_MAX	16384		/* the largest handshake answer */
#define REPORT_ERRORS	3		/* problems told in full, then counted */

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

int
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

void
conn_close(struct conn *c)
{
	if (c->fd != -1)
		close(c->fd);
	c->fd = -1;
	c->state = CONN_CLOSED;
	c->out_armed = 0;
	c->in.len = c->out.len = c->frag.len = 0;
}

void
conn_close_polite(struct conn *c)
{
	/* What came is confirmed before a close we make ourselves. */
	if (c->state == CONN_OPEN && c->b->o.receipts)
		receipt_flush(c, now_ns(), 0);	/* the socket goes anyway */
	if (c->state == CONN_OPEN)
		ws_send(c, 0x8, "\x03\xe8", 2);	/* 1000, normal closure */
	conn_close(c);
}

void
conn_close_clean(struct conn *c)
{
	if (c->state != CONN_OPEN) {
		conn_close(c);
		return;
	}
	if (c->b->o.receipts && receipt_flush(c, now_ns(), 0) == -1) {
		conn_close(c);
		return;
	}
	if (ws_send(c, 0x8, "\x03\xe8", 2) == -1)	/* 1000, normal closure */
		conn_close(c);
	else
		c->state = CONN_CLOSING;
}

void
conn_lost(struct conn *c)
{
	struct bench *b = c->b;
	int i = (int)(c - b->conns);

	if (c->state == CONN_CLOSED || c->state == CONN_IDLE)
		return;
	if (c->state == CONN_CLOSING) {
		conn_close(c);	/* the end we asked for */
		return;
	}
	if (c->ready)
		problem(&b->dropped, "connection %d dropped: %s", i,
		    c->why != NULL ? c->why : "closed by the server");
	else
		problem(&b->failed, "connection %d failed: %s", i,
		    c->why != NULL ? c->why : "closed by the server");
	conn_close(c);
}

int
conn_open(struct conn *c)
{
	struct epoll_event ev;

	c->fd = tcp_connect(c->port != 0 ? c->port : c->b->o.port, 1);
	c->state = CONN_CONNECTING;
	c->opened_at = now_ns();
	c->ready = c->ponged = c->inflight = c->sessions = 0;
	c->offline = 0;
	receipts_reset(c);
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

int
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
	int owed = 0, rc;

	if (is_type(text, "offline_messages_complete")) {
		mark_ready(c);
		/* As the chat's client: confirmed at once, even with nothing new. */
		if (b->o.receipts && receipt_flush(c, now, 1) == -1)
			return -1;
	} else if (is_type(text, "pong") && !c->ponged) {
		c->ponged = 1;
		b->pongs++;
	} else if (is_type(text, "ping") && b->o.receipts) {
		if (receipt_pong(c, now) == -1)
			return -1;
	} else if (is_type(text, "error"))
		problem(&b->errors, "connection %d: error frame %.300s",
		    (int)(c - b->conns), text);
	else if (is_type(text, "offline_message")) {
		c->offline++;
		b->offline++;
		owed = 1;
	} else
		owed = is_type(text, "message") || is_type(text, "session");
	rc = b->on_text != NULL ? b->on_text(c, text, now) : 0;
	/* Confirmed once handled, as the chat's client does. */
	if (rc == 0 && owed && b->o.receipts && c->state == CONN_OPEN)
		rc = receipt_saw(c, text, now);
	return rc;
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
	if (c->state == CONN_CLOSING) {
		/* Our close frame is out: only the server's answer counts now. */
		if (f->opcode == 0x8)
			conn_close(c);
		return 0;
	}
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

	while ((c->state == CONN_OPEN || c->state == CONN_CLOSING) &&
	    (rc = frame_header(
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
		if (c->state != CONN_OPEN && c->state != CONN_CLOSING)
			return 0;	/* closed: nothing left */
		payload[f.len] = saved;
		pos += f.hlen + f.len;
	}
	if ((c->state == CONN_OPEN || c->state == CONN_CLOSING) && rc == -1) {
		c->why = "frame too large";
		return -1;
	}
	if (c->state == CONN_OPEN || c->state == CONN_CLOSING)
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
	if (c->b->on_open != NULL && c->b->on_open(c) == -1)
		return -1;
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

void
conn_event(struct conn *c, uint32_t events)
{
	int rc = 0;

	if (c->state == CONN_CONNECTING)
		rc = conn_connected(c);
	else {
		if (events & (EPOLLIN | EPOLLRDHUP | EPOLLHUP | EPOLLERR))
			rc = conn_read(c);
		if (rc == 0 && (events & EPOLLOUT) && (c->state == CONN_OPEN ||
		    c->state == CONN_UPGRADING || c->state == CONN_CLOSING))
			rc = conn_flush(c);
	}
	if (rc == -1)
		conn_lost(c);
}
