#include "testutil.h"

static const char *const all_vars[] = {
	"CHAT_DB", "CHAT_SQL_DIR", "CHAT_ALLOWED_ORIGINS",
	"CHAT_CUSTOMER_TOKEN_TTL", "CHAT_AGENT_TOKEN_TTL",
	"CHAT_CUSTOMER_REFRESH_TTL", "CHAT_LOGIN_USER_LIMIT",
	"CHAT_LOGIN_ADDR_LIMIT", "CHAT_LOGIN_WINDOW",
	"CHAT_CUSTOMER_CREATE_LIMIT", "CHAT_CUSTOMER_CREATE_WINDOW",
	"CHAT_MAX_BODY", "CHAT_DB_BUSY_TIMEOUT", "CHAT_DB_SYNC",
	"CHAT_LOG_LEVEL", "CHAT_LOG_FILE", "CHAT_WS_RATE", "CHAT_AGENT_MAX_ACTIVE",
	"CHAT_SMTP_URL", "CHAT_SMTP_TLS", "CHAT_PRECHAT_EMAIL", "CHAT_NAME",
	"CHAT_UNCLAIMED_TIMEOUT", "CHAT_ALERT_REPEAT", "CHAT_HOURS", "CHAT_TIMEZONE",
};

static int
clear_env(void **state)
{
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(all_vars) / sizeof(all_vars[0]); i++)
		unsetenv(all_vars[i]);
	return 0;
}

static void
config_load_uses_the_contracts_defaults(void **state)
{
	struct config cfg;
	char err[256];

	(void)state;
	assert_int_equal(config_load(&cfg, err, sizeof(err)), 0);
	assert_string_equal(cfg.db_path, "var/chat.db");
	assert_int_equal(cfg.customer_token_ttl, 86400);
	assert_int_equal(cfg.agent_token_ttl, 28800);
	assert_string_equal(cfg.allowed_origins, "");
	assert_int_equal(cfg.sync_full, 0);
	assert_int_equal(cfg.log_level, LOG_INFO);
	assert_true(cfg.login_user_limit > 0 && cfg.login_addr_limit > 0);
}

static void
config_load_reads_set_values(void **state)
{
	struct config cfg;
	char err[256];

	(void)state;
	setenv("CHAT_DB", "/srv/chat/chat.db", 1);
	setenv("CHAT_CUSTOMER_TOKEN_TTL", "60", 1);
	setenv("CHAT_AGENT_TOKEN_TTL", "1", 1);
	setenv("CHAT_LOGIN_USER_LIMIT", "0", 1);
	setenv("CHAT_DB_SYNC", "full", 1);
	setenv("CHAT_LOG_LEVEL", "debug", 1);
	setenv("CHAT_ALLOWED_ORIGINS", "https://a.example,https://b.example", 1);
	assert_int_equal(config_load(&cfg, err, sizeof(err)), 0);
	assert_string_equal(cfg.db_path, "/srv/chat/chat.db");
	assert_int_equal(cfg.customer_token_ttl, 60);
	assert_int_equal(cfg.agent_token_ttl, 1);
	assert_int_equal(cfg.login_user_limit, 0);
	assert_int_equal(cfg.sync_full, 1);
	assert_int_equal(cfg.log_level, LOG_DEBUG);
	assert_string_equal(cfg.allowed_origins,
	    "https://a.example,https://b.example");
}

static void
config_load_treats_empty_as_unset(void **state)
{
	struct config cfg;
	char err[256];

	(void)state;
	setenv("CHAT_DB", "", 1);
	setenv("CHAT_AGENT_TOKEN_TTL", "", 1);
	assert_int_equal(config_load(&cfg, err, sizeof(err)), 0);
	assert_string_equal(cfg.db_path, "var/chat.db");
	assert_int_equal(cfg.agent_token_ttl, 28800);
}

