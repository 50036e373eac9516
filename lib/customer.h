#ifndef CHAT_CUSTOMER_H
#define CHAT_CUSTOMER_H

#include <stddef.h>
#include <stdint.h>

struct db;

#define CUSTOMER_NAME_MAX 100		/* characters */
#define CUSTOMER_CHANNEL_MAX 32
#define CUSTOMER_METADATA_MAX 4096	/* bytes of compact JSON */

/* A customer as stored. */
struct customer {
	int64_t id;
	char name[CUSTOMER_NAME_MAX * 4 + 1];	/* UTF-8 */
	char channel[CUSTOMER_CHANNEL_MAX + 1];
	char metadata[CUSTOMER_METADATA_MAX + 1];	/* a JSON object */
	int64_t created_at;
};

enum customer_status {
	CUSTOMER_OK = 0,
	CUSTOMER_NOT_FOUND,
	CUSTOMER_ERROR	/* a database error */
};

/*
 * Whether channel is a channel name: 1..32 of A-Z 0-9 _.
 * Returns 1 if it is, 0 if not.
 */
int customer_channel_valid(const char *channel);

/*
 * Store a new customer; metadata is the compact JSON text of an object.
 * *id (output) is its id.
 */
enum customer_status customer_create(struct db *db, const char *name,
    const char *channel, const char *metadata, int64_t now, int64_t *id);

/* Load the customer with this id into *out. */
enum customer_status customer_get(struct db *db, int64_t id,
    struct customer *out);

#endif
