#include <dirent.h>
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "clock.h"
#include "db.h"
#include "migrate.h"

/* A migration file is read whole; none is near this size. */
#define MIGRATION_MAX_BYTES (16L * 1024 * 1024)

struct migration {
	long version;
	char name[256];
};

struct migration_list {
	struct migration *items;
	size_t n;
};

enum stmt {
	STMT_CREATE_TABLE,
	STMT_IS_APPLIED,
	STMT_RECORD,
	STMT__MAX
};

static const char *const stmts[STMT__MAX] = {
	[STMT_CREATE_TABLE] =
	    "CREATE TABLE IF NOT EXISTS schema_migrations ("
	    " version INTEGER PRIMARY KEY,"
	    " name TEXT NOT NULL,"
	    " applied_at TEXT NOT NULL)",
	[STMT_IS_APPLIED] =
	    "SELECT 1 FROM schema_migrations WHERE version = ?",
	[STMT_RECORD] =
	    "INSERT INTO schema_migrations (version, name, applied_at)"
	    " VALUES (?, ?, ?)",
};

static int
by_version(const void *a, const void *b)
{
	const struct migration *ma = a, *mb = b;

	return (ma->version > mb->version) - (ma->version < mb->version);
}

static int
ends_with(const char *s, const char *suffix)
{
	size_t ls = strlen(s), lx = strlen(suffix);

	return ls >= lx && strcmp(s + ls - lx, suffix) == 0;
}

/*
 * Parse "NNN_name.sql" into *version. Returns 1 for a migration, 0 for a
 * file that is no migration, -1 for a .sql file that is misnamed.
 */
static int
parse_name(const char *name, long *version)
{
	char *end;

	if (!ends_with(name, ".sql"))
		return 0;
	if (name[0] < '0' || name[0] > '9')
		return -1;
	errno = 0;
	*version = strtol(name, &end, 10);
	if (errno != 0 || *end != '_' || *version <= 0 ||
	    strlen(name) >= sizeof(((struct migration *)0)->name))
		return -1;
	return 1;
}

static int
list_add(struct migration_list *list, long version, const char *name)
{
	struct migration *grown;

	if ((grown = realloc(list->items, (list->n + 1) * sizeof(*grown))) ==
	    NULL)
		return -1;
	list->items = grown;
	grown[list->n].version = version;
	snprintf(grown[list->n].name, sizeof(grown[list->n].name), "%s", name);
	list->n++;
	return 0;
}

/* Read dir into list, sorted by number. Returns 0, or -1 with err. */
static int
list_load(const char *dir, struct migration_list *list, char *err,
    size_t errsz)
{
	DIR *d = NULL;
	struct dirent *ent;
	long version;
	size_t i;
	int rc = -1, kind;

	list->items = NULL;
	list->n = 0;
	if ((d = opendir(dir)) == NULL) {
		snprintf(err, errsz, "migrations %s: %s", dir, strerror(errno));
		goto out;
	}
	while ((ent = readdir(d)) != NULL) {
		if ((kind = parse_name(ent->d_name, &version)) == 0)
			continue;
		if (kind == -1) {
			snprintf(err, errsz, "migrations %s: %s: a migration's "
			    "name is a number, '_' and a name ending in .sql "
			    "(001_init.sql)", dir, ent->d_name);
			goto out;
		}
		if (list_add(list, version, ent->d_name) == -1) {
			snprintf(err, errsz, "migrations %s: out of memory", dir);
			goto out;
		}
	}
	qsort(list->items, list->n, sizeof(*list->items), by_version);
	for (i = 1; i < list->n; i++)
		if (list->items[i].version == list->items[i - 1].version) {
			snprintf(err, errsz, "migrations %s: %s and %s have the "
			    "same number", dir, list->items[i - 1].name,
			    list->items[i].name);
			goto out;
		}
	rc = 0;
out:
	if (d != NULL)
		closedir(d);
	if (rc == -1) {
		free(list->items);
		list->items = NULL;
		list->n = 0;
	}
	return rc;
}

/* 1 if version is recorded, 0 if not, -1 on error. */
static int
is_applied(struct db *db, long version)
{
	sqlite3_stmt *s;
	int rc;

	if ((s = db_stmt(db, stmts[STMT_IS_APPLIED])) == NULL)
		return -1;
	sqlite3_bind_int64(s, 1, version);
	rc = sqlite3_step(s);
	db_done(s);
	return rc == SQLITE_ROW ? 1 : rc == SQLITE_DONE ? 0 : -1;
}

/* The table may be missing in a new database: then nothing is applied. */
static int
table_exists(struct db *db)
{
	sqlite3_stmt *s = NULL;
	int rc;

	if (sqlite3_prepare_v2(db_handle(db), "SELECT 1 FROM sqlite_master"
	    " WHERE type = 'table' AND name = 'schema_migrations'", -1, &s,
	    NULL) != SQLITE_OK)
		return -1;
	rc = sqlite3_step(s);
	sqlite3_finalize(s);
	return rc == SQLITE_ROW ? 1 : rc == SQLITE_DONE ? 0 : -1;
}

