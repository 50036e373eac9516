/*
 * Sessions: a customer's conversation with an agent.
 *
 * POST /api/v1/sessions                 customer: a new session, or the open one
 * GET  /api/v1/sessions?status=         the caller's sessions (agents: and the queue)
 * GET  /api/v1/sessions/{id}            one session
 * GET  /api/v1/sessions/{id}/messages   its messages, a page at a time
 * POST /api/v1/sessions/{id}/claim      agent: take a queued session
 * POST /api/v1/sessions/{id}/transfer   assigned agent: hand it to another agent
 * POST /api/v1/sessions/{id}/close      participant: end it
 *
 * Every change is one transaction that also notes who is to be told;
 * their connections are woken once it has committed.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "api.h"
#include "../lib/agent.h"
#include "../lib/field.h"
#include "../lib/notify.h"
#include "../lib/query.h"

#define PAGE_DEFAULT 50
#define PAGE_MAX 200

static int
is_agent(const struct call *c)
{
	return c->who.principal == PRINCIPAL_AGENT;
}

/* Who may see a session: its customer, its agent, and any agent while it is queued. */
static int
may_see(const struct call *c, const struct session *s)
{
	if (!is_agent(c))
		return s->customer_id == c->who.principal_id;
	return s->agent_id == c->who.principal_id || s->state == SESSION_QUEUED;
}

static void
reply_session(struct call *c, int status, const struct session *s)
{
	json_t *obj = wire_session(s);

	if (obj == NULL) {
		api_fail_internal(c, "session reply");
		return;
	}
	http_reply_json(c->req, status, NULL, obj);
	json_decref(obj);
}

/*
 * Load the session of the path's {id}, or reply 404 or 500 and return -1.
 * With check, one the caller may see, else 403 too.
 */
static int
load(struct call *c, struct session *s, int check)
{
	switch (session_get(c->api->db, c->ids[0], s)) {
	case SESSION_OK:
		if (!check || may_see(c, s))
			return 0;
		http_reply_error(c->req, ERROR_FORBIDDEN, NULL,
		    "session %lld is not yours", (long long)c->ids[0]);
		return -1;
	case SESSION_NOT_FOUND:
		http_reply_error(c->req, ERROR_NOT_FOUND, NULL,
		    "no session %lld", (long long)c->ids[0]);
		return -1;
	default:
		api_fail_internal(c, "session");
		return -1;
	}
}

/* Commit and wake who was noted; on failure reply 500 and return -1. */
static int
commit(struct call *c, const char *what)
{
	if (db_commit(c->api->db) == -1) {
		relay_forget(c->api->relay);
		api_fail_internal(c, what);
		return -1;
	}
	relay_flush(c->api->relay);
	return 0;
}

/*
 * In the open transaction: a system line of event in session s, for its
 * customer and its agent. Returns 0 or -1.
 */
static int
note_event(struct call *c, const struct session *s, enum message_event event,
    int64_t from_agent)
{
	struct message *m = malloc(sizeof(*m));
	int rc = m != NULL && message_add_event(c->api->db, s->id, event,
	    s->agent_id, from_agent, c->req->now, m) == MESSAGE_OK &&
	    relay_note_message(c->api->relay, s, m, NULL, 0,
	    c->req->now) == 0 ? 0 : -1;

	free(m);
	return rc;
}

/*
 * The optional body of POST /sessions: {"subject"?, "context"?}. Returns 0,
 * or -1 after replying.
 */
static int
read_new_session(struct call *c, json_t **body, const char **subject,
    char **context)
{
	const char *cl = http_param(c->req, "CONTENT_LENGTH");
	char err[256];

	*body = NULL;
	*subject = NULL;
	*context = NULL;
	if (cl == NULL || cl[0] == '\0' || strcmp(cl, "0") == 0)
		return 0;
	if ((*body = api_read_body(c)) == NULL)
		return -1;
	if (field_string(*body, "subject", 1, SESSION_SUBJECT_MAX,
	    FIELD_OPTIONAL | FIELD_NO_CONTROL | FIELD_NOT_BLANK, subject, err,
	    sizeof(err)) == -1) {
		api_fail_field(c, err);
		return -1;
	}
	return visitor_read_context(c, *body, context);
}

