#include "testutil.h"

#include "../../lib/password.h"

static void
password_verify_accepts_the_right_password(void **state)
{
	char hash[PASSWORD_HASH_SIZE];

	(void)state;
	assert_int_equal(password_hash("correct horse", hash), 0);
	assert_true(strncmp(hash, "$argon2id$", 10) == 0);
	assert_int_equal(password_verify(hash, "correct horse"), 0);
}

static void
password_verify_rejects_a_wrong_password(void **state)
{
	char hash[PASSWORD_HASH_SIZE];

	(void)state;
	assert_int_equal(password_hash("correct horse", hash), 0);
	assert_int_equal(password_verify(hash, "correct horsE"), -1);
	assert_int_equal(password_verify(hash, ""), -1);
}

static void
password_hash_salts_every_hash(void **state)
{
	char a[PASSWORD_HASH_SIZE], b[PASSWORD_HASH_SIZE];

	(void)state;
	assert_int_equal(password_hash("same password", a), 0);
	assert_int_equal(password_hash("same password", b), 0);
	assert_string_not_equal(a, b);
}

static void
password_verify_without_a_hash_always_fails(void **state)
{
	(void)state;
	/* An unknown user: checked against the built-in hash, never a match. */
	assert_int_equal(password_verify(NULL, "password123"), -1);
	assert_int_equal(password_verify(NULL, ""), -1);
}

static void
password_needs_rehash_only_for_other_parameters(void **state)
{
	char hash[PASSWORD_HASH_SIZE];
	char weak[PASSWORD_HASH_SIZE];

	(void)state;
	assert_int_equal(password_hash("password123", hash), 0);
	assert_int_equal(password_needs_rehash(hash), 0);
	assert_int_equal(crypto_pwhash_str(weak, "password123", 11,
	    crypto_pwhash_OPSLIMIT_MIN, crypto_pwhash_MEMLIMIT_MIN), 0);
	assert_int_equal(password_needs_rehash(weak), 1);
	assert_int_equal(password_verify(weak, "password123"), 0);
}

static void
password_check_new_enforces_length(void **state)
{
	char longpw[PASSWORD_MAX_LEN + 2];

	(void)state;
	assert_non_null(password_check_new(""));
	assert_non_null(password_check_new("1234567"));
	assert_null(password_check_new("12345678"));
	memset(longpw, 'x', PASSWORD_MAX_LEN);
	longpw[PASSWORD_MAX_LEN] = '\0';
	assert_null(password_check_new(longpw));
	longpw[PASSWORD_MAX_LEN] = 'x';
	longpw[PASSWORD_MAX_LEN + 1] = '\0';
	assert_non_null(password_check_new(longpw));
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(password_verify_accepts_the_right_password),
		cmocka_unit_test(password_verify_rejects_a_wrong_password),
		cmocka_unit_test(password_hash_salts_every_hash),
		cmocka_unit_test(password_verify_without_a_hash_always_fails),
		cmocka_unit_test(password_needs_rehash_only_for_other_parameters),
		cmocka_unit_test(password_check_new_enforces_length),
	};

	if (sodium_init() < 0)
		return 1;
	return cmocka_run_group_tests_name("password", tests, NULL, NULL);
}
