#include "testutil.h"

/* A database in a temporary directory with its own migrations folder. */
struct mfix {
	char dir[256], sql[300], db_path[300];
	struct config cfg;
	struct db *db;
};

static void
write_file(struct mfix *m, const char *name, const char *text)
{
	char path[600];
	FILE *f;

	snprintf(path, sizeof(path), "%s/%s", m->sql, name);
	assert_non_null(f = fopen(path, "w"));
	fputs(text, f);
	fclose(f);
}

static int
setup(void **state)
{
	struct mfix *m = calloc(1, sizeof(*m));
	char err[512];

	assert_non_null(m);
	tu_tmpdir(m->dir, sizeof(m->dir));
	snprintf(m->sql, sizeof(m->sql), "%s/sql", m->dir);
	snprintf(m->db_path, sizeof(m->db_path), "%s/chat.db", m->dir);
	assert_int_equal(mkdir(m->sql, 0700), 0);
	setenv("CHAT_DB", m->db_path, 1);
	setenv("CHAT_SQL_DIR", m->sql, 1);
	assert_int_equal(config_load(&m->cfg, err, sizeof(err)), 0);
	m->db = db_open(&m->cfg, DB_CREATE | DB_ANY_SCHEMA, err, sizeof(err));
	assert_non_null(m->db);
	*state = m;
	return 0;
}

static int
teardown(void **state)
{
	struct mfix *m = *state;

	db_close(m->db);
	tu_rmdir(m->dir);
	unsetenv("CHAT_DB");
	unsetenv("CHAT_SQL_DIR");
	free(m);
	return 0;
}

static int
table_exists(struct db *db, const char *name)
{
	char sql[200];

	snprintf(sql, sizeof(sql), "SELECT count(*) FROM sqlite_master "
	    "WHERE type = 'table' AND name = '%s'", name);
	return (int)tu_query_int(db, sql);
}

static void
migrate_applies_files_in_number_order_not_name_order(void **state)
{
	struct mfix *m = *state;
	char err[512];
	int applied;

	/* By name, 10_ sorts before 2_ and would fail: b does not exist yet. */
	write_file(m, "1_a.sql", "CREATE TABLE a (x INTEGER);");
	write_file(m, "2_b.sql", "CREATE TABLE b (y INTEGER);");
	write_file(m, "10_c.sql", "INSERT INTO b VALUES (10);");
	write_file(m, "README.txt", "not a migration");
	assert_int_equal(migrate_apply(m->db, m->sql, &applied, err,
	    sizeof(err)), 0);
	assert_int_equal(applied, 3);
	assert_int_equal(tu_query_int(m->db, "SELECT y FROM b"), 10);
	assert_int_equal(tu_query_int(m->db, "SELECT group_concat(version) "
	    "= '1,2,10' FROM (SELECT version FROM schema_migrations ORDER BY "
	    "version)"), 1);
}

static void
migrate_twice_applies_nothing_the_second_time(void **state)
{
	struct mfix *m = *state;
	char err[512];
	int applied, pending;

	write_file(m, "001_a.sql", "CREATE TABLE a (x INTEGER);");
	assert_int_equal(migrate_pending(m->db, m->sql, &pending, err,
	    sizeof(err)), 0);
	assert_int_equal(pending, 1);
	assert_int_equal(migrate_apply(m->db, m->sql, &applied, err,
	    sizeof(err)), 0);
	assert_int_equal(applied, 1);
	assert_int_equal(migrate_apply(m->db, m->sql, &applied, err,
	    sizeof(err)), 0);
	assert_int_equal(applied, 0);
	assert_int_equal(migrate_pending(m->db, m->sql, &pending, err,
	    sizeof(err)), 0);
	assert_int_equal(pending, 0);
}

static void
migrate_broken_file_leaves_the_database_unchanged(void **state)
{
	struct mfix *m = *state;
	char err[512];
	int applied;

	write_file(m, "001_a.sql", "CREATE TABLE a (x INTEGER);"
	    "INSERT INTO a VALUES (1);");
	assert_int_equal(migrate_apply(m->db, m->sql, &applied, err,
	    sizeof(err)), 0);
	/* 002 is fine on its own, 003 is not: neither may stay. */
	write_file(m, "002_b.sql", "CREATE TABLE b (y INTEGER);"
	    "UPDATE a SET x = 2;");
	write_file(m, "003_c.sql", "CREATE TABLE c (z INTEGER); SELEKT 1;");
	err[0] = '\0';
	assert_int_equal(migrate_apply(m->db, m->sql, &applied, err,
	    sizeof(err)), -1);
	assert_int_equal(applied, 0);
	assert_non_null(strstr(err, "003_c.sql"));
	assert_non_null(strstr(err, "syntax error"));
	assert_int_equal(table_exists(m->db, "b"), 0);
	assert_int_equal(table_exists(m->db, "c"), 0);
	assert_int_equal(tu_query_int(m->db, "SELECT x FROM a"), 1);
	assert_int_equal(tu_query_int(m->db, "SELECT max(version) FROM "
	    "schema_migrations"), 1);

	write_file(m, "003_c.sql", "CREATE TABLE c (z INTEGER);");
	assert_int_equal(migrate_apply(m->db, m->sql, &applied, err,
	    sizeof(err)), 0);
	assert_int_equal(applied, 2);
	assert_int_equal(tu_query_int(m->db, "SELECT x FROM a"), 2);
}

