#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "clock.h"
#include "db.h"
#include "push.h"
#include "relay.h"
#include "wake.h"

/* Session-change rows are live only; older ones are deleted. */
#define SESSION_EVENT_KEEP_MS (10 * 60 * 1000)
/*
 * A wake-up that found its listener's queue full is sent again this often,
 * for this long at most: by then the listener's own safety pass reads the
 * database anyway. A process without a loop of its own (the REST API)
 * tries again in naps of RETRY_NAP_MS, RETRY_NAPS times, before it goes on.
 */
#define RETRY_EVERY_MS 2
#define RETRY_GIVE_UP_MS 5000
#define RETRY_NAP_MS 1
#define RETRY_NAPS 20

enum stmt {
	STMT_INSTANCE,
	STMT_CONNECT,
	STMT_DISCONNECT,
	STMT_ALL_SOCKETS,
	STMT_FORGET_BEFORE,
	STMT_DELETE_SOCKET,
	STMT_USER_SOCKETS,
	STMT_AGENT_SOCKETS,
	STMT_ONLINE_AGENTS,
	STMT_NOTE,
	STMT_NOTE_BACKLOG,
	STMT_PRUNE_EVENTS,
	STMT_FETCH,
	STMT_FETCH_OFFLINE,
	STMT_CURSOR,
	STMT_MARK,
	STMT_HEARTBEAT,
	STMT_AGENT_SEEN,
	STMT_TOKEN_CONNECTIONS,
	STMT_TOKEN_SOCKETS,
	STMT__MAX
};

static const char *const stmts[STMT__MAX] = {
	[STMT_INSTANCE] = "SELECT value FROM settings WHERE key = 'instance'",
	[STMT_CONNECT] =
	    "INSERT INTO connections (user_type, user_id, socket, pid, address,"
	    " created_at, seen_at, token_id) VALUES (?, ?, ?, ?, ?, ?6, ?6, ?7)",
	/* By socket too: after a restore the id may be another connection's. */
	[STMT_DISCONNECT] =
	    "DELETE FROM connections WHERE id = ?1 AND (?2 IS NULL OR socket = ?2)",
	[STMT_ALL_SOCKETS] = "SELECT socket FROM connections",
	[STMT_FORGET_BEFORE] = "DELETE FROM connections WHERE created_at < ?",
	[STMT_DELETE_SOCKET] = "DELETE FROM connections WHERE socket = ?",
	[STMT_USER_SOCKETS] =
	    "SELECT socket FROM connections WHERE user_type = ? AND user_id = ?",
	[STMT_AGENT_SOCKETS] =
	    "SELECT socket FROM connections WHERE user_type = 'agent'",
	[STMT_ONLINE_AGENTS] =
	    "SELECT DISTINCT user_id FROM connections WHERE user_type = 'agent'"
	    " AND seen_at >= ?",
	[STMT_NOTE] =
	    "INSERT INTO deliveries (user_type, user_id, message_id, session_id,"
	    " created_at) VALUES (?, ?, ?, ?, ?)",
	[STMT_NOTE_BACKLOG] =
	    "INSERT INTO deliveries (user_type, user_id, message_id, session_id,"
	    " created_at) SELECT 'agent', ?, id, session_id, ? FROM messages"
	    " WHERE session_id = ? ORDER BY id",
	[STMT_PRUNE_EVENTS] =
	    "DELETE FROM deliveries WHERE message_id IS NULL AND created_at < ?",
	[STMT_FETCH] =
	    "SELECT id, message_id, session_id FROM deliveries"
	    " WHERE user_type = ? AND user_id = ? AND id > ? ORDER BY id LIMIT ?",
	/* Messages after what surely reached the user, but for their own. */
	[STMT_FETCH_OFFLINE] =
	    "SELECT d.id, d.message_id, d.session_id FROM deliveries d"
	    " JOIN messages m ON m.id = d.message_id"
	    " WHERE d.user_type = ?1 AND d.user_id = ?2 AND d.id > max(?3,"
	    "  coalesce((SELECT upto FROM delivered"
	    "   WHERE user_type = ?1 AND user_id = ?2), 0))"
	    " AND d.id <= ?5 AND NOT (m.sender_type = ?1 AND m.sender_id = ?2)"
	    " ORDER BY d.id LIMIT ?4",
	[STMT_CURSOR] =
	    "SELECT max(id) FROM deliveries WHERE user_type = ? AND user_id = ?",
	[STMT_MARK] =
	    "INSERT INTO delivered (user_type, user_id, upto) VALUES (?, ?, ?)"
	    " ON CONFLICT (user_type, user_id)"
	    " DO UPDATE SET upto = max(upto, excluded.upto)",
	[STMT_HEARTBEAT] = "UPDATE connections SET seen_at = ? WHERE id = ?",
	[STMT_AGENT_SEEN] =
	    "INSERT INTO agent_presence (agent_id, seen_at) VALUES (?, ?)"
	    " ON CONFLICT (agent_id) DO UPDATE SET seen_at = excluded.seen_at",
	[STMT_TOKEN_CONNECTIONS] =
	    "SELECT count(*) FROM connections WHERE token_id = ?",
	[STMT_TOKEN_SOCKETS] = "SELECT socket FROM connections WHERE token_id = ?",
};

