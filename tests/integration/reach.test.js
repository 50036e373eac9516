'use strict';
// Who is who and where the visitor is: agents by name for a transfer, the
// system lines of who joined, names on messages, and the visitor's context.

const { describe, it, before, after } = require('node:test');
const assert = require('node:assert/strict');
const { startStack } = require('./stack');
const { connectReady, api, newCustomer } = require('./ws-client');

let agentSeq = 0;

// A logged-in agent with a display name of their own: {id, name, token}.
async function namedAgent(stack, name) {
  agentSeq += 1;
  const username = `reach${process.pid}x${agentSeq}`;
  const add = await stack.chatctl(['agent', 'add', username, '--display-name', name], 'password123\n');
  assert.equal(add.code, 0, add.stderr);
  const r = await api(stack, 'POST', '/api/v1/public/login', { body: { username, password: 'password123' } });
  assert.equal(r.status, 200);
  return { id: r.json.agent.id, name, username, token: r.json.token };
}

describe('who is who', () => {
  let stack;

  before(async () => { stack = await startStack({ CHAT_AGENT_MAX_ACTIVE: '2', CHAT_WS_RATE: '0' }); });
  after(async () => { await stack.stop(); });

  it('lists the enabled agents by name, online or not, and how busy', async () => {
    const zoe = await namedAgent(stack, 'Zoë Ng');
    const abe = await namedAgent(stack, 'abe Lincoln');
    const gone = await namedAgent(stack, 'Gone Agent');
    assert.equal((await stack.chatctl(['agent', 'disable', gone.username])).code, 0);
    const ws = (await connectReady(stack, zoe.token)).client;
    const r = await api(stack, 'GET', '/api/v1/agents', { token: abe.token });
    assert.equal(r.status, 200);
    const mine = r.json.agents.filter((a) => [zoe.id, abe.id, gone.id].includes(a.id));
    assert.deepEqual(mine.map((a) => a.displayName), ['abe Lincoln', 'Zoë Ng'], 'by name, any case; no disabled agent');
    assert.deepEqual(mine[1], { id: zoe.id, displayName: 'Zoë Ng', online: true, activeChats: 0, maxActive: 2 });
    assert.equal(mine[0].online, false);
    const names = r.json.agents.map((a) => a.displayName.toLowerCase());
    assert.deepEqual(names, [...names].sort((x, y) => (x < y ? -1 : x > y ? 1 : 0)));
    // Customers may not list agents.
    const cust = await newCustomer(stack);
    assert.equal((await api(stack, 'GET', '/api/v1/agents', { token: cust.token })).status, 403);
    await ws.close();
  });

  it('says who joined and who transferred, with names on every message', async () => {
    const ann = await namedAgent(stack, 'Ann Agent');
    const bob = await namedAgent(stack, 'Bob Agent');
    const wsAnn = (await connectReady(stack, ann.token, { systemLines: true })).client;
    const customer = await newCustomer(stack, 'Vera Visitor');
    const wsCust = (await connectReady(stack, customer.token, { systemLines: true })).client;
    // Only Ann is online, so the session is hers.
    const s = await api(stack, 'POST', '/api/v1/sessions', { token: customer.token, body: {} });
    assert.equal(s.json.agentId, ann.id);
    assert.equal(s.json.agentName, 'Ann Agent');
    assert.equal(s.json.kind, 'chat');
    const joined = await wsCust.next((f) => f.type === 'message' && f.message.senderType === 'system');
    assert.deepEqual(joined.message.event, { type: 'joined', agentName: 'Ann Agent' });
    assert.equal(joined.message.text, 'Ann Agent joined the chat');
    assert.equal(joined.message.senderId, null);
    assert.equal(joined.message.senderName, null);
    await wsAnn.next((f) => f.type === 'message' && f.message.event && f.message.event.type === 'joined');
    // Names on messages: live, in acks and in history.
    wsAnn.send({ type: 'message', sessionId: s.json.id, text: 'Hello Vera', clientMsgId: 'n1' });
    const ack = await wsAnn.nextType('ack');
    assert.equal(ack.message.senderName, 'Ann Agent');
    const got = await wsCust.next((f) => f.type === 'message' && f.message.senderType === 'agent');
    assert.equal(got.message.senderName, 'Ann Agent');
    wsCust.send({ type: 'message', sessionId: s.json.id, text: 'Hi Ann', clientMsgId: 'n2' });
    assert.equal((await wsCust.nextType('ack')).message.senderName, 'Vera Visitor');
    // Transfer to Bob: a line for the customer and Bob; the session names him.
    const t = await api(stack, 'POST', `/api/v1/sessions/${s.json.id}/transfer`,
      { token: ann.token, body: { agentId: bob.id } });
    assert.equal(t.status, 200);
    assert.equal(t.json.agentName, 'Bob Agent');
    const moved = await wsCust.next((f) => f.type === 'message' && f.message.event && f.message.event.type === 'transferred');
    assert.deepEqual(moved.message.event, { type: 'transferred', agentName: 'Bob Agent', fromAgentName: 'Ann Agent' });
    assert.equal(moved.message.text, 'Ann Agent transferred the chat to Bob Agent');
    const hist = await api(stack, 'GET', `/api/v1/sessions/${s.json.id}/messages`, { token: customer.token });
    assert.deepEqual(hist.json.messages.map((m) => [m.senderType, m.senderName, m.event ? m.event.type : null]), [
      ['system', null, 'joined'], ['agent', 'Ann Agent', null], ['customer', 'Vera Visitor', null],
      ['system', null, 'transferred'],
    ]);
    await wsAnn.close();
    await wsCust.close();
  });

  it('refuses a transfer to an agent over their limit, or disabled, saying why', async () => {
    const cho = await namedAgent(stack, 'Cho Agent');
    const dee = await namedAgent(stack, 'Dee Busy');
    const wsDee = (await connectReady(stack, dee.token)).client;
    // Dee takes two chats (the limit) while Cho is offline.
    for (let i = 0; i < 2; i++) {
      const cu = await newCustomer(stack);
      const s = await api(stack, 'POST', '/api/v1/sessions', { token: cu.token, body: {} });
      if (s.json.agentId !== dee.id) {
        assert.equal((await api(stack, 'POST', `/api/v1/sessions/${s.json.id}/claim`, { token: dee.token })).status, 200);
      }
    }
    const cu = await newCustomer(stack);
    const q = await api(stack, 'POST', '/api/v1/sessions', { token: cu.token, body: {} });
    assert.equal(q.json.status, 'queued', 'Dee is full, Cho offline');
    assert.equal((await api(stack, 'POST', `/api/v1/sessions/${q.json.id}/claim`, { token: cho.token })).status, 200);
    const r = await api(stack, 'POST', `/api/v1/sessions/${q.json.id}/transfer`, { token: cho.token, body: { agentId: dee.id } });
    assert.equal(r.status, 409);
    assert.equal(r.json.error.code, 'CONFLICT');
    assert.match(r.json.error.message, /Dee Busy has 2 active chats/);
    assert.equal((await stack.chatctl(['agent', 'disable', dee.username])).code, 0);
    const r2 = await api(stack, 'POST', `/api/v1/sessions/${q.json.id}/transfer`, { token: cho.token, body: { agentId: dee.id } });
    assert.equal(r2.status, 400);
    assert.match(r2.json.error.message, /agentId is not an active agent/);
    await wsDee.close();
  });
});

