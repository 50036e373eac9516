#ifndef CHAT_PEER_H
#define CHAT_PEER_H

/*
 * How the connection ended, seen from websocketd's TCP socket to the web
 * server (or to the client), which websocketd closes only after the
 * handler exits. websocketd ends a handler's input alike for a close
 * frame, a broken connection and a web server that died. A peer that
 * closed its socket in order (FIN) had read everything websocketd sent
 * it; one reset (RST) had not: a web server killed, or closed, with our
 * frames still unread.
 */
enum peer_state {
	PEER_OPEN,	/* established: the end came by a close frame */
	PEER_CLOSED,	/* the peer closed in order */
	PEER_RESET,	/* the socket is gone: the peer reset it */
	PEER_UNKNOWN	/* no REMOTE_ADDR and REMOTE_PORT, or no /proc */
};

/* The state of websocketd's connection to REMOTE_ADDR:REMOTE_PORT. */
enum peer_state peer_state(void);

#endif
