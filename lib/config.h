#ifndef CHAT_CONFIG_H
#define CHAT_CONFIG_H

#include <stddef.h>

#include "hours.h"
#include "log.h"

/* CHAT_SMTP_TLS: STARTTLS when offered (required with a login), always, never. */
enum smtp_tls { SMTP_TLS_AUTO, SMTP_TLS_REQUIRE, SMTP_TLS_NONE };

/* CHAT_PRECHAT_EMAIL: the pre-chat form's email field. */
enum prechat_email { PRECHAT_EMAIL_OFF, PRECHAT_EMAIL_OPTIONAL, PRECHAT_EMAIL_REQUIRED };

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
	long unclaimed_timeout;		/* CHAT_UNCLAIMED_TIMEOUT, seconds a queued chat waits before the visitor is offered to leave a message and the team is mailed */
	long alert_repeat;		/* CHAT_ALERT_REPEAT, seconds between the workbench's repeated alerts */
	long followup_after;		/* CHAT_FOLLOWUP_AFTER, seconds an agent's reply waits unread before it is mailed, 0 = never */
	long mail_give_up;		/* CHAT_MAIL_GIVE_UP, seconds a mail is retried before it is given up */
	const char *chat_name;		/* CHAT_NAME: the chat's name, the sender of its mail */
	const char *public_url;		/* CHAT_PUBLIC_URL: the visitor page's address, for links in mail; "" = none */
	const char *hours;		/* CHAT_HOURS: business hours, "" = always open */
	const char *timezone;		/* CHAT_TIMEZONE: of the business hours */
	struct hours business;		/* CHAT_HOURS in CHAT_TIMEZONE, parsed */
	const char *smtp_url;		/* CHAT_SMTP_URL: smtp://host:port or smtps://, "" = no mail */
	const char *smtp_user;		/* CHAT_SMTP_USER, "" = no login */
	const char *smtp_password;	/* CHAT_SMTP_PASSWORD */
	enum smtp_tls smtp_tls;		/* CHAT_SMTP_TLS */
	const char *mail_from;		/* CHAT_MAIL_FROM: the sender address */
	const char *mail_team;		/* CHAT_MAIL_TEAM: the team's address(es), comma-separated, "" = none */
	enum prechat_email prechat_email;	/* CHAT_PRECHAT_EMAIL */
	const char *privacy_text;	/* CHAT_PRIVACY_TEXT: "" = no consent box */
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
