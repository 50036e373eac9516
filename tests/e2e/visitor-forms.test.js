'use strict';
// The visitor's forms: the pre-chat form with a required email
// (CHAT_PRECHAT_EMAIL=required), checked in the page and by the server
// (its refusal shown at the field), and the consent box with the
// operator's privacy text (CHAT_PRIVACY_TEXT); the transcript by mail
// during and after the chat, asking for an address when there is none;
// and links back from a mail (#resume=CODE), good or spent.

const { test, before, after } = require('node:test');
const assert = require('node:assert/strict');
const { execFileSync } = require('node:child_process');
const crypto = require('node:crypto');
const { startStack } = require('../integration/stack.js');
const { connectReady } = require('../integration/ws-client.js');
const b = require('./browser.js');

const PRIVACY = 'We keep this conversation for 90 days to answer you. See example.com/privacy.';

let stack;
let browser;
let agent;

before(async () => {
  stack = await startStack({
    CHAT_PRECHAT_EMAIL: 'required',
    CHAT_PRIVACY_TEXT: PRIVACY,
    // Mail is on; nothing listens there, so what is queued stays queued.
    CHAT_SMTP_URL: 'smtp://127.0.0.1:9',
    CHAT_MAIL_FROM: 'chat@example.com',
    CHAT_MAIL_TEAM: 'team@example.com',
  });
  await stack.addAgent('rita', 'password123', 'Rita Gomez');
  const login = await stack.login('rita', 'password123');
  agent = { token: login.token, id: login.agent.id, ...(await connectReady(stack, login.token)) };
  browser = await b.launch();
});

after(async () => {
  if (agent) await agent.client.close();
  if (browser) await browser.close();
  if (stack) await stack.stop();
});

/* A customer made over REST (no email), handed to the page with a one-time code. */
async function handover(c) {
  const r = await stack.request('POST', '/api/v1/customers/handoff', { token: c.token });
  assert.equal(r.status, 201, r.body);
  return `/#handoff=${r.json.code}`;
}

test('the pre-chat form: a required email checked in the page and by the server, and the consent box', { timeout: 60000 }, async (t) => {
  const availability = (await stack.request('GET', '/api/v1/availability')).json;
  assert.equal(availability.emailField, 'required');
  assert.equal(availability.privacyText, PRIVACY);
  const p = await b.openPage(browser, stack, { name: 'pre-chat', test: t });
  const { page } = p;
  await page.goto('/');
  const form = page.locator('#start-form');
  await form.waitFor();
  assert.equal(await page.locator('#email-optional').isHidden(), true, 'required: no "(optional)"');
  assert.equal(await form.getByLabel(PRIVACY).isVisible(), true);

  // Nothing filled: every problem at its field, the first one focused.
  await form.getByRole('button', { name: 'Start chat' }).click();
  await page.locator('#name-error', { hasText: 'Please tell us your name.' }).waitFor();
  await page.locator('#email-error', { hasText: 'Please give your email address.' }).waitFor();
  await page.locator('#consent-error', { hasText: 'Please agree to this before we start.' }).waitFor();
  assert.equal(await page.evaluate(() => document.activeElement.id), 'name');
  assert.equal(await form.getByLabel('Your email').getAttribute('aria-invalid'), 'true');

  // An address of the wrong shape, in the page.
  await form.getByLabel('Your name').fill('Form Fay');
  await form.getByLabel('Your email').fill('fay@example');
  await form.getByLabel(PRIVACY).check();
  await form.getByRole('button', { name: 'Start chat' }).click();
  await page.locator('#email-error', { hasText: 'Please check your email address' }).waitFor();
  assert.equal(await page.locator('#name-error').isHidden(), true);
  assert.equal(await page.locator('#consent-error').isHidden(), true);
  assert.equal(await page.evaluate(() => document.activeElement.id), 'email');

  // One the page lets through and the server refuses: its words, at the field.
  await form.getByLabel('Your email').fill('fay@exa_mple.com');
  await form.getByRole('button', { name: 'Start chat' }).click();
  await page.locator('#email-error', { hasText: /^Email must be an email address/ }).waitFor();
  assert.ok(p.record.api.some((x) => x.path === '/api/v1/customers' && x.status === 400));
  await b.screenshot(page, 'visitor-prechat-error');

  await form.getByLabel('Your email').fill('fay@example.com');
  await form.getByLabel('How can we help?').fill('Where is my order?');
  await form.getByRole('button', { name: 'Start chat' }).click();
  await b.waitState(page, 'connected');
  const first = await agent.client.next((f) => f.type === 'message' && f.message.text === 'Where is my order?');
  const s = await stack.request('GET', `/api/v1/sessions/${first.message.sessionId}`, { token: agent.token });
  assert.equal(s.json.customerEmail, 'fay@example.com');
  assert.equal(s.json.subject, 'Where is my order?');
  b.assertNoConsoleErrors(p, [/status of 400 \(Bad Request\)/]);
});

