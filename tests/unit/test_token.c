#include "testutil.h"

#include "../../lib/agent.h"
#include "../../lib/customer.h"
#include "../../lib/token.h"

#define HOUR_MS 3600000

static int64_t
new_customer(struct db *db)
{
	int64_t id;

	assert_int_equal(customer_create(db, "Zhang San", "WEB", "{}", 1000,
	    &id), CUSTOMER_OK);
	return id;
}

static void
token_generate_makes_43_urlsafe_characters(void **state)
{
	char t[TOKEN_LEN + 1];
	int i;

	(void)state;
	for (i = 0; i < 100; i++) {
		token_generate(t, sizeof(t));
		assert_int_equal(strlen(t), TOKEN_LEN);
		assert_int_equal(strspn(t, "ABCDEFGHIJKLMNOPQRSTUVWXYZ"
		    "abcdefghijklmnopqrstuvwxyz0123456789-_"), TOKEN_LEN);
	}
}

static void
token_generate_never_repeats(void **state)
{
	static char seen[2000][TOKEN_LEN + 1];
	int i, j;

	(void)state;
	for (i = 0; i < 2000; i++) {
		token_generate(seen[i], sizeof(seen[i]));
		for (j = 0; j < i; j++)
			assert_string_not_equal(seen[i], seen[j]);
	}
}

static void
token_issue_stores_only_a_hash(void **state)
{
	struct fixture *f = *state;
	unsigned char hash[TOKEN_HASH_LEN];
	char t[TOKEN_LEN + 1], sql[256];
	sqlite3_stmt *s;
	int64_t id = new_customer(f->db), exp;

	assert_int_equal(token_issue(f->db, PRINCIPAL_CUSTOMER, id, TOKEN_ACCESS,
	    5000, 60, t, sizeof(t), &exp), 0);
	assert_int_equal(exp, 5000 + 60000);
	/* No column of any row holds the token's text. */
	snprintf(sql, sizeof(sql), "SELECT count(*) FROM tokens WHERE "
	    "CAST(hash AS TEXT) = '%s' OR kind = '%s'", t, t);
	assert_int_equal(tu_query_int(f->db, sql), 0);
	assert_int_equal(sqlite3_prepare_v2(db_handle(f->db),
	    "SELECT hash FROM tokens", -1, &s, NULL), SQLITE_OK);
	assert_int_equal(sqlite3_step(s), SQLITE_ROW);
	token_hash(t, hash);
	assert_int_equal(sqlite3_column_bytes(s, 0), TOKEN_HASH_LEN);
	assert_memory_equal(sqlite3_column_blob(s, 0), hash, TOKEN_HASH_LEN);
	sqlite3_finalize(s);
}

static void
token_verify_accepts_a_fresh_token(void **state)
{
	struct fixture *f = *state;
	struct token_info info;
	char t[TOKEN_LEN + 1];
	int64_t id = new_customer(f->db), exp;

	assert_int_equal(token_issue(f->db, PRINCIPAL_CUSTOMER, id, TOKEN_ACCESS,
	    5000, 60, t, sizeof(t), &exp), 0);
	assert_int_equal(token_verify(f->db, t, TOKEN_ACCESS, 5001, &info),
	    TOKEN_OK);
	assert_int_equal(info.principal, PRINCIPAL_CUSTOMER);
	assert_int_equal(info.principal_id, id);
	assert_int_equal(info.expires_at, exp);
}

static void
token_verify_rejects_expired_token(void **state)
{
	struct fixture *f = *state;
	struct token_info info;
	char t[TOKEN_LEN + 1];
	int64_t id = new_customer(f->db), exp;

	assert_int_equal(token_issue(f->db, PRINCIPAL_CUSTOMER, id, TOKEN_ACCESS,
	    5000, 60, t, sizeof(t), &exp), 0);
	assert_int_equal(token_verify(f->db, t, TOKEN_ACCESS, exp - 1, &info),
	    TOKEN_OK);
	assert_int_equal(token_verify(f->db, t, TOKEN_ACCESS, exp, &info),
	    TOKEN_INVALID);
}

static void
token_verify_rejects_revoked_token(void **state)
{
	struct fixture *f = *state;
	struct token_info info;
	char t[TOKEN_LEN + 1], other[TOKEN_LEN + 1];
	int64_t id = new_customer(f->db), exp;

	assert_int_equal(token_issue(f->db, PRINCIPAL_CUSTOMER, id, TOKEN_ACCESS,
	    5000, 60, t, sizeof(t), &exp), 0);
	assert_int_equal(token_issue(f->db, PRINCIPAL_CUSTOMER, id, TOKEN_ACCESS,
	    5000, 60, other, sizeof(other), &exp), 0);
	assert_int_equal(token_revoke(f->db, t, 6000), 0);
	assert_int_equal(token_verify(f->db, t, TOKEN_ACCESS, 6001, &info),
	    TOKEN_INVALID);
	assert_int_equal(token_verify(f->db, other, TOKEN_ACCESS, 6001, &info),
	    TOKEN_OK);
	/* Revoking again, or revoking a token never issued, is no error. */
	assert_int_equal(token_revoke(f->db, t, 7000), 0);
	token_generate(other, sizeof(other));
	assert_int_equal(token_revoke(f->db, other, 7000), 0);
}

