#ifndef CHAT_AGENT_H
#define CHAT_AGENT_H

#include <stddef.h>
#include <stdint.h>

#include "password.h"

struct db;

#define AGENT_USERNAME_MAX 64
#define AGENT_DISPLAY_MAX 100	/* characters */

/* A support agent as stored. */
struct agent {
	int64_t id;
	char username[AGENT_USERNAME_MAX + 1];
	char display_name[AGENT_DISPLAY_MAX * 4 + 1];	/* UTF-8 */
	char password_hash[PASSWORD_HASH_SIZE];
	int64_t disabled_at;	/* 0 while enabled */
	int64_t created_at;
};

/* An enabled agent as the transfer picker shows them. */
struct agent_load {
	int64_t id;
	char display_name[AGENT_DISPLAY_MAX * 4 + 1];
	int online;	/* a live connection (seen at seen_after or later) */
	long active;	/* active sessions */
};

enum agent_status {
	AGENT_OK = 0,
	AGENT_NOT_FOUND,
	AGENT_EXISTS,
	AGENT_ERROR	/* a database error */
};

/*
 * Whether username is acceptable for a new agent: 1..64 of A-Z a-z 0-9 . _ -
 * Returns NULL when it is, else a static message saying why not.
 */
const char *agent_check_username(const char *username);

/* Load the agent with this username (any case) into *out. */
enum agent_status agent_find(struct db *db, const char *username,
    struct agent *out);

/* Load the agent with this id into *out. */
enum agent_status agent_get(struct db *db, int64_t id, struct agent *out);

/*
 * Store a new agent; *id (output) is its id. AGENT_EXISTS when the
 * username is taken, in any case.
 */
enum agent_status agent_add(struct db *db, const char *username,
    const char *display_name, const char *password_hash, int64_t now,
    int64_t *id);

/* Replace the agent's password hash. */
enum agent_status agent_set_password(struct db *db, int64_t id,
    const char *password_hash);

/* Disable the agent at now (ms), or enable it with now = 0. */
enum agent_status agent_set_disabled(struct db *db, int64_t id, int64_t now);

/*
 * Call fn once per agent, by id, with the agent lent for that call.
 * Stops early and returns AGENT_ERROR if fn returns -1.
 */
enum agent_status agent_each(struct db *db,
    int (*fn)(const struct agent *, void *), void *arg);

/*
 * Call fn for each enabled agent, by display name, with how busy they are
 * and whether they have a connection seen at seen_after or later (dead
 * connections pruned before: relay_prune_agents()).
 */
enum agent_status agent_each_load(struct db *db, int64_t seen_after,
    int (*fn)(const struct agent_load *, void *), void *arg);

/* How many active sessions agent id has, into *count. */
enum agent_status agent_active_count(struct db *db, int64_t id, long *count);

#endif
