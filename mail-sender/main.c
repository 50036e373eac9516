/*
 * chat-mail: the one mail sender. Every second it queues the mails nobody
 * asks for (lib/sweep), then sends every due mail of the queue, oldest
 * first, through the SMTP server (smtp.c), retrying with back-off. Runs
 * in the foreground under a supervisor (server-config/run, systemd);
 * SIGTERM or SIGINT ends it once the send under way is over. With mail
 * not configured it only sleeps. chat-mail --check checks the settings
 * and exits: 0, or 1 with what is wrong logged.
 *
 * A send is marked (sending_at) in its own commit before it starts, and
 * its outcome after it in another: a sender that dies between the two
 * finds the mark on its next start and sends that mail again with the
 * same Message-ID (at least once: see README.md, Mail).
 */
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <curl/curl.h>
#include <sodium.h>

#include "../lib/clock.h"
#include "../lib/config.h"
#include "../lib/db.h"
#include "../lib/log.h"
#include "../lib/mail.h"
#include "../lib/outbox.h"
#include "../lib/sweep.h"
#include "smtp.h"

#define WAKE_MS 1000L			/* between looks at the queue */
#define RETRY_DEFAULT 30L		/* seconds before the first retry */
#define RETRY_MAX 3600L			/* seconds: the back-off stops doubling there */
#define RECORD_TRIES 10			/* to record how a send went, a second apart */
#define PRUNE_EVERY_MS 3600000LL
#define SENT_KEEP_MS (7LL * 86400000)	/* sent mail is deleted after a week */
#define FAILED_KEEP_MS (30LL * 86400000)	/* failed mail after a month */

static volatile sig_atomic_t stopping;

static void
on_stop(int sig)
{
	(void)sig;
	stopping = 1;
}

struct sender {
	const struct config *cfg;
	struct db *db;
	struct smtp smtp;
	long retry;		/* CHAT_MAIL_RETRY */
	int64_t swept_at, pruned_at;
};

/*
 * The two settings only this program reads: CHAT_MAIL_RETRY (seconds
 * before the first retry, doubling up to RETRY_MAX) and CHAT_SMTP_CA_FILE
 * (the CA certificates to check the server against instead of the
 * system's). Returns 0, or -1 with err naming the variable.
 */
static int
load_settings(struct sender *s, char *err, size_t errsz)
{
	const char *v = getenv("CHAT_MAIL_RETRY");
	char *end;
	FILE *f;

	s->retry = RETRY_DEFAULT;
	if (v != NULL && v[0] != '\0') {
		errno = 0;
		s->retry = strtol(v, &end, 10);
		if (v[0] < '0' || v[0] > '9' || *end != '\0' || errno != 0 ||
		    s->retry < 1 || s->retry > RETRY_MAX) {
			snprintf(err, errsz, "CHAT_MAIL_RETRY: \"%s\" is not an "
			    "integer in 1..%ld", v, RETRY_MAX);
			return -1;
		}
	}
	v = getenv("CHAT_SMTP_CA_FILE");
	s->smtp.ca_file = v != NULL && v[0] != '\0' ? v : NULL;
	if (s->smtp.ca_file != NULL) {
		if ((f = fopen(s->smtp.ca_file, "r")) == NULL) {
			snprintf(err, errsz, "CHAT_SMTP_CA_FILE: \"%s\": %s", v,
			    strerror(errno));
			return -1;
		}
		fclose(f);
	}
	return 0;
}

/* The wait before attempt attempts + 1 (ms): doubling from the first, at most RETRY_MAX, give or take a fifth. */
static int64_t
backoff(long retry, int attempts)
{
	double seconds = (double)retry;
	int i;

	for (i = 1; i < attempts && seconds < RETRY_MAX; i++)
		seconds *= 2;
	if (seconds > RETRY_MAX)
		seconds = RETRY_MAX;
	/* Jitter: mails that failed together do not come back together. */
	seconds *= 0.8 + 0.4 * randombytes_uniform(1001) / 1000.0;
	return (int64_t)(seconds * 1000);
}

/* A pause of ms that SIGTERM cuts short. */
static void
pause_ms(long ms)
{
	struct timespec t = { ms / 1000, ms % 1000 * 1000000L };

	if (!stopping)
		nanosleep(&t, NULL);
}

/*
 * Record how a send went, in its own commit, trying again while the
 * database is busy: a send that is not recorded is sent again after a
 * restart. Returns 0, or -1 when it could not be recorded at all.
 */