describe('the visitor context', () => {
  let stack;

  before(async () => { stack = await startStack(); });
  after(async () => { await stack.stop(); });

  const context = {
    url: 'https://shop.example/cart?x=1', title: 'Your cart – Shop', referrer: 'https://search.example/?q=shoes',
    browser: 'Firefox 128', os: 'Linux', language: 'de-DE', extra: 'ignored',
  };

  it('is stored with the session, shown to its agent, and updated as the visitor navigates', async () => {
    const agent = await namedAgent(stack, 'Eve Agent');
    const wsA = (await connectReady(stack, agent.token)).client;
    const cu = await newCustomer(stack);
    const s = await api(stack, 'POST', '/api/v1/sessions', { token: cu.token, body: { context } });
    assert.equal(s.status, 201);
    const { extra, ...kept } = context;
    assert.equal(extra, 'ignored');
    assert.deepEqual(s.json.context, kept);
    const seen = await api(stack, 'GET', `/api/v1/sessions/${s.json.id}`, { token: agent.token });
    assert.deepEqual(seen.json.context, kept);
    const u = await api(stack, 'POST', `/api/v1/sessions/${s.json.id}/context`,
      { token: cu.token, body: { context: { ...kept, url: 'https://shop.example/checkout', title: 'Checkout' } } });
    assert.equal(u.status, 200);
    assert.equal(u.json.context.url, 'https://shop.example/checkout');
    const frame = await wsA.next((f) => f.type === 'session' && f.session.id === s.json.id &&
      f.session.context.url === 'https://shop.example/checkout');
    assert.equal(frame.session.context.title, 'Checkout');
    // A session without a context has an empty one.
    const cu2 = await newCustomer(stack);
    const s2 = await api(stack, 'POST', '/api/v1/sessions', { token: cu2.token, body: {} });
    assert.deepEqual(s2.json.context, {});
    await wsA.close();
  });

  it('refuses a bad context naming the field, and another customer\'s session', async () => {
    const cu = await newCustomer(stack);
    const bad = [
      [{ context: 'x' }, /context must be an object/],
      [{ context: { url: 'javascript:alert(1)' } }, /context\.url must be an http or https address/],
      [{ context: { title: 'x'.repeat(201) } }, /context\.title must be/],
      [{ context: { language: 5 } }, /context\.language must be a string/],
      [{ context: { os: 'a\nb' } }, /context\.os/],
    ];
    for (const [body, says] of bad) {
      const r = await api(stack, 'POST', '/api/v1/sessions', { token: cu.token, body });
      assert.equal(r.status, 400, JSON.stringify(body));
      assert.equal(r.json.error.code, 'INVALID_REQUEST');
      assert.match(r.json.error.message, says);
    }
    const s = await api(stack, 'POST', '/api/v1/sessions', { token: cu.token, body: {} });
    const other = await newCustomer(stack);
    const r = await api(stack, 'POST', `/api/v1/sessions/${s.json.id}/context`,
      { token: other.token, body: { context: { url: 'https://x.example/' } } });
    assert.equal(r.status, 403);
    const none = await api(stack, 'POST', `/api/v1/sessions/${s.json.id}/context`, { token: cu.token, body: {} });
    assert.equal(none.status, 400);
    assert.match(none.json.error.message, /context is required/);
    await api(stack, 'POST', `/api/v1/sessions/${s.json.id}/close`, { token: cu.token });
    const closed = await api(stack, 'POST', `/api/v1/sessions/${s.json.id}/context`,
      { token: cu.token, body: { context: { url: 'https://x.example/' } } });
    assert.equal(closed.status, 409);
  });
});

