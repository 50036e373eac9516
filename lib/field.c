#include <stdio.h>
#include <string.h>

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

static int
has_control(const char *s)
{
	for (; *s != '\0'; s++)
		if ((unsigned char)*s < 0x20 || *s == 0x7f)
			return 1;
	return 0;
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
	if ((flags & FIELD_NO_CONTROL) && has_control(json_string_value(v))) {
		snprintf(err, errsz, "%s must not contain control characters",
		    name);
		return -1;
	}
	*out = json_string_value(v);
	return 0;
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
	json_t *v;
	size_t size;
	int missing;

	*out = NULL;
	if ((v = get(obj, name, flags, &missing, err, errsz)) == NULL)
		return missing ? -1 : 0;
	if (!json_is_object(v)) {
		snprintf(err, errsz, "%s must be an object", name);
		return -1;
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
