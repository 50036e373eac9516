#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "clock.h"
#include "log.h"

/* Set once at start-up by log_init(); configuration, not state. */
static const char *log_program = "chat";
static enum log_level log_max = LOG_INFO;
static FILE *log_file;	/* NULL: stderr */

static const char *const level_names[] = {
	[LOG_ERROR] = "error",
	[LOG_WARN] = "warn",
	[LOG_INFO] = "info",
	[LOG_DEBUG] = "debug",
};

void
log_init(const char *program, enum log_level level, const char *path)
{
	log_program = program;
	log_max = level;
	if (log_file != NULL)
		fclose(log_file);
	log_file = NULL;
	if (path != NULL && path[0] != '\0' &&
	    (log_file = fopen(path, "ae")) == NULL)
		log_msg(LOG_WARN, NULL, "log file %s cannot be opened; logging "
		    "to standard error", path);
}

int
log_level_parse(const char *text, enum log_level *out)
{
	size_t i;

	for (i = 0; i < sizeof(level_names) / sizeof(level_names[0]); i++)
		if (strcmp(text, level_names[i]) == 0) {
			*out = (enum log_level)i;
			return 0;
		}
	return -1;
}

/* Copy src into dst, escaping control characters and backslashes. */
static void
escape(char *dst, size_t dstsz, const char *src)
{
	size_t o = 0;
	unsigned char c;

	for (; (c = (unsigned char)*src) != '\0' && o + 5 < dstsz; src++) {
		if (c == '\\') {
			dst[o++] = '\\';
			dst[o++] = '\\';
		} else if (c == '\n') {
			dst[o++] = '\\';
			dst[o++] = 'n';
		} else if (c < 0x20 || c == 0x7f) {
			o += (size_t)snprintf(dst + o, dstsz - o, "\\x%02x", c);
		} else
			dst[o++] = (char)c;
	}
	dst[o] = '\0';
}

void
log_msg(enum log_level level, const char *id, const char *fmt, ...)
{
	char raw[2048], safe[4096], now[CLOCK_RFC3339_LEN + 1];
	va_list ap;
	FILE *out;

	if (level > log_max)
		return;
	va_start(ap, fmt);
	vsnprintf(raw, sizeof(raw), fmt, ap);
	va_end(ap);
	escape(safe, sizeof(safe), raw);
	out = log_file != NULL ? log_file : stderr;
	fprintf(out, "%s %s %s %s %s\n", clock_format(clock_now_ms(), now,
	    sizeof(now)), log_program, level_names[level],
	    id != NULL && id[0] != '\0' ? id : "-", safe);
	fflush(out);
}

char *
log_mask_token(const char *token, char *out, size_t outsz)
{
	size_t len = token != NULL ? strlen(token) : 0;

	if (len < 10)
		snprintf(out, outsz, "***");
	else
		snprintf(out, outsz, "%.8s...%s", token, token + len - 4);
	return out;
}
