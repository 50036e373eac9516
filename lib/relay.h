#ifndef CHAT_RELAY_H
#define CHAT_RELAY_H

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "message.h"
#include "session.h"
#include "token.h"

struct db;

/*
 * The relay: who is to be told what, and waking them. Inside a transaction
 * a writer notes deliveries (rows of the deliveries table: a message or a
 * session change for a user); after the commit, relay_flush() wakes every
 * open connection of those users (lib/wake). A connection reads what is
 * new for it with one indexed query, from its cursor on.
 *
 * This and lib/wake are the whole interface between writers and readers,
 * so another store with its own notifications could stand in for them.
 */
struct relay;

/* A user: a customer or an agent. */
struct relay_user {
	enum principal type;
	int64_t id;
};

/* One delivery: a message (message_id > 0) or a change of session_id. */
struct relay_item {
	int64_t id;		/* the cursor */
	int64_t message_id;	/* 0 for a session change */
	int64_t session_id;
};

/*
 * The relay of db (borrowed for the relay's life); a connection not seen
 * for presence_stale seconds (CHAT_PRESENCE_STALE) is not present. Returns
 * one the caller frees with relay_free(), or NULL on a database or socket
 * error.
 */
struct relay *relay_new(struct db *db, long presence_stale);

/* Free relay; relay_free(NULL) is a no-op. */
void relay_free(struct relay *relay);

/* This database's instance name, borrowed for the relay's life. */
const char *relay_instance(struct relay *relay);

/*
 * The oldest heartbeat (ms) an agent's connection may have at now and
 * still count as present: routing and "online" ignore older ones.
 */
int64_t relay_seen_after(const struct relay *relay, int64_t now);

/*
 * Register an open connection of user, opened with access token token_id,
 * that listens under wake_name, seen now, in a transaction of its own.
 * *conn_id (output) is its id. Returns 0 or -1.
 */
int relay_connect(struct relay *relay, const struct relay_user *user,
    int64_t token_id, const char *wake_name, pid_t pid, const char *address,
    int64_t now, int64_t *conn_id);

/*
 * The connection conn_id of user is alive and responsive at now: refresh
 * its heartbeat (and, for an agent, when the agent was last seen), in a
 * transaction of its own. Returns 0 or -1.
 */
int relay_heartbeat(struct relay *relay, const struct relay_user *user,
    int64_t conn_id, int64_t now);

/*
 * How many registered connections were opened with token_id, into
 * *count (relay_prune_token() first deletes the dead). Returns 0 or -1.
 */
int relay_token_connections(struct relay *relay, int64_t token_id,
    long *count);

/*
 * Name this process's own connection (its wake name, borrowed for the
 * relay's life): wake-ups skip it, since it knows what it just wrote.
 */
void relay_set_self(struct relay *relay, const char *wake_name);

/*
 * Forget connection conn_id of user, which ended at now, in a transaction
 * of its own. Returns 0 or -1.
 */
int relay_disconnect(struct relay *relay, const struct relay_user *user,
    int64_t conn_id, int64_t now);

/* The wake names of every registered connection (opaque). */
struct relay_list;

/*
 * The connections registered now, as a new list for relay_end_list, or
 * NULL on error. With relay_forget_before and relay_end_list, a restore
 * ends the connections of the database it replaced: their clients
 * reconnect to the restored one.
 */
struct relay_list *relay_list_connections(struct relay *relay);

/* Tell every connection of list to end now. NULL is a no-op. */
void relay_end_list(struct relay *relay, struct relay_list *list);

/* Free list. relay_list_free(NULL) is a no-op. */
void relay_list_free(struct relay_list *list);

/* Delete the rows of connections registered before the time before (ms). Returns 0 or -1. */
int relay_forget_before(struct relay *relay, int64_t before);

/*
 * Ask every agent connection whether its process is alive and delete the
 * rows of the dead ones; a live but unresponsive one stops counting by its
 * heartbeat (relay_seen_after()). Returns 0 or -1.
 */
int relay_prune_agents(struct relay *relay);

/* As relay_prune_agents, for the connections opened with token_id. */
int relay_prune_token(struct relay *relay, int64_t token_id);

/*
 * In the caller's transaction: the message m of session s is for its
 * customer and its agent, the sender's other connections included. A
 * sender's own message is never an offline message of theirs: the
 * sending connection had its ack. json (len bytes, borrowed; or NULL) is
 * the message as the wire shows it (wire_message): given, it is pushed in
 * the wake-ups (lib/push), so that no connection reads it back. Returns 0,
 * or -1 (the caller rolls back).
 */
int relay_note_message(struct relay *relay, const struct session *s,
    const struct message *m, const char *json, size_t len, int64_t now);
/*
 * In the caller's transaction: session s changed. Tell its customer, its
 * agent, also_agent (0: none, e.g. the agent it was transferred from) and,
 * when all_agents, every agent present at now. Returns 0, or -1 when not
 * everyone could be noted (the caller rolls back).
 */
int relay_note_session(struct relay *relay, const struct session *s,
    int64_t also_agent, int all_agents, int64_t now);

/*
 * In the caller's transaction: every message of session s so far is now
 * also for agent_id (who claimed it). Returns 0 or -1.
 */
int relay_note_backlog(struct relay *relay, const struct session *s,
    int64_t agent_id, int64_t now);

/*
 * Before the flush: the deliveries noted for user in this transaction are
 * those after *before up to *last (outputs). Returns 1, or 0 when nothing
 * was noted for user.
 */
int relay_noted_range(const struct relay *relay, const struct relay_user *user,
    int64_t *before, int64_t *last);

/*
 * After a commit: wake the connections of every user noted since the last
 * flush, with a push where every delivery noted for them is a message that
 * came with its JSON (and the rest, if any, to be read). A listener whose
 * queue is full is woken again later: by relay_retry() in a process with
 * a loop (one that named its own connection with relay_set_self()), in
 * short naps before relay_flush() returns in any other.
 */
void relay_flush(struct relay *relay);

/*
 * Send again, at now, the wake-ups that found a full queue (at most every
 * few milliseconds; each for a few seconds at most). Returns how many still
 * wait.
 */
int relay_retry(struct relay *relay, int64_t now);

/* When relay_retry() next has something to do (ms), or INT64_MAX. */
int64_t relay_retry_at(const struct relay *relay);

/* After a rollback: forget what was noted. */
void relay_forget(struct relay *relay);

/*
 * Send kind and payload (len bytes) to every open connection of user now,
 * deleting the rows of dead ones. Returns 0 or -1.
 */
int relay_wake(struct relay *relay, const struct relay_user *user, char kind,
    const char *payload, size_t len);

/*
 * Call fn for the user's deliveries after cursor `after`, oldest first, at
 * most limit. With offline_only, only the messages up to cursor upto and
 * after what a connection of theirs confirmed (relay_mark_delivered()),
 * but for their own (upto is ignored otherwise). Returns the number of
 * items, or -1 (also when fn returns -1).
 */
int relay_fetch(struct relay *relay, const struct relay_user *user,
    int64_t after, int64_t upto, int limit, int offline_only,
    int (*fn)(const struct relay_item *, void *), void *arg);

/* The user's newest delivery id into *cursor (0 when none). Returns 0 or -1. */
int relay_cursor(struct relay *relay, const struct relay_user *user,
    int64_t *cursor);

/*
 * Record that everything up to cursor upto surely reached a connection of
 * the user: none of it is offline any more. Its own transaction (call it
 * outside one). Returns 0 or -1.
 */
int relay_mark_delivered(struct relay *relay, const struct relay_user *user,
    int64_t upto);

#endif
