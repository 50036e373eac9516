'use strict';
// Sessions over REST and what connected users are told: routing to the
// least busy online agent, the queue, claim, transfer, close, history
// paging, who may see what, and presence after a handler is killed.

const { describe, it, before, after } = require('node:test');
const assert = require('node:assert/strict');
const { startStack } = require('./stack');
const { connectReady, api, newCustomer, newAgent, handlerPids, sleep } = require('./ws-client');

// The contract's fields, and the additions the README lists (who the agent
// is, the customer's email, where the visitor is, a left message).
const SESSION_KEYS = ['agentId', 'agentName', 'channel', 'closedAt', 'context', 'createdAt',
  'customerEmail', 'customerId', 'customerName', 'id', 'kind', 'status', 'subject'];

describe('sessions', () => {
  let stack;

  before(async () => { stack = await startStack({ CHAT_AGENT_MAX_ACTIVE: '3' }); });
  after(async () => { await stack.stop(); });

  // Every agent of an earlier test disconnected and disabled, so routing
  // in each test sees only its own agents.
  async function retire(...agents) {
    for (const a of agents) {
      if (a.conn) await a.conn.close();
      await stack.chatctl(['agent', 'disable', a.username]);
    }
    await sleep(100);
  }

  it('queues a session while no agent is online and returns the open one on a repeat', async () => {
    const c = await newCustomer(stack, 'Li Si');
    const first = await api(stack, 'POST', '/api/v1/sessions', { token: c.token, body: { subject: 'Billing' } });
    assert.equal(first.status, 201);
    assert.deepEqual(Object.keys(first.json).sort(), SESSION_KEYS);
    assert.equal(first.json.status, 'queued');
    assert.equal(first.json.agentId, null);
    assert.equal(first.json.customerId, c.id);
    assert.equal(first.json.customerName, 'Li Si');
    assert.equal(first.json.channel, 'WEB');
    assert.equal(first.json.subject, 'Billing');
    assert.equal(first.json.closedAt, null);
    const again = await api(stack, 'POST', '/api/v1/sessions', { token: c.token });
    assert.equal(again.status, 200);
    assert.deepEqual(again.json, first.json);
    // Double click: two at once still make one session.
    const c2 = await newCustomer(stack);
    const both = await Promise.all([1, 2].map(() =>
      api(stack, 'POST', '/api/v1/sessions', { token: c2.token, body: {} })));
    assert.deepEqual(both.map((r) => r.status).sort(), [200, 201]);
    assert.equal(both[0].json.id, both[1].json.id);
  });

  it('refuses session calls with the wrong role or bad input', async () => {
    const a = await newAgent(stack);
    const c = await newCustomer(stack);
    assert.equal((await api(stack, 'POST', '/api/v1/sessions', { token: a.token })).json.error.code, 'FORBIDDEN');
    assert.equal((await api(stack, 'POST', '/api/v1/sessions', { token: c.token, body: { subject: 7 } })).status, 400);
    assert.equal((await api(stack, 'POST', '/api/v1/sessions', { token: c.token, body: { subject: 'x'.repeat(201) } })).status, 400);
    assert.equal((await api(stack, 'POST', '/api/v1/sessions')).json.error.code, 'MISSING_TOKEN');
    const bad = await api(stack, 'GET', '/api/v1/sessions?status=open', { token: c.token });
    assert.equal(bad.status, 400);
    assert.match(bad.json.error.message, /status/);
    assert.equal((await api(stack, 'GET', '/api/v1/sessions/999999', { token: c.token })).status, 404);
    assert.equal((await api(stack, 'GET', '/api/v1/sessions/abc', { token: c.token })).status, 404);
    assert.equal((await api(stack, 'POST', '/api/v1/sessions/1/claim', { token: c.token })).json.error.code, 'FORBIDDEN');
    await retire(a);
  });

  it('routes a new session to the online agent with the fewest active sessions', async () => {
    const a1 = await newAgent(stack);
    const a2 = await newAgent(stack);
    a1.conn = (await connectReady(stack, a1.token)).client;
    a2.conn = (await connectReady(stack, a2.token)).client;
    const assigned = [];
    for (let i = 0; i < 4; i++) {
      const c = await newCustomer(stack);
      const s = await api(stack, 'POST', '/api/v1/sessions', { token: c.token });
      assert.equal(s.json.status, 'active');
      assigned.push(s.json.agentId);
    }
    assert.deepEqual(assigned.filter((id) => id === a1.id).length, 2);
    assert.deepEqual(assigned.filter((id) => id === a2.id).length, 2);
    await retire(a1, a2);
  });

  it('tells online agents of a queued session, gives the claimer its messages, and refuses a second claim', async () => {
    const c = await newCustomer(stack);
    const cc = (await connectReady(stack, c.token)).client;
    const s = (await api(stack, 'POST', '/api/v1/sessions', { token: c.token })).json;
    assert.equal(s.status, 'queued');
    cc.send({ type: 'message', sessionId: s.id, text: 'anyone there?' });
    const waiting = (await cc.nextType('ack')).message;

    const a1 = await newAgent(stack);
    const a2 = await newAgent(stack);
    a1.conn = (await connectReady(stack, a1.token)).client;
    a2.conn = (await connectReady(stack, a2.token)).client;
    // The queue: agents see queued sessions in their list.
    const list = await api(stack, 'GET', '/api/v1/sessions?status=queued', { token: a1.token });
    assert.ok(list.json.sessions.some((x) => x.id === s.id));
    // An agent may look at a queued session before claiming it.
    assert.equal((await api(stack, 'GET', `/api/v1/sessions/${s.id}/messages`, { token: a2.token })).status, 200);

    const claim = await api(stack, 'POST', `/api/v1/sessions/${s.id}/claim`, { token: a1.token });
    assert.equal(claim.status, 200);
    assert.equal(claim.json.status, 'active');
    assert.equal(claim.json.agentId, a1.id);
    const backlog = await a1.conn.nextType('message');
    assert.deepEqual(backlog.message, waiting);
    await cc.next((f) => f.type === 'session' && f.session.id === s.id && f.session.status === 'active');
    await a2.conn.next((f) => f.type === 'session' && f.session.id === s.id && f.session.agentId === a1.id);
    const second = await api(stack, 'POST', `/api/v1/sessions/${s.id}/claim`, { token: a2.token });
    assert.equal(second.status, 409);
    assert.equal(second.json.error.code, 'CONFLICT');
    // Only its agent sees it now.
    assert.equal((await api(stack, 'GET', `/api/v1/sessions/${s.id}`, { token: a2.token })).status, 403);
    await cc.close();
    await retire(a1, a2);
  });

  it('queues a session when every online agent is full, and tells them', async () => {
    const a = await newAgent(stack);
    a.conn = (await connectReady(stack, a.token)).client;
    for (let i = 0; i < 3; i++) {
      const c = await newCustomer(stack);
      const s = (await api(stack, 'POST', '/api/v1/sessions', { token: c.token })).json;
      assert.equal(s.agentId, a.id);
    }
    const c = await newCustomer(stack);
    const s = (await api(stack, 'POST', '/api/v1/sessions', { token: c.token })).json;
    assert.equal(s.status, 'queued', 'CHAT_AGENT_MAX_ACTIVE=3 reached');
    const ev = await a.conn.next((f) => f.type === 'session' && f.session.id === s.id);
    assert.equal(ev.session.status, 'queued');
    assert.equal((await api(stack, 'POST', `/api/v1/sessions/${s.id}/claim`, { token: a.token })).status, 200,
      'an agent may still claim beyond the routing limit');
    await retire(a);
  });

  it('transfers a session to another agent and tells all three', async () => {
    const a1 = await newAgent(stack);
    a1.conn = (await connectReady(stack, a1.token)).client;
    const c = await newCustomer(stack);
    const cc = (await connectReady(stack, c.token)).client;
    const s = (await api(stack, 'POST', '/api/v1/sessions', { token: c.token })).json;
    assert.equal(s.agentId, a1.id);
    const a2 = await newAgent(stack);
    a2.conn = (await connectReady(stack, a2.token)).client;

    assert.equal((await api(stack, 'POST', `/api/v1/sessions/${s.id}/transfer`,
      { token: a2.token, body: { agentId: a2.id } })).status, 403, 'only the assigned agent');
    assert.equal((await api(stack, 'POST', `/api/v1/sessions/${s.id}/transfer`,
      { token: a1.token, body: { agentId: 999999 } })).status, 400);
    assert.equal((await api(stack, 'POST', `/api/v1/sessions/${s.id}/transfer`,
      { token: a1.token, body: { agentId: 'x' } })).status, 400);
    assert.equal((await api(stack, 'POST', `/api/v1/sessions/${s.id}/transfer`,
      { token: a1.token, body: { agentId: a1.id } })).status, 400);
    const t = await api(stack, 'POST', `/api/v1/sessions/${s.id}/transfer`,
      { token: a1.token, body: { agentId: a2.id } });
    assert.equal(t.status, 200);
    assert.equal(t.json.agentId, a2.id);
    for (const conn of [a1.conn, a2.conn, cc]) {
      await conn.next((f) => f.type === 'session' && f.session.id === s.id && f.session.agentId === a2.id);
    }
    // Messages now go to the new agent.
    cc.send({ type: 'message', sessionId: s.id, text: 'after the transfer' });
    assert.equal((await a2.conn.nextType('message')).message.text, 'after the transfer');
    await assert.rejects(a1.conn.nextType('message', 400));
    await cc.close();
    await retire(a1, a2);
  });

  it('closes a session for either participant, once, and says so to both', async () => {
    const a = await newAgent(stack);
    a.conn = (await connectReady(stack, a.token)).client;
    const c = await newCustomer(stack);
    const cc = (await connectReady(stack, c.token)).client;
    const s = (await api(stack, 'POST', '/api/v1/sessions', { token: c.token })).json;
    const stranger = await newCustomer(stack);
    assert.equal((await api(stack, 'POST', `/api/v1/sessions/${s.id}/close`, { token: stranger.token })).status, 403);
    const closed = await api(stack, 'POST', `/api/v1/sessions/${s.id}/close`, { token: a.token });
    assert.equal(closed.status, 200);
    assert.equal(closed.json.status, 'closed');
    assert.match(closed.json.closedAt, /Z$/);
    await cc.next((f) => f.type === 'session' && f.session.status === 'closed');
    const again = await api(stack, 'POST', `/api/v1/sessions/${s.id}/close`, { token: c.token });
    assert.equal(again.status, 200);
    assert.deepEqual(again.json, closed.json);
    // A new session may start once the old one is closed.
    const next = await api(stack, 'POST', '/api/v1/sessions', { token: c.token });
    assert.equal(next.status, 201);
    assert.notEqual(next.json.id, s.id);
    const closedList = await api(stack, 'GET', '/api/v1/sessions?status=closed', { token: c.token });
    assert.deepEqual(closedList.json.sessions.map((x) => x.id), [s.id]);
    const all = await api(stack, 'GET', '/api/v1/sessions', { token: c.token });
    assert.equal(all.json.sessions.length, 2);
    await cc.close();
    await retire(a);
  });

  it('pages through history forward with after and back with before', async () => {
    const a = await newAgent(stack);
    a.conn = (await connectReady(stack, a.token)).client;
    const c = await newCustomer(stack);
    const cc = (await connectReady(stack, c.token)).client;
    const s = (await api(stack, 'POST', '/api/v1/sessions', { token: c.token })).json;
    const url = (q) => `/api/v1/sessions/${s.id}/messages${q}`;
    // The history begins with the system line of the agent joining.
    const ids = (await api(stack, 'GET', url(''), { token: c.token })).json.messages.map((m) => m.id);
    assert.equal(ids.length, 1);
    for (let i = 0; i < 7; i++) {
      cc.send({ type: 'message', sessionId: s.id, text: `line ${i}` });
      ids.push((await cc.nextType('ack')).message.id);
    }
    let r = await api(stack, 'GET', url(''), { token: a.token });
    assert.deepEqual(r.json.messages.map((m) => m.id), ids);
    assert.equal(r.json.hasMore, false);
    r = await api(stack, 'GET', url('?limit=3'), { token: c.token });
    assert.deepEqual(r.json.messages.map((m) => m.id), ids.slice(0, 3));
    assert.equal(r.json.hasMore, true);
    r = await api(stack, 'GET', url(`?after=${ids[2]}&limit=3`), { token: c.token });
    assert.deepEqual(r.json.messages.map((m) => m.id), ids.slice(3, 6));
    assert.equal(r.json.hasMore, true);
    r = await api(stack, 'GET', url(`?after=${ids[5]}&limit=3`), { token: c.token });
    assert.deepEqual(r.json.messages.map((m) => m.id), ids.slice(6));
    assert.equal(r.json.hasMore, false);
    r = await api(stack, 'GET', url(`?before=${ids[6]}&limit=2`), { token: c.token });
    assert.deepEqual(r.json.messages.map((m) => m.id), ids.slice(4, 6));
    assert.equal(r.json.hasMore, true);
    r = await api(stack, 'GET', url(`?before=${ids[2]}&limit=5`), { token: c.token });
    assert.deepEqual(r.json.messages.map((m) => m.id), ids.slice(0, 2));
    assert.equal(r.json.hasMore, false);
    for (const q of ['?limit=0', '?limit=201', '?limit=x', '?after=-1', `?after=1&before=${ids[3]}`, '?before=0']) {
      const bad = await api(stack, 'GET', url(q), { token: c.token });
      assert.equal(bad.status, 400, q);
      assert.equal(bad.json.error.code, 'INVALID_REQUEST');
    }
    const stranger = await newCustomer(stack);
    assert.equal((await api(stack, 'GET', url(''), { token: stranger.token })).status, 403);
    await cc.close();
    await retire(a);
  });

  it('forgets an agent whose handler was killed, so routing skips it', async () => {
    const a = await newAgent(stack);
    const before = handlerPids(stack.db);
    const { client } = await connectReady(stack, a.token);
    const pid = handlerPids(stack.db).find((p) => !before.includes(p));
    process.kill(pid, 'SIGKILL');
    await client.whenClosed(3000);
    const c = await newCustomer(stack);
    const s = await api(stack, 'POST', '/api/v1/sessions', { token: c.token });
    assert.equal(s.json.status, 'queued', 'the dead agent is not online');
    await retire(a);
  });
});
