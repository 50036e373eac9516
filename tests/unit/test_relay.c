#include "testutil.h"

#include <poll.h>

#include "../../lib/agent.h"
#include "../../lib/clock.h"
#include "../../lib/customer.h"
#include "../../lib/push.h"
#include "../../lib/relay.h"
#include "../../lib/wake.h"

/* A customer, an agent, an active session between them, and a relay. */
struct world {
	struct relay *relay;
	struct session s;
	struct relay_user customer, agent;
};

static void
make_world(struct db *db, struct world *w)
{
	int64_t cu, ag;

	assert_non_null(w->relay = relay_new(db, 45));
	assert_int_equal(customer_create(db, "C", "WEB", "{}", 1, &cu), CUSTOMER_OK);
	assert_int_equal(agent_add(db, "ag", "Ag", "x", 1, &ag), AGENT_OK);
	assert_int_equal(session_create(db, cu, NULL, ag, 1, &w->s), SESSION_OK);
	w->customer.type = PRINCIPAL_CUSTOMER;
	w->customer.id = cu;
	w->agent.type = PRINCIPAL_AGENT;
	w->agent.id = ag;
}

/* Listen and register a connection for user; returns the wake descriptor. */
static int
connect_user(struct world *w, const struct relay_user *user, int64_t *conn)
{
	char name[32];
	int fd = wake_listen(relay_instance(w->relay), name, sizeof(name));

	assert_true(fd >= 0);
	assert_int_equal(relay_connect(w->relay, user, 0, name, getpid(),
	    "127.0.0.1", 1, conn), 0);
	return fd;
}

/* The kind byte of the next datagram on fd, waiting up to a second; 0 for none. */
static char
next_wake(int fd)
{
	struct pollfd p = { .fd = fd, .events = POLLIN };
	char buf[WAKE_MAX];

	if (poll(&p, 1, 1000) != 1 || wake_recv(fd, buf, sizeof(buf)) <= 0)
		return 0;
	return buf[0];
}

struct items {
	struct relay_item item[16];
	int n;
};

static int
collect(const struct relay_item *item, void *arg)
{
	struct items *it = arg;

	it->item[it->n++] = *item;
	return 0;
}

static void
relay_flush_wakes_every_connection_of_the_noted_users(void **state)
{
	struct fixture *f = *state;
	struct world w;
	struct message m;
	int64_t c1, c2, a1;
	int fc1, fc2, fa1;

	make_world(f->db, &w);
	fc1 = connect_user(&w, &w.customer, &c1);
	fc2 = connect_user(&w, &w.customer, &c2);
	fa1 = connect_user(&w, &w.agent, &a1);
	assert_int_equal(db_begin(f->db), 0);
	assert_int_equal(message_add(f->db, w.s.id, SENDER_CUSTOMER, w.customer.id,
	    "hi", NULL, c1, 10, &m), MESSAGE_OK);
	assert_int_equal(relay_note_message(w.relay, &w.s, &m, NULL, 0, 10), 0);
	assert_int_equal(db_commit(f->db), 0);
	relay_flush(w.relay);
	assert_int_equal(next_wake(fc1), WAKE_DELIVER);
	assert_int_equal(next_wake(fc2), WAKE_DELIVER);
	assert_int_equal(next_wake(fa1), WAKE_DELIVER);
	/* Nothing noted since: a second flush wakes no one. */
	relay_flush(w.relay);
	assert_int_equal(next_wake(fc1), 0);
	close(fc1);
	close(fc2);
	close(fa1);
	relay_free(w.relay);
}

static void
relay_deletes_connections_whose_listener_is_gone(void **state)
{
	struct fixture *f = *state;
	struct world w;
	int64_t a1, a2;
	int fa1, fa2;

	make_world(f->db, &w);
	fa1 = connect_user(&w, &w.agent, &a1);
	fa2 = connect_user(&w, &w.agent, &a2);
	close(fa1);	/* as if its handler died */
	assert_int_equal(relay_prune_agents(w.relay), 0);
	assert_int_equal(tu_query_int(f->db, "SELECT count(*) FROM connections"), 1);
	assert_int_equal(tu_query_int(f->db, "SELECT id FROM connections"), a2);
	assert_int_equal(next_wake(fa2), WAKE_PROBE);
	assert_int_equal(relay_disconnect(w.relay, &w.agent, a2, 2), 0);
	assert_int_equal(tu_query_int(f->db, "SELECT count(*) FROM connections"), 0);
	close(fa2);
	relay_free(w.relay);
}

