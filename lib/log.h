#ifndef CHAT_LOG_H
#define CHAT_LOG_H

/*
 * One line per event on standard error, fields in a fixed order:
 *   TIME PROGRAM LEVEL ID MESSAGE
 * where ID is a request or connection id ("-" when there is none).
 * Control characters in the message are escaped, so one event is one line.
 * Tokens are never logged; use log_mask_token() where one must be referred to.
 */

enum log_level {
	LOG_ERROR = 0,
	LOG_WARN,
	LOG_INFO,
	LOG_DEBUG
};

/*
 * Set the program name shown on every line and the most verbose level
 * written, and where lines go: the file path, appended to, or standard
 * error when path is NULL or cannot be opened. Called once at start-up;
 * before it, the name is "chat", the level LOG_INFO, the file stderr.
 */
void log_init(const char *program, enum log_level level, const char *path);

/*
 * Parse "error", "warn", "info" or "debug" into *out.
 * Returns 0, or -1 (and leaves *out alone) on any other text.
 */
int log_level_parse(const char *text, enum log_level *out);

/* Write one event at level, for the request or connection id (NULL for none). */
void log_msg(enum log_level level, const char *id, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

/*
 * Mask a token for display as the guide does: the first 8 characters,
 * "...", the last 4; "***" when it is shorter than 10 characters.
 * out is the caller's buffer (>= 16 bytes). Returns out.
 */
char *log_mask_token(const char *token, char *out, size_t outsz);

#endif
