#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "db.h"
#include "message.h"

enum stmt {
	STMT_INSERT,
	STMT_GET,
	STMT_FIND_CLIENT_ID,
	STMT_PAGE_AFTER,
	STMT_PAGE_BEFORE,
	STMT_HAS_OLDER,
	STMT__MAX
};

#define MESSAGE_COLUMNS \
	"id, session_id, sender_type, sender_id, text, client_msg_id," \
	" created_at, origin_conn FROM messages"

static const char *const stmts[STMT__MAX] = {
	[STMT_INSERT] =
	    "INSERT INTO messages (session_id, sender_type, sender_id, text,"
	    " client_msg_id, origin_conn, created_at) VALUES (?, ?, ?, ?, ?, ?, ?)",
	[STMT_GET] = "SELECT " MESSAGE_COLUMNS " WHERE id = ?",
	[STMT_FIND_CLIENT_ID] = "SELECT " MESSAGE_COLUMNS
	    " WHERE session_id = ? AND sender_type = ? AND sender_id IS ?"
	    " AND client_msg_id = ?",
	[STMT_PAGE_AFTER] = "SELECT " MESSAGE_COLUMNS
	    " WHERE session_id = ? AND id > ? ORDER BY id LIMIT ?",
	[STMT_PAGE_BEFORE] = "SELECT * FROM (SELECT " MESSAGE_COLUMNS
	    " WHERE session_id = ? AND id < ? ORDER BY id DESC LIMIT ?)"
	    " ORDER BY id",
	[STMT_HAS_OLDER] =
	    "SELECT 1 FROM messages WHERE session_id = ? AND id < ? LIMIT 1",
};

static const char *const sender_names[] = {
	[SENDER_CUSTOMER] = "customer",
	[SENDER_AGENT] = "agent",
	[SENDER_SYSTEM] = "system",
};

const char *
message_sender_name(enum sender_type type)
{
	return sender_names[type];
}

static void
read_row(sqlite3_stmt *s, struct message *out, int64_t *origin_conn)
{
	const char *type = (const char *)sqlite3_column_text(s, 2);

	out->id = sqlite3_column_int64(s, 0);
	out->session_id = sqlite3_column_int64(s, 1);
	out->sender_type = SENDER_SYSTEM;
	if (type != NULL && strcmp(type, "customer") == 0)
		out->sender_type = SENDER_CUSTOMER;
	else if (type != NULL && strcmp(type, "agent") == 0)
		out->sender_type = SENDER_AGENT;
	out->sender_id = sqlite3_column_int64(s, 3);
	db_column_copy(s, 4, out->text, sizeof(out->text));
	db_column_copy(s, 5, out->client_msg_id, sizeof(out->client_msg_id));
	out->created_at = sqlite3_column_int64(s, 6);
	if (origin_conn != NULL)
		*origin_conn = sqlite3_column_int64(s, 7);
}

static enum message_status
load_one(sqlite3_stmt *s, struct message *out, int64_t *origin_conn)
{
	enum message_status st = MESSAGE_ERROR;
	int rc = sqlite3_step(s);

	if (rc == SQLITE_ROW) {
		read_row(s, out, origin_conn);
		st = MESSAGE_OK;
	} else if (rc == SQLITE_DONE)
		st = MESSAGE_NOT_FOUND;
	db_done(s);
	return st;
}

static void
bind_sender(sqlite3_stmt *s, int col, enum sender_type type, int64_t id)
{
	sqlite3_bind_text(s, col, sender_names[type], -1, SQLITE_STATIC);
	if (type != SENDER_SYSTEM)
		sqlite3_bind_int64(s, col + 1, id);
	else
		sqlite3_bind_null(s, col + 1);
}

