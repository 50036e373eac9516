/*
 * chat-ws: one process per WebSocket connection, started by websocketd.
 * It checks the token of the query string again (a client that reached
 * websocketd directly is refused too), registers the connection, pushes
 * the offline messages, then sleeps in poll() on standard input, standard
 * output (while frames wait for it) and its wake-up socket until the
 * client leaves, stops answering or reading, or the token stops working.
 */
#include <errno.h>
#include <malloc.h>
#include <poll.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include <sodium.h>

#include "delivery.h"
#include "frames.h"
#include "outq.h"
#include "peer.h"
#include "ws.h"
#include "../lib/agent.h"
#include "../lib/clock.h"
#include "../lib/customer.h"
#include "../lib/db.h"
#include "../lib/framer.h"
#include "../lib/log.h"
#include "../lib/presence.h"
#include "../lib/query.h"
#include "../lib/wake.h"

/*
 * Deliveries are read at least this often even without a wake-up (only a
 * writer killed between its commit and its wake-ups leaves one unsent),
 * and no less often than a third of CHAT_PRESENCE_STALE: customers sweep
 * then.
 */
#define SAFETY_MS 15000
/* The token is looked up again at least this often. */
#define RECHECK_MS 30000
/*
 * Idle for QUIET_MS after some work, a connection gives its page cache
 * and what its heap grew by back. Idle for DORMANT_MS, it closes its
 * database connection too (schema, statements and SQLite's own state):
 * most connections are visitors with the page open and nothing to say,
 * and what each of them keeps, thousands keep. The next thing to do
 * opens it again, about 0.3 ms. While it is closed, the safety pass and
 * the token's recheck come DORMANT_PASSES times less often (wake-ups
 * still come at once, a revocation's too).
 */
#define QUIET_MS 20
#define DORMANT_MS 5000
#define DORMANT_PASSES 4

static volatile sig_atomic_t stopping;

static void
on_signal(int sig)
{
	(void)sig;
	stopping = 1;
}

/* One connection: who it is, and the modules that own its state. */
struct conn {
	struct ws_ctx ctx;
	const char *token;		/* borrowed from the environment */
	int wake_fd;
	char wake_name[32];
	struct outq *out;
	struct delivery *delivery;
	struct frames *frames;
	struct framer in;
	int64_t heard_at;		/* the client's last frame */
	int64_t pinged_at;		/* our liveness ping, unanswered; 0: none */
	int64_t beat_at;		/* the last heartbeat */
};

/* Why the loop ended: what counts as delivered follows from it. */
enum end {
	END_CLIENT_LEFT,	/* input ended, its peer had taken all we sent */
	END_RESET,		/* input ended, its peer reset with some unread */
	END_OTHER		/* websocketd gone, token, errors, signals */
};

/* The client's address: the last X-Forwarded-For entry, added by our proxy. */
static const char *
client_address(void)
{
	const char *xff = getenv("HTTP_X_FORWARDED_FOR"), *last;

	if (xff != NULL && xff[0] != '\0') {
		last = strrchr(xff, ',');
		last = last != NULL ? last + 1 : xff;
		while (*last == ' ')
			last++;
		return last;
	}
	return getenv("REMOTE_ADDR") != NULL ? getenv("REMOTE_ADDR") : "";
}

/* Refuse the connection: the error frame, then a non-zero exit. */
static int
refuse(enum error_code code, const char *message)
{
	json_t *frame = error_frame_new(code, message, NULL);
	char *text = frame != NULL ? json_dumps(frame, JSON_COMPACT) : NULL;

	if (text != NULL)
		printf("%s\n", text);
	fflush(stdout);
	free(text);
	json_decref(frame);
	return 1;
}

/* Send an error frame as far as the pipe takes it now; the connection then ends. */
static void
last_word(struct conn *c, enum error_code code, const char *message)
{
	frames_send_error(c->out, code, NULL, 1, "%s", message);
	outq_flush(c->out, clock_now_ms());
}

