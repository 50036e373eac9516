#include <stdio.h>
#include <string.h>

#include <curl/curl.h>

#include "smtp.h"

#define CONNECT_TIMEOUT 30L	/* seconds to connect */
#define SEND_TIMEOUT 120L	/* seconds for the whole exchange */

/* The message as libcurl reads it, and what the server last said. */
struct exchange {
	const char *data;
	size_t left;
	char command[16];	/* the verb of the last command sent: MAIL, RCPT, DATA... */
	char reply[256];	/* the server's last reply line */
	int quit;		/* QUIT was sent: the exchange is over */
};

static size_t
read_message(char *buf, size_t size, size_t nmemb, void *arg)
{
	struct exchange *x = arg;
	size_t n = size * nmemb < x->left ? size * nmemb : x->left;

	memcpy(buf, x->data, n);
	x->data += n;
	x->left -= n;
	return n;
}

/*
 * Keep the verb of each command and the text of each reply: which step a
 * refusal came at tells a refused mail from a server we cannot use. Only
 * the verb of a command is kept: AUTH lines carry the login. Once libcurl
 * says QUIT, what came before is the answer.
 */
static int
on_debug(CURL *c, curl_infotype type, char *data, size_t size, void *arg)
{
	struct exchange *x = arg;
	size_t n;

	(void)c;
	if (x->quit)
		return 0;
	if (type == CURLINFO_HEADER_OUT && size >= 4 &&
	    strncmp(data, "QUIT", 4) == 0) {
		x->quit = 1;
		return 0;
	}
	if (type == CURLINFO_HEADER_OUT) {
		n = strcspn(data, " \r\n");
		n = n < size ? n : size;
		snprintf(x->command, sizeof(x->command), "%.*s", (int)n, data);
	} else if (type == CURLINFO_HEADER_IN) {
		/* The last line of what came, without its line end. */
		while (size > 0 && (data[size - 1] == '\r' ||
		    data[size - 1] == '\n'))
			size--;
		for (n = size; n > 0 && data[n - 1] != '\n'; n--)
			;
		snprintf(x->reply, sizeof(x->reply), "%.*s", (int)(size - n),
		    data + n);
		for (n = 0; x->reply[n] != '\0'; n++)
			if ((unsigned char)x->reply[n] < 0x20)
				x->reply[n] = ' ';
	}
	return 0;
}

static long
use_ssl(const struct config *cfg)
{
	switch (cfg->smtp_tls) {
	case SMTP_TLS_REQUIRE:
		return (long)CURLUSESSL_ALL;
	case SMTP_TLS_NONE:
		return (long)CURLUSESSL_NONE;
	default:
		/* A password never goes out in the clear. */
		return cfg->smtp_user[0] != '\0' ? (long)CURLUSESSL_ALL :
		    (long)CURLUSESSL_TRY;
	}
}

