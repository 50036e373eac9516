/*
 * POST /api/v1/customers        create a customer and its tokens
 * POST /api/v1/customers/token  a new access token for a refresh token
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <sodium.h>

#include "api.h"
#include "../lib/customer.h"
#include "../lib/field.h"
#include "../lib/resume.h"
#include "../lib/throttle.h"
#include "../lib/token.h"
#include "../lib/wake.h"

#define THROTTLE_BUCKET "customer_addr"
#define RESUME_BUCKET "resume_addr"
#define REFRESH_TOKEN_MAX 256

static const char channel_rule[] = "channel must be 1 to 32 of A-Z, 0-9 and _";

json_t *
customers_json(struct call *c, int64_t id)
{
	struct customer cu;
	json_t *obj = NULL, *meta;

	if (customer_get(c->api->db, id, &cu) != CUSTOMER_OK)
		return NULL;
	if ((meta = json_loads(cu.metadata, 0, NULL)) == NULL)
		meta = json_object();
	obj = json_pack("{s:I,s:s,s:s,s:o,s:o}", "id", (json_int_t)cu.id, "name",
	    cu.name, "channel", cu.channel, "metadata", meta, "email",
	    cu.email[0] != '\0' ? json_string(cu.email) : json_null());
	if (obj != NULL && wire_set_time(obj, "createdAt", cu.created_at) == -1) {
		json_decref(obj);
		obj = NULL;
	}
	return obj;
}

/* Fields of a creation request, borrowed from its body. */
struct new_customer {
	const char *name;
	const char *channel;
	json_t *metadata;	/* NULL when absent */
	const char *email;	/* NULL when absent */
	int consent;		/* accepted the operator's privacy text */
};

static int
read_new_customer(json_t *body, struct new_customer *nc, char *err,
    size_t errsz)
{
	if (field_string(body, "name", 1, CUSTOMER_NAME_MAX,
	    FIELD_NO_CONTROL | FIELD_NOT_BLANK,
	    &nc->name, err, errsz) == -1 ||
	    field_string(body, "channel", 1, CUSTOMER_CHANNEL_MAX, 0,
	    &nc->channel, err, errsz) == -1 ||
	    field_object(body, "metadata", CUSTOMER_METADATA_MAX,
	    FIELD_OPTIONAL, &nc->metadata, err, errsz) == -1 ||
	    field_email(body, "email", FIELD_OPTIONAL, &nc->email, err,
	    errsz) == -1 ||
	    field_bool(body, "consent", FIELD_OPTIONAL, &nc->consent, err,
	    errsz) == -1)
		return -1;
	if (!customer_channel_valid(nc->channel)) {
		snprintf(err, errsz, "%s", channel_rule);
		return -1;
	}
	return 0;
}

/* Tokens issued to a new customer. */
struct issued {
	int64_t id;
	char token[TOKEN_LEN + 1], refresh[TOKEN_LEN + 1];
	int64_t expires_at, refresh_expires_at;
};

/* In the open transaction: an access and a refresh token for customer out->id. */
static int
issue(struct call *c, struct issued *out)
{
	const struct config *cfg = c->api->cfg;

	return token_issue(c->api->db, PRINCIPAL_CUSTOMER, out->id,
	    TOKEN_ACCESS, c->req->now, cfg->customer_token_ttl, out->token,
	    sizeof(out->token), &out->expires_at) == -1 ||
	    token_issue(c->api->db, PRINCIPAL_CUSTOMER, out->id, TOKEN_REFRESH,
	    c->req->now, cfg->refresh_token_ttl, out->refresh,
	    sizeof(out->refresh), &out->refresh_expires_at) == -1 ? -1 : 0;
}

/* Reply status with the customer and the tokens issued to it, plus extra's keys (may be NULL). */
static void
reply_issued(struct call *c, int status, const struct issued *is,
    json_t *extra)
{
	json_t *reply = customers_json(c, is->id);

	if (reply == NULL || (extra != NULL && json_object_update(reply,
	    extra) == -1)) {
		json_decref(reply);
		api_fail_internal(c, "customer reply");
		return;
	}
	json_object_set_new(reply, "token", json_string(is->token));
	json_object_set_new(reply, "refreshToken", json_string(is->refresh));
	wire_set_time(reply, "expiresAt", is->expires_at);
	http_reply_json(c->req, status, NULL, reply);
	json_decref(reply);
}

/*
 * Store the customer and its tokens in one transaction, counting it for
 * the client address's throttle. Returns 0, 1 when throttled (*retry_after
 * set), -1 on a database error (rolled back).
 */
