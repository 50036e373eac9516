#ifndef CHAT_CHARS_H
#define CHAT_CHARS_H

#include <stdint.h>

/*
 * Which characters input may hold: the rules every field check uses, in
 * one place. Strings are valid UTF-8 (jansson has checked them).
 *
 * White space is Unicode's White_Space property: U+0009..U+000D, U+0020,
 * U+0085, U+00A0, U+1680, U+2000..U+200A, U+2028, U+2029, U+202F, U+205F
 * and U+3000. A text is blank when it holds nothing but white space and
 * the invisible joiners and marks U+200B..U+200D, U+2060 and U+FEFF.
 */

enum chars_rule {
	/*
	 * Names, subjects, client message ids, metadata keys, the visitor's
	 * context: refuses C0 controls (U+0000..U+001F), U+007F, C1 controls
	 * (U+0080..U+009F), bidi embeddings and overrides (U+202A..U+202E)
	 * and isolates (U+2066..U+2069), and the line and paragraph
	 * separators U+2028 and U+2029.
	 */
	CHARS_NAME,
	/*
	 * Message text: refuses every C0 control but tab and newline (so
	 * carriage return too), U+007F and C1 controls; takes the rest, bidi
	 * marks and separators included (right-to-left text needs them).
	 */
	CHARS_TEXT
};

/* Whether code point cp is white space (White_Space). Returns 1 or 0. */
int chars_is_space(uint32_t cp);

/* Whether rule refuses code point cp. Returns 1 or 0. */
int chars_refused_cp(uint32_t cp, enum chars_rule rule);

/* The first code point of s that rule refuses, or 0 when there is none. */
uint32_t chars_refused(const char *s, enum chars_rule rule);

/* Whether s is blank: empty, or only white space and invisible marks. Returns 1 or 0. */
int chars_blank(const char *s);

/* Whether s is valid UTF-8 (no overlong forms, no surrogates, at most U+10FFFF). Returns 1 or 0. */
int chars_valid_utf8(const char *s);

/*
 * Why a display name given outside JSON (the command line) will not do,
 * or NULL when it is valid UTF-8, not blank, and holds nothing CHARS_NAME
 * refuses.
 */
const char *chars_name_problem(const char *s);

/*
 * The next code point of the valid UTF-8 string at *s, advancing *s past
 * it; 0 at the end (without advancing).
 */
uint32_t chars_next(const char **s);

#endif