test('the transcript by mail, during the chat and after it ends', { timeout: 60000 }, async (t) => {
  const p = await b.openPage(browser, stack, { name: 'transcript', test: t });
  const { page } = p;
  await page.goto('/');
  const form = page.locator('#start-form');
  await form.getByLabel(PRIVACY).check();
  await b.startCustomer(p, 'Mail Mo', 'Please send me the details.', { goto: false, email: 'mo@example.com' });
  const first = await agent.client.next((f) => f.type === 'message' && f.message.text === 'Please send me the details.');
  const id = first.message.sessionId;
  agent.client.send({ type: 'message', sessionId: id, text: 'The throw is 130 by 180 cm.', clientMsgId: 'm1' });
  await b.bubble(page, 'The throw is 130 by 180 cm.');

  // During the chat: to the address given in the form, without asking.
  const control = page.locator('#transcript');
  await control.getByRole('button', { name: 'Email me this conversation' }).click();
  await control.getByText('On its way: we are sending the conversation to mo@example.com.').waitFor();
  assert.ok(p.record.api.some((x) => x.method === 'POST' && x.path === `/api/v1/sessions/${id}/transcript` && x.status === 202));

  // The agent ends the chat: the control is still there.
  const close = await stack.request('POST', `/api/v1/sessions/${id}/close`, { token: agent.token });
  assert.equal(close.status, 200);
  await page.getByText('This conversation has ended.', { exact: false }).waitFor();
  // The server mails a closed chat to the address given by itself, and the page says so.
  await control.getByText('A copy of this conversation is on its way to mo@example.com.').waitFor();
  await control.getByRole('button', { name: 'Email me this conversation' }).click();
  await control.getByText('On its way: we are sending the conversation to mo@example.com.').waitFor();
  await b.screenshot(page, 'visitor-transcript');
  b.assertNoConsoleErrors(p);
});

test('the transcript asks for an address when the visitor gave none', { timeout: 60000 }, async (t) => {
  const customer = await stack.createCustomer({ name: 'No Mail Nia' });
  const p = await b.openPage(browser, stack, { name: 'no email', test: t });
  const { page } = p;
  await page.goto(await handover(customer));
  await b.waitState(page, 'connected');
  const control = page.locator('#transcript');
  await control.getByRole('button', { name: 'Email me this conversation' }).click();
  const email = control.getByLabel('Your email');
  await email.waitFor();
  await control.getByRole('button', { name: 'Send' }).click();
  await control.getByText('Please give your email address.').waitFor();
  await email.fill('nia@example.com');
  await email.press('Enter');
  await control.getByText('On its way: we are sending the conversation to nia@example.com.').waitFor();
  assert.equal(await email.isHidden(), true);
  // Kept for next time: the next request does not ask again.
  await control.getByRole('button', { name: 'Email me this conversation' }).click();
  assert.equal(await email.isHidden(), true);
  b.assertNoConsoleErrors(p);
});

/* A link back to a conversation as a mail carries it: a code whose BLAKE2b-256 hash the database keeps. */
function resumeCode(customerId, sessionId) {
  const code = crypto.randomBytes(32).toString('base64url');
  const hash = execFileSync('python3', ['-c',
    'import hashlib,sys; print(hashlib.blake2b(sys.argv[1].encode(), digest_size=32).hexdigest())', code],
  { encoding: 'utf8' }).trim();
  const now = Date.now();
  execFileSync('sqlite3', [stack.db, `INSERT INTO resume_codes (hash, customer_id, session_id, created_at, expires_at)
    VALUES (X'${hash}', ${customerId}, ${sessionId}, ${now}, ${now + 3600000});`]);
  return code;
}

test('a link back from a mail opens the conversation, signed in as its visitor', { timeout: 60000 }, async (t) => {
  const customer = await stack.createCustomer({ name: 'Returning Rae', email: 'rae@example.com' });
  const created = await stack.request('POST', '/api/v1/sessions', { token: customer.token, body: {} });
  assert.equal(created.status, 201, created.body);
  const sessionId = created.json.id;
  agent.client.send({ type: 'message', sessionId, text: 'Your parcel left today, Rae.', clientMsgId: 'r1' });
  await agent.client.next((f) => f.type === 'ack' && f.clientMsgId === 'r1');
  const code = resumeCode(customer.id, sessionId);

  const p = await b.openPage(browser, stack, { name: 'resume', test: t });
  const { page } = p;
  await page.goto(`/#resume=${code}`);
  await b.waitState(page, 'connected');
  await b.bubble(page, 'Your parcel left today, Rae.');
  assert.equal(new URL(page.url()).hash, '', 'the code leaves the address bar');
  const stored = await page.evaluate(() => JSON.parse(localStorage.getItem('chat.customer')));
  assert.equal(stored.customerId, customer.id);
  assert.notEqual(stored.token, customer.token, 'tokens of its own');
  assert.ok(p.record.api.some((x) => x.path === '/api/v1/customers/resume' && x.status === 200));
  await b.say(page, 'Thanks, I am back!');
  await agent.client.next((f) => f.type === 'message' && f.message.text === 'Thanks, I am back!'
    && f.message.sessionId === sessionId);
  b.assertNoConsoleErrors(p);
});

test('an unknown or expired link from a mail says so and offers a new chat', { timeout: 30000 }, async (t) => {
  const p = await b.openPage(browser, stack, { name: 'resume refused', test: t });
  const { page } = p;
  await page.goto('/#resume=AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA');
  await page.getByText('This link has expired. You can start a new chat.').waitFor();
  assert.equal(new URL(page.url()).hash, '');
  await page.locator('#start-form').getByLabel('Your name').waitFor();
  b.assertNoConsoleErrors(p, [b.UNAUTHORIZED]);
});
