#ifndef CHAT_SESSION_H
#define CHAT_SESSION_H

#include <stddef.h>
#include <stdint.h>

#include "customer.h"

struct db;

#define SESSION_SUBJECT_MAX 200	/* characters */
#define SESSION_CONTEXT_MAX 4096	/* bytes of compact JSON */

enum session_state {
	SESSION_QUEUED,
	SESSION_ACTIVE,
	SESSION_CLOSED
};

/* A session as stored, with its customer's name. */
struct session {
	int64_t id;
	int64_t customer_id;
	char customer_name[CUSTOMER_NAME_MAX * 4 + 1];
	int64_t agent_id;	/* 0 while queued */
	enum session_state state;
	char channel[CUSTOMER_CHANNEL_MAX + 1];
	char subject[SESSION_SUBJECT_MAX * 4 + 1];
	int has_subject;
	int64_t created_at;
	int64_t closed_at;	/* 0 while open */
	int left_message;	/* kind 'message': left while nobody answered */
	char agent_name[CUSTOMER_NAME_MAX * 4 + 1];	/* "" while queued */
	char customer_email[EMAIL_MAX + 1];	/* "" when none */
	char context[SESSION_CONTEXT_MAX + 1];	/* a JSON object */
};

enum session_status {
	SESSION_OK = 0,
	SESSION_NOT_FOUND,
	SESSION_CONFLICT,	/* not in the state the change needs */
	SESSION_ERROR		/* a database error */
};

/* "queued", "active" or "closed". Static. */
const char *session_state_name(enum session_state state);

/* Parse a state name into *out. Returns 0, or -1 for any other text. */
int session_state_parse(const char *name, enum session_state *out);

/* Load session id into *out. */
enum session_status session_get(struct db *db, int64_t id, struct session *out);

/*
 * Load only the id, customer_id, agent_id and state of session id into
 * *out (the rest is left as it was): who may write in it, and who hears.
 */
enum session_status session_get_brief(struct db *db, int64_t id,
    struct session *out);

/* Load the customer's open (queued or active) session into *out, if any. */
enum session_status session_find_open(struct db *db, int64_t customer_id,
    struct session *out);

/*
 * Store a new session for the customer, assigned to agent_id (0: queued),
 * and load it into *out. SESSION_CONFLICT when the customer has an open
 * session already.
 */
enum session_status session_create(struct db *db, int64_t customer_id,
    const char *subject, int64_t agent_id, int64_t now, struct session *out);

/*
 * Call fn for each session the user sees, oldest first: a customer its
 * own; an agent its own and every queued one. state < 0 means any state.
 * Stops with SESSION_ERROR if fn returns -1.
 */
enum session_status session_each(struct db *db, int is_agent, int64_t user_id,
    int state, int (*fn)(const struct session *, void *), void *arg);

/* Replace the session's visitor context (compact JSON text of an object). */
enum session_status session_set_context(struct db *db, int64_t id,
    const char *context);

/* Mark the session as a message left while nobody answered. */
enum session_status session_set_left_message(struct db *db, int64_t id);

/* Assign the queued session to agent_id. SESSION_CONFLICT unless it is queued. */
enum session_status session_claim(struct db *db, int64_t id, int64_t agent_id);

/* Move the active session to agent_id. SESSION_CONFLICT unless it is active. */
enum session_status session_transfer(struct db *db, int64_t id,
    int64_t agent_id);

/* Close the session at now. SESSION_CONFLICT when it is closed already. */
enum session_status session_close(struct db *db, int64_t id, int64_t now);

/*
 * The enabled agent with a live connection (one seen at seen_after or
 * later: see relay_seen_after()) and the fewest active sessions, fewer
 * than max_active (0: no limit), into *agent_id (0 when there is none: the
 * session waits in the queue). Dead connections must have been pruned
 * before (relay_prune_agents()).
 */
enum session_status session_pick_agent(struct db *db, long max_active,
    int64_t seen_after, int64_t *agent_id);

/*
 * Up to limit active sessions (into out, caller's array of limit) whose
 * agent has no connection seen at seen_after or later and was last seen
 * on one before absent_before; *n (output) is how many.
 */
enum session_status session_each_abandoned(struct db *db, int64_t seen_after,
    int64_t absent_before, int limit, struct session *out, size_t *n);

/* Put active session id of agent_id back in the queue; CONFLICT if it is not that. */
enum session_status session_requeue(struct db *db, int64_t id,
    int64_t agent_id);

#endif
