#ifndef CHAT_PRESENCE_H
#define CHAT_PRESENCE_H

#include <stdint.h>

struct db;
struct relay;

/*
 * Presence that follows reality: an agent counts as online only while a
 * connection of theirs refreshes its heartbeat (relay_heartbeat()). When an
 * agent with active sessions has had no live connection for requeue_after
 * seconds (CHAT_REQUEUE_AFTER), those sessions go back to the queue, so the
 * visitors are not left waiting on someone who is gone.
 */

/*
 * Put the active sessions of agents gone for requeue_after seconds (0:
 * never) back in the queue, each telling its customer, its former agent
 * and every agent present, in its own transaction; wakes them after the
 * commit. A read finds out first whether there is anything to do, so
 * calling it often costs no write. Returns how many sessions were
 * requeued, or -1 on a database error (nothing changed then).
 */
int presence_requeue_abandoned(struct db *db, struct relay *relay,
    long requeue_after, int64_t now);

#endif