int
migrate_pending(struct db *db, const char *dir, int *pending, char *err,
    size_t errsz)
{
	struct migration_list list;
	size_t i;
	int rc = -1, exists, applied;

	*pending = 0;
	if (list_load(dir, &list, err, errsz) == -1)
		return -1;
	if ((exists = table_exists(db)) == -1)
		goto dberr;
	for (i = 0; i < list.n; i++) {
		applied = exists ? is_applied(db, list.items[i].version) : 0;
		if (applied == -1)
			goto dberr;
		*pending += !applied;
	}
	rc = 0;
	goto out;
dberr:
	snprintf(err, errsz, "migrations: %s", db_errmsg(db));
out:
	free(list.items);
	return rc;
}

int
migrate_latest(const char *dir, long *version, char *err, size_t errsz)
{
	struct migration_list list;

	*version = 0;
	if (list_load(dir, &list, err, errsz) == -1)
		return -1;
	if (list.n > 0)
		*version = list.items[list.n - 1].version;
	free(list.items);
	return 0;
}

/* Read path whole into a new NUL-terminated buffer the caller frees. */
static char *
read_file(const char *path, char *err, size_t errsz)
{
	FILE *f = NULL;
	char *buf = NULL;
	size_t n;

	if ((f = fopen(path, "r")) == NULL) {
		snprintf(err, errsz, "%s: %s", path, strerror(errno));
		return NULL;
	}
	if ((buf = malloc(MIGRATION_MAX_BYTES + 1)) == NULL) {
		snprintf(err, errsz, "%s: out of memory", path);
		goto out;
	}
	n = fread(buf, 1, MIGRATION_MAX_BYTES + 1, f);
	if (ferror(f) || n > MIGRATION_MAX_BYTES) {
		snprintf(err, errsz, "%s: %s", path, ferror(f) ?
		    strerror(errno) : "larger than 16 MiB");
		free(buf);
		buf = NULL;
		goto out;
	}
	buf[n] = '\0';
out:
	fclose(f);
	return buf;
}

static int
apply_one(struct db *db, const char *dir, const struct migration *m,
    char *err, size_t errsz)
{
	char path[4096], now[CLOCK_RFC3339_LEN + 1];
	char *sql = NULL, *sqlerr = NULL;
	sqlite3_stmt *s;
	int rc = -1;

	snprintf(path, sizeof(path), "%s/%s", dir, m->name);
	if ((sql = read_file(path, err, errsz)) == NULL)
		goto out;
	if (sqlite3_exec(db_handle(db), sql, NULL, NULL, &sqlerr) != SQLITE_OK) {
		snprintf(err, errsz, "%s: %s", path, sqlerr != NULL ? sqlerr :
		    db_errmsg(db));
		goto out;
	}
	if (sqlite3_get_autocommit(db_handle(db))) {
		snprintf(err, errsz, "%s: ends the transaction it runs in; "
		    "a migration must not contain BEGIN, COMMIT or ROLLBACK",
		    path);
		goto out;
	}
	if ((s = db_stmt(db, stmts[STMT_RECORD])) == NULL)
		goto dberr;
	sqlite3_bind_int64(s, 1, m->version);
	sqlite3_bind_text(s, 2, m->name, -1, SQLITE_STATIC);
	sqlite3_bind_text(s, 3, clock_format(clock_now_ms(), now, sizeof(now)),
	    -1, SQLITE_STATIC);
	rc = sqlite3_step(s) == SQLITE_DONE ? 0 : -1;
	db_done(s);
	if (rc == 0)
		goto out;
dberr:
	snprintf(err, errsz, "%s: recording it: %s", path, db_errmsg(db));
out:
	sqlite3_free(sqlerr);
	free(sql);
	return rc;
}

int
migrate_apply(struct db *db, const char *dir, int *applied, char *err,
    size_t errsz)
{
	struct migration_list list = { NULL, 0 };
	size_t i;
	int rc = -1, done;

	*applied = 0;
	if (list_load(dir, &list, err, errsz) == -1)
		return -1;
	if (db_begin(db) == -1 || db_exec(db, stmts[STMT_CREATE_TABLE]) == -1) {
		snprintf(err, errsz, "migrations: %s", db_errmsg(db));
		goto out;
	}
	for (i = 0; i < list.n; i++) {
		if ((done = is_applied(db, list.items[i].version)) == -1) {
			snprintf(err, errsz, "migrations: %s", db_errmsg(db));
			goto out;
		}
		if (done)
			continue;
		if (apply_one(db, dir, &list.items[i], err, errsz) == -1)
			goto out;
		(*applied)++;
	}
	if (db_commit(db) == -1) {
		snprintf(err, errsz, "migrations: commit: %s", db_errmsg(db));
		goto out;
	}
	rc = 0;
out:
	if (rc == -1) {
		db_rollback(db);
		*applied = 0;
	}
	free(list.items);
	return rc;
}
