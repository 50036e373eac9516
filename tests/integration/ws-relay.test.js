'use strict';
// Live traffic on /ws/chat: relay both ways, acks and repeats, several tabs,
// typing, ping, every in-band error code, offline delivery across
// reconnects, and tokens that stop working while connected.

const { describe, it, before, after } = require('node:test');
const assert = require('node:assert/strict');
const { startStack } = require('./stack');
const fs = require('node:fs');
const { connectReady, api, newCustomer, newAgent, handlerPids, sleep } = require('./ws-client');

const TIME_RE = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z$/;

// An agent online and a customer with a session assigned to that agent.
// Agents of earlier tests have closed their connections; their handlers
// leave the connections table within milliseconds of the close.
async function pair(stack) {
  await sleep(100);
  const agent = await newAgent(stack);
  const agentConn = await connectReady(stack, agent.token);
  const customer = await newCustomer(stack);
  const customerConn = await connectReady(stack, customer.token);
  const s = await api(stack, 'POST', '/api/v1/sessions', { token: customer.token, body: {} });
  assert.equal(s.status, 201);
  assert.equal(s.json.agentId, agent.id, 'assigned to the only online agent');
  await agentConn.client.next((f) => f.type === 'session' && f.session.id === s.json.id);
  await customerConn.client.next((f) => f.type === 'session' && f.session.id === s.json.id);
  // The line saying the agent joined: both have it before the test goes on,
  // so that it is owed to neither once they close.
  await agentConn.client.nextSystem();
  await customerConn.client.nextSystem();
  return { agent, customer, session: s.json, a: agentConn.client, c: customerConn.client };
}

function assertMessage(m, fields) {
  assert.equal(typeof m.id, 'number');
  assert.match(m.createdAt, TIME_RE);
  for (const [k, v] of Object.entries(fields)) assert.deepEqual(m[k], v, k);
}

