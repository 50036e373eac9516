#include <stdint.h>

#include "db.h"
#include "log.h"
#include "mail.h"
#include "notify.h"
#include "sweep.h"

#define SWEEP_BATCH 20		/* sessions a call mails at most, of each kind */

enum stmt {
	STMT_UNCLAIMED,
	STMT_CLAIM_ALERT,
	STMT_FOLLOWUP_DUE,
	STMT__MAX
};

static const char *const stmts[STMT__MAX] = {
	[STMT_UNCLAIMED] =
	    "SELECT id FROM sessions WHERE status = 'queued' AND kind = 'chat'"
	    " AND alerted_at IS NULL AND created_at <= ?1 AND ?3 = 0"
	    " ORDER BY id LIMIT ?2",
	[STMT_CLAIM_ALERT] =
	    "UPDATE sessions SET alerted_at = ?2 WHERE id = ?1"
	    " AND status = 'queued' AND kind = 'chat' AND alerted_at IS NULL",
	/*
	 * Open sessions (?3 = 0: any; else that one) of customers with an
	 * address and no connection, with an agent reply older than ?1 that
	 * no follow-up mailed and that the customer has not received: its
	 * delivery to them lies after their delivered.upto.
	 */
	[STMT_FOLLOWUP_DUE] =
	    "SELECT s.id FROM sessions s JOIN customers c ON c.id = s.customer_id"
	    " WHERE s.status IN ('queued', 'active') AND (?3 = 0 OR s.id = ?3)"
	    " AND c.email IS NOT NULL AND NOT EXISTS (SELECT 1 FROM connections k"
	    "  WHERE k.user_type = 'customer' AND k.user_id = s.customer_id)"
	    " AND EXISTS (SELECT 1 FROM messages m"
	    "  JOIN deliveries d ON d.message_id = m.id"
	    "  WHERE m.session_id = s.id AND m.id > s.followup_upto"
	    "  AND m.sender_type = 'agent' AND m.created_at <= ?1"
	    "  AND d.user_type = 'customer' AND d.user_id = s.customer_id"
	    "  AND d.id > coalesce((SELECT upto FROM delivered"
	    "   WHERE user_type = 'customer' AND user_id = s.customer_id), 0))"
	    " ORDER BY s.id LIMIT ?2",
};

/* Log what failed, before the rollback takes the error message away; -1. */
static int
failed(struct db *db, const char *what, int64_t session_id)
{
	log_msg(LOG_ERROR, NULL, "mail %s for session %lld: %s", what,
	    (long long)session_id, db_errmsg(db));
	db_rollback(db);
	return -1;
}

/*
 * The sessions statement st selects with cutoff, into ids (SWEEP_BATCH of
 * them at most): only session when it is not 0. 0 or -1.
 */
static int
select_due(struct db *db, enum stmt st, int64_t cutoff, int64_t session,
    int64_t *ids, int *n)
{
	sqlite3_stmt *s = db_stmt(db, stmts[st]);
	int rc;

	*n = 0;
	if (s == NULL)
		return -1;
	sqlite3_bind_int64(s, 1, cutoff);
	sqlite3_bind_int(s, 2, SWEEP_BATCH);
	sqlite3_bind_int64(s, 3, session);
	while ((rc = sqlite3_step(s)) == SQLITE_ROW && *n < SWEEP_BATCH)
		ids[(*n)++] = sqlite3_column_int64(s, 0);
	db_done(s);
	return rc == SQLITE_ROW || rc == SQLITE_DONE ? 0 : -1;
}

/* Alert the team of session id, unless someone took it or the team knows already. */
static int
alert_one(struct db *db, const struct config *cfg, int64_t id, int64_t now)
{
	sqlite3_stmt *s;
	int rc;

	if (db_begin(db) == -1 ||
	    (s = db_stmt(db, stmts[STMT_CLAIM_ALERT])) == NULL)
		return failed(db, "team_waiting", id);
	sqlite3_bind_int64(s, 1, id);
	sqlite3_bind_int64(s, 2, now);
	rc = sqlite3_step(s);
	db_done(s);
	if (rc != SQLITE_DONE || (sqlite3_changes(db_handle(db)) == 1 &&
	    notify_waiting(db, cfg, id, now) == -1) || db_commit(db) == -1)
		return failed(db, "team_waiting", id);
	return 0;
}

/* Mail the follow-up of session id if it is still due. */
static int
follow_up_one(struct db *db, const struct config *cfg, int64_t id,
    int64_t cutoff, int64_t now)
{
	int64_t due[SWEEP_BATCH];
	int n;

	/* Checked again in the transaction: the visitor may be back. */
	if (db_begin(db) == -1 ||
	    select_due(db, STMT_FOLLOWUP_DUE, cutoff, id, due, &n) == -1 ||
	    (n == 1 && notify_followup(db, cfg, id, now) == -1) ||
	    db_commit(db) == -1)
		return failed(db, "followup", id);
	return 0;
}

int
sweep_mail(struct db *db, const struct config *cfg, int64_t now)
{
	int64_t ids[SWEEP_BATCH], cutoff;
	int i, n;

	if (!mail_enabled(cfg))
		return 0;
	if (cfg->mail_team[0] != '\0') {
		cutoff = now - (int64_t)cfg->unclaimed_timeout * 1000;
		if (select_due(db, STMT_UNCLAIMED, cutoff, 0, ids, &n) == -1)
			return failed(db, "team_waiting", 0);
		for (i = 0; i < n; i++)
			if (alert_one(db, cfg, ids[i], now) == -1)
				return -1;
	}
	if (cfg->followup_after > 0) {
		cutoff = now - (int64_t)cfg->followup_after * 1000;
		if (select_due(db, STMT_FOLLOWUP_DUE, cutoff, 0, ids, &n) == -1)
			return failed(db, "followup", 0);
		for (i = 0; i < n; i++)
			if (follow_up_one(db, cfg, ids[i], cutoff, now) == -1)
				return -1;
	}
	return 0;
}
