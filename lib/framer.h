#ifndef CHAT_FRAMER_H
#define CHAT_FRAMER_H

#include <stddef.h>

#include <jansson.h>

/*
 * The client's frames, out of what websocketd writes to a handler's
 * standard input. websocketd writes a text frame followed by a newline and
 * a binary frame as it is, with nothing after it; a text frame may hold
 * newlines of its own (pretty-printed JSON). So lines are not frames: a
 * frame is one JSON value followed by white space up to a newline, found
 * by parsing. Whatever is not (a binary frame, bad JSON) is skipped as one
 * bad frame, and the frames after it are found again.
 */
struct framer {
	char *buf;
	size_t len, max;
	int skip_line;		/* discard up to the next newline */
	int resync;		/* after bad JSON: drop the rest of its frame */
};

enum framer_status {
	FRAMER_FRAME,	/* one frame: *frame is its value (new reference) */
	FRAMER_BAD,	/* a bad frame was skipped: *why says what it was */
	FRAMER_MORE	/* no whole frame yet: add what comes next */
};

/* Start f with room for frames of up to max bytes. Returns 0 or -1. */
int framer_init(struct framer *f, size_t max);

/* Free what f holds. */
void framer_free(struct framer *f);

/* Where the next bytes go, and how many fit (*room, output; 0 when full). */
char *framer_space(struct framer *f, size_t *room);

/* n bytes were written at framer_space(). */
void framer_added(struct framer *f, size_t n);

/*
 * The next frame of what was added. On FRAMER_FRAME *frame is new; on
 * FRAMER_BAD *why is a static description for the client's error frame.
 * Call it until it returns FRAMER_MORE.
 */
enum framer_status framer_next(struct framer *f, json_t **frame,
    const char **why);

#endif