void
sessions_create(struct call *c)
{
	struct db *db = c->api->db;
	enum session_status st;
	struct session s;
	const char *subject;
	char *context;
	json_t *body;
	int64_t agent_id;

	if (read_new_session(c, &body, &subject, &context) == -1)
		goto out;
	if (db_begin(db) == -1)
		goto dberr;
	/* A double click, or a second tab: the open session, not a new one. */
	if ((st = session_find_open(db, c->who.principal_id, &s)) == SESSION_OK) {
		db_rollback(db);
		reply_session(c, 200, &s);
		goto out;
	}
	if (st != SESSION_NOT_FOUND || relay_prune_agents(c->api->relay) == -1 ||
	    session_pick_agent(db, c->api->cfg->agent_max_active,
	    relay_seen_after(c->api->relay, c->req->now), &agent_id) !=
	    SESSION_OK ||
	    session_create(db, c->who.principal_id, subject, agent_id,
	    c->req->now, &s) != SESSION_OK ||
	    (context != NULL && (session_set_context(db, s.id, context) !=
	    SESSION_OK || session_get(db, s.id, &s) != SESSION_OK)) ||
	    relay_note_session(c->api->relay, &s, 0, agent_id == 0,
	    c->req->now) == -1 ||
	    (agent_id != 0 && note_event(c, &s, EVENT_JOINED, 0) == -1))
		goto dberr;
	if (commit(c, "session create") == 0)
		reply_session(c, 201, &s);
	goto out;
dberr:
	relay_forget(c->api->relay);
	api_fail_internal(c, "session create");
out:
	free(context);
	json_decref(body);
}

static int
append_session(const struct session *s, void *arg)
{
	json_t *obj = wire_session(s);

	return obj != NULL && json_array_append_new(arg, obj) == 0 ? 0 : -1;
}

void
sessions_list(struct call *c)
{
	enum session_state parsed;
	char value[32];
	json_t *list = json_array(), *reply;

	int state = -1;

	if (query_param(c->req->query, "status", value, sizeof(value)) != 0) {
		if (session_state_parse(value, &parsed) == -1) {
			api_fail_field(c, "status must be one of queued, active, "
			    "closed");
			goto out;
		}
		state = (int)parsed;
	}
	if (list == NULL || session_each(c->api->db, is_agent(c),
	    c->who.principal_id, state, append_session, list) != SESSION_OK) {
		api_fail_internal(c, "session list");
		goto out;
	}
	reply = json_pack("{s:O}", "sessions", list);
	http_reply_json(c->req, 200, NULL, reply);
	json_decref(reply);
out:
	json_decref(list);
}

void
sessions_get(struct call *c)
{
	struct session s;

	if (load(c, &s, 1) == 0)
		reply_session(c, 200, &s);
}

/* A non-negative integer query parameter into *out (default def). Returns 0, or -1 after replying. */
static int
query_int(struct call *c, const char *name, long long min, long long max,
    long long def, long long *out)
{
	char value[32], err[128], *end;

	*out = def;
	if (query_param(c->req->query, name, value, sizeof(value)) == 0)
		return 0;
	errno = 0;
	*out = strtoll(value, &end, 10);
	if (value[0] < '0' || value[0] > '9' || *end != '\0' || errno != 0 ||
	    *out < min || *out > max) {
		snprintf(err, sizeof(err), "%s must be an integer in %lld..%lld",
		    name, min, max);
		api_fail_field(c, err);
		return -1;
	}
	return 0;
}

static int
append_message(const struct message *m, void *arg)
{
	json_t *obj = wire_message(m);

	return obj != NULL && json_array_append_new(arg, obj) == 0 ? 0 : -1;
}

void
sessions_messages(struct call *c)
{
	long long after, before, limit;
	struct session s;
	json_t *list = NULL, *reply;
	int has_more;

	if (load(c, &s, 1) == -1 ||
	    query_int(c, "after", 0, INT64_MAX, 0, &after) == -1 ||
	    query_int(c, "before", 1, INT64_MAX, 0, &before) == -1 ||
	    query_int(c, "limit", 1, PAGE_MAX, PAGE_DEFAULT, &limit) == -1)
		return;
	if (after > 0 && before > 0) {
		api_fail_field(c, "after and before cannot both be given");
		return;
	}
	if ((list = json_array()) == NULL || message_page(c->api->db, s.id,
	    after, before, (int)limit, append_message, list, &has_more) !=
	    MESSAGE_OK) {
		api_fail_internal(c, "messages");
		json_decref(list);
		return;
	}
	reply = json_pack("{s:o,s:b}", "messages", list, "hasMore", has_more);
	http_reply_json(c->req, 200, NULL, reply);
	json_decref(reply);
}

void
sessions_claim(struct call *c)
{
	struct db *db = c->api->db;
	enum session_status st;
	struct session s;

	/* Any agent may try: a session someone else has is a conflict, not a secret. */
	if (load(c, &s, 0) == -1)
		return;
	if (db_begin(db) == -1)
		goto dberr;
	if ((st = session_claim(db, s.id, c->who.principal_id)) == SESSION_CONFLICT) {
		db_rollback(db);
		http_reply_error(c->req, ERROR_CONFLICT, NULL,
		    "session %lld is not queued: another agent has it, or it is "
		    "closed", (long long)s.id);
		return;
	}
	/* The queued messages wait for the agent who claims the session. */
	if (st != SESSION_OK || session_get(db, s.id, &s) != SESSION_OK ||
	    relay_note_backlog(c->api->relay, &s, s.agent_id, c->req->now) == -1 ||
	    relay_note_session(c->api->relay, &s, 0, 1, c->req->now) == -1 ||
	    note_event(c, &s, EVENT_JOINED, 0) == -1)
		goto dberr;
	if (commit(c, "claim") == 0)
		reply_session(c, 200, &s);
	return;
dberr:
	relay_forget(c->api->relay);
	api_fail_internal(c, "claim");
}

