#include <string.h>

#include "query.h"

static int
hexval(char ch)
{
	if (ch >= '0' && ch <= '9')
		return ch - '0';
	if (ch >= 'a' && ch <= 'f')
		return ch - 'a' + 10;
	if (ch >= 'A' && ch <= 'F')
		return ch - 'A' + 10;
	return -1;
}

/* Percent-decode src (len bytes) into dst. Returns 0, or -1 if it does not fit. */
static int
decode(const char *src, size_t len, char *dst, size_t dstsz)
{
	size_t o = 0, i;

	for (i = 0; i < len; i++) {
		if (o + 1 >= dstsz)
			return -1;
		if (src[i] == '%' && i + 2 < len &&
		    hexval(src[i + 1]) >= 0 && hexval(src[i + 2]) >= 0) {
			dst[o++] = (char)(hexval(src[i + 1]) * 16 +
			    hexval(src[i + 2]));
			i += 2;
		} else
			dst[o++] = src[i] == '+' ? ' ' : src[i];
	}
	dst[o] = '\0';
	return 0;
}

int
query_param(const char *query, const char *name, char *out, size_t outsz)
{
	size_t nlen = strlen(name);
	const char *p, *end;

	if (outsz == 0)
		return -1;
	out[0] = '\0';
	for (p = query; p != NULL && *p != '\0'; p = *end == '&' ? end + 1 : end) {
		end = p + strcspn(p, "&");
		if ((size_t)(end - p) > nlen && strncmp(p, name, nlen) == 0 &&
		    p[nlen] == '=') {
			if (decode(p + nlen + 1, (size_t)(end - p) - nlen - 1, out,
			    outsz) == -1) {
				out[0] = '\0';
				return -1;
			}
			return 1;
		}
		if ((size_t)(end - p) == nlen && strncmp(p, name, nlen) == 0)
			return 1;	/* "name" with no '=' is present and empty */
	}
	return 0;
}