static int
store(struct call *c, const struct new_customer *nc, const char *metadata,
    struct issued *out, long *retry_after)
{
	const struct config *cfg = c->api->cfg;
	struct db *db = c->api->db;
	const char *addr = http_client_addr(c->req);
	int64_t now = c->req->now;

	if (db_begin(db) == -1 || throttle_check(db, THROTTLE_BUCKET, addr,
	    cfg->customer_create_limit, cfg->customer_create_window, now,
	    retry_after) == -1)
		return -1;
	if (*retry_after > 0) {
		db_rollback(db);
		return 1;
	}
	if (customer_create(db, nc->name, nc->channel, metadata, now,
	    &out->id) != CUSTOMER_OK || issue(c, out) == -1 ||
	    (nc->email != NULL && customer_set_email(db, out->id, nc->email) !=
	    CUSTOMER_OK) ||
	    (nc->consent && customer_set_consent(db, out->id, now) !=
	    CUSTOMER_OK))
		return -1;
	if (cfg->customer_create_limit > 0 && throttle_record(db,
	    THROTTLE_BUCKET, addr, cfg->customer_create_window, now) == -1)
		return -1;
	return db_commit(db);
}

void
customers_create(struct call *c)
{
	struct new_customer nc;
	struct issued is;
	json_t *body = NULL;
	char err[256], *metadata = NULL;
	long retry_after = 0;
	int rc;

	if ((body = api_read_body(c)) == NULL)
		return;
	if (read_new_customer(body, &nc, err, sizeof(err)) == -1) {
		api_fail_field(c, err);
		goto out;
	}
	metadata = nc.metadata != NULL ?
	    json_dumps(nc.metadata, JSON_COMPACT) : strdup("{}");
	if (metadata == NULL) {
		api_fail_internal(c, "customer create: out of memory");
		goto out;
	}
	if ((rc = store(c, &nc, metadata, &is, &retry_after)) == 1) {
		api_fail_throttled(c, retry_after, "too many customers created "
		    "from this address");
		goto out;
	}
	if (rc == -1) {
		api_fail_internal(c, "customer create");
		goto out;
	}
	reply_issued(c, 201, &is, NULL);
out:
	sodium_memzero(&is, sizeof(is));
	json_decref(body);
	free(metadata);
}

/*
 * Whether refresh belongs to customer id on channel: one answer for every
 * way it does not, so nothing tells which part was wrong.
 */
static enum token_status
check_refresh(struct call *c, int64_t id, const char *channel,
    const char *refresh, struct token_info *info)
{
	struct customer cu;
	enum token_status st;
	enum customer_status cs;

	st = token_verify(c->api->db, refresh, TOKEN_REFRESH, c->req->now, info);
	if (st != TOKEN_OK)
		return st;
	if (info->principal != PRINCIPAL_CUSTOMER || info->principal_id != id)
		return TOKEN_INVALID;
	if ((cs = customer_get(c->api->db, id, &cu)) == CUSTOMER_ERROR)
		return TOKEN_ERROR;
	if (cs == CUSTOMER_NOT_FOUND || strcmp(cu.channel, channel) != 0)
		return TOKEN_INVALID;
	return TOKEN_OK;
}

void
customers_refresh(struct call *c)
{
	const struct config *cfg = c->api->cfg;
	struct db *db = c->api->db;
	struct token_info info;
	const char *channel, *refresh;
	char err[256], token[TOKEN_LEN + 1];
	enum token_status st;
	json_t *body, *reply = NULL;
	int64_t id, expires_at;

	if ((body = api_read_body(c)) == NULL)
		return;
	if (field_id(body, "customerId", &id, err, sizeof(err)) == -1 ||
	    field_string(body, "channel", 1, CUSTOMER_CHANNEL_MAX, 0, &channel,
	    err, sizeof(err)) == -1 ||
	    field_string(body, "refreshToken", 1, REFRESH_TOKEN_MAX, 0,
	    &refresh, err, sizeof(err)) == -1) {
		api_fail_field(c, err);
		goto out;
	}
	if (!customer_channel_valid(channel)) {
		api_fail_field(c, channel_rule);
		goto out;
	}
	if ((st = check_refresh(c, id, channel, refresh, &info)) != TOKEN_OK) {
		if (st == TOKEN_ERROR)
			api_fail_internal(c, "token refresh");
		else
			http_reply_error(c->req, ERROR_TOKEN_EXPIRED, NULL,
			    "Refresh token is invalid or expired; create a new "
			    "customer");
		goto out;
	}
	/* Each use keeps the refresh token alive for another full period. */
	if (db_begin(db) == -1 ||
	    token_issue(db, PRINCIPAL_CUSTOMER, id, TOKEN_ACCESS, c->req->now,
	    cfg->customer_token_ttl, token, sizeof(token), &expires_at) == -1 ||
	    token_extend(db, info.token_id, c->req->now +
	    cfg->refresh_token_ttl * 1000) == -1 || db_commit(db) == -1) {
		api_fail_internal(c, "token refresh");
		goto out;
	}
	reply = json_pack("{s:s}", "token", token);
	wire_set_time(reply, "expiresAt", expires_at);
	http_reply_json(c->req, 200, NULL, reply);
out:
	sodium_memzero(token, sizeof(token));
	json_decref(reply);
	json_decref(body);
}

