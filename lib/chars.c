#include <stddef.h>

#include "chars.h"

uint32_t
chars_next(const char **s)
{
	const unsigned char *p = (const unsigned char *)*s;
	uint32_t cp;
	int more, i;

	if (*p == 0)
		return 0;
	if (*p < 0x80) {
		*s += 1;
		return *p;
	}
	/* Valid UTF-8: the lead byte says how many continuation bytes follow. */
	if ((*p & 0xe0) == 0xc0) {
		cp = *p & 0x1f;
		more = 1;
	} else if ((*p & 0xf0) == 0xe0) {
		cp = *p & 0x0f;
		more = 2;
	} else {
		cp = *p & 0x07;
		more = 3;
	}
	for (i = 1; i <= more; i++) {
		if ((p[i] & 0xc0) != 0x80) {	/* not valid after all: stop here */
			*s += i;
			return 0xfffd;
		}
		cp = cp << 6 | (p[i] & 0x3f);
	}
	*s += more + 1;
	return cp;
}

int
chars_is_space(uint32_t cp)
{
	return (cp >= 0x09 && cp <= 0x0d) || cp == 0x20 || cp == 0x85 ||
	    cp == 0xa0 || cp == 0x1680 || (cp >= 0x2000 && cp <= 0x200a) ||
	    cp == 0x2028 || cp == 0x2029 || cp == 0x202f || cp == 0x205f ||
	    cp == 0x3000;
}

/* Zero-width characters that show nothing on their own. */
static int
is_invisible(uint32_t cp)
{
	return (cp >= 0x200b && cp <= 0x200d) || cp == 0x2060 || cp == 0xfeff;
}

int
chars_refused_cp(uint32_t cp, enum chars_rule rule)
{
	if (cp == 0x7f || (cp >= 0x80 && cp <= 0x9f))
		return 1;
	if (rule == CHARS_TEXT)
		return cp < 0x20 && cp != '\t' && cp != '\n';
	return cp < 0x20 || (cp >= 0x202a && cp <= 0x202e) ||
	    (cp >= 0x2066 && cp <= 0x2069) || cp == 0x2028 || cp == 0x2029;
}

uint32_t
chars_refused(const char *s, enum chars_rule rule)
{
	uint32_t cp;

	while ((cp = chars_next(&s)) != 0)
		if (chars_refused_cp(cp, rule))
			return cp;
	return 0;
}

int
chars_blank(const char *s)
{
	uint32_t cp;

	while ((cp = chars_next(&s)) != 0)
		if (!chars_is_space(cp) && !is_invisible(cp))
			return 0;
	return 1;
}

int
chars_valid_utf8(const char *s)
{
	const unsigned char *p = (const unsigned char *)s;
	uint32_t cp, min;
	int more, i;

	while (*p != 0) {
		if (*p < 0x80) {
			p++;
			continue;
		}
		if (*p >= 0xc2 && *p <= 0xdf) {
			cp = *p & 0x1f;
			more = 1;
			min = 0x80;
		} else if ((*p & 0xf0) == 0xe0) {
			cp = *p & 0x0f;
			more = 2;
			min = 0x800;
		} else if (*p >= 0xf0 && *p <= 0xf4) {
			cp = *p & 0x07;
			more = 3;
			min = 0x10000;
		} else
			return 0;
		for (i = 1; i <= more; i++) {
			if ((p[i] & 0xc0) != 0x80)
				return 0;
			cp = cp << 6 | (p[i] & 0x3f);
		}
		if (cp < min || cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff))
			return 0;
		p += more + 1;
	}
	return 1;
}

const char *
chars_name_problem(const char *s)
{
	uint32_t cp;

	if (!chars_valid_utf8(s))
		return "must be UTF-8";
	if (chars_blank(s))
		return "must not be only white space";
	if ((cp = chars_refused(s, CHARS_NAME)) != 0)
		return cp < 0x20 || (cp >= 0x7f && cp <= 0x9f) ?
		    "must not contain control characters" :
		    cp == 0x2028 || cp == 0x2029 ?
		    "must not contain line or paragraph separators" :
		    "must not contain bidirectional controls";
	return NULL;
}
