#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "clock.h"
#include "wire.h"

int
wire_set_time(json_t *obj, const char *key, int64_t ms)
{
	char buf[CLOCK_RFC3339_LEN + 1];

	return json_object_set_new(obj, key, ms > 0 ?
	    json_string(clock_format(ms, buf, sizeof(buf))) : json_null());
}

json_t *
wire_id(int64_t id)
{
	return id > 0 ? json_integer((json_int_t)id) : json_null();
}

/* {"type", "agentName"?, "fromAgentName"?} of a system line. */
static json_t *
wire_event(const struct message *m)
{
	json_t *obj = json_pack("{s:s}", "type", message_event_name(m->event));

	if (obj == NULL)
		return NULL;
	if ((m->event_agent_id != 0 && json_object_set_new(obj, "agentName",
	    json_string(m->event_agent)) == -1) ||
	    (m->event_from_agent_id != 0 && json_object_set_new(obj,
	    "fromAgentName", json_string(m->event_from_agent)) == -1)) {
		json_decref(obj);
		return NULL;
	}
	return obj;
}

json_t *
wire_message(const struct message *m)
{
	json_t *obj = json_pack("{s:I,s:I,s:s,s:o,s:s,s:o}",
	    "id", (json_int_t)m->id,
	    "sessionId", (json_int_t)m->session_id,
	    "senderType", message_sender_name(m->sender_type),
	    "senderId", wire_id(m->sender_id),
	    "text", m->text,
	    "clientMsgId", m->client_msg_id[0] != '\0' ?
	    json_string(m->client_msg_id) : json_null());

	if (obj == NULL || wire_set_time(obj, "createdAt", m->created_at) == -1 ||
	    json_object_set_new(obj, "senderName", m->sender_name[0] != '\0' ?
	    json_string(m->sender_name) : json_null()) == -1 ||
	    (m->event != EVENT_NONE && json_object_set_new(obj, "event",
	    wire_event(m)) == -1)) {
		json_decref(obj);
		return NULL;
	}
	return obj;
}

json_t *
wire_session(const struct session *s)
{
	json_t *obj = json_pack("{s:I,s:I,s:s,s:o,s:s,s:s,s:o}",
	    "id", (json_int_t)s->id,
	    "customerId", (json_int_t)s->customer_id,
	    "customerName", s->customer_name,
	    "agentId", wire_id(s->agent_id),
	    "status", session_state_name(s->state),
	    "channel", s->channel,
	    "subject", s->has_subject ? json_string(s->subject) : json_null());
	json_t *context = json_loads(s->context, 0, NULL);

	/* Stored by us as an object; anything else shows as none. */
	if (!json_is_object(context)) {
		json_decref(context);
		context = json_object();
	}
	if (obj != NULL && (wire_set_time(obj, "createdAt", s->created_at) == -1 ||
	    wire_set_time(obj, "closedAt", s->closed_at) == -1 ||
	    json_object_set_new(obj, "kind", json_string(s->left_message ?
	    "message" : "chat")) == -1 ||
	    json_object_set_new(obj, "agentName", s->agent_name[0] != '\0' ?
	    json_string(s->agent_name) : json_null()) == -1 ||
	    json_object_set_new(obj, "customerEmail", s->customer_email[0] !=
	    '\0' ? json_string(s->customer_email) : json_null()) == -1 ||
	    json_object_set(obj, "context", context) == -1)) {
		json_decref(context);
		json_decref(obj);
		return NULL;
	}
	json_decref(context);
	return obj;
}

/* JSON written by hand into a growing buffer; a failed growth sticks. */
struct text {
	char *s;
	size_t len, cap;
	int failed;
};

static void
put(struct text *t, const char *s, size_t n)
{
	size_t cap;
	char *grown;

	if (t->failed)
		return;
	if (t->len + n + 1 > t->cap) {
		cap = t->cap == 0 ? 256 : t->cap;
		while (cap < t->len + n + 1)
			cap *= 2;
		if ((grown = realloc(t->s, cap)) == NULL) {
			t->failed = 1;
			return;
		}
		t->s = grown;
		t->cap = cap;
	}
	memcpy(t->s + t->len, s, n);
	t->len += n;
	t->s[t->len] = '\0';
}

static void
put_raw(struct text *t, const char *s)
{
	put(t, s, strlen(s));
}

/* s as a JSON string, UTF-8 kept as it is (as json_dumps() writes it). */
static void
put_string(struct text *t, const char *s)
{
	static const char hex[] = "0123456789abcdef";
	const char *run = s;
	char esc[7];

	put(t, "\"", 1);
	for (; *s != '\0'; s++) {
		unsigned char c = (unsigned char)*s;

		if (c >= 0x20 && c != '"' && c != '\\')
			continue;
		put(t, run, (size_t)(s - run));
		run = s + 1;
		esc[0] = '\\';
		esc[2] = '\0';
		switch (c) {
		case '"': esc[1] = '"'; break;
		case '\\': esc[1] = '\\'; break;
		case '\b': esc[1] = 'b'; break;
		case '\f': esc[1] = 'f'; break;
		case '\n': esc[1] = 'n'; break;
		case '\r': esc[1] = 'r'; break;
		case '\t': esc[1] = 't'; break;
		default:
			memcpy(esc + 1, "u00", 3);
			esc[4] = hex[c >> 4];
			esc[5] = hex[c & 15];
			esc[6] = '\0';
		}
		put_raw(t, esc);
	}
	put(t, run, (size_t)(s - run));
	put(t, "\"", 1);
}

/* ,"key": then s as a string, or null when empty. */
static void
put_field(struct text *t, const char *key, const char *s, int null_if_empty)
{
	put_raw(t, ",\"");
	put_raw(t, key);
	put_raw(t, "\":");
	if (null_if_empty && s[0] == '\0')
		put_raw(t, "null");
	else
		put_string(t, s);
}

/* ,"key": then id, or null for id <= 0. */
static void
put_id(struct text *t, const char *key, int64_t id)
{
	char num[32];

	snprintf(num, sizeof(num), ",\"%s\":", key);
	put_raw(t, num);
	if (id > 0) {
		snprintf(num, sizeof(num), "%lld", (long long)id);
		put_raw(t, num);
	} else
		put_raw(t, "null");
}

char *
wire_message_text(const struct message *m)
{
	char when[CLOCK_RFC3339_LEN + 1], head[40];
	struct text t = { NULL, 0, 0, 0 };

	snprintf(head, sizeof(head), "{\"id\":%lld", (long long)m->id);
	put_raw(&t, head);
	put_id(&t, "sessionId", m->session_id);
	put_field(&t, "senderType", message_sender_name(m->sender_type), 0);
	put_id(&t, "senderId", m->sender_id);
	put_field(&t, "text", m->text, 0);
	put_field(&t, "clientMsgId", m->client_msg_id, 1);
	put_field(&t, "createdAt", m->created_at > 0 ? clock_format(m->created_at,
	    when, sizeof(when)) : "", 1);
	put_field(&t, "senderName", m->sender_name, 1);
	if (m->event != EVENT_NONE) {
		put_raw(&t, ",\"event\":{\"type\":");
		put_string(&t, message_event_name(m->event));
		if (m->event_agent_id != 0)
			put_field(&t, "agentName", m->event_agent, 0);
		if (m->event_from_agent_id != 0)
			put_field(&t, "fromAgentName", m->event_from_agent, 0);
		put_raw(&t, "}");
	}
	put_raw(&t, "}");
	if (t.failed) {
		free(t.s);
		return NULL;
	}
	return t.s;
}