static int
record(struct sender *s, const struct outbox_mail *m, enum smtp_result r,
    const char *error, int64_t wait)
{
	int64_t now;
	int i, rc = -1;

	for (i = 0; i < RECORD_TRIES && rc == -1; i++) {
		if (i > 0)
			pause_ms(WAKE_MS);
		now = clock_now_ms();
		if (r == SMTP_SENT)
			rc = outbox_sent(s->db, m->id, now);
		else if (r == SMTP_PERMANENT)
			rc = outbox_fail(s->db, m->id, now, 1, error);
		else
			rc = outbox_retry(s->db, m->id, now + wait, error);
	}
	return rc;
}

static void
log_outcome(const struct outbox_mail *m, enum smtp_result r,
    const char *error, int64_t wait)
{
	if (r == SMTP_SENT)
		log_msg(LOG_INFO, NULL, "mail %lld (%s) to %s: sent, attempt %d, "
		    "Message-ID <%s>", (long long)m->id, m->kind, m->recipient,
		    m->attempts + 1, m->message_id);
	else if (r == SMTP_PERMANENT)
		log_msg(LOG_WARN, NULL, "mail %lld (%s) to %s: failed for good: "
		    "%s", (long long)m->id, m->kind, m->recipient, error);
	else
		log_msg(LOG_WARN, NULL, "mail %lld (%s) to %s: attempt %d: %s; "
		    "trying again in %.1f s", (long long)m->id, m->kind,
		    m->recipient, m->attempts + 1, error, (double)wait / 1000);
}

/*
 * Send mail m, or give it up when it is older than CHAT_MAIL_GIVE_UP.
 * Returns 0, or -1 when its outcome could not be recorded.
 */
static int
try_one(struct sender *s, const struct outbox_mail *m, int64_t now)
{
	int64_t wait = backoff(s->retry, m->attempts + 1);
	char error[600];
	enum smtp_result r;

	if (now - m->created_at >= (int64_t)s->cfg->mail_give_up * 1000) {
		snprintf(error, sizeof(error), "given up after %d attempt%s over "
		    "%ld s (CHAT_MAIL_GIVE_UP); the last: %s", m->attempts,
		    m->attempts == 1 ? "" : "s", s->cfg->mail_give_up,
		    m->last_error[0] != '\0' ? m->last_error : "none");
		log_msg(LOG_WARN, NULL, "mail %lld (%s) to %s: %s",
		    (long long)m->id, m->kind, m->recipient, error);
		return outbox_fail(s->db, m->id, now, 0, error);
	}
	if (outbox_begin(s->db, m->id, now) == -1)
		return 0;	/* logged; the next look tries again */
	r = smtp_send(&s->smtp, m->recipient, m->message, error, sizeof(error));
	log_outcome(m, r, error, wait);
	if (record(s, m, r, error, wait) == -1) {
		log_msg(LOG_ERROR, NULL, "mail %lld: cannot record that it was "
		    "%s; stopping (a restart sends it again)", (long long)m->id,
		    r == SMTP_SENT ? "sent" : "tried");
		return -1;
	}
	return 0;
}

/* The mails nobody asks for, once a WAKE_MS at most. */
static void
sweep(struct sender *s)
{
	int64_t now = clock_now_ms();

	if (now - s->swept_at < WAKE_MS)
		return;
	s->swept_at = now;
	sweep_mail(s->db, s->cfg, now);	/* logs its errors */
}

/* Send every due mail, oldest first. Returns 0, or -1 to stop the program. */
static int
send_due(struct sender *s)
{
	struct outbox_mail m;
	int rc;

	while (!stopping) {
		sweep(s);
		if ((rc = outbox_next(s->db, clock_now_ms(), &m)) != 1) {
			if (rc == -1)
				log_msg(LOG_ERROR, NULL, "mail queue: next: %s",
				    db_errmsg(s->db));
			return 0;
		}
		rc = try_one(s, &m, clock_now_ms());
		free(m.message);
		if (rc == -1)
			return -1;
	}
	return 0;
}

/* Delete old sent and failed mail, once an hour. */
static void
prune(struct sender *s)
{
	int64_t now = clock_now_ms();
	int n;

	if (now - s->pruned_at < PRUNE_EVERY_MS)
		return;
	s->pruned_at = now;
	if (outbox_prune(s->db, now, SENT_KEEP_MS, FAILED_KEEP_MS, &n) == 0 &&
	    n > 0)
		log_msg(LOG_INFO, NULL, "mail queue: %d old sent or failed "
		    "mail%s deleted", n, n == 1 ? "" : "s");
}

