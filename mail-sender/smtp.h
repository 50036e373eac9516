#ifndef CHAT_MAIL_SMTP_H
#define CHAT_MAIL_SMTP_H

#include <stddef.h>

#include "../lib/config.h"

/*
 * One mail handed to the SMTP server with libcurl: CHAT_SMTP_URL (smtp://
 * with STARTTLS as CHAT_SMTP_TLS says, or smtps://), the login of
 * CHAT_SMTP_USER and CHAT_SMTP_PASSWORD, the server's certificate checked
 * against the system's CAs or CHAT_SMTP_CA_FILE. curl_global_init() must
 * have been called.
 */

enum smtp_result {
	SMTP_SENT = 0,		/* the server accepted the message (250 after its data) */
	SMTP_TEMPORARY,		/* try again later: no connection, a 4xx, TLS or login trouble */
	SMTP_PERMANENT		/* the server refused the sender, the recipient or the message with a 5xx */
};

/* How to reach the server, from the settings. */
struct smtp {
	const struct config *cfg;
	const char *ca_file;	/* CHAT_SMTP_CA_FILE, NULL for the system's CAs */
};

/*
 * Send message (a whole RFC 5322 message, CRLF lines) from cfg's
 * CHAT_MAIL_FROM to the address to. On anything but SMTP_SENT, err
 * (caller's buffer) says what happened: the command that was refused and
 * the server's reply, or why there was none.
 */
enum smtp_result smtp_send(const struct smtp *smtp, const char *to,
    const char *message, char *err, size_t errsz);

#endif
