#include "testutil.h"

#include "../../lib/outbox.h"

/* A queued mail to `to`, created and due at (ms). */
static void
queue(struct db *db, int64_t id, const char *to, int64_t at)
{
	char sql[512];

	snprintf(sql, sizeof(sql), "INSERT INTO mail_queue (id, kind, recipient,"
	    " message, message_id, created_at, next_at) VALUES (%lld, 'test', "
	    "'%s', 'Subject: x\r\n\r\nbody\r\n', 'id%lld@example.com', %lld, "
	    "%lld)", (long long)id, to, (long long)id, (long long)at,
	    (long long)at);
	assert_int_equal(db_exec(db, sql), 0);
}

static void
outbox_next_gives_the_oldest_due_mail(void **state)
{
	struct fixture *f = *state;
	struct outbox_mail m;

	queue(f->db, 1, "a@example.com", 5000);
	queue(f->db, 2, "b@example.com", 1000);
	queue(f->db, 3, "c@example.com", 9000);
	assert_int_equal(outbox_next(f->db, 500, &m), 0);
	assert_int_equal(outbox_next(f->db, 6000, &m), 1);
	assert_int_equal(m.id, 1);
	assert_string_equal(m.recipient, "a@example.com");
	assert_string_equal(m.message_id, "id1@example.com");
	assert_string_equal(m.message, "Subject: x\r\n\r\nbody\r\n");
	assert_int_equal(m.state, OUTBOX_WAITING);
	free(m.message);
	/* One being sent is not due again; the next one is. */
	assert_int_equal(outbox_begin(f->db, 1, 6000), 0);
	assert_int_equal(outbox_next(f->db, 6000, &m), 1);
	assert_int_equal(m.id, 2);
	free(m.message);
}

static void
outbox_counts_each_try_and_keeps_the_last_error(void **state)
{
	struct fixture *f = *state;
	struct outbox_mail m;

	queue(f->db, 1, "a@example.com", 1000);
	assert_int_equal(outbox_begin(f->db, 1, 1000), 0);
	assert_int_equal(outbox_retry(f->db, 1, 31000, "RCPT refused: 451 later"),
	    0);
	assert_int_equal(outbox_next(f->db, 30999, &m), 0);
	assert_int_equal(outbox_next(f->db, 31000, &m), 1);
	assert_int_equal(m.attempts, 1);
	assert_string_equal(m.last_error, "RCPT refused: 451 later");
	free(m.message);
	assert_int_equal(outbox_begin(f->db, 1, 31000), 0);
	assert_int_equal(outbox_sent(f->db, 1, 32000), 0);
	assert_int_equal(tu_query_int(f->db, "SELECT attempts FROM mail_queue"),
	    2);
	assert_int_equal(tu_query_int(f->db, "SELECT sent_at FROM mail_queue"),
	    32000);
	assert_int_equal(tu_query_int(f->db, "SELECT sending_at IS NULL FROM "
	    "mail_queue"), 1);
	/* Sent is final: no second try begins. */
	assert_int_equal(outbox_begin(f->db, 1, 40000), -1);
	assert_int_equal(outbox_next(f->db, 99999, &m), 0);
}

static void
outbox_fail_ends_a_mail(void **state)
{
	struct fixture *f = *state;
	struct outbox_mail m;

	queue(f->db, 1, "a@example.com", 1000);
	queue(f->db, 2, "b@example.com", 1000);
	assert_int_equal(outbox_begin(f->db, 1, 1000), 0);
	assert_int_equal(outbox_fail(f->db, 1, 2000, 1, "RCPT refused: 550"), 0);
	assert_int_equal(outbox_fail(f->db, 2, 2000, 0, "given up"), 0);
	assert_int_equal(outbox_next(f->db, 99999, &m), 0);
	assert_int_equal(tu_query_int(f->db, "SELECT attempts FROM mail_queue "
	    "WHERE id = 1"), 1);
	assert_int_equal(tu_query_int(f->db, "SELECT attempts FROM mail_queue "
	    "WHERE id = 2"), 0);
	assert_int_equal(tu_query_int(f->db, "SELECT count(*) FROM mail_queue "
	    "WHERE failed_at = 2000"), 2);
}

