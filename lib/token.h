#ifndef CHAT_TOKEN_H
#define CHAT_TOKEN_H

#include <stddef.h>
#include <stdint.h>

struct db;

/*
 * Bearer tokens: 256 bits from libsodium's CSPRNG, written as URL-safe
 * base64 without padding (43 characters). Only a BLAKE2b-256 hash of each
 * is stored. sodium_init() must have been called.
 */
#define TOKEN_LEN 43
#define TOKEN_HASH_LEN 32

enum principal {
	PRINCIPAL_CUSTOMER,
	PRINCIPAL_AGENT
};

enum token_kind {
	TOKEN_ACCESS,	/* the bearer token of REST calls and /ws/chat */
	TOKEN_REFRESH	/* a customer's, to get a new access token */
};

/* What a valid token stands for. */
struct token_info {
	int64_t token_id;
	enum principal principal;
	int64_t principal_id;
	int64_t expires_at;	/* ms since the epoch */
};

enum token_status {
	TOKEN_OK = 0,
	TOKEN_INVALID,	/* malformed, unknown, expired, revoked, or its agent disabled */
	TOKEN_ERROR	/* a database error */
};

/* Write a new random token into out (caller's buffer, >= TOKEN_LEN + 1). */
void token_generate(char *out, size_t outsz);

/* Hash token into out (TOKEN_HASH_LEN bytes, caller's buffer). */
void token_hash(const char *token, unsigned char out[TOKEN_HASH_LEN]);

/*
 * Issue a new token of kind for the principal, valid for ttl seconds from
 * now (ms), and store only its hash. Expired tokens of the same principal
 * are deleted on the way. On 0, out holds the token (caller's buffer,
 * >= TOKEN_LEN + 1) and *expires_at (output) its expiry in ms.
 * Returns -1 on a database error; nothing is stored then.
 */
int token_issue(struct db *db, enum principal who, int64_t id,
    enum token_kind kind, int64_t now, long ttl, char *out, size_t outsz,
    int64_t *expires_at);

/*
 * Check token as a token of kind at time now (ms). On TOKEN_OK, *info
 * (output) says whose it is.
 */
enum token_status token_verify(struct db *db, const char *token,
    enum token_kind kind, int64_t now, struct token_info *info);

/* Move the expiry of the stored token token_id to expires_at (ms). Returns 0 or -1. */
int token_extend(struct db *db, int64_t token_id, int64_t expires_at);

/*
 * Revoke token at time now. Revoking an unknown or already revoked token
 * is no error. Returns 0 or -1 on a database error.
 */
int token_revoke(struct db *db, const char *token, int64_t now);

/* Revoke every token of the agent at time now. Returns 0 or -1. */
int token_revoke_agent(struct db *db, int64_t agent_id, int64_t now);

/* Revoke every token (access and refresh) of the customer at time now. Returns 0 or -1. */
int token_revoke_customer(struct db *db, int64_t customer_id, int64_t now);

#endif
