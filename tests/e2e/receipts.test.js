'use strict';
// Delivery receipts as the demo pages send them, against real servers: a
// burst of messages is confirmed by a few batched receipts, never ahead of
// what the page got; a message the server offers again after a reconnect is
// shown once and not counted as offline again; the server's ping is
// answered; a SLOW_CONSUMER end, a refused handshake (too many connections)
// and a long outbox after a reconnect are taken calmly.
//
// Every page here runs with a tap on its WebSockets (tapSockets, below):
// each frame in and out, in order, with its time, and two switches for the
// test: holdReceipts swallows the page's receipts after its first, and
// block sends new connections to a closed port.

const { test, after } = require('node:test');
const assert = require('node:assert/strict');
const { startStack, sleep } = require('../integration/stack.js');
const { connectReady, handshake, api } = require('../integration/ws-client.js');
const b = require('./browser.js');

const stacks = [];
let browser = null;

async function stackWith(env) {
  const stack = await startStack(env);
  stacks.push(stack);
  return stack;
}

async function getBrowser() {
  if (browser === null) browser = await b.launch();
  return browser;
}

after(async () => {
  if (browser !== null) await browser.close();
  for (const stack of stacks) await stack.stop();
});

// In the page, before its own scripts: window.__ws = {log, sockets, holdReceipts, block}.
function tapSockets() {
  const Native = window.WebSocket;
  const tap = { log: [], sockets: [], holdReceipts: false, block: false };
  window.__ws = tap;
  window.WebSocket = class extends Native {
    constructor(url, protocols) {
      super(tap.block ? String(url).replace(/^ws:\/\/[^/]+/, 'ws://127.0.0.1:1') : url, protocols);
      const n = tap.sockets.push(this) - 1;
      this.addEventListener('message', (e) => {
        tap.log.push({ n, dir: 'in', at: performance.now(), frame: JSON.parse(e.data) });
      });
    }

    send(data) {
      const frame = JSON.parse(data);
      const n = tap.sockets.indexOf(this);
      if (tap.holdReceipts && frame.type === 'received' && frame.seq > 0) {
        tap.log.push({ n, dir: 'held', at: performance.now(), frame });
        return;
      }
      tap.log.push({ n, dir: 'out', at: performance.now(), frame });
      super.send(data);
    }
  };
}

async function tappedPage(t, stack, name) {
  const p = await b.openPage(await getBrowser(), stack, { name, test: t });
  await p.context.addInitScript(tapSockets);
  return p;
}

function tapLog(page) {
  return page.evaluate(() => window.__ws.log);
}

/* What connection n of the page was sent and sent back, in order. */
async function framesOf(page, n) {
  return (await tapLog(page)).filter((e) => e.n === n);
}

async function agentOnline(stack, username) {
  await stack.addAgent(username, 'password123');
  const login = await stack.login(username, 'password123');
  const { client } = await connectReady(stack, login.token);
  return { client, token: login.token, id: login.agent.id };
}

/* Every receipt names a seq this connection was given before it, and they only grow. */
function assertReceiptsHonest(frames) {
  let highest = 0;
  let last = -1;
  for (const e of frames) {
    if (e.dir === 'in' && Number.isInteger(e.frame.seq) && e.frame.type !== 'offline_messages_complete') {
      highest = Math.max(highest, e.frame.seq);
    }
    if (e.dir === 'out' && e.frame.type === 'received') {
      assert.ok(e.frame.seq <= highest, `received ${e.frame.seq} after only ${highest}`);
      assert.ok(e.frame.seq >= last, `received ${e.frame.seq} after ${last}`);
      last = e.frame.seq;
    }
  }
  return { highest, last };
}

