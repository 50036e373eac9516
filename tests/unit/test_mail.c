#include "testutil.h"

#include "../../lib/mail.h"
#include "../../lib/token.h"

/* 2026-11-24T11:48:14.123Z */
#define NOW 1795520894123LL

static void
mail_on(struct config *cfg)
{
	cfg->smtp_url = "smtp://127.0.0.1:2525";
	cfg->mail_from = "chat@example.com";
	cfg->chat_name = "Support";
	cfg->mail_team = "";
}

static struct mail
a_mail(void)
{
	struct mail m = { .to = "visitor@example.com", .subject = "Hello",
	    .text = "Plain text.\n", .html = "<p>HTML</p>", .kind = "test" };

	return m;
}

/* The header block of message, a new string. */
static char *
headers_of(const char *message)
{
	const char *end = strstr(message, "\r\n\r\n");

	assert_non_null(end);
	return strndup(message, (size_t)(end - message) + 2);
}

/* How many header fields (lines not starting with white space) the block has named name. */
static int
count_header(const char *head, const char *name)
{
	const char *p = head;
	size_t n = strlen(name);
	int count = 0;

	while (*p != '\0') {
		if (strncmp(p, name, n) == 0 && p[n] == ':')
			count++;
		p = strstr(p, "\r\n");
		assert_non_null(p);
		p += 2;
	}
	return count;
}

/* Every line of s ends in CRLF and is at most max characters. */
static void
assert_lines(const char *s, size_t max)
{
	const char *p = s, *end;

	while (*p != '\0') {
		end = strstr(p, "\r\n");
		assert_non_null(end);
		assert_true((size_t)(end - p) <= max);
		assert_null(memchr(p, '\n', (size_t)(end - p)));
		assert_null(memchr(p, '\r', (size_t)(end - p)));
		p = end + 2;
	}
}

static int
hexval(char c)
{
	return c >= 'A' && c <= 'F' ? c - 'A' + 10 : c - '0';
}

/* Decode quoted-printable qp (len bytes, CRLF lines) into a new string with "\n" lines. */
static char *
qp_decode(const char *qp, size_t len)
{
	char *out = malloc(len + 1), *o = out;
	size_t i;

	assert_non_null(out);
	for (i = 0; i < len; i++) {
		if (qp[i] == '=' && qp[i + 1] == '\r' && qp[i + 2] == '\n')
			i += 2;
		else if (qp[i] == '=') {
			*o++ = (char)(hexval(qp[i + 1]) * 16 + hexval(qp[i + 2]));
			i += 2;
		} else if (qp[i] == '\r' && qp[i + 1] == '\n') {
			*o++ = '\n';
			i++;
		} else
			*o++ = qp[i];
	}
	*o = '\0';
	return out;
}

/* The body of the first part of type (text/plain, text/html), decoded. */
static char *
part(const char *message, const char *type)
{
	char marker[160];
	const char *start, *end;

	snprintf(marker, sizeof(marker), "Content-Type: %s; charset=UTF-8\r\n"
	    "Content-Transfer-Encoding: quoted-printable\r\n\r\n", type);
	start = strstr(message, marker);
	assert_non_null(start);
	start += strlen(marker);
	end = strstr(start, "\r\n--=_");
	if (end == NULL)
		end = start + strlen(start) - 2;
	return qp_decode(start, (size_t)(end - start));
}

static void
mail_compose_writes_the_headers_and_both_parts(void **state)
{
	struct fixture *f = *state;
	struct mail m = a_mail();
	char id[MAIL_ID_MAX], *msg, *head, *text, *html;
	enum mail_status st;

	mail_on(&f->cfg);
	m.reply_to = "zhang@example.com";
	msg = mail_compose(&f->cfg, &m, NOW, id, sizeof(id), &st);
	assert_non_null(msg);
	assert_int_equal(st, MAIL_OK);
	head = headers_of(msg);
	assert_non_null(strstr(head, "From: \"Support\" <chat@example.com>\r\n"));
	assert_non_null(strstr(head, "To: <visitor@example.com>\r\n"));
	assert_non_null(strstr(head, "Reply-To: <zhang@example.com>\r\n"));
	assert_non_null(strstr(head, "Subject: Hello\r\n"));
	assert_non_null(strstr(head, "Date: Tue, 24 Nov 2026 11:48:14 +0000\r\n"));
	assert_non_null(strstr(head, "MIME-Version: 1.0\r\n"));
	assert_non_null(strstr(head, "Content-Type: multipart/alternative; "
	    "boundary=\"=_"));
	assert_int_equal(strlen(id), TOKEN_LEN + strlen("@example.com"));
	assert_string_equal(id + TOKEN_LEN, "@example.com");
	assert_non_null(strstr(head, "Message-ID: <"));
	assert_non_null(strstr(head, id));
	assert_lines(msg, 78);
	text = part(msg, "text/plain");
	html = part(msg, "text/html");
	assert_string_equal(text, "Plain text.\n");
	assert_string_equal(html, "<p>HTML</p>");
	free(text);
	free(html);
	free(head);
	free(msg);
}

