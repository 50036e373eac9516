'use strict';
// What the workbench shows of the visitor beside the conversation: the
// page they are on (a link that opens apart, with no referrer), where they
// came from, their browser, system and language, their email, updated live
// as they move to another page; on a phone the panel folds away. And a
// message left while nobody was there, marked in the queue.

const { test, before, after } = require('node:test');
const assert = require('node:assert/strict');
const { startStack } = require('../integration/stack.js');
const { api } = require('../integration/ws-client.js');
const b = require('./browser.js');

const PHONE = { width: 390, height: 780 };
const CONTEXT = {
  url: 'https://shop.example/cart?item=42',
  title: 'Your cart – Example Shop',
  referrer: 'https://search.example/?q=running+shoes',
  browser: 'Firefox 128',
  os: 'Windows 11',
  language: 'de-DE',
};

let stack;
let browser;

/* A visitor with an email and a chat, made over REST: {customer, session}. */
async function visitor(name, body, email) {
  const customer = await stack.createCustomer(email ? { name, email } : { name });
  const s = await api(stack, 'POST', '/api/v1/sessions', { token: customer.token, body });
  assert.equal(s.status, 201, JSON.stringify(s.json));
  return { customer, session: s.json };
}

/* The panel's rows: label -> text. */
async function panel(page) {
  return page.locator('#context-list .context-row').evaluateAll((rows) => Object.fromEntries(
    rows.map((r) => [r.querySelector('dt').textContent, r.querySelector('dd').textContent])));
}

before(async () => {
  stack = await startStack();
  await stack.addAgent('alice', 'password123', 'Alice Wong');
  await stack.addAgent('pat', 'password123', 'Pat Phone');
  browser = await b.launch();
});

after(async () => {
  if (browser) await browser.close();
  if (stack) await stack.stop();
});

test('the visitor\'s page, origin, browser, system, language and email are shown beside the chat, and follow the visitor', { timeout: 60000 }, async (t) => {
  const agent = await b.openPage(browser, stack, { name: 'alice', test: t });
  await b.loginAgent(agent, 'alice');
  const a = agent.page;
  const v = await visitor('Greta Visitor', { subject: 'Sizes of the trail shoes', context: CONTEXT }, 'greta@example.com');
  assert.equal(v.session.customerEmail, 'greta@example.com');
  await a.locator('#mine li', { hasText: 'Greta Visitor' }).getByRole('button').click();
  await a.locator('#conv-title', { hasText: 'Greta Visitor' }).waitFor();
  const aside = a.getByRole('complementary', { name: 'Visitor' });
  await aside.waitFor();
  const rows = await panel(a);
  assert.equal(rows.Name, 'Greta Visitor');
  assert.equal(rows.Email, 'greta@example.com');
  assert.equal(rows.Page, 'Your cart – Example Shophttps://shop.example/cart?item=42');
  assert.equal(rows['Came from'], 'https://search.example/?q=running+shoes');
  assert.equal(rows.Browser, 'Firefox 128');
  assert.equal(rows.System, 'Windows 11');
  assert.equal(rows.Language, 'German (Germany) (de-DE)');
  assert.equal(rows.Subject, 'Sizes of the trail shoes');
  const page = aside.getByRole('link', { name: 'Your cart – Example Shop' });
  assert.equal(await page.getAttribute('href'), CONTEXT.url);
  assert.equal(await page.getAttribute('target'), '_blank');
  assert.equal(await page.getAttribute('rel'), 'noopener noreferrer');
  assert.equal(await aside.getByRole('link', { name: 'greta@example.com' }).getAttribute('href'), 'mailto:greta@example.com');
  assert.match(await a.locator('#conv-meta').textContent(), /greta@example\.com/);
  assert.equal(await a.locator('#context-empty').isHidden(), true);

  // The visitor moves on to the checkout: the panel follows at once.
  const moved = await api(stack, 'POST', `/api/v1/sessions/${v.session.id}/context`, {
    token: v.customer.token,
    body: { context: { ...CONTEXT, url: 'https://shop.example/checkout', title: 'Checkout – Example Shop' } },
  });
  assert.equal(moved.status, 200);
  const checkout = aside.getByRole('link', { name: 'Checkout – Example Shop' }).first();
  await checkout.waitFor();
  assert.equal(await a.locator('.context-row[data-field="page"]').getAttribute('class'), 'context-row changed');
  const trail = a.locator('#context-trail');
  await trail.waitFor();
  assert.deepEqual(await trail.locator('li a').allTextContents(), ['Checkout – Example Shop', 'Your cart – Example Shop']);
  await b.screenshot(a, 'workbench-visitor-context');

  // A visitor whose page sent nothing: said so, and no email row.
  await visitor('Hugo Visitor', {});
  await a.locator('#mine li', { hasText: 'Hugo Visitor' }).getByRole('button').click();
  await a.locator('#conv-title', { hasText: 'Hugo Visitor' }).waitFor();
  await a.getByText('The visitor\'s page sent no details about where they are.').waitFor();
  assert.deepEqual(Object.keys(await panel(a)), ['Name', 'Chat started']);
  b.assertNoConsoleErrors(agent);
});

