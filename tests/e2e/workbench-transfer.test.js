'use strict';
// Transfer by name in real browser pages: the dialog lists the colleagues
// from GET /api/v1/agents with whether they are online and how busy they
// are, never oneself; the chat moves with its history and the names of who
// wrote what; a colleague disabled meanwhile (400) or at
// CHAT_AGENT_MAX_ACTIVE (409) is refused, and the dialog says so.

const { test, before, after } = require('node:test');
const assert = require('node:assert/strict');
const { startStack } = require('../integration/stack.js');
const { api, connectReady } = require('../integration/ws-client.js');
const b = require('./browser.js');

const REFUSED = [/status of 400 \(Bad Request\)/, /status of 409 \(Conflict\)/];

let stack;
let browser;
let alice;
let bob;
let zed;
const sockets = [];

async function visitor(name) {
  const customer = await stack.createCustomer({ name });
  const s = await api(stack, 'POST', '/api/v1/sessions', { token: customer.token, body: {} });
  assert.ok(s.status === 201, `session for ${name}: ${s.status}`);
  const { client } = await connectReady(stack, customer.token);
  sockets.push(client);
  return { customer, session: s.json, ws: client };
}

async function say(v, text) {
  const clientMsgId = `m${Date.now()}${Math.random()}`;
  v.ws.send({ type: 'message', sessionId: v.session.id, text, clientMsgId });
  await v.ws.next((f) => f.type === 'ack' && f.clientMsgId === clientMsgId);
}

/* The picker's rows as people read them: name, then state. */
async function pickerRows(dialog) {
  return dialog.locator('.agent-option').evaluateAll((rows) => rows.map((r) => ({
    name: r.querySelector('.agent-name').textContent,
    state: r.querySelector('.agent-state').textContent,
    disabled: r.querySelector('input').disabled,
  })));
}

before(async () => {
  stack = await startStack({ CHAT_AGENT_MAX_ACTIVE: '2' });
  await stack.addAgent('alice', 'password123', 'Alice Wong');
  await stack.addAgent('bob', 'password123', 'Bob Li');
  await stack.addAgent('carol', 'password123', 'Carol Diaz');
  await stack.addAgent('zed', 'password123', 'Zed Busy');
  await stack.addAgent('dan', 'password123', 'Dan Gone');
  browser = await b.launch();
  // Zed is online (a client of its own) with two chats: at the limit.
  const login = await stack.login('zed', 'password123');
  zed = (await connectReady(stack, login.token)).client;
  sockets.push(zed);
  for (const name of ['Zed One', 'Zed Two']) {
    const v = await visitor(name);
    assert.equal(v.session.agentId, login.agent.id);
  }
});

after(async () => {
  for (const ws of sockets) await ws.close().catch(() => {});
  if (browser) await browser.close();
  if (stack) await stack.stop();
});

test('the transfer dialog lists colleagues by name, online and how busy, and the chat moves with its history', { timeout: 90000 }, async () => {
  alice = await b.openPage(browser, stack, { name: 'alice' });
  bob = await b.openPage(browser, stack, { name: 'bob' });
  await b.loginAgent(alice, 'alice');
  await b.loginAgent(bob, 'bob');
  const a = alice.page;
  const v = await visitor('Vic Visitor');
  assert.equal(v.session.agentName, 'Alice Wong', 'the least busy agent online with the lowest id');
  await say(v, 'I need to change my delivery address.');
  await a.locator('#mine li', { hasText: 'Vic Visitor' }).getByRole('button').click();
  await b.bubble(a, 'I need to change my delivery address.');
  await b.say(a, 'Let me get my colleague Bob, who handles addresses.');
  await a.waitForSelector('.bubble.own[data-message-id]');

  await a.getByRole('button', { name: 'Transfer' }).click();
  const dialog = a.getByRole('dialog', { name: 'Transfer this chat' });
  await dialog.locator('.agent-option').first().waitFor();
  // Online first, each part by name; never alice herself; Zed at the limit cannot be picked.
  assert.deepEqual(await pickerRows(dialog), [
    { name: 'Bob Li', state: 'Online 0/2 chats', disabled: false },
    { name: 'Zed Busy', state: 'Online 2/2 chats · at the limit', disabled: true },
    { name: 'Carol Diaz', state: 'Offline 0/2 chats', disabled: false },
    { name: 'Dan Gone', state: 'Offline 0/2 chats', disabled: false },
  ]);
  await dialog.getByRole('radio', { name: /Bob Li/ }).check();
  await b.screenshot(a, 'workbench-transfer');
  await dialog.getByRole('button', { name: 'Transfer' }).click();
  await dialog.waitFor({ state: 'hidden' });
  await a.getByText('The chat was transferred to Bob Li.').waitFor();
  assert.equal(await a.locator('#mine li', { hasText: 'Vic Visitor' }).count(), 0);

  // Bob has it, with the history and who wrote what.
  const p = bob.page;
  const item = p.locator('#mine li', { hasText: 'Vic Visitor' });
  await item.waitFor();
  await item.getByRole('button').click();
  const mine = await b.bubble(p, 'Let me get my colleague Bob, who handles addresses.');
  assert.equal(await mine.first().locator('.sender').textContent(), 'Alice Wong');
  const theirs = await b.bubble(p, 'I need to change my delivery address.');
  assert.equal(await theirs.first().locator('.sender').textContent(), 'Vic Visitor');
  await p.locator('.system-line', { hasText: 'Alice Wong transferred the chat to Bob Li' }).waitFor();
  await b.say(p, 'Hello Vic, Bob here. Which address should we use?');
  await v.ws.next((f) => f.type === 'message' && f.message.senderName === 'Bob Li');
  b.assertNoConsoleErrors(alice, REFUSED);
  b.assertNoConsoleErrors(bob, REFUSED);
});

