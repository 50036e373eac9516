'use strict';
// The workbench's alerts in a real browser: a desktop notification, the
// chime and the tab title for a chat given to the agent, a visitor waiting
// in the queue (again every CHAT_ALERT_REPEAT seconds until someone claims
// the chat) and a message in a chat that is not on screen; the Alerts
// dialog's test of what works in this browser; and a blocked chime said
// in the page. Notifications are recorded by wrapping window.Notification,
// chimes by wrapping AudioBufferSourceNode.start, and a background tab is
// made by overriding document.visibilityState, since a headless browser
// keeps every tab visible.

const { test, before, after } = require('node:test');
const assert = require('node:assert/strict');
const { startStack, sleep } = require('../integration/stack.js');
const { api, connectReady } = require('../integration/ws-client.js');
const b = require('./browser.js');

const REPEAT_S = 5;
const BASE_TITLE = 'Support workbench';

let stack;
let browser;
let alice;
let bob;
const customers = {};

/* In the page, before its scripts: record notifications and chimes; a switch for a background tab. */
function alertProbe() {
  window.__notes = [];
  window.__noteObjs = [];
  const Real = window.Notification;
  if (typeof Real === 'function') {
    class Recorded extends Real {
      constructor(title, options = {}) {
        super(title, options);
        window.__notes.push({ title, body: options.body, tag: options.tag, at: Date.now() });
        window.__noteObjs.push(this);
      }
    }
    window.Notification = Recorded;
  }
  window.__chimes = 0;
  const start = AudioBufferSourceNode.prototype.start;
  AudioBufferSourceNode.prototype.start = function countedStart(...args) {
    window.__chimes += 1;
    return start.apply(this, args);
  };
  let hidden = false;
  Object.defineProperty(Document.prototype, 'visibilityState', {
    configurable: true, get() { return hidden ? 'hidden' : 'visible'; },
  });
  Object.defineProperty(Document.prototype, 'hidden', { configurable: true, get() { return hidden; } });
  const hasFocus = Document.prototype.hasFocus;
  Document.prototype.hasFocus = function focused() { return !hidden && hasFocus.call(this); };
  window.__setHidden = (h) => {
    hidden = h;
    document.dispatchEvent(new Event('visibilitychange'));
  };
}

/* In the page: a browser that lets no sound play until... never (as before any click). */
function silentBrowser() {
  Object.defineProperty(BaseAudioContext.prototype, 'state', { configurable: true, get() { return 'suspended'; } });
  AudioContext.prototype.resume = () => new Promise(() => {});
}

async function agentPage(t, username, { notifications = true, silent = false } = {}) {
  const p = await b.openPage(browser, stack, { name: username, test: t });
  if (notifications) await p.context.grantPermissions(['notifications']);
  await p.context.addInitScript(alertProbe);
  if (silent) await p.context.addInitScript(silentBrowser);
  await b.loginAgent(p, username);
  return p;
}

const notes = (page) => page.evaluate(() => window.__notes);
const chimes = (page) => page.evaluate(() => window.__chimes);
const setHidden = (page, hidden) => page.evaluate((h) => window.__setHidden(h), hidden);

async function waitNote(page, pred, what, ms = b.WAIT_MS) {
  let found = null;
  await b.until(async () => {
    found = (await notes(page)).find(pred) || null;
    return found !== null;
  }, what, ms);
  return found;
}

/* The title blinks: wait for the phase with words in it. */
async function waitTitle(page, re, ms = b.WAIT_MS) {
  await b.until(async () => re.test(await page.title()), `the title to match ${re}`, ms);
}

/* A visitor with a chat, over REST, and their WebSocket: {customer, session, ws}. */
async function visitor(name, body = {}) {
  const customer = await stack.createCustomer({ name });
  const s = await api(stack, 'POST', '/api/v1/sessions', { token: customer.token, body });
  assert.ok(s.status === 201 || s.status === 200, `session for ${name}: ${s.status}`);
  const { client } = await connectReady(stack, customer.token);
  return { customer, session: s.json, ws: client };
}