/*
 * The transfer's target: an enabled agent other than the caller, and
 * their display name (into name). Returns 0, or -1 after replying.
 */
static int
read_target(struct call *c, int64_t *agent_id, char *name, size_t namesz)
{
	char err[256];
	struct agent a;
	enum agent_status st;
	json_t *body;
	int rc = -1;

	if ((body = api_read_body(c)) == NULL)
		return -1;
	if (field_id(body, "agentId", agent_id, err, sizeof(err)) == -1)
		api_fail_field(c, err);
	else if ((st = agent_get(c->api->db, *agent_id, &a)) == AGENT_ERROR)
		api_fail_internal(c, "transfer");
	else if (st == AGENT_NOT_FOUND || a.disabled_at != 0)
		api_fail_field(c, "agentId is not an active agent");
	else if (*agent_id == c->who.principal_id)
		api_fail_field(c, "agentId is the agent the session has already");
	else {
		snprintf(name, namesz, "%s", a.display_name);
		rc = 0;
	}
	json_decref(body);
	return rc;
}

void
sessions_transfer(struct call *c)
{
	struct db *db = c->api->db;
	enum session_status st;
	long max = c->api->cfg->agent_max_active, active = 0;
	char name[AGENT_DISPLAY_MAX * 4 + 1];
	struct session s;
	int64_t to;

	if (load(c, &s, 1) == -1)
		return;
	if (s.agent_id != c->who.principal_id) {
		http_reply_error(c->req, ERROR_FORBIDDEN, NULL, "only the agent "
		    "assigned to session %lld may transfer it", (long long)s.id);
		return;
	}
	if (read_target(c, &to, name, sizeof(name)) == -1)
		return;
	if (db_begin(db) == -1)
		goto dberr;
	/* Counted under the write lock: two transfers at once cannot both pass. */
	if (max > 0 && agent_active_count(db, to, &active) != AGENT_OK)
		goto dberr;
	if (max > 0 && active >= max) {
		db_rollback(db);
		http_reply_error(c->req, ERROR_CONFLICT, NULL, "%s has %ld "
		    "active chats, the most one agent takes "
		    "(CHAT_AGENT_MAX_ACTIVE); choose another agent", name,
		    active);
		return;
	}
	if ((st = session_transfer(db, s.id, to)) == SESSION_CONFLICT) {
		db_rollback(db);
		http_reply_error(c->req, ERROR_CONFLICT, NULL,
		    "session %lld is not active", (long long)s.id);
		return;
	}
	if (st != SESSION_OK || session_get(db, s.id, &s) != SESSION_OK ||
	    relay_note_session(c->api->relay, &s, c->who.principal_id, 0,
	    c->req->now) == -1 ||
	    note_event(c, &s, EVENT_TRANSFERRED, c->who.principal_id) == -1)
		goto dberr;
	if (commit(c, "transfer") == 0)
		reply_session(c, 200, &s);
	return;
dberr:
	relay_forget(c->api->relay);
	api_fail_internal(c, "transfer");
}

void
sessions_close(struct call *c)
{
	struct db *db = c->api->db;
	enum session_status st;
	struct session s;
	int was_queued;

	if (load(c, &s, 1) == -1)
		return;
	if (is_agent(c) && s.agent_id != c->who.principal_id) {
		http_reply_error(c->req, ERROR_FORBIDDEN, NULL, "session %lld is "
		    "not assigned to you", (long long)s.id);
		return;
	}
	was_queued = s.state == SESSION_QUEUED;
	if (db_begin(db) == -1)
		goto dberr;
	st = session_close(db, s.id, c->req->now);
	if (st == SESSION_CONFLICT) {	/* closed already: nothing to do */
		db_rollback(db);
		reply_session(c, 200, &s);
		return;
	}
	/* A visitor who gave an address gets the conversation by mail. */
	if (st != SESSION_OK || session_get(db, s.id, &s) != SESSION_OK ||
	    relay_note_session(c->api->relay, &s, 0, was_queued,
	    c->req->now) == -1 || (s.customer_email[0] != '\0' &&
	    notify_transcript(db, c->api->cfg, s.id, s.customer_email,
	    c->req->now) == -1))
		goto dberr;
	if (commit(c, "close") == 0)
		reply_session(c, 200, &s);
	return;
dberr:
	relay_forget(c->api->relay);
	api_fail_internal(c, "close");
}
