#include "testutil.h"

#include "../../lib/agent.h"
#include "../../lib/customer.h"
#include "../../lib/session.h"

static int64_t
add_customer(struct db *db, const char *name)
{
	int64_t id;

	assert_int_equal(customer_create(db, name, "WEB", "{}", 1000, &id),
	    CUSTOMER_OK);
	return id;
}

static int64_t
add_agent(struct db *db, const char *name)
{
	int64_t id;

	assert_int_equal(agent_add(db, name, name, "x", 1000, &id), AGENT_OK);
	return id;
}

/* Pretend the agent has an open WebSocket connection. */
static void
connect_agent(struct db *db, int64_t id, const char *socket)
{
	char sql[256];

	snprintf(sql, sizeof(sql), "INSERT INTO connections (user_type, "
	    "user_id, socket, pid, created_at) VALUES ('agent', %lld, '%s', 1, 1)",
	    (long long)id, socket);
	assert_int_equal(db_exec(db, sql), 0);
}

/* Agent id's connection socket was last seen at seen (ms). */
static void
connection_seen(struct db *db, const char *socket, int64_t seen)
{
	char sql[256];

	snprintf(sql, sizeof(sql), "UPDATE connections SET seen_at = %lld "
	    "WHERE socket = '%s'", (long long)seen, socket);
	assert_int_equal(db_exec(db, sql), 0);
}

static void
session_create_queues_without_an_agent_and_keeps_one_open(void **state)
{
	struct fixture *f = *state;
	struct session s, again;
	int64_t cu = add_customer(f->db, "Zhang San");

	assert_int_equal(session_create(f->db, cu, "billing", 0, 2000, &s),
	    SESSION_OK);
	assert_int_equal(s.state, SESSION_QUEUED);
	assert_int_equal(s.agent_id, 0);
	assert_string_equal(s.customer_name, "Zhang San");
	assert_string_equal(s.channel, "WEB");
	assert_true(s.has_subject);
	assert_string_equal(s.subject, "billing");
	assert_int_equal(session_create(f->db, cu, NULL, 0, 2001, &again),
	    SESSION_CONFLICT);
	assert_int_equal(session_find_open(f->db, cu, &again), SESSION_OK);
	assert_int_equal(again.id, s.id);
	assert_int_equal(session_close(f->db, s.id, 3000), SESSION_OK);
	assert_int_equal(session_find_open(f->db, cu, &again), SESSION_NOT_FOUND);
	assert_int_equal(session_create(f->db, cu, NULL, 0, 4000, &again),
	    SESSION_OK);
	assert_false(again.has_subject);
}

static void
session_claim_succeeds_once(void **state)
{
	struct fixture *f = *state;
	struct session s;
	int64_t cu = add_customer(f->db, "A"), a1 = add_agent(f->db, "a1"),
	    a2 = add_agent(f->db, "a2");

	assert_int_equal(session_create(f->db, cu, NULL, 0, 2000, &s), SESSION_OK);
	assert_int_equal(session_claim(f->db, s.id, a1), SESSION_OK);
	assert_int_equal(session_claim(f->db, s.id, a2), SESSION_CONFLICT);
	assert_int_equal(session_get(f->db, s.id, &s), SESSION_OK);
	assert_int_equal(s.state, SESSION_ACTIVE);
	assert_int_equal(s.agent_id, a1);
}

