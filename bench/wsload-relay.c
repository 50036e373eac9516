/*
 * The loopback TCP relay of wsload loss: one client, relayed byte for byte
 * to the server, in wsload's own epoll loop, until proxy_hole(). Then it
 * stops reading and writing on both sockets and keeps them open: to both
 * ends the network went silent, with no FIN and no RST, and only their own
 * timers can tell. It keeps watching the server's end without reading it
 * (edge-triggered, with FIONREAD): when more bytes came, and when the
 * server closed its end.
 */
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <unistd.h>

#include "wsload.h"

#define RELAY_CHUNK	65536
#define RELAY_PENDING_MAX	(1 << 20)	/* read no more while this waits */

enum side { END_LISTEN, END_CLIENT, END_SERVER };

struct proxy;

struct proxy_end {
	struct proxy *p;
	enum side side;
	int fd;
	uint32_t events;	/* what epoll watches now; 0: not registered */
	struct buf out;		/* bytes waiting to be written to this end */
};

struct proxy {
	struct bench *b;
	int target, port;
	struct proxy_end end[3];
	int linked, holed;
	int64_t server_sent_at, server_closed_at;
	long server_sends;
	int server_pending;	/* FIONREAD of the server's end at the last look */
};

/* Watch events on e (0: stop watching); the socket stays open. */
static int
watch(struct proxy_end *e, uint32_t events)
{
	struct epoll_event ev;
	int op = e->events == 0 ? EPOLL_CTL_ADD : events == 0 ? EPOLL_CTL_DEL :
	    EPOLL_CTL_MOD;

	if (e->fd == -1 || e->events == events)
		return 0;
	memset(&ev, 0, sizeof(ev));
	ev.events = events;
	ev.data.ptr = e;
	if (epoll_ctl(e->p->b->ep, op, e->fd, &ev) == -1)
		return -1;
	e->events = events;
	return 0;
}

/* While relaying: read from an end only while the other's output is short. */
static int
rewatch(struct proxy *p)
{
	struct proxy_end *c = &p->end[END_CLIENT], *s = &p->end[END_SERVER];

	if (watch(c, EPOLLRDHUP | (s->out.len < RELAY_PENDING_MAX ? EPOLLIN : 0) |
	    (c->out.len > 0 ? EPOLLOUT : 0)) == -1)
		return -1;
	return watch(s, EPOLLRDHUP | (c->out.len < RELAY_PENDING_MAX ? EPOLLIN : 0) |
	    (s->out.len > 0 ? EPOLLOUT : 0));
}

static void
close_end(struct proxy_end *e)
{
	watch(e, 0);
	if (e->fd != -1)
		close(e->fd);
	e->fd = -1;
	e->events = 0;
}

/* Either end went away before the hole: so does the other, as a relay's would. */
static void
unlink_both(struct proxy *p)
{
	close_end(&p->end[END_CLIENT]);
	close_end(&p->end[END_SERVER]);
	p->linked = 0;
}

int
proxy_port(const struct proxy *p)
{
	return p->port;
}

int
proxy_linked(const struct proxy *p)
{
	return p->linked;
}

struct proxy *
proxy_new(struct bench *b, int target)
{
	struct sockaddr_in sa;
	socklen_t len = sizeof(sa);
	struct proxy *p = calloc(1, sizeof(*p));
	int i, fd;

	if (p == NULL) {
		fprintf(stderr, "wsload: out of memory\n");
		return NULL;
	}
	p->b = b;
	p->target = target;
	for (i = 0; i < 3; i++) {
		p->end[i].p = p;
		p->end[i].side = (enum side)i;
		p->end[i].fd = -1;
	}
	memset(&sa, 0, sizeof(sa));
	sa.sin_family = AF_INET;
	sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
	p->end[END_LISTEN].fd = fd;
	if (fd == -1 || bind(fd, (struct sockaddr *)&sa, sizeof(sa)) == -1 ||
	    listen(fd, 4) == -1 ||
	    getsockname(fd, (struct sockaddr *)&sa, &len) == -1 ||
	    watch(&p->end[END_LISTEN], EPOLLIN) == -1) {
		fprintf(stderr, "wsload: relay: %s\n", strerror(errno));
		proxy_free(p);
		return NULL;
	}
	p->port = ntohs(sa.sin_port);
	return p;
}

