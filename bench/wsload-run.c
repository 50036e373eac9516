/*
 * The machinery every mode of wsload shares: the epoll loop, the slots of
 * connections, chat messages sent with their send time and counted where
 * they arrive, latency samples and the lines every timed mode reports.
 */
#include <errno.h>
#include <inttypes.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <unistd.h>

#include "wsload.h"

#define EVENTS_MAX	256

/* The loop */

static int
timeout_ms(int64_t now, int64_t until)
{
	int64_t ms = (until - now + NS_PER_MS - 1) / NS_PER_MS;

	return ms <= 0 ? 0 : ms > 60000 ? 60000 : (int)ms;
}

/* Whether an event's pointer is one of b's slots (else the relay's). */
static int
is_slot(const struct bench *b, const void *p)
{
	uintptr_t a = (uintptr_t)p, first = (uintptr_t)b->conns;

	return a >= first && a < first + (uintptr_t)b->nconns * sizeof(*b->conns);
}

int
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
		if (b->o.receipts && (t = receipts_tick(b, now)) < wake)
			wake = t;
		n = epoll_wait(b->ep, ev, EVENTS_MAX, timeout_ms(now_ns(), wake));
		if (n == -1 && errno != EINTR)
			return -1;
		for (i = 0; i < n; i++) {
			if (is_slot(b, ev[i].data.ptr))
				conn_event(ev[i].data.ptr, ev[i].events);
			else if (b->on_event != NULL)
				b->on_event(b, ev[i].data.ptr, ev[i].events);
		}
	}
}

int
done_ready(const struct bench *b)
{
	return b->ready + b->failed >= b->expect;
}

int
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

int
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

void
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

void
close_all(struct bench *b)
{
	int i;

	for (i = 0; i < b->nconns; i++)
		if (b->conns[i].state != CONN_CLOSED &&
		    b->conns[i].state != CONN_IDLE)
			conn_close_polite(&b->conns[i]);
}

static int
done_all_closed(const struct bench *b)
{
	int i;

	for (i = 0; i < b->nconns; i++)
		if (b->conns[i].state != CONN_CLOSED &&
		    b->conns[i].state != CONN_IDLE)
			return 0;
	return 1;
}

int
close_all_clean(struct bench *b, double seconds)
{
	int i, rc;

	for (i = 0; i < b->nconns; i++)
		if (b->conns[i].state != CONN_CLOSED &&
		    b->conns[i].state != CONN_IDLE)
			conn_close_clean(&b->conns[i]);
	rc = loop_run(b, done_all_closed, after_s(seconds));
	for (i = 0; i < b->nconns; i++)
		if (b->conns[i].state != CONN_IDLE)
			conn_close(&b->conns[i]);
	return rc == -1 ? -1 : 0;
}

/* Samples */

void
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

int
cmp_i64(const void *a, const void *b)
{
	int64_t x = *(const int64_t *)a, y = *(const int64_t *)b;

	return x < y ? -1 : x > y;
}

double
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

/* Messages */

int
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

int
fill_window(struct conn *c)
{
	while (c->b->sending && c->state == CONN_OPEN &&
	    c->inflight < c->b->o.window)
		if (send_message(c) == -1)
			return -1;
	return 0;
}

int64_t
sent_at(const char *text)
{
	const char *p = strstr(text, "\"text\":\"bench ");

	return p != NULL ? strtoll(p + 14, NULL, 10) : 0;
}

void
count_delivery(struct bench *b, const char *text, int64_t now)
{
	int64_t sent = sent_at(text);

	b->received++;
	if (now >= b->measure_from && now < b->measure_to)
		b->counted++;
	if (sent >= b->measure_from && sent < b->measure_to)
		samples_add(&b->lat, now - sent);
}

void
window_start(struct bench *b)
{
	b->measure_from = after_s(b->o.warmup);
	b->measure_to = b->measure_from + (int64_t)(b->o.seconds * NS_PER_S);
}

void
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
	printf("receipts_sent %ld\npings_answered %ld\nseq_missing %ld\n"
	    "offline_at_start %ld\n", b->receipts_sent, b->pings_answered,
	    b->seq_missing, b->offline);
	printf("client_cpu_pct %.1f\n", (double)cpu / NS_PER_S / secs * 100);
}