async function say(v, text) {
  const clientMsgId = `m${Date.now()}${Math.random()}`;
  v.ws.send({ type: 'message', sessionId: v.session.id, text, clientMsgId });
  await v.ws.next((f) => f.type === 'ack' && f.clientMsgId === clientMsgId);
}

before(async () => {
  stack = await startStack({ CHAT_ALERT_REPEAT: String(REPEAT_S), CHAT_AGENT_MAX_ACTIVE: '2' });
  await stack.addAgent('alice', 'password123', 'Alice Wong');
  await stack.addAgent('bob', 'password123', 'Bob Li');
  await stack.addAgent('carol', 'password123', 'Carol Diaz');
  browser = await b.launch();
});

after(async () => {
  for (const v of Object.values(customers)) await v.ws.close().catch(() => {});
  if (browser) await browser.close();
  if (stack) await stack.stop();
});

test('a chat given to a workbench in a background tab alerts until it is opened', { timeout: 60000 }, async () => {
  alice = await b.openPage(browser, stack, { name: 'alice' });
  await alice.context.grantPermissions(['notifications']);
  await alice.context.addInitScript(alertProbe);
  await b.loginAgent(alice, 'alice');
  const a = alice.page;
  // Permission granted, sound allowed: nothing to fix, no hint.
  assert.equal(await a.locator('#alert-hint').isHidden(), true);
  assert.equal(await a.title(), BASE_TITLE);

  await setHidden(a, true);
  const chimesBefore = await chimes(a);
  customers.ann = await visitor('Ann Visitor', { subject: 'Where is my parcel?' });
  assert.equal(customers.ann.session.status, 'active', 'routed to alice, the agent online');
  const note = await waitNote(a, (n) => n.title === 'New chat with Ann Visitor', 'the notification of the new chat');
  assert.equal(note.body, 'Where is my parcel?');
  assert.equal(note.tag, `chat-session-${customers.ann.session.id}`);
  await waitTitle(a, /^\(1\) New chat – Support workbench$/);
  await b.until(async () => /^data:image\/png;base64,/.test(await a.getAttribute('link[rel="icon"]', 'href')),
    'the count on the tab\'s icon');
  await b.until(async () => (await chimes(a)) > chimesBefore, 'the chime');
  await a.locator('#mine .session-item.alerting', { hasText: 'Ann Visitor' }).waitFor();

  // Back to the tab, and the chat opened: the alert ends.
  await setHidden(a, false);
  await a.locator('#mine li', { hasText: 'Ann Visitor' }).getByRole('button').click();
  await waitTitle(a, /^Support workbench$/);
  assert.equal(await a.locator('.session-item.alerting').count(), 0);
  assert.equal(await a.getAttribute('link[rel="icon"]', 'href'), '/favicon.svg');
  b.assertNoConsoleErrors(alice);
});

test('a customer\'s message in a chat that is not on screen alerts', { timeout: 60000 }, async () => {
  const a = alice.page;
  customers.cy = await visitor('Cy Visitor');
  await a.locator('#mine li', { hasText: 'Cy Visitor' }).waitFor();
  // A new chat in a visible tab: the title and chime, no desktop notification.
  await waitTitle(a, /^\(1\) New chat – /);
  assert.equal((await notes(a)).filter((n) => n.title === 'New chat with Cy Visitor').length, 0);
  // Ann's chat stays on screen; Cy writes.
  await a.locator('#mine li', { hasText: 'Cy Visitor' }).getByRole('button').click();
  await a.locator('#mine li', { hasText: 'Ann Visitor' }).getByRole('button').click();
  await waitTitle(a, /^Support workbench$/);
  // Alerts within 1.5 s of each other chime once: let the one for Cy's new chat pass.
  await sleep(1600);
  const chimesBefore = await chimes(a);
  await say(customers.cy, 'Hello? Anyone there?');
  await say(customers.cy, 'I have a question about returns.');
  await a.locator('#mine li', { hasText: 'Cy Visitor' }).locator('.badge', { hasText: '2' }).waitFor();
  await waitTitle(a, /^\(2\) New message – Support workbench$/);
  await b.until(async () => (await chimes(a)) > chimesBefore, 'the chime for the message');

  // The tab in the background: a message in the chat on screen alerts too, with a notification.
  await setHidden(a, true);
  await say(customers.ann, 'It was due on Monday.');
  const note = await waitNote(a, (n) => n.title === 'Ann Visitor wrote', 'the notification of the message');
  assert.equal(note.body, 'It was due on Monday.');
  await waitTitle(a, /^\(3\) New message – /);
  // Back in the tab, Ann's chat on screen is seen; Cy's waits until it is opened.
  await setHidden(a, false);
  await waitTitle(a, /^\(2\) /);
  await a.locator('#mine li', { hasText: 'Cy Visitor' }).getByRole('button').click();
  await b.bubble(a, 'I have a question about returns.');
  await waitTitle(a, /^Support workbench$/);
  b.assertNoConsoleErrors(alice);
});

