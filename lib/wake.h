#ifndef CHAT_WAKE_H
#define CHAT_WAKE_H

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

/*
 * Wake-ups between processes on one machine. Each WebSocket connection's
 * handler listens on an abstract Unix datagram socket named after the
 * database's instance and a random name, and sleeps in poll() on it;
 * whoever commits something for that connection sends it one datagram.
 * Abstract sockets vanish with their process, even after kill -9, so a send
 * to a dead connection fails at once with "gone".
 *
 * A datagram is one kind byte, then an optional payload.
 */
enum wake_kind {
	WAKE_DELIVER = 'D',	/* new deliveries: read them from the database */
	WAKE_PUSH = 'M',	/* payload: new deliveries themselves (lib/push) */
	WAKE_RECHECK = 'R',	/* check your token again (logout, disable) */
	WAKE_TYPING = 'T',	/* payload: a typing frame to pass on as it is */
	WAKE_PROBE = 'P',	/* nothing: only asks whether you are alive */
	WAKE_END = 'E'		/* end the connection: the database was replaced */
};

#define WAKE_MAX 8192	/* largest datagram, kind byte included */

enum wake_status {
	WAKE_SENT = 0,
	WAKE_GONE,	/* no such listener: its connection is dead */
	/*
	 * Not sent now: the listener has a full queue (it is busy: see
	 * net.unix.max_dgram_qlen), or the sender's buffer is full. The
	 * queue is not sure to hold anything that stands for this one.
	 */
	WAKE_FULL,
	WAKE_ERROR
};

#define WAKE_NAME_LEN 24	/* a listener's random name, in characters */

/*
 * Listen under a new random name of instance, written into name (caller's
 * buffer, >= WAKE_NAME_LEN + 1). Returns a non-blocking, close-on-exec
 * descriptor the caller closes, or -1 (errno set).
 */
int wake_listen(const char *instance, char *name, size_t namesz);

/*
 * Send kind and payload (len bytes, len < WAKE_MAX) to the listener name
 * of instance through fd, a socket from wake_sender(), without blocking.
 */
enum wake_status wake_send(int fd, const char *instance, const char *name,
    char kind, const char *payload, size_t len);

/* A socket to send from (non-blocking, close-on-exec), or -1. The caller closes it. */
int wake_sender(void);

/*
 * Read one pending datagram into buf (bufsz >= WAKE_MAX). Returns its
 * length, 0 when none is pending, -1 on error.
 */
ssize_t wake_recv(int fd, char *buf, size_t bufsz);

#endif
