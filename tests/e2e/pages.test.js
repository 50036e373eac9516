'use strict';
// The demo pages themselves: their security headers and the policy they
// work under, the client module's rules (token masking, back-off, debug
// log), a customer who comes back after a reload or is handed over by
// another site, paging back through history, the sign-in page's errors and
// throttling, the embed snippet, phones, keyboards, labels and contrast.

const { test, before, after } = require('node:test');
const assert = require('node:assert/strict');
const fs = require('node:fs');
const path = require('node:path');
const { ROOT, startStack } = require('../integration/stack.js');
const { connectReady } = require('../integration/ws-client.js');
const b = require('./browser.js');

const WWW = path.join(ROOT, 'www');
const PHONE = { width: 390, height: 844 };

let stack;
let browser;

before(async () => {
  // No per-connection rate limit, so a test can write a long history fast;
  // three failed logins throttle a username.
  stack = await startStack({ CHAT_WS_RATE: '0', CHAT_LOGIN_USER_LIMIT: '3' });
  browser = await b.launch();
});

after(async () => {
  if (browser) await browser.close();
  if (stack) await stack.stop();
});

/* A customer made over REST, handed to the page as its site would: a one-time code in the fragment. */
async function handover(c, query = '') {
  const r = await stack.request('POST', '/api/v1/customers/handoff', { token: c.token });
  assert.equal(r.status, 201, r.body);
  return `/${query}#handoff=${r.json.code}`;
}

async function agentOnline(t, username) {
  await stack.addAgent(username, 'password123');
  const login = await stack.login(username, 'password123');
  const { client } = await connectReady(stack, login.token);
  t.after(() => client.close());
  return { client, token: login.token, id: login.agent.id };
}

test('every page has a strict Content-Security-Policy; only the customer page may be framed', async (t) => {
  const csp = (res) => res.headers['content-security-policy'] || '';
  for (const url of ['/', '/login', '/agent', '/embed-example.html', '/js/chat-client.js', '/css/chat.css']) {
    const res = await stack.request('GET', url);
    assert.equal(res.status, 200, url);
    const policy = csp(res);
    assert.match(policy, /default-src 'none'/, url);
    assert.match(policy, /script-src 'self';/, url);
    assert.match(policy, /style-src 'self';/, url);
    assert.match(policy, /connect-src 'self';/, url);
    assert.match(policy, /require-trusted-types-for 'script'/, url);
    assert.doesNotMatch(policy, /unsafe-inline|unsafe-eval|https?:/, url);
    assert.equal(res.headers['x-content-type-options'], 'nosniff', url);
    assert.equal(res.headers['referrer-policy'], 'no-referrer', url);
    if (url === '/') {
      assert.match(policy, /frame-ancestors \*/);
      assert.equal(res.headers['x-frame-options'], undefined);
    } else {
      assert.match(policy, /frame-ancestors 'none'/, url);
      assert.equal(res.headers['x-frame-options'], 'DENY', url);
    }
  }
  const widget = await stack.request('GET', '/widget.js');
  assert.equal(widget.status, 200);
  assert.equal(widget.headers['cross-origin-resource-policy'], 'cross-origin');
  assert.match(widget.headers['content-type'], /^text\/javascript/);
  assert.equal((await stack.request('GET', '/login?reason=expired')).status, 200);
});

