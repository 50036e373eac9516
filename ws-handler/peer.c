#include <arpa/inet.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "peer.h"

/* "st" in /proc/net/tcp */
#define TCP_ESTABLISHED_STATE 1
#define TCP_CLOSE_WAIT_STATE 8

/*
 * The state of the socket of table (/proc/net/tcp or tcp6) whose remote
 * end is rem (as the table writes it: hex address ':' hex port), 0 when
 * there is none, or -1 when the table cannot be read.
 */
static int
state_of(const char *table, const char *rem)
{
	char line[512], local[64], remote[64];
	unsigned state;
	int found = 0;
	FILE *f = fopen(table, "r");

	if (f == NULL)
		return -1;
	while (found == 0 && fgets(line, sizeof(line), f) != NULL)
		if (sscanf(line, " %*s %63s %63s %x", local, remote, &state) == 3 &&
		    strcmp(remote, rem) == 0)
			found = (int)state;
	fclose(f);
	return found;
}

/* What the table's state of the connection says. */
static enum peer_state
from_state(int state)
{
	if (state == -1)
		return PEER_UNKNOWN;
	if (state == 0)
		return PEER_RESET;
	if (state == TCP_ESTABLISHED_STATE)
		return PEER_OPEN;
	return state == TCP_CLOSE_WAIT_STATE ? PEER_CLOSED : PEER_RESET;
}

enum peer_state
peer_state(void)
{
	const char *addr = getenv("REMOTE_ADDR"), *port = getenv("REMOTE_PORT");
	unsigned char a6[16];
	uint32_t a4, w[4];
	char rem[64];
	long p;

	if (addr == NULL || port == NULL || (p = strtol(port, NULL, 10)) <= 0 ||
	    p > 65535)
		return PEER_UNKNOWN;
	/* The kernel writes each 32-bit word of the address as it is in memory. */
	if (inet_pton(AF_INET, addr, &a4) == 1) {
		snprintf(rem, sizeof(rem), "%08X:%04lX", a4, p);
		return from_state(state_of("/proc/net/tcp", rem));
	}
	if (inet_pton(AF_INET6, addr, a6) != 1)
		return PEER_UNKNOWN;
	memcpy(w, a6, sizeof(w));
	snprintf(rem, sizeof(rem), "%08X%08X%08X%08X:%04lX", w[0], w[1], w[2],
	    w[3], p);
	return from_state(state_of("/proc/net/tcp6", rem));
}
