#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/time.h>
#include <time.h>
#include <unistd.h>

#include "db.h"
#include "migrate.h"

/* Enough for every statement of every module; db_stmt() fails past it. */
#define DB_MAX_STMTS 96

struct db_cached {
	const char *sql;
	sqlite3_stmt *stmt;
};

struct db {
	sqlite3 *handle;	/* NULL while asleep (db_sleep()) */
	char *path;
	int sync_full;		/* PRAGMA synchronous = FULL */
	char sleep_err[256];	/* why waking up failed */
	long busy_timeout;	/* ms a writer waits for the lock */
	int64_t busy_since;	/* when the current wait began */
	int queue_fd;		/* the writers' queue: DB-writers, flock()ed */
	int queued;		/* this connection holds it */
	size_t nstmts;
	struct db_cached stmts[DB_MAX_STMTS];
};

/*
 * Wait for a lock held by another process. SQLite's own busy timeout
 * sleeps in growing steps up to 100 ms, so a writer can sleep long after
 * the lock is free; short, slightly random naps keep the waits close to
 * the real hold times (a transaction here holds the lock well under a
 * millisecond). Returns 1 to try again, 0 to give up (SQLITE_BUSY).
 */
static int
busy_wait(void *arg, int count)
{
	struct db *db = arg;
	struct timespec now, nap;
	int64_t ms;

	clock_gettime(CLOCK_MONOTONIC, &now);
	ms = (int64_t)now.tv_sec * 1000 + now.tv_nsec / 1000000;
	if (count == 0)
		db->busy_since = ms;
	if (ms - db->busy_since >= db->busy_timeout)
		return 0;
	/* 100-300 us at first, up to 1.1 ms later; the clock's low digits jitter it. */
	nap.tv_sec = 0;
	nap.tv_nsec = (100 + now.tv_nsec / 1000 % (count < 20 ? 200 : 1000)) * 1000;
	nanosleep(&nap, NULL);
	return 1;
}


/*
 * The page cache has room for every page a transaction touches: a batch
 * of messages touches a few dozen, and a cache smaller than that writes
 * pages to the WAL more than once and reads them back. Between
 * transactions it is worth nothing when other processes write (SQLite
 * drops it when the WAL changed), so an idle process hands it back
 * (db_release()).
 */
static const char cache_size[] = "PRAGMA cache_size = -1024";
static const char sql_begin_read[] = "BEGIN";
static const char sql_begin_write[] = "BEGIN IMMEDIATE";
static const char sql_commit[] = "COMMIT";

/* Run a cached statement bound with nothing. Returns 0 or -1. */
static int
run_cached(struct db *db, const char *sql)
{
	sqlite3_stmt *s = db_stmt(db, sql);
	int rc;

	if (s == NULL)
		return -1;
	rc = sqlite3_step(s);
	db_done(s);
	return rc == SQLITE_DONE || rc == SQLITE_ROW ? 0 : -1;
}

/*
 * Open db->path with WAL, foreign keys, the busy handler, the synchronous
 * level and the cache size. Returns 0, or -1 with the reason in err and
 * no handle.
 */
static int
connect_db(struct db *db, int oflags, char *err, size_t errsz)
{
	sqlite3 *h = NULL;

	if (sqlite3_open_v2(db->path, &h, oflags, NULL) != SQLITE_OK) {
		snprintf(err, errsz, "database %s: %s%s", db->path,
		    h != NULL ? sqlite3_errmsg(h) : "cannot open",
		    (oflags & SQLITE_OPEN_CREATE) ? "" :
		    " (create it with: chatctl migrate)");
		sqlite3_close(h);
		return -1;
	}
	sqlite3_extended_result_codes(h, 1);
	if (sqlite3_busy_handler(h, busy_wait, db) != SQLITE_OK ||
	    sqlite3_exec(h, "PRAGMA journal_mode = WAL", NULL, NULL, NULL) !=
	    SQLITE_OK || sqlite3_exec(h, "PRAGMA foreign_keys = ON", NULL, NULL,
	    NULL) != SQLITE_OK || sqlite3_exec(h, db->sync_full ?
	    "PRAGMA synchronous = FULL" : "PRAGMA synchronous = NORMAL", NULL,
	    NULL, NULL) != SQLITE_OK ||
	    sqlite3_exec(h, cache_size, NULL, NULL, NULL) != SQLITE_OK) {
		snprintf(err, errsz, "database %s: %s", db->path,
		    sqlite3_errmsg(h));
		sqlite3_close(h);
		return -1;
	}
	db->handle = h;
	return 0;
}

/* Open again after db_sleep(). Returns 0 or -1 (reason: db_errmsg()). */
static int
awake(struct db *db)
{
	if (db->handle != NULL)
		return 0;
	return connect_db(db, SQLITE_OPEN_READWRITE | SQLITE_OPEN_NOMUTEX,
	    db->sleep_err, sizeof(db->sleep_err));
}

