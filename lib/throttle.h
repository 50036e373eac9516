#ifndef CHAT_THROTTLE_H
#define CHAT_THROTTLE_H

#include <stdint.h>

struct db;

/*
 * Sliding-window throttling kept in the database, so every FastCGI process
 * sees the same counts. An event (a failed login, a customer created) is
 * recorded under a bucket and a key (a username, a client address); at
 * most limit events may fall within any window of window_s seconds.
 */

/*
 * Whether one more event for (bucket, key) is allowed at now (ms).
 * *retry_after (output) is 0 when it is, else the whole seconds (>= 1)
 * until it will be. A limit of 0 means no limit.
 * Returns 0, or -1 on a database error.
 */
int throttle_check(struct db *db, const char *bucket, const char *key,
    long limit, long window_s, int64_t now, long *retry_after);

/*
 * Record one event for (bucket, key) at now (ms) and forget the events of
 * that key older than the window. Returns 0, or -1 on a database error.
 */
int throttle_record(struct db *db, const char *bucket, const char *key,
    long window_s, int64_t now);

/* Forget every event of (bucket, key). Returns 0, or -1 on a database error. */
int throttle_clear(struct db *db, const char *bucket, const char *key);

/*
 * In the caller's transaction: take up to want messages from the user's
 * token bucket, which refills at rate a second and holds burst_s seconds
 * of it (rate 0: no limit), shared by all of the user's connections.
 * *granted (output) is how many may go now. Returns 0 or -1.
 */
int throttle_take(struct db *db, const char *user_type, int64_t user_id,
    long rate, double burst_s, int want, int64_t now, int *granted);

#endif