/* Say how mail goes out: the server's address without any login in it. */
static void
log_start(const struct sender *s)
{
	static const char *const tls[] = { "auto", "require", "none" };
	const struct config *cfg = s->cfg;
	const char *url = cfg->smtp_url, *host = strstr(url, "://"), *at;
	int scheme;

	if (!mail_enabled(cfg)) {
		log_msg(LOG_INFO, NULL, "started; mail is off (CHAT_SMTP_URL "
		    "and CHAT_MAIL_FROM not both set): nothing is sent");
		return;
	}
	scheme = (int)(host - url);	/* mail_check_config() saw "://" */
	host += 3;
	if ((at = strchr(host, '@')) != NULL && at < host + strcspn(host, "/"))
		host = at + 1;
	log_msg(LOG_INFO, NULL, "started; sending through %.*s://%s as %s, TLS "
	    "%s%s; %s", scheme, url, host, cfg->mail_from, tls[cfg->smtp_tls],
	    cfg->smtp_user[0] != '\0' ? ", with a login" : "",
	    cfg->mail_team[0] != '\0' ? "the team's mail to CHAT_MAIL_TEAM" :
	    "no team mail (CHAT_MAIL_TEAM is empty)");
}

/* Whether this libcurl speaks SMTP. */
static int
curl_has_smtp(void)
{
	const curl_version_info_data *v = curl_version_info(CURLVERSION_NOW);
	const char *const *p;

	for (p = v->protocols; p != NULL && *p != NULL; p++)
		if (strcmp(*p, "smtp") == 0)
			return 1;
	return 0;
}

/* Open the database and take over what a sender before left. */
static int
start(struct sender *s)
{
	char err[1024];
	int n;

	if ((s->db = db_open(s->cfg, 0, err, sizeof(err))) == NULL) {
		log_msg(LOG_ERROR, NULL, "%s", err);
		return -1;
	}
	if (outbox_recover(s->db, clock_now_ms(), &n) == -1)
		return -1;
	if (n > 0)
		log_msg(LOG_WARN, NULL, "mail queue: %d mail%s interrupted "
		    "mid-send by the sender before: sending %s again with the "
		    "same Message-ID (the server may have %s already)", n,
		    n == 1 ? "" : "s", n == 1 ? "it" : "them",
		    n == 1 ? "it" : "them");
	log_start(s);
	return 0;
}

/* SIGTERM and SIGINT set stopping, cutting a pause short but no send. */
static void
catch_signals(void)
{
	struct sigaction sa;

	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = on_stop;
	sigemptyset(&sa.sa_mask);
	sigaction(SIGTERM, &sa, NULL);
	sigaction(SIGINT, &sa, NULL);
	signal(SIGPIPE, SIG_IGN);
}

int
main(int argc, char **argv)
{
	struct config cfg;
	struct sender s = { 0 };
	char err[1024];
	int rc = 1;

	if (argc > 2 || (argc == 2 && strcmp(argv[1], "--check") != 0)) {
		fprintf(stderr, "usage: chat-mail [--check] (settings from the "
		    "environment: README.md, Configuration)\n");
		return 2;
	}
	catch_signals();
	if (config_load(&cfg, err, sizeof(err)) == -1) {
		log_msg(LOG_ERROR, NULL, "chat-mail: %s", err);
		return 1;
	}
	/* --check answers on standard error, to whoever asked. */
	log_init("chat-mail", cfg.log_level, argc == 2 ? NULL : cfg.log_file);
	s.cfg = &cfg;
	s.smtp.cfg = &cfg;
	if (mail_check_config(&cfg, err, sizeof(err)) == -1 ||
	    load_settings(&s, err, sizeof(err)) == -1) {
		log_msg(LOG_ERROR, NULL, "%s", err);
		return 1;
	}
	if (sodium_init() < 0 || curl_global_init(CURL_GLOBAL_DEFAULT) != 0) {
		log_msg(LOG_ERROR, NULL, "libsodium or libcurl failed to start");
		return 1;
	}
	if (mail_enabled(&cfg) && !curl_has_smtp()) {
		log_msg(LOG_ERROR, NULL, "this libcurl has no SMTP: install "
		    "Debian's libcurl4 (setup/install-deps)");
		curl_global_cleanup();
		return 1;
	}
	/* --check: the settings only, for a supervisor to refuse bad ones at once. */
	if (argc == 2) {
		curl_global_cleanup();
		return 0;
	}
	if (start(&s) == 0) {
		while (!stopping) {
			if (mail_enabled(&cfg) && (send_due(&s) == -1))
				goto out;
			if (mail_enabled(&cfg))
				prune(&s);
			pause_ms(WAKE_MS);
		}
		log_msg(LOG_INFO, NULL, "stopped");
		rc = 0;
	}
out:
	db_close(s.db);
	curl_global_cleanup();
	return rc;
}