/* Whether the token still works; if not, say so and end. 0 fine, -1 end. */
static int
recheck(struct conn *c)
{
	enum token_status st = token_verify(c->ctx.db, c->token, TOKEN_ACCESS,
	    clock_now_ms(), &c->ctx.who);

	if (st == TOKEN_INVALID) {
		last_word(c, ERROR_TOKEN_EXPIRED,
		    "Token is invalid or expired, please obtain a new one");
		log_msg(LOG_INFO, c->ctx.log_id, "token expired or revoked; closing");
		return -1;
	}
	return 0;	/* a database hiccup is no reason to drop the client */
}

/* Act on every pending wake-up. Returns 0, or -1 to end. */
static int
drain_wakes(struct conn *c, int *fetch, int *check)
{
	char buf[WAKE_MAX + 1];
	ssize_t n;
	int rc;

	while ((n = wake_recv(c->wake_fd, buf, sizeof(buf) - 1)) > 0) {
		if (buf[0] == WAKE_DELIVER)
			*fetch = 1;
		else if (buf[0] == WAKE_PUSH) {
			if ((rc = delivery_push(c->delivery, buf + 1,
			    (size_t)n - 1)) == -1)
				return -1;
			*fetch |= rc;
		}
		else if (buf[0] == WAKE_RECHECK)
			*check = 1;
		else if (buf[0] == WAKE_END) {
			/* The client reconnects, to the database now in place. */
			log_msg(LOG_INFO, c->ctx.log_id, "the database was restored; closing");
			return -1;
		}
		/* Typing is worth nothing late: dropped when the client lags. */
		else if (buf[0] == WAKE_TYPING && n > 1 &&
		    outq_pending(c->out) == 0 &&
		    outq_put(c->out, buf + 1, (size_t)n - 1, 0) == -1)
			return -1;
	}
	return n == -1 ? -1 : 0;
}

/*
 * Read what came in on standard input and handle every whole frame.
 * Returns 0, 1 when the client has left, -1 to end.
 */
static int
read_input(struct conn *c, int64_t now)
{
	enum framer_status st;
	const char *why;
	json_t *frame;
	size_t room;
	char *space = framer_space(&c->in, &room);
	ssize_t n = read(STDIN_FILENO, space, room);
	int rc = 0;

	if (n == 0)
		return 1;
	if (n == -1)
		return errno == EINTR || errno == EAGAIN ? 0 : -1;
	framer_added(&c->in, (size_t)n);
	c->heard_at = now;
	c->pinged_at = 0;
	while (rc == 0 && (st = framer_next(&c->in, &frame, &why)) !=
	    FRAMER_MORE) {
		rc = st == FRAMER_FRAME ? frames_handle(c->frames, frame) :
		    frames_bad(c->frames, why);
		json_decref(frame);
	}
	return rc == 0 ? frames_flush(c->frames) : -1;
}

/*
 * Liveness: a receipt client answers a ping; one silent through two
 * rounds has lost its network. Returns 0, or -1 to end.
 */
static int
check_alive(struct conn *c, int64_t now)
{
	int64_t idle = (int64_t)c->ctx.cfg.ws_idle_ping * 1000;
	json_t *ping;
	int rc;

	if (!delivery_receipts(c->delivery))
		return 0;
	if (c->pinged_at != 0 && now - c->pinged_at >= idle) {
		log_msg(LOG_INFO, c->ctx.log_id, "no answer to a ping for "
		    "%lld ms; the client is gone", (long long)(now - c->pinged_at));
		return -1;
	}
	if (c->pinged_at != 0 || now - c->heard_at < idle)
		return 0;
	ping = json_pack("{s:s}", "type", "ping");
	rc = ping != NULL ? outq_put_json(c->out, ping, 1) : -1;
	json_decref(ping);
	c->pinged_at = now;
	return rc;
}

/*
 * How long the client has not taken what it was sent: output waiting in
 * the pipe, or for a receipt client, frames it has not confirmed (the web
 * server may buffer much more than the pipe holds).
 */
static int64_t
undrained_ms(const struct conn *c, int64_t now)
{
	int64_t stalled = outq_stalled_ms(c->out, now);
	int64_t unconfirmed = delivery_unconfirmed_ms(c->delivery, now);

	return stalled > unconfirmed ? stalled : unconfirmed;
}

