/*
 * chatctl: the admin tool. Migrations, agent accounts, backups and the mail
 * queue, on the database named by --db, else CHAT_DB, else var/chat.db. Passwords are read from
 * standard input, one line, never from the command line.
 */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <sodium.h>

#include "../lib/agent.h"
#include "../lib/backup.h"
#include "../lib/clock.h"
#include "../lib/config.h"
#include "../lib/db.h"
#include "../lib/chars.h"
#include "../lib/field.h"
#include "../lib/mail.h"
#include "../lib/migrate.h"
#include "../lib/notify.h"
#include "../lib/outbox.h"
#include "../lib/password.h"
#include "../lib/relay.h"
#include "../lib/token.h"
#include "../lib/wake.h"

static const char usage_text[] =
    "usage: chatctl [--db PATH] COMMAND\n"
    "commands:\n"
    "  migrate                                  create or upgrade the database\n"
    "  agent add USERNAME [--display-name NAME] add an agent (password on stdin)\n"
    "  agent list                               list agents\n"
    "  agent disable USERNAME                   stop an agent logging in; revoke its tokens\n"
    "  agent enable USERNAME                    let a disabled agent log in again\n"
    "  agent passwd USERNAME                    set a new password (stdin); revoke its tokens\n"
    "  backup FILE                              copy the live database into a new FILE\n"
    "  restore FILE                             replace the database with a backup FILE\n"
    "  mail test ADDRESS                        queue a test mail to ADDRESS\n"
    "  mail list [--all]                        the mail queue (--all: with the mail sent)\n";

/* The words of the command line, --db taken out. */
struct args {
	int argc;
	char **argv;
};