/* A list of socket names read from the database. */
struct names {
	char (*name)[WAKE_NAME_LEN + 1];
	size_t n;
};

/* A user noted in the current transaction, to wake after its commit. */
struct noted {
	struct relay_user user;
	struct names sockets;	/* their connections, read in the transaction */
	int64_t first_prev;	/* their newest delivery before the transaction */
	int64_t last;		/* and now */
	int fetch;		/* something noted is not in the push: read it */
	struct push *push;	/* NULL until a message is noted with its JSON */
};

/* A wake-up to send again: its listener's queue was full. */
struct retry {
	char name[WAKE_NAME_LEN + 1];
	char kind;
	int64_t since;
};

struct relay {
	struct db *db;
	int64_t stale_ms;		/* CHAT_PRESENCE_STALE */
	int sender;			/* the socket wake-ups go out of */
	char instance[64];
	const char *self;		/* this process's own wake name, or NULL */
	struct noted *noted;		/* users to wake at the next flush */
	size_t nnoted, cap;
	struct retry *retries;
	size_t nretries, retry_cap;
	int64_t retried_at;
};

static const char *
type_name(enum principal type)
{
	return type == PRINCIPAL_AGENT ? "agent" : "customer";
}

struct relay *
relay_new(struct db *db, long presence_stale)
{
	struct relay *r = calloc(1, sizeof(*r));
	sqlite3_stmt *s;

	if (r == NULL)
		return NULL;
	r->db = db;
	r->stale_ms = (int64_t)presence_stale * 1000;
	r->sender = -1;
	if ((s = db_stmt(db, stmts[STMT_INSTANCE])) == NULL)
		goto fail;
	if (sqlite3_step(s) == SQLITE_ROW)
		db_column_copy(s, 0, r->instance, sizeof(r->instance));
	db_done(s);
	if (r->instance[0] == '\0' || (r->sender = wake_sender()) == -1)
		goto fail;
	return r;
fail:
	relay_free(r);
	return NULL;
}

void
relay_free(struct relay *r)
{
	size_t i;

	if (r == NULL)
		return;
	if (r->sender != -1)
		close(r->sender);
	relay_forget(r);
	for (i = 0; i < r->cap; i++)
		free(r->noted[i].push);
	free(r->noted);
	free(r->retries);
	free(r);
}

const char *
relay_instance(struct relay *r)
{
	return r->instance;
}

static int
run(sqlite3_stmt *s)
{
	int rc = sqlite3_step(s) == SQLITE_DONE ? 0 : -1;

	db_done(s);
	return rc;
}

/* The agent was on a live connection at now. */
static int
agent_seen(struct relay *r, int64_t agent_id, int64_t now)
{
	sqlite3_stmt *s = db_stmt(r->db, stmts[STMT_AGENT_SEEN]);

	if (s == NULL)
		return -1;
	sqlite3_bind_int64(s, 1, agent_id);
	sqlite3_bind_int64(s, 2, now);
	return run(s);
}