static void
outbox_recover_makes_an_interrupted_try_due_again(void **state)
{
	struct fixture *f = *state;
	struct outbox_mail m;
	int n;

	queue(f->db, 1, "a@example.com", 1000);
	queue(f->db, 2, "b@example.com", 1000);
	assert_int_equal(outbox_begin(f->db, 1, 1000), 0);
	/* The sender dies here; another starts. */
	assert_int_equal(outbox_recover(f->db, 5000, &n), 0);
	assert_int_equal(n, 1);
	assert_int_equal(outbox_next(f->db, 5000, &m), 1);
	assert_int_equal(m.id, 1);
	assert_int_equal(m.attempts, 1);
	assert_string_equal(m.message_id, "id1@example.com");
	assert_non_null(strstr(m.last_error, "interrupted"));
	free(m.message);
	assert_int_equal(outbox_recover(f->db, 6000, &n), 0);
	assert_int_equal(n, 0);
}

static int
collect(const struct outbox_mail *m, void *arg)
{
	char *seen = arg;

	strcat(seen, outbox_state_name(m->state));
	strcat(seen, m->message == NULL ? ";" : "!");
	return 0;
}

static void
outbox_each_lists_the_unfinished_or_all(void **state)
{
	struct fixture *f = *state;
	char seen[256] = "";

	queue(f->db, 1, "a@example.com", 1000);
	queue(f->db, 2, "b@example.com", 1000);
	queue(f->db, 3, "c@example.com", 1000);
	queue(f->db, 4, "d@example.com", 1000);
	assert_int_equal(outbox_begin(f->db, 1, 1000), 0);
	assert_int_equal(outbox_sent(f->db, 1, 2000), 0);
	assert_int_equal(outbox_fail(f->db, 2, 2000, 0, "x"), 0);
	assert_int_equal(outbox_begin(f->db, 3, 2000), 0);
	assert_int_equal(outbox_each(f->db, 0, collect, seen), 0);
	assert_string_equal(seen, "failed;sending;waiting;");
	seen[0] = '\0';
	assert_int_equal(outbox_each(f->db, 1, collect, seen), 0);
	assert_string_equal(seen, "sent;failed;sending;waiting;");
}

static void
outbox_prune_deletes_old_sent_and_failed_mail(void **state)
{
	struct fixture *f = *state;
	int n;

	queue(f->db, 1, "a@example.com", 1000);
	queue(f->db, 2, "b@example.com", 1000);
	queue(f->db, 3, "c@example.com", 1000);
	queue(f->db, 4, "d@example.com", 1000);
	assert_int_equal(outbox_sent(f->db, 1, 1000), 0);
	assert_int_equal(outbox_sent(f->db, 2, 8000), 0);
	assert_int_equal(outbox_fail(f->db, 3, 1000, 0, "x"), 0);
	assert_int_equal(outbox_prune(f->db, 10000, 5000, 20000, &n), 0);
	assert_int_equal(n, 1);
	assert_int_equal(tu_query_int(f->db, "SELECT group_concat(id) = '2,3,4' "
	    "FROM (SELECT id FROM mail_queue ORDER BY id)"), 1);
}

#define T(name) cmocka_unit_test_setup_teardown(name, tu_setup_db, tu_teardown_db)

int
main(void)
{
	const struct CMUnitTest tests[] = {
		T(outbox_next_gives_the_oldest_due_mail),
		T(outbox_counts_each_try_and_keeps_the_last_error),
		T(outbox_fail_ends_a_mail),
		T(outbox_recover_makes_an_interrupted_try_due_again),
		T(outbox_each_lists_the_unfinished_or_all),
		T(outbox_prune_deletes_old_sent_and_failed_mail),
	};

	return cmocka_run_group_tests_name("outbox", tests, NULL, NULL);
}
