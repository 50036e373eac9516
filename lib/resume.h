#ifndef CHAT_RESUME_H
#define CHAT_RESUME_H

#include <stddef.h>
#include <stdint.h>

struct db;

/*
 * Resume codes: the links back to a conversation that are mailed to a
 * visitor who left (CHAT_PUBLIC_URL + "/#resume=" + code). A code is a
 * random token as lib/token.h makes them (43 characters); only its
 * BLAKE2b-256 hash is stored, with the customer it signs in as and the
 * session it leads to. A code may be used any number of times until it
 * expires: a mail scanner that opens the link must not spend it.
 * sodium_init() must have been called.
 */
#define RESUME_CODE_LEN 43

/*
 * Store a new code for the customer and session (0: none), valid for
 * ttl_ms from now_ms (both ms). Expired codes of any customer are deleted
 * on the way. Two statements: call it inside the caller's transaction.
 * On 0, out (caller's buffer, >= RESUME_CODE_LEN + 1) holds the code.
 * Returns -1 on a database error (db_errmsg()); nothing is stored then,
 * once the caller rolls back.
 */
int resume_code_create(struct db *db, int64_t customer_id, int64_t session_id,
    int64_t now_ms, int64_t ttl_ms, char *out, size_t outsz);

/*
 * Look code up at now_ms. Returns 1 for a code that is valid then, with
 * *customer_id and *session_id (outputs; 0 for none) set; 0 for a code
 * that is malformed, unknown or expired; -1 on a database error.
 */
int resume_code_check(struct db *db, const char *code, int64_t now_ms,
    int64_t *customer_id, int64_t *session_id);

#endif
