#ifndef CHAT_MAIL_H
#define CHAT_MAIL_H

#include <stddef.h>
#include <stdint.h>

#include "config.h"

struct db;

/*
 * Outgoing mail: a whole RFC 5322 message composed here and put in the
 * mail_queue table inside the caller's transaction, so that a mail goes
 * out if and only if what caused it was committed. The one sender,
 * chat-mail, sends the queue. sodium_init() must have been called.
 *
 * Every header is ours: addresses are checked (field_email_valid(), the
 * rule of the REST API's email fields), and the texts that go into
 * headers (the chat's name, the subject) have their control characters
 * replaced with spaces and are written as RFC 2047 encoded-words when they
 * are not plain ASCII, so no input can add a header or a line.
 */

/* Bytes of a Message-ID without its angle brackets, with the NUL. */
#define MAIL_ID_MAX 320

/* One mail. Strings are the caller's, UTF-8; only to, subject and text are required. */
struct mail {
	const char *to;		/* the one recipient's address */
	const char *subject;	/* one line; control characters become spaces */
	const char *text;	/* the text/plain part; lines end in "\n" or "\r\n" */
	const char *html;	/* the text/html part (a whole document), or NULL */
	const char *reply_to;	/* an address, or NULL */
	const char *kind;	/* mail_queue.kind: team_waiting, team_message, transcript, followup, test */
	int64_t session_id;	/* the session it is about, 0 for none */
};

enum mail_status {
	MAIL_OK = 0,
	MAIL_INVALID,	/* a required field missing, or an address that is not one */
	MAIL_ERROR	/* a database error (db_errmsg()) or out of memory */
};

/* What status means, in a few words. Static. */
const char *mail_strerror(enum mail_status status);

/* 1 when mail is configured (CHAT_SMTP_URL and CHAT_MAIL_FROM set), else 0. */
int mail_enabled(const struct config *cfg);

/*
 * Check the mail settings of cfg when mail is enabled: CHAT_SMTP_URL an
 * smtp:// or smtps:// URL, CHAT_MAIL_FROM an address, each address of
 * CHAT_MAIL_TEAM one, a password only with a user. Returns 0, or -1 with
 * err (caller's buffer) naming the variable, the value and what is wrong.
 */
int mail_check_config(const struct config *cfg, char *err, size_t errsz);

/*
 * Compose m as sent from "CHAT_NAME <CHAT_MAIL_FROM>" at now (ms): Date,
 * Message-ID (random, at the domain of CHAT_MAIL_FROM), MIME multipart/
 * alternative of text and HTML in UTF-8 quoted-printable, CRLF lines of at
 * most 76 characters in the bodies. Returns a new string the caller frees
 * with free(), and the Message-ID without brackets in msgid (caller's
 * buffer, MAIL_ID_MAX bytes); NULL with *status (output) MAIL_INVALID or
 * MAIL_ERROR (out of memory).
 */
char *mail_compose(const struct config *cfg, const struct mail *m,
    int64_t now, char *msgid, size_t msgidsz, enum mail_status *status);

/*
 * Compose m and add it to the queue, due at once, inside the caller's
 * transaction (the caller commits or rolls back). Does nothing and
 * returns MAIL_OK when mail is not enabled. On MAIL_OK *id (output, may
 * be NULL) is the queue row's id, 0 when nothing was queued.
 */
enum mail_status mail_enqueue(struct db *db, const struct config *cfg,
    const struct mail *m, int64_t now, int64_t *id);

/*
 * mail_enqueue() for each address of CHAT_MAIL_TEAM (m->to is ignored),
 * each its own message; an address that is not one is skipped (chat-mail
 * refuses to start with it). MAIL_OK with nothing queued when mail is not
 * enabled or the team has no address.
 */
enum mail_status mail_enqueue_team(struct db *db, const struct config *cfg,
    const struct mail *m, int64_t now);

#endif
