/*
 * chat-ws: one process per WebSocket connection, started by websocketd.
 * It checks the token of the query string again (a client that reached
 * websocketd directly is refused too), registers the connection, pushes
 * the offline messages, then sleeps in poll() on standard input and its
 * wake-up socket until the client leaves or the token stops working.
 */
#include <errno.h>
#include <malloc.h>
#include <poll.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <sodium.h>

#include "handler.h"
#include "../lib/clock.h"
#include "../lib/log.h"
#include "../lib/query.h"
#include "../lib/session.h"
#include "../lib/wake.h"
#include "../lib/wire.h"

/*
 * Deliveries are read at least this often even without a wake-up: only a
 * writer killed between its commit and its wake-ups leaves one unsent.
 */
#define SAFETY_MS 15000
/*
 * What was sent is marked delivered only once the connection has lived
 * this long after sending it: a handler killed in between may have left
 * frames unsent in websocketd's pipe, and those must stay offline messages.
 */
#define MARK_AFTER_MS 1000
/* The token is looked up again at least this often. */
#define RECHECK_MS 30000
#define FETCH_BATCH 100

static volatile sig_atomic_t stopping;

static void
on_signal(int sig)
{
	(void)sig;
	stopping = 1;
}

int
conn_send(struct conn *c, json_t *frame)
{
	char *text = json_dumps(frame, JSON_COMPACT);
	int rc = -1;

	(void)c;
	if (text != NULL && fputs(text, stdout) != EOF &&
	    fputc('\n', stdout) != EOF)
		rc = 0;
	free(text);
	return rc;
}

int
conn_send_error(struct conn *c, enum error_code code,
    const char *client_msg_id, const char *fmt, ...)
{
	char message[512];
	json_t *frame;
	va_list ap;
	int rc;

	va_start(ap, fmt);
	vsnprintf(message, sizeof(message), fmt, ap);
	va_end(ap);
	if ((frame = error_frame_new(code, message, client_msg_id)) == NULL)
		return -1;
	rc = conn_send(c, frame);
	json_decref(frame);
	return rc;
}

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

/* Send an item: a message (unless it is this connection's own) or a session. */
static int
send_item(const struct relay_item *item, void *arg)
{
	struct conn *c = arg;
	int64_t origin = 0;
	struct session s;
	json_t *frame = NULL;
	int rc = 0;

	c->cursor = item->id;
	if (item->message_id > 0) {
		if (message_get(c->db, item->message_id, c->scratch, &origin) !=
		    MESSAGE_OK)
			return 0;
		if (origin == c->id)
			return 0;	/* it had its ack */
		frame = json_pack("{s:s,s:o}", "type", "message", "message",
		    wire_message(c->scratch));
	} else if (session_get(c->db, item->session_id, &s) == SESSION_OK)
		frame = json_pack("{s:s,s:o}", "type", "session", "session",
		    wire_session(&s));
	if (frame != NULL)
		rc = conn_send(c, frame);
	json_decref(frame);
	return rc;
}

/* Note that everything up to the cursor has been sent, at now. */
static void
sent_upto_cursor(struct conn *c, int64_t now)
{
	if (c->checkpoint == 0 && c->cursor > c->marked) {
		c->checkpoint = c->cursor;
		c->checkpoint_at = now;
	}
}

/*
 * Mark as delivered what was sent at least MARK_AFTER_MS ago, or with
 * all, everything sent (the client closed the connection itself).
 */
static void
mark_sent(struct conn *c, int64_t now, int all)
{
	int64_t upto = all ? c->cursor : c->checkpoint;

	if (!all && (c->checkpoint == 0 || now - c->checkpoint_at < MARK_AFTER_MS))
		return;
	if (upto > c->marked &&
	    relay_mark_delivered(c->relay, &c->user, upto) == 0)
		c->marked = upto;
	c->checkpoint = 0;
	sent_upto_cursor(c, now);
}

/* Send everything after the cursor, read in one snapshot. */
static int
deliver(struct conn *c)
{
	int n;

	if (db_begin_read(c->db) == -1)
		return -1;
	do
		n = relay_fetch(c->relay, &c->user, c->cursor, FETCH_BATCH, 0,
		    send_item, c);
	while (n == FETCH_BATCH);
	db_end_read(c->db);
	if (n == -1 || fflush(stdout) == EOF)
		return -1;
	sent_upto_cursor(c, clock_now_ms());
	return 0;
}

/* The offline pass: how far it got and how many it sent. */
struct offline {
	struct conn *c;
	int64_t first, last;
	json_int_t count;
};

/* One offline message, as the contract's offline_message frame. */
static int
send_offline(const struct relay_item *item, void *arg)
{
	struct offline *o = arg;
	struct conn *c = o->c;
	json_t *frame;
	int rc;

	o->last = item->id;
	if (o->first == 0)
		o->first = item->id;
	if (message_get(c->db, item->message_id, c->scratch, NULL) != MESSAGE_OK)
		return 0;
	frame = json_pack("{s:s,s:o}", "type", "offline_message", "message",
	    wire_message(c->scratch));
	rc = frame != NULL ? conn_send(c, frame) : -1;
	json_decref(frame);
	o->count += rc == 0;
	return rc;
}