test('the pages carry no inline code or styles and load nothing from other sites', () => {
  const files = fs.readdirSync(WWW).filter((f) => f.endsWith('.html'));
  assert.ok(files.length >= 4);
  for (const file of files) {
    // Markup only: what a page shows as code (the embed snippet) is text.
    const html = fs.readFileSync(path.join(WWW, file), 'utf8').replace(/<code>[^<]*<\/code>/g, '');
    const rules = [
      [/\son[a-z]+\s*=/i, 'an inline event handler'],
      [/\sstyle\s*=/i, 'an inline style'],
      [/<style/i, 'a style element'],
      [/<script(?![^>]*\ssrc=)[^>]*>/i, 'an inline script'],
      [/\s(src|href)\s*=\s*"(https?:)?\/\//i, 'a resource from another site'],
    ];
    for (const [re, what] of rules) assert.ok(!re.test(html), `${file}: ${what}`);
  }
  for (const file of fs.readdirSync(path.join(WWW, 'css'))) {
    const css = fs.readFileSync(path.join(WWW, 'css', file), 'utf8');
    assert.doesNotMatch(css, /@import|@font-face|url\((['"])?(https?:)?\/\//i, `${file}: loads from elsewhere`);
  }
});

test('the client module masks tokens and backs off as the guide says', async (t) => {
  const p = await b.openPage(browser, stack, { name: 'module', test: t });
  await p.page.goto('/');
  const got = await p.page.evaluate(async () => {
    const m = await import('/js/chat-client.js');
    return {
      long: m.maskToken('abcdefghijklmnopqrstuvwxyz0123456789ABCDEFG'),
      ten: m.maskToken('0123456789'),
      nine: m.maskToken('012345678'),
      none: m.maskToken(undefined),
      url: m.maskUrl('ws://example.com/ws/chat?token=abcdefghijklmnopqrstuvwxyz'),
      delays: [1, 2, 3, 4, 5].map(m.reconnectDelay),
      id: m.newClientMsgId().length <= 64,
    };
  });
  assert.deepEqual(got, {
    long: 'abcdefgh...DEFG',
    ten: '01234567...6789',
    nine: '***',
    none: '***',
    url: 'ws://example.com/ws/chat?token=abcdefgh...wxyz',
    delays: [2000, 4000, 8000, 10000, 10000],
    id: true,
  });
  b.assertNoConsoleErrors(p);
  await p.context.close();
});

test('a customer handed over with a one-time code: the code leaves the address bar, the site\'s tokens end; debug logs mask the token', async (t) => {
  const customer = await stack.createCustomer({ name: 'Handed Over' });
  const p = await b.openPage(browser, stack, { name: 'handover', test: t });
  const { page } = p;
  await page.goto(await handover(customer, '?debug=1'));
  await b.waitState(page, 'connected');
  await page.waitForSelector('#text:not([disabled])');
  assert.doesNotMatch(page.url(), /token|handoff/);
  assert.equal(new URL(page.url()).hash, '');
  const stored = await page.evaluate(() => JSON.parse(localStorage.getItem('chat.customer')));
  assert.equal(stored.customerId, customer.id);
  assert.notEqual(stored.token, customer.token, 'tokens of its own');
  assert.equal((await stack.request('GET', '/api/v1/me', { token: customer.token })).status, 401,
    'the tokens the site held are over');
  const { token } = stored;
  assert.equal(b.socketToken(p.record.sockets[0]), token);

  // The server drops the connection: debug logs the close, then the reconnect.
  const [handler] = b.handlersOf(stack, token);
  process.kill(handler, 'SIGKILL');
  await b.waitState(page, 'reconnecting');
  await b.waitState(page, 'connected');
  const logs = p.record.console.map((m) => m.text);
  const masked = `${token.slice(0, 8)}...${token.slice(-4)}`;
  assert.ok(logs.some((t) => t === `[chat] connecting to ws://127.0.0.1:${stack.port}/ws/chat?token=${masked}`),
    logs.join('\n'));
  assert.ok(logs.some((t) => t.startsWith('[chat] open ') && t.includes(masked)), logs.join('\n'));
  assert.ok(logs.some((t) => t === '[chat] close code=1006 reason="" wasClean=false'), logs.join('\n'));
  assert.ok(!logs.some((t) => t.includes(token)), 'the whole token is never logged');
  assert.deepEqual([...new Set(p.record.sockets.map(b.socketToken))], [token]);
  b.assertNoConsoleErrors(p);
  await p.context.close();
});

test('a link made by someone else never replaces the visitor\'s chat without asking; tokens in the address are not taken', async (t) => {
  const p = await b.openPage(browser, stack, { name: 'handoff attack', test: t });
  const { page } = p;
  await b.startCustomer(p, 'Victim Vera', 'A question of my own');
  await b.bubble(page, 'A question of my own');
  const mine = await page.evaluate(() => JSON.parse(localStorage.getItem('chat.customer')));
  // The attacker makes a customer and sends the visitor its link.
  const mallory = await stack.createCustomer({ name: 'Mallory' });
  await page.goto(`/?from=mail${(await handover(mallory)).slice(1)}`);
  await page.getByRole('heading', { name: 'Open another conversation?' }).waitFor();
  assert.equal(new URL(page.url()).hash, '', 'the code leaves the address bar');
  await page.getByRole('button', { name: 'Keep my conversation' }).click();
  await b.waitState(page, 'connected');
  await b.bubble(page, 'A question of my own');
  const kept = await page.evaluate(() => JSON.parse(localStorage.getItem('chat.customer')));
  assert.equal(kept.customerId, mine.customerId);
  assert.equal(kept.token, mine.token);
  b.assertNoConsoleErrors(p);
  await p.context.close();

  // Long-lived tokens in the address: cleared, and not used.
  const trudy = await stack.createCustomer({ name: 'Trudy' });
  const q = await b.openPage(browser, stack, { name: 'tokens in the address', test: t });
  const f = new URLSearchParams({ customerId: String(trudy.id), channel: 'WEB', token: trudy.token,
    refreshToken: trudy.refreshToken });
  await q.page.goto(`/#${f}`);
  // A new visitor's page: the pre-chat form, or the away page with nobody online.
  await q.page.locator('#start-form:visible, #chat-anyway:visible').first().waitFor();
  assert.equal(new URL(q.page.url()).hash, '');
  assert.equal(await q.page.evaluate(() => localStorage.getItem('chat.customer')), null);
  assert.equal(q.record.sockets.length, 0, 'no connection with the tokens of the address');
  b.assertNoConsoleErrors(q);
  await q.context.close();
});

test('a reload finds the same customer and conversation', async (t) => {
  const p = await b.openPage(browser, stack, { name: 'reload', test: t });
  const { page } = p;
  await b.startCustomer(p, 'Reload Reader');
  await b.say(page, 'Still here after a reload?');
  await page.waitForSelector('.bubble.own[data-message-id]');
  await page.reload();
  await b.waitState(page, 'connected');
  await b.bubble(page, 'Still here after a reload?');
  assert.equal(await b.bubbleCount(page, 'Still here after a reload?'), 1);
  assert.equal(await page.locator('#welcome').isHidden(), true);
  assert.equal(p.record.api.filter((x) => x.method === 'POST' && x.path === '/api/v1/customers').length, 1);
  assert.equal(p.record.api.filter((x) => x.method === 'POST' && x.path === '/api/v1/sessions').length, 1);
  assert.doesNotMatch(page.url(), /token/);
  b.assertNoConsoleErrors(p);
  await p.context.close();
});

test('customer and agent page back through a long history', { timeout: 60000 }, async (t) => {
  const customer = await stack.createCustomer({ name: 'Long Story' });
  const session = await stack.request('POST', '/api/v1/sessions', { token: customer.token });
  assert.equal(session.status, 201);
  const id = session.json.id;
  const { client } = await connectReady(stack, customer.token);
  t.after(() => client.close());
  for (let i = 1; i <= 60; i++) client.send({ type: 'message', sessionId: id, text: `Line ${i}`, clientMsgId: `l${i}` });
  for (let i = 1; i <= 60; i++) await client.nextType('ack');
  await client.close();

  const p = await b.openPage(browser, stack, { name: 'history', test: t });
  await p.page.goto(await handover(customer));
  await b.waitState(p.page, 'connected');
  await b.bubble(p.page, 'Line 60');
  assert.equal(await p.page.locator('#messages .bubble').count(), 50);
  await p.page.getByRole('button', { name: 'Show earlier messages' }).click();
  await b.bubble(p.page, 'Line 1');
  assert.equal(await p.page.locator('#messages .bubble').count(), 60);
  assert.equal(await p.page.getByRole('button', { name: 'Show earlier messages' }).count(), 0);
  const order = await p.page.locator('#messages .bubble .text').allTextContents();
  assert.deepEqual(order, Array.from({ length: 60 }, (_, i) => `Line ${i + 1}`));

  // The queued chat, previewed by an agent before claiming it.
  await stack.addAgent('pager', 'password123');
  const a = await b.openPage(browser, stack, { name: 'agent', test: t });
  await b.loginAgent(a, 'pager');
  await a.page.locator('#queue li', { hasText: 'Long Story' }).locator('.session-item').click();
  await b.bubble(a.page, 'Line 60');
  await a.page.getByText('This customer is waiting for an agent.').waitFor();
  await a.page.getByRole('button', { name: 'Load earlier messages' }).click();
  await b.bubble(a.page, 'Line 1');
  assert.equal(await a.page.locator('#messages .bubble').count(), 60);
  await a.page.getByRole('button', { name: 'Claim this chat' }).click();
  await a.page.locator('#mine li', { hasText: 'Long Story' }).waitFor();
  await a.page.locator('#text').waitFor();
  await p.page.locator('#messages .system-line', { hasText: 'pager joined the chat' }).waitFor();
  b.assertNoConsoleErrors(p);
  b.assertNoConsoleErrors(a);
  await p.context.close();
  await a.context.close();
});

test('sign-in shows its errors beside the form and explains throttling', { timeout: 60000 }, async (t) => {
  await stack.addAgent('frank', 'password123');
  const p = await b.openPage(browser, stack, { name: 'login', test: t });
  const { page } = p;
  await page.goto('/login');
  const error = page.locator('#login-error');

  await page.getByRole('button', { name: 'Sign in' }).click();
  await error.getByText('Please enter your username.').waitFor();
  assert.equal(await page.evaluate(() => document.activeElement.id), 'username');
  assert.equal(await page.getByLabel('Username').getAttribute('aria-invalid'), 'true');

  await page.getByLabel('Username').fill('frank');
  for (let i = 0; i < 3; i++) {
    await page.getByLabel('Password').fill('wrong-password');
    await page.getByLabel('Password').press('Enter');
    await error.getByText('The username or password is not right.', { exact: false }).waitFor();
    await page.waitForSelector('#submit:not([disabled])');
    await page.evaluate(() => { document.getElementById('login-error').hidden = true; });
  }
  // The limit is reached: even the right password waits, and the page says how long.
  await page.getByLabel('Password').fill('password123');
  await page.getByRole('button', { name: 'Sign in' }).click();
  await error.getByText('Too many failed sign-in attempts', { exact: false }).waitFor();
  assert.match(await error.textContent(), /try again in \d+ (minute|second)s?\./);
  const button = await page.$eval('#submit', (x) => ({ disabled: x.disabled, text: x.textContent }));
  assert.equal(button.disabled, true);
  assert.match(button.text, /^Try again in \d+ (minute|second)s?$/);
  assert.match(page.url(), /\/login$/);
  await b.screenshot(page, 'login-throttled');
  b.assertNoConsoleErrors(p, [/status of 401/, /status of 429/]);
  await p.context.close();
});

test('the embed snippet puts the chat on another page', { timeout: 60000 }, async (t) => {
  const agent = await agentOnline(t, 'gina');
  const p = await b.openPage(browser, stack, { name: 'embed', test: t });
  const { page } = p;
  await page.goto('/embed-example.html');
  const launcher = page.getByRole('button', { name: 'Chat with us' });
  await launcher.click();
  assert.equal(await launcher.getAttribute('aria-expanded'), 'true');
  const frame = page.frameLocator('iframe[title="Support chat"]');
  await frame.locator('#start-form').getByLabel('Your name').fill('Framed Visitor');
  await frame.getByRole('button', { name: 'Start chat' }).click();
  await frame.locator('#connection-status.status-connected').waitFor({ state: 'attached' });
  await frame.locator('#text:not([disabled])').fill('Hello from the shop page');
  await frame.locator('#text').press('Enter');
  const hello = await agent.client.next((f) => f.type === 'message' && f.message.text === 'Hello from the shop page');
  await frame.locator('.bubble.own[data-message-id]').waitFor();
  await b.screenshot(page, 'embed-open');

  // Minimized, the launcher counts what the agent writes meanwhile.
  await frame.getByRole('button', { name: 'Minimize chat' }).click();
  await page.locator('iframe[title="Support chat"]').waitFor({ state: 'hidden' });
  assert.equal(await launcher.getAttribute('aria-expanded'), 'false');
  assert.equal(await page.evaluate(() => document.activeElement.textContent), 'Chat with us');
  agent.client.send({ type: 'message', sessionId: hello.message.sessionId, text: 'Welcome! How can I help?', clientMsgId: 'w1' });
  await page.getByRole('button', { name: 'Chat with us (1 unread)' }).waitFor();
  await page.getByRole('button', { name: /Chat with us/ }).click();
  await frame.locator('.bubble.other', { hasText: 'Welcome! How can I help?' }).waitFor();
  await page.getByRole('button', { name: 'Chat with us' }).waitFor();
  b.assertNoConsoleErrors(p);
  agent.client.close();
  await p.context.close();
});

test('on a phone, by keyboard: labels, focus, layout and contrast', { timeout: 60000 }, async (t) => {
  await stack.addAgent('hana', 'password123', 'Hana Sato');
  const customer = await b.openPage(browser, stack, { name: 'phone customer', viewport: PHONE, test: t });
  const c = customer.page;
  await c.goto('/');
  // Nobody online yet: the away page, and a way to wait in the chat all the same.
  const anyway = c.getByRole('button', { name: 'Wait in the chat instead' });
  await anyway.waitFor();
  await b.assertAccessibleBasics(c);
  await anyway.focus();
  await c.keyboard.press('Enter');
  await c.waitForFunction(() => document.activeElement && document.activeElement.id === 'name');
  await b.assertAccessibleBasics(c);
  await c.keyboard.type('Keyboard Kim');
  await c.keyboard.press('Tab');
  assert.equal(await c.evaluate(() => document.activeElement.id), 'email');
  await c.keyboard.type('kim@example.com');
  await c.keyboard.press('Tab');
  assert.equal(await c.evaluate(() => document.activeElement.id), 'question');
  await c.keyboard.type('Returns');
  await c.keyboard.press('Enter');
  await b.waitState(c, 'connected');
  await c.waitForFunction(() => document.activeElement && document.activeElement.id === 'text');
  await c.keyboard.type('Typed on a phone, sent with Enter');
  await c.keyboard.press('Enter');
  await c.waitForSelector('.bubble.own[data-message-id]');
  await b.assertAccessibleBasics(c);
  const box = await c.locator('#widget').boundingBox();
  assert.equal(Math.round(box.width), PHONE.width);

  const agent = await b.openPage(browser, stack, { name: 'phone agent', viewport: PHONE, test: t });
  const a = agent.page;
  await a.goto('/login');
  await a.waitForFunction(() => document.activeElement && document.activeElement.id === 'username');
  await b.assertAccessibleBasics(a);
  await a.keyboard.type('hana');
  await a.keyboard.press('Tab');
  await a.keyboard.type('password123');
  await a.keyboard.press('Enter');
  await a.waitForURL('**/agent');
  await b.waitState(a, 'connected');
  const claim = a.getByRole('button', { name: 'Claim the chat with Keyboard Kim' });
  await claim.focus();
  await a.keyboard.press('Enter');
  await b.bubble(a, 'Typed on a phone, sent with Enter');
  assert.equal(await a.locator('.sidebar').isHidden(), true, 'the list gives way to the chat');
  await a.waitForFunction(() => document.activeElement && document.activeElement.id === 'text');
  await a.keyboard.type('Hello Kim, happy to help.');
  await a.keyboard.press('Enter');
  await b.bubble(c, 'Hello Kim, happy to help.');
  await b.assertAccessibleBasics(a);

  // Contrast of the text people read, in the states shown now.
  const common = ['.bubble.own .text', '.bubble.own .meta', '.bubble.other .text', '.bubble.other .meta', '.note', '.send'];
  await b.assertContrast(c, [...common, '#connection-status', '.composer textarea', '.system-line', '.avatar']);
  await b.assertContrast(a, [...common, '.status-pill', '.me-name', '.me-id', '.conversation-title p', '.state-badge']);
  await b.screenshot(c, 'customer-phone');
  await b.screenshot(a, 'workbench-phone');

  // Every status bar state, as the guide names them.
  const states = await c.evaluate(() => {
    const out = {};
    for (const state of ['connecting', 'connected', 'disconnected', 'reconnecting', 'error']) {
      const bar = document.createElement('div');
      bar.className = 'status-bar';
      bar.dataset.state = state;
      bar.dataset.probe = '1';
      bar.textContent = state;
      document.body.append(bar);
      out[state] = state;
    }
    return out;
  });
  await b.assertContrast(c, Object.keys(states).map((s) => `[data-probe][data-state="${s}"]`));

  await a.getByRole('button', { name: 'Back to the list' }).click();
  await a.locator('#mine li', { hasText: 'Keyboard Kim' }).waitFor();
  assert.equal(await a.locator('#conversation').isHidden(), true);
  b.assertNoConsoleErrors(customer);
  b.assertNoConsoleErrors(agent);
  await customer.context.close();
  await agent.context.close();
});
