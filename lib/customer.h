#ifndef CHAT_CUSTOMER_H
#define CHAT_CUSTOMER_H

#include <stddef.h>
#include <stdint.h>

struct db;

#define CUSTOMER_NAME_MAX 100		/* characters */
#define CUSTOMER_CHANNEL_MAX 32
#define CUSTOMER_METADATA_MAX 4096	/* bytes of compact JSON */
#define EMAIL_MAX 254			/* bytes of an email address */

/* A customer as stored. */
struct customer {
	int64_t id;
	char name[CUSTOMER_NAME_MAX * 4 + 1];	/* UTF-8 */
	char channel[CUSTOMER_CHANNEL_MAX + 1];
	char metadata[CUSTOMER_METADATA_MAX + 1];	/* a JSON object */
	int64_t created_at;
	char email[EMAIL_MAX + 1];	/* "" when none */
	int64_t consent_at;	/* when they accepted the privacy text; 0: never */
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

/* Store the customer's email address (checked by the caller). */
enum customer_status customer_set_email(struct db *db, int64_t id,
    const char *email);

/* Record that the customer accepted the privacy text at now (ms). */
enum customer_status customer_set_consent(struct db *db, int64_t id,
    int64_t now);

#endif
