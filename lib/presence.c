#include <stddef.h>

#include "db.h"
#include "log.h"
#include "presence.h"
#include "relay.h"
#include "session.h"

/* Sessions requeued in one transaction; more wait for the next call. */
#define REQUEUE_BATCH 32

/* The abandoned sessions now, into list; -1 on a database error. */
static int
find_abandoned(struct db *db, struct relay *relay, long requeue_after,
    int64_t now, struct session *list, size_t *n)
{
	return session_each_abandoned(db, relay_seen_after(relay, now),
	    now - (int64_t)requeue_after * 1000, REQUEUE_BATCH, list, n) ==
	    SESSION_OK ? 0 : -1;
}

int
presence_requeue_abandoned(struct db *db, struct relay *relay,
    long requeue_after, int64_t now)
{
	struct session list[REQUEUE_BATCH];
	int64_t former;
	size_t n, i;
	int done = 0, rc;

	if (requeue_after == 0)
		return 0;
	if (db_begin_read(db) == -1)
		return -1;
	rc = find_abandoned(db, relay, requeue_after, now, list, &n);
	db_end_read(db);
	if (rc == -1 || n == 0)
		return rc;
	/* Again inside the write: another process may have done it meanwhile. */
	if (db_begin(db) == -1 ||
	    find_abandoned(db, relay, requeue_after, now, list, &n) == -1)
		goto fail;
	for (i = 0; i < n; i++) {
		former = list[i].agent_id;
		if (session_requeue(db, list[i].id, former) != SESSION_OK)
			goto fail;
		list[i].agent_id = 0;
		list[i].state = SESSION_QUEUED;
		if (relay_note_session(relay, &list[i], former, 1, now) == -1)
			goto fail;
		log_msg(LOG_INFO, NULL, "session %lld: agent %lld is gone; back "
		    "in the queue", (long long)list[i].id, (long long)former);
		done++;
	}
	if (db_commit(db) == -1)
		goto fail;
	relay_flush(relay);
	return done;
fail:
	log_msg(LOG_ERROR, NULL, "requeue: %s", db_errmsg(db));
	db_rollback(db);
	relay_forget(relay);
	return -1;
}