test('on a phone the visitor panel folds above the conversation and opens on demand', { timeout: 60000 }, async (t) => {
  const agent = await b.openPage(browser, stack, { name: 'pat', viewport: PHONE, test: t });
  await b.loginAgent(agent, 'pat');
  const a = agent.page;
  const v = await visitor('Ines Visitor', { context: CONTEXT }, 'ines@example.com');
  assert.equal(v.session.agentName, 'Pat Phone', 'the one agent online');
  const item = a.locator('#mine li', { hasText: 'Ines Visitor' });
  await item.waitFor();
  await item.getByRole('button').click();
  await a.locator('#context-details').waitFor();
  assert.equal(await a.locator('#context-details').getAttribute('open'), null, 'folded on a phone');
  await a.locator('#context-details summary').click();
  await a.locator('#context-list .context-row[data-field="page"]').waitFor();
  await b.assertAccessibleBasics(a);
  await b.assertContrast(a, ['.alert-hint-text', '#alert-hint .link-button', '.topbar-button', '.language-switch',
    '.context-row dt', '.context-row dd', '.context-url', '.context-link', '.visitor-context h3']);
  await b.screenshot(a, 'workbench-visitor-context-phone');
  b.assertNoConsoleErrors(agent);
});

test('a message left while nobody was there is marked in the queue', { timeout: 60000 }, async (t) => {
  const customer = await stack.createCustomer({ name: 'Jun Visitor' });
  const left = await api(stack, 'POST', '/api/v1/leave-message', {
    token: customer.token, body: { email: 'jun@example.com', text: 'Do you ship to Norway? Please answer by email.' },
  });
  assert.equal(left.status, 201, JSON.stringify(left.json));
  assert.equal(left.json.session.kind, 'message');
  const agent = await b.openPage(browser, stack, { name: 'alice 2', test: t });
  await b.loginAgent(agent, 'alice');
  const a = agent.page;
  const item = a.locator('#queue li', { hasText: 'Jun Visitor' });
  await item.waitFor();
  assert.equal(await item.getAttribute('data-kind'), 'message');
  await item.locator('.kind-tag', { hasText: 'Left a message' }).waitFor();
  await b.assertContrast(a, ['.kind-tag', '.session-when', '.session-preview']);
  assert.match(await item.locator('.session-when').textContent(), /^left /);
  // It waits like any chat: the alert is on until someone claims it.
  await b.until(async () => /^\(1\) New chat – Support workbench$/.test(await a.title()), 'the alert in the title');
  await item.locator('.session-item.alerting').waitFor();
  await item.locator('.session-item').click();
  await b.bubble(a, 'Do you ship to Norway? Please answer by email.');
  await a.getByText('This visitor left a message while nobody was available. Claim it to answer.').waitFor();
  assert.match(await a.locator('#conv-meta').textContent(), /Left a message.*jun@example\.com/);
  await b.screenshot(a, 'workbench-left-message');
  b.assertNoConsoleErrors(agent);
});
