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
 * expires: a mail scanner that opens the link must not spend it. Hand-off
 * codes (a site's link into the chat, /#handoff=CODE) live beside them
 * and are spent by their one use.
 * sodium_init() must have been called.
 */
#define RESUME_CODE_LEN 43
/* How long a hand-off code works (ms): the page it is handed to opens at once. */
#define HANDOFF_TTL_MS 60000

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
 * Store a new hand-off code for the customer, valid for ttl_ms from now_ms
 * and usable once (resume_code_take() spends it). As resume_code_create().
 */
int resume_handoff_create(struct db *db, int64_t customer_id, int64_t now_ms,
    int64_t ttl_ms, char *out, size_t outsz);

/*
 * Look code up at now_ms, and spend it if it is a hand-off code. Returns
 * 1 for a code that is valid then, with *customer_id, *session_id (0 for
 * none) and *handoff (1 for a hand-off code, spent now) set; 0 for a code
 * that is malformed, unknown, expired or spent; -1 on a database error.
 * Two statements: call it inside the caller's transaction.
 */
int resume_code_take(struct db *db, const char *code, int64_t now_ms,
    int64_t *customer_id, int64_t *session_id, int *handoff);

#endif
