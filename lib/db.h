#ifndef CHAT_DB_H
#define CHAT_DB_H

#include <stddef.h>

#include <sqlite3.h>

#include "config.h"

/*
 * The one SQLite database. A struct db is one connection with its
 * statements prepared once and kept for the life of the connection.
 * Not thread-safe: one connection per process (or per thread).
 */
struct db;

enum db_open_flags {
	DB_CREATE = 1 << 0,	/* create the file if it is missing */
	DB_ANY_SCHEMA = 1 << 1,	/* skip the check that every migration is applied */
	DB_SMALL = 1 << 2	/* one of thousands of processes: spare memory
				   (must be the process's first SQLite call;
				   call db_release() when idle) */
};

/*
 * Open cfg->db_path with WAL, foreign keys, the busy timeout and the
 * synchronous level of cfg. Unless DB_ANY_SCHEMA, refuse a database that
 * has migrations in cfg->sql_dir not yet applied.
 * Returns a connection the caller frees with db_close(), or NULL with a
 * one-line reason in err (caller's buffer).
 */
struct db *db_open(const struct config *cfg, int flags, char *err,
    size_t errsz);

/* Close the connection and finalize its statements. db_close(NULL) is a no-op. */
void db_close(struct db *db);

/*
 * The SQLite handle, borrowed until db_sleep() or db_close(); opened again
 * after db_sleep() (NULL if that failed).
 */
sqlite3 *db_handle(struct db *db);

/* The last SQLite error message on db, borrowed until the next call on db. */
const char *db_errmsg(struct db *db);

/*
 * The statement for sql, prepared on first use and cached by the address of
 * sql, so sql must be a string with static storage (a module's statement
 * table). The statement comes reset with no bindings; the caller binds,
 * steps and then calls db_done(). Returns NULL on a prepare error.
 */
sqlite3_stmt *db_stmt(struct db *db, const char *sql);

/*
 * Reset stmt so it holds no read snapshot or lock. Call it when done with a
 * statement from db_stmt(), on every path. db_done(NULL) is a no-op.
 */
void db_done(sqlite3_stmt *stmt);

/*
 * Copy the text of column col of the current row of stmt into dst (caller's
 * buffer, dstsz bytes), truncated to fit; "" for NULL.
 */
void db_column_copy(sqlite3_stmt *stmt, int col, char *dst, size_t dstsz);

/*
 * Run sql, bound with nothing, to completion: for DDL and pragmas.
 * Returns 0, or -1 (see db_errmsg()).
 */
int db_exec(struct db *db, const char *sql);

/* BEGIN IMMEDIATE, COMMIT and ROLLBACK. Return 0 or -1; rollback never fails visibly. */
int db_begin(struct db *db);
int db_commit(struct db *db);
void db_rollback(struct db *db);

/*
 * A read transaction: every statement until db_end_read sees one snapshot.
 * db_begin_read returns 0 or -1; db_end_read never fails visibly.
 */
int db_begin_read(struct db *db);
void db_end_read(struct db *db);

/* Hand back the memory of the page cache (between transactions, when idle). */
void db_release(struct db *db);

/*
 * Close the SQLite connection of an idle process, keeping db: the next
 * call that needs it opens it again (about 0.3 ms: the schema is read
 * anew), and fails as a database error if it cannot. Returns 0, or -1
 * inside a transaction (nothing is closed).
 */
int db_sleep(struct db *db);

#endif
