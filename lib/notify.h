#ifndef CHAT_NOTIFY_H
#define CHAT_NOTIFY_H

#include <stdint.h>

#include "config.h"

struct db;

/*
 * What each mail says, in English, as plain text and HTML; when the mails
 * nobody asks for go out is lib/sweep's. Each function composes its mail
 * from the database and queues it with lib/mail; when mail is not enabled
 * (mail_enabled()) they do nothing and return 0. Times in mail are in
 * CHAT_TIMEZONE. A stored address that lib/mail refuses queues nothing
 * and is logged; it is no error.
 */

/*
 * The team's mail (each address of CHAT_MAIL_TEAM, Reply-To the visitor's
 * address) that the visitor of session_id left a message: their name and
 * address, the message (the session's last customer message) and where
 * they were (the session's context). Marks the team alerted for the
 * session (sessions.alerted_at) so that lib/sweep sends no "waiting"
 * mail for it. Inside the caller's transaction; returns 0, or -1 on a
 * database error (db_errmsg()).
 */
int notify_left_message(struct db *db, const struct config *cfg,
    int64_t session_id, int64_t now);

/*
 * The visitor's transcript of session_id to email (an address the caller
 * checked with field_email_valid()): the conversation with names and
 * times, the agents by display name, the system lines; the most recent
 * 256 KiB of text when it is longer, saying what was left out. Inside the
 * caller's transaction; an unknown session queues nothing. Returns 0, or
 * -1 on a database error (db_errmsg()).
 */
int notify_transcript(struct db *db, const struct config *cfg,
    int64_t session_id, const char *email, int64_t now);

/*
 * A test mail to the address to, saying where it came from. Inside the
 * caller's transaction. *id (output) is the queue row's id, 0 when mail
 * is not enabled. Returns 0, or -1 on a database error or an address that
 * is not one.
 */
int notify_test(struct db *db, const struct config *cfg, const char *to,
    int64_t now, int64_t *id);

/*
 * The team's mail (each address of CHAT_MAIL_TEAM, Reply-To the visitor's
 * address when they gave one) that the visitor of session_id waits for an
 * agent: who, for how long, their question and last message, where they
 * are. Inside the caller's transaction (lib/sweep marks the session
 * alerted in it). Returns 0, or -1 on a database error (db_errmsg()).
 */
int notify_waiting(struct db *db, const struct config *cfg,
    int64_t session_id, int64_t now);

/*
 * The visitor's follow-up of session_id: the agent replies after
 * sessions.followup_upto that have not reached the customer (deliveries
 * after their delivered.upto), at most 50, and, when CHAT_PUBLIC_URL is
 * set, a link back (CHAT_PUBLIC_URL + "/#resume=" + a lib/resume code
 * valid for CHAT_CUSTOMER_REFRESH_TTL). Moves sessions.followup_upto past
 * the replies mailed. Nothing when there are none or the customer has no
 * address. Inside the caller's transaction; returns 0, or -1 on a
 * database error (db_errmsg()).
 */
int notify_followup(struct db *db, const struct config *cfg,
    int64_t session_id, int64_t now);

#endif
