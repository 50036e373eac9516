#include "testutil.h"

#include "../../lib/throttle.h"

#define S 1000	/* ms in a second */

static void
throttle_allows_up_to_the_limit_then_says_how_long_to_wait(void **state)
{
	struct fixture *f = *state;
	long wait;
	int i;

	for (i = 0; i < 3; i++) {
		assert_int_equal(throttle_check(f->db, "login_user", "bob", 3, 60,
		    100 * S + i * S, &wait), 0);
		assert_int_equal(wait, 0);
		assert_int_equal(throttle_record(f->db, "login_user", "bob", 60,
		    100 * S + i * S), 0);
	}
	/* Three events at 100, 101, 102 s: the first leaves the window at 160 s. */
	assert_int_equal(throttle_check(f->db, "login_user", "bob", 3, 60,
	    103 * S, &wait), 0);
	assert_int_equal(wait, 57);
	assert_int_equal(throttle_check(f->db, "login_user", "bob", 3, 60,
	    160 * S - 1, &wait), 0);
	assert_int_equal(wait, 1);
	assert_int_equal(throttle_check(f->db, "login_user", "bob", 3, 60,
	    160 * S, &wait), 0);
	assert_int_equal(wait, 0);
}

static void
throttle_keeps_buckets_and_keys_apart(void **state)
{
	struct fixture *f = *state;
	long wait;

	assert_int_equal(throttle_record(f->db, "login_user", "bob", 60, S), 0);
	assert_int_equal(throttle_check(f->db, "login_user", "bob", 1, 60, 2 * S,
	    &wait), 0);
	assert_true(wait > 0);
	assert_int_equal(throttle_check(f->db, "login_user", "alice", 1, 60,
	    2 * S, &wait), 0);
	assert_int_equal(wait, 0);
	assert_int_equal(throttle_check(f->db, "login_addr", "bob", 1, 60,
	    2 * S, &wait), 0);
	assert_int_equal(wait, 0);
}

static void
throttle_clear_forgets_a_keys_events(void **state)
{
	struct fixture *f = *state;
	long wait;

	assert_int_equal(throttle_record(f->db, "login_user", "bob", 60, S), 0);
	assert_int_equal(throttle_record(f->db, "login_user", "carol", 60, S), 0);
	assert_int_equal(throttle_clear(f->db, "login_user", "bob"), 0);
	assert_int_equal(throttle_check(f->db, "login_user", "bob", 1, 60, 2 * S,
	    &wait), 0);
	assert_int_equal(wait, 0);
	assert_int_equal(throttle_check(f->db, "login_user", "carol", 1, 60,
	    2 * S, &wait), 0);
	assert_true(wait > 0);
}

static void
throttle_with_limit_zero_never_waits(void **state)
{
	struct fixture *f = *state;
	long wait;
	int i;

	for (i = 0; i < 10; i++)
		assert_int_equal(throttle_record(f->db, "customer_addr",
		    "127.0.0.1", 60, S), 0);
	assert_int_equal(throttle_check(f->db, "customer_addr", "127.0.0.1", 0,
	    60, 2 * S, &wait), 0);
	assert_int_equal(wait, 0);
}

static void
throttle_record_forgets_events_older_than_the_window(void **state)
{
	struct fixture *f = *state;

	assert_int_equal(throttle_record(f->db, "login_user", "bob", 60, S), 0);
	assert_int_equal(throttle_record(f->db, "login_user", "bob", 60, 2 * S), 0);
	assert_int_equal(throttle_record(f->db, "login_user", "bob", 60, 100 * S), 0);
	assert_int_equal(tu_query_int(f->db, "SELECT count(*) FROM "
	    "throttle_events"), 1);
}

static void
throttle_take_shares_one_bucket_per_user_and_refills_with_time(void **state)
{
	struct fixture *f = *state;
	int got;

	/* 2 a second with a 3 s burst: 6 at once, then 2 more a second later. */
	assert_int_equal(throttle_take(f->db, "customer", 7, 2, 3.0, 4, 10 * S, &got), 0);
	assert_int_equal(got, 4);
	assert_int_equal(throttle_take(f->db, "customer", 7, 2, 3.0, 4, 10 * S, &got), 0);
	assert_int_equal(got, 2);
	assert_int_equal(throttle_take(f->db, "customer", 7, 2, 3.0, 1, 10 * S, &got), 0);
	assert_int_equal(got, 0);
	assert_int_equal(throttle_take(f->db, "customer", 7, 2, 3.0, 5, 11 * S, &got), 0);
	assert_int_equal(got, 2);
	/* Another user, and the same id as an agent, have buckets of their own. */
	assert_int_equal(throttle_take(f->db, "customer", 8, 2, 3.0, 6, 11 * S, &got), 0);
	assert_int_equal(got, 6);
	assert_int_equal(throttle_take(f->db, "agent", 7, 2, 3.0, 6, 11 * S, &got), 0);
	assert_int_equal(got, 6);
	/* A long pause refills only up to the burst. */
	assert_int_equal(throttle_take(f->db, "customer", 7, 2, 3.0, 9, 1000 * S, &got), 0);
	assert_int_equal(got, 6);
	/* Rate 0: no limit. */
	assert_int_equal(throttle_take(f->db, "customer", 7, 0, 3.0, 100, 1000 * S, &got), 0);
	assert_int_equal(got, 100);
}

#define T(name) cmocka_unit_test_setup_teardown(name, tu_setup_db, tu_teardown_db)

int
main(void)
{
	const struct CMUnitTest tests[] = {
		T(throttle_allows_up_to_the_limit_then_says_how_long_to_wait),
		T(throttle_keeps_buckets_and_keys_apart),
		T(throttle_clear_forgets_a_keys_events),
		T(throttle_with_limit_zero_never_waits),
		T(throttle_record_forgets_events_older_than_the_window),
		T(throttle_take_shares_one_bucket_per_user_and_refills_with_time),
	};

	return cmocka_run_group_tests_name("throttle", tests, NULL, NULL);
}