static void
session_transfer_and_close_need_the_right_state(void **state)
{
	struct fixture *f = *state;
	struct session s;
	int64_t cu = add_customer(f->db, "A"), a1 = add_agent(f->db, "a1"),
	    a2 = add_agent(f->db, "a2");

	assert_int_equal(session_create(f->db, cu, NULL, 0, 2000, &s), SESSION_OK);
	assert_int_equal(session_transfer(f->db, s.id, a2), SESSION_CONFLICT);
	assert_int_equal(session_claim(f->db, s.id, a1), SESSION_OK);
	assert_int_equal(session_transfer(f->db, s.id, a2), SESSION_OK);
	assert_int_equal(session_get(f->db, s.id, &s), SESSION_OK);
	assert_int_equal(s.agent_id, a2);
	assert_int_equal(session_close(f->db, s.id, 5000), SESSION_OK);
	assert_int_equal(session_close(f->db, s.id, 6000), SESSION_CONFLICT);
	assert_int_equal(session_transfer(f->db, s.id, a1), SESSION_CONFLICT);
	assert_int_equal(session_get(f->db, s.id, &s), SESSION_OK);
	assert_int_equal(s.state, SESSION_CLOSED);
	assert_int_equal(s.closed_at, 5000);
	assert_int_equal(session_get(f->db, 999, &s), SESSION_NOT_FOUND);
}

static void
session_pick_agent_takes_the_online_agent_with_fewest_active_sessions(void **state)
{
	struct fixture *f = *state;
	struct session s;
	int64_t a1 = add_agent(f->db, "a1"), a2 = add_agent(f->db, "a2"),
	    a3 = add_agent(f->db, "a3"), picked;

	assert_int_equal(session_pick_agent(f->db, 0, 0, &picked), SESSION_OK);
	assert_int_equal(picked, 0);	/* nobody online */
	connect_agent(f->db, a1, "s1");
	connect_agent(f->db, a2, "s2");
	(void)a3;	/* offline: never picked */
	assert_int_equal(session_create(f->db, add_customer(f->db, "c1"), NULL,
	    a1, 2000, &s), SESSION_OK);
	assert_int_equal(session_pick_agent(f->db, 0, 0, &picked), SESSION_OK);
	assert_int_equal(picked, a2);
	assert_int_equal(session_create(f->db, add_customer(f->db, "c2"), NULL,
	    a2, 2000, &s), SESSION_OK);
	assert_int_equal(session_create(f->db, add_customer(f->db, "c3"), NULL,
	    a2, 2000, &s), SESSION_OK);
	assert_int_equal(session_pick_agent(f->db, 0, 0, &picked), SESSION_OK);
	assert_int_equal(picked, a1);
	/* At most 2 active each: a2 is full, a1 takes one more, then nobody. */
	assert_int_equal(session_pick_agent(f->db, 2, 0, &picked), SESSION_OK);
	assert_int_equal(picked, a1);
	assert_int_equal(session_create(f->db, add_customer(f->db, "c4"), NULL,
	    a1, 2000, &s), SESSION_OK);
	assert_int_equal(session_pick_agent(f->db, 2, 0, &picked), SESSION_OK);
	assert_int_equal(picked, 0);
	assert_int_equal(agent_set_disabled(f->db, a1, 3000), AGENT_OK);
	assert_int_equal(session_pick_agent(f->db, 0, 0, &picked), SESSION_OK);
	assert_int_equal(picked, a2);
}

static int
count(const struct session *s, void *arg)
{
	(void)s;
	(*(int *)arg)++;
	return 0;
}

static void
session_each_shows_customers_their_own_and_agents_theirs_and_the_queue(void **state)
{
	struct fixture *f = *state;
	struct session s;
	int64_t c1 = add_customer(f->db, "c1"), c2 = add_customer(f->db, "c2"),
	    c3 = add_customer(f->db, "c3"), a1 = add_agent(f->db, "a1"),
	    a2 = add_agent(f->db, "a2");
	int n;

	assert_int_equal(session_create(f->db, c1, NULL, a1, 1, &s), SESSION_OK);
	assert_int_equal(session_create(f->db, c2, NULL, a2, 1, &s), SESSION_OK);
	assert_int_equal(session_create(f->db, c3, NULL, 0, 1, &s), SESSION_OK);
	n = 0;
	assert_int_equal(session_each(f->db, 0, c1, -1, count, &n), SESSION_OK);
	assert_int_equal(n, 1);
	n = 0;
	assert_int_equal(session_each(f->db, 1, a1, -1, count, &n), SESSION_OK);
	assert_int_equal(n, 2);	/* its own and the queued one */
	n = 0;
	assert_int_equal(session_each(f->db, 1, a1, SESSION_QUEUED, count, &n),
	    SESSION_OK);
	assert_int_equal(n, 1);
	n = 0;
	assert_int_equal(session_each(f->db, 1, a1, SESSION_CLOSED, count, &n),
	    SESSION_OK);
	assert_int_equal(n, 0);
}