int64_t
relay_seen_after(const struct relay *r, int64_t now)
{
	return now - r->stale_ms;
}

int
relay_connect(struct relay *r, const struct relay_user *user,
    int64_t token_id, const char *wake_name, pid_t pid, const char *address,
    int64_t now, int64_t *conn_id)
{
	sqlite3_stmt *s;

	/* In the writers' queue: connections come by the hundred a second. */
	if (db_begin(r->db) == -1 ||
	    (s = db_stmt(r->db, stmts[STMT_CONNECT])) == NULL)
		goto fail;
	sqlite3_bind_text(s, 1, type_name(user->type), -1, SQLITE_STATIC);
	sqlite3_bind_int64(s, 2, user->id);
	sqlite3_bind_text(s, 3, wake_name, -1, SQLITE_STATIC);
	sqlite3_bind_int64(s, 4, pid);
	sqlite3_bind_text(s, 5, address, -1, SQLITE_STATIC);
	sqlite3_bind_int64(s, 6, now);
	sqlite3_bind_int64(s, 7, token_id);
	if (run(s) == -1)
		goto fail;
	*conn_id = sqlite3_last_insert_rowid(db_handle(r->db));
	if ((user->type == PRINCIPAL_AGENT && agent_seen(r, user->id, now) == -1) ||
	    db_commit(r->db) == -1)
		goto fail;
	return 0;
fail:
	db_rollback(r->db);
	return -1;
}

int
relay_heartbeat(struct relay *r, const struct relay_user *user,
    int64_t conn_id, int64_t now)
{
	sqlite3_stmt *s;

	/* In the writers' queue: thousands of connections beat. */
	if (db_begin(r->db) == -1 ||
	    (s = db_stmt(r->db, stmts[STMT_HEARTBEAT])) == NULL)
		goto fail;
	sqlite3_bind_int64(s, 1, now);
	sqlite3_bind_int64(s, 2, conn_id);
	if (run(s) == -1 || (user->type == PRINCIPAL_AGENT &&
	    agent_seen(r, user->id, now) == -1) || db_commit(r->db) == -1)
		goto fail;
	return 0;
fail:
	db_rollback(r->db);
	return -1;
}

int
relay_token_connections(struct relay *r, int64_t token_id, long *count)
{
	sqlite3_stmt *s = db_stmt(r->db, stmts[STMT_TOKEN_CONNECTIONS]);
	int rc;

	if (s == NULL)
		return -1;
	sqlite3_bind_int64(s, 1, token_id);
	rc = sqlite3_step(s);
	*count = rc == SQLITE_ROW ? (long)sqlite3_column_int64(s, 0) : 0;
	db_done(s);
	return rc == SQLITE_ROW ? 0 : -1;
}

void
relay_set_self(struct relay *r, const char *wake_name)
{
	r->self = wake_name;
}

int
relay_disconnect(struct relay *r, const struct relay_user *user,
    int64_t conn_id, int64_t now)
{
	sqlite3_stmt *s;

	if (db_begin(r->db) == -1 ||
	    (s = db_stmt(r->db, stmts[STMT_DISCONNECT])) == NULL)
		goto fail;
	sqlite3_bind_int64(s, 1, conn_id);
	if (r->self != NULL)
		sqlite3_bind_text(s, 2, r->self, -1, SQLITE_STATIC);
	if (run(s) == -1 || (user->type == PRINCIPAL_AGENT &&
	    agent_seen(r, user->id, now) == -1) || db_commit(r->db) == -1)
		goto fail;
	return 0;
fail:
	db_rollback(r->db);
	return -1;
}

/* Read every socket name s yields (bound by the caller). Returns 0 or -1. */
static int
read_names(sqlite3_stmt *s, struct names *out)
{
	void *grown;
	int rc;

	out->name = NULL;
	out->n = 0;
	while ((rc = sqlite3_step(s)) == SQLITE_ROW) {
		if ((grown = realloc(out->name, (out->n + 1) *
		    sizeof(*out->name))) == NULL) {
			rc = SQLITE_NOMEM;
			break;
		}
		out->name = grown;
		db_column_copy(s, 0, out->name[out->n++], sizeof(*out->name));
	}
	db_done(s);
	return rc == SQLITE_DONE ? 0 : -1;
}

