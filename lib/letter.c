#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "letter.h"

struct letter {
	FILE *text, *html;
	char *tbuf, *hbuf;
	size_t tlen, hlen;
	char tz[128];
};

/* s in HTML, escaped, its line ends as <br>. */
static void
put_escaped(FILE *f, const char *s)
{
	for (; *s != '\0'; s++) {
		if (*s == '&')
			fputs("&amp;", f);
		else if (*s == '<')
			fputs("&lt;", f);
		else if (*s == '>')
			fputs("&gt;", f);
		else if (*s == '"')
			fputs("&quot;", f);
		else if (*s == '\'')
			fputs("&#39;", f);
		else if (*s == '\n')
			fputs("<br>\n", f);
		else if (*s != '\r')
			fputc(*s, f);
	}
}

/* at (ms) as local time: "2026-11-24 12:48 CET". */
static const char *
local_time(const struct letter *l, int64_t at, char *out, size_t outsz)
{
	time_t t = (time_t)(at / 1000);
	struct tm tm;

	/* Single-threaded, and nothing else in the programs uses local time. */
	setenv("TZ", l->tz, 1);
	tzset();
	if (localtime_r(&t, &tm) == NULL ||
	    strftime(out, outsz, "%Y-%m-%d %H:%M %Z", &tm) == 0)
		snprintf(out, outsz, "?");
	return out;
}

struct letter *
letter_new(const char *title, const char *zone)
{
	struct letter *l = calloc(1, sizeof(*l));

	if (l == NULL)
		return NULL;
	snprintf(l->tz, sizeof(l->tz), ":%s", zone);
	if ((l->text = open_memstream(&l->tbuf, &l->tlen)) == NULL ||
	    (l->html = open_memstream(&l->hbuf, &l->hlen)) == NULL) {
		letter_free(l);
		return NULL;
	}
	fputs("<!DOCTYPE html>\n<html><head><meta charset=\"utf-8\"><title>",
	    l->html);
	put_escaped(l->html, title);
	fputs("</title></head>\n<body style=\"font-family: sans-serif; "
	    "line-height: 1.4\">\n", l->html);
	return l;
}

void
letter_free(struct letter *l)
{
	if (l == NULL)
		return;
	if (l->text != NULL)
		fclose(l->text);
	if (l->html != NULL)
		fclose(l->html);
	free(l->tbuf);
	free(l->hbuf);
	free(l);
}

void
letter_p(struct letter *l, const char *s)
{
	fprintf(l->text, "%s\n\n", s);
	fputs("<p>", l->html);
	put_escaped(l->html, s);
	fputs("</p>\n", l->html);
}

void
letter_field(struct letter *l, const char *label, const char *value)
{
	fprintf(l->text, "%s: %s\n", label, value);
	fputs("<div><b>", l->html);
	put_escaped(l->html, label);
	fputs(":</b> ", l->html);
	put_escaped(l->html, value);
	fputs("</div>\n", l->html);
}

void
letter_gap(struct letter *l)
{
	fputs("\n", l->text);
	fputs("<p></p>\n", l->html);
}

void
letter_link(struct letter *l, const char *what, const char *url)
{
	fprintf(l->text, "%s:\n%s\n\n", what, url);
	fputs("<p><a href=\"", l->html);
	put_escaped(l->html, url);
	fputs("\">", l->html);
	put_escaped(l->html, what);
	fputs("</a></p>\n", l->html);
}

void
letter_quote(struct letter *l, const char *s)
{
	const char *p = s;
	size_t n;

	while (*p != '\0') {
		n = strcspn(p, "\r\n");
		fprintf(l->text, "> %.*s\n", (int)n, p);
		p += n;
		p += p[0] == '\r' && p[1] == '\n' ? 2 : p[0] != '\0';
	}
	fputs("\n", l->text);
	fputs("<blockquote style=\"margin: 0.5em 0; padding-left: 0.8em; "
	    "border-left: 3px solid #ccc\">", l->html);
	put_escaped(l->html, s);
	fputs("</blockquote>\n", l->html);
}

void
letter_said(struct letter *l, const char *who, int64_t at, const char *text)
{
	char when[64];

	local_time(l, at, when, sizeof(when));
	fprintf(l->text, "[%s] %s:\n%s\n\n", when, who, text);
	fputs("<p><b>", l->html);
	put_escaped(l->html, who);
	fprintf(l->html, "</b> <span style=\"color: #666\">%s</span><br>\n",
	    when);
	put_escaped(l->html, text);
	fputs("</p>\n", l->html);
}

void
letter_event(struct letter *l, int64_t at, const char *text)
{
	char when[64];

	local_time(l, at, when, sizeof(when));
	fprintf(l->text, "[%s] -- %s --\n\n", when, text);
	fputs("<p style=\"color: #666; font-style: italic\">", l->html);
	put_escaped(l->html, text);
	fprintf(l->html, " &middot; %s</p>\n", when);
}

int
letter_finish(struct letter *l, const char **text, const char **html)
{
	int rc = 0;

	fputs("</body></html>\n", l->html);
	if (ferror(l->text) || ferror(l->html))
		rc = -1;
	if (fclose(l->text) != 0)
		rc = -1;
	if (fclose(l->html) != 0)
		rc = -1;
	l->text = l->html = NULL;
	*text = l->tbuf;
	*html = l->hbuf;
	return rc == 0 && l->tbuf != NULL && l->hbuf != NULL ? 0 : -1;
}
