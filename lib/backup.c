#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <sqlite3.h>

#include "backup.h"
#include "db.h"
#include "migrate.h"

/* How long a copy waits for a lock held by others before it gives up. */
#define BACKUP_WAIT_MS 10000
#define BACKUP_NAP_MS 10

/*
 * Copy all of src's main database into dst's, as one step: one snapshot of
 * src, one write transaction on dst. Waits for locks others hold. Returns
 * SQLITE_OK or the error; *pages (output, may be NULL) is the page count.
 */
static int
copy_db(sqlite3 *dst, sqlite3 *src, int *pages)
{
	struct timespec nap = { 0, BACKUP_NAP_MS * 1000000L };
	sqlite3_backup *b = sqlite3_backup_init(dst, "main", src, "main");
	int rc, waited = 0;

	if (b == NULL)
		return sqlite3_errcode(dst);
	while ((rc = sqlite3_backup_step(b, -1)) == SQLITE_BUSY ||
	    rc == SQLITE_LOCKED) {
		if (waited >= BACKUP_WAIT_MS)
			break;
		nanosleep(&nap, NULL);
		waited += BACKUP_NAP_MS;
	}
	if (pages != NULL)
		*pages = sqlite3_backup_pagecount(b);
	if (sqlite3_backup_finish(b) != SQLITE_OK && rc == SQLITE_DONE)
		rc = sqlite3_errcode(dst);
	return rc == SQLITE_DONE ? SQLITE_OK : rc;
}

/* PRAGMA quick_check on h. Returns 0 when "ok", else -1 with its first complaint. */
static int
quick_check(sqlite3 *h, char *why, size_t whysz)
{
	sqlite3_stmt *s = NULL;
	const char *first;
	int rc = -1;

	if (sqlite3_prepare_v2(h, "PRAGMA quick_check", -1, &s, NULL) !=
	    SQLITE_OK) {
		snprintf(why, whysz, "%s", sqlite3_errmsg(h));
		return -1;
	}
	if (sqlite3_step(s) == SQLITE_ROW) {
		first = (const char *)sqlite3_column_text(s, 0);
		snprintf(why, whysz, "%s", first != NULL ? first : "no answer");
		rc = first != NULL && strcmp(first, "ok") == 0 ? 0 : -1;
	} else
		snprintf(why, whysz, "%s", sqlite3_errmsg(h));
	sqlite3_finalize(s);
	return rc;
}

int
backup_save(struct db *db, const char *path, int *pages, char *err,
    size_t errsz)
{
	char tmp[PATH_MAX], why[256];
	sqlite3 *dst = NULL;
	int fd, rc = -1, made = 0;

	*pages = 0;
	if (snprintf(tmp, sizeof(tmp), "%s.partial", path) >= (int)sizeof(tmp)) {
		snprintf(err, errsz, "backup %s: path too long", path);
		return -1;
	}
	if (access(path, F_OK) == 0) {
		snprintf(err, errsz, "backup %s: file exists; name a new one", path);
		return -1;
	}
	/* An empty file is an empty database; O_EXCL keeps two backups apart. */
	if ((fd = open(tmp, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0640)) == -1) {
		snprintf(err, errsz, "backup %s: %s", tmp, strerror(errno));
		return -1;
	}
	close(fd);
	made = 1;
	if (sqlite3_open_v2(tmp, &dst, SQLITE_OPEN_READWRITE, NULL) != SQLITE_OK) {
		snprintf(err, errsz, "backup %s: %s", tmp, dst != NULL ?
		    sqlite3_errmsg(dst) : "cannot open");
		goto out;
	}
	if (copy_db(dst, db_handle(db), pages) != SQLITE_OK) {
		snprintf(err, errsz, "backup %s: %s", path, sqlite3_errmsg(dst));
		goto out;
	}
	/* One self-contained file: no -wal beside it, whatever the source used. */
	if (sqlite3_exec(dst, "PRAGMA journal_mode = DELETE", NULL, NULL, NULL) !=
	    SQLITE_OK || quick_check(dst, why, sizeof(why)) == -1) {
		snprintf(err, errsz, "backup %s: the copy does not check out: %s",
		    path, sqlite3_errmsg(dst));
		goto out;
	}
	sqlite3_close(dst);
	dst = NULL;
	/* link() never replaces: a file made at path meanwhile is kept. */
	if (link(tmp, path) == -1) {
		snprintf(err, errsz, "backup %s: %s", path, strerror(errno));
		goto out;
	}
	rc = 0;
out:
	sqlite3_close(dst);
	if (made)
		unlink(tmp);
	return rc;
}

/* Check that h is a sound database of ours, no newer than sql_dir. */
static int
check_source(sqlite3 *h, const char *path, const char *sql_dir, char *err,
    size_t errsz)
{
	sqlite3_stmt *s = NULL;
	long latest, version = -1;
	char why[256];

	if (quick_check(h, why, sizeof(why)) == -1) {
		snprintf(err, errsz, "restore %s: not a sound SQLite database: %s",
		    path, why);
		return -1;
	}
	if (sqlite3_prepare_v2(h, "SELECT max(version) FROM schema_migrations",
	    -1, &s, NULL) == SQLITE_OK && sqlite3_step(s) == SQLITE_ROW)
		version = sqlite3_column_int64(s, 0);
	sqlite3_finalize(s);
	if (version < 1) {
		snprintf(err, errsz, "restore %s: not a chat database (it has no "
		    "migrations recorded)", path);
		return -1;
	}
	if (migrate_latest(sql_dir, &latest, err, errsz) == -1)
		return -1;
	if (version > latest) {
		snprintf(err, errsz, "restore %s: it has migration %ld, newer than "
		    "the newest here (%ld in %s): restore it with the release "
		    "that made it", path, version, latest, sql_dir);
		return -1;
	}
	return 0;
}

int
backup_restore(struct db *db, const char *path, const char *sql_dir,
    char *err, size_t errsz)
{
	const char *live = sqlite3_db_filename(db_handle(db), "main");
	char a[PATH_MAX], b[PATH_MAX];
	sqlite3 *src = NULL;
	int rc = -1;

	if (live != NULL && realpath(live, a) != NULL &&
	    realpath(path, b) != NULL && strcmp(a, b) == 0) {
		snprintf(err, errsz, "restore %s: that is the live database itself",
		    path);
		return -1;
	}
	if (access(path, R_OK) == -1) {
		snprintf(err, errsz, "restore %s: %s", path, strerror(errno));
		return -1;
	}
	if (sqlite3_open_v2(path, &src, SQLITE_OPEN_READONLY, NULL) != SQLITE_OK) {
		snprintf(err, errsz, "restore %s: %s", path, src != NULL ?
		    sqlite3_errmsg(src) : "cannot open");
		goto out;
	}
	if (check_source(src, path, sql_dir, err, errsz) == -1)
		goto out;
	if (copy_db(db_handle(db), src, NULL) != SQLITE_OK) {
		snprintf(err, errsz, "restore %s: %s; the database is as it was",
		    path, db_errmsg(db));
		goto out;
	}
	rc = 0;
out:
	sqlite3_close(src);
	return rc;
}