test('the workbench confirms a burst of 60 messages with a few batched receipts', { timeout: 60000 }, async (t) => {
  const stack = await stackWith({ CHAT_WS_RATE: '0' });
  await stack.addAgent('rita', 'password123');
  const agent = await tappedPage(t, stack, 'agent');
  await b.loginAgent(agent, 'rita');
  const a = agent.page;

  // The end of the offline messages is confirmed at once, with its seq.
  await b.until(async () => (await framesOf(a, 0)).some((e) => e.frame.type === 'received'), 'the first receipt');
  const start = await framesOf(a, 0);
  const done = start.findIndex((e) => e.frame.type === 'offline_messages_complete');
  assert.ok(done >= 0, 'offline_messages_complete came');
  assert.ok(Number.isInteger(start[done].frame.seq), 'offline_messages_complete carries seq');
  assert.deepEqual(start[done + 1].frame, { type: 'received', seq: start[done].frame.seq },
    'a receipt right after it');

  // A customer writes 60 messages back to back.
  const customer = await stack.createCustomer({ name: 'Burst Bea' });
  const session = await stack.request('POST', '/api/v1/sessions', { token: customer.token });
  assert.equal(session.status, 201);
  const { client } = await connectReady(stack, customer.token);
  t.after(() => client.close());
  for (let i = 1; i <= 60; i++) {
    client.send({ type: 'message', sessionId: session.json.id, text: `burst ${i}`, clientMsgId: `b${i}` });
  }
  for (let i = 1; i <= 60; i++) await client.nextType('ack');
  await a.locator('#mine li', { hasText: 'Burst Bea' }).waitFor();
  await b.until(async () => (await framesOf(a, 0)).filter((e) => e.frame.type === 'message').length >= 60,
    'the 60 messages on the page');
  // The quiet moment after the burst.
  await sleep(1000);

  const frames = await framesOf(a, 0);
  const given = frames.filter((e) => e.dir === 'in' && Number.isInteger(e.frame.seq) &&
    e.frame.type !== 'offline_messages_complete');
  const messages = frames.filter((e) => e.dir === 'in' && e.frame.type === 'message');
  assert.ok(messages.every((e) => Number.isInteger(e.frame.seq) && e.frame.seq > 0), 'every message has a seq');
  const receipts = frames.filter((e) => e.dir === 'out' && e.frame.type === 'received').slice(1);
  assert.ok(receipts.length >= 1, 'the burst was confirmed');
  assert.ok(receipts.length * 10 <= given.length,
    `${receipts.length} receipts for ${given.length} frames: batched, not one per frame`);
  for (let i = 1; i < receipts.length; i++) {
    assert.ok(receipts[i].at - receipts[i - 1].at >= 240,
      `receipts ${Math.round(receipts[i].at - receipts[i - 1].at)} ms apart: at most four a second`);
  }
  const { highest, last } = assertReceiptsHonest(frames);
  assert.equal(last, highest, 'everything confirmed once it went quiet');
  assert.deepEqual(frames.filter((e) => e.frame.type === 'error').map((e) => e.frame), [],
    'the server took every receipt');
  b.assertNoConsoleErrors(agent);
});

test('a message offered again after a reconnect is shown once and not counted as offline again', { timeout: 60000 }, async (t) => {
  const stack = await stackWith({});
  const agent = await agentOnline(stack, 'sam');
  t.after(() => agent.client.close());
  const customer = await tappedPage(t, stack, 'customer');
  const c = customer.page;
  await b.startCustomer(customer, 'Twice Tao');
  await b.say(c, 'Anyone there?');
  const hello = await agent.client.next((f) => f.type === 'message' && f.message.text === 'Anyone there?');
  const sessionId = hello.message.sessionId;

  // The page gets a message but its receipt never leaves: for the server it
  // is still owed, however long the connection stays up after it.
  await b.until(async () => (await framesOf(c, 0)).some((e) => e.frame.type === 'received'), 'the first receipt');
  await c.evaluate(() => { window.__ws.holdReceipts = true; });
  agent.client.send({ type: 'message', sessionId, text: 'Offered twice', clientMsgId: 'o1' });
  await agent.client.nextType('ack');
  await b.bubble(c, 'Offered twice');
  await sleep(2000);
  assert.ok((await tapLog(c)).some((e) => e.dir === 'held'), 'the page meant to confirm it');

  // The connection ends (not a clean 1000: the page reconnects in 2 s);
  // meanwhile one more message comes.
  await c.evaluate(() => {
    window.__ws.holdReceipts = false;
    window.__ws.sockets[0].close(4001, 'test');
  });
  await b.waitState(c, 'reconnecting');
  agent.client.send({ type: 'message', sessionId, text: 'Written while away', clientMsgId: 'o2' });
  await agent.client.nextType('ack');
  await b.waitState(c, 'connected');
  await c.locator('#messages .note', { hasText: /offline messages? loaded/ }).waitFor();
  await b.bubble(c, 'Written while away');

  // The server offered both; the page shows each once and counts one.
  const again = (await framesOf(c, 1)).filter((e) => e.frame.type === 'offline_message')
    .map((e) => e.frame.message.text);
  assert.ok(again.includes('Offered twice'), `offered again: ${again.join(', ')}`);
  assert.ok(again.includes('Written while away'), `offered again: ${again.join(', ')}`);
  for (const text of ['Anyone there?', 'Offered twice', 'Written while away']) {
    assert.equal(await b.bubbleCount(c, text), 1, `"${text}" shown once`);
  }
  const notes = await c.locator('#messages .note').allTextContents();
  assert.deepEqual(notes.filter((n) => /offline messages? loaded/.test(n)), ['1 offline message loaded']);
  assertReceiptsHonest(await framesOf(c, 1));
  // And this time the page confirmed it: a third connection is offered nothing.
  await sleep(500);
  await c.evaluate(() => window.__ws.sockets[1].close(4001, 'test'));
  await b.until(async () => (await framesOf(c, 2)).some((e) => e.frame.type === 'offline_messages_complete'),
    'a third connection', 20000);
  assert.deepEqual((await framesOf(c, 2)).filter((e) => e.frame.type === 'offline_message'), []);
  b.assertNoConsoleErrors(customer);
});

