/*
 * Whether anyone can answer now, and what the visitor page needs to say
 * so: business hours, agents online, the pre-chat form's settings.
 *
 * GET /api/v1/availability   anyone
 */
#include "api.h"
#include "../lib/agent.h"
#include "../lib/hours.h"
#include "../lib/mail.h"

static const char *const email_fields[] = {
	[PRECHAT_EMAIL_OFF] = "off",
	[PRECHAT_EMAIL_OPTIONAL] = "optional",
	[PRECHAT_EMAIL_REQUIRED] = "required",
};

static int
count_online(const struct agent_load *a, void *arg)
{
	*(long *)arg += a->online;
	return 0;
}

void
availability_get(struct call *c)
{
	const struct config *cfg = c->api->cfg;
	int64_t next = 0;
	long online = 0;
	json_t *obj, *hours;
	int open;

	if (relay_prune_agents(c->api->relay) == -1 ||
	    agent_each_load(c->api->db, relay_seen_after(c->api->relay,
	    c->req->now), count_online, &online) != AGENT_OK) {
		api_fail_internal(c, "availability");
		return;
	}
	open = hours_open_at(&cfg->business, c->req->now, &next);
	hours = hours_always_open(&cfg->business) ? json_null() :
	    hours_json(&cfg->business);
	obj = json_pack("{s:b,s:s?,s:I,s:o,s:s,s:I,s:I,s:s,s:s?,s:b,s:s}",
	    "open", open && online > 0,
	    "reason", !open ? "closed" : online == 0 ? "no_agents" : NULL,
	    "agentsOnline", (json_int_t)online,
	    "hours", hours,
	    "timeZone", cfg->timezone,
	    "unclaimedTimeout", (json_int_t)cfg->unclaimed_timeout,
	    "alertRepeat", (json_int_t)cfg->alert_repeat,
	    "emailField", email_fields[cfg->prechat_email],
	    "privacyText", cfg->privacy_text[0] != '\0' ? cfg->privacy_text :
	    NULL,
	    "mail", mail_enabled(cfg),
	    "chatName", cfg->chat_name);
	if (obj == NULL || wire_set_time(obj, "nextOpenAt", !open ? next : 0) ==
	    -1) {
		json_decref(obj);
		api_fail_internal(c, "availability reply");
		return;
	}
	http_reply_json(c->req, 200, NULL, obj);
	json_decref(obj);
}