static void
relay_keeps_messages_offline_until_delivered_except_the_senders_own(void **state)
{
	struct fixture *f = *state;
	struct items it;
	struct world w;
	struct message m1, m2;
	int64_t cursor;

	make_world(f->db, &w);
	assert_int_equal(message_add(f->db, w.s.id, SENDER_AGENT, w.agent.id, "one",
	    NULL, 0, 10, &m1), MESSAGE_OK);
	assert_int_equal(relay_note_message(w.relay, &w.s, &m1, NULL, 0, 10), 0);
	assert_int_equal(message_add(f->db, w.s.id, SENDER_AGENT, w.agent.id, "two",
	    NULL, 0, 11, &m2), MESSAGE_OK);
	assert_int_equal(relay_note_message(w.relay, &w.s, &m2, NULL, 0, 11), 0);
	relay_forget(w.relay);

	memset(&it, 0, sizeof(it));
	assert_int_equal(relay_fetch(w.relay, &w.customer, 0, INT64_MAX, 10, 1, collect, &it), 2);
	assert_int_equal(it.item[0].message_id, m1.id);
	assert_int_equal(it.item[1].message_id, m2.id);
	memset(&it, 0, sizeof(it));
	assert_int_equal(relay_fetch(w.relay, &w.agent, 0, INT64_MAX, 10, 1, collect, &it), 0);
	assert_int_equal(relay_fetch(w.relay, &w.agent, 0, INT64_MAX, 10, 0, collect, &it), 2);

	assert_int_equal(relay_cursor(w.relay, &w.customer, &cursor), 0);
	assert_int_equal(relay_mark_delivered(w.relay, &w.customer, cursor), 0);
	memset(&it, 0, sizeof(it));
	assert_int_equal(relay_fetch(w.relay, &w.customer, 0, INT64_MAX, 10, 1, collect, &it), 0);
	/* Delivered messages still reach other connections from their cursor. */
	assert_int_equal(relay_fetch(w.relay, &w.customer, 0, INT64_MAX, 10, 0, collect, &it), 2);
	relay_free(w.relay);
}

static void
relay_note_session_tells_participants_and_online_agents_once(void **state)
{
	struct fixture *f = *state;
	struct relay_user other = { PRINCIPAL_AGENT, 0 };
	struct items it;
	struct world w;
	int64_t c, c2;
	int fd, fd2;

	make_world(f->db, &w);
	assert_int_equal(agent_add(f->db, "other", "Other", "x", 1, &other.id),
	    AGENT_OK);
	fd = connect_user(&w, &other, &c);
	fd2 = connect_user(&w, &w.agent, &c2);
	assert_int_equal(relay_note_session(w.relay, &w.s, 0, 1, 50), 0);
	relay_flush(w.relay);
	assert_int_equal(next_wake(fd), WAKE_DELIVER);
	assert_int_equal(next_wake(fd2), WAKE_DELIVER);
	memset(&it, 0, sizeof(it));
	assert_int_equal(relay_fetch(w.relay, &w.agent, 0, INT64_MAX, 10, 0, collect, &it), 1);
	assert_int_equal(it.item[0].message_id, 0);
	assert_int_equal(it.item[0].session_id, w.s.id);
	assert_int_equal(relay_fetch(w.relay, &other, 0, INT64_MAX, 10, 0, collect, &it), 1);
	assert_int_equal(relay_fetch(w.relay, &w.customer, 0, INT64_MAX, 10, 0, collect, &it), 1);
	/* Session changes are never offline messages. */
	assert_int_equal(relay_fetch(w.relay, &w.customer, 0, INT64_MAX, 10, 1, collect, &it), 0);
	close(fd);
	close(fd2);
	relay_free(w.relay);
}

