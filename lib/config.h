#ifndef CHAT_CONFIG_H
#define CHAT_CONFIG_H

#include <stddef.h>

#include "log.h"

/*
 * The configuration every program reads once at start-up from its
 * environment. The strings are borrowed from the environment and live as
 * long as the process does. README.md lists every variable.
 */
struct config {
	const char *db_path;		/* CHAT_DB */
	const char *sql_dir;		/* CHAT_SQL_DIR: the migrations */
	const char *allowed_origins;	/* CHAT_ALLOWED_ORIGINS, "" = same origin */
	const char *log_file;		/* CHAT_LOG_FILE, NULL = standard error */
	long customer_token_ttl;	/* CHAT_CUSTOMER_TOKEN_TTL, seconds */
	long agent_token_ttl;		/* CHAT_AGENT_TOKEN_TTL, seconds */
	long refresh_token_ttl;		/* CHAT_CUSTOMER_REFRESH_TTL, seconds */
	long login_user_limit;		/* CHAT_LOGIN_USER_LIMIT, 0 = no limit */
	long login_addr_limit;		/* CHAT_LOGIN_ADDR_LIMIT, 0 = no limit */
	long login_window;		/* CHAT_LOGIN_WINDOW, seconds */
	long customer_create_limit;	/* CHAT_CUSTOMER_CREATE_LIMIT, 0 = no limit */
	long customer_create_window;	/* CHAT_CUSTOMER_CREATE_WINDOW, seconds */
	long max_body;			/* CHAT_MAX_BODY, bytes */
	long busy_timeout;		/* CHAT_DB_BUSY_TIMEOUT, milliseconds */
	long agent_max_active;		/* CHAT_AGENT_MAX_ACTIVE, sessions routed to one agent, 0 = no limit */
	long ws_rate;			/* CHAT_WS_RATE, messages/s per user, 0 = no limit */
	long ws_max_per_token;		/* CHAT_WS_MAX_PER_TOKEN, open connections */
	long ws_idle_ping;		/* CHAT_WS_IDLE_PING, seconds */
	long ws_queue_max;		/* CHAT_WS_QUEUE_MAX, bytes */
	long ws_drain_timeout;		/* CHAT_WS_DRAIN_TIMEOUT, seconds */
	long presence_stale;		/* CHAT_PRESENCE_STALE, seconds */
	long requeue_after;		/* CHAT_REQUEUE_AFTER, seconds, 0 = never */
	int sync_full;			/* CHAT_DB_SYNC: 0 "normal", 1 "full" */
	enum log_level log_level;	/* CHAT_LOG_LEVEL */
};

/*
 * Fill cfg from the environment, defaults where a variable is unset or
 * empty. Returns 0, or -1 with err holding (NUL-terminated, caller's
 * buffer) the variable's name, the value and the allowed range; cfg is
 * then incomplete and must not be used.
 */
int config_load(struct config *cfg, char *err, size_t errsz);

#endif