/*
 * POST /api/v1/customers/handoff, with the customer's token: a code for
 * the visitor's page (/#handoff=CODE) that works once, within
 * HANDOFF_TTL_MS, through /customers/resume. A site that creates its
 * customers itself hands the page this, never the tokens.
 */
void
customers_handoff(struct call *c)
{
	char code[RESUME_CODE_LEN + 1];
	json_t *reply = NULL;
	struct db *db = c->api->db;

	if (db_begin(db) == -1 || resume_handoff_create(db,
	    c->who.principal_id, c->req->now, HANDOFF_TTL_MS, code,
	    sizeof(code)) == -1 || db_commit(db) == -1) {
		api_fail_internal(c, "hand-off code");
		goto out;
	}
	if ((reply = json_pack("{s:s}", "code", code)) == NULL) {
		api_fail_internal(c, "hand-off reply");
		goto out;
	}
	wire_set_time(reply, "expiresAt", c->req->now + HANDOFF_TTL_MS);
	http_reply_json(c->req, 201, NULL, reply);
out:
	sodium_memzero(code, sizeof(code));
	json_decref(reply);
}

/*
 * POST /api/v1/customers/resume {"code"}: the link mailed to a visitor
 * who had left signs them in again, as the customer they were; a
 * hand-off code does so once, and ends every other token of the customer
 * (its open connections are told to check theirs). Failed tries are
 * throttled per address like logins.
 */
void
customers_resume(struct call *c)
{
	const struct config *cfg = c->api->cfg;
	struct db *db = c->api->db;
	const char *addr = http_client_addr(c->req), *code;
	struct issued is;
	char err[256];
	json_t *body, *extra = NULL;
	int64_t session_id = 0;
	long retry_after = 0;
	int valid, handoff = 0;

	memset(&is, 0, sizeof(is));
	if ((body = api_read_body(c)) == NULL)
		return;
	if (field_string(body, "code", 1, REFRESH_TOKEN_MAX, 0, &code, err,
	    sizeof(err)) == -1) {
		api_fail_field(c, err);
		goto out;
	}
	if (throttle_check(db, RESUME_BUCKET, addr, cfg->login_addr_limit,
	    cfg->login_window, c->req->now, &retry_after) == -1)
		goto dberr;
	if (retry_after > 0) {
		api_fail_throttled(c, retry_after, "too many links tried from "
		    "this address");
		goto out;
	}
	if (db_begin(db) == -1 || (valid = resume_code_take(db, code,
	    c->req->now, &is.id, &session_id, &handoff)) == -1)
		goto dberr;
	if (valid == 0) {
		if (cfg->login_addr_limit > 0 && throttle_record(db,
		    RESUME_BUCKET, addr, cfg->login_window, c->req->now) == -1)
			goto dberr;
		if (db_commit(db) == -1)
			goto dberr;
		http_reply_error(c->req, ERROR_TOKEN_EXPIRED, NULL, "this link "
		    "is invalid or has expired; start a new chat");
		goto out;
	}
	if ((handoff && token_revoke_customer(db, is.id, c->req->now) == -1) ||
	    issue(c, &is) == -1 || db_commit(db) == -1)
		goto dberr;
	if (handoff) {
		struct relay_user user = { PRINCIPAL_CUSTOMER, is.id };

		relay_wake(c->api->relay, &user, WAKE_RECHECK, NULL, 0);
	}
	if ((extra = json_pack("{s:o}", "sessionId", wire_id(session_id))) ==
	    NULL) {
		api_fail_internal(c, "resume reply");
		goto out;
	}
	reply_issued(c, 200, &is, extra);
	goto out;
dberr:
	api_fail_internal(c, "resume");
out:
	sodium_memzero(&is, sizeof(is));
	json_decref(extra);
	json_decref(body);
}
