#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <unistd.h>

#include "outq.h"

struct outq {
	int fd;
	size_t max;
	char *buf;
	size_t head, tail, cap;		/* unwritten bytes: buf[head..tail) */
	uint64_t queued, written;
	int64_t waiting_since;		/* last progress while bytes wait; 0 idle */
	int overflowed;			/* a put was refused for max */
};

struct outq *
outq_new(int fd, size_t max)
{
	struct outq *q = calloc(1, sizeof(*q));
	int flags = fcntl(fd, F_GETFL);

	if (q == NULL || flags == -1 ||
	    fcntl(fd, F_SETFL, flags | O_NONBLOCK) == -1) {
		free(q);
		return NULL;
	}
	q->fd = fd;
	q->max = max;
	return q;
}

void
outq_free(struct outq *q)
{
	if (q == NULL)
		return;
	free(q->buf);
	free(q);
}

/* Room for n more bytes at the tail. Returns 0 or -1. */
static int
reserve(struct outq *q, size_t n)
{
	size_t cap;
	char *grown;

	if (q->head > 0 && (q->head == q->tail || q->tail + n > q->cap)) {
		memmove(q->buf, q->buf + q->head, q->tail - q->head);
		q->tail -= q->head;
		q->head = 0;
	}
	if (q->tail + n <= q->cap)
		return 0;
	for (cap = q->cap == 0 ? 4096 : q->cap; cap < q->tail + n; cap *= 2)
		;
	if ((grown = realloc(q->buf, cap)) == NULL)
		return -1;
	q->buf = grown;
	q->cap = cap;
	return 0;
}

int
outq_put(struct outq *q, const char *text, size_t len, int force)
{
	if (!force && outq_pending(q) + len + 1 > q->max) {
		q->overflowed = 1;
		return -1;
	}
	if (reserve(q, len + 1) == -1)
		return -1;
	memcpy(q->buf + q->tail, text, len);
	q->buf[q->tail + len] = '\n';
	q->tail += len + 1;
	q->queued += len + 1;
	return 0;
}

int
outq_put_json(struct outq *q, json_t *frame, int force)
{
	char *text = json_dumps(frame, JSON_COMPACT);
	int rc;

	if (text == NULL)
		return -1;
	rc = outq_put(q, text, strlen(text), force);
	free(text);
	return rc;
}

int
outq_flush(struct outq *q, int64_t now)
{
	ssize_t n;

	while (q->head < q->tail) {
		n = write(q->fd, q->buf + q->head, q->tail - q->head);
		if (n == -1 && errno == EINTR)
			continue;
		if (n == -1 && errno == EAGAIN)
			break;
		if (n == -1)
			return -1;
		q->head += (size_t)n;
		q->written += (uint64_t)n;
		q->waiting_since = now;
	}
	if (q->head == q->tail) {
		q->head = q->tail = 0;
		q->waiting_since = 0;
		/* A burst's buffer is not kept by an idle connection. */
		if (q->cap > 65536) {
			free(q->buf);
			q->buf = NULL;
			q->cap = 0;
		}
	} else if (q->waiting_since == 0)
		q->waiting_since = now;
	return 0;
}

size_t
outq_pending(const struct outq *q)
{
	return q->tail - q->head;
}

uint64_t
outq_queued(const struct outq *q)
{
	return q->queued;
}

uint64_t
outq_written(const struct outq *q)
{
	return q->written;
}

int64_t
outq_stalled_ms(const struct outq *q, int64_t now)
{
	return q->waiting_since == 0 ? 0 : now - q->waiting_since;
}

size_t
outq_unread(const struct outq *q)
{
	int n = 0;

	/* FIONREAD on either end of a pipe: the bytes it holds. */
	return ioctl(q->fd, FIONREAD, &n) == 0 && n > 0 ? (size_t)n : 0;
}

int
outq_overflowed(const struct outq *q)
{
	return q->overflowed;
}

int
outq_reader_gone(const struct outq *q)
{
	struct pollfd p = { .fd = q->fd, .events = POLLOUT };

	/* A pipe whose read end is closed polls POLLERR for its writer. */
	return poll(&p, 1, 0) == 1 && (p.revents & (POLLERR | POLLHUP)) != 0;
}