describe('availability', () => {
  let stack;
  // Closed all week but one day that is not today (in UTC), so now is closed.
  const days = ['sun', 'mon', 'tue', 'wed', 'thu', 'fri', 'sat'];
  const other = days[(new Date().getUTCDay() + 3) % 7];

  before(async () => {
    stack = await startStack({
      CHAT_HOURS: `${other} 09:00-17:00`, CHAT_TIMEZONE: 'UTC', CHAT_UNCLAIMED_TIMEOUT: '45',
      CHAT_ALERT_REPEAT: '20', CHAT_PRECHAT_EMAIL: 'required', CHAT_PRIVACY_TEXT: 'We keep chats 30 days.',
      CHAT_NAME: 'Acme help',
    });
  });
  after(async () => { await stack.stop(); });

  it('says the chat is closed outside the business hours, with the next opening', async () => {
    const r = await api(stack, 'GET', '/api/v1/availability');
    assert.equal(r.status, 200);
    const { nextOpenAt, ...rest } = r.json;
    assert.deepEqual(rest, {
      open: false, reason: 'closed', agentsOnline: 0,
      hours: [{ day: other, open: '09:00', close: '17:00' }], timeZone: 'UTC',
      unclaimedTimeout: 45, alertRepeat: 20, emailField: 'required',
      privacyText: 'We keep chats 30 days.', mail: false, chatName: 'Acme help',
    });
    const next = new Date(nextOpenAt);
    assert.equal(days[next.getUTCDay()], other);
    assert.equal(next.toISOString().slice(11), '09:00:00.000Z');
    assert.ok(next.getTime() > Date.now() && next.getTime() - Date.now() < 7 * 86400e3);
  });
});

describe('availability when always open', () => {
  let stack;

  before(async () => { stack = await startStack(); });
  after(async () => { await stack.stop(); });

  it('is open while an agent is online, and says no_agents when none is', async () => {
    let r = await api(stack, 'GET', '/api/v1/availability');
    assert.equal(r.json.open, false);
    assert.equal(r.json.reason, 'no_agents');
    assert.equal(r.json.hours, null);
    assert.equal(r.json.nextOpenAt, null);
    assert.equal(r.json.emailField, 'optional');
    assert.equal(r.json.privacyText, null);
    const agent = await namedAgent(stack, 'Fay Agent');
    const ws = (await connectReady(stack, agent.token)).client;
    r = await api(stack, 'GET', '/api/v1/availability');
    assert.equal(r.json.open, true);
    assert.equal(r.json.reason, null);
    assert.equal(r.json.agentsOnline, 1);
    await ws.close();
  });
});

