#include <errno.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "config.h"

#ifndef CHAT_DEFAULT_SQL_DIR
#define CHAT_DEFAULT_SQL_DIR "sql"
#endif

#define YEAR_SECONDS 31536000L

/* One integer setting: where it goes, its default and its bounds. */
struct int_setting {
	const char *name;
	size_t offset;
	long def, min, max;
};

static const struct int_setting int_settings[] = {
	{ "CHAT_CUSTOMER_TOKEN_TTL", offsetof(struct config, customer_token_ttl),
	    86400, 1, YEAR_SECONDS },
	{ "CHAT_AGENT_TOKEN_TTL", offsetof(struct config, agent_token_ttl),
	    28800, 1, YEAR_SECONDS },
	{ "CHAT_CUSTOMER_REFRESH_TTL", offsetof(struct config, refresh_token_ttl),
	    2592000, 60, 10 * YEAR_SECONDS },
	{ "CHAT_LOGIN_USER_LIMIT", offsetof(struct config, login_user_limit),
	    5, 0, 1000000 },
	{ "CHAT_LOGIN_ADDR_LIMIT", offsetof(struct config, login_addr_limit),
	    20, 0, 1000000 },
	{ "CHAT_LOGIN_WINDOW", offsetof(struct config, login_window),
	    900, 1, 86400 },
	{ "CHAT_CUSTOMER_CREATE_LIMIT", offsetof(struct config, customer_create_limit),
	    30, 0, 1000000 },
	{ "CHAT_CUSTOMER_CREATE_WINDOW", offsetof(struct config, customer_create_window),
	    60, 1, 86400 },
	{ "CHAT_MAX_BODY", offsetof(struct config, max_body),
	    65536, 8192, 16777216 },
	{ "CHAT_DB_BUSY_TIMEOUT", offsetof(struct config, busy_timeout),
	    5000, 0, 600000 },
	{ "CHAT_AGENT_MAX_ACTIVE", offsetof(struct config, agent_max_active),
	    5, 0, 10000 },
	{ "CHAT_WS_RATE", offsetof(struct config, ws_rate),
	    10, 0, 100000 },
	{ "CHAT_WS_MAX_PER_TOKEN", offsetof(struct config, ws_max_per_token),
	    10, 1, 1000 },
	{ "CHAT_WS_IDLE_PING", offsetof(struct config, ws_idle_ping),
	    25, 1, 3600 },
	{ "CHAT_WS_QUEUE_MAX", offsetof(struct config, ws_queue_max),
	    1048576, 65536, 67108864 },
	{ "CHAT_WS_DRAIN_TIMEOUT", offsetof(struct config, ws_drain_timeout),
	    30, 1, 3600 },
	{ "CHAT_PRESENCE_STALE", offsetof(struct config, presence_stale),
	    45, 3, 600 },
	{ "CHAT_REQUEUE_AFTER", offsetof(struct config, requeue_after),
	    120, 0, 86400 },
	{ "CHAT_UNCLAIMED_TIMEOUT", offsetof(struct config, unclaimed_timeout),
	    120, 5, 86400 },
	{ "CHAT_ALERT_REPEAT", offsetof(struct config, alert_repeat),
	    30, 5, 3600 },
	{ "CHAT_FOLLOWUP_AFTER", offsetof(struct config, followup_after),
	    300, 0, 604800 },
	{ "CHAT_MAIL_GIVE_UP", offsetof(struct config, mail_give_up),
	    172800, 60, 2592000 },
};

/* One string setting: where it goes and its default. */
struct str_setting {
	const char *name;
	size_t offset;
	const char *def;
};

static const struct str_setting str_settings[] = {
	{ "CHAT_NAME", offsetof(struct config, chat_name), "Support" },
	{ "CHAT_PUBLIC_URL", offsetof(struct config, public_url), "" },
	{ "CHAT_HOURS", offsetof(struct config, hours), "" },
	{ "CHAT_TIMEZONE", offsetof(struct config, timezone), "UTC" },
	{ "CHAT_SMTP_URL", offsetof(struct config, smtp_url), "" },
	{ "CHAT_SMTP_USER", offsetof(struct config, smtp_user), "" },
	{ "CHAT_SMTP_PASSWORD", offsetof(struct config, smtp_password), "" },
	{ "CHAT_MAIL_FROM", offsetof(struct config, mail_from), "" },
	{ "CHAT_MAIL_TEAM", offsetof(struct config, mail_team), "" },
	{ "CHAT_PRIVACY_TEXT", offsetof(struct config, privacy_text), "" },
};