#define T(name) cmocka_unit_test_setup_teardown(name, tu_setup_db, tu_teardown_db)

static void
session_pick_agent_ignores_connections_not_seen_lately(void **state)
{
	struct fixture *f = *state;
	int64_t a1 = add_agent(f->db, "a1"), a2 = add_agent(f->db, "a2"), picked;

	connect_agent(f->db, a1, "s1");
	connect_agent(f->db, a2, "s2");
	connection_seen(f->db, "s1", 5000);
	connection_seen(f->db, "s2", 9000);
	/* a1 has the fewer sessions, but its handler stopped beating at 5000. */
	assert_int_equal(session_pick_agent(f->db, 0, 6000, &picked), SESSION_OK);
	assert_int_equal(picked, a2);
	assert_int_equal(session_pick_agent(f->db, 0, 9001, &picked), SESSION_OK);
	assert_int_equal(picked, 0);
}

static void
session_requeue_takes_back_the_chats_of_an_agent_gone_past_the_grace(void **state)
{
	struct fixture *f = *state;
	int64_t a1 = add_agent(f->db, "a1"), a2 = add_agent(f->db, "a2");
	struct session s, s2, found[4];
	char sql[128];
	size_t n;

	assert_int_equal(session_create(f->db, add_customer(f->db, "c1"), NULL,
	    a1, 1000, &s), SESSION_OK);
	assert_int_equal(session_create(f->db, add_customer(f->db, "c2"), NULL,
	    a2, 1000, &s2), SESSION_OK);
	/* a1 left at 2000; a2 never was on a connection (REST only). */
	snprintf(sql, sizeof(sql), "INSERT INTO agent_presence VALUES (%lld, 2000)",
	    (long long)a1);
	assert_int_equal(db_exec(f->db, sql), 0);
	assert_int_equal(session_each_abandoned(f->db, 50000, 1999, 4, found, &n),
	    SESSION_OK);
	assert_int_equal(n, 0);	/* still within the grace */
	assert_int_equal(session_each_abandoned(f->db, 50000, 2001, 4, found, &n),
	    SESSION_OK);
	assert_int_equal(n, 1);
	assert_int_equal(found[0].id, s.id);
	/* Back on a live connection: nothing to take back. */
	connect_agent(f->db, a1, "s1");
	connection_seen(f->db, "s1", 50000);
	assert_int_equal(session_each_abandoned(f->db, 50000, 2001, 4, found, &n),
	    SESSION_OK);
	assert_int_equal(n, 0);
	assert_int_equal(session_requeue(f->db, s.id, a2), SESSION_CONFLICT);
	assert_int_equal(session_requeue(f->db, s.id, a1), SESSION_OK);
	assert_int_equal(session_get(f->db, s.id, &s), SESSION_OK);
	assert_int_equal(s.state, SESSION_QUEUED);
	assert_int_equal(s.agent_id, 0);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		T(session_create_queues_without_an_agent_and_keeps_one_open),
		T(session_claim_succeeds_once),
		T(session_transfer_and_close_need_the_right_state),
		T(session_pick_agent_takes_the_online_agent_with_fewest_active_sessions),
		T(session_pick_agent_ignores_connections_not_seen_lately),
		T(session_requeue_takes_back_the_chats_of_an_agent_gone_past_the_grace),
		T(session_each_shows_customers_their_own_and_agents_theirs_and_the_queue),
	};

	return cmocka_run_group_tests_name("session", tests, NULL, NULL);
}
