#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include <sodium.h>

#include "db.h"
#include "field.h"
#include "mail.h"
#include "token.h"

/* Characters of a quoted-printable line, the '=' of a soft break included (RFC 2045). */
#define QP_LINE 76
/*
 * Bytes of text in one encoded-word: "Subject: =?UTF-8?B?" plus 52 of
 * base64 and "?=" stays under 78 characters, the line length RFC 5322
 * asks for.
 */
#define WORD_BYTES 39
#define HEADER_LINE 78

enum stmt {
	STMT_INSERT,
	STMT__MAX
};

static const char *const stmts[STMT__MAX] = {
	[STMT_INSERT] =
	    "INSERT INTO mail_queue (kind, session_id, recipient, message,"
	    " message_id, created_at, next_at) VALUES (?, ?, ?, ?, ?, ?6, ?6)",
};

const char *
mail_strerror(enum mail_status status)
{
	switch (status) {
	case MAIL_OK:
		return "queued";
	case MAIL_INVALID:
		return "not a mail: an address or a required part is missing or wrong";
	default:
		return "database error or out of memory";
	}
}

int
mail_enabled(const struct config *cfg)
{
	return cfg->smtp_url[0] != '\0' && cfg->mail_from[0] != '\0';
}

/* Whether every address of the comma-separated list is one; *bad (output) is the first that is not. */
static int
list_valid(const char *list, char *bad, size_t badsz)
{
	const char *p = list, *end;
	size_t n;

	for (;;) {
		p += strspn(p, " \t");
		end = p + strcspn(p, ",");
		n = (size_t)(end - p);
		while (n > 0 && (p[n - 1] == ' ' || p[n - 1] == '\t'))
			n--;
		snprintf(bad, badsz, "%.*s", (int)n, p);
		if (n >= badsz || !field_email_valid(bad))
			return 0;
		if (*end == '\0')
			return 1;
		p = end + 1;
	}
}

int
mail_check_config(const struct config *cfg, char *err, size_t errsz)
{
	const char *url = cfg->smtp_url, *host;
	char bad[300];

	if (!mail_enabled(cfg))
		return 0;
	host = strncasecmp(url, "smtp://", 7) == 0 ? url + 7 :
	    strncasecmp(url, "smtps://", 8) == 0 ? url + 8 : NULL;
	if (host == NULL || host[0] == '\0' || host[0] == '/' ||
	    host[0] == ':') {
		snprintf(err, errsz, "CHAT_SMTP_URL: \"%s\" is not an smtp:// or "
		    "smtps:// URL with a host (smtp://mail.example.com:587)", url);
		return -1;
	}
	if (!field_email_valid(cfg->mail_from)) {
		snprintf(err, errsz, "CHAT_MAIL_FROM: \"%s\" is not an email "
		    "address (chat@example.com)", cfg->mail_from);
		return -1;
	}
	if (cfg->mail_team[0] != '\0' && !list_valid(cfg->mail_team, bad,
	    sizeof(bad))) {
		snprintf(err, errsz, "CHAT_MAIL_TEAM: \"%s\" is not an email "
		    "address (a comma-separated list: a@example.com, "
		    "b@example.com)", bad);
		return -1;
	}
	if (cfg->smtp_password[0] != '\0' && cfg->smtp_user[0] == '\0') {
		snprintf(err, errsz, "CHAT_SMTP_PASSWORD is set without "
		    "CHAT_SMTP_USER: set both for a login, or neither");
		return -1;
	}
	return 0;
}

/* Whether s is printable ASCII only. */
static int
plain_ascii(const char *s)
{
	for (; *s != '\0'; s++)
		if ((unsigned char)*s < 0x20 || (unsigned char)*s > 0x7e)
			return 0;
	return 1;
}

/* A copy of s with each control character a space (what could end a header), trimmed; NULL without memory. */
static char *
one_line(const char *s)
{
	char *out = strdup(s), *p;
	size_t n;

	if (out == NULL)
		return NULL;
	for (p = out; *p != '\0'; p++)
		if ((unsigned char)*p < 0x20 || (unsigned char)*p == 0x7f)
			*p = ' ';
	p = out + strspn(out, " ");
	n = strlen(p);
	while (n > 0 && p[n - 1] == ' ')
		n--;
	memmove(out, p, n);
	out[n] = '\0';
	return out;
}

/*
 * s as RFC 2047 encoded-words (UTF-8, base64), each on a line of its own
 * after the first, never cutting a character in two. Returns the length
 * of the last line, given col, the column the first word starts at.
 */
static size_t
put_words(FILE *f, const char *s, size_t col)
{
	char b64[sodium_base64_ENCODED_LEN(WORD_BYTES,
	    sodium_base64_VARIANT_ORIGINAL)];
	size_t len = strlen(s), n;
	int first = 1;

	while (len > 0) {
		n = len < WORD_BYTES ? len : WORD_BYTES;
		while (n < len && n > 1 && ((unsigned char)s[n] & 0xc0) == 0x80)
			n--;
		sodium_bin2base64(b64, sizeof(b64), (const unsigned char *)s, n,
		    sodium_base64_VARIANT_ORIGINAL);
		fprintf(f, "%s=?UTF-8?B?%s?=", first ? "" : "\r\n ", b64);
		col = (first ? col : 1) + 12 + strlen(b64);
		first = 0;
		s += n;
		len -= n;
	}
	return col;
}