/* Log why the client is a slow consumer, tell it if it can still hear, and end. */
static void
slow_consumer(struct conn *c, const char *why)
{
	log_msg(LOG_WARN, c->ctx.log_id, "slow consumer: %s, %zu bytes wait; "
	    "closing", why, outq_pending(c->out));
	last_word(c, ERROR_SLOW_CONSUMER, "you do not read what you are sent");
}

/* A client that does not read what it is sent. Returns 0, or -1 to end. */
static int
check_draining(struct conn *c, int64_t now)
{
	char why[64];

	if (undrained_ms(c, now) < (int64_t)c->ctx.cfg.ws_drain_timeout * 1000)
		return 0;
	snprintf(why, sizeof(why), "nothing drained or confirmed for %lld ms",
	    (long long)undrained_ms(c, now));
	slow_consumer(c, why);
	return -1;
}

/*
 * Put the chats of agents gone for good back in the queue. Returns 1 when
 * it did (this connection is not woken for what it wrote itself: fetch),
 * else 0.
 */
static int
sweep(struct conn *c, int64_t now)
{
	return presence_requeue_abandoned(c->ctx.db, c->ctx.relay,
	    c->ctx.cfg.requeue_after, now) > 0;
}

/*
 * Every third of CHAT_PRESENCE_STALE, an agent's connection beats while it
 * is responsive (its output drains): presence and routing count it; and
 * it sweeps. Customers' connections sweep only at the safety pass, which
 * wakes them anyway (a dormant one's, DORMANT_PASSES times rarer: the
 * agents' connections sweep on time): their idle handlers cost next to
 * nothing. Returns as sweep().
 */
static int
heartbeat(struct conn *c, int64_t now)
{
	int64_t every = (int64_t)c->ctx.cfg.presence_stale * 1000 / 3;

	if (c->ctx.user.type != PRINCIPAL_AGENT || now - c->beat_at < every ||
	    undrained_ms(c, now) >= every)
		return 0;
	c->beat_at = now;
	if (relay_heartbeat(c->ctx.relay, &c->ctx.user, c->ctx.conn_id, now) == -1)
		log_msg(LOG_WARN, c->ctx.log_id, "heartbeat: %s",
		    db_errmsg(c->ctx.db));
	return sweep(c, now);
}

static int64_t
max_ms(int64_t a, int64_t b)
{
	return a > b ? a : b;
}

/* Milliseconds poll() may sleep: until the next timer of any kind. */
static int
sleep_ms(const struct conn *c, int64_t next_pass, int64_t next_check)
{
	int64_t now = clock_now_ms(), until = next_pass, t;
	int64_t idle = (int64_t)c->ctx.cfg.ws_idle_ping * 1000;

	if (next_check < until)
		until = next_check;
	/* Past it, the check that failed to read the token waits for next_check. */
	if (c->ctx.who.expires_at > now && c->ctx.who.expires_at < until)
		until = c->ctx.who.expires_at;
	if ((t = delivery_next_tick(c->delivery)) < until)
		until = t;
	if ((t = relay_retry_at(c->ctx.relay)) < until)
		until = t;
	if (c->ctx.user.type == PRINCIPAL_AGENT && (t = c->beat_at +
	    (int64_t)c->ctx.cfg.presence_stale * 1000 / 3) < until)
		until = t;
	if (delivery_receipts(c->delivery) && (t = (c->pinged_at != 0 ?
	    c->pinged_at : c->heard_at) + idle) < until)
		until = t;
	if ((outq_pending(c->out) > 0 || delivery_unconfirmed_ms(c->delivery,
	    now) > 0) && (t = now + 1000) < until)
		until = t;	/* the drain timeout is checked each second */
	return until <= now ? 0 : (int)(until - now);
}

/*
 * Everything the loop does besides reading, pass set at the safety pass:
 * returns 0, or -1 to end.
 */
