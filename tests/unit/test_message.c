#include "testutil.h"

#include "../../lib/customer.h"
#include "../../lib/message.h"
#include "../../lib/session.h"

static int64_t
new_session(struct db *db)
{
	struct session s;
	int64_t cu;

	assert_int_equal(customer_create(db, "Zhang San", "WEB", "{}", 1, &cu),
	    CUSTOMER_OK);
	assert_int_equal(session_create(db, cu, NULL, 0, 1, &s), SESSION_OK);
	return s.id;
}

static void
message_add_stores_and_repeats_of_a_client_msg_id_store_nothing(void **state)
{
	struct fixture *f = *state;
	struct message m, again;
	int64_t sid = new_session(f->db), origin;

	assert_int_equal(message_add(f->db, sid, SENDER_CUSTOMER, 1, "hello",
	    "c-1", 7, 1000, &m), MESSAGE_OK);
	assert_true(m.id > 0);
	assert_string_equal(m.text, "hello");
	assert_string_equal(m.client_msg_id, "c-1");
	assert_int_equal(message_add(f->db, sid, SENDER_CUSTOMER, 1, "hello again",
	    "c-1", 8, 2000, &again), MESSAGE_DUPLICATE);
	assert_int_equal(again.id, m.id);
	assert_string_equal(again.text, "hello");
	assert_int_equal(tu_query_int(f->db, "SELECT count(*) FROM messages"), 1);
	/* The same id from another sender is another message. */
	assert_int_equal(message_add(f->db, sid, SENDER_AGENT, 1, "hi", "c-1", 0,
	    3000, &again), MESSAGE_OK);
	assert_true(again.id > m.id);
	assert_int_equal(message_get(f->db, m.id, &again, &origin), MESSAGE_OK);
	assert_int_equal(origin, 7);
}

static void
message_ids_grow_even_after_deletion(void **state)
{
	struct fixture *f = *state;
	struct message a, b;
	int64_t sid = new_session(f->db);

	assert_int_equal(message_add(f->db, sid, SENDER_SYSTEM, 0, "a", NULL, 0,
	    1, &a), MESSAGE_OK);
	assert_int_equal(db_exec(f->db, "DELETE FROM messages"), 0);
	assert_int_equal(message_add(f->db, sid, SENDER_SYSTEM, 0, "b", NULL, 0,
	    2, &b), MESSAGE_OK);
	assert_true(b.id > a.id);
	assert_int_equal(b.sender_id, 0);
	assert_int_equal(b.sender_type, SENDER_SYSTEM);
}

struct collected {
	int64_t ids[16];
	int n;
};

static int
collect(const struct message *m, void *arg)
{
	struct collected *c = arg;

	c->ids[c->n++] = m->id;
	return 0;
}

static void
message_page_goes_forward_and_back_with_has_more(void **state)
{
	struct fixture *f = *state;
	struct collected got;
	struct message m;
	int64_t sid = new_session(f->db), ids[5];
	int i, more;
	char text[16];

	for (i = 0; i < 5; i++) {
		snprintf(text, sizeof(text), "m%d", i);
		assert_int_equal(message_add(f->db, sid, SENDER_CUSTOMER, 1, text,
		    NULL, 0, i, &m), MESSAGE_OK);
		ids[i] = m.id;
	}
	memset(&got, 0, sizeof(got));
	assert_int_equal(message_page(f->db, sid, 0, 0, 2, collect, &got, &more),
	    MESSAGE_OK);
	assert_int_equal(got.n, 2);
	assert_int_equal(got.ids[0], ids[0]);
	assert_int_equal(got.ids[1], ids[1]);
	assert_true(more);
	memset(&got, 0, sizeof(got));
	assert_int_equal(message_page(f->db, sid, ids[2], 0, 2, collect, &got,
	    &more), MESSAGE_OK);
	assert_int_equal(got.n, 2);
	assert_int_equal(got.ids[0], ids[3]);
	assert_false(more);
	/* Back from the newest: the 2 before ids[4], oldest first. */
	memset(&got, 0, sizeof(got));
	assert_int_equal(message_page(f->db, sid, 0, ids[4], 2, collect, &got,
	    &more), MESSAGE_OK);
	assert_int_equal(got.n, 2);
	assert_int_equal(got.ids[0], ids[2]);
	assert_int_equal(got.ids[1], ids[3]);
	assert_true(more);
	memset(&got, 0, sizeof(got));
	assert_int_equal(message_page(f->db, sid, 0, ids[2], 5, collect, &got,
	    &more), MESSAGE_OK);
	assert_int_equal(got.n, 2);
	assert_false(more);
}

#define T(name) cmocka_unit_test_setup_teardown(name, tu_setup_db, tu_teardown_db)

int
main(void)
{
	const struct CMUnitTest tests[] = {
		T(message_add_stores_and_repeats_of_a_client_msg_id_store_nothing),
		T(message_ids_grow_even_after_deletion),
		T(message_page_goes_forward_and_back_with_has_more),
	};

	return cmocka_run_group_tests_name("message", tests, NULL, NULL);
}
