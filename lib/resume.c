#include <string.h>

#include "db.h"
#include "resume.h"
#include "token.h"

enum stmt {
	STMT_PRUNE,
	STMT_INSERT,
	STMT_LOOKUP,
	STMT_SPEND,
	STMT__MAX
};

static const char *const stmts[STMT__MAX] = {
	[STMT_PRUNE] = "DELETE FROM resume_codes WHERE expires_at <= ?",
	[STMT_INSERT] =
	    "INSERT INTO resume_codes (hash, customer_id, session_id,"
	    " created_at, expires_at, single_use) VALUES (?, ?, ?, ?, ?, ?)",
	[STMT_LOOKUP] =
	    "SELECT customer_id, coalesce(session_id, 0), single_use"
	    " FROM resume_codes WHERE hash = ? AND expires_at > ?",
	[STMT_SPEND] = "DELETE FROM resume_codes WHERE hash = ?",
};

/* Step s to its end and reset it: 0, or -1 on an error. */
static int
run(sqlite3_stmt *s)
{
	int rc = sqlite3_step(s);

	db_done(s);
	return rc == SQLITE_DONE ? 0 : -1;
}

static int
create(struct db *db, int64_t customer_id, int64_t session_id,
    int64_t now_ms, int64_t ttl_ms, int single_use, char *out, size_t outsz)
{
	unsigned char hash[TOKEN_HASH_LEN];
	sqlite3_stmt *s;

	if (outsz < RESUME_CODE_LEN + 1)
		return -1;
	if ((s = db_stmt(db, stmts[STMT_PRUNE])) == NULL)
		return -1;
	sqlite3_bind_int64(s, 1, now_ms);
	if (run(s) == -1)
		return -1;
	token_generate(out, outsz);
	token_hash(out, hash);
	if ((s = db_stmt(db, stmts[STMT_INSERT])) == NULL)
		return -1;
	sqlite3_bind_blob(s, 1, hash, sizeof(hash), SQLITE_TRANSIENT);
	sqlite3_bind_int64(s, 2, customer_id);
	if (session_id > 0)
		sqlite3_bind_int64(s, 3, session_id);
	else
		sqlite3_bind_null(s, 3);
	sqlite3_bind_int64(s, 4, now_ms);
	sqlite3_bind_int64(s, 5, now_ms + ttl_ms);
	sqlite3_bind_int(s, 6, single_use);
	return run(s);
}

int
resume_code_create(struct db *db, int64_t customer_id, int64_t session_id,
    int64_t now_ms, int64_t ttl_ms, char *out, size_t outsz)
{
	return create(db, customer_id, session_id, now_ms, ttl_ms, 0, out,
	    outsz);
}

int
resume_handoff_create(struct db *db, int64_t customer_id, int64_t now_ms,
    int64_t ttl_ms, char *out, size_t outsz)
{
	return create(db, customer_id, 0, now_ms, ttl_ms, 1, out, outsz);
}

/* Whether code has the shape of a token: 43 characters of URL-safe base64. */
static int
code_well_formed(const char *code)
{
	return code != NULL && strlen(code) == RESUME_CODE_LEN &&
	    strspn(code, "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"
	    "0123456789-_") == RESUME_CODE_LEN;
}

int
resume_code_take(struct db *db, const char *code, int64_t now_ms,
    int64_t *customer_id, int64_t *session_id, int *handoff)
{
	unsigned char hash[TOKEN_HASH_LEN];
	sqlite3_stmt *s;
	int rc;

	*customer_id = *session_id = 0;
	*handoff = 0;
	if (!code_well_formed(code))
		return 0;
	token_hash(code, hash);
	if ((s = db_stmt(db, stmts[STMT_LOOKUP])) == NULL)
		return -1;
	sqlite3_bind_blob(s, 1, hash, sizeof(hash), SQLITE_TRANSIENT);
	sqlite3_bind_int64(s, 2, now_ms);
	rc = sqlite3_step(s);
	if (rc == SQLITE_ROW) {
		*customer_id = sqlite3_column_int64(s, 0);
		*session_id = sqlite3_column_int64(s, 1);
		*handoff = sqlite3_column_int(s, 2) != 0;
	}
	db_done(s);
	if (rc != SQLITE_ROW)
		return rc == SQLITE_DONE ? 0 : -1;
	if (!*handoff)
		return 1;
	if ((s = db_stmt(db, stmts[STMT_SPEND])) == NULL)
		return -1;
	sqlite3_bind_blob(s, 1, hash, sizeof(hash), SQLITE_TRANSIENT);
	return run(s) == 0 ? 1 : -1;
}