test('the page answers the server\'s ping and keeps its connection', { timeout: 60000 }, async (t) => {
  // The server pings a quiet receipt client after 1 s and ends it 1 s later without an answer.
  const stack = await stackWith({ CHAT_WS_IDLE_PING: '1' });
  const customer = await tappedPage(t, stack, 'customer');
  const c = customer.page;
  await b.startCustomer(customer, 'Pinged Pia');
  await b.until(async () => (await tapLog(c)).filter((e) => e.frame.type === 'ping').length >= 3,
    'three pings from the server', 20000);
  const frames = await tapLog(c);
  frames.forEach((e, i) => {
    if (e.dir !== 'in' || e.frame.type !== 'ping') return;
    const answer = frames.slice(i + 1).find((x) => x.n === e.n && x.dir === 'out' && x.frame.type === 'pong');
    assert.ok(answer !== undefined, `ping ${i} answered`);
    assert.ok(answer.at - e.at < 500, `ping ${i} answered after ${Math.round(answer.at - e.at)} ms`);
  });
  assert.equal(await c.evaluate(() => window.__ws.sockets.length), 1, 'never reconnected');
  assert.equal(await c.evaluate(() => window.__ws.sockets[0].readyState), 1);
  await b.say(c, 'Still connected');
  await c.waitForSelector('.bubble.own[data-message-id]');
  b.assertNoConsoleErrors(customer);
});

test('a page that stops reading is ended as a SLOW_CONSUMER; it reconnects and shows each message once', { timeout: 60000 }, async (t) => {
  // A receipt client that confirms nothing for a second does not drain.
  const stack = await stackWith({ CHAT_WS_DRAIN_TIMEOUT: '1' });
  const agent = await agentOnline(stack, 'uma');
  t.after(() => agent.client.close());
  const customer = await tappedPage(t, stack, 'customer');
  const c = customer.page;
  await b.startCustomer(customer, 'Stuck Stan');
  await b.say(c, 'My tab is about to freeze');
  const hello = await agent.client.next((f) => f.type === 'message' && f.message.text === 'My tab is about to freeze');
  await c.waitForSelector('.bubble.own[data-message-id]');

  // The page's thread is busy for 3 s (a heavy script, a paused tab); the
  // agent goes on writing meanwhile.
  const busy = c.evaluate(() => {
    const end = Date.now() + 3000;
    while (Date.now() < end) { /* busy */ }
  });
  await sleep(300);
  const texts = Array.from({ length: 8 }, (_, i) => `While you were away ${i + 1}`);
  for (const [i, text] of texts.entries()) {
    agent.client.send({ type: 'message', sessionId: hello.message.sessionId, text, clientMsgId: `s${i}` });
    await agent.client.nextType('ack');
    await sleep(250);
  }
  await busy;

  await b.until(async () => (await framesOf(c, 0)).some((e) => e.frame.code === 'SLOW_CONSUMER'), 'SLOW_CONSUMER');
  await b.until(async () => (await c.evaluate(() => window.__ws.sockets.length)) >= 2, 'a new connection', 20000);
  await b.waitState(c, 'connected');
  await b.until(async () => (await framesOf(c, 1)).some((e) => e.frame.type === 'offline_messages_complete'),
    'the offline messages');
  for (const text of texts) {
    await b.bubble(c, text);
    assert.equal(await b.bubbleCount(c, text), 1, `"${text}" shown once`);
  }
  // What came before the end was not confirmed in time: offered again, and not new.
  // (The system line of who joined came, and was confirmed, before the freeze.)
  const live = (await framesOf(c, 0)).filter((e) => e.dir === 'in' && e.frame.type === 'message')
    .map((e) => e.frame.message.text).filter((text) => texts.includes(text));
  const again = (await framesOf(c, 1)).filter((e) => e.frame.type === 'offline_message')
    .map((e) => e.frame.message.text);
  assert.ok(live.length > 0 && live.every((text) => again.includes(text)), `live ${live}, offered again ${again}`);
  const fresh = texts.filter((text) => !live.includes(text)).length;
  const notes = (await c.locator('#messages .note').allTextContents())
    .filter((n) => /offline messages? loaded/.test(n));
  assert.deepEqual(notes, fresh === 0 ? [] : [`${fresh} offline message${fresh === 1 ? '' : 's'} loaded`]);
  assert.deepEqual([...new Set(customer.record.sockets.map(b.socketToken))].length, 1, 'the same token');
  assert.equal(customer.record.api.filter((x) => x.path === '/api/v1/customers/token').length, 0);
  b.assertNoConsoleErrors(customer);
});