static int
tend(struct conn *c, int fetch, int check, int pass, int64_t now)
{
	if (check && recheck(c) == -1)
		return -1;
	relay_retry(c->ctx.relay, now);
	fetch |= heartbeat(c, now);
	if (pass && c->ctx.user.type == PRINCIPAL_CUSTOMER)
		fetch |= sweep(c, now);
	if (delivery_pump(c->delivery, fetch) == -1 ||
	    outq_flush(c->out, now) == -1)
		return -1;
	delivery_written(c->delivery, now);
	if (delivery_tick(c->delivery, now) == -1 ||
	    check_alive(c, now) == -1 || check_draining(c, now) == -1)
		return -1;
	return outq_flush(c->out, now);
}

/*
 * Hand memory back after idling: level 1 the page cache, level 2 the
 * whole database connection; and at both the free pages of the heap and
 * the stack below this frame (a deep call once, pages kept for good).
 */
static void
release_memory(struct conn *c, int level)
{
	long page = sysconf(_SC_PAGESIZE);
	uintptr_t here = (uintptr_t)&page & ~((uintptr_t)page - 1);
	size_t span = 256 * 1024;

	if (level < 2 || db_sleep(c->ctx.db) == -1)
		db_release(c->ctx.db);
	malloc_trim(0);
	/*
	 * Nothing lives below this frame but the red zone under it: two pages
	 * of margin. Where the range runs past the stack's mapping madvise()
	 * says ENOMEM, having freed what is mapped.
	 */
	(void)madvise((void *)(here - span), span - 2 * (size_t)page,
	    MADV_DONTNEED);
}

/* How the connection ended once read_input returned rc (1 or -1). */
static enum end
input_ended(struct conn *c, int rc)
{
	if (rc == -1 && outq_overflowed(c->out))
		slow_consumer(c, "its answers passed the queue's limit");
	if (rc == -1 || outq_reader_gone(c->out))
		return END_OTHER;
	/* Reading the kernel's socket table costs: only when it decides something. */
	if (!delivery_end_matters(c->delivery))
		return END_CLIENT_LEFT;
	return peer_state() == PEER_RESET ? END_RESET : END_CLIENT_LEFT;
}

/*
 * A signal ended the loop. websocketd signals a handler that did not exit
 * once its input closed (within 100 ms): on a busy machine the end of the
 * input may still be unread, and it tells how the client left.
 */
static enum end
signalled(struct conn *c)
{
	struct pollfd in = { .fd = STDIN_FILENO, .events = POLLIN };
	int rc, rounds;

	/* What is left to read is bounded: stop at the end, or after a while. */
	for (rounds = 0; rounds < 64 && poll(&in, 1, 0) == 1; rounds++)
		if ((rc = read_input(c, clock_now_ms())) != 0)
			return input_ended(c, rc);
	return END_OTHER;
}

static enum end
run(struct conn *c)
{
	struct pollfd fds[3] = {
		{ .fd = STDIN_FILENO, .events = POLLIN },
		{ .fd = c->wake_fd, .events = POLLIN },
		{ .fd = STDOUT_FILENO, .events = 0 },
	};
	int64_t every = (int64_t)c->ctx.cfg.presence_stale * 1000 / 3;
	int64_t safety = every < SAFETY_MS ? every : SAFETY_MS;
	int64_t now = clock_now_ms(), next_pass = now + safety;
	int64_t next_check = now + RECHECK_MS;
	int64_t checked_expiry = 0;	/* the expiry time last looked up at */
	int64_t worked_at = now;	/* the last round that was not idle */
	int64_t quiet_at;
	int fetch = 1, check = 0, pass, rc, n, ms, released = 0;

	while (!stopping) {
		now = clock_now_ms();
		if ((pass = now >= next_pass)) {
			fetch = 1;
			next_pass = now + safety;
		}
		if (now >= next_check || (now >= c->ctx.who.expires_at &&
		    checked_expiry != c->ctx.who.expires_at)) {
			checked_expiry = c->ctx.who.expires_at;
			check = 1;
			next_check = now + RECHECK_MS;
		}
		if (tend(c, fetch, check, pass, now) == -1)
			return END_OTHER;
		fds[2].events = outq_pending(c->out) > 0 ? POLLOUT : 0;
		ms = sleep_ms(c, next_pass, next_check);
		/* The next step of the release, when it comes before the timers. */
		quiet_at = released == 2 ? INT64_MAX : worked_at +
		    (released == 0 ? QUIET_MS : DORMANT_MS);
		if (quiet_at - now < ms)
			ms = quiet_at > now ? (int)(quiet_at - now) : 0;
		if ((n = poll(fds, 3, ms)) == -1) {
			if (errno != EINTR)
				return END_OTHER;
			continue;	/* the revents are last round's */
		}
		now = clock_now_ms();
		if (n == 0 && now >= quiet_at) {
			release_memory(c, ++released);
			if (released == 2) {
				next_pass = max_ms(next_pass,
				    now + DORMANT_PASSES * safety);
				next_check = max_ms(next_check,
				    now + DORMANT_PASSES * safety);
			}
		} else {		/* input, a wake-up or a timer: work to do */
			worked_at = now;
			released = 0;
		}
		fetch = check = 0;
		if (n > 0 && (fds[2].revents & POLLERR))
			return END_OTHER;	/* websocketd is gone */
		if ((fds[1].revents & POLLIN) && drain_wakes(c, &fetch, &check) == -1)
			return END_OTHER;
		if ((fds[0].revents & (POLLIN | POLLHUP | POLLERR)) &&
		    (rc = read_input(c, clock_now_ms())) != 0)
			return input_ended(c, rc);
	}
	return signalled(c);
}

