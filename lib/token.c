#include <string.h>

#include <sodium.h>

#include "db.h"
#include "token.h"

#define TOKEN_RAW_BYTES 32

enum stmt {
	STMT_INSERT,
	STMT_PRUNE_CUSTOMER,
	STMT_PRUNE_AGENT,
	STMT_LOOKUP,
	STMT_EXTEND,
	STMT_REVOKE,
	STMT_REVOKE_AGENT,
	STMT_REVOKE_CUSTOMER,
	STMT__MAX
};

static const char *const stmts[STMT__MAX] = {
	[STMT_INSERT] =
	    "INSERT INTO tokens (hash, kind, customer_id, agent_id, created_at,"
	    " expires_at) VALUES (?, ?, ?, ?, ?, ?)",
	[STMT_PRUNE_CUSTOMER] =
	    "DELETE FROM tokens WHERE customer_id = ? AND expires_at <= ?",
	[STMT_PRUNE_AGENT] =
	    "DELETE FROM tokens WHERE agent_id = ? AND expires_at <= ?",
	[STMT_LOOKUP] =
	    "SELECT t.id, t.customer_id, t.agent_id, t.expires_at"
	    " FROM tokens t LEFT JOIN agents a ON a.id = t.agent_id"
	    " WHERE t.hash = ? AND t.kind = ? AND t.revoked_at IS NULL"
	    " AND t.expires_at > ? AND a.disabled_at IS NULL",
	[STMT_EXTEND] =
	    "UPDATE tokens SET expires_at = ? WHERE id = ?",
	[STMT_REVOKE] =
	    "UPDATE tokens SET revoked_at = ? WHERE hash = ?"
	    " AND revoked_at IS NULL",
	[STMT_REVOKE_AGENT] =
	    "UPDATE tokens SET revoked_at = ? WHERE agent_id = ?"
	    " AND revoked_at IS NULL",
	[STMT_REVOKE_CUSTOMER] =
	    "UPDATE tokens SET revoked_at = ? WHERE customer_id = ?"
	    " AND revoked_at IS NULL",
};

static const char *
kind_name(enum token_kind kind)
{
	return kind == TOKEN_REFRESH ? "refresh" : "access";
}

void
token_generate(char *out, size_t outsz)
{
	unsigned char raw[TOKEN_RAW_BYTES];

	randombytes_buf(raw, sizeof(raw));
	sodium_bin2base64(out, outsz, raw, sizeof(raw),
	    sodium_base64_VARIANT_URLSAFE_NO_PADDING);
	sodium_memzero(raw, sizeof(raw));
}

void
token_hash(const char *token, unsigned char out[TOKEN_HASH_LEN])
{
	crypto_generichash(out, TOKEN_HASH_LEN, (const unsigned char *)token,
	    strlen(token), NULL, 0);
}

/* A token we issued: exactly TOKEN_LEN characters of URL-safe base64. */
static int
well_formed(const char *token)
{
	size_t n = strspn(token, "ABCDEFGHIJKLMNOPQRSTUVWXYZ"
	    "abcdefghijklmnopqrstuvwxyz0123456789-_");

	return n == TOKEN_LEN && token[n] == '\0';
}

static int
run(sqlite3_stmt *s)
{
	int rc = sqlite3_step(s) == SQLITE_DONE ? 0 : -1;

	db_done(s);
	return rc;
}

static int
prune(struct db *db, enum principal who, int64_t id, int64_t now)
{
	sqlite3_stmt *s = db_stmt(db, stmts[who == PRINCIPAL_AGENT ?
	    STMT_PRUNE_AGENT : STMT_PRUNE_CUSTOMER]);

	if (s == NULL)
		return -1;
	sqlite3_bind_int64(s, 1, id);
	sqlite3_bind_int64(s, 2, now);
	return run(s);
}

