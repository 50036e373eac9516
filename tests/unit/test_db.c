#include "testutil.h"

static const char sql_count[] = "SELECT count(*) FROM settings";
static const char sql_insert[] = "INSERT INTO settings (key, value) VALUES (?, 'v')";

static int64_t
count_settings(struct db *db)
{
	sqlite3_stmt *s = db_stmt(db, sql_count);
	int64_t n = -1;

	if (s == NULL)
		return -1;
	if (sqlite3_step(s) == SQLITE_ROW)
		n = sqlite3_column_int64(s, 0);
	db_done(s);
	return n;
}

static int
insert_setting(struct db *db, const char *key)
{
	sqlite3_stmt *s = db_stmt(db, sql_insert);
	int rc;

	if (s == NULL)
		return -1;
	sqlite3_bind_text(s, 1, key, -1, SQLITE_STATIC);
	rc = sqlite3_step(s);
	db_done(s);
	return rc == SQLITE_DONE ? 0 : -1;
}

/* Asleep, the connection is closed; the next statement opens it and sees what others wrote meanwhile. */
static void
db_sleep_closes_and_the_next_statement_opens_again(void **state)
{
	struct fixture *f = *state;
	char err[512];
	struct db *other = db_open(&f->cfg, 0, err, sizeof(err));
	int64_t before = count_settings(f->db);

	assert_non_null(other);
	assert_true(before >= 0);
	assert_int_equal(db_sleep(f->db), 0);
	assert_int_equal(db_sleep(f->db), 0);	/* asleep already: nothing to do */
	assert_int_equal(insert_setting(other, "test.asleep"), 0);
	assert_int_equal(count_settings(f->db), before + 1);
	/* The pragmas are set again: foreign keys, the WAL. */
	assert_int_equal(tu_query_int(f->db, "PRAGMA foreign_keys"), 1);
	assert_int_equal(db_sleep(f->db), 0);
	assert_int_equal(db_begin(f->db), 0);
	assert_int_equal(insert_setting(f->db, "test.awake"), 0);
	assert_int_equal(db_commit(f->db), 0);
	assert_int_equal(count_settings(other), before + 2);
	db_close(other);
}

/* Inside a transaction nothing is closed: the transaction goes on. */
static void
db_sleep_refuses_inside_a_transaction(void **state)
{
	struct fixture *f = *state;
	int64_t before = count_settings(f->db);

	assert_int_equal(db_begin(f->db), 0);
	assert_int_equal(insert_setting(f->db, "test.in-tx"), 0);
	assert_int_equal(db_sleep(f->db), -1);
	assert_int_equal(db_commit(f->db), 0);
	assert_int_equal(count_settings(f->db), before + 1);
}

/* A database gone while asleep: the statement fails with the reason, and nothing crashes. */
static void
db_sleep_then_a_missing_database_is_an_error(void **state)
{
	struct fixture *f = *state;
	char moved[400];

	assert_int_equal(db_sleep(f->db), 0);
	snprintf(moved, sizeof(moved), "%s.moved", f->db_path);
	assert_int_equal(rename(f->db_path, moved), 0);
	assert_null(db_stmt(f->db, sql_count));
	assert_non_null(strstr(db_errmsg(f->db), f->db_path));
	assert_int_equal(db_begin_read(f->db), -1);
	db_end_read(f->db);
	db_rollback(f->db);
	db_release(f->db);
	assert_int_equal(rename(moved, f->db_path), 0);
	assert_true(count_settings(f->db) >= 0);	/* back: it opens again */
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(
		    db_sleep_closes_and_the_next_statement_opens_again,
		    tu_setup_db, tu_teardown_db),
		cmocka_unit_test_setup_teardown(
		    db_sleep_refuses_inside_a_transaction,
		    tu_setup_db, tu_teardown_db),
		cmocka_unit_test_setup_teardown(
		    db_sleep_then_a_missing_database_is_an_error,
		    tu_setup_db, tu_teardown_db),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
