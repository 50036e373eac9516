#ifndef CHAT_FIELD_H
#define CHAT_FIELD_H

#include <stddef.h>
#include <stdint.h>

#include <jansson.h>

/*
 * Reading and checking the fields of a JSON request object. Each function
 * returns 0 when the field is acceptable, or -1 with a message naming the
 * field in err (caller's buffer), ready for an INVALID_REQUEST reply.
 * Lengths of strings are counted in Unicode code points (jansson has
 * already checked the UTF-8).
 */

enum field_flags {
	FIELD_OPTIONAL = 1 << 0,	/* absent or null is fine: *out is NULL */
	FIELD_NO_CONTROL = 1 << 1,	/* refuse what CHARS_NAME refuses (chars.h) */
	FIELD_NOT_BLANK = 1 << 2	/* refuse only white space (chars_blank) */
};

/*
 * The string field name of obj, min..max code points long. *out is
 * borrowed from obj (NULL for an absent optional field).
 */
int field_string(json_t *obj, const char *name, size_t min, size_t max,
    int flags, const char **out, char *err, size_t errsz);

/*
 * A message's text (field name): 1 to max code points, not blank, and
 * nothing CHARS_TEXT refuses. Returns 0, or -1 with the reason in err.
 */
int field_message_text(const char *name, const char *text, size_t max,
    char *err, size_t errsz);

/* The field name of obj as a positive integer id into *out. */
int field_id(json_t *obj, const char *name, int64_t *out, char *err,
    size_t errsz);

/*
 * The object field name of obj whose compact JSON is at most max_bytes
 * and whose keys hold nothing CHARS_NAME refuses. *out is borrowed from
 * obj (NULL for an absent optional field).
 */
int field_object(json_t *obj, const char *name, size_t max_bytes, int flags,
    json_t **out, char *err, size_t errsz);

/*
 * Whether s is an email address we accept: at most 254 bytes, one '@', a
 * local part of printable ASCII without spaces, quotes or brackets, and a
 * domain of dot-separated labels (letters, digits, '-') with a dot in it.
 * Returns 1 or 0.
 */
int field_email_valid(const char *s);

/* The string field name of obj as an email address (field_email_valid). */
int field_email(json_t *obj, const char *name, int flags, const char **out,
    char *err, size_t errsz);

/* The boolean field name of obj into *out (absent optional: 0). */
int field_bool(json_t *obj, const char *name, int flags, int *out,
    char *err, size_t errsz);

/* Number of code points in the valid UTF-8 string s. */
size_t field_utf8_len(const char *s);

#endif