/* The one client: connect it to the server. A second one is refused. */
static void
on_accept(struct proxy *p)
{
	int fd = accept(p->end[END_LISTEN].fd, NULL, NULL), up, one = 1;

	if (fd == -1)
		return;
	/* Small frames pass at once, as through a network's router. */
	setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
	if (fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) | O_NONBLOCK) == -1 ||
	    fcntl(fd, F_SETFD, FD_CLOEXEC) == -1) {
		close(fd);
		return;
	}
	/* A blocking connect to loopback is done at once; then non-blocking. */
	if (p->linked || p->holed || (up = tcp_connect(p->target, 0)) == -1) {
		close(fd);
		return;
	}
	if (fcntl(up, F_SETFL, fcntl(up, F_GETFL) | O_NONBLOCK) == -1) {
		close(fd);
		close(up);
		return;
	}
	p->end[END_CLIENT].fd = fd;
	p->end[END_SERVER].fd = up;
	p->linked = 1;
	if (rewatch(p) == -1)
		unlink_both(p);
}

/* Write what waits for e. Returns 0, or -1 when e is gone. */
static int
flush_end(struct proxy_end *e)
{
	ssize_t n;

	while (e->out.len > 0) {
		n = send(e->fd, e->out.p, e->out.len, MSG_NOSIGNAL);
		if (n > 0)
			buf_consume(&e->out, (size_t)n);
		else if (n == -1 && errno == EINTR)
			continue;
		else if (n == -1 && (errno == EAGAIN || errno == EWOULDBLOCK))
			return 0;
		else
			return -1;
	}
	return 0;
}

/* Pass what e has to the other end. Returns 0, or -1 when either is gone. */
static int
relay_from(struct proxy_end *e, struct proxy_end *to)
{
	ssize_t n;

	if (buf_reserve(&to->out, RELAY_CHUNK) == -1)
		return -1;
	n = read(e->fd, to->out.p + to->out.len, RELAY_CHUNK);
	if (n == 0)
		return -1;
	if (n == -1)
		return errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR ?
		    0 : -1;
	to->out.len += (size_t)n;
	return flush_end(to);
}

/* After the hole: note what the server does, reading nothing. */
static void
watch_server(struct proxy *p, struct proxy_end *s, uint32_t events)
{
	int64_t now = now_ns();
	int pending = 0;

	if ((events & EPOLLIN) && ioctl(s->fd, FIONREAD, &pending) == 0 &&
	    pending > p->server_pending) {
		p->server_pending = pending;
		p->server_sends++;
		if (p->server_sent_at == 0)
			p->server_sent_at = now;
	}
	if (events & (EPOLLRDHUP | EPOLLHUP | EPOLLERR)) {
		if (p->server_closed_at == 0)
			p->server_closed_at = now;
		watch(s, 0);	/* the socket stays open, unread */
	}
}

void
proxy_event(struct bench *b, void *ptr, uint32_t events)
{
	struct proxy_end *e = ptr, *other;
	struct proxy *p = e->p;

	(void)b;
	if (e->side == END_LISTEN) {
		on_accept(p);
		return;
	}
	if (p->holed) {
		if (e->side == END_SERVER)
			watch_server(p, e, events);
		else
			watch(e, 0);
		return;
	}
	other = &p->end[e->side == END_CLIENT ? END_SERVER : END_CLIENT];
	if (((events & EPOLLOUT) && flush_end(e) == -1) ||
	    ((events & (EPOLLIN | EPOLLRDHUP | EPOLLHUP | EPOLLERR)) &&
	    relay_from(e, other) == -1) || rewatch(p) == -1)
		unlink_both(p);
}

void
proxy_hole(struct proxy *p)
{
	struct proxy_end *s = &p->end[END_SERVER];
	int pending = 0;

	p->holed = 1;
	watch(&p->end[END_LISTEN], 0);
	watch(&p->end[END_CLIENT], 0);
	if (s->fd == -1)
		return;
	if (ioctl(s->fd, FIONREAD, &pending) == 0)
		p->server_pending = pending;
	watch(s, 0);
	watch(s, EPOLLIN | EPOLLRDHUP | EPOLLET);
}

int64_t
proxy_server_sent(const struct proxy *p, long *times)
{
	*times = p->server_sends;
	return p->server_sent_at;
}

int64_t
proxy_server_closed(const struct proxy *p)
{
	return p->server_closed_at;
}

void
proxy_free(struct proxy *p)
{
	int i;

	if (p == NULL)
		return;
	for (i = 0; i < 3; i++) {
		close_end(&p->end[i]);
		buf_free(&p->end[i].out);
	}
	free(p);
}