/*
 * Every message no connection of this user has had, oldest first, then
 * offline_messages_complete. The cursor and the offline set are read in
 * one snapshot, so what commits later arrives live, and once.
 */
static int
push_offline(struct conn *c)
{
	struct offline o = { c, 0, 0, 0 };
	json_t *done;
	int n = 0, rc;

	if (db_begin_read(c->db) == -1)
		return -1;
	rc = relay_cursor(c->relay, &c->user, &c->cursor);
	c->marked = c->cursor;
	while (rc == 0 && (n = relay_fetch(c->relay, &c->user, o.last,
	    FETCH_BATCH, 1, send_offline, &o)) == FETCH_BATCH)
		;
	if (n == -1)
		rc = -1;
	db_end_read(c->db);
	if (rc == -1)
		return -1;
	done = json_pack("{s:s,s:I}", "type", "offline_messages_complete",
	    "count", o.count);
	rc = done != NULL ? conn_send(c, done) : -1;
	json_decref(done);
	if (rc == -1 || fflush(stdout) == EOF)
		return -1;
	/* The offline messages are marked like live ones, once they surely went out. */
	if (o.count > 0) {
		c->marked = o.first - 1;
		sent_upto_cursor(c, clock_now_ms());
	}
	return 0;
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

/* Whether the token still works; if not, say so and end. 0 fine, -1 end. */
static int
recheck(struct conn *c)
{
	enum token_status st = token_verify(c->db, c->token, TOKEN_ACCESS,
	    clock_now_ms(), &c->who);

	if (st == TOKEN_INVALID) {
		conn_send_error(c, ERROR_TOKEN_EXPIRED, NULL,
		    "Token is invalid or expired, please obtain a new one");
		fflush(stdout);
		log_msg(LOG_INFO, c->log_id, "token expired or revoked; closing");
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

	while ((n = wake_recv(c->wake_fd, buf, sizeof(buf) - 1)) > 0) {
		if (buf[0] == WAKE_DELIVER)
			*fetch = 1;
		else if (buf[0] == WAKE_RECHECK)
			*check = 1;
		else if (buf[0] == WAKE_END) {
			/* The client reconnects, to the database now in place. */
			log_msg(LOG_INFO, c->log_id, "the database was restored; closing");
			return -1;
		}
		else if (buf[0] == WAKE_TYPING && n > 1) {
			buf[n] = '\0';
			if (fputs(buf + 1, stdout) == EOF || fputc('\n', stdout) == EOF)
				return -1;
		}
	}
	return n == -1 ? -1 : 0;
}

/*
 * Split what came in on standard input into lines and handle each.
 * Returns 0, 1 when the client has left, -1 on an error.
 */
static int
read_input(struct conn *c)
{
	ssize_t n = read(STDIN_FILENO, c->in + c->inlen, HANDLER_LINE_MAX - c->inlen);
	char *nl;
	size_t len;

	if (n == 0)
		return 1;
	if (n == -1)
		return errno == EINTR || errno == EAGAIN ? 0 : -1;
	c->inlen += (size_t)n;
	while ((nl = memchr(c->in, '\n', c->inlen)) != NULL) {
		len = (size_t)(nl - c->in);
		if (!c->discarding && len > 0 && frames_handle(c, c->in, len) == -1)
			return -1;
		c->discarding = 0;
		memmove(c->in, nl + 1, c->inlen - len - 1);
		c->inlen -= len + 1;
	}
	if (frames_flush(c) == -1)
		return -1;
	if (c->inlen == HANDLER_LINE_MAX) {
		if (!c->discarding && conn_send_error(c, ERROR_INVALID_REQUEST,
		    NULL, "frame is larger than %d bytes", HANDLER_LINE_MAX) == -1)
			return -1;
		c->discarding = 1;
		c->inlen = 0;
	}
	return fflush(stdout) == EOF ? -1 : 0;
}

/* Milliseconds poll() may sleep: until the next safety pass or the token's expiry. */
static int
sleep_ms(const struct conn *c, int64_t next_pass)
{
	int64_t now = clock_now_ms(), until = next_pass;

	if (c->who.expires_at < until)
		until = c->who.expires_at;
	if (c->checkpoint != 0 && c->checkpoint_at + MARK_AFTER_MS < until)
		until = c->checkpoint_at + MARK_AFTER_MS;
	return until <= now ? 0 : (int)(until - now);
}

static int
run(struct conn *c)
{
	struct pollfd fds[2] = {
		{ .fd = STDIN_FILENO, .events = POLLIN },
		{ .fd = c->wake_fd, .events = POLLIN },
	};
	int64_t now, next_pass = clock_now_ms() + SAFETY_MS;
	int64_t next_check = clock_now_ms() + RECHECK_MS;
	int fetch, check, rc, n, worked = 0;

	while (!stopping) {
		if ((n = poll(fds, 2, sleep_ms(c, next_pass))) == -1 && errno != EINTR)
			return -1;
		/* Quiet now: hand back what a burst of work made the heap grow by. */
		if (n == 0 && worked) {
			malloc_trim(0);
			worked = 0;
		}
		worked |= n > 0;
		now = clock_now_ms();
		fetch = check = 0;
		if ((fds[1].revents & POLLIN) && drain_wakes(c, &fetch, &check) == -1)
			return -1;
		if ((fds[0].revents & (POLLIN | POLLHUP | POLLERR)) &&
		    (rc = read_input(c)) != 0) {
			/*
			 * The client is gone, or websocketd is: frames written in
			 * the last moment may never have left its pipe, so only
			 * what went out MARK_AFTER_MS ago counts as delivered.
			 */
			if (rc == 1)
				mark_sent(c, now, 0);
			return rc == 1 ? 0 : -1;
		}
		if (now >= next_pass) {
			fetch = 1;
			next_pass = now + SAFETY_MS;
		}
		if (now >= next_check || now >= c->who.expires_at) {
			check = 1;
			next_check = now + RECHECK_MS;
		}
		if (check && recheck(c) == -1)
			return 0;
		if (fetch && deliver(c) == -1)
			return -1;
		if (fflush(stdout) == EOF)
			return -1;
		mark_sent(c, clock_now_ms(), 0);
	}
	return 0;
}

/* Check the token, register the connection and listen for wake-ups. */
static int
start(struct conn *c, char *token, size_t tokensz)
{
	char err[512];

	query_param(getenv("QUERY_STRING"), "token", token, tokensz);
	c->token = token;
	if (token[0] == '\0')
		return refuse(ERROR_MISSING_TOKEN, "token parameter is missing");
	if ((c->db = db_open(&c->cfg, DB_SMALL, err, sizeof(err))) == NULL) {
		log_msg(LOG_ERROR, NULL, "%s", err);
		return refuse(ERROR_INTERNAL, "internal error");
	}
	switch (token_verify(c->db, token, TOKEN_ACCESS, clock_now_ms(), &c->who)) {
	case TOKEN_OK:
		break;
	case TOKEN_INVALID:
		return refuse(ERROR_TOKEN_EXPIRED,
		    "Token is invalid or expired, please obtain a new one");
	default:
		return refuse(ERROR_INTERNAL, "internal error");
	}
	c->user.type = c->who.principal;
	c->user.id = c->who.principal_id;
	if ((c->relay = relay_new(c->db)) == NULL ||
	    (c->wake_fd = wake_listen(relay_instance(c->relay), c->wake_name,
	    sizeof(c->wake_name))) == -1 ||
	    relay_connect(c->relay, &c->user, c->wake_name, getpid(),
	    client_address(), clock_now_ms(), &c->id) == -1) {
		log_msg(LOG_ERROR, NULL, "connection setup: %s", db_errmsg(c->db));
		return refuse(ERROR_INTERNAL, "internal error");
	}
	relay_set_self(c->relay, c->wake_name);
	snprintf(c->log_id, sizeof(c->log_id), "conn-%lld", (long long)c->id);
	log_msg(LOG_DEBUG, c->log_id, "%s %lld connected from %s; SQLite "
	    "holds %lld bytes", c->user.type == PRINCIPAL_AGENT ? "agent" :
	    "customer", (long long)c->user.id, client_address(),
	    (long long)sqlite3_memory_used());
	return 0;
}

int
main(void)
{
	struct sigaction sa;
	struct conn *c;
	char err[512], token[512];
	int rc = 1;

	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = on_signal;
	sigaction(SIGTERM, &sa, NULL);
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGHUP, &sa, NULL);
	signal(SIGPIPE, SIG_IGN);
	/* malloc, not calloc: the big buffers cost memory only where written. */
	if ((c = calloc(1, sizeof(*c))) == NULL ||
	    (c->scratch = malloc(sizeof(*c->scratch))) == NULL ||
	    (c->in = malloc(HANDLER_LINE_MAX + 1)) == NULL)
		return refuse(ERROR_INTERNAL, "out of memory");
	c->wake_fd = -1;
	if (config_load(&c->cfg, err, sizeof(err)) == -1) {
		log_msg(LOG_ERROR, NULL, "chat-ws: %s", err);
		rc = refuse(ERROR_INTERNAL, "internal error");
		goto out;
	}
	frames_start(c);
	log_init("chat-ws", c->cfg.log_level, c->cfg.log_file);
	if (sodium_init() < 0) {
		rc = refuse(ERROR_INTERNAL, "internal error");
		goto out;
	}
	if ((rc = start(c, token, sizeof(token))) != 0)
		goto out;
	rc = 1;
	if (push_offline(c) == 0) {
		/* Setting up used pages the idle connection does not need. */
		malloc_trim(0);
		rc = run(c) == 0 ? 0 : 1;
	}
	log_msg(LOG_DEBUG, c->log_id, "closed");
out:
	if (c != NULL && c->id != 0)
		relay_disconnect(c->relay, c->id);
	if (c != NULL) {
		if (c->wake_fd != -1)
			close(c->wake_fd);
		relay_free(c->relay);
		db_close(c->db);
		free(c->scratch);
		free(c->in);
	}
	free(c);
	sodium_memzero(token, sizeof(token));
	return rc;
}
