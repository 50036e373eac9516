#include "testutil.h"

#include "../../lib/push.h"

static void
push_items_read_back_as_they_were_added(void **state)
{
	struct push p;
	struct push_reader r;
	struct push_item item;

	(void)state;
	push_init(&p);
	assert_false(push_has_items(&p));
	assert_int_equal(push_add(&p, 7, 3, "{\"a\":1}", 7), 0);
	assert_int_equal(push_add(&p, 9, 7, "", 0), 0);
	assert_true(push_has_items(&p));
	assert_int_equal(push_read(&r, p.buf, p.len), 0);
	assert_false(r.more);
	assert_int_equal(push_next(&r, &item), 1);
	assert_int_equal(item.seq, 7);
	assert_int_equal(item.prev, 3);
	assert_int_equal(item.len, 7);
	assert_memory_equal(item.json, "{\"a\":1}", 7);
	assert_int_equal(push_next(&r, &item), 1);
	assert_int_equal(item.seq, 9);
	assert_int_equal(item.len, 0);
	assert_int_equal(push_next(&r, &item), 0);
	push_set_more(&p);
	assert_int_equal(push_read(&r, p.buf, p.len), 0);
	assert_true(r.more);
}

static void
push_add_refuses_what_does_not_fit_and_keeps_the_rest(void **state)
{
	static char big[WAKE_MAX];
	struct push p;
	size_t len;

	(void)state;
	memset(big, 'x', sizeof(big));
	push_init(&p);
	assert_int_equal(push_add(&p, 1, 0, big, sizeof(big)), -1);
	assert_int_equal(push_add(&p, 1, 0, big, 4000), 0);
	len = p.len;
	assert_int_equal(push_add(&p, 2, 1, big, 4200), -1);
	assert_int_equal(p.len, len);
	assert_int_equal(push_add(&p, 2, 1, big, 100), 0);
}

static void
push_next_rejects_a_truncated_payload(void **state)
{
	struct push p;
	struct push_reader r;
	struct push_item item;
	size_t cut;

	(void)state;
	push_init(&p);
	assert_int_equal(push_add(&p, 5, 4, "{\"text\":\"hi\"}", 13), 0);
	assert_int_equal(push_read(&r, p.buf, 0), -1);
	for (cut = 2; cut < p.len; cut++) {
		assert_int_equal(push_read(&r, p.buf, cut), 0);
		assert_int_equal(push_next(&r, &item), -1);
	}
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(push_items_read_back_as_they_were_added),
		cmocka_unit_test(push_add_refuses_what_does_not_fit_and_keeps_the_rest),
		cmocka_unit_test(push_next_rejects_a_truncated_payload),
	};

	return cmocka_run_group_tests_name("push", tests, NULL, NULL);
}
