#include <stdio.h>
#include <string.h>

#include "db.h"
#include "session.h"

enum stmt {
	STMT_GET,
	STMT_GET_BRIEF,
	STMT_FIND_OPEN,
	STMT_INSERT,
	STMT_EACH_CUSTOMER,
	STMT_EACH_AGENT,
	STMT_CLAIM,
	STMT_TRANSFER,
	STMT_CLOSE,
	STMT_PICK_AGENT,
	STMT_ABANDONED,
	STMT_REQUEUE,
	STMT_SET_CONTEXT,
	STMT_SET_LEFT_MESSAGE,
	STMT__MAX
};

#define SESSION_FIELDS \
	"s.id, s.customer_id, c.name, s.agent_id, s.status, s.channel," \
	" s.subject, s.created_at, s.closed_at, s.kind," \
	" (SELECT display_name FROM agents WHERE id = s.agent_id), c.email," \
	" s.context"
#define SESSION_COLUMNS SESSION_FIELDS \
	" FROM sessions s JOIN customers c ON c.id = s.customer_id"

static const char *const stmts[STMT__MAX] = {
	[STMT_GET] = "SELECT " SESSION_COLUMNS " WHERE s.id = ?",
	[STMT_GET_BRIEF] =
	    "SELECT customer_id, agent_id, status FROM sessions WHERE id = ?",
	[STMT_FIND_OPEN] = "SELECT " SESSION_COLUMNS
	    " WHERE s.customer_id = ? AND s.status <> 'closed'",
	[STMT_INSERT] =
	    "INSERT INTO sessions (customer_id, agent_id, status, channel,"
	    " subject, created_at) SELECT id, ?, ?, channel, ?, ?"
	    " FROM customers WHERE id = ?",
	[STMT_EACH_CUSTOMER] = "SELECT " SESSION_COLUMNS
	    " WHERE s.customer_id = ? AND (?2 IS NULL OR s.status = ?2)"
	    " ORDER BY s.id",
	[STMT_EACH_AGENT] = "SELECT " SESSION_COLUMNS
	    " WHERE (s.agent_id = ?1 OR s.status = 'queued')"
	    " AND (?2 IS NULL OR s.status = ?2) ORDER BY s.id",
	[STMT_CLAIM] = "UPDATE sessions SET agent_id = ?, status = 'active'"
	    " WHERE id = ? AND status = 'queued'",
	[STMT_TRANSFER] = "UPDATE sessions SET agent_id = ?"
	    " WHERE id = ? AND status = 'active'",
	[STMT_CLOSE] = "UPDATE sessions SET status = 'closed', closed_at = ?"
	    " WHERE id = ? AND status <> 'closed'",
	[STMT_PICK_AGENT] =
	    "SELECT id FROM (SELECT a.id, (SELECT count(*) FROM sessions s"
	    "  WHERE s.agent_id = a.id AND s.status = 'active') AS load"
	    " FROM agents a WHERE a.disabled_at IS NULL"
	    " AND EXISTS (SELECT 1 FROM connections k"
	    "  WHERE k.user_type = 'agent' AND k.user_id = a.id"
	    "  AND k.seen_at >= ?2))"
	    " WHERE ?1 = 0 OR load < ?1 ORDER BY load, id LIMIT 1",
	/*
	 * Active sessions whose agent has no live connection and was last
	 * seen before ?2: an agent never seen on a connection (REST only)
	 * keeps theirs.
	 */
	/*
	 * From the agents not seen since ?2 (CROSS JOIN keeps that order):
	 * every connection runs it, and few agents are gone at a time.
	 */
	[STMT_ABANDONED] = "SELECT " SESSION_FIELDS
	    " FROM agent_presence p CROSS JOIN sessions s"
	    " ON s.agent_id = p.agent_id AND s.status = 'active'"
	    " JOIN customers c ON c.id = s.customer_id"
	    " WHERE p.seen_at < ?2"
	    " AND NOT EXISTS (SELECT 1 FROM connections k"
	    "  WHERE k.user_type = 'agent' AND k.user_id = s.agent_id"
	    "  AND k.seen_at >= ?1)"
	    " ORDER BY s.id LIMIT ?3",
	[STMT_REQUEUE] = "UPDATE sessions SET agent_id = NULL, status = 'queued'"
	    " WHERE agent_id = ? AND id = ? AND status = 'active'",
	[STMT_SET_CONTEXT] = "UPDATE sessions SET context = ? WHERE id = ?",
	[STMT_SET_LEFT_MESSAGE] =
	    "UPDATE sessions SET kind = 'message' WHERE id = ?",
};

static const char *const state_names[] = {
	[SESSION_QUEUED] = "queued",
	[SESSION_ACTIVE] = "active",
	[SESSION_CLOSED] = "closed",
};

const char *
session_state_name(enum session_state state)
{
	return state_names[state];
}