/* Send kind to name again soon: its queue was full. */
static void
retry_add(struct relay *r, const char *name, char kind)
{
	struct retry *grown;
	size_t i, cap;

	for (i = 0; i < r->nretries; i++)
		if (strcmp(r->retries[i].name, name) == 0 &&
		    r->retries[i].kind == kind)
			return;
	if (r->nretries == r->retry_cap) {
		cap = r->retry_cap == 0 ? 8 : r->retry_cap * 2;
		/* Out of memory: the listener's safety pass is left. */
		if ((grown = realloc(r->retries, cap * sizeof(*grown))) == NULL)
			return;
		r->retries = grown;
		r->retry_cap = cap;
	}
	snprintf(r->retries[r->nretries].name, sizeof(r->retries->name), "%s",
	    name);
	r->retries[r->nretries].kind = kind;
	r->retries[r->nretries].since = clock_now_ms();
	r->nretries++;
}

/* Delete the row of the connection listening under name: it is gone. */
static int
forget_socket(struct relay *r, const char *name)
{
	sqlite3_stmt *s = db_stmt(r->db, stmts[STMT_DELETE_SOCKET]);

	if (s == NULL)
		return -1;
	sqlite3_bind_text(s, 1, name, -1, SQLITE_STATIC);
	return run(s);
}

/*
 * Wake every name of list; delete the rows of those that are gone. What
 * found a full queue is sent again: a push as a plain WAKE_DELIVER, since
 * a full queue may stand for nothing that reads the database.
 */
static int
wake_names(struct relay *r, const struct names *list, char kind,
    const char *payload, size_t len)
{
	enum wake_status st;
	size_t i;
	int rc = 0;

	for (i = 0; i < list->n; i++) {
		if (r->self != NULL && strcmp(list->name[i], r->self) == 0)
			continue;
		st = wake_send(r->sender, r->instance, list->name[i], kind,
		    payload, len);
		if (st == WAKE_FULL && kind != WAKE_TYPING && kind != WAKE_PROBE)
			retry_add(r, list->name[i], kind == WAKE_PUSH ?
			    WAKE_DELIVER : kind);
		else if (st == WAKE_GONE && forget_socket(r, list->name[i]) == -1)
			rc = -1;
	}
	return rc;
}

int
relay_retry(struct relay *r, int64_t now)
{
	enum wake_status st;
	size_t i = 0;

	if (r->nretries == 0 || now - r->retried_at < RETRY_EVERY_MS)
		return (int)r->nretries;
	r->retried_at = now;
	while (i < r->nretries) {
		st = wake_send(r->sender, r->instance, r->retries[i].name,
		    r->retries[i].kind, NULL, 0);
		if (st == WAKE_GONE)
			forget_socket(r, r->retries[i].name);
		if (st != WAKE_FULL || now - r->retries[i].since >= RETRY_GIVE_UP_MS)
			r->retries[i] = r->retries[--r->nretries];
		else
			i++;
	}
	return (int)r->nretries;
}

int64_t
relay_retry_at(const struct relay *r)
{
	return r->nretries > 0 ? r->retried_at + RETRY_EVERY_MS : INT64_MAX;
}

/* A process without a loop: try again a few times now, then let go. */
static void
settle(struct relay *r)
{
	struct timespec nap = { 0, RETRY_NAP_MS * 1000000L };
	int i;

	for (i = 0; i < RETRY_NAPS && r->nretries > 0; i++) {
		nanosleep(&nap, NULL);
		relay_retry(r, clock_now_ms());
	}
	r->nretries = 0;
}