static void
mail_compose_writes_text_only_without_html(void **state)
{
	struct fixture *f = *state;
	struct mail m = a_mail();
	char id[MAIL_ID_MAX], *msg, *text;
	enum mail_status st;

	mail_on(&f->cfg);
	m.html = NULL;
	msg = mail_compose(&f->cfg, &m, NOW, id, sizeof(id), &st);
	assert_non_null(msg);
	assert_null(strstr(msg, "multipart"));
	assert_null(strstr(msg, "Reply-To"));
	text = part(msg, "text/plain");
	assert_string_equal(text, "Plain text.\n");
	free(text);
	free(msg);
}

static void
mail_compose_refuses_what_is_not_an_address(void **state)
{
	static const char *const bad[] = {
		"", "plain", "a@b", "two@@example.com", "a b@example.com",
		"x@example.com\r\nBcc: y@example.com", "x@example.com>",
		"<x@example.com", "x@exa mple.com", "\"q\"@example.com",
		"x@-example.com", ".x@example.com",
	};
	struct fixture *f = *state;
	struct mail m;
	char id[MAIL_ID_MAX];
	enum mail_status st;
	size_t i;

	mail_on(&f->cfg);
	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		m = a_mail();
		m.to = bad[i];
		assert_null(mail_compose(&f->cfg, &m, NOW, id, sizeof(id), &st));
		assert_int_equal(st, MAIL_INVALID);
		m = a_mail();
		m.reply_to = bad[i];
		assert_null(mail_compose(&f->cfg, &m, NOW, id, sizeof(id), &st));
		assert_int_equal(st, MAIL_INVALID);
	}
	m = a_mail();
	f->cfg.mail_from = "not an address";
	assert_null(mail_compose(&f->cfg, &m, NOW, id, sizeof(id), &st));
	assert_int_equal(st, MAIL_INVALID);
}

static void
mail_compose_lets_no_text_add_a_header(void **state)
{
	struct fixture *f = *state;
	struct mail m = a_mail();
	char id[MAIL_ID_MAX], *msg, *head;
	enum mail_status st;

	mail_on(&f->cfg);
	f->cfg.chat_name = "Evil\r\nBcc: victim@example.com";
	m.subject = "Hi\r\nBcc: victim@example.com\nX-Injected: 1\r\n\r\nbody";
	msg = mail_compose(&f->cfg, &m, NOW, id, sizeof(id), &st);
	assert_non_null(msg);
	head = headers_of(msg);
	assert_int_equal(count_header(head, "Bcc"), 0);
	assert_int_equal(count_header(head, "X-Injected"), 0);
	assert_int_equal(count_header(head, "Subject"), 1);
	assert_int_equal(count_header(head, "From"), 1);
	assert_non_null(strstr(head, "\"Evil  Bcc: victim@example.com\""));
	free(head);
	free(msg);
}