static void
relay_note_backlog_gives_a_claiming_agent_the_queued_messages(void **state)
{
	struct fixture *f = *state;
	struct relay_user claimer = { PRINCIPAL_AGENT, 0 };
	struct items it;
	struct world w;
	struct message m;

	make_world(f->db, &w);
	assert_int_equal(agent_add(f->db, "claimer", "C", "x", 1, &claimer.id),
	    AGENT_OK);
	assert_int_equal(message_add(f->db, w.s.id, SENDER_CUSTOMER, w.customer.id,
	    "waiting", NULL, 0, 10, &m), MESSAGE_OK);
	assert_int_equal(relay_note_backlog(w.relay, &w.s, claimer.id, 20), 0);
	relay_forget(w.relay);
	memset(&it, 0, sizeof(it));
	assert_int_equal(relay_fetch(w.relay, &claimer, 0, INT64_MAX, 10, 1, collect, &it), 1);
	assert_int_equal(it.item[0].message_id, m.id);
	relay_free(w.relay);
}


/* The next datagram on fd into buf (WAKE_MAX bytes), waiting up to a second: its length, or 0. */
static ssize_t
next_datagram(int fd, char *buf)
{
	struct pollfd p = { .fd = fd, .events = POLLIN };

	if (poll(&p, 1, 1000) != 1)
		return 0;
	return wake_recv(fd, buf, WAKE_MAX);
}

/* Store text from the customer and note it with json, in a transaction of its own. */
static void
add_noted(struct db *db, struct world *w, const char *text, const char *json,
    struct message *m)
{
	assert_int_equal(message_add(db, w->s.id, SENDER_CUSTOMER, w->customer.id,
	    text, NULL, 0, 10, m), MESSAGE_OK);
	assert_int_equal(relay_note_message(w->relay, &w->s, m, json,
	    json != NULL ? strlen(json) : 0, 10), 0);
}

static void
relay_flush_pushes_messages_with_their_json_each_naming_the_delivery_before(void **state)
{
	struct fixture *f = *state;
	char buf[WAKE_MAX];
	struct push_reader r;
	struct push_item item;
	struct items it;
	struct world w;
	struct message m1, m2;
	int64_t c, a, before, last;
	ssize_t n;
	int fc, fa;

	make_world(f->db, &w);
	fc = connect_user(&w, &w.customer, &c);
	fa = connect_user(&w, &w.agent, &a);
	/* Something before: the first push names it. */
	assert_int_equal(relay_note_session(w.relay, &w.s, 0, 0, 5), 0);
	relay_flush(w.relay);
	assert_int_equal(next_wake(fa), WAKE_DELIVER);
	assert_int_equal(next_wake(fc), WAKE_DELIVER);
	memset(&it, 0, sizeof(it));
	assert_int_equal(relay_fetch(w.relay, &w.agent, 0, INT64_MAX, 10, 0, collect, &it), 1);
	assert_int_equal(db_begin(f->db), 0);
	add_noted(f->db, &w, "one", "{\"id\":1}", &m1);
	add_noted(f->db, &w, "two", "{\"id\":2}", &m2);
	assert_int_equal(relay_noted_range(w.relay, &w.agent, &before, &last), 1);
	assert_int_equal(db_commit(f->db), 0);
	relay_flush(w.relay);
	assert_int_equal(before, it.item[0].id);
	n = next_datagram(fa, buf);
	assert_true(n > 1);
	assert_int_equal(buf[0], WAKE_PUSH);
	assert_int_equal(push_read(&r, buf + 1, (size_t)n - 1), 0);
	assert_false(r.more);
	assert_int_equal(push_next(&r, &item), 1);
	assert_int_equal(item.prev, before);
	assert_int_equal(item.len, strlen("{\"id\":1}"));
	assert_memory_equal(item.json, "{\"id\":1}", item.len);
	/* Each item's seq is its deliveries row, and the next one names it. */
	memset(&it, 0, sizeof(it));
	assert_int_equal(relay_fetch(w.relay, &w.agent, before, INT64_MAX, 10, 0, collect, &it), 2);
	assert_int_equal(item.seq, it.item[0].id);
	assert_int_equal(it.item[0].message_id, m1.id);
	assert_int_equal(push_next(&r, &item), 1);
	assert_int_equal(item.prev, it.item[0].id);
	assert_int_equal(item.seq, it.item[1].id);
	assert_int_equal(item.seq, last);
	assert_int_equal(push_next(&r, &item), 0);
	/* The customer's other connections hear of it the same way. */
	assert_true((n = next_datagram(fc, buf)) > 1);
	assert_int_equal(buf[0], WAKE_PUSH);
	close(fc);
	close(fa);
	relay_free(w.relay);
}