test('a colleague disabled meanwhile, or at their limit, is refused in the dialog, saying why', { timeout: 90000 }, async () => {
  const a = alice.page;
  const v = await visitor('Wen Visitor');
  assert.equal(v.session.agentName, 'Alice Wong');
  await a.locator('#mine li', { hasText: 'Wen Visitor' }).getByRole('button').click();
  await a.locator('#conv-title', { hasText: 'Wen Visitor' }).waitFor();
  await a.getByRole('button', { name: 'Transfer' }).click();
  const dialog = a.getByRole('dialog', { name: 'Transfer this chat' });
  await dialog.locator('.agent-option').first().waitFor();
  assert.equal((await pickerRows(dialog))[0].state, 'Online 1/2 chats', 'Bob has Vic now');

  // Nobody picked.
  await dialog.getByRole('button', { name: 'Transfer' }).click();
  await dialog.getByText('Pick the colleague who should take the chat.').waitFor();

  // Dan is disabled while the dialog is open.
  await dialog.getByRole('radio', { name: /Dan Gone/ }).check();
  assert.equal((await stack.chatctl(['agent', 'disable', 'dan'])).code, 0);
  await dialog.getByRole('button', { name: 'Transfer' }).click();
  await dialog.getByText('Dan Gone can no longer take chats: their account was disabled or removed.').waitFor();
  await b.until(async () => !(await pickerRows(dialog)).some((r) => r.name === 'Dan Gone'), 'Dan gone from the list');

  // Bob fills up while the dialog is open: two more visitors, routed to the least busy.
  await dialog.getByRole('radio', { name: /Bob Li/ }).check();
  for (const name of ['Xia Visitor', 'Yan Visitor']) await visitor(name);
  await bob.page.locator('#mine li', { hasText: 'Yan Visitor' }).waitFor();
  const bobs = await api(stack, 'GET', '/api/v1/agents', { token: (await stack.login('carol', 'password123')).token });
  assert.equal(bobs.json.agents.find((x) => x.displayName === 'Bob Li').activeChats, 2);
  await dialog.getByRole('button', { name: 'Transfer' }).click();
  const refusal = dialog.locator('#transfer-error');
  await refusal.getByText('Bob Li already has 2 of 2 chats, the most one agent takes. Pick someone else, or wait until they close one.').waitFor();
  await b.until(async () => (await pickerRows(dialog)).find((r) => r.name === 'Bob Li').disabled, 'Bob shown at the limit');
  assert.equal((await pickerRows(dialog)).find((r) => r.name === 'Bob Li').state, 'Online 2/2 chats · at the limit');
  await b.assertContrast(a, ['.agent-name', '.presence.online', '.presence.offline', '.load', '.load.full', '#transfer-error']);
  await b.screenshot(a, 'workbench-transfer-refused');

  // Carol is offline but has room: she gets it when she comes.
  await dialog.getByRole('radio', { name: /Carol Diaz/ }).check();
  await dialog.getByRole('button', { name: 'Transfer' }).click();
  await dialog.waitFor({ state: 'hidden' });
  await a.getByText('The chat was transferred to Carol Diaz.').waitFor();
  b.assertNoConsoleErrors(alice, REFUSED);
});
