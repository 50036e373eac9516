#include "db.h"
#include "throttle.h"

enum stmt {
	STMT_NTH_NEWEST,
	STMT_INSERT,
	STMT_PRUNE,
	STMT_CLEAR,
	STMT_BUCKET_GET,
	STMT_BUCKET_SET,
	STMT__MAX
};

static const char *const stmts[STMT__MAX] = {
	/* The oldest of the newest `limit` events inside the window, and how many there are. */
	[STMT_NTH_NEWEST] =
	    "SELECT count(*), min(at) FROM (SELECT at FROM throttle_events"
	    " WHERE bucket = ? AND key = ? AND at > ? ORDER BY at DESC LIMIT ?)",
	[STMT_INSERT] =
	    "INSERT INTO throttle_events (bucket, key, at) VALUES (?, ?, ?)",
	[STMT_PRUNE] =
	    "DELETE FROM throttle_events WHERE bucket = ? AND key = ? AND at <= ?",
	[STMT_CLEAR] =
	    "DELETE FROM throttle_events WHERE bucket = ? AND key = ?",
	[STMT_BUCKET_GET] = "SELECT allowance, at FROM rate_buckets"
	    " WHERE user_type = ? AND user_id = ?",
	[STMT_BUCKET_SET] =
	    "INSERT INTO rate_buckets (user_type, user_id, allowance, at)"
	    " VALUES (?, ?, ?, ?) ON CONFLICT (user_type, user_id)"
	    " DO UPDATE SET allowance = excluded.allowance, at = excluded.at",
};

int
throttle_check(struct db *db, const char *bucket, const char *key,
    long limit, long window_s, int64_t now, long *retry_after)
{
	int64_t window_ms = (int64_t)window_s * 1000, wait_ms;
	sqlite3_stmt *s;
	int rc = -1;

	*retry_after = 0;
	if (limit <= 0)
		return 0;
	if ((s = db_stmt(db, stmts[STMT_NTH_NEWEST])) == NULL)
		return -1;
	sqlite3_bind_text(s, 1, bucket, -1, SQLITE_STATIC);
	sqlite3_bind_text(s, 2, key, -1, SQLITE_STATIC);
	sqlite3_bind_int64(s, 3, now - window_ms);
	sqlite3_bind_int64(s, 4, limit);
	if (sqlite3_step(s) != SQLITE_ROW)
		goto out;
	if (sqlite3_column_int64(s, 0) >= limit) {
		/* Allowed again once the oldest of those leaves the window. */
		wait_ms = sqlite3_column_int64(s, 1) + window_ms - now;
		*retry_after = (long)((wait_ms + 999) / 1000);
		if (*retry_after < 1)
			*retry_after = 1;
	}
	rc = 0;
out:
	db_done(s);
	return rc;
}

static int
run_keyed(struct db *db, enum stmt which, const char *bucket,
    const char *key, int has_time, int64_t at)
{
	sqlite3_stmt *s = db_stmt(db, stmts[which]);
	int rc;

	if (s == NULL)
		return -1;
	sqlite3_bind_text(s, 1, bucket, -1, SQLITE_STATIC);
	sqlite3_bind_text(s, 2, key, -1, SQLITE_STATIC);
	if (has_time)
		sqlite3_bind_int64(s, 3, at);
	rc = sqlite3_step(s) == SQLITE_DONE ? 0 : -1;
	db_done(s);
	return rc;
}

int
throttle_record(struct db *db, const char *bucket, const char *key,
    long window_s, int64_t now)
{
	if (run_keyed(db, STMT_PRUNE, bucket, key, 1,
	    now - (int64_t)window_s * 1000) == -1)
		return -1;
	return run_keyed(db, STMT_INSERT, bucket, key, 1, now);
}

int
throttle_clear(struct db *db, const char *bucket, const char *key)
{
	return run_keyed(db, STMT_CLEAR, bucket, key, 0, 0);
}

int
throttle_take(struct db *db, const char *user_type, int64_t user_id,
    long rate, double burst_s, int want, int64_t now, int *granted)
{
	double burst = (double)rate * burst_s, allowance = burst;
	sqlite3_stmt *s;
	int rc;

	*granted = want;
	if (rate <= 0 || want <= 0)
		return 0;
	if ((s = db_stmt(db, stmts[STMT_BUCKET_GET])) == NULL)
		return -1;
	sqlite3_bind_text(s, 1, user_type, -1, SQLITE_STATIC);
	sqlite3_bind_int64(s, 2, user_id);
	if ((rc = sqlite3_step(s)) == SQLITE_ROW)
		allowance = sqlite3_column_double(s, 0) + (double)(now -
		    sqlite3_column_int64(s, 1)) / 1000.0 * (double)rate;
	db_done(s);
	if (rc != SQLITE_ROW && rc != SQLITE_DONE)
		return -1;
	if (allowance > burst)
		allowance = burst;
	*granted = allowance >= (double)want ? want : allowance < 1.0 ? 0 :
	    (int)allowance;
	allowance -= *granted;
	if ((s = db_stmt(db, stmts[STMT_BUCKET_SET])) == NULL)
		return -1;
	sqlite3_bind_text(s, 1, user_type, -1, SQLITE_STATIC);
	sqlite3_bind_int64(s, 2, user_id);
	sqlite3_bind_double(s, 3, allowance);
	sqlite3_bind_int64(s, 4, now);
	rc = sqlite3_step(s);
	db_done(s);
	return rc == SQLITE_DONE ? 0 : -1;
}
