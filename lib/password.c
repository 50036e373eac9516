#include <string.h>

#include "password.h"

#define OPSLIMIT crypto_pwhash_OPSLIMIT_INTERACTIVE
#define MEMLIMIT crypto_pwhash_MEMLIMIT_INTERACTIVE

/*
 * A hash of a random, forgotten password at the same cost as real ones:
 * checking against it takes as long as checking a real hash, so a login
 * for a username that does not exist cannot be told from a wrong password
 * by its timing.
 */
static const char dummy_hash[] =
    "$argon2id$v=19$m=65536,t=2,p=1$9OjTKN4e6cnvbSQuc+8fKQ"
    "$ll1r1Lhabswfg37aat+iEgm4uKQugl5IQdYHhlrhWh0";

int
password_hash(const char *password, char out[PASSWORD_HASH_SIZE])
{
	return crypto_pwhash_str(out, password, strlen(password), OPSLIMIT,
	    MEMLIMIT) == 0 ? 0 : -1;
}

int
password_verify(const char *hash, const char *password)
{
	int ok = crypto_pwhash_str_verify(hash != NULL ? hash : dummy_hash,
	    password, strlen(password)) == 0;

	return ok && hash != NULL ? 0 : -1;
}

int
password_needs_rehash(const char *hash)
{
	return crypto_pwhash_str_needs_rehash(hash, OPSLIMIT, MEMLIMIT) != 0;
}

const char *
password_check_new(const char *password)
{
	size_t len = strlen(password);

	if (len < PASSWORD_MIN_LEN)
		return "password must be at least 8 characters";
	if (len > PASSWORD_MAX_LEN)
		return "password must be at most 1024 bytes";
	return NULL;
}
