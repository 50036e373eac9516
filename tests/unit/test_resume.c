#include "testutil.h"

#include "../../lib/customer.h"
#include "../../lib/resume.h"
#include "../../lib/token.h"

#define DAY_MS 86400000LL

static int64_t
new_customer(struct db *db)
{
	int64_t id;

	assert_int_equal(customer_create(db, "Li Lei", "WEB", "{}", 1000, &id),
	    CUSTOMER_OK);
	return id;
}

static void
resume_code_create_stores_only_a_hash(void **state)
{
	struct fixture *f = *state;
	unsigned char hash[TOKEN_HASH_LEN];
	char code[RESUME_CODE_LEN + 1], sql[256];
	sqlite3_stmt *s;
	int64_t cu = new_customer(f->db);

	assert_int_equal(resume_code_create(f->db, cu, 0, 5000, DAY_MS, code,
	    sizeof(code)), 0);
	assert_int_equal(strlen(code), RESUME_CODE_LEN);
	snprintf(sql, sizeof(sql), "SELECT count(*) FROM resume_codes WHERE "
	    "CAST(hash AS TEXT) = '%s'", code);
	assert_int_equal(tu_query_int(f->db, sql), 0);
	assert_int_equal(sqlite3_prepare_v2(db_handle(f->db), "SELECT hash, "
	    "expires_at, session_id IS NULL FROM resume_codes", -1, &s, NULL),
	    SQLITE_OK);
	assert_int_equal(sqlite3_step(s), SQLITE_ROW);
	token_hash(code, hash);
	assert_memory_equal(sqlite3_column_blob(s, 0), hash, TOKEN_HASH_LEN);
	assert_int_equal(sqlite3_column_int64(s, 1), 5000 + DAY_MS);
	assert_int_equal(sqlite3_column_int(s, 2), 1);
	sqlite3_finalize(s);
}

static void
resume_code_take_accepts_a_code_until_it_expires(void **state)
{
	struct fixture *f = *state;
	char code[RESUME_CODE_LEN + 1];
	int64_t cu = new_customer(f->db), who, session;
	int handoff;

	assert_int_equal(db_exec(f->db, "INSERT INTO sessions (id, customer_id, "
	    "status, channel, created_at) VALUES (7, 1, 'queued', 'WEB', 1)"), 0);
	assert_int_equal(resume_code_create(f->db, cu, 7, 5000, DAY_MS, code,
	    sizeof(code)), 0);
	/* Any number of uses: a mail scanner's visit does not spend it. */
	assert_int_equal(resume_code_take(f->db, code, 6000, &who, &session, &handoff), 1);
	assert_int_equal(resume_code_take(f->db, code, 5000 + DAY_MS - 1, &who,
	    &session, &handoff), 1);
	assert_int_equal(who, cu);
	assert_int_equal(session, 7);
	assert_int_equal(resume_code_take(f->db, code, 5000 + DAY_MS, &who,
	    &session, &handoff), 0);
	assert_int_equal(who, 0);
}

static void
resume_code_take_refuses_unknown_and_malformed_codes(void **state)
{
	static const char *const bad[] = {
		"", "short", "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA",
		"AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=",
		"AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA",
	};
	struct fixture *f = *state;
	char code[RESUME_CODE_LEN + 1];
	int64_t cu = new_customer(f->db), who, session;
	size_t i;
	int handoff;

	assert_int_equal(resume_code_create(f->db, cu, 0, 5000, DAY_MS, code,
	    sizeof(code)), 0);
	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		assert_int_equal(resume_code_take(f->db, bad[i], 6000, &who,
		    &session, &handoff), 0);
	assert_int_equal(resume_code_take(f->db, NULL, 6000, &who, &session, &handoff),
	    0);
	code[0] = code[0] == 'A' ? 'B' : 'A';
	assert_int_equal(resume_code_take(f->db, code, 6000, &who, &session, &handoff),
	    0);
}

/* A hand-off code works once, until it expires; the mailed links beside it stay. */
static void
resume_handoff_works_once(void **state)
{
	struct fixture *f = *state;
	char code[RESUME_CODE_LEN + 1], mailed[RESUME_CODE_LEN + 1];
	int64_t cu = new_customer(f->db), who, session;
	int handoff;

	assert_int_equal(resume_code_create(f->db, cu, 0, 5000, DAY_MS, mailed,
	    sizeof(mailed)), 0);
	assert_int_equal(resume_handoff_create(f->db, cu, 5000, 60000, code,
	    sizeof(code)), 0);
	assert_int_equal(resume_code_take(f->db, code, 6000, &who, &session,
	    &handoff), 1);
	assert_int_equal(who, cu);
	assert_int_equal(session, 0);
	assert_int_equal(handoff, 1);
	assert_int_equal(resume_code_take(f->db, code, 6000, &who, &session,
	    &handoff), 0);
	assert_int_equal(who, 0);
	assert_int_equal(handoff, 0);
	assert_int_equal(resume_code_take(f->db, mailed, 6000, &who, &session,
	    &handoff), 1);
	assert_int_equal(handoff, 0);

	assert_int_equal(resume_handoff_create(f->db, cu, 5000, 60000, code,
	    sizeof(code)), 0);
	assert_int_equal(resume_code_take(f->db, code, 65000, &who, &session,
	    &handoff), 0);
}

static void
resume_code_create_deletes_expired_codes(void **state)
{
	struct fixture *f = *state;
	char code[RESUME_CODE_LEN + 1];
	int64_t cu = new_customer(f->db);

	assert_int_equal(resume_code_create(f->db, cu, 0, 1000, 1000, code,
	    sizeof(code)), 0);
	assert_int_equal(resume_code_create(f->db, cu, 0, 1500, DAY_MS, code,
	    sizeof(code)), 0);
	assert_int_equal(tu_query_int(f->db, "SELECT count(*) FROM "
	    "resume_codes"), 2);
	assert_int_equal(resume_code_create(f->db, cu, 0, 2000, DAY_MS, code,
	    sizeof(code)), 0);
	assert_int_equal(tu_query_int(f->db, "SELECT count(*) FROM "
	    "resume_codes"), 2);
}

#define T(name) cmocka_unit_test_setup_teardown(name, tu_setup_db, tu_teardown_db)

int
main(void)
{
	const struct CMUnitTest tests[] = {
		T(resume_code_create_stores_only_a_hash),
		T(resume_code_take_accepts_a_code_until_it_expires),
		T(resume_code_take_refuses_unknown_and_malformed_codes),
		T(resume_handoff_works_once),
		T(resume_code_create_deletes_expired_codes),
	};

	return cmocka_run_group_tests_name("resume", tests, NULL, NULL);
}