/* Set up c for one mail to rcpt; 0 or -1. */
static int
setup(CURL *c, const struct smtp *smtp, struct curl_slist *rcpt,
    const char *from, struct exchange *x, char *errbuf)
{
	const struct config *cfg = smtp->cfg;
	int bad = 0;

	bad |= curl_easy_setopt(c, CURLOPT_URL, cfg->smtp_url) != CURLE_OK;
	bad |= curl_easy_setopt(c, CURLOPT_PROTOCOLS_STR, "smtp,smtps") !=
	    CURLE_OK;
	bad |= curl_easy_setopt(c, CURLOPT_MAIL_FROM, from) != CURLE_OK;
	bad |= curl_easy_setopt(c, CURLOPT_MAIL_RCPT, rcpt) != CURLE_OK;
	bad |= curl_easy_setopt(c, CURLOPT_USE_SSL, use_ssl(cfg)) != CURLE_OK;
	if (cfg->smtp_user[0] != '\0') {
		bad |= curl_easy_setopt(c, CURLOPT_USERNAME, cfg->smtp_user) !=
		    CURLE_OK;
		bad |= curl_easy_setopt(c, CURLOPT_PASSWORD,
		    cfg->smtp_password) != CURLE_OK;
	}
	if (smtp->ca_file != NULL)
		bad |= curl_easy_setopt(c, CURLOPT_CAINFO, smtp->ca_file) !=
		    CURLE_OK;
	bad |= curl_easy_setopt(c, CURLOPT_UPLOAD, 1L) != CURLE_OK;
	bad |= curl_easy_setopt(c, CURLOPT_READFUNCTION, read_message) !=
	    CURLE_OK;
	bad |= curl_easy_setopt(c, CURLOPT_READDATA, x) != CURLE_OK;
	bad |= curl_easy_setopt(c, CURLOPT_INFILESIZE_LARGE,
	    (curl_off_t)x->left) != CURLE_OK;
	bad |= curl_easy_setopt(c, CURLOPT_VERBOSE, 1L) != CURLE_OK;
	bad |= curl_easy_setopt(c, CURLOPT_DEBUGFUNCTION, on_debug) != CURLE_OK;
	bad |= curl_easy_setopt(c, CURLOPT_DEBUGDATA, x) != CURLE_OK;
	bad |= curl_easy_setopt(c, CURLOPT_ERRORBUFFER, errbuf) != CURLE_OK;
	bad |= curl_easy_setopt(c, CURLOPT_NOSIGNAL, 1L) != CURLE_OK;
	bad |= curl_easy_setopt(c, CURLOPT_CONNECTTIMEOUT, CONNECT_TIMEOUT) !=
	    CURLE_OK;
	bad |= curl_easy_setopt(c, CURLOPT_TIMEOUT, SEND_TIMEOUT) != CURLE_OK;
	return bad ? -1 : 0;
}

/*
 * A 5xx is the server's final word on this mail when it answered the
 * envelope or the message (MAIL, RCPT, DATA and the data's end); at the
 * greeting, EHLO, STARTTLS or AUTH it is about the connection or the
 * login, which an administrator can fix: the mail waits.
 */
static enum smtp_result
judge(CURLcode rc, long code, const struct exchange *x)
{
	if (rc == CURLE_OK)
		return SMTP_SENT;
	if (code >= 500 && code <= 599 && (strcmp(x->command, "MAIL") == 0 ||
	    strcmp(x->command, "RCPT") == 0 || strcmp(x->command, "DATA") == 0))
		return SMTP_PERMANENT;
	return SMTP_TEMPORARY;
}

enum smtp_result
smtp_send(const struct smtp *smtp, const char *to, const char *message,
    char *err, size_t errsz)
{
	char errbuf[CURL_ERROR_SIZE] = "", addr[300], from[300];
	struct exchange x = { message, strlen(message), "", "", 0 };
	struct curl_slist *rcpt = NULL;
	enum smtp_result result = SMTP_TEMPORARY;
	long code = 0;
	CURLcode rc;
	CURL *c;

	snprintf(err, errsz, "out of memory");
	snprintf(addr, sizeof(addr), "<%s>", to);
	snprintf(from, sizeof(from), "<%s>", smtp->cfg->mail_from);
	if ((c = curl_easy_init()) == NULL ||
	    (rcpt = curl_slist_append(NULL, addr)) == NULL)
		goto out;
	if (setup(c, smtp, rcpt, from, &x, errbuf) == -1) {
		snprintf(err, errsz, "libcurl cannot send SMTP with these "
		    "settings (is it built with SMTP and TLS?)");
		goto out;
	}
	rc = curl_easy_perform(c);
	curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &code);
	if ((result = judge(rc, code, &x)) != SMTP_SENT) {
		if (code >= 400 && x.reply[0] != '\0')
			snprintf(err, errsz, "%s refused: %s", x.command[0] !=
			    '\0' ? x.command : "the greeting", x.reply);
		else
			snprintf(err, errsz, "%s", errbuf[0] != '\0' ? errbuf :
			    curl_easy_strerror(rc));
	}
out:
	curl_slist_free_all(rcpt);
	curl_easy_cleanup(c);
	return result;
}
