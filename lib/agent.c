#include <stdio.h>
#include <string.h>

#include "agent.h"
#include "db.h"

enum stmt {
	STMT_FIND,
	STMT_GET,
	STMT_INSERT,
	STMT_SET_PASSWORD,
	STMT_SET_DISABLED,
	STMT_ALL,
	STMT_LOAD,
	STMT_ACTIVE,
	STMT__MAX
};

#define AGENT_COLUMNS \
	"id, username, display_name, password_hash, disabled_at, created_at"

static const char *const stmts[STMT__MAX] = {
	[STMT_FIND] = "SELECT " AGENT_COLUMNS " FROM agents WHERE username = ?",
	[STMT_GET] = "SELECT " AGENT_COLUMNS " FROM agents WHERE id = ?",
	[STMT_INSERT] =
	    "INSERT INTO agents (username, display_name, password_hash,"
	    " created_at) VALUES (?, ?, ?, ?)",
	[STMT_SET_PASSWORD] = "UPDATE agents SET password_hash = ? WHERE id = ?",
	[STMT_SET_DISABLED] = "UPDATE agents SET disabled_at = ? WHERE id = ?",
	[STMT_ALL] = "SELECT " AGENT_COLUMNS " FROM agents ORDER BY id",
	[STMT_LOAD] = "SELECT a.id, a.display_name,"
	    " EXISTS (SELECT 1 FROM connections k WHERE k.user_type = 'agent'"
	    "  AND k.user_id = a.id AND k.seen_at >= ?),"
	    " (SELECT count(*) FROM sessions s WHERE s.agent_id = a.id"
	    "  AND s.status = 'active')"
	    " FROM agents a WHERE a.disabled_at IS NULL"
	    " ORDER BY a.display_name COLLATE NOCASE, a.id",
	[STMT_ACTIVE] = "SELECT count(*) FROM sessions"
	    " WHERE agent_id = ? AND status = 'active'",
};

const char *
agent_check_username(const char *username)
{
	size_t n = strlen(username);

	if (n == 0 || n > AGENT_USERNAME_MAX)
		return "username must be 1 to 64 characters";
	if (strspn(username, "ABCDEFGHIJKLMNOPQRSTUVWXYZ"
	    "abcdefghijklmnopqrstuvwxyz0123456789._-") != n)
		return "username may contain only A-Z, a-z, 0-9, '.', '_' and '-'";
	return NULL;
}

static void
read_row(sqlite3_stmt *s, struct agent *a)
{
	a->id = sqlite3_column_int64(s, 0);
	db_column_copy(s, 1, a->username, sizeof(a->username));
	db_column_copy(s, 2, a->display_name, sizeof(a->display_name));
	db_column_copy(s, 3, a->password_hash, sizeof(a->password_hash));
	a->disabled_at = sqlite3_column_int64(s, 4);
	a->created_at = sqlite3_column_int64(s, 5);
}

/* Step s, bound by the caller, for at most one row into *out. */
static enum agent_status
load_one(sqlite3_stmt *s, struct agent *out)
{
	enum agent_status st = AGENT_ERROR;
	int rc = sqlite3_step(s);

	if (rc == SQLITE_ROW) {
		read_row(s, out);
		st = AGENT_OK;
	} else if (rc == SQLITE_DONE)
		st = AGENT_NOT_FOUND;
	db_done(s);
	return st;
}

enum agent_status
agent_find(struct db *db, const char *username, struct agent *out)
{
	sqlite3_stmt *s = db_stmt(db, stmts[STMT_FIND]);

	if (s == NULL)
		return AGENT_ERROR;
	sqlite3_bind_text(s, 1, username, -1, SQLITE_STATIC);
	return load_one(s, out);
}

enum agent_status
agent_get(struct db *db, int64_t id, struct agent *out)
{
	sqlite3_stmt *s = db_stmt(db, stmts[STMT_GET]);

	if (s == NULL)
		return AGENT_ERROR;
	sqlite3_bind_int64(s, 1, id);
	return load_one(s, out);
}

