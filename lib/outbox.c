#include <stdlib.h>
#include <string.h>

#include "db.h"
#include "log.h"
#include "outbox.h"

enum stmt {
	STMT_RECOVER,
	STMT_NEXT,
	STMT_BEGIN,
	STMT_SENT,
	STMT_RETRY,
	STMT_FAIL,
	STMT_PRUNE,
	STMT_EACH,
	STMT__MAX
};

#define COLUMNS \
	"id, kind, recipient, message_id, coalesce(session_id, 0)," \
	" created_at, next_at, attempts, CASE" \
	" WHEN sent_at IS NOT NULL THEN 2 WHEN failed_at IS NOT NULL THEN 3" \
	" WHEN sending_at IS NOT NULL THEN 1 ELSE 0 END," \
	" coalesce(last_error, '')"

#define UNFINISHED "sent_at IS NULL AND failed_at IS NULL"

static const char *const stmts[STMT__MAX] = {
	[STMT_RECOVER] =
	    "UPDATE mail_queue SET sending_at = NULL, attempts = attempts + 1,"
	    " next_at = ?1, last_error = 'interrupted: the sender stopped during"
	    " a try, which the server may have received'"
	    " WHERE sending_at IS NOT NULL AND " UNFINISHED,
	/* The partial index mail_queue_due holds exactly the unfinished ones. */
	[STMT_NEXT] =
	    "SELECT " COLUMNS ", message FROM mail_queue"
	    " WHERE next_at <= ?1 AND " UNFINISHED " AND sending_at IS NULL"
	    " ORDER BY id LIMIT 1",
	[STMT_BEGIN] =
	    "UPDATE mail_queue SET sending_at = ?2 WHERE id = ?1"
	    " AND " UNFINISHED,
	[STMT_SENT] =
	    "UPDATE mail_queue SET sent_at = ?2, sending_at = NULL,"
	    " attempts = attempts + 1 WHERE id = ?1",
	[STMT_RETRY] =
	    "UPDATE mail_queue SET sending_at = NULL, attempts = attempts + 1,"
	    " next_at = ?2, last_error = ?3 WHERE id = ?1",
	[STMT_FAIL] =
	    "UPDATE mail_queue SET sending_at = NULL, failed_at = ?2,"
	    " attempts = attempts + ?4, last_error = ?3 WHERE id = ?1",
	[STMT_PRUNE] =
	    "DELETE FROM mail_queue WHERE sent_at < ?1 OR failed_at < ?2",
	[STMT_EACH] =
	    "SELECT " COLUMNS " FROM mail_queue WHERE ?1 OR sent_at IS NULL"
	    " ORDER BY id",
};

const char *
outbox_state_name(enum outbox_state state)
{
	static const char *const names[] = { "waiting", "sending", "sent",
	    "failed" };

	return names[state];
}

/* Log what failed on the queue and roll back (which would lose the message); -1. */
static int
failed(struct db *db, enum stmt st)
{
	static const char *const what[STMT__MAX] = {
		[STMT_RECOVER] = "recover", [STMT_NEXT] = "next",
		[STMT_BEGIN] = "begin a try", [STMT_SENT] = "mark sent",
		[STMT_RETRY] = "mark for a retry", [STMT_FAIL] = "mark failed",
		[STMT_PRUNE] = "prune", [STMT_EACH] = "list",
	};

	log_msg(LOG_ERROR, NULL, "mail queue: %s: %s", what[st],
	    db_errmsg(db));
	db_rollback(db);
	return -1;
}

/* Begin and prepare statement st: NULL (logged, rolled back) on an error. */
static sqlite3_stmt *
begin(struct db *db, enum stmt st)
{
	sqlite3_stmt *s;

	if (db_begin(db) == -1 || (s = db_stmt(db, stmts[st])) == NULL) {
		failed(db, st);
		return NULL;
	}
	return s;
}

/* Run s (of statement st), bound, and commit; *changes (may be NULL) the rows changed. */
static int
finish(struct db *db, enum stmt st, sqlite3_stmt *s, int *changes)
{
	int rc = sqlite3_step(s);

	db_done(s);
	if (rc != SQLITE_DONE)
		return failed(db, st);
	if (changes != NULL)
		*changes = sqlite3_changes(db_handle(db));
	if (db_commit(db) == -1)
		return failed(db, st);
	return 0;
}

int
outbox_recover(struct db *db, int64_t now, int *count)
{
	sqlite3_stmt *s;

	*count = 0;
	if ((s = begin(db, STMT_RECOVER)) == NULL)
		return -1;
	sqlite3_bind_int64(s, 1, now);
	return finish(db, STMT_RECOVER, s, count);
}

