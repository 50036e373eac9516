/*
 * wsload loss: how long the server takes to notice that an agent's network
 * went away silently, and to offer the agent's chat again.
 *
 * Agent PREFIX2 (the other agent) connects straight to the server and
 * takes two sessions; agent PREFIX1 (the lost agent) connects through the
 * relay of wsload-relay.c and takes session S, whose customer is connected
 * too. A probe session, closed at once, shows that routing picks the lost
 * agent while it is there (its load is lower). Every connection sends
 * receipts: only receipt clients get the server's liveness pings. Right
 * after the lost agent's last receipt has gone through, the relay stops
 * relaying: from then on (time 0) nothing passes either way and no socket
 * closes. Then:
 *   - the relay sees, without reading, when the server sends the agent
 *     something (its ping) and when it closes the agent's connection;
 *   - from that close on, a new customer asks for a session every
 *     PROBE_EVERY_MS until one is not routed to the lost agent: the agent
 *     shows offline. (Probes start only then: a session routed to the
 *     dead connection would itself start the server's drain timeout, which
 *     would end the connection sooner, and the figure would be that one's);
 *   - the other agent and S's customer wait for the session frame that puts
 *     S back in the queue.
 * Results as "key value" lines, seconds since the loss (-1: not within
 * --seconds).
 */
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <jansson.h>

#include "wsload.h"

#define SLOT_OTHER	0	/* the other agent, connected straight */
#define SLOT_LOST	1	/* the agent behind the relay */
#define SLOT_CUSTOMER	2	/* S's customer */
#define TOKEN_BUSY	3	/* two customers whose sessions the other agent has */
#define TOKEN_PROBE	5	/* probe customers from here on */
#define PROBES_MAX	64
#define PROBE_EVERY_MS	250
#define SETUP_WAIT_S	10

/* What the run learned; one run per process. */
static struct {
	struct proxy *proxy;
	int64_t session;		/* S, the lost agent's */
	int64_t probe;			/* the probe before the loss */
	int probe_frames;		/* its session frames at the lost agent */
	int64_t told_other, told_customer;	/* S queued, ns; 0: not yet */
} run;

static int
loss_text(struct conn *c, const char *text, int64_t now)
{
	int slot = (int)(c - c->b->conns);
	json_t *frame, *s;
	json_int_t id;
	const char *status;

	if (!is_type(text, "session") || (frame = json_loads(text, 0, NULL)) == NULL)
		return 0;
	s = json_object_get(frame, "session");
	id = json_integer_value(json_object_get(s, "id"));
	status = json_string_value(json_object_get(s, "status"));
	if (slot == SLOT_LOST && id == run.probe)
		run.probe_frames++;
	if (id == run.session && status != NULL && strcmp(status, "queued") == 0) {
		if (slot == SLOT_OTHER && run.told_other == 0)
			run.told_other = now;
		if (slot == SLOT_CUSTOMER && run.told_customer == 0)
			run.told_customer = now;
	}
	json_decref(frame);
	return 0;
}

/* The probe's frames reached the lost agent and it confirmed them. */
static int
done_confirmed(const struct bench *b)
{
	const struct conn *c = &b->conns[SLOT_LOST];

	return run.probe_frames >= 2 && c->rc_unconfirmed == 0 && c->rc_due == 0;
}

static int
done_closed(const struct bench *b)
{
	(void)b;
	return proxy_server_closed(run.proxy) != 0;
}

static int
done_told(const struct bench *b)
{
	(void)b;
	return run.told_other != 0 && run.told_customer != 0;
}

/* A new customer k asks for a session; its agent (0: queued) in *agent. */
static int
probe(struct bench *b, int k, int64_t *id, int64_t *agent)
{
	if (rest_customers(b, TOKEN_PROBE + k, 1) == -1 ||
	    rest_session(b->o.port, b->tokens[TOKEN_PROBE + k], id, agent) == -1)
		return -1;
	return 0;
}

/* Seconds from t0 to t, or -1 if t is 0 (never). */
static double
since(int64_t t0, int64_t t)
{
	return t == 0 ? -1 : (double)(t - t0) / NS_PER_S;
}

/* Connect slot i (through port if not 0) and wait until it is ready. */
static int
connect_slot(struct bench *b, int i, enum role role, int token, int port)
{
	b->conns[i].role = role;
	b->conns[i].token = b->tokens[token];
	b->conns[i].port = port;
	if (open_and_wait(b, i, 1, 30) == -1 || b->failed > 0 ||
	    !b->conns[i].ready)
		return -1;
	return 0;
}