enum agent_status
agent_add(struct db *db, const char *username, const char *display_name,
    const char *password_hash, int64_t now, int64_t *id)
{
	sqlite3_stmt *s = db_stmt(db, stmts[STMT_INSERT]);
	int rc;

	if (s == NULL)
		return AGENT_ERROR;
	sqlite3_bind_text(s, 1, username, -1, SQLITE_STATIC);
	sqlite3_bind_text(s, 2, display_name, -1, SQLITE_STATIC);
	sqlite3_bind_text(s, 3, password_hash, -1, SQLITE_STATIC);
	sqlite3_bind_int64(s, 4, now);
	rc = sqlite3_step(s);
	db_done(s);
	if (rc == SQLITE_CONSTRAINT_UNIQUE)
		return AGENT_EXISTS;
	if (rc != SQLITE_DONE)
		return AGENT_ERROR;
	*id = sqlite3_last_insert_rowid(db_handle(db));
	return AGENT_OK;
}

/* Run an UPDATE of one agent bound by the caller; NOT_FOUND when no row changed. */
static enum agent_status
update_one(struct db *db, sqlite3_stmt *s)
{
	int rc = sqlite3_step(s);

	db_done(s);
	if (rc != SQLITE_DONE)
		return AGENT_ERROR;
	return sqlite3_changes(db_handle(db)) > 0 ? AGENT_OK : AGENT_NOT_FOUND;
}

enum agent_status
agent_set_password(struct db *db, int64_t id, const char *password_hash)
{
	sqlite3_stmt *s = db_stmt(db, stmts[STMT_SET_PASSWORD]);

	if (s == NULL)
		return AGENT_ERROR;
	sqlite3_bind_text(s, 1, password_hash, -1, SQLITE_STATIC);
	sqlite3_bind_int64(s, 2, id);
	return update_one(db, s);
}

enum agent_status
agent_set_disabled(struct db *db, int64_t id, int64_t now)
{
	sqlite3_stmt *s = db_stmt(db, stmts[STMT_SET_DISABLED]);

	if (s == NULL)
		return AGENT_ERROR;
	if (now != 0)
		sqlite3_bind_int64(s, 1, now);
	sqlite3_bind_int64(s, 2, id);
	return update_one(db, s);
}

enum agent_status
agent_each(struct db *db, int (*fn)(const struct agent *, void *), void *arg)
{
	sqlite3_stmt *s = db_stmt(db, stmts[STMT_ALL]);
	enum agent_status st = AGENT_OK;
	struct agent a;
	int rc;

	if (s == NULL)
		return AGENT_ERROR;
	while ((rc = sqlite3_step(s)) == SQLITE_ROW) {
		read_row(s, &a);
		if (fn(&a, arg) == -1) {
			st = AGENT_ERROR;
			break;
		}
	}
	if (st == AGENT_OK && rc != SQLITE_DONE)
		st = AGENT_ERROR;
	db_done(s);
	return st;
}

enum agent_status
agent_each_load(struct db *db, int64_t seen_after,
    int (*fn)(const struct agent_load *, void *), void *arg)
{
	sqlite3_stmt *s = db_stmt(db, stmts[STMT_LOAD]);
	enum agent_status st = AGENT_OK;
	struct agent_load a;
	int rc;

	if (s == NULL)
		return AGENT_ERROR;
	sqlite3_bind_int64(s, 1, seen_after);
	while ((rc = sqlite3_step(s)) == SQLITE_ROW) {
		a.id = sqlite3_column_int64(s, 0);
		db_column_copy(s, 1, a.display_name, sizeof(a.display_name));
		a.online = sqlite3_column_int(s, 2);
		a.active = (long)sqlite3_column_int64(s, 3);
		if (fn(&a, arg) == -1) {
			st = AGENT_ERROR;
			break;
		}
	}
	if (st == AGENT_OK && rc != SQLITE_DONE)
		st = AGENT_ERROR;
	db_done(s);
	return st;
}

enum agent_status
agent_active_count(struct db *db, int64_t id, long *count)
{
	sqlite3_stmt *s = db_stmt(db, stmts[STMT_ACTIVE]);
	int rc;

	if (s == NULL)
		return AGENT_ERROR;
	sqlite3_bind_int64(s, 1, id);
	rc = sqlite3_step(s);
	*count = rc == SQLITE_ROW ? (long)sqlite3_column_int64(s, 0) : 0;
	db_done(s);
	return rc == SQLITE_ROW ? AGENT_OK : AGENT_ERROR;
}