/* The variable's value, or NULL when it is unset or empty. */
static const char *
env(const char *name)
{
	const char *v = getenv(name);

	return v != NULL && v[0] != '\0' ? v : NULL;
}

static int
load_int(struct config *cfg, const struct int_setting *s, char *err,
    size_t errsz)
{
	const char *v = env(s->name);
	char *end;
	long n;

	if (v == NULL) {
		n = s->def;
	} else {
		errno = 0;
		n = strtol(v, &end, 10);
		if (v[0] < '0' || v[0] > '9' || *end != '\0' || errno != 0 ||
		    n < s->min || n > s->max) {
			snprintf(err, errsz, "%s: \"%s\" is not an integer in "
			    "%ld..%ld", s->name, v, s->min, s->max);
			return -1;
		}
	}
	*(long *)(void *)((char *)cfg + s->offset) = n;
	return 0;
}

/* The names of enum smtp_tls and enum prechat_email, in order. */
static const char *const smtp_tls_names[] = { "auto", "require", "none", NULL };
static const char *const prechat_email_names[] = { "off", "optional",
    "required", NULL };

/*
 * The variable name as an index into names (NULL-terminated), def when it
 * is unset. Returns 0, or -1 with err as config_load().
 */
static int
load_choice(const char *name, const char *const *names, int def, int *out,
    char *err, size_t errsz)
{
	const char *v = env(name);
	size_t used;
	int i;

	*out = def;
	if (v == NULL)
		return 0;
	for (i = 0; names[i] != NULL; i++)
		if (strcmp(v, names[i]) == 0) {
			*out = i;
			return 0;
		}
	used = (size_t)snprintf(err, errsz, "%s: \"%s\" is not one of", name, v);
	for (i = 0; names[i] != NULL && used < errsz; i++)
		used += (size_t)snprintf(err + used, errsz - used, "%s %s",
		    i == 0 ? "" : ",", names[i]);
	return -1;
}

int
config_load(struct config *cfg, char *err, size_t errsz)
{
	const char *v;
	size_t i;
	int choice;

	memset(cfg, 0, sizeof(*cfg));
	cfg->db_path = (v = env("CHAT_DB")) != NULL ? v : "var/chat.db";
	cfg->sql_dir = (v = env("CHAT_SQL_DIR")) != NULL ? v :
	    CHAT_DEFAULT_SQL_DIR;
	cfg->allowed_origins = (v = env("CHAT_ALLOWED_ORIGINS")) != NULL ?
	    v : "";
	cfg->log_file = env("CHAT_LOG_FILE");
	for (i = 0; i < sizeof(int_settings) / sizeof(int_settings[0]); i++)
		if (load_int(cfg, &int_settings[i], err, errsz) == -1)
			return -1;
	for (i = 0; i < sizeof(str_settings) / sizeof(str_settings[0]); i++)
		*(const char **)(void *)((char *)cfg + str_settings[i].offset) =
		    (v = env(str_settings[i].name)) != NULL ? v :
		    str_settings[i].def;
	if (load_choice("CHAT_SMTP_TLS", smtp_tls_names, (int)SMTP_TLS_AUTO,
	    &choice, err, errsz) == -1)
		return -1;
	cfg->smtp_tls = (enum smtp_tls)choice;
	if (load_choice("CHAT_PRECHAT_EMAIL", prechat_email_names,
	    (int)PRECHAT_EMAIL_OPTIONAL, &choice, err, errsz) == -1)
		return -1;
	cfg->prechat_email = (enum prechat_email)choice;
	if (hours_parse(cfg->hours, cfg->timezone, &cfg->business, err,
	    errsz) == -1)
		return -1;

	v = env("CHAT_DB_SYNC");
	if (v == NULL || strcmp(v, "normal") == 0)
		cfg->sync_full = 0;
	else if (strcmp(v, "full") == 0)
		cfg->sync_full = 1;
	else {
		snprintf(err, errsz, "CHAT_DB_SYNC: \"%s\" is not one of "
		    "normal, full", v);
		return -1;
	}

	cfg->log_level = LOG_INFO;
	v = env("CHAT_LOG_LEVEL");
	if (v != NULL && log_level_parse(v, &cfg->log_level) == -1) {
		snprintf(err, errsz, "CHAT_LOG_LEVEL: \"%s\" is not one of "
		    "error, warn, info, debug", v);
		return -1;
	}
	return 0;
}
