#ifndef CHAT_BACKUP_H
#define CHAT_BACKUP_H

#include <stddef.h>

struct db;

/*
 * Backups of the live database with SQLite's online backup API: a copy is
 * one consistent snapshot (every message acked before it began is in it),
 * taken while the server goes on reading and writing.
 */

/*
 * Copy the database of db into a new file at path, which must not exist;
 * the file appears only once complete and checked. *pages (output) is its
 * size in pages. Returns 0, or -1 with a one-line reason in err (caller's
 * buffer); nothing is left at path then.
 */
int backup_save(struct db *db, const char *path, int *pages, char *err,
    size_t errsz);

/*
 * Replace the whole content of db with the backup at path, in one write
 * transaction that other connections see at once and whole. The backup is
 * checked first (a sound SQLite file of this program, no newer than the
 * migrations of sql_dir); it is only read. Returns 0, or -1 with a reason
 * in err, and db as it was.
 */
int backup_restore(struct db *db, const char *path, const char *sql_dir,
    char *err, size_t errsz);

#endif
