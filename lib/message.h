#ifndef CHAT_MESSAGE_H
#define CHAT_MESSAGE_H

#include <stddef.h>
#include <stdint.h>

struct db;

#define MESSAGE_TEXT_MAX 4000		/* characters */
#define MESSAGE_CLIENT_ID_MAX 64	/* characters */

enum sender_type {
	SENDER_CUSTOMER,
	SENDER_AGENT,
	SENDER_SYSTEM
};

#define MESSAGE_NAME_MAX 100		/* characters of a sender's name */

/* A system line's event: what happened, for clients to say in their language. */
enum message_event {
	EVENT_NONE,
	EVENT_JOINED,		/* event_agent joined the chat */
	EVENT_TRANSFERRED,	/* from event_from_agent to event_agent */
	EVENT_LEFT_MESSAGE	/* the visitor left a message while nobody answered */
};

/* A message as stored. */
struct message {
	int64_t id;
	int64_t session_id;
	enum sender_type sender_type;
	int64_t sender_id;	/* 0 for system messages */
	char text[MESSAGE_TEXT_MAX * 4 + 1];
	char client_msg_id[MESSAGE_CLIENT_ID_MAX * 4 + 1];	/* "" when none */
	int64_t created_at;
	/* Read, not stored with it: the sender's name ("" for system lines). */
	char sender_name[MESSAGE_NAME_MAX * 4 + 1];
	enum message_event event;
	int64_t event_agent_id, event_from_agent_id;	/* 0: none */
	char event_agent[MESSAGE_NAME_MAX * 4 + 1];	/* their display names */
	char event_from_agent[MESSAGE_NAME_MAX * 4 + 1];
};

enum message_status {
	MESSAGE_OK = 0,
	MESSAGE_DUPLICATE,	/* the sender used this clientMsgId already */
	MESSAGE_NOT_FOUND,
	MESSAGE_ERROR		/* a database error */
};

/* "customer", "agent" or "system". Static. */
const char *message_sender_name(enum sender_type type);

/*
 * Store a message from the connection origin_conn (0: none). When
 * client_msg_id (NULL: none) was used by the same sender in the same
 * session, nothing is stored and MESSAGE_DUPLICATE says so; either way
 * *out holds the stored message (but for its sender_name: "", the caller
 * knows who it is).
 */
enum message_status message_add(struct db *db, int64_t session_id,
    enum sender_type type, int64_t sender_id, const char *text,
    const char *client_msg_id, int64_t origin_conn, int64_t now,
    struct message *out);

/* "joined", "transferred", "left_message"; NULL for EVENT_NONE. Static. */
const char *message_event_name(enum message_event event);

/*
 * Store a system line of event (agent_id, from_agent_id: 0 when the event
 * names none) with its English text, into *out (names filled in).
 */
enum message_status message_add_event(struct db *db, int64_t session_id,
    enum message_event event, int64_t agent_id, int64_t from_agent_id,
    int64_t now, struct message *out);

/* Load message id into *out; *origin_conn (output, may be NULL) is where it came from. */
enum message_status message_get(struct db *db, int64_t id, struct message *out,
    int64_t *origin_conn);

/*
 * Call fn for up to limit messages of the session, oldest first: with
 * before = 0, those after id `after`; else the newest older than `before`.
 * *has_more (output) says whether more lie that way.
 */
enum message_status message_page(struct db *db, int64_t session_id,
    int64_t after, int64_t before, int limit,
    int (*fn)(const struct message *, void *), void *arg, int *has_more);

#endif
