#ifndef CHAT_MIGRATE_H
#define CHAT_MIGRATE_H

#include <stddef.h>

struct db;

/*
 * Migrations are the files NNN_name.sql of a directory (NNN: one or more
 * digits), applied in ascending number, each recorded in the table
 * schema_migrations. Other files are ignored; a .sql file without a number,
 * or two files with the same number, is an error.
 */

/*
 * Apply every migration of dir not yet recorded in db, in number order,
 * all in one transaction: on any failure nothing is applied and the
 * database is as it was. *applied (output) is the number applied.
 * Returns 0, or -1 with a one-line reason in err (caller's buffer).
 */
int migrate_apply(struct db *db, const char *dir, int *applied, char *err,
    size_t errsz);

/*
 * Count the migrations of dir not yet recorded in db into *pending.
 * Returns 0, or -1 with a one-line reason in err.
 */
int migrate_pending(struct db *db, const char *dir, int *pending, char *err,
    size_t errsz);

/*
 * The highest migration number of dir into *version (0: none).
 * Returns 0, or -1 with a one-line reason in err.
 */
int migrate_latest(const char *dir, long *version, char *err, size_t errsz);

#endif