static void
relay_flush_says_more_when_a_push_cannot_carry_everything(void **state)
{
	struct fixture *f = *state;
	char buf[WAKE_MAX], *big = malloc(6000);
	struct push_reader r;
	struct push_item item;
	struct world w;
	struct message m;
	int64_t a;
	ssize_t n;
	int fa;

	assert_non_null(big);
	memset(big, 'x', 5999);
	big[5999] = '\0';
	make_world(f->db, &w);
	fa = connect_user(&w, &w.agent, &a);
	assert_int_equal(db_begin(f->db), 0);
	add_noted(f->db, &w, "big", big, &m);
	add_noted(f->db, &w, "bigger", big, &m);
	add_noted(f->db, &w, "small", "{}", &m);	/* after the gap: not pushed */
	assert_int_equal(db_commit(f->db), 0);
	relay_flush(w.relay);
	assert_true((n = next_datagram(fa, buf)) > 1);
	assert_int_equal(buf[0], WAKE_PUSH);
	assert_int_equal(push_read(&r, buf + 1, (size_t)n - 1), 0);
	assert_true(r.more);
	assert_int_equal(push_next(&r, &item), 1);
	assert_int_equal(item.len, 5999);
	assert_int_equal(push_next(&r, &item), 0);
	/* A session change is no message: the connection reads it. */
	assert_int_equal(relay_note_session(w.relay, &w.s, 0, 0, 5), 0);
	relay_flush(w.relay);
	assert_int_equal(next_wake(fa), WAKE_DELIVER);
	free(big);
	close(fa);
	relay_free(w.relay);
}

static void
relay_wakes_a_full_listener_again_once_it_has_room(void **state)
{
	struct fixture *f = *state;
	char buf[WAKE_MAX], name[WAKE_NAME_LEN + 1];
	struct world w;
	struct message m;
	int64_t a;
	int fa, i, sender;

	make_world(f->db, &w);
	relay_set_self(w.relay, "no-such-listener");	/* a process with a loop */
	assert_true((fa = wake_listen(relay_instance(w.relay), name,
	    sizeof(name))) >= 0);
	assert_int_equal(relay_connect(w.relay, &w.agent, 0, name, getpid(),
	    "127.0.0.1", 1, &a), 0);
	/* Fill its queue with probes, which are worth nothing. */
	assert_true((sender = wake_sender()) >= 0);
	for (i = 0; i < 100000 && wake_send(sender, relay_instance(w.relay),
	    name, WAKE_PROBE, NULL, 0) == WAKE_SENT; i++)
		;
	assert_int_equal(wake_send(sender, relay_instance(w.relay), name,
	    WAKE_PROBE, NULL, 0), WAKE_FULL);
	close(sender);
	assert_int_equal(relay_prune_agents(w.relay), 0);
	assert_int_equal(relay_retry_at(w.relay), INT64_MAX);	/* probes are not sent again */
	assert_int_equal(db_begin(f->db), 0);
	add_noted(f->db, &w, "hello", "{}", &m);
	assert_int_equal(db_commit(f->db), 0);
	relay_flush(w.relay);
	assert_true(relay_retry_at(w.relay) < INT64_MAX);
	/* Still full: it waits. */
	assert_int_equal(relay_retry(w.relay, clock_now_ms() + 10), 1);
	while (wake_recv(fa, buf, sizeof(buf)) > 0)
		;
	assert_int_equal(relay_retry(w.relay, clock_now_ms() + 20), 0);
	assert_int_equal(next_wake(fa), WAKE_DELIVER);
	assert_int_equal(next_wake(fa), 0);
	close(fa);
	relay_free(w.relay);
}

#define T(name) cmocka_unit_test_setup_teardown(name, tu_setup_db, tu_teardown_db)

int
main(void)
{
	const struct CMUnitTest tests[] = {
		T(relay_flush_wakes_every_connection_of_the_noted_users),
		T(relay_deletes_connections_whose_listener_is_gone),
		T(relay_keeps_messages_offline_until_delivered_except_the_senders_own),
		T(relay_note_session_tells_participants_and_online_agents_once),
		T(relay_note_backlog_gives_a_claiming_agent_the_queued_messages),
		T(relay_flush_pushes_messages_with_their_json_each_naming_the_delivery_before),
		T(relay_flush_says_more_when_a_push_cannot_carry_everything),
		T(relay_wakes_a_full_listener_again_once_it_has_room),
	};

	return cmocka_run_group_tests_name("relay", tests, NULL, NULL);
}
