#ifndef CHAT_SWEEP_H
#define CHAT_SWEEP_H

#include <stdint.h>

#include "config.h"

struct db;

/*
 * When the mails nobody asks for go out (what they say is lib/notify's).
 * Due at now (ms), each session in a short transaction of its own, so
 * call it outside of one:
 *  - a queued chat (kind "chat", not a left message) not claimed for
 *    CHAT_UNCLAIMED_TIMEOUT seconds whose team was not alerted yet: the
 *    team's "visitor waiting" mail (notify_waiting()), sessions.alerted_at
 *    set in the same transaction. Nothing when CHAT_MAIL_TEAM is empty;
 *  - a follow-up (notify_followup()), unless CHAT_FOLLOWUP_AFTER is 0: an
 *    open session whose customer has an email address and no open
 *    connection, with an agent reply older than CHAT_FOLLOWUP_AFTER
 *    seconds that has not reached the customer and that no follow-up
 *    mailed yet. A closed session gets none: its visitor gets the
 *    transcript.
 * A batch of at most 20 sessions of each kind a call: chat-mail calls it
 * every second. Nothing when mail is not enabled. Returns 0, or -1 on a
 * database error, which it logs (the rollback would lose it).
 */
int sweep_mail(struct db *db, const struct config *cfg, int64_t now);

#endif
