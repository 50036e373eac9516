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

/* A message as stored. */
struct message {
	int64_t id;
	int64_t session_id;
	enum sender_type sender_type;
	int64_t sender_id;	/* 0 for system messages */
	char text[MESSAGE_TEXT_MAX * 4 + 1];
	char client_msg_id[MESSAGE_CLIENT_ID_MAX * 4 + 1];	/* "" when none */
	int64_t created_at;
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
 * *out holds the stored message.
 */
enum message_status message_add(struct db *db, int64_t session_id,
    enum sender_type type, int64_t sender_id, const char *text,
    const char *client_msg_id, int64_t origin_conn, int64_t now,
    struct message *out);

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
