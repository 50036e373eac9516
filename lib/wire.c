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
