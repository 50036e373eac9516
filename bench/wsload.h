#ifndef CHAT_WSLOAD_H
#define CHAT_WSLOAD_H

#include <stddef.h>
#include <stdint.h>

/*
 * wsload, the WebSocket load generator of bench/ws-run: one thread, one
 * epoll loop, non-blocking sockets (usage at the top of wsload.c).
 *   wsload.c        options and main
 *   wsload-modes.c  echo, latency, throughput, hold, connect
 *   wsload-loss.c   loss: a silent network loss of an agent, through the relay
 *   wsload-run.c    the loop, the slots, messages sent and counted, samples
 *   wsload-conn.c   one WebSocket connection: connect, upgrade, frames
 *   wsload-receipts.c  delivery receipts and the answer to the server's ping
 *   wsload-relay.c  a loopback TCP relay that can stop relaying
 *   wsload-io.c     clocks, buffers, sockets, the blocking REST client
 */

#define NS_PER_S	1000000000LL
#define NS_PER_MS	1000000LL
#define TOKEN_MAX	128		/* a token, NUL included; ours are 43 */
#define READ_CHUNK	8192

/* The command line's options (opt_defs in wsload.c); defaults by mode. */
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
	const char *path;	/* echo, --echo: the URL path */
	int receipts;		/* --receipts: confirm what arrives, answer pings */
	int echo;		/* --echo: hold, connect against a bare echo */
	const char *token;	/* offline: the user's access token */
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
	CONN_CLOSING, CONN_CLOSED };
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
	int port;		/* where to connect; 0: the server's (--port) */
	long offline;		/* offline_message frames on this connection */
	/* Receipts (--receipts), as www/js/chat-delivery.js keeps them. */
	int64_t rc_seen;	/* the highest seq this connection was given */
	int rc_unconfirmed;	/* frames with a seq since the last receipt */
	int64_t rc_since;	/* when the first of them came, ns */
	int64_t rc_sent_at;	/* when the last receipt went, ns */
	int64_t rc_due;		/* when the next one goes, ns; 0: none waits */
	int64_t said_at;	/* our last receipt or pong, ns; 0: none */
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
	/* The handshake was answered: 0, or -1 when the connection is gone. */
	int (*on_open)(struct conn *);
	int64_t (*tick)(struct bench *, int64_t);
	/* An epoll event of something not a slot (the relay's sockets). */
	void (*on_event)(struct bench *, void *, uint32_t);
	int64_t receipt_next;	/* the earliest rc_due of any slot; 0: none */
	int ready_on_open;	/* echo, --echo: no offline_messages_complete */
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
	long receipts_sent, pings_answered, seq_missing, offline;
};

/* wsload-io.c */

/* The time on CLOCK_MONOTONIC, ns. */
int64_t now_ns(void);

/* The time on CLOCK_MONOTONIC seconds from now, ns. */
int64_t after_s(double seconds);

/* CPU time this process used, ns. */
int64_t cpu_ns(void);

/* Room for more bytes after len, and a NUL. Returns 0, or -1 out of memory. */
int buf_reserve(struct buf *b, size_t more);

/* Append len bytes and a NUL. Returns 0, or -1 out of memory (b unchanged). */
int buf_append(struct buf *b, const void *data, size_t len);

/* Drop the first n (<= len) bytes. */
void buf_consume(struct buf *b, size_t n);

/* Free b's bytes and leave it empty, ready for use again. */
void buf_free(struct buf *b);

/*
 * A TCP connection to 127.0.0.1:port with TCP_NODELAY, connected, or
 * connecting if nonblock. Returns the descriptor (the caller closes it),
 * or -1.
 */
int tcp_connect(int port, int nonblock);

/*
 * Log agent PREFIXi (o->prefix, o->password) in over REST; its token goes
 * to token (TOKEN_MAX bytes), its id to *agent_id unless NULL. Returns 0,
 * or -1, said on standard error but when out of memory.
 */
int rest_login(const struct opts *o, int i, char *token, int64_t *agent_id);

/*
 * Open a session over REST for the customer of token. On 0, its id and
 * its agent's are in the outputs id and agent_id. Returns -1 with no
 * session.
 */
int rest_session(int port, const char *token, int64_t *id, int64_t *agent_id);

/* Close session id as the participant of token. Returns 0, or -1 (said). */
int rest_close(int port, const char *token, int64_t id);

/*
 * Customers first..first+count-1 over REST, their tokens into b's.
 * Returns 0, or -1 after saying why on standard error.
 */
int rest_customers(struct bench *b, int first, int count);

/* wsload-conn.c */

/*
 * Start connecting slot c, with c->token if not NULL (else to b's --path).
 * Returns 0, or -1 (counted as a failure, the slot closed).
 */
int conn_open(struct conn *c);

/* Act on what epoll said of c; a connection that fails is lost (conn_lost). */
void conn_event(struct conn *c, uint32_t events);

/*
 * Queue one masked frame and try to send it. Returns 0, or -1 when the
 * connection is gone (the caller calls conn_lost).
 */
int ws_send(struct conn *c, int opcode, const char *data, size_t len);

/* Forget the socket; the slot's buffers stay for its next connection. */
void conn_close(struct conn *c);

/* Our own end of a connection: a close frame, then the socket. */
void conn_close_polite(struct conn *c);

/*
 * Our own end as a browser makes it: a close frame, then the socket once
 * the server answered with its own close frame or closed (CONN_CLOSING
 * until then; data frames that still come are not handled).
 */
void conn_close_clean(struct conn *c);

