/*
 * The modes of wsload (see the usage at the top of wsload.c). Each sets
 * bench's on_text and tick, runs the loop and prints its "key value" lines.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "wsload.h"

#define HOLD_OPENING	64		/* handshakes in flight in hold mode */
#define PING_WAIT_S	10
#define DRAIN_WAIT_S	5
#define REOFFER_WAIT_S	1.5		/* for the handlers to end and record */
#define CLOSE_WAIT_S	5		/* for the server's answers to our close */

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

int
run_echo(struct bench *b)
{
	int64_t cpu;
	int i;

	if (bench_alloc(b, b->o.conns, 0) == -1)
		return -1;
	b->o.receipts = 0;	/* the echo's frames carry no seq to confirm */
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

/* The first session frame an agent got beyond its one, for the report. */
static char extra_session[400];

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

static int
chat_text(struct conn *c, const char *text, int64_t now)
{
	struct bench *b = c->b;
	int64_t sent;

	if (c->role == ROLE_AGENT) {
		if (is_type(text, "message"))
			count_delivery(b, text, now);
		else if (is_type(text, "session") && c->ready) {
			/* Live: what came before offline_messages_complete is older. */
			c->sessions++;
			b->sessions++;
			if (c->sessions == 2 && extra_session[0] == '\0')
				snprintf(extra_session, sizeof(extra_session), "%s", text);
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
		if (rest_login(&b->o, i + 1, b->tokens[i], NULL) == -1)
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
	int i, n = b->o.pairs, spread, one = 0, none = 0, rc = -1;
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
	for (i = 0; i < n; i++) {
		one += b->conns[i].sessions == 1;
		none += b->conns[i].sessions == 0;
	}
	spread = distinct_agents(agent, n);
	printf("session_agents %d\nagents_with_one_session %d\n", spread, one);
	/* Without one session per agent the run would measure something else. */
	if (spread != n || one != n)
		fprintf(stderr, "wsload: %d sessions went to %d agents; %d agents "
		    "saw exactly one session event, %d none, %d more%s%.300s\n", n,
		    spread, one, none, n - one - none,
		    extra_session[0] != '\0' ? "; one more: " : "", extra_session);
	else
		rc = 0;
out:
	free(agent);
	return rc;
}

/*
 * After a run and its clean close: connect slots first..first+count-1
 * again and count the offline messages they are offered, which the server
 * did not record as delivered (receipts, or the fallback's clean close).
 */
static void
reoffer_check(struct bench *b, const char *key, int first, int count)
{
	long before = b->offline;

	loop_run(b, NULL, after_s(REOFFER_WAIT_S));
	if (open_and_wait(b, first, count, 30) == -1)
		return;
	printf("%s %ld\n", key, b->offline - before);
	close_all_clean(b, CLOSE_WAIT_S);
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

int
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
	close_all_clean(b, CLOSE_WAIT_S);
	reoffer_check(b, "reoffered_agents", 0, b->o.pairs);
	reoffer_check(b, "reoffered_customers", b->o.pairs, b->o.pairs);
	return 0;
}

int
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
	close_all_clean(b, CLOSE_WAIT_S);
	reoffer_check(b, "reoffered_agents", 0, n);
	return 0;
}

/* hold */

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
done_pongs(const struct bench *b)
{
	return b->pongs >= b->expect;
}

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

/*
 * Ping every held connection; how many answer within PING_WAIT_S. The
 * chat answers {"type":"ping"} with a pong; with --echo the ping is a pong
 * itself, which the echo sends back.
 */
static int
ping_all(struct bench *b)
{
	const char *ping = b->o.echo ? "{\"type\":\"pong\"}" :
	    "{\"type\":\"ping\"}";
	int i, answering = 0;
	struct conn *c;

	b->pongs = 0;
	b->expect = count_held(b);
	for (i = 0; i < b->nconns; i++) {
		c = &b->conns[i];
		if (c->state == CONN_OPEN && c->ready && ws_send(c, 0x1,
		    ping, strlen(ping)) == -1)
			conn_lost(c);
	}
	loop_run(b, done_pongs, after_s(PING_WAIT_S));
	for (i = 0; i < b->nconns; i++)
		answering += b->conns[i].state == CONN_OPEN && b->conns[i].ponged;
	return answering;
}

int
run_hold(struct bench *b)
{
	int i, n = b->o.conns, held;
	int64_t t0;

	if (b->o.echo) {
		/* No tokens: every slot goes to --path, ready once open. */
		if (bench_alloc(b, n, 0) == -1)
			return -1;
		b->o.receipts = 0;	/* the echo sends no seq and no ping */
		b->ready_on_open = 1;
	} else {
		if (bench_alloc(b, n, n) == -1 || rest_customers(b, 0, n) == -1)
			return -1;
		for (i = 0; i < n; i++)
			b->conns[i].token = b->tokens[i];
	}
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
	fprintf(stderr, "wsload hold%s: %d asked, %d held, %d held after %.0f s "
	    "idle\n", b->o.echo ? " --echo" : "", n, held, count_held(b),
	    b->o.idle_seconds);
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

/*
 * --echo: what the chat sends at the end of the offline phase, sent once
 * open, so that the echo's copy of it ends the connection's offline phase.
 */
static int
connect_open_echo(struct conn *c)
{
	static const char complete[] =
	    "{\"type\":\"offline_messages_complete\",\"count\":0}";

	return ws_send(c, 0x1, complete, sizeof(complete) - 1);
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
		c->token = b->ntokens > 0 ?
		    b->tokens[b->next_slot++ % b->ntokens] : NULL;
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

int
run_connect(struct bench *b)
{
	int64_t cpu;

	if (b->o.echo) {
		if (bench_alloc(b, b->o.concurrency, 0) == -1)
			return -1;
		b->o.receipts = 0;	/* the echo sends no seq to confirm */
		b->ready_on_open = 1;
		b->on_open = connect_open_echo;
	} else if (bench_alloc(b, b->o.concurrency, b->o.customers) == -1 ||
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
	fprintf(stderr, "wsload connect%s: %d at a time: %.0f connections/s to "
	    "offline_messages_complete%s, p50 %.3f ms, p99 %.3f ms\n",
	    b->o.echo ? " --echo" : "", b->nconns,
	    (double)b->counted / b->o.seconds, b->o.echo ? " (echoed)" : "",
	    samples_ms(&b->lat, 50), samples_ms(&b->lat, 99));
	close_all(b);
	return 0;
}

/* offline */

/*
 * One connection with the given token: how long from the connect to
 * offline_messages_complete, and how many offline messages came first.
 */
int
run_offline(struct bench *b)
{
	int64_t t0;

	if (b->o.token == NULL) {
		fprintf(stderr, "wsload offline: --token is required\n");
		return -1;
	}
	if (bench_alloc(b, 1, 0) == -1)
		return -1;
	b->conns[0].token = b->o.token;
	t0 = now_ns();
	if (open_and_wait(b, 0, 1, 60) == -1 || !b->conns[0].ready)
		return -1;
	printf("offline %ld\nms %.3f\n", b->conns[0].offline,
	    (double)(now_ns() - t0) / 1e6);
	fprintf(stderr, "wsload offline: %ld offline messages, then "
	    "offline_messages_complete after %.1f ms\n", b->conns[0].offline,
	    (double)(now_ns() - t0) / 1e6);
	close_all(b);
	return 0;
}