/* Everything before the loss. Returns 0, or -1 after saying why. */
static int
loss_setup(struct bench *b, int64_t *lost)
{
	int64_t other, id, agent;
	int i;

	if (rest_login(&b->o, 2, b->tokens[SLOT_OTHER], &other) == -1 ||
	    rest_login(&b->o, 1, b->tokens[SLOT_LOST], lost) == -1 ||
	    connect_slot(b, SLOT_OTHER, ROLE_AGENT, SLOT_OTHER, 0) == -1 ||
	    rest_customers(b, TOKEN_BUSY, 2) == -1)
		return -1;
	/* The other agent, alone online, gets two sessions: a load of 2. */
	for (i = 0; i < 2; i++) {
		if (rest_session(b->o.port, b->tokens[TOKEN_BUSY + i], &id,
		    &agent) == -1)
			return -1;
		if (agent != other) {
			fprintf(stderr, "wsload loss: a session went to agent %lld, "
			    "not to %s2 (%lld), the only one online\n",
			    (long long)agent, b->o.prefix, (long long)other);
			return -1;
		}
	}
	if (connect_slot(b, SLOT_LOST, ROLE_AGENT, SLOT_LOST,
	    proxy_port(run.proxy)) == -1 || !proxy_linked(run.proxy) ||
	    rest_customers(b, SLOT_CUSTOMER, 1) == -1 ||
	    rest_session(b->o.port, b->tokens[SLOT_CUSTOMER], &run.session,
	    &agent) == -1)
		return -1;
	if (agent != *lost) {
		fprintf(stderr, "wsload loss: session %lld went to agent %lld, not "
		    "to the less busy %s1 (%lld)\n", (long long)run.session,
		    (long long)agent, b->o.prefix, (long long)*lost);
		return -1;
	}
	if (connect_slot(b, SLOT_CUSTOMER, ROLE_CUSTOMER, SLOT_CUSTOMER, 0) == -1)
		return -1;
	/* Routing picks the lost agent while it is there; the probe ends at once. */
	if (probe(b, 0, &run.probe, &agent) == -1 ||
	    rest_close(b->o.port, b->tokens[TOKEN_PROBE], run.probe) == -1)
		return -1;
	if (agent != *lost) {
		fprintf(stderr, "wsload loss: the probe session went to agent %lld, "
		    "not to %s1 (%lld)\n", (long long)agent, b->o.prefix,
		    (long long)*lost);
		return -1;
	}
	if (loop_run(b, done_confirmed, after_s(SETUP_WAIT_S)) != 0) {
		fprintf(stderr, "wsload loss: the lost agent did not confirm the "
		    "probe's session frames within %d s\n", SETUP_WAIT_S);
		return -1;
	}
	/* Its receipt is through the relay and read by the server. */
	loop_run(b, NULL, after_s(0.1));
	return b->failed > 0 || b->dropped > 0 ? -1 : 0;
}

int
run_loss(struct bench *b)
{
	int64_t lost, t0, deadline, id, agent, offline = 0, sent, next;
	long sends;
	int k, probes_lost = 0;
	const char *went = "none";

	/* Only receipt clients get the server's pings: every connection is one. */
	b->o.receipts = 1;
	if (bench_alloc(b, 3, TOKEN_PROBE + PROBES_MAX) == -1 ||
	    (run.proxy = proxy_new(b, b->o.port)) == NULL)
		return -1;
	b->on_text = loss_text;
	b->on_event = proxy_event;
	if (loss_setup(b, &lost) == -1)
		goto fail;
	fprintf(stderr, "wsload loss: agents connected, session %lld with the "
	    "lost agent; the relay stops now\n", (long long)run.session);
	t0 = now_ns();
	deadline = t0 + (int64_t)(b->o.seconds * NS_PER_S);
	printf("session %lld\nquiet_ms_before %.1f\n", (long long)run.session,
	    (double)(t0 - b->conns[SLOT_LOST].said_at) / NS_PER_MS);
	proxy_hole(run.proxy);

	/* Half the time for the server to give up on the agent's connection. */
	if (loop_run(b, done_closed, t0 + (deadline - t0) / 2) == -1)
		goto fail;
	for (k = 1; k < PROBES_MAX && now_ns() < deadline; k++) {
		next = now_ns() + PROBE_EVERY_MS * NS_PER_MS;
		if (probe(b, k, &id, &agent) == -1 ||
		    rest_close(b->o.port, b->tokens[TOKEN_PROBE + k], id) == -1)
			goto fail;
		if (agent != lost) {
			offline = now_ns();
			went = agent == 0 ? "queued" : "other_agent";
			break;
		}
		probes_lost++;
		if (loop_run(b, NULL, next) == -1)
			goto fail;
	}
	if (loop_run(b, done_told, deadline) == -1)
		goto fail;
	sent = proxy_server_sent(run.proxy, &sends);
	printf("server_sent_s %.3f\nserver_sends %ld\n", since(t0, sent), sends);
	printf("server_closed_s %.3f\n", since(t0, proxy_server_closed(run.proxy)));
	printf("offline_s %.3f\noffline_to %s\nprobes_to_lost %d\n",
	    since(t0, offline), went, probes_lost);
	printf("requeued_s %.3f\ncustomer_told_s %.3f\n", since(t0, run.told_other),
	    since(t0, run.told_customer));
	printf("receipts_sent %ld\npings_answered %ld\nerrors %ld\nfailed %ld\n"
	    "dropped %ld\n", b->receipts_sent, b->pings_answered, b->errors,
	    b->failed, b->dropped);
	fprintf(stderr, "wsload loss: the server pinged at %.1f s and closed the "
	    "connection at %.1f s; offline at %.1f s, session offered again at "
	    "%.1f s\n", since(t0, sent), since(t0, proxy_server_closed(run.proxy)),
	    since(t0, offline), since(t0, run.told_other));
	close_all(b);
	proxy_free(run.proxy);
	run.proxy = NULL;
	return 0;
fail:
	close_all(b);
	proxy_free(run.proxy);
	run.proxy = NULL;
	return -1;
}