/*
 * A connection that ended without us: counted failed before it was ready,
 * dropped after, and closed. A no-op on a slot not in use.
 */
void conn_lost(struct conn *c);

/* Whether the frame's "type" is type: the server writes that key first. */
int is_type(const char *text, const char *type);

/* wsload-receipts.c */

/*
 * Receipts as www/js/chat-delivery.js sends them: {"type":"received",
 * "seq":N} for the highest seq seen, once frames paused RECEIPT_QUIET_MS,
 * after RECEIPT_EVERY frames, or RECEIPT_LATEST_MS after the first
 * unconfirmed one, and never sooner than RECEIPT_GAP_MS after the last.
 */

/* A new connection: nothing seen, nothing owed. */
void receipts_reset(struct conn *c);

/*
 * A frame that carries a seq was handled: a receipt follows in a while.
 * Returns 0, or -1 when the connection is gone.
 */
int receipt_saw(struct conn *c, const char *text, int64_t now);

/*
 * Confirm what c has seen now (with force even when nothing is new, as at
 * offline_messages_complete). Returns 0, or -1 when the connection is gone.
 */
int receipt_flush(struct conn *c, int64_t now, int force);

/* Answer the server's liveness ping. Returns 0, or -1 when gone. */
int receipt_pong(struct conn *c, int64_t now);

/* Send every receipt that is due; returns when the next one is, or INT64_MAX. */
int64_t receipts_tick(struct bench *b, int64_t now);

/* wsload-relay.c */

/*
 * A loopback TCP relay for one connection: it listens on a port of its
 * own on 127.0.0.1 and passes bytes both ways between the one client it
 * accepts and the server, until proxy_hole() makes it stop: from then on
 * it reads and writes nothing and keeps both sockets open, as a network
 * that went away silently (no FIN, no RST). It only watches, without
 * reading, when the server sends more and when it closes its end.
 */
struct proxy;

/* Listen for one client to relay to 127.0.0.1:target; NULL after saying why. */
struct proxy *proxy_new(struct bench *b, int target);

/* The port the relay listens on. */
int proxy_port(const struct proxy *p);

/* For b->on_event: an event of one of the relay's sockets. */
void proxy_event(struct bench *b, void *end, uint32_t events);

/* Whether a client is connected and relayed. */
int proxy_linked(const struct proxy *p);

/* Stop relaying. */
void proxy_hole(struct proxy *p);

/*
 * After the hole: when the server first sent more (0: not yet), how many
 * times it did, and when it closed its end (0: not yet); ns.
 */
int64_t proxy_server_sent(const struct proxy *p, long *times);
int64_t proxy_server_closed(const struct proxy *p);

/* Close its sockets and free it; NULL is fine. */
void proxy_free(struct proxy *p);

/* wsload-run.c */

/*
 * Run until done(b), if not NULL, says so or until deadline (ns).
 * Returns 0 when done, 1 at the deadline, -1 if epoll fails.
 */
int loop_run(struct bench *b, int (*done)(const struct bench *),
    int64_t deadline);

/* For loop_run: every connection b->expect waits for is ready or failed. */
int done_ready(const struct bench *b);

/*
 * Open slots first..first+count-1 and wait until each is ready or failed,
 * at most seconds; says on standard error how many were not. Returns 0, or
 * -1 if epoll fails.
 */
int open_and_wait(struct bench *b, int first, int count, double seconds);

/*
 * Give b nconns idle slots and ntokens empty tokens (none if 0), which
 * bench_free frees, after -1 too. Returns 0, or -1 after saying so.
 */
int bench_alloc(struct bench *b, int nconns, int ntokens);

/* Close b's sockets and epoll and free what b holds, not b itself. */
void bench_free(struct bench *b);

/* End every connection still in use, politely. */
void close_all(struct bench *b);

/*
 * End every connection still in use with the closing handshake, waiting
 * at most seconds for the server's answers. Returns 0, or -1 if epoll fails.
 */
int close_all_clean(struct bench *b, double seconds);

/* Add a sample; one lost to a full memory does not stop the run. */
void samples_add(struct samples *s, int64_t v);

/* qsort's order of int64_t. */
int cmp_i64(const void *a, const void *b);

/* The nearest-rank percentile of sorted samples, in ms; 0 with none. */
double samples_ms(const struct samples *s, double pct);

/*
 * Send one chat message, its send time (CLOCK_MONOTONIC ns) in the text:
 * the receiver, this same process, takes the latency from it. Echo sends
 * the same frame, so both runs move the same bytes. Returns 0, or -1 when
 * the connection is gone.
 */
int send_message(struct conn *c);

/*
 * While b is sending, send on c until --window messages are in flight.
 * Returns 0, or -1 when the connection is gone.
 */
int fill_window(struct conn *c);

/* The send time written in a message's text by send_message(); 0 if none. */
int64_t sent_at(const char *text);

/* A message arrived: count it in the window; its latency if sent in it. */
void count_delivery(struct bench *b, const char *text, int64_t now);

/* Start the counted window after the warm-up; the senders stop at its end. */
void window_start(struct bench *b);

/* Print what every timed mode reports; this sorts b's samples. */
void report_common(struct bench *b, int64_t cpu);

/* wsload-modes.c */

/*
 * Run one mode on b (options set, epoll ready) and print its results.
 * Returns 0, or -1 when the run could not be made.
 */
int run_echo(struct bench *b);
int run_latency(struct bench *b);
int run_throughput(struct bench *b);
int run_hold(struct bench *b);
int run_connect(struct bench *b);
int run_offline(struct bench *b);

/* wsload-loss.c */
int run_loss(struct bench *b);

#endif
