#ifndef CHAT_SERVE_H
#define CHAT_SERVE_H

#include <stddef.h>

/*
 * Where a FastCGI program's requests come from. Spawned by the web server
 * (lighttpd's bin-path), its listening socket is standard input. Web
 * servers that do not spawn FastCGI programs (Apache's mod_proxy_fcgi and
 * mod_authnz_fcgi, a lighttpd without bin-path) need the program to listen
 * itself: with --listen it opens the socket, and a small supervisor keeps
 * --procs worker processes serving it, starting a new one when one dies.
 */
struct serve_opts {
	const char *listen;	/* NULL: standard input; else a path or HOST:PORT */
	int procs;		/* workers with --listen */
};

#define SERVE_PROCS_DEFAULT 4
#define SERVE_PROCS_MAX 64

/*
 * Read the command line: [--listen ADDR] [--procs N]. Returns 0, or -1
 * with a one-line reason in err (caller's buffer).
 */
int serve_parse(int argc, char **argv, struct serve_opts *o, char *err,
    size_t errsz);

/*
 * Serve: without --listen, worker(0, arg) in this process; with it, open
 * the socket and run o->procs processes of worker(fd, arg), each with its
 * own resources (open the database inside worker), until SIGTERM or
 * SIGINT, or until workers keep dying as soon as they start. Returns the
 * process's exit status; err (caller's buffer) says why on non-zero.
 */
int serve_run(const struct serve_opts *o, int (*worker)(int fd, void *arg),
    void *arg, char *err, size_t errsz);

/*
 * The whole main of a FastCGI program: the options above, the settings
 * (CHAT_*, refused with a logged reason), the log under program's name,
 * libsodium, then serve_run with worker(fd, cfg), cfg the settings as a
 * struct config. Returns the exit status: 2 for bad options (one line on
 * standard error), 1 for a failure to start.
 */
int serve_main(int argc, char **argv, const char *program,
    int (*worker)(int fd, void *cfg));

#endif
