#ifndef CHAT_QUERY_H
#define CHAT_QUERY_H

#include <stddef.h>

/*
 * Find parameter name in the query string query ("a=1&b=2", may be NULL)
 * and write its percent-decoded value into out (caller's buffer, outsz
 * bytes). Returns 1 when found, 0 when absent, -1 when the value is too
 * long for out; out is "" unless found.
 */
int query_param(const char *query, const char *name, char *out, size_t outsz);

#endif