/* Decode the encoded-words of the header name in head; each one whole UTF-8 on its own. */
static char *
decode_words(const char *head, const char *name)
{
	char key[64], *out = calloc(1, 4096), *o = out;
	const char *p, *end;
	unsigned char bin[256];
	size_t binlen, i;

	snprintf(key, sizeof(key), "%s: ", name);
	p = strstr(head, key);
	assert_non_null(p);
	p += strlen(key);
	while ((p = strstr(p, "=?UTF-8?B?")) != NULL &&
	    (p < strstr(head, key) + strlen(key) + 3000)) {
		p += 10;
		end = strstr(p, "?=");
		assert_int_equal(sodium_base642bin(bin, sizeof(bin), p,
		    (size_t)(end - p), NULL, &binlen, NULL,
		    sodium_base64_VARIANT_ORIGINAL), 0);
		/* A word never ends inside a character. */
		for (i = binlen; i > 0 && (bin[i - 1] & 0xc0) == 0x80; i--)
			;
		if (i > 0 && bin[i - 1] >= 0xc0) {
			size_t need = bin[i - 1] >= 0xf0 ? 4 : bin[i - 1] >= 0xe0 ?
			    3 : 2;
			assert_int_equal(binlen - (i - 1), need);
		}
		memcpy(o, bin, binlen);
		o += binlen;
		p = end + 2;
		if (strncmp(p, "\r\n =?UTF-8?B?", 13) != 0)
			break;
	}
	return out;
}

static void
mail_compose_encodes_a_long_utf8_subject_in_whole_characters(void **state)
{
	struct fixture *f = *state;
	struct mail m = a_mail();
	char id[MAIL_ID_MAX], subject[1024] = "", *msg, *head, *got;
	enum mail_status st;
	int i;

	mail_on(&f->cfg);
	f->cfg.chat_name = "客服中心 Zürich";
	for (i = 0; i < 30; i++)
		strcat(subject, "你好 ü ");
	m.subject = subject;
	msg = mail_compose(&f->cfg, &m, NOW, id, sizeof(id), &st);
	assert_non_null(msg);
	assert_lines(msg, 78);
	head = headers_of(msg);
	assert_non_null(strstr(head, "Subject: =?UTF-8?B?"));
	got = decode_words(head, "Subject");
	/* The trailing space went with the trim. */
	subject[strlen(subject) - 1] = '\0';
	assert_string_equal(got, subject);
	free(got);
	got = decode_words(head, "From");
	assert_string_equal(got, "客服中心 Zürich");
	assert_non_null(strstr(head, "<chat@example.com>\r\n"));
	free(got);
	free(head);
	free(msg);
}

static void
mail_compose_keeps_quoted_printable_lines_at_76(void **state)
{
	static const char *const texts[] = {
		"short",
		"trailing space \nand tab\t\nend ",
		".leading dot\n..two\n",
		"a=b == c\n",
		"CRLF\r\nand lone CR\rhere\n\n\nblank lines\n",
		"ünïcödé and 中文 and emoji 😀 across the soft line breaks of a "
		    "line that is long enough to need several of them, again and "
		    "again and again and again and again and again",
	};
	struct fixture *f = *state;
	struct mail m = a_mail();
	char id[MAIL_ID_MAX], longword[400], *msg, *text, *want, *w;
	const char *p;
	enum mail_status st;
	size_t i;

	mail_on(&f->cfg);
	memset(longword, 'x', sizeof(longword) - 1);
	longword[sizeof(longword) - 1] = '\0';
	for (i = 0; i <= sizeof(texts) / sizeof(texts[0]); i++) {
		m.text = i < sizeof(texts) / sizeof(texts[0]) ? texts[i] : longword;
		m.html = NULL;
		msg = mail_compose(&f->cfg, &m, NOW, id, sizeof(id), &st);
		assert_non_null(msg);
		assert_lines(msg, 76);
		/* No line of the body starts with a dot. */
		assert_null(strstr(strstr(msg, "\r\n\r\n"), "\r\n."));
		text = part(msg, "text/plain");
		/* Line ends come back as "\n", whatever they were. */
		want = strdup(m.text);
		for (p = m.text, w = want; *p != '\0'; p++) {
			if (p[0] == '\r' && p[1] == '\n')
				continue;
			*w++ = *p == '\r' ? '\n' : *p;
		}
		*w = '\0';
		assert_string_equal(text, want);
		free(want);
		free(text);
		free(msg);
	}
}

static void
mail_enqueue_does_nothing_when_mail_is_off(void **state)
{
	struct fixture *f = *state;
	struct mail m = a_mail();
	int64_t id = -1;

	assert_int_equal(mail_enabled(&f->cfg), 0);
	assert_int_equal(mail_enqueue(f->db, &f->cfg, &m, NOW, &id), MAIL_OK);
	assert_int_equal(id, 0);
	assert_int_equal(tu_query_int(f->db, "SELECT count(*) FROM mail_queue"),
	    0);
}