static int fail(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

/* Print "chatctl: " and the message as one line on standard error; returns 1. */
static int
fail(const char *fmt, ...)
{
	va_list ap;

	fputs("chatctl: ", stderr);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
	return 1;
}

/* Read one line from standard input into buf, without its line end. */
static int
read_password(const char *cmd, char *buf, size_t bufsz)
{
	const char *why;
	size_t n;

	if (isatty(STDIN_FILENO))
		fprintf(stderr, "password: ");
	if (fgets(buf, (int)bufsz, stdin) == NULL)
		return fail("%s: no password on standard input", cmd);
	n = strlen(buf);
	if (n > 0 && buf[n - 1] != '\n' && !feof(stdin))
		return fail("%s: %s", cmd, "password must be at most 1024 bytes");
	buf[strcspn(buf, "\r\n")] = '\0';
	if ((why = password_check_new(buf)) != NULL)
		return fail("%s: %s", cmd, why);
	return 0;
}

static int
cmd_migrate(const struct config *cfg)
{
	struct db *db;
	char err[1024];
	int applied = 0, rc;

	if ((db = db_open(cfg, DB_CREATE | DB_ANY_SCHEMA, err, sizeof(err))) ==
	    NULL)
		return fail("migrate: %s", err);
	rc = migrate_apply(db, cfg->sql_dir, &applied, err, sizeof(err));
	db_close(db);
	if (rc == -1)
		return fail("migrate: %s; nothing was applied", err);
	printf("%s: %d migration%s applied\n", cfg->db_path, applied,
	    applied == 1 ? "" : "s");
	return 0;
}

static int
agent_add_cmd(struct db *db, int argc, char **argv)
{
	char password[PASSWORD_MAX_LEN + 2], hash[PASSWORD_HASH_SIZE];
	const char *username, *display, *why;
	enum agent_status st;
	int64_t id;
	int rc = 1;

	if (argc != 3 && !(argc == 5 && strcmp(argv[3], "--display-name") == 0))
		return fail("agent add: usage: agent add USERNAME "
		    "[--display-name NAME]");
	username = argv[2];
	display = argc == 5 ? argv[4] : username;
	if ((why = agent_check_username(username)) != NULL)
		return fail("agent add: %s: %s", username, why);
	why = display[0] == '\0' || field_utf8_len(display) > AGENT_DISPLAY_MAX ?
	    "must be 1 to 100 characters" : chars_name_problem(display);
	if (why != NULL)
		return fail("agent add: %s: display name %s", username, why);
	if (read_password("agent add", password, sizeof(password)) != 0)
		goto out;
	if (password_hash(password, hash) == -1) {
		fail("agent add: %s: %s", username, "out of memory hashing");
		goto out;
	}
	st = agent_add(db, username, display, hash, clock_now_ms(), &id);
	if (st == AGENT_EXISTS)
		fail("agent add: %s: %s", username, "username taken");
	else if (st != AGENT_OK)
		fail("agent add: %s: %s", username, db_errmsg(db));
	else {
		printf("agent %s added (id %lld)\n", username, (long long)id);
		rc = 0;
	}
out:
	sodium_memzero(password, sizeof(password));
	return rc;
}

static int
print_agent(const struct agent *a, void *arg)
{
	char created[CLOCK_RFC3339_LEN + 1];

	(void)arg;
	return printf("%lld\t%s\t%s\t%s\t%s\n", (long long)a->id, a->username,
	    a->display_name, a->disabled_at != 0 ? "disabled" : "active",
	    clock_format(a->created_at, created, sizeof(created))) < 0 ? -1 : 0;
}

/*
 * Wake the agent's open WebSocket connections so they check their (now
 * revoked) tokens and end at once. The tokens are revoked already; at worst
 * the connections find out on their next periodic check.
 */
static void
end_connections(const struct config *cfg, struct db *db, int64_t agent_id)
{
	struct relay_user user = { PRINCIPAL_AGENT, agent_id };
	struct relay *relay = relay_new(db, cfg->presence_stale);

	if (relay != NULL)
		relay_wake(relay, &user, WAKE_RECHECK, NULL, 0);
	relay_free(relay);
}

/*
 * disable, enable and passwd: change one agent and, except for enable,
 * revoke its tokens, in one transaction.
 */
static int
agent_change_cmd(const struct config *cfg, struct db *db, const char *verb,
    const char *username)
{
	char password[PASSWORD_MAX_LEN + 2], hash[PASSWORD_HASH_SIZE];
	int64_t now = clock_now_ms();
	enum agent_status st;
	struct agent a;
	int rc = 1, passwd = strcmp(verb, "passwd") == 0;

	if (passwd && (read_password("agent passwd", password,
	    sizeof(password)) != 0 || password_hash(password, hash) == -1))
		goto out;
	if ((st = agent_find(db, username, &a)) == AGENT_NOT_FOUND) {
		fail("agent %s: %s: no such agent", verb, username);
		goto out;
	}
	if (st != AGENT_OK || db_begin(db) == -1)
		goto dberr;
	if (passwd)
		st = agent_set_password(db, a.id, hash);
	else
		st = agent_set_disabled(db, a.id,
		    strcmp(verb, "disable") == 0 ? now : 0);
	if (st != AGENT_OK || (strcmp(verb, "enable") != 0 &&
	    token_revoke_agent(db, a.id, now) == -1) || db_commit(db) == -1)
		goto dberr;
	if (strcmp(verb, "enable") != 0)
		end_connections(cfg, db, a.id);
	printf("agent %s: %s\n", a.username, strcmp(verb, "passwd") == 0 ?
	    "password changed; its tokens are revoked" :
	    strcmp(verb, "disable") == 0 ? "disabled; its tokens are revoked" :
	    "enabled");
	rc = 0;
	goto out;
dberr:
	fail("agent %s: %s", verb, db_errmsg(db));
	db_rollback(db);
out:
	sodium_memzero(password, sizeof(password));
	return rc;
}

static int
cmd_agent(const struct config *cfg, int argc, char **argv)
{
	struct db *db;
	char err[1024];
	int rc;

	if (argc < 2)
		return fail("agent: a subcommand is missing (see chatctl --help)");
	if ((db = db_open(cfg, 0, err, sizeof(err))) == NULL)
		return fail("agent %s: %s", argv[1], err);
	if (strcmp(argv[1], "add") == 0)
		rc = agent_add_cmd(db, argc, argv);
	else if (strcmp(argv[1], "list") == 0 && argc == 2)
		rc = agent_each(db, print_agent, NULL) == AGENT_OK ? 0 :
		    fail("agent list: %s", db_errmsg(db));
	else if (argc == 3 && (strcmp(argv[1], "disable") == 0 ||
	    strcmp(argv[1], "enable") == 0 || strcmp(argv[1], "passwd") == 0))
		rc = agent_change_cmd(cfg, db, argv[1], argv[2]);
	else
		rc = fail("agent %s: unknown subcommand or wrong arguments "
		    "(see chatctl --help)", argv[1]);
	db_close(db);
	return rc;
}

/* Any schema: a backup before an upgrade is the point of one. */
static int
cmd_backup(const struct config *cfg, const char *path)
{
	struct db *db;
	char err[1024];
	int pages = 0, rc;

	if ((db = db_open(cfg, DB_ANY_SCHEMA, err, sizeof(err))) == NULL)
		return fail("backup: %s", err);
	rc = backup_save(db, path, &pages, err, sizeof(err));
	db_close(db);
	if (rc == -1)
		return fail("%s", err);
	printf("%s: backed up to %s (%d pages)\n", cfg->db_path, path, pages);
	return 0;
}

/*
 * Copy the backup in, bring it up to this release's migrations, and end
 * the WebSocket connections of the database it replaced: their clients
 * reconnect and get what the restored database holds for them.
 */
static int
cmd_restore(const struct config *cfg, const char *path)
{
	struct relay_list *before = NULL;
	struct relay *relay = NULL;
	int64_t started = clock_now_ms();
	struct db *db;
	char err[1024];
	int applied = 0, rc = 1;

	if ((db = db_open(cfg, DB_CREATE | DB_ANY_SCHEMA, err, sizeof(err))) ==
	    NULL)
		return fail("restore: %s", err);
	/* A new or empty database has no connections to end. */
	if ((relay = relay_new(db, cfg->presence_stale)) != NULL)
		before = relay_list_connections(relay);
	if (backup_restore(db, path, cfg->sql_dir, err, sizeof(err)) == -1) {
		fail("%s", err);
		goto out;
	}
	if (migrate_apply(db, cfg->sql_dir, &applied, err, sizeof(err)) == -1) {
		fail("restore %s: restored, but its migrations failed: %s; run "
		    "chatctl migrate once that is fixed", path, err);
		goto out;
	}
	if (relay != NULL) {
		if (relay_forget_before(relay, started) == -1)
			fail("restore: %s", db_errmsg(db));
		relay_end_list(relay, before);
	}
	printf("%s: restored from %s; %d migration%s applied\n", cfg->db_path,
	    path, applied, applied == 1 ? "" : "s");
	rc = 0;
out:
	relay_list_free(before);
	relay_free(relay);
	db_close(db);
	return rc;
}

/* Queue a test mail to the address to, for chat-mail to send. */
static int
mail_test_cmd(const struct config *cfg, struct db *db, const char *to)
{
	char err[1024], *p;
	int64_t id = 0;

	if (!mail_enabled(cfg))
		return fail("mail test: mail is not configured: set CHAT_SMTP_URL "
		    "and CHAT_MAIL_FROM (README.md, Configuration)");
	if (mail_check_config(cfg, err, sizeof(err)) == -1)
		return fail("mail test: %s", err);
	if (!field_email_valid(to)) {
		/* It may hold line ends: the message stays one line. */
		snprintf(err, sizeof(err), "%s", to);
		for (p = err; *p != '\0'; p++)
			if ((unsigned char)*p < 0x20 || *p == 0x7f)
				*p = '?';
		return fail("mail test: %s: not an email address "
		    "(name@example.com)", err);
	}
	if (db_begin(db) == -1 || notify_test(db, cfg, to, clock_now_ms(),
	    &id) == -1 || db_commit(db) == -1) {
		fail("mail test: %s", db_errmsg(db));
		db_rollback(db);
		return 1;
	}
	printf("mail test: queued mail %lld to %s; chat-mail sends it within "
	    "seconds (chatctl mail list says how it went)\n", (long long)id, to);
	return 0;
}

/* One line of mail list: id, kind, to, attempts, next try, state, last error. */
static int
print_mail(const struct outbox_mail *m, void *arg)
{
	char next[CLOCK_RFC3339_LEN + 1];

	(void)arg;
	return printf("%lld\t%s\t%s\t%d\t%s\t%s\t%s\n", (long long)m->id,
	    m->kind, m->recipient, m->attempts, m->state == OUTBOX_WAITING ?
	    clock_format(m->next_at, next, sizeof(next)) : "-",
	    outbox_state_name(m->state), m->last_error[0] != '\0' ?
	    m->last_error : "-") < 0 ? -1 : 0;
}

static int
cmd_mail(const struct config *cfg, int argc, char **argv)
{
	struct db *db;
	char err[1024];
	int rc, all = argc == 3 && strcmp(argv[2], "--all") == 0;

	if (argc < 2)
		return fail("mail: a subcommand is missing (see chatctl --help)");
	if (!(strcmp(argv[1], "test") == 0 && argc == 3) &&
	    !(strcmp(argv[1], "list") == 0 && (argc == 2 || all)))
		return fail("mail %s: unknown subcommand or wrong arguments "
		    "(see chatctl --help)", argv[1]);
	if ((db = db_open(cfg, 0, err, sizeof(err))) == NULL)
		return fail("mail %s: %s", argv[1], err);
	if (strcmp(argv[1], "test") == 0)
		rc = mail_test_cmd(cfg, db, argv[2]);
	else if (outbox_each(db, all, print_mail, NULL) == -1)
		rc = fail("mail list: %s", db_errmsg(db));
	else {
		rc = 0;
		if (!mail_enabled(cfg))
			fprintf(stderr, "chatctl: mail list: mail is not "
			    "configured (CHAT_SMTP_URL, CHAT_MAIL_FROM): nothing "
			    "is sent\n");
	}
	db_close(db);
	return rc;
}

/* Take --db PATH out of argv; it may stand anywhere. Returns 0 or -1. */
static int
take_db_option(int *argc, char **argv)
{
	int i, j;

	for (i = 1; i < *argc; i++) {
		if (strcmp(argv[i], "--db") != 0)
			continue;
		if (i + 1 >= *argc || argv[i + 1][0] == '\0')
			return -1;
		if (setenv("CHAT_DB", argv[i + 1], 1) == -1)
			return -1;
		for (j = i; j + 2 <= *argc; j++)
			argv[j] = argv[j + 2];
		*argc -= 2;
		i--;
	}
	return 0;
}

int
main(int argc, char **argv)
{
	struct config cfg;
	char err[512];

	if (take_db_option(&argc, argv) == -1)
		return fail("--db needs a path");
	if (argc < 2)
		return fail("a command is missing (see chatctl --help)");
	if (strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "-h") == 0) {
		fputs(usage_text, stdout);
		return 0;
	}
	if (config_load(&cfg, err, sizeof(err)) == -1)
		return fail("%s", err);
	if (sodium_init() < 0)
		return fail("libsodium failed to start");
	if (strcmp(argv[1], "migrate") == 0 && argc == 2)
		return cmd_migrate(&cfg);
	if (strcmp(argv[1], "agent") == 0)
		return cmd_agent(&cfg, argc - 1, argv + 1);
	if (strcmp(argv[1], "mail") == 0)
		return cmd_mail(&cfg, argc - 1, argv + 1);
	if (strcmp(argv[1], "backup") == 0 && argc == 3)
		return cmd_backup(&cfg, argv[2]);
	if (strcmp(argv[1], "restore") == 0 && argc == 3)
		return cmd_restore(&cfg, argv[2]);
	if (strcmp(argv[1], "backup") == 0 || strcmp(argv[1], "restore") == 0)
		return fail("%s: usage: chatctl %s FILE", argv[1], argv[1]);
	return fail("unknown command: %s (see chatctl --help)", argv[1]);
}