int
relay_wake(struct relay *r, const struct relay_user *user, char kind,
    const char *payload, size_t len)
{
	sqlite3_stmt *s = db_stmt(r->db, stmts[STMT_USER_SOCKETS]);
	struct names list;
	int rc;

	if (s == NULL)
		return -1;
	sqlite3_bind_text(s, 1, type_name(user->type), -1, SQLITE_STATIC);
	sqlite3_bind_int64(s, 2, user->id);
	rc = read_names(s, &list);
	if (wake_names(r, &list, kind, payload, len) == -1)
		rc = -1;
	free(list.name);
	return rc;
}

/* Probe every connection s yields (bound by the caller); delete the dead ones. */
static int
prune(struct relay *r, sqlite3_stmt *s)
{
	struct names list;
	int rc;

	rc = read_names(s, &list);
	if (wake_names(r, &list, WAKE_PROBE, NULL, 0) == -1)
		rc = -1;
	free(list.name);
	return rc;
}

int
relay_prune_agents(struct relay *r)
{
	sqlite3_stmt *s = db_stmt(r->db, stmts[STMT_AGENT_SOCKETS]);

	return s != NULL ? prune(r, s) : -1;
}

int
relay_prune_token(struct relay *r, int64_t token_id)
{
	sqlite3_stmt *s = db_stmt(r->db, stmts[STMT_TOKEN_SOCKETS]);

	if (s == NULL)
		return -1;
	sqlite3_bind_int64(s, 1, token_id);
	return prune(r, s);
}

struct relay_list *
relay_list_connections(struct relay *r)
{
	sqlite3_stmt *s = db_stmt(r->db, stmts[STMT_ALL_SOCKETS]);
	struct names *list = malloc(sizeof(*list));

	if (s == NULL || list == NULL || read_names(s, list) == -1) {
		db_done(s);
		if (list != NULL)
			free(list->name);
		free(list);
		return NULL;
	}
	return (struct relay_list *)list;
}

void
relay_end_list(struct relay *r, struct relay_list *connections)
{
	struct names *list = (struct names *)connections;
	size_t i;

	if (list == NULL)
		return;
	for (i = 0; i < list->n; i++)
		wake_send(r->sender, r->instance, list->name[i], WAKE_END, NULL, 0);
}

void
relay_list_free(struct relay_list *connections)
{
	struct names *list = (struct names *)connections;

	if (list != NULL)
		free(list->name);
	free(list);
}

int
relay_forget_before(struct relay *r, int64_t before)
{
	sqlite3_stmt *s = db_stmt(r->db, stmts[STMT_FORGET_BEFORE]);

	if (s == NULL)
		return -1;
	sqlite3_bind_int64(s, 1, before);
	return run(s);
}

/*
 * The user's entry for the next flush (new: their connections and their
 * newest delivery are read now, in the transaction), or NULL on a
 * database error or when out of memory.
 */
static struct noted *
note_user(struct relay *r, enum principal type, int64_t id)
{
	struct noted *grown, *n;
	sqlite3_stmt *s;
	size_t i, cap;

	for (i = 0; i < r->nnoted; i++)
		if (r->noted[i].user.type == type && r->noted[i].user.id == id)
			return &r->noted[i];
	if (r->nnoted == r->cap) {
		cap = r->cap == 0 ? 8 : r->cap * 2;
		if ((grown = realloc(r->noted, cap * sizeof(*grown))) == NULL)
			return NULL;
		memset(grown + r->cap, 0, (cap - r->cap) * sizeof(*grown));
		r->noted = grown;
		r->cap = cap;
	}
	n = &r->noted[r->nnoted];
	n->user.type = type;
	n->user.id = id;
	n->fetch = 0;
	if (n->push != NULL)
		push_init(n->push);
	if ((s = db_stmt(r->db, stmts[STMT_USER_SOCKETS])) == NULL)
		return NULL;
	sqlite3_bind_text(s, 1, type_name(type), -1, SQLITE_STATIC);
	sqlite3_bind_int64(s, 2, id);
	if (read_names(s, &n->sockets) == -1 ||
	    relay_cursor(r, &n->user, &n->first_prev) == -1) {
		free(n->sockets.name);
		n->sockets.name = NULL;
		return NULL;
	}
	n->last = n->first_prev;
	r->nnoted++;
	return n;
}