int
token_issue(struct db *db, enum principal who, int64_t id,
    enum token_kind kind, int64_t now, long ttl, char *out, size_t outsz,
    int64_t *expires_at)
{
	unsigned char hash[TOKEN_HASH_LEN];
	sqlite3_stmt *s;

	if (outsz < TOKEN_LEN + 1 || prune(db, who, id, now) == -1)
		return -1;
	if ((s = db_stmt(db, stmts[STMT_INSERT])) == NULL)
		return -1;
	token_generate(out, outsz);
	token_hash(out, hash);
	*expires_at = now + (int64_t)ttl * 1000;
	sqlite3_bind_blob(s, 1, hash, sizeof(hash), SQLITE_TRANSIENT);
	sqlite3_bind_text(s, 2, kind_name(kind), -1, SQLITE_STATIC);
	if (who == PRINCIPAL_CUSTOMER)
		sqlite3_bind_int64(s, 3, id);
	else
		sqlite3_bind_int64(s, 4, id);
	sqlite3_bind_int64(s, 5, now);
	sqlite3_bind_int64(s, 6, *expires_at);
	if (run(s) == -1) {
		sodium_memzero(out, outsz);
		return -1;
	}
	return 0;
}

enum token_status
token_verify(struct db *db, const char *token, enum token_kind kind,
    int64_t now, struct token_info *info)
{
	unsigned char hash[TOKEN_HASH_LEN];
	enum token_status st = TOKEN_ERROR;
	sqlite3_stmt *s;
	int rc;

	if (token == NULL || !well_formed(token))
		return TOKEN_INVALID;
	if ((s = db_stmt(db, stmts[STMT_LOOKUP])) == NULL)
		return TOKEN_ERROR;
	token_hash(token, hash);
	sqlite3_bind_blob(s, 1, hash, sizeof(hash), SQLITE_TRANSIENT);
	sqlite3_bind_text(s, 2, kind_name(kind), -1, SQLITE_STATIC);
	sqlite3_bind_int64(s, 3, now);
	rc = sqlite3_step(s);
	if (rc == SQLITE_DONE)
		st = TOKEN_INVALID;
	else if (rc == SQLITE_ROW) {
		info->token_id = sqlite3_column_int64(s, 0);
		info->principal = sqlite3_column_type(s, 1) == SQLITE_NULL ?
		    PRINCIPAL_AGENT : PRINCIPAL_CUSTOMER;
		info->principal_id = sqlite3_column_int64(s,
		    info->principal == PRINCIPAL_AGENT ? 2 : 1);
		info->expires_at = sqlite3_column_int64(s, 3);
		st = TOKEN_OK;
	}
	db_done(s);
	return st;
}

/* Run statement st bound with a and b. Returns 0 or -1. */
static int
run_two(struct db *db, enum stmt st, int64_t a, int64_t b)
{
	sqlite3_stmt *s = db_stmt(db, stmts[st]);

	if (s == NULL)
		return -1;
	sqlite3_bind_int64(s, 1, a);
	sqlite3_bind_int64(s, 2, b);
	return run(s);
}

int
token_extend(struct db *db, int64_t token_id, int64_t expires_at)
{
	return run_two(db, STMT_EXTEND, expires_at, token_id);
}

int
token_revoke(struct db *db, const char *token, int64_t now)
{
	unsigned char hash[TOKEN_HASH_LEN];
	sqlite3_stmt *s = db_stmt(db, stmts[STMT_REVOKE]);

	if (s == NULL)
		return -1;
	token_hash(token, hash);
	sqlite3_bind_int64(s, 1, now);
	sqlite3_bind_blob(s, 2, hash, sizeof(hash), SQLITE_TRANSIENT);
	return run(s);
}

int
token_revoke_agent(struct db *db, int64_t agent_id, int64_t now)
{
	return run_two(db, STMT_REVOKE_AGENT, now, agent_id);
}

int
token_revoke_customer(struct db *db, int64_t customer_id, int64_t now)
{
	return run_two(db, STMT_REVOKE_CUSTOMER, now, customer_id);
}