/* "Name: value" for a text (subject): plain when it is short ASCII, else encoded-words. */
static void
put_text_header(FILE *f, const char *name, const char *value)
{
	fprintf(f, "%s: ", name);
	if (plain_ascii(value) && strlen(name) + 2 + strlen(value) <= HEADER_LINE)
		fputs(value, f);
	else
		put_words(f, value, strlen(name) + 2);
	fputs("\r\n", f);
}

/* "Name: phrase <addr>": the phrase a quoted string, or encoded-words when not ASCII. */
static void
put_mailbox(FILE *f, const char *name, const char *phrase, const char *addr)
{
	size_t col = strlen(name) + 2;

	fprintf(f, "%s: ", name);
	if (phrase[0] == '\0') {
		fprintf(f, "<%s>\r\n", addr);
		return;
	}
	if (plain_ascii(phrase)) {
		fputc('"', f);
		for (; *phrase != '\0'; phrase++, col++) {
			if (*phrase == '"' || *phrase == '\\') {
				fputc('\\', f);
				col++;
			}
			fputc(*phrase, f);
		}
		fputc('"', f);
		col += 2;
	} else
		col = put_words(f, phrase, col);
	fprintf(f, "%s<%s>\r\n", col + strlen(addr) + 3 > HEADER_LINE ?
	    "\r\n " : " ", addr);
}

/* RFC 5322's date-time in UTC: "Tue, 24 Nov 2026 11:48:14 +0000". */
static void
put_date(FILE *f, int64_t now)
{
	static const char days[][4] = { "Sun", "Mon", "Tue", "Wed", "Thu",
	    "Fri", "Sat" };
	static const char months[][4] = { "Jan", "Feb", "Mar", "Apr", "May",
	    "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec" };
	time_t t = (time_t)(now / 1000);
	struct tm tm;

	if (gmtime_r(&t, &tm) == NULL)
		memset(&tm, 0, sizeof(tm));
	fprintf(f, "Date: %s, %02d %s %04d %02d:%02d:%02d +0000\r\n",
	    days[tm.tm_wday % 7], tm.tm_mday, months[tm.tm_mon % 12],
	    tm.tm_year + 1900, tm.tm_hour, tm.tm_min, tm.tm_sec);
}

/*
 * s as quoted-printable with CRLF line ends ("\n", "\r\n" and "\r" in s
 * are line ends), lines of at most QP_LINE characters; no CRLF after the
 * last line. A '.' that starts a line is encoded too, so no line of the
 * body is SMTP's end of data even before the client's dot-stuffing.
 */
static void
put_qp(FILE *f, const char *s)
{
	static const char hex[] = "0123456789ABCDEF";
	const unsigned char *p = (const unsigned char *)s;
	size_t col = 0, n;
	char enc[3];
	int eol;

	for (; *p != '\0'; p++) {
		if (*p == '\r' || *p == '\n') {
			if (p[0] == '\r' && p[1] == '\n')
				p++;
			fputs("\r\n", f);
			col = 0;
			continue;
		}
		eol = p[1] == '\0' || p[1] == '\r' || p[1] == '\n';
		n = 1;
		enc[0] = (char)*p;
		if (!((*p > 0x20 && *p < 0x7f && *p != '=') ||
		    ((*p == ' ' || *p == '\t') && !eol))) {
			enc[0] = '=';
			enc[1] = hex[*p >> 4];
			enc[2] = hex[*p & 15];
			n = 3;
		}
		/* The last characters of a line may take the column of the '='. */
		if (col + n > QP_LINE - 1 && !(eol && col + n <= QP_LINE)) {
			fputs("=\r\n", f);
			col = 0;
		}
		if (col == 0 && *p == '.') {
			fputs("=2E", f);
			col = 3;
			continue;
		}
		fwrite(enc, 1, n, f);
		col += n;
	}
}

/* The header of one body part. */
static void
put_part_header(FILE *f, const char *type)
{
	fprintf(f, "Content-Type: %s; charset=UTF-8\r\n"
	    "Content-Transfer-Encoding: quoted-printable\r\n\r\n", type);
}

static void
put_body(FILE *f, const struct mail *m)
{
	char boundary[TOKEN_LEN + 1];

	fputs("MIME-Version: 1.0\r\n", f);
	if (m->html == NULL) {
		put_part_header(f, "text/plain");
		put_qp(f, m->text);
		fputs("\r\n", f);
		return;
	}
	/* "=_" never occurs in quoted-printable text: no part can hold the boundary. */
	token_generate(boundary, sizeof(boundary));
	fprintf(f, "Content-Type: multipart/alternative; boundary=\"=_%.24s\"\r\n"
	    "\r\n--=_%.24s\r\n", boundary, boundary);
	put_part_header(f, "text/plain");
	put_qp(f, m->text);
	fprintf(f, "\r\n--=_%.24s\r\n", boundary);
	put_part_header(f, "text/html");
	put_qp(f, m->html);
	fprintf(f, "\r\n--=_%.24s--\r\n", boundary);
}

