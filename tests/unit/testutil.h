/*
 * Shared by the unit tests: a temporary directory and a migrated database
 * in it. Included by each test file; everything here is static.
 */
#ifndef CHAT_TESTUTIL_H
#define CHAT_TESTUTIL_H

#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cmocka.h>
#include <sodium.h>

#include "../../lib/config.h"
#include "../../lib/db.h"
#include "../../lib/migrate.h"

struct fixture {
	char dir[256];
	char db_path[300];
	struct config cfg;
	struct db *db;
};

/* Make a temporary directory; path is the caller's buffer. */
static inline void
tu_tmpdir(char *path, size_t pathsz)
{
	snprintf(path, pathsz, "%s/chat-unit.XXXXXX",
	    getenv("TMPDIR") != NULL ? getenv("TMPDIR") : "/tmp");
	assert_non_null(mkdtemp(path));
}

static inline void
tu_rmdir(const char *path)
{
	char cmd[600];

	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", path);
	assert_int_equal(system(cmd), 0);
}

/* A new database migrated with the project's sql/, opened as the programs do. */
static inline int
tu_setup_db(void **state)
{
	struct fixture *f = calloc(1, sizeof(*f));
	char err[512];
	int applied;

	assert_non_null(f);
	assert_true(sodium_init() >= 0);
	tu_tmpdir(f->dir, sizeof(f->dir));
	snprintf(f->db_path, sizeof(f->db_path), "%s/chat.db", f->dir);
	setenv("CHAT_DB", f->db_path, 1);
	assert_int_equal(config_load(&f->cfg, err, sizeof(err)), 0);
	f->db = db_open(&f->cfg, DB_CREATE | DB_ANY_SCHEMA, err, sizeof(err));
	assert_non_null(f->db);
	assert_int_equal(migrate_apply(f->db, f->cfg.sql_dir, &applied, err,
	    sizeof(err)), 0);
	*state = f;
	return 0;
}

static inline int
tu_teardown_db(void **state)
{
	struct fixture *f = *state;

	db_close(f->db);
	tu_rmdir(f->dir);
	free(f);
	unsetenv("CHAT_DB");
	return 0;
}

/* Run sql on the fixture's database and return the first column of the first row as an integer. */
static inline int64_t
tu_query_int(struct db *db, const char *sql)
{
	sqlite3_stmt *s = NULL;
	int64_t v = -1;

	assert_int_equal(sqlite3_prepare_v2(db_handle(db), sql, -1, &s, NULL),
	    SQLITE_OK);
	if (sqlite3_step(s) == SQLITE_ROW)
		v = sqlite3_column_int64(s, 0);
	sqlite3_finalize(s);
	return v;
}

#endif