static void
token_verify_rejects_unknown_and_malformed_tokens(void **state)
{
	struct fixture *f = *state;
	static const char *const bad[] = {
		"", "short", "not a token at all, with spaces and 43 chars!",
		"aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa",	/* 44 */
		"aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa+",	/* 43, '+' */
		"aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa",	/* unknown */
	};
	struct token_info info;
	size_t i;

	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		assert_int_equal(token_verify(f->db, bad[i], TOKEN_ACCESS, 1,
		    &info), TOKEN_INVALID);
	assert_int_equal(token_verify(f->db, NULL, TOKEN_ACCESS, 1, &info),
	    TOKEN_INVALID);
}

static void
token_verify_keeps_access_and_refresh_apart(void **state)
{
	struct fixture *f = *state;
	struct token_info info;
	char t[TOKEN_LEN + 1];
	int64_t id = new_customer(f->db), exp;

	assert_int_equal(token_issue(f->db, PRINCIPAL_CUSTOMER, id,
	    TOKEN_REFRESH, 5000, 60, t, sizeof(t), &exp), 0);
	assert_int_equal(token_verify(f->db, t, TOKEN_ACCESS, 5001, &info),
	    TOKEN_INVALID);
	assert_int_equal(token_verify(f->db, t, TOKEN_REFRESH, 5001, &info),
	    TOKEN_OK);
}

static void
token_extend_moves_the_expiry(void **state)
{
	struct fixture *f = *state;
	struct token_info info;
	char t[TOKEN_LEN + 1];
	int64_t id = new_customer(f->db), exp;

	assert_int_equal(token_issue(f->db, PRINCIPAL_CUSTOMER, id,
	    TOKEN_REFRESH, 5000, 60, t, sizeof(t), &exp), 0);
	assert_int_equal(token_verify(f->db, t, TOKEN_REFRESH, 5001, &info),
	    TOKEN_OK);
	assert_int_equal(token_extend(f->db, info.token_id, exp + HOUR_MS), 0);
	assert_int_equal(token_verify(f->db, t, TOKEN_REFRESH, exp + 1, &info),
	    TOKEN_OK);
	assert_int_equal(info.expires_at, exp + HOUR_MS);
}

static void
agent_tokens_stop_working_when_the_agent_is_disabled_or_revoked(void **state)
{
	struct fixture *f = *state;
	struct token_info info;
	char t[TOKEN_LEN + 1], t2[TOKEN_LEN + 1];
	int64_t id, exp;

	assert_int_equal(agent_add(f->db, "agent7", "Agent Seven", "x", 1000,
	    &id), AGENT_OK);
	assert_int_equal(token_issue(f->db, PRINCIPAL_AGENT, id, TOKEN_ACCESS,
	    5000, 60, t, sizeof(t), &exp), 0);
	assert_int_equal(token_verify(f->db, t, TOKEN_ACCESS, 5001, &info),
	    TOKEN_OK);
	assert_int_equal(info.principal, PRINCIPAL_AGENT);
	assert_int_equal(info.principal_id, id);
	assert_int_equal(agent_set_disabled(f->db, id, 5002), AGENT_OK);
	assert_int_equal(token_verify(f->db, t, TOKEN_ACCESS, 5003, &info),
	    TOKEN_INVALID);
	assert_int_equal(agent_set_disabled(f->db, id, 0), AGENT_OK);
	assert_int_equal(token_issue(f->db, PRINCIPAL_AGENT, id, TOKEN_ACCESS,
	    5004, 60, t2, sizeof(t2), &exp), 0);
	assert_int_equal(token_revoke_agent(f->db, id, 5005), 0);
	assert_int_equal(token_verify(f->db, t, TOKEN_ACCESS, 5006, &info),
	    TOKEN_INVALID);
	assert_int_equal(token_verify(f->db, t2, TOKEN_ACCESS, 5006, &info),
	    TOKEN_INVALID);
}

static void
token_issue_deletes_the_principals_expired_tokens(void **state)
{
	struct fixture *f = *state;
	char t[TOKEN_LEN + 1];
	int64_t id = new_customer(f->db), exp;

	assert_int_equal(token_issue(f->db, PRINCIPAL_CUSTOMER, id, TOKEN_ACCESS,
	    1000, 1, t, sizeof(t), &exp), 0);
	assert_int_equal(tu_query_int(f->db, "SELECT count(*) FROM tokens"), 1);
	assert_int_equal(token_issue(f->db, PRINCIPAL_CUSTOMER, id, TOKEN_ACCESS,
	    1000 + HOUR_MS, 60, t, sizeof(t), &exp), 0);
	assert_int_equal(tu_query_int(f->db, "SELECT count(*) FROM tokens"), 1);
}

#define T(name) cmocka_unit_test_setup_teardown(name, tu_setup_db, tu_teardown_db)

int
main(void)
{
	const struct CMUnitTest tests[] = {
		T(token_generate_makes_43_urlsafe_characters),
		T(token_generate_never_repeats),
		T(token_issue_stores_only_a_hash),
		T(token_verify_accepts_a_fresh_token),
		T(token_verify_rejects_expired_token),
		T(token_verify_rejects_revoked_token),
		T(token_verify_rejects_unknown_and_malformed_tokens),
		T(token_verify_keeps_access_and_refresh_apart),
		T(token_extend_moves_the_expiry),
		T(agent_tokens_stop_working_when_the_agent_is_disabled_or_revoked),
		T(token_issue_deletes_the_principals_expired_tokens),
	};

	return cmocka_run_group_tests_name("token", tests, NULL, NULL);
}
