#ifndef CHAT_LETTER_H
#define CHAT_LETTER_H

#include <stdint.h>

/*
 * The body of a mail written twice, side by side: as plain text and as an
 * HTML document. Each call adds the same thing to both, escaped for HTML
 * (so any text may go in), line ends kept. Times are written in the local
 * time of a zone (an IANA name, as CHAT_TIMEZONE); like lib/hours this
 * sets the process's TZ.
 */
struct letter;

/*
 * A new letter whose HTML has title, writing times in zone. Returns one
 * the caller frees with letter_free(), or NULL without memory.
 */
struct letter *letter_new(const char *title, const char *zone);

/* Free l; letter_free(NULL) is a no-op. */
void letter_free(struct letter *l);

/* A paragraph. */
void letter_p(struct letter *l, const char *s);

/* "label: value" on a line of its own. */
void letter_field(struct letter *l, const char *label, const char *value);

/* The end of a group of fields. */
void letter_gap(struct letter *l);

/* A link to url, saying what it is for. */
void letter_link(struct letter *l, const char *what, const char *url);

/* Text someone wrote, set apart ("> " lines, a blockquote). */
void letter_quote(struct letter *l, const char *s);

/* A message of a conversation: who wrote it at at (ms), and its text. */
void letter_said(struct letter *l, const char *who, int64_t at,
    const char *text);

/* A system line of a conversation ("Alice joined the chat") at at (ms). */
void letter_event(struct letter *l, int64_t at, const char *text);

/*
 * Finish l: *text and *html (outputs) are its two parts, borrowed until
 * letter_free(l). Nothing may be added after. Returns 0, or -1 when
 * memory ran out on the way.
 */
int letter_finish(struct letter *l, const char **text, const char **html);

#endif