struct db *
db_open(const struct config *cfg, int flags, char *err, size_t errsz)
{
	/*
	 * By default each connection writes about 120 KB of lookaside when it
	 * opens, and its page cache allocates 20 pages (85 KB) at its first
	 * read and keeps them. A WebSocket handler needs neither: with a few
	 * lookaside slots and no bulk allocation, thousands of handlers fit in
	 * a few hundred MB. Such a process has one thread: SQLite's mutexes
	 * and its memory statistics (a mutex round per allocation) are pure
	 * cost there. All of it can be set only before SQLite starts, so this
	 * open must be the process's first SQLite call.
	 */
	if ((flags & DB_SMALL) && (sqlite3_config(SQLITE_CONFIG_SINGLETHREAD) !=
	    SQLITE_OK || sqlite3_config(SQLITE_CONFIG_MEMSTATUS, 0) != SQLITE_OK ||
	    sqlite3_config(SQLITE_CONFIG_LOOKASIDE, 128, 16) != SQLITE_OK ||
	    sqlite3_config(SQLITE_CONFIG_PAGECACHE, NULL, 0, 0) != SQLITE_OK)) {
		snprintf(err, errsz, "database %s: SQLite was started before "
		    "it could be made small", cfg->db_path);
		return NULL;
	}
	struct db *db = NULL;
	int oflags = SQLITE_OPEN_READWRITE | SQLITE_OPEN_NOMUTEX;
	int pending = 0;
	char path[4096];

	if (flags & DB_CREATE)
		oflags |= SQLITE_OPEN_CREATE;
	if ((db = calloc(1, sizeof(*db))) == NULL) {
		snprintf(err, errsz, "database %s: out of memory", cfg->db_path);
		return NULL;
	}
	db->queue_fd = -1;
	db->busy_timeout = cfg->busy_timeout;
	db->sync_full = cfg->sync_full;
	if ((db->path = strdup(cfg->db_path)) == NULL) {
		snprintf(err, errsz, "database %s: out of memory", cfg->db_path);
		goto fail;
	}
	if (connect_db(db, oflags, err, errsz) == -1)
		goto fail;
	snprintf(path, sizeof(path), "%s-writers", cfg->db_path);
	db->queue_fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0660);
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
	if (db->queue_fd != -1)
		close(db->queue_fd);
	free(db->path);
	free(db);
}

int
db_sleep(struct db *db)
{
	size_t i;

	if (db->handle == NULL)
		return 0;
	if (!sqlite3_get_autocommit(db->handle))
		return -1;
	for (i = 0; i < db->nstmts; i++)
		sqlite3_finalize(db->stmts[i].stmt);
	db->nstmts = 0;
	if (sqlite3_close(db->handle) != SQLITE_OK)
		return -1;	/* not expected: every statement is finalized */
	db->handle = NULL;
	db->sleep_err[0] = '\0';
	return 0;
}

sqlite3 *
db_handle(struct db *db)
{
	(void)awake(db);
	return db->handle;
}

const char *
db_errmsg(struct db *db)
{
	if (db->handle == NULL)
		return db->sleep_err[0] != '\0' ? db->sleep_err :
		    "the database connection is closed";
	return sqlite3_errmsg(db->handle);
}

sqlite3_stmt *
db_stmt(struct db *db, const char *sql)
{
	sqlite3_stmt *stmt = NULL;
	size_t i;

	if (awake(db) == -1)
		return NULL;
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
	if (awake(db) == -1)
		return -1;
	return sqlite3_exec(db->handle, sql, NULL, NULL, NULL) == SQLITE_OK ?
	    0 : -1;
}

static void
on_alarm(int sig)
{
	(void)sig;	/* only interrupts a wait in flock() */
}

/*
 * Wait in line for the write lock. SQLite's writers poll for its lock;
 * with dozens of processes writing at once that polling costs more CPU
 * than the writes. Writers of this program wait instead in flock() on a
 * file beside the database, where the kernel wakes them one at a time;
 * an alarm ends a wait longer than the busy timeout. Other writers
 * (sqlite3 by hand, say) still meet SQLite's own lock and the busy
 * handler. Returns 0 or -1 (no line: the transaction just polls).
 */
static int
queue_enter(struct db *db)
{
	struct itimerval t = { { 0, 0 }, { 0, 0 } };
	struct sigaction sa, old;
	int rc;

	if (db->queue_fd == -1)
		return -1;
	if (flock(db->queue_fd, LOCK_EX | LOCK_NB) == 0) {
		db->queued = 1;
		return 0;
	}
	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = on_alarm;	/* no SA_RESTART: flock() returns EINTR */
	sigaction(SIGALRM, &sa, &old);
	t.it_value.tv_sec = db->busy_timeout / 1000;
	t.it_value.tv_usec = db->busy_timeout % 1000 * 1000;
	setitimer(ITIMER_REAL, &t, NULL);
	rc = flock(db->queue_fd, LOCK_EX);
	memset(&t, 0, sizeof(t));
	setitimer(ITIMER_REAL, &t, NULL);
	sigaction(SIGALRM, &old, NULL);
	if (rc == 0)
		db->queued = 1;
	return rc == 0 ? 0 : -1;
}

static void
queue_leave(struct db *db)
{
	if (db->queued) {
		flock(db->queue_fd, LOCK_UN);
		db->queued = 0;
	}
}

int
db_begin(struct db *db)
{
	queue_enter(db);
	if (run_cached(db, sql_begin_write) == 0)
		return 0;
	queue_leave(db);
	return -1;
}

int
db_commit(struct db *db)
{
	if (run_cached(db, sql_commit) == 0) {
		queue_leave(db);
		return 0;
	}
	db_rollback(db);
	return -1;
}

void
db_rollback(struct db *db)
{
	if (db->handle != NULL && !sqlite3_get_autocommit(db->handle))
		sqlite3_exec(db->handle, "ROLLBACK", NULL, NULL, NULL);
	queue_leave(db);
}

int
db_begin_read(struct db *db)
{
	return run_cached(db, sql_begin_read);
}

void
db_end_read(struct db *db)
{
	if (db->handle != NULL && !sqlite3_get_autocommit(db->handle))
		run_cached(db, sql_commit);
}

void
db_release(struct db *db)
{
	if (db->handle != NULL)
		sqlite3_db_release_memory(db->handle);
}