describe('leaving a message', () => {
  let stack;

  before(async () => { stack = await startStack({ CHAT_WS_RATE: '2' }); });
  after(async () => { await stack.stop(); });

  it('lands in the queue as a session left as a message, seen by every agent online', async () => {
    const agent = await namedAgent(stack, 'Gil Agent');
    const ws = (await connectReady(stack, agent.token)).client;
    // Gil is online but the visitor leaves a message anyway (say, after the timeout).
    const cu = await newCustomer(stack, 'Hal Visitor');
    const body = { email: 'hal@example.org', text: 'Please call me back about order 17.', clientMsgId: 'left-1' };
    const r = await api(stack, 'POST', '/api/v1/leave-message', { token: cu.token, body });
    assert.equal(r.status, 201, JSON.stringify(r.json));
    assert.equal(r.json.session.status, 'queued');
    assert.equal(r.json.session.kind, 'message');
    assert.equal(r.json.session.agentId, null);
    assert.equal(r.json.session.customerEmail, 'hal@example.org');
    assert.equal(r.json.message.text, body.text);
    assert.equal(r.json.message.senderType, 'customer');
    assert.equal(r.json.message.senderName, 'Hal Visitor');
    const seen = await ws.next((f) => f.type === 'session' && f.session.id === r.json.session.id);
    assert.equal(seen.session.kind, 'message');
    // The same clientMsgId again: the same message, stored once.
    const again = await api(stack, 'POST', '/api/v1/leave-message', { token: cu.token, body });
    assert.equal(again.status, 200);
    assert.equal(again.json.message.id, r.json.message.id);
    // More text goes to the same session.
    const more = await api(stack, 'POST', '/api/v1/leave-message',
      { token: cu.token, body: { email: 'hal@example.org', text: 'Or mail me.' } });
    assert.equal(more.json.session.id, r.json.session.id);
    // Gil claims it later and has the whole message.
    assert.equal((await api(stack, 'POST', `/api/v1/sessions/${r.json.session.id}/claim`, { token: agent.token })).status, 200);
    const hist = await api(stack, 'GET', `/api/v1/sessions/${r.json.session.id}/messages`, { token: agent.token });
    assert.deepEqual(hist.json.messages.filter((m) => m.senderType === 'customer').map((m) => m.text),
      [body.text, 'Or mail me.']);
    // With an agent in the chat, a message goes in the chat instead.
    const r2 = await api(stack, 'POST', '/api/v1/leave-message',
      { token: cu.token, body: { email: 'hal@example.org', text: 'late' } });
    assert.equal(r2.status, 409);
    assert.match(r2.json.error.message, /has an agent/);
    await ws.close();
  });

  it('refuses a bad email or text naming the field, and takes the user\'s message rate', async () => {
    const cu = await newCustomer(stack);
    const bad = [
      [{ text: 'hi' }, /email is required/],
      [{ email: 'nope', text: 'hi' }, /email must be an email address/],
      [{ email: 'a@b.example' }, /text is required/],
      [{ email: 'a@b.example', text: '   \n' }, /text must be 1 to 4000 characters, not only white space/],
      [{ email: 'a@b.example', text: '\u00a0\u3000' }, /not only white space/],
      [{ email: 'a@b.example', text: 'ring \u0007' }, /text must not contain U\+0007/],
      [{ email: 'a@b.example', text: 'x'.repeat(4001) }, /text must be/],
      [{ email: 'a@b.example', text: 'hi', clientMsgId: 'x'.repeat(65) }, /clientMsgId/],
    ];
    for (const [body, says] of bad) {
      const r = await api(stack, 'POST', '/api/v1/leave-message', { token: cu.token, body });
      assert.equal(r.status, 400, JSON.stringify(body));
      assert.match(r.json.error.message, says);
    }
    const agent = await namedAgent(stack, 'Ida Agent');
    assert.equal((await api(stack, 'POST', '/api/v1/leave-message',
      { token: agent.token, body: { email: 'a@b.example', text: 'hi' } })).status, 403);
    // CHAT_WS_RATE 2 with a burst of 3 s: the seventh in a row waits.
    const codes = [];
    for (let i = 0; i < 8; i++) {
      codes.push((await api(stack, 'POST', '/api/v1/leave-message',
        { token: cu.token, body: { email: 'a@b.example', text: `m${i}` } })).status);
    }
    assert.ok(codes.includes(429), codes.join());
    assert.ok(codes.filter((x) => x === 201 || x === 200).length >= 6, codes.join());
  });

  it('has no transcript to send while mail is off, and says so', async () => {
    const cu = await newCustomer(stack);
    const s = await api(stack, 'POST', '/api/v1/sessions', { token: cu.token, body: {} });
    const r = await api(stack, 'POST', `/api/v1/sessions/${s.json.id}/transcript`,
      { token: cu.token, body: { email: 'me@example.org' } });
    assert.equal(r.status, 409);
    assert.match(r.json.error.message, /sends no email/);
    const other = await newCustomer(stack);
    assert.equal((await api(stack, 'POST', `/api/v1/sessions/${s.json.id}/transcript`,
      { token: other.token, body: {} })).status, 403);
    assert.equal((await api(stack, 'POST', '/api/v1/sessions/999999/transcript',
      { token: cu.token, body: {} })).status, 404);
  });
});