/* More connections on this token than allowed, counting this one? */
static int
over_cap(struct conn *c)
{
	long open = 0;

	if (relay_token_connections(c->ctx.relay, c->ctx.who.token_id,
	    &open) == -1)
		return 0;	/* the authorizer counted too; let it be */
	return open > c->ctx.cfg.ws_max_per_token;
}

/* The user's name into ctx->name, for their acks. Returns 0 or -1. */
static int
load_name(struct ws_ctx *ctx)
{
	struct customer *cu;
	struct agent a;
	int rc = -1;

	if (ctx->user.type == PRINCIPAL_AGENT) {
		if (agent_get(ctx->db, ctx->user.id, &a) == AGENT_OK) {
			snprintf(ctx->name, sizeof(ctx->name), "%s",
			    a.display_name);
			rc = 0;
		}
	} else if ((cu = malloc(sizeof(*cu))) != NULL) {
		if (customer_get(ctx->db, ctx->user.id, cu) == CUSTOMER_OK) {
			snprintf(ctx->name, sizeof(ctx->name), "%s", cu->name);
			rc = 0;
		}
		free(cu);
	}
	if (rc == -1)
		log_msg(LOG_ERROR, NULL, "the connection's user: %s",
		    db_errmsg(ctx->db));
	return rc;
}

/* Check the token, register the connection and listen for wake-ups. */
static int
start(struct conn *c, char *token, size_t tokensz)
{
	struct ws_ctx *ctx = &c->ctx;
	char err[512];

	query_param(getenv("QUERY_STRING"), "token", token, tokensz);
	c->token = token;
	if (token[0] == '\0')
		return refuse(ERROR_MISSING_TOKEN, "token parameter is missing");
	if ((ctx->db = db_open(&ctx->cfg, DB_SMALL, err, sizeof(err))) == NULL) {
		log_msg(LOG_ERROR, NULL, "%s", err);
		return refuse(ERROR_INTERNAL, "internal error");
	}
	switch (token_verify(ctx->db, token, TOKEN_ACCESS, clock_now_ms(),
	    &ctx->who)) {
	case TOKEN_OK:
		break;
	case TOKEN_INVALID:
		return refuse(ERROR_TOKEN_EXPIRED,
		    "Token is invalid or expired, please obtain a new one");
	default:
		return refuse(ERROR_INTERNAL, "internal error");
	}
	ctx->user.type = ctx->who.principal;
	ctx->user.id = ctx->who.principal_id;
	if (load_name(ctx) == -1)
		return refuse(ERROR_INTERNAL, "internal error");
	if ((ctx->relay = relay_new(ctx->db, ctx->cfg.presence_stale)) == NULL ||
	    (c->wake_fd = wake_listen(relay_instance(ctx->relay), c->wake_name,
	    sizeof(c->wake_name))) == -1 ||
	    relay_connect(ctx->relay, &ctx->user, ctx->who.token_id,
	    c->wake_name, getpid(), client_address(), clock_now_ms(),
	    &ctx->conn_id) == -1) {
		log_msg(LOG_ERROR, NULL, "connection setup: %s", db_errmsg(ctx->db));
		return refuse(ERROR_INTERNAL, "internal error");
	}
	relay_set_self(ctx->relay, c->wake_name);
	snprintf(ctx->log_id, sizeof(ctx->log_id), "conn-%lld",
	    (long long)ctx->conn_id);
	/* Two handshakes at once both passed the authorizer's count. */
	if (over_cap(c))
		return refuse(ERROR_RATE_LIMITED, "too many connections on this "
		    "token; close some first");
	log_msg(LOG_DEBUG, ctx->log_id, "%s %lld connected from %s; SQLite "
	    "holds %lld bytes", ctx->user.type == PRINCIPAL_AGENT ? "agent" :
	    "customer", (long long)ctx->user.id, client_address(),
	    (long long)sqlite3_memory_used());
	return 0;
}