/* Carry delivery id of n's user in the push: the message's JSON, len bytes. */
static void
add_push(struct noted *n, int64_t id, const char *json, size_t len)
{
	if (n->push == NULL && (n->push = malloc(sizeof(*n->push))) != NULL)
		push_init(n->push);
	if (n->push == NULL || push_add(n->push, id, n->last, json, len) == -1)
		n->fetch = 1;
}

/* One deliveries row; json (len bytes, or NULL) is the message's, to push. */
static int
note(struct relay *r, enum principal type, int64_t user_id,
    int64_t message_id, int64_t session_id, int64_t now, const char *json,
    size_t len)
{
	struct noted *n = note_user(r, type, user_id);
	sqlite3_stmt *s;
	int64_t id;

	if (n == NULL || (s = db_stmt(r->db, stmts[STMT_NOTE])) == NULL)
		return -1;
	sqlite3_bind_text(s, 1, type_name(type), -1, SQLITE_STATIC);
	sqlite3_bind_int64(s, 2, user_id);
	if (message_id > 0)
		sqlite3_bind_int64(s, 3, message_id);
	sqlite3_bind_int64(s, 4, session_id);
	sqlite3_bind_int64(s, 5, now);
	if (run(s) == -1)
		return -1;
	id = sqlite3_last_insert_rowid(db_handle(r->db));
	if (json != NULL && !n->fetch)
		add_push(n, id, json, len);
	else
		n->fetch = 1;
	n->last = id;
	return 0;
}

int
relay_note_message(struct relay *r, const struct session *s,
    const struct message *m, const char *json, size_t len, int64_t now)
{
	if (note(r, PRINCIPAL_CUSTOMER, s->customer_id, m->id, s->id, now,
	    json, len) == -1)
		return -1;
	if (s->agent_id != 0 && note(r, PRINCIPAL_AGENT, s->agent_id, m->id,
	    s->id, now, json, len) == -1)
		return -1;
	return 0;
}

int
relay_note_session(struct relay *r, const struct session *s,
    int64_t also_agent, int all_agents, int64_t now)
{
	sqlite3_stmt *q;
	int64_t *agents = NULL, *grown, id;
	size_t n = 0, i;
	int rc = -1, step;

	if (all_agents) {
		if ((q = db_stmt(r->db, stmts[STMT_ONLINE_AGENTS])) == NULL)
			return -1;
		sqlite3_bind_int64(q, 1, relay_seen_after(r, now));
		while ((step = sqlite3_step(q)) == SQLITE_ROW) {
			if ((grown = realloc(agents, (n + 1) * sizeof(*agents))) ==
			    NULL)
				break;
			agents = grown;
			agents[n++] = sqlite3_column_int64(q, 0);
		}
		db_done(q);
		/* Out of memory or a database error: not every agent would hear of it. */
		if (step != SQLITE_DONE)
			goto out;
	}
	if (note(r, PRINCIPAL_CUSTOMER, s->customer_id, 0, s->id, now, NULL,
	    0) == -1)
		goto out;
	for (i = 0; i < n + 2; i++) {
		id = i == 0 ? s->agent_id : i == 1 ? also_agent : agents[i - 2];
		if (id == 0 || (i > 0 && id == s->agent_id) ||
		    (i > 1 && id == also_agent))
			continue;
		if (note(r, PRINCIPAL_AGENT, id, 0, s->id, now, NULL, 0) == -1)
			goto out;
	}
	if ((q = db_stmt(r->db, stmts[STMT_PRUNE_EVENTS])) == NULL)
		goto out;
	sqlite3_bind_int64(q, 1, now - SESSION_EVENT_KEEP_MS);
	rc = run(q);
out:
	free(agents);
	return rc;
}