enum message_status
message_add(struct db *db, int64_t session_id, enum sender_type type,
    int64_t sender_id, const char *text, const char *client_msg_id,
    int64_t origin_conn, int64_t now, struct message *out)
{
	enum message_status st;
	sqlite3_stmt *s;
	int rc;

	if (client_msg_id != NULL) {
		if ((s = db_stmt(db, stmts[STMT_FIND_CLIENT_ID])) == NULL)
			return MESSAGE_ERROR;
		sqlite3_bind_int64(s, 1, session_id);
		bind_sender(s, 2, type, sender_id);
		sqlite3_bind_text(s, 4, client_msg_id, -1, SQLITE_STATIC);
		if ((st = load_one(s, out, NULL)) != MESSAGE_NOT_FOUND)
			return st == MESSAGE_OK ? MESSAGE_DUPLICATE : st;
	}
	if ((s = db_stmt(db, stmts[STMT_INSERT])) == NULL)
		return MESSAGE_ERROR;
	sqlite3_bind_int64(s, 1, session_id);
	bind_sender(s, 2, type, sender_id);
	sqlite3_bind_text(s, 4, text, -1, SQLITE_STATIC);
	if (client_msg_id != NULL)
		sqlite3_bind_text(s, 5, client_msg_id, -1, SQLITE_STATIC);
	if (origin_conn != 0)
		sqlite3_bind_int64(s, 6, origin_conn);
	sqlite3_bind_int64(s, 7, now);
	rc = sqlite3_step(s);
	db_done(s);
	if (rc != SQLITE_DONE)
		return MESSAGE_ERROR;
	/* What was stored is what was given: no need to read it back under the lock. */
	out->id = sqlite3_last_insert_rowid(db_handle(db));
	out->session_id = session_id;
	out->sender_type = type;
	out->sender_id = type != SENDER_SYSTEM ? sender_id : 0;
	snprintf(out->text, sizeof(out->text), "%s", text);
	snprintf(out->client_msg_id, sizeof(out->client_msg_id), "%s",
	    client_msg_id != NULL ? client_msg_id : "");
	out->created_at = now;
	return MESSAGE_OK;
}

enum message_status
message_get(struct db *db, int64_t id, struct message *out,
    int64_t *origin_conn)
{
	sqlite3_stmt *s = db_stmt(db, stmts[STMT_GET]);

	if (s == NULL)
		return MESSAGE_ERROR;
	sqlite3_bind_int64(s, 1, id);
	return load_one(s, out, origin_conn);
}

/* Whether the session has a message older than id. 1, 0, or -1 on error. */
static int
has_older(struct db *db, int64_t session_id, int64_t id)
{
	sqlite3_stmt *s = db_stmt(db, stmts[STMT_HAS_OLDER]);
	int rc;

	if (s == NULL)
		return -1;
	sqlite3_bind_int64(s, 1, session_id);
	sqlite3_bind_int64(s, 2, id);
	rc = sqlite3_step(s);
	db_done(s);
	return rc == SQLITE_ROW ? 1 : rc == SQLITE_DONE ? 0 : -1;
}

enum message_status
message_page(struct db *db, int64_t session_id, int64_t after,
    int64_t before, int limit, int (*fn)(const struct message *, void *),
    void *arg, int *has_more)
{
	sqlite3_stmt *s = db_stmt(db, stmts[before > 0 ? STMT_PAGE_BEFORE :
	    STMT_PAGE_AFTER]);
	enum message_status st = MESSAGE_OK;
	struct message *m = NULL;
	int64_t oldest = 0;
	int rc, n = 0;

	*has_more = 0;
	if (s == NULL || (m = malloc(sizeof(*m))) == NULL) {
		db_done(s);
		return MESSAGE_ERROR;
	}
	sqlite3_bind_int64(s, 1, session_id);
	sqlite3_bind_int64(s, 2, before > 0 ? before : after);
	/* Forward, one row more than asked for tells whether there are more. */
	sqlite3_bind_int(s, 3, before > 0 ? limit : limit + 1);
	while ((rc = sqlite3_step(s)) == SQLITE_ROW) {
		read_row(s, m, NULL);
		if (++n > limit) {
			*has_more = 1;
			break;
		}
		if (n == 1)
			oldest = m->id;
		if (fn(m, arg) == -1) {
			st = MESSAGE_ERROR;
			break;
		}
	}
	if (st == MESSAGE_OK && rc != SQLITE_ROW && rc != SQLITE_DONE)
		st = MESSAGE_ERROR;
	db_done(s);
	free(m);
	if (st == MESSAGE_OK && before > 0 && n > 0 &&
	    (*has_more = has_older(db, session_id, oldest)) == -1)
		st = MESSAGE_ERROR;
	return st;
}