test('too many connections on one token: refused at the handshake, the page backs off and gets in later', { timeout: 90000 }, async (t) => {
  const stack = await stackWith({ CHAT_WS_MAX_PER_TOKEN: '1' });
  const first = await tappedPage(t, stack, 'customer');
  await b.startCustomer(first, 'Crowded Cai');
  const token = b.socketToken(first.record.sockets[0]);

  // A second tab of the same visitor: 429 at the handshake, which the page
  // sees as a bare 1006; GET /me says the token is fine, so no refresh.
  const second = await first.context.newPage();
  await second.goto('/');
  await b.waitState(second, 'reconnecting');
  await second.locator('#connection-status[title^="Reconnecting (attempt 1 of 5)"]').waitFor({ state: 'attached' });
  assert.ok(first.record.api.some((x) => x.path === '/api/v1/me' && x.status === 200), 'GET /me was asked');
  const refused = await handshake(stack, `?token=${encodeURIComponent(token)}`);
  assert.equal(refused.status, 429, 'the server refuses a second connection');
  assert.equal(refused.headers['x-websocket-error-code'], 'RATE_LIMITED');

  // The first tab goes; the second gets in on a later attempt.
  await first.page.close();
  await b.until(() => b.handlersOf(stack, token).length === 0, 'the first handler to end');
  await b.waitState(second, 'connected', 30000);
  await b.assertSendButton(second, true);
  assert.deepEqual([...new Set(first.record.sockets.map(b.socketToken))], [token], 'the same token throughout');
  assert.equal(first.record.api.filter((x) => x.path === '/api/v1/customers/token').length, 0, 'no refresh');
  assert.equal(first.record.api.filter((x) => x.path === '/api/v1/customers').length, 1, 'the same customer');
  b.assertNoConsoleErrors(first, [b.HANDSHAKE_REFUSED]);
});

test('a long outbox goes out after a reconnect 8 unacked at a time, each message stored once', { timeout: 90000 }, async (t) => {
  const stack = await stackWith({ CHAT_WS_RATE: '0' });
  const agent = await agentOnline(stack, 'tess');
  t.after(() => agent.client.close());
  const customer = await tappedPage(t, stack, 'customer');
  const c = customer.page;
  await b.startCustomer(customer, 'Outbox Otto');
  await b.say(c, 'First');
  const hello = await agent.client.next((f) => f.type === 'message' && f.message.text === 'First');
  await c.waitForSelector('.bubble.own[data-message-id]');

  // Cut off: the connection ends and every new one goes to a closed port.
  await c.evaluate(() => {
    window.__ws.block = true;
    window.__ws.sockets[0].close(4001, 'test');
  });
  await b.waitState(c, 'reconnecting');
  const texts = Array.from({ length: 20 }, (_, i) => `queued ${i + 1}`);
  for (const text of texts) await b.say(c, text);
  await b.until(async () => (await c.locator('.bubble.pending[data-delivery="waiting"]').count()) === 20,
    'the 20 messages waiting');

  // Back: the browser says it is online again, and the page connects at once.
  await c.evaluate(() => {
    window.__ws.block = false;
    window.dispatchEvent(new Event('online'));
  });
  await b.waitState(c, 'connected', 30000);
  const n = await c.evaluate(() => window.__ws.sockets.findIndex((s) => s.readyState === WebSocket.OPEN));
  assert.ok(n > 0);
  await c.waitForSelector('.bubble.pending', { state: 'detached', timeout: 30000 });
  let inFlight = 0;
  let most = 0;
  const sent = [];
  for (const e of await framesOf(c, n)) {
    if (e.dir === 'out' && e.frame.type === 'message') {
      inFlight++;
      sent.push(e.frame.text);
    }
    if (e.dir === 'in' && e.frame.type === 'ack') inFlight--;
    most = Math.max(most, inFlight);
  }
  assert.deepEqual(sent, texts, 'in order, each once');
  assert.ok(most <= 8, `${most} unacked at once`);
  const stored = await api(stack, 'GET', `/api/v1/sessions/${hello.message.sessionId}/messages?limit=50`,
    { token: agent.token });
  for (const text of texts) {
    assert.equal(stored.json.messages.filter((m) => m.text === text).length, 1, `"${text}" stored once`);
    assert.equal(await b.bubbleCount(c, text), 1, `"${text}" shown once`);
  }
  b.assertNoConsoleErrors(customer, [b.HANDSHAKE_REFUSED]);
});
