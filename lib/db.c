#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "db.h"
#include "migrate.h"

/* Enough for every statement of every module; db_stmt() fails past it. */
#define DB_MAX_STMTS 96

struct db_cached {
	const char *sql;
	sqlite3_stmt *stmt;
};

struct db {
	sqlite3 *handle;
	size_t nstmts;
	struct db_cached stmts[DB_MAX_STMTS];
};

static int
apply_pragmas(struct db *db, const struct config *cfg)
{
	if (sqlite3_busy_timeout(db->handle, (int)cfg->busy_timeout) != SQLITE_OK)
		return -1;
	if (db_exec(db, "PRAGMA journal_mode = WAL") == -1 ||
	    db_exec(db, "PRAGMA foreign_keys = ON") == -1)
		return -1;
	return db_exec(db, cfg->sync_full ? "PRAGMA synchronous = FULL" :
	    "PRAGMA synchronous = NORMAL");
}

struct db *
db_open(const struct config *cfg, int flags, char *err, size_t errsz)
{
	struct db *db = NULL;
	int oflags = SQLITE_OPEN_READWRITE | SQLITE_OPEN_NOMUTEX;
	int pending = 0;

	if (flags & DB_CREATE)
		oflags |= SQLITE_OPEN_CREATE;
	if ((db = calloc(1, sizeof(*db))) == NULL) {
		snprintf(err, errsz, "database %s: out of memory", cfg->db_path);
		return NULL;
	}
	if (sqlite3_open_v2(cfg->db_path, &db->handle, oflags, NULL) != SQLITE_OK) {
		snprintf(err, errsz, "database %s: %s%s", cfg->db_path,
		    db->handle != NULL ? sqlite3_errmsg(db->handle) : "cannot open",
		    (flags & DB_CREATE) ? "" : " (create it with: chatctl migrate)");
		goto fail;
	}
	sqlite3_extended_result_codes(db->handle, 1);
	if (apply_pragmas(db, cfg) == -1) {
		snprintf(err, errsz, "database %s: %s", cfg->db_path,
		    sqlite3_errmsg(db->handle));
		goto fail;
	}
	if (!(flags & DB_ANY_SCHEMA)) {
		if (migrate_pending(db, cfg->sql_dir, &pending, err, errsz) == -1)
			goto fail;
		if (pending > 0) {
			snprintf(err, errsz, "database %s: schema is behind: %d "
			    "migration%s in %s not applied (run: chatctl migrate)",
			    cfg->db_path, pending, pending == 1 ? "" : "s",
			    cfg->sql_dir);
			goto fail;
		}
	}
	return db;
fail:
	db_close(db);
	return NULL;
}

void
db_close(struct db *db)
{
	size_t i;

	if (db == NULL)
		return;
	for (i = 0; i < db->nstmts; i++)
		sqlite3_finalize(db->stmts[i].stmt);
	sqlite3_close(db->handle);
	free(db);
}

sqlite3 *
db_handle(struct db *db)
{
	return db->handle;
}

const char *
db_errmsg(struct db *db)
{
	return sqlite3_errmsg(db->handle);
}

sqlite3_stmt *
db_stmt(struct db *db, const char *sql)
{
	sqlite3_stmt *stmt = NULL;
	size_t i;

	for (i = 0; i < db->nstmts; i++)
		if (db->stmts[i].sql == sql) {
			sqlite3_reset(db->stmts[i].stmt);
			sqlite3_clear_bindings(db->stmts[i].stmt);
			return db->stmts[i].stmt;
		}
	if (db->nstmts == DB_MAX_STMTS)
		return NULL;
	if (sqlite3_prepare_v3(db->handle, sql, -1, SQLITE_PREPARE_PERSISTENT,
	    &stmt, NULL) != SQLITE_OK)
		return NULL;
	db->stmts[db->nstmts].sql = sql;
	db->stmts[db->nstmts].stmt = stmt;
	db->nstmts++;
	return stmt;
}

void
db_done(sqlite3_stmt *stmt)
{
	if (stmt != NULL)
		sqlite3_reset(stmt);
}

void
db_column_copy(sqlite3_stmt *stmt, int col, char *dst, size_t dstsz)
{
	const unsigned char *v = sqlite3_column_text(stmt, col);

	snprintf(dst, dstsz, "%s", v != NULL ? (const char *)v : "");
}

int
db_exec(struct db *db, const char *sql)
{
	return sqlite3_exec(db->handle, sql, NULL, NULL, NULL) == SQLITE_OK ?
	    0 : -1;
}

int
db_begin(struct db *db)
{
	return db_exec(db, "BEGIN IMMEDIATE");
}

int
db_commit(struct db *db)
{
	if (db_exec(db, "COMMIT") == 0)
		return 0;
	db_rollback(db);
	return -1;
}

void
db_rollback(struct db *db)
{
	if (!sqlite3_get_autocommit(db->handle))
		sqlite3_exec(db->handle, "ROLLBACK", NULL, NULL, NULL);
}
