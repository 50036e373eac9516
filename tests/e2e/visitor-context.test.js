'use strict';
// Where the visitor is: the embed script on the operator's page tells the
// chat frame the page's address, title and referrer, and again as the
// visitor moves on (pushState, hashchange, a new title); the chat adds the
// browser, OS and language, sends it with the new session and updates it,
// within the server's limits. A chat page opened on its own takes nothing
// of a host page, and a frame's message about another origin is ignored.
// Checked as the agent sees it: GET /api/v1/sessions/{id} and its frames.

const { test, before, after } = require('node:test');
const assert = require('node:assert/strict');
const { startStack } = require('../integration/stack.js');
const { connectReady } = require('../integration/ws-client.js');
const b = require('./browser.js');

const REFERRER = 'https://search.example/?q=wool+blankets';

let stack;
let browser;
let agent;

before(async () => {
  stack = await startStack();
  await stack.addAgent('vera', 'password123', 'Vera Novak');
  const login = await stack.login('vera', 'password123');
  agent = { token: login.token, ...(await connectReady(stack, login.token)) };
  browser = await b.launch();
});

after(async () => {
  if (agent) await agent.client.close();
  if (browser) await browser.close();
  if (stack) await stack.stop();
});

async function sessionContext(id) {
  const res = await stack.request('GET', `/api/v1/sessions/${id}`, { token: agent.token });
  assert.equal(res.status, 200, res.body);
  return res.json.context;
}

/* Wait until the session's context, as the agent reads it, passes check. */
async function contextBecomes(id, check, what) {
  let last = null;
  await b.until(async () => {
    last = await sessionContext(id);
    return check(last);
  }, `${what}; last: ${JSON.stringify(last)}`, 10000);
  return last;
}

test('the embed passes the host page, and its changes, to the agent', { timeout: 90000 }, async (t) => {
  const p = await b.openPage(browser, stack, { name: 'shop', test: t });
  const { page } = p;
  const shop = `http://127.0.0.1:${stack.port}/embed-example.html?from=newsletter`;
  await page.goto('/embed-example.html?from=newsletter', { referer: REFERRER });
  await page.getByRole('button', { name: 'Chat with us' }).click();
  const frame = page.frameLocator('iframe[title="Support chat"]');
  const form = frame.locator('#start-form');
  await form.getByLabel('Your name').fill('Context Carla');
  await form.getByLabel('How can we help?').fill('Is the Fjord throw machine washable?');
  await form.getByRole('button', { name: 'Start chat' }).click();
  await frame.locator('#connection-status.status-connected').waitFor({ state: 'attached' });
  const first = await agent.client.next((f) => f.type === 'message' && f.message.text === 'Is the Fjord throw machine washable?');
  const id = first.message.sessionId;

  // With the new session: where the visitor is, and with what.
  const ctx = await sessionContext(id);
  assert.equal(ctx.url, shop);
  assert.equal(ctx.title, 'Harbor & Pine - an example shop with the chat widget');
  assert.equal(ctx.referrer, REFERRER);
  assert.match(ctx.browser, /Chrom(e|ium) \d+/);
  assert.equal(ctx.os, 'Linux');
  assert.equal(ctx.language, 'en-US');

  // The shop changes pages without loading one: pushState and a new title.
  await frame.getByRole('button', { name: 'Minimize chat' }).click();
  await page.getByRole('link', { name: 'Checkout' }).click();
  await contextBecomes(id, (c) => c.url.endsWith('/embed-example.html?page=checkout')
    && c.title === 'Checkout - Harbor & Pine', 'the checkout page');
  const frameSeen = await agent.client.next((f) => f.type === 'session' && f.session.id === id
    && f.session.context && f.session.context.title === 'Checkout - Harbor & Pine');
  assert.equal(frameSeen.session.context.referrer, REFERRER);

  // A jump within the page (hashchange), and back (popstate).
  await page.getByRole('link', { name: 'Care guide' }).click();
  await contextBecomes(id, (c) => c.url.endsWith('?page=checkout#care'), 'the #care anchor');
  await page.goBack();
  await contextBecomes(id, (c) => c.url.endsWith('?page=checkout'), 'back from the anchor');

  // A title over the limit arrives cut to 200 characters.
  await page.evaluate(() => { document.title = `Sale! ${'Wool blankets '.repeat(30)}`; });
  const long = await contextBecomes(id, (c) => c.title.startsWith('Sale!'), 'the long title');
  assert.equal(Array.from(long.title).length, 200);

  // A message about another origin than the sender's is not believed.
  await page.evaluate(() => {
    document.querySelector('iframe[title="Support chat"]').contentWindow.postMessage({
      source: 'chat-widget-host', type: 'context',
      context: { url: 'https://elsewhere.example/phishing', title: 'Not the shop' },
    }, '*');
  });
  await new Promise((r) => setTimeout(r, 2000));
  assert.ok((await sessionContext(id)).title.startsWith('Sale!'));
  b.assertNoConsoleErrors(p);
});

test('the chat page on its own passes the browser, OS and language, nothing of a host page', { timeout: 60000 }, async (t) => {
  // German: a language the pages do not have; the page is in English, the agent learns de-DE.
  const p = await b.openPage(browser, stack, { name: 'alone', locale: 'de-DE', test: t });
  await p.page.goto('/', { referer: REFERRER });
  await b.startCustomer(p, 'Alone Ada', undefined, { goto: false });
  const first = await agent.client.next((f) => f.type === 'session' && f.session.customerName === 'Alone Ada');
  const ctx = await sessionContext(first.session.id);
  assert.deepEqual(Object.keys(ctx).sort(), ['browser', 'language', 'os']);
  assert.equal(ctx.language, 'de-DE');
  assert.equal(await p.page.evaluate(() => document.documentElement.lang), 'en');
  b.assertNoConsoleErrors(p);
});