static void
migrate_broken_first_file_leaves_a_new_database_empty(void **state)
{
	struct mfix *m = *state;
	char err[512];
	int applied;

	write_file(m, "001_a.sql", "CREATE TABLE a (x INTEGER); nonsense;");
	assert_int_equal(migrate_apply(m->db, m->sql, &applied, err,
	    sizeof(err)), -1);
	assert_int_equal(tu_query_int(m->db, "SELECT count(*) FROM "
	    "sqlite_master"), 0);
}

static void
migrate_refuses_misnamed_and_duplicate_files(void **state)
{
	static const char *const names[][2] = {
		{ "init.sql", "a migration's name is a number" },
		{ "1a.sql", "a migration's name is a number" },
		{ "0_zero.sql", "a migration's name is a number" },
	};
	struct mfix *m = *state;
	char err[512], path[600];
	int applied, pending;
	size_t i;

	write_file(m, "001_a.sql", "CREATE TABLE a (x INTEGER);");
	for (i = 0; i < sizeof(names) / sizeof(names[0]); i++) {
		write_file(m, names[i][0], "CREATE TABLE z (x INTEGER);");
		err[0] = '\0';
		assert_int_equal(migrate_apply(m->db, m->sql, &applied, err,
		    sizeof(err)), -1);
		assert_non_null(strstr(err, names[i][0]));
		assert_non_null(strstr(err, names[i][1]));
		assert_int_equal(migrate_pending(m->db, m->sql, &pending, err,
		    sizeof(err)), -1);
		snprintf(path, sizeof(path), "%s/%s", m->sql, names[i][0]);
		unlink(path);
	}
	write_file(m, "1_again.sql", "CREATE TABLE z (x INTEGER);");
	assert_int_equal(migrate_apply(m->db, m->sql, &applied, err,
	    sizeof(err)), -1);
	assert_non_null(strstr(err, "same number"));
	assert_int_equal(table_exists(m->db, "a"), 0);
}

static void
migrate_refuses_a_file_that_ends_the_transaction(void **state)
{
	struct mfix *m = *state;
	char err[512];
	int applied;

	write_file(m, "001_a.sql", "CREATE TABLE a (x INTEGER); COMMIT;");
	assert_int_equal(migrate_apply(m->db, m->sql, &applied, err,
	    sizeof(err)), -1);
	assert_non_null(strstr(err, "must not contain BEGIN, COMMIT"));
}

static void
db_open_refuses_a_database_whose_schema_is_behind(void **state)
{
	struct mfix *m = *state;
	struct db *db;
	char err[512];
	int applied;

	write_file(m, "001_a.sql", "CREATE TABLE a (x INTEGER);");
	assert_int_equal(migrate_apply(m->db, m->sql, &applied, err,
	    sizeof(err)), 0);
	db = db_open(&m->cfg, 0, err, sizeof(err));
	assert_non_null(db);
	db_close(db);

	write_file(m, "002_b.sql", "CREATE TABLE b (y INTEGER);");
	err[0] = '\0';
	assert_null(db_open(&m->cfg, 0, err, sizeof(err)));
	assert_non_null(strstr(err, "schema is behind"));
	assert_non_null(strstr(err, "chatctl migrate"));
}

static void
db_open_refuses_a_missing_database_unless_asked_to_create(void **state)
{
	struct mfix *m = *state;
	struct config cfg = m->cfg;
	char err[512], path[400];

	snprintf(path, sizeof(path), "%s/missing.db", m->dir);
	cfg.db_path = path;
	assert_null(db_open(&cfg, 0, err, sizeof(err)));
	assert_non_null(strstr(err, "missing.db"));
	assert_int_equal(access(path, F_OK), -1);
}

static void
project_migrations_create_the_schema(void **state)
{
	struct mfix *m = *state;
	char err[512];
	int applied;

	(void)m;
	assert_int_equal(migrate_apply(m->db, CHAT_DEFAULT_SQL_DIR, &applied,
	    err, sizeof(err)), 0);
	assert_true(applied >= 1);
	assert_int_equal(table_exists(m->db, "customers"), 1);
	assert_int_equal(table_exists(m->db, "agents"), 1);
	assert_int_equal(table_exists(m->db, "tokens"), 1);
	assert_int_equal(table_exists(m->db, "throttle_events"), 1);
	assert_int_equal(tu_query_int(m->db, "PRAGMA foreign_keys"), 1);
	assert_int_equal(tu_query_int(m->db, "SELECT journal_mode = 'wal' "
	    "FROM pragma_journal_mode"), 1);
}

#define T(name) cmocka_unit_test_setup_teardown(name, setup, teardown)

int
main(void)
{
	const struct CMUnitTest tests[] = {
		T(migrate_applies_files_in_number_order_not_name_order),
		T(migrate_twice_applies_nothing_the_second_time),
		T(migrate_broken_file_leaves_the_database_unchanged),
		T(migrate_broken_first_file_leaves_a_new_database_empty),
		T(migrate_refuses_misnamed_and_duplicate_files),
		T(migrate_refuses_a_file_that_ends_the_transaction),
		T(db_open_refuses_a_database_whose_schema_is_behind),
		T(db_open_refuses_a_missing_database_unless_asked_to_create),
		T(project_migrations_create_the_schema),
	};

	return cmocka_run_group_tests_name("migrate", tests, NULL, NULL);
}