int
session_state_parse(const char *name, enum session_state *out)
{
	size_t i;

	for (i = 0; i < sizeof(state_names) / sizeof(state_names[0]); i++)
		if (strcmp(name, state_names[i]) == 0) {
			*out = (enum session_state)i;
			return 0;
		}
	return -1;
}

static void
read_row(sqlite3_stmt *s, struct session *out)
{
	enum session_state st = SESSION_CLOSED;

	out->id = sqlite3_column_int64(s, 0);
	out->customer_id = sqlite3_column_int64(s, 1);
	db_column_copy(s, 2, out->customer_name, sizeof(out->customer_name));
	out->agent_id = sqlite3_column_int64(s, 3);
	session_state_parse((const char *)sqlite3_column_text(s, 4), &st);
	out->state = st;
	db_column_copy(s, 5, out->channel, sizeof(out->channel));
	out->has_subject = sqlite3_column_type(s, 6) != SQLITE_NULL;
	db_column_copy(s, 6, out->subject, sizeof(out->subject));
	out->created_at = sqlite3_column_int64(s, 7);
	out->closed_at = sqlite3_column_int64(s, 8);
	out->left_message = sqlite3_column_text(s, 9) != NULL &&
	    strcmp((const char *)sqlite3_column_text(s, 9), "message") == 0;
	db_column_copy(s, 10, out->agent_name, sizeof(out->agent_name));
	db_column_copy(s, 11, out->customer_email, sizeof(out->customer_email));
	db_column_copy(s, 12, out->context, sizeof(out->context));
	if (out->context[0] == '\0')
		snprintf(out->context, sizeof(out->context), "{}");
}

static enum session_status
load_one(sqlite3_stmt *s, struct session *out)
{
	enum session_status st = SESSION_ERROR;
	int rc = sqlite3_step(s);

	if (rc == SQLITE_ROW) {
		read_row(s, out);
		st = SESSION_OK;
	} else if (rc == SQLITE_DONE)
		st = SESSION_NOT_FOUND;
	db_done(s);
	return st;
}

enum session_status
session_get(struct db *db, int64_t id, struct session *out)
{
	sqlite3_stmt *s = db_stmt(db, stmts[STMT_GET]);

	if (s == NULL)
		return SESSION_ERROR;
	sqlite3_bind_int64(s, 1, id);
	return load_one(s, out);
}

enum session_status
session_get_brief(struct db *db, int64_t id, struct session *out)
{
	sqlite3_stmt *s = db_stmt(db, stmts[STMT_GET_BRIEF]);
	enum session_state state = SESSION_CLOSED;
	int rc;

	if (s == NULL)
		return SESSION_ERROR;
	sqlite3_bind_int64(s, 1, id);
	if ((rc = sqlite3_step(s)) == SQLITE_ROW) {
		out->id = id;
		out->customer_id = sqlite3_column_int64(s, 0);
		out->agent_id = sqlite3_column_int64(s, 1);
		session_state_parse((const char *)sqlite3_column_text(s, 2),
		    &state);
		out->state = state;
	}
	db_done(s);
	return rc == SQLITE_ROW ? SESSION_OK : rc == SQLITE_DONE ?
	    SESSION_NOT_FOUND : SESSION_ERROR;
}

enum session_status
session_find_open(struct db *db, int64_t customer_id, struct session *out)
{
	sqlite3_stmt *s = db_stmt(db, stmts[STMT_FIND_OPEN]);

	if (s == NULL)
		return SESSION_ERROR;
	sqlite3_bind_int64(s, 1, customer_id);
	return load_one(s, out);
}

enum session_status
session_create(struct db *db, int64_t customer_id, const char *subject,
    int64_t agent_id, int64_t now, struct session *out)
{
	sqlite3_stmt *s = db_stmt(db, stmts[STMT_INSERT]);
	int rc;

	if (s == NULL)
		return SESSION_ERROR;
	if (agent_id != 0)
		sqlite3_bind_int64(s, 1, agent_id);
	sqlite3_bind_text(s, 2, agent_id != 0 ? "active" : "queued", -1,
	    SQLITE_STATIC);
	if (subject != NULL)
		sqlite3_bind_text(s, 3, subject, -1, SQLITE_STATIC);
	sqlite3_bind_int64(s, 4, now);
	sqlite3_bind_int64(s, 5, customer_id);
	rc = sqlite3_step(s);
	db_done(s);
	if (rc == SQLITE_CONSTRAINT_UNIQUE)
		return SESSION_CONFLICT;
	if (rc != SQLITE_DONE)
		return SESSION_ERROR;
	if (sqlite3_changes(db_handle(db)) == 0)
		return SESSION_NOT_FOUND;
	return session_get(db, sqlite3_last_insert_rowid(db_handle(db)), out);
}