/* A bad value, and what the refusal must say. */
static const struct {
	const char *var, *value, *says;
} bad[] = {
	{ "CHAT_CUSTOMER_TOKEN_TTL", "abc", "1..31536000" },
	{ "CHAT_CUSTOMER_TOKEN_TTL", "0", "1..31536000" },
	{ "CHAT_CUSTOMER_TOKEN_TTL", "-5", "1..31536000" },
	{ "CHAT_CUSTOMER_TOKEN_TTL", "31536001", "1..31536000" },
	{ "CHAT_AGENT_TOKEN_TTL", "10s", "1..31536000" },
	{ "CHAT_AGENT_TOKEN_TTL", " 10", "1..31536000" },
	{ "CHAT_AGENT_TOKEN_TTL", "99999999999999999999999", "1..31536000" },
	{ "CHAT_LOGIN_USER_LIMIT", "-1", "0..1000000" },
	{ "CHAT_LOGIN_WINDOW", "0", "1..86400" },
	{ "CHAT_CUSTOMER_CREATE_WINDOW", "86401", "1..86400" },
	{ "CHAT_MAX_BODY", "100", "8192..16777216" },
	{ "CHAT_DB_BUSY_TIMEOUT", "1.5", "0..600000" },
	{ "CHAT_DB_SYNC", "off", "normal, full" },
	{ "CHAT_LOG_LEVEL", "verbose", "error, warn, info, debug" },
	{ "CHAT_SMTP_TLS", "yes", "auto, require, none" },
	{ "CHAT_PRECHAT_EMAIL", "Required", "off, optional, required" },
	{ "CHAT_UNCLAIMED_TIMEOUT", "1", "5..86400" },
	{ "CHAT_ALERT_REPEAT", "0", "5..3600" },
	{ "CHAT_HOURS", "mon-fry 09:00-17:00", "unknown day" },
	{ "CHAT_TIMEZONE", "Mars/Olympus", "CHAT_TIMEZONE" },
};

static void
config_load_reads_the_mail_and_reach_settings(void **state)
{
	struct config cfg;
	char err[256];

	(void)state;
	assert_int_equal(config_load(&cfg, err, sizeof(err)), 0);
	assert_string_equal(cfg.chat_name, "Support");
	assert_string_equal(cfg.smtp_url, "");
	assert_string_equal(cfg.timezone, "UTC");
	assert_int_equal(cfg.smtp_tls, SMTP_TLS_AUTO);
	assert_int_equal(cfg.prechat_email, PRECHAT_EMAIL_OPTIONAL);
	assert_int_equal(cfg.unclaimed_timeout, 120);
	assert_int_equal(cfg.alert_repeat, 30);
	setenv("CHAT_SMTP_URL", "smtp://mail.example:587", 1);
	setenv("CHAT_SMTP_TLS", "require", 1);
	setenv("CHAT_PRECHAT_EMAIL", "required", 1);
	setenv("CHAT_NAME", "Acme help", 1);
	assert_int_equal(config_load(&cfg, err, sizeof(err)), 0);
	assert_string_equal(cfg.smtp_url, "smtp://mail.example:587");
	assert_string_equal(cfg.chat_name, "Acme help");
	assert_int_equal(cfg.smtp_tls, SMTP_TLS_REQUIRE);
	assert_int_equal(cfg.prechat_email, PRECHAT_EMAIL_REQUIRED);
}

static void
config_load_refuses_bad_values_naming_variable_value_and_range(void **state)
{
	struct config cfg;
	char err[256], value[64];
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		clear_env(NULL);
		setenv(bad[i].var, bad[i].value, 1);
		err[0] = '\0';
		assert_int_equal(config_load(&cfg, err, sizeof(err)), -1);
		snprintf(value, sizeof(value), "\"%s\"", bad[i].value);
		if (strstr(err, bad[i].var) == NULL || strstr(err, value) == NULL ||
		    strstr(err, bad[i].says) == NULL)
			fail_msg("%s=%s: message \"%s\" lacks name, value or "
			    "range", bad[i].var, bad[i].value, err);
	}
}

#define T(name) cmocka_unit_test_setup_teardown(name, clear_env, clear_env)

int
main(void)
{
	const struct CMUnitTest tests[] = {
		T(config_load_uses_the_contracts_defaults),
		T(config_load_reads_set_values),
		T(config_load_treats_empty_as_unset),
		T(config_load_reads_the_mail_and_reach_settings),
		T(config_load_refuses_bad_values_naming_variable_value_and_range),
	};

	return cmocka_run_group_tests_name("config", tests, NULL, NULL);
}