int
relay_note_backlog(struct relay *r, const struct session *s,
    int64_t agent_id, int64_t now)
{
	struct noted *n = note_user(r, PRINCIPAL_AGENT, agent_id);
	sqlite3_stmt *q;

	if (n == NULL || (q = db_stmt(r->db, stmts[STMT_NOTE_BACKLOG])) == NULL)
		return -1;
	sqlite3_bind_int64(q, 1, agent_id);
	sqlite3_bind_int64(q, 2, now);
	sqlite3_bind_int64(q, 3, s->id);
	if (run(q) == -1)
		return -1;
	n->fetch = 1;
	return relay_cursor(r, &n->user, &n->last);
}

int
relay_noted_range(const struct relay *r, const struct relay_user *user,
    int64_t *before, int64_t *last)
{
	size_t i;

	for (i = 0; i < r->nnoted; i++)
		if (r->noted[i].user.type == user->type &&
		    r->noted[i].user.id == user->id) {
			*before = r->noted[i].first_prev;
			*last = r->noted[i].last;
			return 1;
		}
	return 0;
}

void
relay_flush(struct relay *r)
{
	struct noted *n;
	size_t i;

	for (i = 0; i < r->nnoted; i++) {
		n = &r->noted[i];
		if (n->push != NULL && push_has_items(n->push)) {
			if (n->fetch)
				push_set_more(n->push);
			wake_names(r, &n->sockets, WAKE_PUSH, n->push->buf,
			    n->push->len);
		} else
			wake_names(r, &n->sockets, WAKE_DELIVER, NULL, 0);
	}
	relay_forget(r);
	if (r->self == NULL)
		settle(r);
}

void
relay_forget(struct relay *r)
{
	size_t i;

	for (i = 0; i < r->nnoted; i++) {
		free(r->noted[i].sockets.name);
		r->noted[i].sockets.name = NULL;
		r->noted[i].sockets.n = 0;
	}
	r->nnoted = 0;
}

static void
bind_user(sqlite3_stmt *s, const struct relay_user *user)
{
	sqlite3_bind_text(s, 1, type_name(user->type), -1, SQLITE_STATIC);
	sqlite3_bind_int64(s, 2, user->id);
}

int
relay_fetch(struct relay *r, const struct relay_user *user, int64_t after,
    int64_t upto, int limit, int offline_only,
    int (*fn)(const struct relay_item *, void *), void *arg)
{
	sqlite3_stmt *s = db_stmt(r->db, stmts[offline_only ?
	    STMT_FETCH_OFFLINE : STMT_FETCH]);
	struct relay_item item;
	int rc, n = 0;

	if (s == NULL)
		return -1;
	bind_user(s, user);
	sqlite3_bind_int64(s, 3, after);
	sqlite3_bind_int(s, 4, limit);
	if (offline_only)
		sqlite3_bind_int64(s, 5, upto);
	while ((rc = sqlite3_step(s)) == SQLITE_ROW) {
		item.id = sqlite3_column_int64(s, 0);
		item.message_id = sqlite3_column_int64(s, 1);
		item.session_id = sqlite3_column_int64(s, 2);
		n++;
		if (fn(&item, arg) == -1) {
			db_done(s);
			return -1;
		}
	}
	db_done(s);
	return rc == SQLITE_DONE ? n : -1;
}

int
relay_cursor(struct relay *r, const struct relay_user *user, int64_t *cursor)
{
	sqlite3_stmt *s = db_stmt(r->db, stmts[STMT_CURSOR]);
	int rc;

	if (s == NULL)
		return -1;
	bind_user(s, user);
	rc = sqlite3_step(s);
	*cursor = rc == SQLITE_ROW ? sqlite3_column_int64(s, 0) : 0;
	db_done(s);
	return rc == SQLITE_ROW ? 0 : -1;
}

int
relay_mark_delivered(struct relay *r, const struct relay_user *user,
    int64_t upto)
{
	sqlite3_stmt *s;

	/* In the writers' queue, not polling SQLite's lock. */
	if (db_begin(r->db) == -1 ||
	    (s = db_stmt(r->db, stmts[STMT_MARK])) == NULL)
		goto fail;
	bind_user(s, user);
	sqlite3_bind_int64(s, 3, upto);
	if (run(s) == -1 || db_commit(r->db) == -1)
		goto fail;
	return 0;
fail:
	db_rollback(r->db);
	return -1;
}