enum session_status
session_each(struct db *db, int is_agent, int64_t user_id, int state,
    int (*fn)(const struct session *, void *), void *arg)
{
	sqlite3_stmt *s = db_stmt(db, stmts[is_agent ? STMT_EACH_AGENT :
	    STMT_EACH_CUSTOMER]);
	enum session_status st = SESSION_OK;
	struct session row;
	int rc;

	if (s == NULL)
		return SESSION_ERROR;
	sqlite3_bind_int64(s, 1, user_id);
	if (state >= 0)
		sqlite3_bind_text(s, 2, state_names[state], -1, SQLITE_STATIC);
	while ((rc = sqlite3_step(s)) == SQLITE_ROW) {
		read_row(s, &row);
		if (fn(&row, arg) == -1) {
			st = SESSION_ERROR;
			break;
		}
	}
	if (st == SESSION_OK && rc != SQLITE_DONE)
		st = SESSION_ERROR;
	db_done(s);
	return st;
}

enum session_status
session_set_context(struct db *db, int64_t id, const char *context)
{
	sqlite3_stmt *s = db_stmt(db, stmts[STMT_SET_CONTEXT]);
	int rc;

	if (s == NULL)
		return SESSION_ERROR;
	sqlite3_bind_text(s, 1, context, -1, SQLITE_STATIC);
	sqlite3_bind_int64(s, 2, id);
	rc = sqlite3_step(s);
	db_done(s);
	if (rc != SQLITE_DONE)
		return SESSION_ERROR;
	return sqlite3_changes(db_handle(db)) > 0 ? SESSION_OK :
	    SESSION_NOT_FOUND;
}

enum session_status
session_set_left_message(struct db *db, int64_t id)
{
	sqlite3_stmt *s = db_stmt(db, stmts[STMT_SET_LEFT_MESSAGE]);
	int rc;

	if (s == NULL)
		return SESSION_ERROR;
	sqlite3_bind_int64(s, 1, id);
	rc = sqlite3_step(s);
	db_done(s);
	if (rc != SQLITE_DONE)
		return SESSION_ERROR;
	return sqlite3_changes(db_handle(db)) > 0 ? SESSION_OK :
	    SESSION_NOT_FOUND;
}

/* Run an UPDATE bound with (value, id); CONFLICT when it changed nothing. */
static enum session_status
update(struct db *db, enum stmt which, int64_t value, int64_t id)
{
	sqlite3_stmt *s = db_stmt(db, stmts[which]);
	int rc;

	if (s == NULL)
		return SESSION_ERROR;
	sqlite3_bind_int64(s, 1, value);
	sqlite3_bind_int64(s, 2, id);
	rc = sqlite3_step(s);
	db_done(s);
	if (rc != SQLITE_DONE)
		return SESSION_ERROR;
	return sqlite3_changes(db_handle(db)) > 0 ? SESSION_OK : SESSION_CONFLICT;
}

enum session_status
session_claim(struct db *db, int64_t id, int64_t agent_id)
{
	return update(db, STMT_CLAIM, agent_id, id);
}

enum session_status
session_transfer(struct db *db, int64_t id, int64_t agent_id)
{
	return update(db, STMT_TRANSFER, agent_id, id);
}

enum session_status
session_close(struct db *db, int64_t id, int64_t now)
{
	return update(db, STMT_CLOSE, now, id);
}

enum session_status
session_requeue(struct db *db, int64_t id, int64_t agent_id)
{
	return update(db, STMT_REQUEUE, agent_id, id);
}

enum session_status
session_each_abandoned(struct db *db, int64_t seen_after,
    int64_t absent_before, int limit, struct session *out, size_t *n)
{
	sqlite3_stmt *s = db_stmt(db, stmts[STMT_ABANDONED]);
	int rc;

	*n = 0;
	if (s == NULL)
		return SESSION_ERROR;
	sqlite3_bind_int64(s, 1, seen_after);
	sqlite3_bind_int64(s, 2, absent_before);
	sqlite3_bind_int(s, 3, limit);
	while ((rc = sqlite3_step(s)) == SQLITE_ROW)
		read_row(s, &out[(*n)++]);
	db_done(s);
	return rc == SQLITE_DONE ? SESSION_OK : SESSION_ERROR;
}

enum session_status
session_pick_agent(struct db *db, long max_active, int64_t seen_after,
    int64_t *agent_id)
{
	sqlite3_stmt *s = db_stmt(db, stmts[STMT_PICK_AGENT]);
	int rc;

	*agent_id = 0;
	if (s == NULL)
		return SESSION_ERROR;
	sqlite3_bind_int64(s, 1, max_active);
	sqlite3_bind_int64(s, 2, seen_after);
	rc = sqlite3_step(s);
	if (rc == SQLITE_ROW)
		*agent_id = sqlite3_column_int64(s, 0);
	db_done(s);
	return rc == SQLITE_ROW || rc == SQLITE_DONE ? SESSION_OK : SESSION_ERROR;
}
