'use strict';
// The guide's three scenarios in real browser pages, against real servers:
//   1. a customer's token expires: refreshed silently, offline messages shown;
//   2. an agent's token expires: told so, and sent to /login;
//   3. the server drops the connection (websocketd stops and starts again):
//      the pages reconnect with the same token, and what was written
//      meanwhile is sent once; an agent is not logged out.
// Token lifetimes are cut to seconds for 1 and 2; for 3 the test holds
// server-config/run (which restarts websocketd) with SIGSTOP while
// websocketd is down, so the outage lasts as long as the test wants.

const { test, after } = require('node:test');
const assert = require('node:assert/strict');
const { startStack, sleep } = require('../integration/stack.js');
const { connectReady, api } = require('../integration/ws-client.js');
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
  for (const stack of stacks) {
    // A test that failed while server-config/run was held must not leave it so.
    try { process.kill(stack.pid, 'SIGCONT'); } catch { /* gone */ }
    await stack.stop();
  }
});

async function agentOnline(stack, username) {
  await stack.addAgent(username, 'password123');
  const login = await stack.login(username, 'password123');
  const { client } = await connectReady(stack, login.token);
  return { client, token: login.token, id: login.agent.id };
}

function storedCustomer(page) {
  return page.evaluate(() => JSON.parse(localStorage.getItem('chat.customer')));
}

function calls(p, method, path) {
  return p.record.api.filter((c) => c.method === method && c.path === path);
}

test('scenario 1: an expired customer token is refreshed silently; the offline messages show', { timeout: 120000 }, async () => {
  const stack = await stackWith({ CHAT_CUSTOMER_TOKEN_TTL: '5' });
  const agent = await agentOnline(stack, 'dana');
  const customer = await b.openPage(await getBrowser(), stack, { name: 'customer' });
  const c = customer.page;
  await b.startCustomer(customer, 'Zhang San');
  const first = await storedCustomer(c);
  await b.say(c, 'Hello, I need help');
  const hello = await agent.client.nextType('message');
  const sessionId = hello.message.sessionId;

  // While the page is open the token runs out: the server says so in band,
  // the page refreshes it and connects again by itself.
  await b.until(() => calls(customer, 'POST', '/api/v1/customers/token').some((x) => x.status === 200),
    'a token refresh', 20000);
  await b.until(() => customer.record.sockets.length >= 2, 'a second connection', 20000);
  await b.waitState(c, 'connected');
  const states = await b.history(c, 'status');
  assert.ok(states.lastIndexOf('reconnecting') > states.indexOf('connected'),
    `status bar went through ${states.join(' > ')}`);
  assert.notEqual(b.socketToken(customer.record.sockets[1]), b.socketToken(customer.record.sockets[0]));
  assert.notEqual((await storedCustomer(c)).token, first.token);
  assert.equal(calls(customer, 'POST', '/api/v1/customers').length, 1, 'still the same customer');
  agent.client.send({ type: 'message', sessionId, text: 'Are you still there?', clientMsgId: 'a1' });
  await b.bubble(c, 'Are you still there?');

  // The customer leaves; the agent answers meanwhile; the token expires.
  await sleep(1500);
  const left = await storedCustomer(c);
  await c.close();
  // Gone for the server too: its handler has seen the close and ended.
  await b.until(() => b.handlersOf(stack, left.token).length === 0, 'the handler to end');
  for (const [i, text] of ['We found your parcel.', 'It arrives tomorrow morning.'].entries()) {
    agent.client.send({ type: 'message', sessionId, text, clientMsgId: `a${i + 2}` });
    await agent.client.nextType('ack');
  }
  const wait = Date.parse(left.expiresAt) - Date.now() + 500;
  if (wait > 0) await sleep(wait);

  // Back after the idle time: handshake refused (1006), GET /me says 401,
  // the token is refreshed, and the offline messages come.
  const before = customer.record.sockets.length;
  const page = await customer.context.newPage();
  await page.goto('/');
  const note = page.locator('#messages .note', { hasText: /offline messages? loaded/ });
  await note.waitFor();
  const offline = Number((await note.textContent()).match(/^(\d+) offline messages? loaded$/)[1]);
  assert.ok(offline >= 2, `${offline} offline messages`);
  await b.waitState(page, 'connected');
  await b.bubble(page, 'We found your parcel.');
  await b.bubble(page, 'It arrives tomorrow morning.');
  for (const text of ['We found your parcel.', 'It arrives tomorrow morning.', 'Are you still there?', 'Hello, I need help']) {
    assert.equal(await b.bubbleCount(page, text), 1, `"${text}" shown once`);
  }
  const sockets = customer.record.sockets.slice(before);
  assert.ok(sockets.length >= 2, `connections: ${sockets.length}`);
  assert.equal(b.socketToken(sockets[0]), left.token, 'first tried with the stored token');
  assert.notEqual(b.socketToken(sockets.at(-1)), left.token, 'then with a new one');
  assert.ok(calls(customer, 'GET', '/api/v1/me').some((x) => x.status === 401), 'GET /me was asked');
  assert.equal(calls(customer, 'POST', '/api/v1/customers').length, 1, 'still the same customer');
  const states2 = await b.history(page, 'status');
  assert.ok(states2.includes('reconnecting'), `status bar went through ${states2.join(' > ')}`);
  assert.equal(states2.at(-1).replace(' (hidden)', ''), 'connected');
  await b.assertSendButton(page, true);
  assert.doesNotMatch(page.url(), /token/);

  // And the conversation goes on.
  await b.say(page, 'Great, thank you!');
  const thanks = await agent.client.next((f) => f.type === 'message' && f.message.text === 'Great, thank you!');
  assert.equal(thanks.message.sessionId, sessionId);
  b.assertNoConsoleErrors(customer, [b.HANDSHAKE_REFUSED, b.UNAUTHORIZED]);
  agent.client.close();
  await customer.context.close();
});

