#ifndef CHAT_OUTBOX_H
#define CHAT_OUTBOX_H

#include <stddef.h>
#include <stdint.h>

struct db;

/*
 * The sender's side of the mail queue (lib/mail fills it): which mail is
 * due, how each try went, what the queue holds. A mail is waiting (due at
 * next_at), being sent (sending_at set: a try under way, or a sender that
 * died in one), sent or failed. Every change here is its own transaction;
 * a database error in one is logged here, since the rollback loses its
 * message, and returned as -1.
 */

enum outbox_state {
	OUTBOX_WAITING,
	OUTBOX_SENDING,
	OUTBOX_SENT,
	OUTBOX_FAILED
};

/* One mail of the queue. */
struct outbox_mail {
	int64_t id;
	char kind[32];
	char recipient[256];
	char message_id[320];
	char *message;		/* outbox_next() only: a new string, the caller's to free() */
	int64_t session_id;	/* 0 for none */
	int64_t created_at, next_at;	/* ms */
	int attempts;
	enum outbox_state state;
	char last_error[512];	/* "" for none */
};

/* "waiting", "sending", "sent" or "failed". Static. */
const char *outbox_state_name(enum outbox_state state);

/*
 * After a sender's restart: every mail still marked as being sent was
 * interrupted, and may or may not have reached the SMTP server. Count it
 * as an attempt and make it due at now (ms), with the same Message-ID.
 * *count (output) is how many. Returns 0 or -1.
 */
int outbox_recover(struct db *db, int64_t now, int *count);

/*
 * The oldest mail due at now (ms), neither sent nor failed nor being sent,
 * into *out (out->message a new string, the caller's to free()). Returns
 * 1, 0 when none is due, -1 on an error (db_errmsg()).
 */
int outbox_next(struct db *db, int64_t now, struct outbox_mail *out);

/* Mark mail id as being sent from now on. Returns 0, or -1 (also when it is sent or failed already). */
int outbox_begin(struct db *db, int64_t id, int64_t now);

/* Mail id was sent at now: one more attempt. Returns 0 or -1. */
int outbox_sent(struct db *db, int64_t id, int64_t now);

/* Mail id failed this time with error: one more attempt, due again at next_at. Returns 0 or -1. */
int outbox_retry(struct db *db, int64_t id, int64_t next_at,
    const char *error);

/*
 * Mail id is given up at now with error (a permanent refusal, or too old);
 * tried counts as an attempt when it was tried this time. Returns 0 or -1.
 */
int outbox_fail(struct db *db, int64_t id, int64_t now, int tried,
    const char *error);

/*
 * Delete sent mails older than sent_keep and failed ones older than
 * failed_keep (ms, before now): the queue keeps what people wrote for a
 * while only. *count (output) is how many. Returns 0 or -1.
 */
int outbox_prune(struct db *db, int64_t now, int64_t sent_keep,
    int64_t failed_keep, int *count);

/*
 * Call fn for each mail, oldest first: waiting, being sent or failed, and
 * with all also the sent ones (message is NULL). Stops with -1 when fn
 * returns -1. Returns 0, or -1 on an error or when fn stopped it.
 */
int outbox_each(struct db *db, int all,
    int (*fn)(const struct outbox_mail *, void *), void *arg);

#endif