test('a visitor waiting in the queue alerts every CHAT_ALERT_REPEAT seconds until someone claims the chat', { timeout: 90000 }, async () => {
  const a = alice.page;
  await setHidden(a, true);
  // Alice has two chats, the most one agent takes: the next visitor waits.
  customers.dee = await visitor('Dee Visitor', { subject: 'Refund for order 88' });
  assert.equal(customers.dee.session.status, 'queued');
  const tag = `chat-session-${customers.dee.session.id}`;
  const first = await waitNote(a, (n) => n.tag === tag, 'the notification of the waiting visitor');
  assert.equal(first.title, 'Dee Visitor is waiting for an agent');
  assert.equal(first.body, 'Refund for order 88');
  await waitTitle(a, /^\(1\) New chat – Support workbench$/);
  await a.locator('#queue .session-item.alerting', { hasText: 'Dee Visitor' }).waitFor();
  await b.screenshot(a, 'workbench-alert');

  // Again after REPEAT_S seconds, and again.
  const second = await waitNote(a, (n) => n.tag === tag && n.at > first.at, 'the repeated notification',
    (REPEAT_S + 5) * 1000);
  const gap = second.at - first.at;
  assert.ok(gap >= REPEAT_S * 1000 - 1100 && gap <= REPEAT_S * 1000 + 2500, `repeated after ${gap} ms`);
  await waitNote(a, (n) => n.tag === tag && n.at > second.at, 'the third notification', (REPEAT_S + 5) * 1000);

  // Clicking the notification brings the tab forward with that chat open.
  await setHidden(a, false);
  await a.evaluate((tg) => window.__noteObjs.filter((n) => n.tag === tg).at(-1).onclick(), tag);
  await a.locator('#conv-title', { hasText: 'Dee Visitor' }).waitFor();
  await a.getByText('This customer is waiting for an agent.').waitFor();
  await setHidden(a, true);

  // Bob claims it: alice's alert stops, the title comes back.
  const bobLogin = await stack.login('bob', 'password123');
  bob = bobLogin;
  const claim = await api(stack, 'POST', `/api/v1/sessions/${customers.dee.session.id}/claim`, { token: bobLogin.token });
  assert.equal(claim.status, 200);
  await a.locator('#queue li', { hasText: 'Dee Visitor' }).waitFor({ state: 'detached' });
  await a.getByText('Another agent took this chat.').waitFor();
  await waitTitle(a, /^Support workbench$/);
  const count = (await notes(a)).filter((n) => n.tag === tag).length;
  const chimesThen = await chimes(a);
  await sleep((REPEAT_S + 2) * 1000);
  assert.equal((await notes(a)).filter((n) => n.tag === tag).length, count, 'no notification after the claim');
  assert.equal(await chimes(a), chimesThen, 'no chime after the claim');
  assert.equal(await a.title(), BASE_TITLE);
  await setHidden(a, false);
  b.assertNoConsoleErrors(alice);
});