/* The modules that own the connection's state, once it is set up. */
static int
modules_new(struct conn *c)
{
	int64_t now = clock_now_ms();

	if ((c->out = outq_new(STDOUT_FILENO, (size_t)c->ctx.cfg.ws_queue_max)) ==
	    NULL || (c->delivery = delivery_new(&c->ctx, c->out)) == NULL ||
	    (c->frames = frames_new(&c->ctx, c->out, c->delivery)) == NULL ||
	    framer_init(&c->in, WS_FRAME_MAX) == -1)
		return -1;
	c->heard_at = now;
	/* Connections made together do not beat together: a random phase. */
	c->beat_at = now - (int64_t)randombytes_uniform(
	    (uint32_t)c->ctx.cfg.presence_stale * 1000 / 3);
	return 0;
}

static void
conn_free(struct conn *c)
{
	if (c->ctx.conn_id != 0)
		relay_disconnect(c->ctx.relay, &c->ctx.user, c->ctx.conn_id,
		    clock_now_ms());
	if (c->wake_fd != -1)
		close(c->wake_fd);
	frames_free(c->frames);
	delivery_free(c->delivery);
	outq_free(c->out);
	framer_free(&c->in);
	relay_free(c->ctx.relay);
	db_close(c->ctx.db);
	free(c);
}

int
main(void)
{
	struct sigaction sa;
	struct conn *c;
	char err[512], token[512];
	enum end how;
	int rc = 1;

	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = on_signal;
	sigaction(SIGTERM, &sa, NULL);
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGHUP, &sa, NULL);
	signal(SIGPIPE, SIG_IGN);
	if ((c = calloc(1, sizeof(*c))) == NULL)
		return refuse(ERROR_INTERNAL, "out of memory");
	c->wake_fd = -1;
	if (config_load(&c->ctx.cfg, err, sizeof(err)) == -1) {
		log_msg(LOG_ERROR, NULL, "chat-ws: %s", err);
		rc = refuse(ERROR_INTERNAL, "internal error");
		goto out;
	}
	log_init("chat-ws", c->ctx.cfg.log_level, c->ctx.cfg.log_file);
	if (sodium_init() < 0) {
		rc = refuse(ERROR_INTERNAL, "internal error");
		goto out;
	}
	if ((rc = start(c, token, sizeof(token))) != 0)
		goto out;
	if (modules_new(c) == -1) {
		rc = refuse(ERROR_INTERNAL, "out of memory");
		goto out;
	}
	how = run(c);
	delivery_end(c->delivery, how == END_CLIENT_LEFT, clock_now_ms());
	log_msg(LOG_DEBUG, c->ctx.log_id, "ended: %s", how == END_CLIENT_LEFT ?
	    "the client left" : how == END_RESET ? "reset with frames unread" :
	    "by the server");
	rc = how != END_OTHER || stopping ? 0 : 1;
	log_msg(LOG_DEBUG, c->ctx.log_id, "closed");
out:
	conn_free(c);
	sodium_memzero(token, sizeof(token));
	return rc;
}