static void
mail_enqueue_stores_the_message_due_now(void **state)
{
	struct fixture *f = *state;
	struct mail m = a_mail();
	int64_t id;

	mail_on(&f->cfg);
	assert_int_equal(mail_enqueue(f->db, &f->cfg, &m, NOW, &id), MAIL_OK);
	assert_true(id > 0);
	assert_int_equal(tu_query_int(f->db, "SELECT count(*) FROM mail_queue "
	    "WHERE kind = 'test' AND recipient = 'visitor@example.com' AND "
	    "next_at = 1795520894123 AND attempts = 0 AND session_id IS NULL "
	    "AND message LIKE '%' || message_id || '%'"), 1);
}

static void
mail_enqueue_team_queues_one_mail_per_address(void **state)
{
	struct fixture *f = *state;
	struct mail m = a_mail();

	mail_on(&f->cfg);
	f->cfg.mail_team = " a@example.com,b@example.com , not-one, c@example.com";
	assert_int_equal(mail_enqueue_team(f->db, &f->cfg, &m, NOW), MAIL_OK);
	assert_int_equal(tu_query_int(f->db, "SELECT count(*) FROM mail_queue"),
	    3);
	assert_int_equal(tu_query_int(f->db, "SELECT count(DISTINCT message_id) "
	    "FROM mail_queue"), 3);
	assert_int_equal(tu_query_int(f->db, "SELECT count(*) FROM mail_queue "
	    "WHERE recipient IN ('a@example.com', 'b@example.com', "
	    "'c@example.com')"), 3);
}

static void
mail_check_config_names_the_bad_setting(void **state)
{
	static const struct {
		const char *url, *from, *team, *user, *password, *named;
	} cases[] = {
		{ "http://mail.example.com", "c@example.com", "", "", "", "CHAT_SMTP_URL" },
		{ "smtp://", "c@example.com", "", "", "", "CHAT_SMTP_URL" },
		{ "smtp://mail.example.com", "chat", "", "", "", "CHAT_MAIL_FROM" },
		{ "smtp://mail.example.com", "c@example.com", "a@example.com, b", "", "", "CHAT_MAIL_TEAM" },
		{ "smtp://mail.example.com", "c@example.com", "", "", "pw", "CHAT_SMTP_PASSWORD" },
		{ "smtps://mail.example.com:465", "c@example.com", "a@example.com, b@example.com", "u", "pw", NULL },
	};
	struct fixture *f = *state;
	char err[512];
	size_t i;

	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		f->cfg.smtp_url = cases[i].url;
		f->cfg.mail_from = cases[i].from;
		f->cfg.mail_team = cases[i].team;
		f->cfg.smtp_user = cases[i].user;
		f->cfg.smtp_password = cases[i].password;
		err[0] = '\0';
		if (cases[i].named == NULL) {
			assert_int_equal(mail_check_config(&f->cfg, err,
			    sizeof(err)), 0);
			continue;
		}
		assert_int_equal(mail_check_config(&f->cfg, err, sizeof(err)), -1);
		assert_non_null(strstr(err, cases[i].named));
	}
}

#define T(name) cmocka_unit_test_setup_teardown(name, tu_setup_db, tu_teardown_db)

int
main(void)
{
	const struct CMUnitTest tests[] = {
		T(mail_compose_writes_the_headers_and_both_parts),
		T(mail_compose_writes_text_only_without_html),
		T(mail_compose_refuses_what_is_not_an_address),
		T(mail_compose_lets_no_text_add_a_header),
		T(mail_compose_encodes_a_long_utf8_subject_in_whole_characters),
		T(mail_compose_keeps_quoted_printable_lines_at_76),
		T(mail_enqueue_does_nothing_when_mail_is_off),
		T(mail_enqueue_stores_the_message_due_now),
		T(mail_enqueue_team_queues_one_mail_per_address),
		T(mail_check_config_names_the_bad_setting),
	};

	return cmocka_run_group_tests_name("mail", tests, NULL, NULL);
}
