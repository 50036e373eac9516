#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "db.h"
#include "message.h"

enum stmt {
	STMT_INSERT,
	STMT_INSERT_EVENT,
	STMT_AGENT_NAMES,
	STMT_GET,
	STMT_FIND_CLIENT_ID,
	STMT_PAGE_AFTER,
	STMT_PAGE_BEFORE,
	STMT_HAS_OLDER,
	STMT__MAX
};

#define MESSAGE_COLUMNS \
	"m.id, m.session_id, m.sender_type, m.sender_id, m.text," \
	" m.client_msg_id, m.created_at, m.origin_conn," \
	" CASE m.sender_type" \
	"  WHEN 'agent' THEN (SELECT display_name FROM agents WHERE id = m.sender_id)" \
	"  WHEN 'customer' THEN (SELECT name FROM customers WHERE id = m.sender_id)" \
	" END, m.event, m.event_agent_id, m.event_from_agent_id," \
	" (SELECT display_name FROM agents WHERE id = m.event_agent_id)," \
	" (SELECT display_name FROM agents WHERE id = m.event_from_agent_id)" \
	" FROM messages m"

static const char *const stmts[STMT__MAX] = {
	/* A repeated clientMsgId stores nothing (messages_client_msg_id). */
	[STMT_INSERT] =
	    "INSERT INTO messages (session_id, sender_type, sender_id, text,"
	    " client_msg_id, origin_conn, created_at) VALUES (?, ?, ?, ?, ?, ?, ?)"
	    " ON CONFLICT DO NOTHING",
	[STMT_INSERT_EVENT] =
	    "INSERT INTO messages (session_id, sender_type, text, event,"
	    " event_agent_id, event_from_agent_id, created_at)"
	    " VALUES (?, 'system', ?, ?, ?, ?, ?)",
	[STMT_AGENT_NAMES] = "SELECT (SELECT display_name FROM agents"
	    " WHERE id = ?), (SELECT display_name FROM agents WHERE id = ?)",
	[STMT_GET] = "SELECT " MESSAGE_COLUMNS " WHERE m.id = ?",
	[STMT_FIND_CLIENT_ID] = "SELECT " MESSAGE_COLUMNS
	    " WHERE m.session_id = ? AND m.sender_type = ? AND m.sender_id IS ?"
	    " AND m.client_msg_id = ?",
	[STMT_PAGE_AFTER] = "SELECT " MESSAGE_COLUMNS
	    " WHERE m.session_id = ? AND m.id > ? ORDER BY m.id LIMIT ?",
	[STMT_PAGE_BEFORE] = "SELECT * FROM (SELECT " MESSAGE_COLUMNS
	    " WHERE m.session_id = ? AND m.id < ? ORDER BY m.id DESC LIMIT ?)"
	    " ORDER BY 1",
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

static const char *const event_names[] = {
	[EVENT_NONE] = NULL,
	[EVENT_JOINED] = "joined",
	[EVENT_TRANSFERRED] = "transferred",
	[EVENT_LEFT_MESSAGE] = "left_message",
};

const char *
message_event_name(enum message_event event)
{
	return event_names[event];
}

static void
read_row(sqlite3_stmt *s, struct message *out, int64_t *origin_conn)
{
	const char *type = (const char *)sqlite3_column_text(s, 2);
	size_t i;

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
	db_column_copy(s, 8, out->sender_name, sizeof(out->sender_name));
	out->event = EVENT_NONE;
	type = (const char *)sqlite3_column_text(s, 9);
	for (i = 1; type != NULL && i < sizeof(event_names) /
	    sizeof(event_names[0]); i++)
		if (strcmp(type, event_names[i]) == 0)
			out->event = (enum message_event)i;
	out->event_agent_id = sqlite3_column_int64(s, 10);
	out->event_from_agent_id = sqlite3_column_int64(s, 11);
	db_column_copy(s, 12, out->event_agent, sizeof(out->event_agent));
	db_column_copy(s, 13, out->event_from_agent,
	    sizeof(out->event_from_agent));
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
	/* Nothing inserted: a repeat. It answers with what was stored first. */
	if (sqlite3_changes(db_handle(db)) == 0) {
		if (client_msg_id == NULL ||
		    (s = db_stmt(db, stmts[STMT_FIND_CLIENT_ID])) == NULL)
			return MESSAGE_ERROR;
		sqlite3_bind_int64(s, 1, session_id);
		bind_sender(s, 2, type, sender_id);
		sqlite3_bind_text(s, 4, client_msg_id, -1, SQLITE_STATIC);
		st = load_one(s, out, NULL);
		return st == MESSAGE_OK ? MESSAGE_DUPLICATE : MESSAGE_ERROR;
	}
	/* What was stored is what was given: no need to read it back under the lock. */
	out->id = sqlite3_last_insert_rowid(db_handle(db));
	out->session_id = session_id;
	out->sender_type = type;
	out->sender_id = type != SENDER_SYSTEM ? sender_id : 0;
	snprintf(out->text, sizeof(out->text), "%s", text);
	snprintf(out->client_msg_id, sizeof(out->client_msg_id), "%s",
	    client_msg_id != NULL ? client_msg_id : "");
	out->created_at = now;
	out->sender_name[0] = '\0';
	out->event = EVENT_NONE;
	out->event_agent_id = out->event_from_agent_id = 0;
	out->event_agent[0] = out->event_from_agent[0] = '\0';
	return MESSAGE_OK;
}

/* Bind id to column col, or NULL for 0. */
static void
bind_id(sqlite3_stmt *s, int col, int64_t id)
{
	if (id != 0)
		sqlite3_bind_int64(s, col, id);
	else
		sqlite3_bind_null(s, col);
}

enum message_status
message_add_event(struct db *db, int64_t session_id, enum message_event event,
    int64_t agent_id, int64_t from_agent_id, int64_t now, struct message *out)
{
	sqlite3_stmt *s, *names;
	char agent[MESSAGE_NAME_MAX * 4 + 1] = "", from[sizeof(agent)] = "";
	char text[3 * sizeof(agent)];
	int rc;

	/* The names, for the English text: the agents' display names now. */
	if ((names = db_stmt(db, stmts[STMT_AGENT_NAMES])) == NULL)
		return MESSAGE_ERROR;
	bind_id(names, 1, agent_id);
	bind_id(names, 2, from_agent_id);
	if ((rc = sqlite3_step(names)) == SQLITE_ROW) {
		db_column_copy(names, 0, agent, sizeof(agent));
		db_column_copy(names, 1, from, sizeof(from));
	}
	db_done(names);
	if (rc != SQLITE_ROW)
		return MESSAGE_ERROR;
	if (event == EVENT_JOINED)
		snprintf(text, sizeof(text), "%s joined the chat", agent);
	else if (event == EVENT_TRANSFERRED)
		snprintf(text, sizeof(text), "%s transferred the chat to %s",
		    from, agent);
	else
		snprintf(text, sizeof(text), "The visitor left a message");
	if ((s = db_stmt(db, stmts[STMT_INSERT_EVENT])) == NULL)
		return MESSAGE_ERROR;
	sqlite3_bind_int64(s, 1, session_id);
	sqlite3_bind_text(s, 2, text, -1, SQLITE_STATIC);
	sqlite3_bind_text(s, 3, event_names[event], -1, SQLITE_STATIC);
	bind_id(s, 4, agent_id);
	bind_id(s, 5, from_agent_id);
	sqlite3_bind_int64(s, 6, now);
	rc = sqlite3_step(s);
	db_done(s);
	if (rc != SQLITE_DONE)
		return MESSAGE_ERROR;
	memset(out, 0, sizeof(*out));
	out->id = sqlite3_last_insert_rowid(db_handle(db));
	out->session_id = session_id;
	out->sender_type = SENDER_SYSTEM;
	snprintf(out->text, sizeof(out->text), "%s", text);
	out->created_at = now;
	out->event = event;
	out->event_agent_id = agent_id;
	out->event_from_agent_id = from_agent_id;
	snprintf(out->event_agent, sizeof(out->event_agent), "%s", agent);
	snprintf(out->event_from_agent, sizeof(out->event_from_agent), "%s",
	    from);
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
