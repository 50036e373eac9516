#ifndef CHAT_PASSWORD_H
#define CHAT_PASSWORD_H

#include <stddef.h>

#include <sodium.h>

/*
 * Agent passwords, hashed with argon2id (libsodium crypto_pwhash_str) at
 * libsodium's "interactive" cost. sodium_init() must have been called.
 */
#define PASSWORD_HASH_SIZE crypto_pwhash_STRBYTES
#define PASSWORD_MIN_LEN 8
#define PASSWORD_MAX_LEN 1024

/*
 * Hash password into out (caller's buffer, PASSWORD_HASH_SIZE bytes).
 * Returns 0, or -1 when out of memory.
 */
int password_hash(const char *password, char out[PASSWORD_HASH_SIZE]);

/*
 * Check password against hash. A NULL hash (an unknown or disabled user)
 * is checked against a built-in hash of the same cost, so it takes as long
 * as a wrong password and always fails.
 * Returns 0 on a match, -1 otherwise.
 */
int password_verify(const char *hash, const char *password);

/* 1 if hash was made with other parameters than password_hash() uses now, else 0. */
int password_needs_rehash(const char *hash);

/*
 * Check a new password's length (PASSWORD_MIN_LEN..PASSWORD_MAX_LEN bytes).
 * Returns NULL when acceptable, else a static message saying why not.
 */
const char *password_check_new(const char *password);

#endif