test('scenario 2: an expired agent token ends in "login expired" and the sign-in page', { timeout: 60000 }, async () => {
  const stack = await stackWith({ CHAT_AGENT_TOKEN_TTL: '6' });
  await stack.addAgent('erin', 'password123', 'Erin Zhao');
  const agent = await b.openPage(await getBrowser(), stack, { name: 'agent' });
  const a = agent.page;
  await b.loginAgent(agent, 'erin');
  await a.getByText('Login expired, please log in again.').waitFor({ timeout: 20000 });
  await b.waitState(a, 'error');
  await b.assertSendButton(a, false);
  await a.waitForURL('**/login?reason=expired');
  await a.getByText('Your login expired. Please log in again.').waitFor();
  assert.equal(await a.evaluate(() => sessionStorage.getItem('chat.agent')), null);
  // The server said why in band: the page did not have to guess.
  assert.equal(agent.record.sockets.length, 1);
  b.assertNoConsoleErrors(agent);

  // Signing in again leads back to the workbench.
  await b.loginAgent(agent, 'erin');
  await agent.context.close();
});

test('scenario 3: after a server restart the pages reconnect with the same token and send what waited, once', { timeout: 120000 }, async () => {
  const stack = await stackWith({});
  await stack.addAgent('carol', 'password123', 'Carol Chen');
  const br = await getBrowser();
  const agent = await b.openPage(br, stack, { name: 'agent' });
  const customer = await b.openPage(br, stack, { name: 'customer' });
  const a = agent.page;
  const c = customer.page;
  await b.loginAgent(agent, 'carol');
  await b.startCustomer(customer, 'Wang Fang');
  await b.say(c, 'Hi, is the shop open on Sunday?');
  const item = a.locator('#mine li', { hasText: 'Wang Fang' });
  await item.getByRole('button').click();
  await b.bubble(a, 'Hi, is the shop open on Sunday?');
  await b.say(a, 'Yes, from 10 to 4.');
  await b.bubble(c, 'Yes, from 10 to 4.');
  const token = b.socketToken(customer.record.sockets[0]);
  const agentToken = b.socketToken(agent.record.sockets[0]);

  const wsd = b.websocketdPid(stack);
  assert.ok(wsd, 'websocketd runs under server-config/run');
  const [handler] = b.handlersOf(stack, token);
  assert.ok(handler, 'the customer connection has its handler');

  process.kill(stack.pid, 'SIGSTOP');
  try {
    // A message in flight when the server goes: sent, but never acked.
    process.kill(handler, 'SIGSTOP');
    await b.say(c, 'Sent as the server went down');
    await c.waitForSelector('.bubble.pending[data-delivery="sending"]');
    process.kill(wsd, 'SIGTERM');
    // The handler goes on once websocketd has gone: it may still store the
    // message (its ack is lost), or end first; either way it must show once.
    await b.exited(wsd);
    process.kill(handler, 'SIGCONT');

    await b.waitState(c, 'reconnecting');
    await b.waitState(a, 'reconnecting');
    await b.assertSendButton(c, false);
    await b.assertSendButton(a, false);

    // Written while disconnected: it waits in the outbox.
    await b.say(c, 'Written while disconnected');
    await c.waitForSelector('.bubble.pending[data-delivery="waiting"] >> text=Written while disconnected');
    // The first attempt fails while websocketd is down; the back-off goes on.
    // The guide's bar says "Reconnecting..."; which attempt it is, its tooltip.
    await c.locator('#connection-status.status-reconnecting[title="Reconnecting (attempt 2 of 5)..."]')
      .waitFor({ state: 'attached', timeout: 20000 });
    assert.equal(calls(customer, 'POST', '/api/v1/customers/token').length, 0);
  } finally {
    process.kill(stack.pid, 'SIGCONT');
  }

  await b.waitState(c, 'connected', 30000);
  await b.waitState(a, 'connected', 30000);
  await b.assertSendButton(c, true);
  await b.assertSendButton(a, true);
  await c.waitForSelector('.bubble.pending', { state: 'detached' });
  await b.bubble(a, 'Sent as the server went down');
  await b.bubble(a, 'Written while disconnected');
  const texts = ['Sent as the server went down', 'Written while disconnected'];
  for (const text of texts) {
    assert.equal(await b.bubbleCount(c, text), 1, `"${text}" once on the customer's page`);
    assert.equal(await b.bubbleCount(a, text), 1, `"${text}" once on the agent's page`);
  }
  // Stored once each, whoever's resend got there.
  const sessionId = Number(await item.getByRole('button').getAttribute('data-session-id'));
  const stored = await api(stack, 'GET', `/api/v1/sessions/${sessionId}/messages`, { token: agentToken });
  for (const text of texts) {
    assert.equal(stored.json.messages.filter((m) => m.text === text).length, 1, `"${text}" stored once`);
  }

  // The same tokens throughout; nobody logged out, nothing refreshed.
  assert.ok(customer.record.sockets.length >= 3);
  assert.deepEqual([...new Set(customer.record.sockets.map(b.socketToken))], [token]);
  assert.deepEqual([...new Set(agent.record.sockets.map(b.socketToken))], [agentToken]);
  assert.equal(calls(customer, 'POST', '/api/v1/customers/token').length, 0);
  assert.match(a.url(), /\/agent$/);
  assert.equal(await a.locator('#banner').isHidden(), true);
  await b.say(c, 'See you on Sunday.');
  await b.bubble(a, 'See you on Sunday.');
  b.assertNoConsoleErrors(customer, [b.HANDSHAKE_REFUSED]);
  b.assertNoConsoleErrors(agent, [b.HANDSHAKE_REFUSED]);

  // Scenario 2 by the other road: the agent's token is revoked while the
  // server is down, so the reconnect is refused with a bare 1006, and
  // GET /me (401) tells the page that the login is over.
  process.kill(stack.pid, 'SIGSTOP');
  try {
    process.kill(b.websocketdPid(stack), 'SIGTERM');
    await b.waitState(a, 'reconnecting');
    const out = await api(stack, 'POST', '/api/v1/logout', { token: agentToken });
    assert.equal(out.status, 204);
  } finally {
    process.kill(stack.pid, 'SIGCONT');
  }
  await a.getByText('Login expired, please log in again.').waitFor({ timeout: 30000 });
  await a.waitForURL('**/login?reason=expired');
  assert.ok(calls(agent, 'GET', '/api/v1/me').some((x) => x.status === 401));
  b.assertNoConsoleErrors(agent, [b.HANDSHAKE_REFUSED, b.UNAUTHORIZED]);
  // The customer is back too, with the same token.
  await b.waitState(c, 'connected', 30000);
  assert.deepEqual([...new Set(customer.record.sockets.map(b.socketToken))], [token]);
  b.assertNoConsoleErrors(customer, [b.HANDSHAKE_REFUSED]);
});
