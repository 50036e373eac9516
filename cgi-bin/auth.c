/*
 * POST /api/v1/public/login  an agent's username and password for a token
 * POST /api/v1/logout        revoke the caller's token
 * GET  /api/v1/me            who the caller's token stands for
 */
#include <ctype.h>
#include <stdio.h>
#include <string.h>

#include <sodium.h>

#include "api.h"
#include "../lib/agent.h"
#include "../lib/field.h"
#include "../lib/log.h"
#include "../lib/password.h"
#include "../lib/throttle.h"
#include "../lib/wake.h"

#define BUCKET_USER "login_user"
#define BUCKET_ADDR "login_addr"
#define USERNAME_FIELD_MAX 256

static json_t *
agent_json(const struct agent *a)
{
	return json_pack("{s:I,s:s,s:s}", "id", (json_int_t)a->id, "username",
	    a->username, "displayName", a->display_name);
}

/*
 * Seconds until this username and address may try again, the longer of
 * the two waits; 0 when they may now. Returns 0 or -1.
 */
static int
login_wait(struct call *c, const char *user_key, long *retry_after)
{
	const struct config *cfg = c->api->cfg;
	long by_addr;

	if (throttle_check(c->api->db, BUCKET_USER, user_key,
	    cfg->login_user_limit, cfg->login_window, c->req->now,
	    retry_after) == -1 ||
	    throttle_check(c->api->db, BUCKET_ADDR, http_client_addr(c->req),
	    cfg->login_addr_limit, cfg->login_window, c->req->now,
	    &by_addr) == -1)
		return -1;
	if (by_addr > *retry_after)
		*retry_after = by_addr;
	return 0;
}

static int
record_failure(struct call *c, const char *user_key)
{
	const struct config *cfg = c->api->cfg;
	struct db *db = c->api->db;

	if (db_begin(db) == -1 ||
	    throttle_record(db, BUCKET_USER, user_key, cfg->login_window,
	    c->req->now) == -1 ||
	    throttle_record(db, BUCKET_ADDR, http_client_addr(c->req),
	    cfg->login_window, c->req->now) == -1)
		return -1;
	return db_commit(db);
}

/*
 * After a good password: clear the username's failures, upgrade the hash
 * if its parameters are old, and issue the token, all in one transaction.
 */
static int
login_succeed(struct call *c, const struct agent *a, const char *user_key,
    const char *password, char *token, size_t tokensz, int64_t *expires_at)
{
	struct db *db = c->api->db;
	char rehash[PASSWORD_HASH_SIZE];
	int upgrade;

	upgrade = password_needs_rehash(a->password_hash) &&
	    password_hash(password, rehash) == 0;
	if (db_begin(db) == -1 ||
	    throttle_clear(db, BUCKET_USER, user_key) == -1 ||
	    (upgrade && agent_set_password(db, a->id, rehash) != AGENT_OK) ||
	    token_issue(db, PRINCIPAL_AGENT, a->id, TOKEN_ACCESS, c->req->now,
	    c->api->cfg->agent_token_ttl, token, tokensz, expires_at) == -1)
		return -1;
	return db_commit(db);
}

void
auth_login(struct call *c)
{
	const char *username, *password, *hash = NULL;
	char err[256], user_key[USERNAME_FIELD_MAX + 1], token[TOKEN_LEN + 1];
	enum agent_status st;
	struct agent a;
	json_t *body, *reply = NULL;
	int64_t expires_at;
	long retry_after;
	size_t i;

	if ((body = api_read_body(c)) == NULL)
		return;
	if (field_string(body, "username", 1, USERNAME_FIELD_MAX, 0, &username,
	    err, sizeof(err)) == -1 ||
	    field_string(body, "password", 1, PASSWORD_MAX_LEN, 0, &password,
	    err, sizeof(err)) == -1) {
		api_fail_field(c, err);
		goto out;
	}
	for (i = 0; username[i] != '\0' && i < USERNAME_FIELD_MAX; i++)
		user_key[i] = (char)tolower((unsigned char)username[i]);
	user_key[i] = '\0';

	if (login_wait(c, user_key, &retry_after) == -1) {
		api_fail_internal(c, "login throttle");
		goto out;
	}
	if (retry_after > 0) {
		api_fail_throttled(c, retry_after, "too many failed logins");
		goto out;
	}
	if ((st = agent_find(c->api->db, username, &a)) == AGENT_ERROR) {
		api_fail_internal(c, "login");
		goto out;
	}
	if (st == AGENT_OK && a.disabled_at == 0)
		hash = a.password_hash;
	if (password_verify(hash, password) == -1) {
		log_msg(LOG_INFO, c->req->id, "login failed for \"%s\" from %s",
		    username, http_client_addr(c->req));
		if (record_failure(c, user_key) == -1)
			api_fail_internal(c, "login failure");
		else
			http_reply_error(c->req, ERROR_INVALID_CREDENTIALS, NULL,
			    "username or password is incorrect");
		goto out;
	}
	if (login_succeed(c, &a, user_key, password, token, sizeof(token),
	    &expires_at) == -1) {
		api_fail_internal(c, "login");
		goto out;
	}
	reply = json_pack("{s:s,s:o}", "token", token, "agent", agent_json(&a));
	wire_set_time(reply, "expiresAt", expires_at);
	http_reply_json(c->req, 200, NULL, reply);
out:
	sodium_memzero(token, sizeof(token));
	json_decref(reply);
	json_decref(body);
}

void
auth_logout(struct call *c)
{
	struct relay_user user = { c->who.principal, c->who.principal_id };

	if (token_revoke(c->api->db, c->token, c->req->now) == -1) {
		api_fail_internal(c, "logout");
		return;
	}
	/* Its open WebSocket connections check their token now and end. */
	relay_wake(c->api->relay, &user, WAKE_RECHECK, NULL, 0);
	http_reply_json(c->req, 204, NULL, NULL);
}

void
auth_me(struct call *c)
{
	struct agent a;
	json_t *me = NULL;

	if (c->who.principal == PRINCIPAL_CUSTOMER) {
		if ((me = customers_json(c, c->who.principal_id)) != NULL)
			json_object_set_new(me, "role", json_string("customer"));
	} else if (agent_get(c->api->db, c->who.principal_id, &a) == AGENT_OK) {
		if ((me = agent_json(&a)) != NULL)
			json_object_set_new(me, "role", json_string("agent"));
	}
	if (me == NULL || wire_set_time(me, "expiresAt", c->who.expires_at) == -1) {
		api_fail_internal(c, "me");
		json_decref(me);
		return;
	}
	http_reply_json(c->req, 200, NULL, me);
	json_decref(me);
}
