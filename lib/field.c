#include <stdio.h>
#include <string.h>

#include "chars.h"
#include "field.h"

size_t
field_utf8_len(const char *s)
{
	size_t n = 0;

	for (; *s != '\0'; s++)
		if (((unsigned char)*s & 0xc0) != 0x80)
			n++;
	return n;
}

/* Whether s holds something rule refuses; if so, the reason in err. */
static int
refuses(const char *what, const char *s, enum chars_rule rule, char *err,
    size_t errsz)
{
	uint32_t cp = chars_refused(s, rule);

	if (cp == 0)
		return 0;
	snprintf(err, errsz, "%s must not contain U+%04X (%s)", what,
	    (unsigned)cp, cp < 0x20 || (cp >= 0x7f && cp <= 0x9f) ?
	    "a control character" : cp == 0x2028 || cp == 0x2029 ?
	    "a line or paragraph separator" : "a bidirectional control");
	return 1;
}

/* The field, or NULL when absent or null; sets err for a missing required one. */
static json_t *
get(json_t *obj, const char *name, int flags, int *missing, char *err,
    size_t errsz)
{
	json_t *v = json_object_get(obj, name);

	*missing = 0;
	if (v != NULL && !json_is_null(v))
		return v;
	if (!(flags & FIELD_OPTIONAL)) {
		snprintf(err, errsz, "%s is required", name);
		*missing = 1;
	}
	return NULL;
}

int
field_string(json_t *obj, const char *name, size_t min, size_t max,
    int flags, const char **out, char *err, size_t errsz)
{
	json_t *v;
	size_t len;
	int missing;

	*out = NULL;
	if ((v = get(obj, name, flags, &missing, err, errsz)) == NULL)
		return missing ? -1 : 0;
	if (!json_is_string(v)) {
		snprintf(err, errsz, "%s must be a string", name);
		return -1;
	}
	/* No NUL inside: json_loadb() refuses \u0000 without JSON_ALLOW_NUL. */
	len = field_utf8_len(json_string_value(v));
	if (len < min || len > max) {
		if (min == max)
			snprintf(err, errsz, "%s must be %zu characters", name, min);
		else
			snprintf(err, errsz, "%s must be %zu to %zu characters",
			    name, min, max);
		return -1;
	}
	if ((flags & FIELD_NO_CONTROL) && refuses(name, json_string_value(v),
	    CHARS_NAME, err, errsz))
		return -1;
	if ((flags & FIELD_NOT_BLANK) && chars_blank(json_string_value(v))) {
		snprintf(err, errsz, "%s must not be only white space", name);
		return -1;
	}
	*out = json_string_value(v);
	return 0;
}

int
field_message_text(const char *name, const char *text, size_t max,
    char *err, size_t errsz)
{
	size_t len = field_utf8_len(text);

	if (len == 0 || len > max || chars_blank(text)) {
		snprintf(err, errsz, "%s must be 1 to %zu characters, not only "
		    "white space", name, max);
		return -1;
	}
	return refuses(name, text, CHARS_TEXT, err, errsz) ? -1 : 0;
}

int
field_id(json_t *obj, const char *name, int64_t *out, char *err,
    size_t errsz)
{
	json_t *v;
	int missing;

	if ((v = get(obj, name, 0, &missing, err, errsz)) == NULL)
		return -1;
	if (!json_is_integer(v) || json_integer_value(v) <= 0) {
		snprintf(err, errsz, "%s must be a positive integer", name);
		return -1;
	}
	*out = (int64_t)json_integer_value(v);
	return 0;
}

int
field_object(json_t *obj, const char *name, size_t max_bytes, int flags,
    json_t **out, char *err, size_t errsz)
{
	json_t *v, *item;
	const char *key;
	char what[160];
	size_t size;
	int missing;

	*out = NULL;
	if ((v = get(obj, name, flags, &missing, err, errsz)) == NULL)
		return missing ? -1 : 0;
	if (!json_is_object(v)) {
		snprintf(err, errsz, "%s must be an object", name);
		return -1;
	}
	json_object_foreach(v, key, item) {
		(void)item;
		if (refuses("the keys of the object", key, CHARS_NAME, what,
		    sizeof(what))) {
			snprintf(err, errsz, "%s: %s", name, what);
			return -1;
		}
	}
	size = json_dumpb(v, NULL, 0, JSON_COMPACT);
	if (size == 0 || size > max_bytes) {
		snprintf(err, errsz, "%s must be at most %zu bytes of JSON",
		    name, max_bytes);
		return -1;
	}
	*out = v;
	return 0;
}

/* Whether [s, s+n) is a domain: dot-separated labels of 1..63 of A-Z a-z 0-9 -, a dot in it. */
static int
domain_valid(const char *s, size_t n)
{
	size_t label = 0, i;
	int dots = 0;

	if (n == 0 || n > 253)
		return 0;
	for (i = 0; i < n; i++) {
		char ch = s[i];

		if (ch == '.') {
			if (label == 0 || s[i - 1] == '-')
				return 0;
			label = 0;
			dots++;
		} else if ((ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') ||
		    (ch >= '0' && ch <= '9') || (ch == '-' && label > 0)) {
			if (++label > 63)
				return 0;
		} else
			return 0;
	}
	return dots > 0 && label > 0 && s[n - 1] != '-';
}

int
field_email_valid(const char *s)
{
	const char *at = strchr(s, '@');
	size_t n = strlen(s), local, i;

	if (at == NULL || n > 254 || strchr(at + 1, '@') != NULL)
		return 0;
	local = (size_t)(at - s);
	if (local == 0 || local > 64 || s[0] == '.' || s[local - 1] == '.')
		return 0;
	for (i = 0; i < local; i++) {
		unsigned char ch = (unsigned char)s[i];

		/* RFC 5322's dot-atom: no quoting, so nothing to escape later. */
		if (ch <= 0x20 || ch >= 0x7f || strchr("\"(),:;<>[\\]", ch) !=
		    NULL || (ch == '.' && s[i + 1] == '.'))
			return 0;
	}
	return domain_valid(at + 1, n - local - 1);
}

int
field_email(json_t *obj, const char *name, int flags, const char **out,
    char *err, size_t errsz)
{
	if (field_string(obj, name, 3, 254, flags | FIELD_NO_CONTROL, out, err,
	    errsz) == -1)
		return -1;
	if (*out != NULL && !field_email_valid(*out)) {
		snprintf(err, errsz, "%s must be an email address "
		    "(name@example.com)", name);
		return -1;
	}
	return 0;
}

int
field_bool(json_t *obj, const char *name, int flags, int *out, char *err,
    size_t errsz)
{
	json_t *v;
	int missing;

	*out = 0;
	if ((v = get(obj, name, flags, &missing, err, errsz)) == NULL)
		return missing ? -1 : 0;
	if (!json_is_boolean(v)) {
		snprintf(err, errsz, "%s must be true or false", name);
		return -1;
	}
	*out = json_is_true(v);
	return 0;
}