test('Test alerts says what works in this browser, and the choices are kept', { timeout: 60000 }, async () => {
  const a = alice.page;
  await a.getByRole('button', { name: 'Alerts' }).click();
  const dialog = a.getByRole('dialog', { name: 'Alerts' });
  await dialog.getByText('Desktop notifications are allowed for this site.').waitFor();
  assert.equal(await dialog.getByRole('button', { name: 'Allow desktop notifications' }).isHidden(), true);
  const before = (await notes(a)).length;
  await dialog.getByRole('button', { name: 'Test alerts' }).click();
  const report = dialog.locator('#alert-report');
  await report.locator('li[data-what="title"]').waitFor();
  assert.match(await report.locator('li[data-what="notify"]').textContent(), /Notifications: a test notification was (shown|sent)/);
  assert.equal(await report.locator('li[data-what="notify"]').getAttribute('class'), 'ok');
  assert.equal(await report.locator('li[data-what="sound"]').textContent(), '\u2713Sound: the chime played.');
  assert.match(await report.locator('li[data-what="title"]').textContent(), /blinks/);
  const test = (await notes(a)).slice(before);
  assert.deepEqual(test.map((n) => n.title), ['Test alert']);
  await waitTitle(a, /Test alert – Support workbench$/);
  await b.assertContrast(a, ['.alert-report li.ok', '.alert-permission', '.alert-toggles label']);
  await b.screenshot(a, 'workbench-alerts-test');

  // The chime off: kept in this browser for alice, said in the report.
  await dialog.getByLabel('A chime').uncheck();
  await dialog.getByRole('button', { name: 'Done' }).click();
  await a.reload();
  await b.waitState(a, 'connected');
  await a.getByRole('button', { name: 'Alerts' }).click();
  assert.equal(await dialog.getByLabel('A chime').isChecked(), false);
  assert.equal(await dialog.getByLabel('Desktop notifications').isChecked(), true);
  await dialog.getByRole('button', { name: 'Test alerts' }).click();
  await report.locator('li[data-what="title"]').waitFor();
  assert.equal(await report.locator('li[data-what="sound"]').textContent(), '!Sound: turned off above.');
  await dialog.getByLabel('A chime').check();
  await dialog.getByRole('button', { name: 'Done' }).click();
  b.assertNoConsoleErrors(alice);
});

test('a browser that blocks the chime, and notifications never allowed, are said on the page', { timeout: 60000 }, async (t) => {
  // Alice is full and Bob is not online: this visitor waits.
  customers.eve = await visitor('Eve Visitor');
  assert.equal(customers.eve.session.status, 'queued');
  const carol = await agentPage(t, 'carol', { notifications: false, silent: true });
  const c = carol.page;
  await c.locator('#queue li', { hasText: 'Eve Visitor' }).waitFor();
  const hint = c.locator('#alert-hint');
  await hint.getByText('A chat is waiting, but this browser keeps the chime silent until you click on the page.').waitFor();
  assert.equal(await hint.getAttribute('data-kind'), 'sound');
  await waitTitle(c, /^\(1\) New chat – /);
  await b.assertContrast(c, ['.alert-hint-text', '#alert-hint .primary']);
  await b.screenshot(c, 'workbench-alert-blocked-sound');

  await c.getByRole('button', { name: 'Alerts' }).click();
  const dialog = c.getByRole('dialog', { name: 'Alerts' });
  await dialog.getByText('This browser has not been asked yet whether this site may show desktop notifications.').waitFor();
  await dialog.getByRole('button', { name: 'Allow desktop notifications' }).waitFor();
  await dialog.getByRole('button', { name: 'Test alerts' }).click();
  const report = dialog.locator('#alert-report');
  await report.locator('li[data-what="title"]').waitFor();
  assert.match(await report.locator('li[data-what="notify"]').textContent(),
    /Notifications: not allowed yet\. Press "Allow desktop notifications"/);
  assert.match(await report.locator('li[data-what="sound"]').textContent(),
    /Sound: the browser blocks sound until you click on the page/);
  await b.assertContrast(c, ['.alert-report li.problem']);
  assert.deepEqual(await notes(c), [], 'nothing shown without the permission');
  await dialog.getByRole('button', { name: 'Done' }).click();
  b.assertNoConsoleErrors(carol);
});