describe('WebSocket relay', () => {
  let stack;

  before(async () => { stack = await startStack({ CHAT_WS_RATE: '5' }); });
  after(async () => { await stack.stop(); });

  it('relays a customer message to the agent and acks the sender', async () => {
    const p = await pair(stack);
    p.c.send({ type: 'message', sessionId: p.session.id, text: 'Hello, I need help', clientMsgId: 'm-1' });
    const ack = await p.c.nextType('ack');
    assert.equal(ack.clientMsgId, 'm-1');
    assertMessage(ack.message, { sessionId: p.session.id, senderType: 'customer',
      senderId: p.customer.id, text: 'Hello, I need help', clientMsgId: 'm-1' });
    const got = await p.a.nextType('message');
    assert.deepEqual(got.message, ack.message);
    await p.a.close();
    await p.c.close();
  });

  it('relays an agent message to the customer', async () => {
    const p = await pair(stack);
    p.a.send({ type: 'message', sessionId: p.session.id, text: 'How can I help?' });
    const ack = await p.a.nextType('ack');
    assert.equal(ack.clientMsgId, null);
    const got = await p.c.nextType('message');
    assertMessage(got.message, { senderType: 'agent', senderId: p.agent.id,
      text: 'How can I help?', clientMsgId: null });
    assert.equal(got.message.id, ack.message.id);
    await p.a.close();
    await p.c.close();
  });

  it('handlers idle for seconds close the database, and open it again for the next message', async () => {
    const p = await pair(stack);
    const holdsDb = (pid) => {
      try {
        return fs.readdirSync(`/proc/${pid}/fd`).some((fd) => {
          try { return fs.readlinkSync(`/proc/${pid}/fd/${fd}`) === stack.db; } catch { return false; }
        });
      } catch { return false; }	// gone
    };
    const pids = handlerPids(stack.db);
    assert.ok(pids.length >= 2, 'both handlers are running');
    let deadline = Date.now() + 15000;
    while (pids.some(holdsDb) && Date.now() < deadline) await sleep(200);
    assert.deepEqual(pids.filter(holdsDb), [], 'idle handlers have closed the database');
    p.a.send({ type: 'message', sessionId: p.session.id, text: 'Still there?', clientMsgId: 'd-1' });
    const ack = await p.a.nextType('ack');
    assert.equal(ack.message.text, 'Still there?');
    assert.deepEqual((await p.c.nextType('message')).message, ack.message);
    p.c.send({ type: 'message', sessionId: p.session.id, text: 'Yes', clientMsgId: 'd-2' });
    const back = await p.c.nextType('ack');
    assert.deepEqual((await p.a.nextType('message')).message, back.message);
    assert.ok(pids.some(holdsDb), 'a handler opened the database again');
    const list = await api(stack, 'GET', `/api/v1/sessions/${p.session.id}/messages`, { token: p.customer.token });
    assert.deepEqual(list.json.messages.filter((m) => m.senderType !== 'system').map((m) => m.text),
      ['Still there?', 'Yes']);
    await p.a.close();
    await p.c.close();
  });

  it('a repeated clientMsgId stores nothing new and answers the same ack', async () => {
    const p = await pair(stack);
    const frame = { type: 'message', sessionId: p.session.id, text: 'once', clientMsgId: 'dup-1' };
    p.c.send(frame);
    const first = await p.c.nextType('ack');
    p.c.send({ ...frame, text: 'changed text is ignored' });
    const second = await p.c.nextType('ack');
    assert.deepEqual(second, first);
    await p.a.nextType('message');
    await assert.rejects(p.a.nextType('message', 500));
    const list = await api(stack, 'GET', `/api/v1/sessions/${p.session.id}/messages`,
      { token: p.customer.token });
    assert.equal(list.json.messages.filter((m) => m.senderType !== 'system').length, 1);
    await p.a.close();
    await p.c.close();
  });

  it('answers frames sent back to back in the order they were sent', async () => {
    const p = await pair(stack);
    const sid = p.session.id;
    // Sent in one go, these reach the handler together and are stored in
    // one transaction; each still gets its own answer, in order.
    const frames = [
      { type: 'message', sessionId: sid, text: 'one', clientMsgId: 'b-1' },
      { type: 'message', sessionId: sid, text: 'two', clientMsgId: 'b-2' },
      { type: 'message', sessionId: sid, text: '   ', clientMsgId: 'b-3' },
      { type: 'message', sessionId: sid, text: 'one again', clientMsgId: 'b-1' },
      { type: 'message', sessionId: 999999999, text: 'elsewhere', clientMsgId: 'b-4' },
      { type: 'ping' },
      { type: 'message', sessionId: sid, text: 'three', clientMsgId: 'b-5' },
    ];
    for (const f of frames) p.c.send(f);
    const answers = [];
    for (let i = 0; i < frames.length; i++) answers.push(await p.c.next());
    const shape = answers.map((a) => (a.type === 'error' ? `error ${a.code} ${a.clientMsgId}` :
      a.type === 'ack' ? `ack ${a.clientMsgId} ${a.message.text}` : a.type));
    assert.deepEqual(shape, ['ack b-1 one', 'ack b-2 two', 'error INVALID_MESSAGE b-3',
      'ack b-1 one', 'error FORBIDDEN b-4', 'pong', 'ack b-5 three']);
    assert.deepEqual(answers[3], answers[0], 'the repeat answers the first ack');
    const got = [];
    for (let i = 0; i < 3; i++) got.push((await p.a.nextType('message')).message.text);
    assert.deepEqual(got, ['one', 'two', 'three']);
    await assert.rejects(p.a.nextType('message', 300));
    await p.a.close();
    await p.c.close();
  });

  it('message ids grow with time', async () => {
    const p = await pair(stack);
    const ids = [];
    for (let i = 0; i < 3; i++) {
      p.c.send({ type: 'message', sessionId: p.session.id, text: `n${i}` });
      ids.push((await p.c.nextType('ack')).message.id);
    }
    assert.ok(ids[0] < ids[1] && ids[1] < ids[2]);
    await p.a.close();
    await p.c.close();
  });

  it('keeps several tabs of one user in step', async () => {
    const p = await pair(stack);
    const tab2 = (await connectReady(stack, p.customer.token)).client;
    p.c.send({ type: 'message', sessionId: p.session.id, text: 'from tab 1', clientMsgId: 't1' });
    const ack = await p.c.nextType('ack');
    const echo = await tab2.nextType('message');
    assert.deepEqual(echo.message, ack.message);
    // The sending tab gets its ack, not a copy.
    await assert.rejects(p.c.nextType('message', 500));
    p.a.send({ type: 'message', sessionId: p.session.id, text: 'to both tabs' });
    assert.equal((await p.c.nextType('message')).message.text, 'to both tabs');
    assert.equal((await tab2.nextType('message')).message.text, 'to both tabs');
    await tab2.close();
    await p.a.close();
    await p.c.close();
  });

  it('passes typing to the other side without storing it', async () => {
    const p = await pair(stack);
    p.c.send({ type: 'typing', sessionId: p.session.id });
    assert.deepEqual(await p.a.nextType('typing'),
      { type: 'typing', sessionId: p.session.id, senderType: 'customer', senderId: p.customer.id });
    await sleep(350);
    p.a.send({ type: 'typing', sessionId: p.session.id });
    assert.deepEqual(await p.c.nextType('typing'),
      { type: 'typing', sessionId: p.session.id, senderType: 'agent', senderId: p.agent.id });
    const list = await api(stack, 'GET', `/api/v1/sessions/${p.session.id}/messages`,
      { token: p.customer.token });
    assert.equal(list.json.messages.filter((m) => m.senderType !== 'system').length, 0);
    await p.a.close();
    await p.c.close();
  });

  it('answers ping with pong', async () => {
    const p = await pair(stack);
    p.c.send({ type: 'ping' });
    assert.deepEqual(await p.c.nextType('pong'), { type: 'pong' });
    await p.a.close();
    await p.c.close();
  });

  it('answers every bad frame with its error and stays open', async () => {
    const p = await pair(stack);
    const other = await pair(stack);
    const cases = [
      ['not json', 'INVALID_REQUEST'],
      ['[1,2]', 'INVALID_REQUEST'],
      [{ text: 'no type' }, 'INVALID_REQUEST'],
      [{ type: 'dance' }, 'INVALID_REQUEST'],
      [{ type: 'message', text: 'no session' }, 'INVALID_REQUEST'],
      [{ type: 'message', sessionId: 'x', text: 'bad id' }, 'INVALID_REQUEST'],
      [{ type: 'message', sessionId: p.session.id }, 'INVALID_REQUEST'],
      [{ type: 'message', sessionId: p.session.id, text: 5 }, 'INVALID_REQUEST'],
      [{ type: 'message', sessionId: p.session.id, text: 'x', clientMsgId: 'y'.repeat(65) }, 'INVALID_REQUEST'],
      [{ type: 'message', sessionId: p.session.id, text: '' }, 'INVALID_MESSAGE'],
      [{ type: 'message', sessionId: p.session.id, text: '   \n ' }, 'INVALID_MESSAGE'],
      [{ type: 'message', sessionId: p.session.id, text: '\u00a0\u3000\u200b' }, 'INVALID_MESSAGE'],
      [{ type: 'message', sessionId: p.session.id, text: 'ring \u0007\u001b[2J' }, 'INVALID_MESSAGE'],
      [{ type: 'message', sessionId: p.session.id, text: 'x'.repeat(4001) }, 'INVALID_MESSAGE'],
      [{ type: 'message', sessionId: other.session.id, text: 'not mine' }, 'FORBIDDEN'],
      [{ type: 'message', sessionId: 999999, text: 'no such session' }, 'FORBIDDEN'],
      [{ type: 'typing', sessionId: other.session.id }, 'FORBIDDEN'],
    ];
    for (const [frame, code] of cases) {
      p.c.send(frame);
      const err = await p.c.nextType('error');
      assert.equal(err.code, code, JSON.stringify(frame));
      assert.ok(err.message.length > 0);
    }
    // The clientMsgId comes back with an error about that message.
    p.c.send({ type: 'message', sessionId: p.session.id, text: '', clientMsgId: 'e-1' });
    assert.equal((await p.c.nextType('error')).clientMsgId, 'e-1');
    // 4000 characters, some of them multi-byte, are fine.
    p.c.send({ type: 'message', sessionId: p.session.id, text: '\u4f60'.repeat(4000) });
    assert.equal((await p.c.nextType('ack')).message.text.length, 4000);
    p.c.send({ type: 'ping' });
    await p.c.nextType('pong');
    for (const x of [p.a, p.c, other.a, other.c]) await x.close();
  });

  it('answers SESSION_CLOSED after the session is closed', async () => {
    const p = await pair(stack);
    const closed = await api(stack, 'POST', `/api/v1/sessions/${p.session.id}/close`, { token: p.customer.token });
    assert.equal(closed.status, 200);
    assert.equal(closed.json.status, 'closed');
    await p.a.next((f) => f.type === 'session' && f.session.status === 'closed');
    p.c.send({ type: 'message', sessionId: p.session.id, text: 'too late', clientMsgId: 'late' });
    const err = await p.c.nextType('error');
    assert.equal(err.code, 'SESSION_CLOSED');
    assert.equal(err.clientMsgId, 'late');
    await p.a.close();
    await p.c.close();
  });

  it('answers RATE_LIMITED past the per-connection rate', async () => {
    const p = await pair(stack);
    for (let i = 0; i < 40; i++) p.c.send({ type: 'message', sessionId: p.session.id, text: `burst ${i}` });
    const err = await p.c.next((f) => f.type === 'error');
    assert.equal(err.code, 'RATE_LIMITED');
    p.c.send({ type: 'ping' });
    await p.c.nextType('pong');
    await p.a.close();
    await p.c.close();
  });

  it('pushes offline messages once, oldest first, before offline_messages_complete', async () => {
    const p = await pair(stack);
    await p.c.close();
    const sent = [];
    for (const text of ['first', 'second', 'third']) {
      p.a.send({ type: 'message', sessionId: p.session.id, text });
      sent.push((await p.a.nextType('ack')).message);
    }
    const again = await connectReady(stack, p.customer.token);
    assert.deepEqual(again.offline, sent);
    assert.equal(again.count, 3);
    const kinds = again.client.frames.map((f) => f.type);
    assert.deepEqual(kinds, ['offline_message', 'offline_message', 'offline_message',
      'offline_messages_complete']);
    await sleep(2200);
    await again.client.close();
    const third = await connectReady(stack, p.customer.token);
    assert.equal(third.count, 0);
    assert.deepEqual(third.offline, []);
    // What arrives now is live.
    p.a.send({ type: 'message', sessionId: p.session.id, text: 'live' });
    assert.equal((await third.client.nextType('message')).message.text, 'live');
    await third.client.close();
    await p.a.close();
  });

  it('a message a connected tab had for a while is not offline for the next one', async () => {
    const p = await pair(stack);
    p.a.send({ type: 'message', sessionId: p.session.id, text: 'seen live' });
    await p.c.nextType('message');
    // What was sent counts as delivered once the connection outlives it by
    // a second; marks are taken a second apart, so within two.
    await sleep(2200);
    await p.c.close();
    const again = await connectReady(stack, p.customer.token);
    assert.equal(again.count, 0);
    await again.client.close();
    await p.a.close();
  });

  it('a message sent to a receipt client as it drops is offered again to the next one', async () => {
    const p = await pair(stack);
    // The socket goes without a close frame just as the reply is written:
    // the client never confirmed it, so it is offline once more.
    p.c.send({ type: 'received', seq: 0 });
    p.c.send({ type: 'ping' });
    await p.c.nextType('pong');
    p.a.send({ type: 'message', sessionId: p.session.id, text: 'as you left' });
    const ack = await p.a.nextType('ack');
    p.c.ws._socket.destroy();
    await p.c.whenClosed();
    const again = await connectReady(stack, p.customer.token);
    assert.deepEqual(again.offline.map((m) => m.id), [ack.message.id]);
    await again.client.close();
    await p.a.close();
  });

  it('ends the connection with TOKEN_EXPIRED on logout', async () => {
    const p = await pair(stack);
    const t0 = Date.now();
    assert.equal((await api(stack, 'POST', '/api/v1/logout', { token: p.customer.token })).status, 204);
    const err = await p.c.nextType('error', 3000);
    assert.equal(err.code, 'TOKEN_EXPIRED');
    await p.c.whenClosed(3000);
    assert.ok(Date.now() - t0 < 2000, 'within a second or two');
    await p.a.close();
  });

  it('a hand-off code works once and leaves whoever made it with no token that works', async () => {
    // The attack: make a customer, hand its chat to someone else, read along.
    const p = await pair(stack);
    const made = await api(stack, 'POST', '/api/v1/customers/handoff', { token: p.customer.token });
    assert.equal(made.status, 201);
    assert.match(made.json.code, /^[A-Za-z0-9_-]{43}$/);
    const ttl = Date.parse(made.json.expiresAt) - Date.now();
    assert.ok(ttl > 50000 && ttl <= 61000, `valid about a minute: ${ttl} ms`);
    const taken = await api(stack, 'POST', '/api/v1/customers/resume', { body: { code: made.json.code } });
    assert.equal(taken.status, 200);
    assert.equal(taken.json.id, p.customer.id);
    assert.notEqual(taken.json.token, p.customer.token);
    assert.equal(taken.json.sessionId, null);
    // The maker's tokens are over, and its open connection ends.
    assert.equal((await p.c.nextType('error', 3000)).code, 'TOKEN_EXPIRED');
    await p.c.whenClosed(3000);
    assert.equal((await api(stack, 'GET', '/api/v1/me', { token: p.customer.token })).status, 401);
    const refreshed = await api(stack, 'POST', '/api/v1/customers/token',
      { body: { customerId: p.customer.id, channel: 'WEB', refreshToken: p.customer.refreshToken } });
    assert.equal(refreshed.status, 401);
    // Once only.
    const again = await api(stack, 'POST', '/api/v1/customers/resume', { body: { code: made.json.code } });
    assert.equal(again.status, 401);
    assert.equal(again.json.error.code, 'TOKEN_EXPIRED');
    // What the page got works, and reads the conversation the maker started.
    const me = await api(stack, 'GET', '/api/v1/me', { token: taken.json.token });
    assert.equal(me.status, 200);
    const list = await api(stack, 'GET', `/api/v1/sessions/${p.session.id}/messages`, { token: taken.json.token });
    assert.equal(list.status, 200);
    // Agents have no hand-off codes; a customer needs its token.
    assert.equal((await api(stack, 'POST', '/api/v1/customers/handoff', { token: p.agent.token })).status, 403);
    assert.equal((await api(stack, 'POST', '/api/v1/customers/handoff', {})).status, 401);
    await p.a.close();
  });

  it('ends an agent connection with TOKEN_EXPIRED on chatctl agent disable', async () => {
    const p = await pair(stack);
    const r = await stack.chatctl(['agent', 'disable', p.agent.username]);
    assert.equal(r.code, 0);
    assert.equal((await p.a.nextType('error', 3000)).code, 'TOKEN_EXPIRED');
    await p.a.whenClosed(3000);
    await p.c.close();
  });

  it('ends an agent connection with TOKEN_EXPIRED on chatctl agent passwd', async () => {
    const p = await pair(stack);
    const r = await stack.chatctl(['agent', 'passwd', p.agent.username], 'another-password\n');
    assert.equal(r.code, 0);
    assert.equal((await p.a.nextType('error', 3000)).code, 'TOKEN_EXPIRED');
    await p.a.whenClosed(3000);
    await p.c.close();
  });
});

describe('WebSocket token expiry while connected', () => {
  let stack;

  before(async () => { stack = await startStack({ CHAT_CUSTOMER_TOKEN_TTL: '2' }); });
  after(async () => { await stack.stop(); });

  it('sends TOKEN_EXPIRED and closes when the token expires', async () => {
    const c = await newCustomer(stack);
    const { client } = await connectReady(stack, c.token);
    const err = await client.nextType('error', 4000);
    assert.equal(err.code, 'TOKEN_EXPIRED');
    await client.whenClosed(2000);
  });
});
