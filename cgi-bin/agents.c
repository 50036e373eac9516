/*
 * Agents, as other agents see them.
 *
 * GET /api/v1/agents   agent: the enabled agents, online or not, how busy
 */
#include "api.h"
#include "../lib/agent.h"

/* The list being built, and the limit every entry shows. */
struct listing {
	json_t *list;
	long max_active;
};

static int
append_agent(const struct agent_load *a, void *arg)
{
	struct listing *l = arg;
	json_t *obj = json_pack("{s:I,s:s,s:b,s:I,s:o}",
	    "id", (json_int_t)a->id,
	    "displayName", a->display_name,
	    "online", a->online,
	    "activeChats", (json_int_t)a->active,
	    "maxActive", l->max_active > 0 ?
	    json_integer((json_int_t)l->max_active) : json_null());

	return obj != NULL && json_array_append_new(l->list, obj) == 0 ? 0 : -1;
}

void
agents_list(struct call *c)
{
	struct listing l = { json_array(), c->api->cfg->agent_max_active };
	json_t *reply;

	if (l.list == NULL || relay_prune_agents(c->api->relay) == -1 ||
	    agent_each_load(c->api->db, relay_seen_after(c->api->relay,
	    c->req->now), append_agent, &l) != AGENT_OK) {
		api_fail_internal(c, "agent list");
		json_decref(l.list);
		return;
	}
	reply = json_pack("{s:o}", "agents", l.list);
	http_reply_json(c->req, 200, NULL, reply);
	json_decref(reply);
}
