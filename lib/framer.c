#include <stdlib.h>
#include <string.h>

#include "framer.h"

/*
 * After bad JSON, the places where a frame glued behind it (a binary frame
 * has no newline of its own) may start that are tried, at most.
 */
#define RESTART_TRIES 16

static const char WHITE[] = " \t\r\n";

int
framer_init(struct framer *f, size_t max)
{
	memset(f, 0, sizeof(*f));
	f->max = max;
	/* malloc, not calloc: the pages cost memory only once written. */
	return (f->buf = malloc(max)) != NULL ? 0 : -1;
}

void
framer_free(struct framer *f)
{
	free(f->buf);
	f->buf = NULL;
}

char *
framer_space(struct framer *f, size_t *room)
{
	*room = f->max - f->len;
	return f->buf + f->len;
}

void
framer_added(struct framer *f, size_t n)
{
	f->len += n;
}

static void
consume(struct framer *f, size_t n)
{
	memmove(f->buf, f->buf + n, f->len - n);
	f->len -= n;
}

/* Where the newline at or after from is, or NULL. */
static const char *
newline_from(const struct framer *f, size_t from)
{
	return from < f->len ? memchr(f->buf + from, '\n', f->len - from) : NULL;
}

/*
 * Whether the value that ends at end closes a text frame: white space up to
 * a newline follows it. 1 yes (*through: the bytes up to the newline
 * included), 0 no (something else follows), -1 not known yet.
 */
static int
ends_frame(const struct framer *f, const char *start, size_t end,
    size_t *through)
{
	size_t i = (size_t)(start - f->buf) + end;

	while (i < f->len && (f->buf[i] == ' ' || f->buf[i] == '\t' ||
	    f->buf[i] == '\r'))
		i++;
	if (i == f->len)
		return -1;
	if (f->buf[i] != '\n')
		return 0;
	*through = i + 1;
	return 1;
}

/* Parse the value at start; see ends_frame for the result. */
static int
parse_at(const struct framer *f, const char *start, json_t **frame,
    size_t *through, enum json_error_code *code)
{
	size_t avail = f->len - (size_t)(start - f->buf);
	json_error_t err;
	int rc;

	*frame = json_loadb(start, avail, JSON_DISABLE_EOF_CHECK |
	    JSON_DECODE_ANY | JSON_REJECT_DUPLICATES, &err);
	if (*frame == NULL) {
		*code = json_error_code(&err);
		*through = err.position;
		/* jansson takes a NUL byte for the end of its input: none is JSON. */
		if (*code == json_error_premature_end_of_input &&
		    memchr(start, '\0', avail) != NULL)
			*code = json_error_invalid_syntax;
		return -2;
	}
	rc = ends_frame(f, start, err.position, through);
	if (rc != 1) {
		*through = err.position;
		json_decref(*frame);
		*frame = NULL;
	}
	return rc;
}

/*
 * Bad JSON at the start of the buffer: where does the next frame start? A
 * binary frame glued to the text frame after it ends where a whole frame
 * parses; failing that, the bad frame ends at the newline after the error.
 * Returns the bytes to skip, or 0 to wait for more.
 */
static size_t
bad_frame_length(struct framer *f, size_t error_at)
{
	const char *nl = newline_from(f, error_at), *p = f->buf;
	size_t line_end = nl != NULL ? (size_t)(nl - f->buf) : f->len;
	size_t through;
	json_t *value;
	enum json_error_code code;
	int tries = 0;

	while (tries++ < RESTART_TRIES && (p = memchr(p + 1, '{',
	    line_end - (size_t)(p + 1 - f->buf))) != NULL)
		if (parse_at(f, p, &value, &through, &code) == 1) {
			json_decref(value);
			return (size_t)(p - f->buf);
		}
	if (nl != NULL) {
		f->resync = 1;
		return line_end + 1;
	}
	return 0;
}

/*
 * The rest of a bad pretty-printed frame: its lines are indented or start
 * with a closing bracket or a comma, which no frame starts with.
 */
static int
drop_resync_line(struct framer *f)
{
	const char *nl;

	if (!f->resync || f->len == 0)
		return 0;
	if (strchr(" \t}],:", f->buf[0]) == NULL || f->buf[0] == '\0') {
		f->resync = 0;
		return 0;
	}
	if ((nl = newline_from(f, 0)) == NULL)
		return -1;
	consume(f, (size_t)(nl - f->buf) + 1);
	return 1;
}

/*
 * Drop what is known to be no frame: the rest of a frame too large, lines
 * of a bad frame, white space. Returns 0, or -1 when more input is needed.
 */
static int
skip_junk(struct framer *f)
{
	const char *nl;
	size_t lead = 0;
	int rc;

	for (;;) {
		if (f->skip_line) {
			if ((nl = newline_from(f, 0)) == NULL) {
				f->len = 0;
				return -1;
			}
			consume(f, (size_t)(nl - f->buf) + 1);
			f->skip_line = 0;
		}
		if ((rc = drop_resync_line(f)) == -1) {
			if (f->len == f->max)
				f->len = 0;
			return -1;
		}
		if (rc == 0)
			break;
	}
	while (lead < f->len && f->buf[lead] != '\0' &&
	    strchr(WHITE, f->buf[lead]) != NULL)
		lead++;
	consume(f, lead);
	return f->len == 0 ? -1 : 0;
}

/* After bad JSON at byte error_at: skip the bad frame, or wait for its end. */
static enum framer_status
skip_bad(struct framer *f, size_t error_at, const char **why)
{
	size_t n = bad_frame_length(f, error_at);

	if (n == 0) {
		if (f->len < f->max)
			return FRAMER_MORE;
		f->len = 0;
		f->skip_line = 1;
	} else
		consume(f, n);
	*why = "frame is not valid JSON";
	return FRAMER_BAD;
}

enum framer_status
framer_next(struct framer *f, json_t **frame, const char **why)
{
	enum json_error_code code = json_error_invalid_syntax;
	size_t through;
	int rc;

	*frame = NULL;
	if (skip_junk(f) == -1)
		return FRAMER_MORE;
	rc = parse_at(f, f->buf, frame, &through, &code);
	if (rc == 1 || rc == 0) {
		consume(f, through);
		*why = "a frame must be one JSON value in a text frame";
		return rc == 1 ? FRAMER_FRAME : FRAMER_BAD;
	}
	if (rc == -2 && code != json_error_premature_end_of_input)
		return skip_bad(f, through, why);
	if (f->len < f->max)
		return FRAMER_MORE;
	/* Larger than any frame may be: skip the rest of it. */
	f->len = 0;
	f->skip_line = 1;
	*why = "frame is too large";
	return FRAMER_BAD;
}
