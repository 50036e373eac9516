#include <stdio.h>
#include <string.h>

#include "customer.h"
#include "db.h"

enum stmt {
	STMT_INSERT,
	STMT_GET,
	STMT_SET_EMAIL,
	STMT_SET_CONSENT,
	STMT__MAX
};

static const char *const stmts[STMT__MAX] = {
	[STMT_INSERT] =
	    "INSERT INTO customers (name, channel, metadata, created_at)"
	    " VALUES (?, ?, ?, ?)",
	[STMT_GET] =
	    "SELECT id, name, channel, metadata, created_at, email, consent_at"
	    " FROM customers WHERE id = ?",
	[STMT_SET_EMAIL] = "UPDATE customers SET email = ? WHERE id = ?",
	[STMT_SET_CONSENT] = "UPDATE customers SET consent_at = ? WHERE id = ?",
};

int
customer_channel_valid(const char *channel)
{
	size_t n = strlen(channel);

	return n >= 1 && n <= CUSTOMER_CHANNEL_MAX &&
	    strspn(channel, "ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_") == n;
}

enum customer_status
customer_create(struct db *db, const char *name, const char *channel,
    const char *metadata, int64_t now, int64_t *id)
{
	sqlite3_stmt *s = db_stmt(db, stmts[STMT_INSERT]);
	int rc;

	if (s == NULL)
		return CUSTOMER_ERROR;
	sqlite3_bind_text(s, 1, name, -1, SQLITE_STATIC);
	sqlite3_bind_text(s, 2, channel, -1, SQLITE_STATIC);
	sqlite3_bind_text(s, 3, metadata, -1, SQLITE_STATIC);
	sqlite3_bind_int64(s, 4, now);
	rc = sqlite3_step(s);
	db_done(s);
	if (rc != SQLITE_DONE)
		return CUSTOMER_ERROR;
	*id = sqlite3_last_insert_rowid(db_handle(db));
	return CUSTOMER_OK;
}

enum customer_status
customer_get(struct db *db, int64_t id, struct customer *out)
{
	sqlite3_stmt *s = db_stmt(db, stmts[STMT_GET]);
	enum customer_status st = CUSTOMER_ERROR;
	int rc;

	if (s == NULL)
		return CUSTOMER_ERROR;
	sqlite3_bind_int64(s, 1, id);
	rc = sqlite3_step(s);
	if (rc == SQLITE_ROW) {
		out->id = sqlite3_column_int64(s, 0);
		db_column_copy(s, 1, out->name, sizeof(out->name));
		db_column_copy(s, 2, out->channel, sizeof(out->channel));
		db_column_copy(s, 3, out->metadata, sizeof(out->metadata));
		out->created_at = sqlite3_column_int64(s, 4);
		db_column_copy(s, 5, out->email, sizeof(out->email));
		out->consent_at = sqlite3_column_int64(s, 6);
		st = CUSTOMER_OK;
	} else if (rc == SQLITE_DONE)
		st = CUSTOMER_NOT_FOUND;
	db_done(s);
	return st;
}

/* Run an UPDATE of one customer bound with (value, id): NOT_FOUND when none. */
static enum customer_status
update(sqlite3_stmt *s, struct db *db)
{
	int rc = sqlite3_step(s);

	db_done(s);
	if (rc != SQLITE_DONE)
		return CUSTOMER_ERROR;
	return sqlite3_changes(db_handle(db)) > 0 ? CUSTOMER_OK :
	    CUSTOMER_NOT_FOUND;
}

enum customer_status
customer_set_email(struct db *db, int64_t id, const char *email)
{
	sqlite3_stmt *s = db_stmt(db, stmts[STMT_SET_EMAIL]);

	if (s == NULL)
		return CUSTOMER_ERROR;
	sqlite3_bind_text(s, 1, email, -1, SQLITE_STATIC);
	sqlite3_bind_int64(s, 2, id);
	return update(s, db);
}

enum customer_status
customer_set_consent(struct db *db, int64_t id, int64_t now)
{
	sqlite3_stmt *s = db_stmt(db, stmts[STMT_SET_CONSENT]);

	if (s == NULL)
		return CUSTOMER_ERROR;
	sqlite3_bind_int64(s, 1, now);
	sqlite3_bind_int64(s, 2, id);
	return update(s, db);
}
