/*
 * wsload: the WebSocket load generator of bench/ws-run. One thread, one
 * epoll loop, non-blocking sockets and a minimal RFC 6455 client (masked
 * text frames out; text, fragmented, ping and close frames in), plus a
 * small blocking HTTP/1.1 client for the REST calls that set a run up.
 *
 *   wsload echo       --port P [--conns 50] [--seconds 10] [--window 16]
 *   wsload latency    --port P [--pairs 50] [--rate 100] [--seconds 10]
 *   wsload throughput --port P [--pairs 50] [--seconds 10] [--window 16]
 *   wsload hold       --port P [--conns 3000] [--idle-seconds 10] [--echo]
 *   wsload connect    --port P [--seconds 5] [--concurrency 16] [--echo]
 *   wsload loss       --port P [--seconds 600]
 *   wsload offline    --port P --token T   (one user: time to offline_messages_complete)
 *
 * latency, throughput and loss also take --agents-password [password123]
 * and --agent-prefix [bench]: the agents PREFIX1..PREFIXN must exist (loss
 * uses two). Every timed mode takes --warmup [1]: seconds run but not
 * counted. --receipts (a flag, every mode but echo) makes each connection
 * a client that sends delivery receipts and answers the server's pings,
 * as www/js/chat-client.js does; latency and throughput then connect the
 * agents again at the end and count what they are offered once more
 * (they do so without --receipts too). loss measures a silent network
 * loss of an agent through a relay of its own (wsload-loss.c), always
 * with receipts; --seconds bounds the wait after the loss.
 *
 * --echo (a flag, hold and connect) runs the mode against a bare
 * websocketd with bench/echo-handler, the floor of what any handler
 * costs: no REST calls and no tokens, each connection goes to --path [/]
 * and is ready once open. hold's liveness ping is then {"type":"pong"},
 * which the echo sends back as the answer; connect sends
 * {"type":"offline_messages_complete","count":0} once open and counts the
 * connection when its echo comes back, as it counts the chat's
 * offline_messages_complete. --receipts does nothing with it. The "key
 * value" lines are the same as without it.
 *
 * Results go to standard output as "key value" lines, for scripts;
 * progress, a one-line summary and problems go to standard error.
 */
#include <errno.h>
#include <signal.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/resource.h>

#include <sodium.h>

#include "wsload.h"

/* Every option but a flag takes a value; a number outside min..max is refused. */
enum opt_kind { OPT_INT, OPT_REAL, OPT_TEXT, OPT_FLAG };

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
	{ "--token", OPT_TEXT, offsetof(struct opts, token), 0, 0 },
	{ "--receipts", OPT_FLAG, offsetof(struct opts, receipts), 0, 0 },
	{ "--echo", OPT_FLAG, offsetof(struct opts, echo), 0, 0 },
};

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
	{ "offline", run_offline },
	{ "loss", run_loss },
};

static void
usage(void)
{
	fputs("usage: wsload echo|latency|throughput|hold|connect|loss|offline --port P "
	    "[--conns N] [--pairs N]\n"
	    "       [--window N] [--rate R] [--seconds S] [--warmup S] "
	    "[--idle-seconds S]\n"
	    "       [--concurrency N] [--customers N] [--agents-password PW] "
	    "[--agent-prefix P] [--path /]\n"
	    "       [--receipts] [--echo] [--token T]\n"
	    "--echo: hold and connect against a bare websocketd echo, on --path\n",
	    stderr);
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
	o->seconds = strcmp(mode, "connect") == 0 ? 5 :
	    strcmp(mode, "loss") == 0 ? 600 : 10;
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

	if (d->kind == OPT_FLAG) {
		*(int *)(void *)((char *)o + d->off) = 1;
		return 0;
	}
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

	for (i = 0; i < argc; i += opt_defs[j].kind == OPT_FLAG ? 1 : 2) {
		for (j = 0; j < sizeof(opt_defs) / sizeof(opt_defs[0]); j++)
			if (strcmp(argv[i], opt_defs[j].name) == 0)
				break;
		if (j == sizeof(opt_defs) / sizeof(opt_defs[0]) ||
		    (opt_defs[j].kind != OPT_FLAG && i + 1 >= argc)) {
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
	if (b.o.echo && m->run != run_hold && m->run != run_connect) {
		fprintf(stderr, "wsload: --echo is for hold and connect\n");
		goto out;
	}
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