static void
read_row(sqlite3_stmt *s, struct outbox_mail *out)
{
	memset(out, 0, sizeof(*out));
	out->id = sqlite3_column_int64(s, 0);
	db_column_copy(s, 1, out->kind, sizeof(out->kind));
	db_column_copy(s, 2, out->recipient, sizeof(out->recipient));
	db_column_copy(s, 3, out->message_id, sizeof(out->message_id));
	out->session_id = sqlite3_column_int64(s, 4);
	out->created_at = sqlite3_column_int64(s, 5);
	out->next_at = sqlite3_column_int64(s, 6);
	out->attempts = sqlite3_column_int(s, 7);
	out->state = (enum outbox_state)sqlite3_column_int(s, 8);
	db_column_copy(s, 9, out->last_error, sizeof(out->last_error));
}

int
outbox_next(struct db *db, int64_t now, struct outbox_mail *out)
{
	sqlite3_stmt *s = db_stmt(db, stmts[STMT_NEXT]);
	const char *message;
	int rc;

	memset(out, 0, sizeof(*out));
	if (s == NULL)
		return -1;
	sqlite3_bind_int64(s, 1, now);
	if ((rc = sqlite3_step(s)) == SQLITE_ROW) {
		read_row(s, out);
		message = (const char *)sqlite3_column_text(s, 10);
		if ((out->message = strdup(message != NULL ? message : "")) ==
		    NULL)
			rc = SQLITE_NOMEM;
	}
	db_done(s);
	return rc == SQLITE_ROW ? 1 : rc == SQLITE_DONE ? 0 : -1;
}

int
outbox_begin(struct db *db, int64_t id, int64_t now)
{
	sqlite3_stmt *s;
	int changed;

	if ((s = begin(db, STMT_BEGIN)) == NULL)
		return -1;
	sqlite3_bind_int64(s, 1, id);
	sqlite3_bind_int64(s, 2, now);
	if (finish(db, STMT_BEGIN, s, &changed) == -1)
		return -1;
	return changed == 1 ? 0 : -1;
}

int
outbox_sent(struct db *db, int64_t id, int64_t now)
{
	sqlite3_stmt *s;

	if ((s = begin(db, STMT_SENT)) == NULL)
		return -1;
	sqlite3_bind_int64(s, 1, id);
	sqlite3_bind_int64(s, 2, now);
	return finish(db, STMT_SENT, s, NULL);
}

int
outbox_retry(struct db *db, int64_t id, int64_t next_at, const char *error)
{
	sqlite3_stmt *s;

	if ((s = begin(db, STMT_RETRY)) == NULL)
		return -1;
	sqlite3_bind_int64(s, 1, id);
	sqlite3_bind_int64(s, 2, next_at);
	sqlite3_bind_text(s, 3, error, -1, SQLITE_TRANSIENT);
	return finish(db, STMT_RETRY, s, NULL);
}

int
outbox_fail(struct db *db, int64_t id, int64_t now, int tried,
    const char *error)
{
	sqlite3_stmt *s;

	if ((s = begin(db, STMT_FAIL)) == NULL)
		return -1;
	sqlite3_bind_int64(s, 1, id);
	sqlite3_bind_int64(s, 2, now);
	sqlite3_bind_text(s, 3, error, -1, SQLITE_TRANSIENT);
	sqlite3_bind_int(s, 4, tried ? 1 : 0);
	return finish(db, STMT_FAIL, s, NULL);
}

int
outbox_prune(struct db *db, int64_t now, int64_t sent_keep,
    int64_t failed_keep, int *count)
{
	sqlite3_stmt *s;

	*count = 0;
	if ((s = begin(db, STMT_PRUNE)) == NULL)
		return -1;
	sqlite3_bind_int64(s, 1, now - sent_keep);
	sqlite3_bind_int64(s, 2, now - failed_keep);
	return finish(db, STMT_PRUNE, s, count);
}

int
outbox_each(struct db *db, int all,
    int (*fn)(const struct outbox_mail *, void *), void *arg)
{
	sqlite3_stmt *s = db_stmt(db, stmts[STMT_EACH]);
	struct outbox_mail m;
	int rc;

	if (s == NULL)
		return -1;
	sqlite3_bind_int(s, 1, all ? 1 : 0);
	while ((rc = sqlite3_step(s)) == SQLITE_ROW) {
		read_row(s, &m);
		if (fn(&m, arg) == -1)
			break;
	}
	db_done(s);
	return rc == SQLITE_DONE ? 0 : -1;
}
