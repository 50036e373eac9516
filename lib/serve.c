#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <fcgiapp.h>
#include <sodium.h>

#include "clock.h"
#include "config.h"
#include "log.h"
#include "serve.h"

#define LISTEN_BACKLOG 256
/* A worker that dies sooner than this after its start failed to start. */
#define QUICK_DEATH_MS 1000
/* So many quick deaths in a row and the supervisor gives up. */
#define QUICK_DEATHS_MAX 5

static volatile sig_atomic_t stopping;

static void
on_stop(int sig)
{
	(void)sig;
	stopping = 1;
}

int
serve_parse(int argc, char **argv, struct serve_opts *o, char *err,
    size_t errsz)
{
	char *end;
	long n;
	int i;

	o->listen = NULL;
	o->procs = SERVE_PROCS_DEFAULT;
	for (i = 1; i < argc; i++) {
		if (i + 1 >= argc || (strcmp(argv[i], "--listen") != 0 &&
		    strcmp(argv[i], "--procs") != 0)) {
			snprintf(err, errsz, "usage: %s [--listen PATH|HOST:PORT] "
			    "[--procs N]", argv[0]);
			return -1;
		}
		if (strcmp(argv[i], "--listen") == 0) {
			if (argv[i + 1][0] == '\0') {
				snprintf(err, errsz, "--listen: an empty address");
				return -1;
			}
			o->listen = argv[++i];
			continue;
		}
		errno = 0;
		n = strtol(argv[++i], &end, 10);
		if (errno != 0 || *end != '\0' || end == argv[i] || n < 1 ||
		    n > SERVE_PROCS_MAX) {
			snprintf(err, errsz, "--procs: \"%s\" is not an integer "
			    "in 1..%d", argv[i], SERVE_PROCS_MAX);
			return -1;
		}
		o->procs = (int)n;
	}
	return 0;
}

/* Start one worker; its pid, or -1. */
static pid_t
spawn(int fd, int (*worker)(int, void *), void *arg)
{
	pid_t pid = fork();

	if (pid == 0) {
		signal(SIGTERM, SIG_DFL);
		signal(SIGINT, SIG_DFL);
		_exit(worker(fd, arg));
	}
	return pid;
}

/* Wait for workers, starting new ones, until told to stop. Returns 0 or -1. */
static int
supervise(int fd, int procs, int (*worker)(int, void *), void *arg,
    pid_t *pids, int64_t *born, char *err, size_t errsz)
{
	struct timespec pause = { 1, 0 };
	int status, i, quick = 0;
	pid_t pid;

	while (!stopping) {
		if ((pid = wait(&status)) == -1) {
			if (errno == EINTR)
				continue;
			snprintf(err, errsz, "wait: %s", strerror(errno));
			return -1;
		}
		for (i = 0; i < procs && pids[i] != pid; i++)
			;
		if (i == procs || stopping)
			continue;
		log_msg(LOG_WARN, NULL, "worker %ld ended (%s %d); starting "
		    "another", (long)pid, WIFSIGNALED(status) ? "signal" :
		    "status", WIFSIGNALED(status) ? WTERMSIG(status) :
		    WEXITSTATUS(status));
		quick = clock_now_ms() - born[i] < QUICK_DEATH_MS ? quick + 1 : 0;
		if (quick >= QUICK_DEATHS_MAX) {
			snprintf(err, errsz, "workers keep ending as they start "
			    "(see the log above); giving up");
			return -1;
		}
		if (quick > 0)
			nanosleep(&pause, NULL);
		born[i] = clock_now_ms();
		pids[i] = spawn(fd, worker, arg);
	}
	return 0;
}

int
serve_run(const struct serve_opts *o, int (*worker)(int fd, void *arg),
    void *arg, char *err, size_t errsz)
{
	struct sigaction sa;
	pid_t pids[SERVE_PROCS_MAX];
	int64_t born[SERVE_PROCS_MAX];
	int fd, i, rc;

	if (o->listen == NULL)
		return worker(0, arg);
	if (FCGX_Init() != 0 ||
	    (fd = FCGX_OpenSocket(o->listen, LISTEN_BACKLOG)) == -1) {
		snprintf(err, errsz, "--listen %s: cannot listen there: %s",
		    o->listen, errno != 0 ? strerror(errno) : "bad address");
		return 1;
	}
	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = on_stop;	/* no SA_RESTART: wait() must return */
	sigaction(SIGTERM, &sa, NULL);
	sigaction(SIGINT, &sa, NULL);
	for (i = 0; i < o->procs; i++) {
		born[i] = clock_now_ms();
		pids[i] = spawn(fd, worker, arg);
	}
	rc = supervise(fd, o->procs, worker, arg, pids, born, err, errsz);
	for (i = 0; i < o->procs; i++)
		if (pids[i] > 0)
			kill(pids[i], SIGTERM);
	while (wait(NULL) > 0 || errno == EINTR)
		;
	close(fd);
	if (strchr(o->listen, ':') == NULL)
		unlink(o->listen);
	return rc == 0 ? 0 : 1;
}

int
serve_main(int argc, char **argv, const char *program,
    int (*worker)(int fd, void *cfg))
{
	struct serve_opts opts;
	struct config cfg;
	char err[512];
	int rc;

	signal(SIGPIPE, SIG_IGN);
	if (serve_parse(argc, argv, &opts, err, sizeof(err)) == -1) {
		fprintf(stderr, "%s: %s\n", program, err);
		return 2;
	}
	if (config_load(&cfg, err, sizeof(err)) == -1) {
		log_msg(LOG_ERROR, NULL, "%s: %s", program, err);
		return 1;
	}
	log_init(program, cfg.log_level, cfg.log_file);
	if (sodium_init() < 0) {
		log_msg(LOG_ERROR, NULL, "libsodium failed to start");
		return 1;
	}
	if ((rc = serve_run(&opts, worker, &cfg, err, sizeof(err))) != 0 &&
	    opts.listen != NULL)
		log_msg(LOG_ERROR, NULL, "%s", err);
	return rc;
}