/* Write the message into f; 0, or -1 with *status set. */
static int
put_message(FILE *f, const struct config *cfg, const struct mail *m,
    int64_t now, char *msgid, size_t msgidsz, enum mail_status *status)
{
	char token[TOKEN_LEN + 1], *name = NULL, *subject = NULL;

	*status = MAIL_ERROR;
	if ((name = one_line(cfg->chat_name)) == NULL ||
	    (subject = one_line(m->subject)) == NULL)
		goto out;
	token_generate(token, sizeof(token));
	snprintf(msgid, msgidsz, "%s%s", token, strchr(cfg->mail_from, '@'));
	put_mailbox(f, "From", name, cfg->mail_from);
	fprintf(f, "To: <%s>\r\n", m->to);
	if (m->reply_to != NULL)
		fprintf(f, "Reply-To: <%s>\r\n", m->reply_to);
	put_text_header(f, "Subject", subject);
	put_date(f, now);
	fprintf(f, "Message-ID: <%s>\r\n", msgid);
	/* RFC 3834: no out-of-office replies to a machine. */
	fputs("Auto-Submitted: auto-generated\r\n", f);
	put_body(f, m);
	*status = MAIL_OK;
out:
	free(name);
	free(subject);
	return *status == MAIL_OK ? 0 : -1;
}

char *
mail_compose(const struct config *cfg, const struct mail *m, int64_t now,
    char *msgid, size_t msgidsz, enum mail_status *status)
{
	char *buf = NULL;
	size_t len = 0;
	FILE *f;
	int rc;

	*status = MAIL_INVALID;
	if (m->to == NULL || !field_email_valid(m->to) || m->subject == NULL ||
	    m->text == NULL || (m->reply_to != NULL &&
	    !field_email_valid(m->reply_to)) ||
	    !field_email_valid(cfg->mail_from) || msgidsz < MAIL_ID_MAX)
		return NULL;
	*status = MAIL_ERROR;
	if ((f = open_memstream(&buf, &len)) == NULL)
		return NULL;
	rc = put_message(f, cfg, m, now, msgid, msgidsz, status);
	if (ferror(f)) {
		rc = -1;
		*status = MAIL_ERROR;
	}
	if (fclose(f) != 0 || rc == -1) {
		free(buf);
		return NULL;
	}
	return buf;
}

enum mail_status
mail_enqueue(struct db *db, const struct config *cfg, const struct mail *m,
    int64_t now, int64_t *id)
{
	char msgid[MAIL_ID_MAX], *message;
	enum mail_status st;
	sqlite3_stmt *s;
	int rc;

	if (id != NULL)
		*id = 0;
	if (!mail_enabled(cfg))
		return MAIL_OK;
	if (m->kind == NULL || m->kind[0] == '\0')
		return MAIL_INVALID;
	if ((message = mail_compose(cfg, m, now, msgid, sizeof(msgid), &st)) ==
	    NULL)
		return st;
	if ((s = db_stmt(db, stmts[STMT_INSERT])) == NULL) {
		free(message);
		return MAIL_ERROR;
	}
	sqlite3_bind_text(s, 1, m->kind, -1, SQLITE_STATIC);
	if (m->session_id > 0)
		sqlite3_bind_int64(s, 2, m->session_id);
	sqlite3_bind_text(s, 3, m->to, -1, SQLITE_STATIC);
	sqlite3_bind_text(s, 4, message, -1, SQLITE_STATIC);
	sqlite3_bind_text(s, 5, msgid, -1, SQLITE_STATIC);
	sqlite3_bind_int64(s, 6, now);
	rc = sqlite3_step(s);
	db_done(s);
	free(message);
	if (rc != SQLITE_DONE)
		return MAIL_ERROR;
	if (id != NULL)
		*id = sqlite3_last_insert_rowid(db_handle(db));
	return MAIL_OK;
}

enum mail_status
mail_enqueue_team(struct db *db, const struct config *cfg,
    const struct mail *m, int64_t now)
{
	struct mail one = *m;
	char *list, *p, *save = NULL, *addr;
	enum mail_status st = MAIL_OK;
	size_t n;

	if (!mail_enabled(cfg) || cfg->mail_team[0] == '\0')
		return MAIL_OK;
	if ((list = strdup(cfg->mail_team)) == NULL)
		return MAIL_ERROR;
	for (p = strtok_r(list, ",", &save); p != NULL && st != MAIL_ERROR;
	    p = strtok_r(NULL, ",", &save)) {
		addr = p + strspn(p, " \t");
		n = strlen(addr);
		while (n > 0 && (addr[n - 1] == ' ' || addr[n - 1] == '\t'))
			addr[--n] = '\0';
		one.to = addr;
		/* Not an address: chat-mail refused to start; nothing to send it to. */
		if (field_email_valid(addr))
			st = mail_enqueue(db, cfg, &one, now, NULL);
	}
	free(list);
	return st == MAIL_ERROR ? MAIL_ERROR : MAIL_OK;
}
