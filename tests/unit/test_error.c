#include "testutil.h"

#include "../../lib/error.h"

static const struct {
	enum error_code code;
	const char *name;
	int status;
} contract[] = {
	{ ERROR_INVALID_REQUEST, "INVALID_REQUEST", 400 },
	{ ERROR_MISSING_TOKEN, "MISSING_TOKEN", 401 },
	{ ERROR_TOKEN_EXPIRED, "TOKEN_EXPIRED", 401 },
	{ ERROR_INVALID_CREDENTIALS, "INVALID_CREDENTIALS", 401 },
	{ ERROR_FORBIDDEN, "FORBIDDEN", 403 },
	{ ERROR_NOT_FOUND, "NOT_FOUND", 404 },
	{ ERROR_METHOD_NOT_ALLOWED, "METHOD_NOT_ALLOWED", 405 },
	{ ERROR_CONFLICT, "CONFLICT", 409 },
	{ ERROR_PAYLOAD_TOO_LARGE, "PAYLOAD_TOO_LARGE", 413 },
	{ ERROR_UNSUPPORTED_MEDIA_TYPE, "UNSUPPORTED_MEDIA_TYPE", 415 },
	{ ERROR_RATE_LIMITED, "RATE_LIMITED", 429 },
	{ ERROR_INTERNAL, "INTERNAL", 500 },
};

static void
error_codes_have_the_contracts_names_and_statuses(void **state)
{
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(contract) / sizeof(contract[0]); i++) {
		assert_string_equal(error_name(contract[i].code), contract[i].name);
		assert_int_equal(error_status(contract[i].code), contract[i].status);
	}
	assert_string_equal(error_name(ERROR_INVALID_MESSAGE), "INVALID_MESSAGE");
	assert_string_equal(error_name(ERROR_SESSION_CLOSED), "SESSION_CLOSED");
}

static void
error_body_has_exactly_the_contract_shape(void **state)
{
	json_t *body = error_body_new(ERROR_TOKEN_EXPIRED, "Token is invalid");
	char *text;

	(void)state;
	assert_non_null(body);
	text = json_dumps(body, JSON_COMPACT | JSON_SORT_KEYS);
	assert_string_equal(text, "{\"error\":{\"code\":\"TOKEN_EXPIRED\","
	    "\"message\":\"Token is invalid\"}}");
	free(text);
	json_decref(body);
}

static void
error_body_escapes_the_message(void **state)
{
	json_t *body = error_body_new(ERROR_INVALID_REQUEST, "a \"quoted\"\n\\");
	json_t *again;
	char *text;

	(void)state;
	text = json_dumps(body, JSON_COMPACT);
	again = json_loads(text, 0, NULL);
	assert_non_null(again);
	assert_string_equal(json_string_value(json_object_get(json_object_get(
	    again, "error"), "message")), "a \"quoted\"\n\\");
	free(text);
	json_decref(again);
	json_decref(body);
}

static void
error_frame_carries_the_client_msg_id_only_when_given(void **state)
{
	json_t *f1 = error_frame_new(ERROR_FORBIDDEN, "not yours", "m-1");
	json_t *f2 = error_frame_new(ERROR_INVALID_MESSAGE, "empty", NULL);
	char *t1, *t2;

	(void)state;
	t1 = json_dumps(f1, JSON_COMPACT | JSON_SORT_KEYS);
	t2 = json_dumps(f2, JSON_COMPACT | JSON_SORT_KEYS);
	assert_string_equal(t1, "{\"clientMsgId\":\"m-1\",\"code\":\"FORBIDDEN\","
	    "\"message\":\"not yours\",\"type\":\"error\"}");
	assert_string_equal(t2, "{\"code\":\"INVALID_MESSAGE\","
	    "\"message\":\"empty\",\"type\":\"error\"}");
	free(t1);
	free(t2);
	json_decref(f1);
	json_decref(f2);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(error_codes_have_the_contracts_names_and_statuses),
		cmocka_unit_test(error_body_has_exactly_the_contract_shape),
		cmocka_unit_test(error_body_escapes_the_message),
		cmocka_unit_test(error_frame_carries_the_client_msg_id_only_when_given),
	};

	return cmocka_run_group_tests_name("error", tests, NULL, NULL);
}
