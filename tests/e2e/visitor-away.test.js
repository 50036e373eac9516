'use strict';
// When nobody can answer, the visitor page says so and takes a message:
// outside the business hours (CHAT_HOURS open only on a day that is not
// today) with the hours and the next opening in the visitor's own time;
// with nobody online, with the choice to wait in the chat anyway; and in a
// queued chat that nobody claimed within CHAT_UNCLAIMED_TIMEOUT, where the
// chat stays open and goes on when an agent claims it after all.

const { test, before, after } = require('node:test');
const assert = require('node:assert/strict');
const { startStack } = require('../integration/stack.js');
const { connectReady } = require('../integration/ws-client.js');
const b = require('./browser.js');

const ZONE = 'Asia/Shanghai';
const VISITOR_ZONE = 'America/New_York';
const DAYS = ['sun', 'mon', 'tue', 'wed', 'thu', 'fri', 'sat'];

/* The day of the week two days from now in the zone: surely not today, there, during the test. */
function dayAfterTomorrow(zone) {
  const name = new Intl.DateTimeFormat('en-US', { weekday: 'short', timeZone: zone })
    .format(new Date(Date.now() + 2 * 86400000)).toLowerCase();
  return { key: name, index: DAYS.indexOf(name) };
}

const stacks = [];
let browser;

before(async () => {
  browser = await b.launch();
});

after(async () => {
  if (browser) await browser.close();
  for (const s of stacks) await s.stop();
});

async function stackWith(env) {
  const s = await startStack(env);
  stacks.push(s);
  return s;
}

async function agentOnline(stack, t, username, name) {
  await stack.addAgent(username, 'password123', name);
  const login = await stack.login(username, 'password123');
  const { client } = await connectReady(stack, login.token);
  t.after(() => client.close());
  return { client, token: login.token, id: login.agent.id };
}

test('outside the hours: the page says so, shows the hours and the next opening, and takes a message', { timeout: 90000 }, async (t) => {
  const open = dayAfterTomorrow(ZONE);
  const stack = await stackWith({ CHAT_HOURS: `${open.key} 09:00-17:30`, CHAT_TIMEZONE: ZONE });
  // Someone is online, but it is not a working day: closed.
  const agent = await agentOnline(stack, t, 'owen', 'Owen Hart');
  const availability = (await stack.request('GET', '/api/v1/availability')).json;
  assert.equal(availability.open, false);
  assert.equal(availability.reason, 'closed');

  const p = await b.openPage(browser, stack, {
    name: 'away', timezoneId: VISITOR_ZONE, viewport: { width: 1000, height: 900 }, test: t,
  });
  const { page } = p;
  await page.goto('/');
  const away = page.locator('#away');
  await away.getByRole('heading', { name: 'We are closed right now' }).waitFor();
  assert.equal(await page.locator('#welcome').isHidden(), true);
  assert.equal(await page.locator('#chat').isHidden(), true);
  await away.getByText('Our team is not at work at the moment.', { exact: false }).waitFor();

  // The week, Monday first, in the visitor's language; the zone named.
  assert.equal(await page.locator('#hours-title').textContent(), `Opening hours (${ZONE})`);
  const rows = await page.locator('#hours-list tr').evaluateAll((trs) => trs.map((tr) => [
    tr.dataset.day, tr.querySelector('th').textContent, tr.querySelector('td').textContent]));
  assert.equal(rows.length, 7);
  assert.deepEqual(rows.map((r) => r[1]), ['Monday', 'Tuesday', 'Wednesday', 'Thursday', 'Friday', 'Saturday', 'Sunday']);
  for (const [day, , spans] of rows) assert.equal(spans, day === open.key ? '09:00\u201317:30' : 'closed', day);

  // The next opening, in the visitor's time: 09:00 in Shanghai is the evening before in New York.
  const next = new Date(availability.nextOpenAt);
  const inShanghai = new Intl.DateTimeFormat('en-GB', { weekday: 'short', hour: '2-digit', minute: '2-digit', timeZone: ZONE })
    .format(next);
  assert.equal(inShanghai.toLowerCase(), `${open.key} 09:00`);
  const [localDay, localTime] = ['weekday', 'time'].map((part) => new Intl.DateTimeFormat('en-US', part === 'weekday'
    ? { weekday: 'long', timeZone: VISITOR_ZONE } : { hour: '2-digit', minute: '2-digit', timeZone: VISITOR_ZONE }).format(next));
  assert.match(localTime, /^0[78]:00\sPM$/, 'the evening before, in New York');
  const nextText = await page.locator('#next-open').textContent();
  assert.ok(nextText.startsWith(`We open again ${localDay}, `), nextText);
  assert.ok(nextText.endsWith(`${localTime} (your time).`), nextText);
  assert.equal(await page.locator('#chat-anyway').isHidden(), true, 'no waiting in a closed chat');
  await b.screenshot(page, 'visitor-away');

  // The form checks itself, each problem at its field.
  const form = page.locator('#leave-form');
  await form.getByRole('button', { name: 'Send message' }).click();
  await page.locator('#leave-name-error', { hasText: 'Please tell us your name.' }).waitFor();
  await page.locator('#leave-email-error', { hasText: 'Please give your email address.' }).waitFor();
  await page.locator('#leave-text-error', { hasText: 'Please write your message.' }).waitFor();
  assert.equal(await page.evaluate(() => document.activeElement.id), 'leave-name');
  await form.getByLabel('Your name').fill('Away Avery');
  await form.getByLabel('Your email').fill('avery@');
  await form.getByLabel('Your message').fill('Do you ship the Fjord throw to Canada?\nIt is a gift.');
  await form.getByRole('button', { name: 'Send message' }).click();
  await page.locator('#leave-email-error', { hasText: 'Please check your email address' }).waitFor();
  assert.equal(await page.locator('#leave-name-error').isHidden(), true);
  assert.equal(await form.getByLabel('Your email').getAttribute('aria-invalid'), 'true');
  await form.getByLabel('Your email').fill('avery@example.com');
  await page.locator('#leave-form').scrollIntoViewIfNeeded();
  await b.screenshot(page, 'visitor-leave-message');
  await form.getByRole('button', { name: 'Send message' }).click();
  await page.getByText('Thank you, we got your message. We will reply to avery@example.com.').waitFor();
  assert.equal(await form.isHidden(), true);
  await b.screenshot(page, 'visitor-leave-message-sent');

  // It is in the queue, a left message with the visitor's email, for the agents to answer.
  const seen = await agent.client.next((f) => f.type === 'session' && f.session.customerName === 'Away Avery');
  assert.equal(seen.session.kind, 'message');
  assert.equal(seen.session.customerEmail, 'avery@example.com');
  const msgs = await stack.request('GET', `/api/v1/sessions/${seen.session.id}/messages`, { token: agent.token });
  assert.ok(msgs.json.messages.some((m) => m.senderType === 'customer'
    && m.text === 'Do you ship the Fjord throw to Canada?\nIt is a gift.'), JSON.stringify(msgs.json));

  // Back later: the page shows the message left, and says where the answer goes.
  await page.reload();
  await page.locator('#messages .bubble.own', { hasText: 'Do you ship the Fjord throw to Canada?' }).waitFor();
  await page.locator('#messages .note', { hasText: 'We will reply to avery@example.com.' }).waitFor();
  b.assertNoConsoleErrors(p);
});

test('in Chinese, the away page says the same in Chinese', { timeout: 60000 }, async (t) => {
  const open = dayAfterTomorrow(ZONE);
  const stack = stacks[0];
  const p = await b.openPage(browser, stack, { name: 'away zh', locale: 'zh-CN', test: t });
  await p.page.goto('/');
  await p.page.locator('#away').getByRole('heading', { name: '我们现在不在工作时间' }).waitFor();
  const zhDay = new Intl.DateTimeFormat('zh-CN', { weekday: 'long', timeZone: 'UTC' })
    .format(new Date(Date.UTC(2024, 0, 1 + ((open.index + 6) % 7), 12)));
  await p.page.locator(`#hours-list tr[data-day="${open.key}"] th`, { hasText: zhDay }).waitFor();
  assert.equal(await p.page.locator('#hours-list tr.closed td').first().textContent(), '休息');
  assert.match(await p.page.locator('#next-open').textContent(), /^我们将于.+（您当地时间）重新开始服务。$/);
  await p.page.locator('#leave-form').getByRole('button', { name: '发送留言' }).waitFor();
  b.assertNoConsoleErrors(p);
});

test('nobody online, then nobody answering: the chat waits, offers to leave an email, and goes on when claimed', { timeout: 90000 }, async (t) => {
  const stack = await stackWith({ CHAT_UNCLAIMED_TIMEOUT: '5', CHAT_PRECHAT_EMAIL: 'off' });
  const availability = (await stack.request('GET', '/api/v1/availability')).json;
  assert.equal(availability.reason, 'no_agents');
  assert.equal(availability.emailField, 'off');
  const p = await b.openPage(browser, stack, { name: 'unanswered', test: t });
  const { page } = p;
  await page.goto('/');
  await page.locator('#away').getByRole('heading', { name: 'Nobody is available right now' }).waitFor();
  assert.equal(await page.locator('#hours').isHidden(), true, 'no hours to show: always open');
  await page.getByRole('button', { name: 'Wait in the chat instead' }).click();
  await page.locator('#start-form').waitFor();
  assert.equal(await page.locator('#email-field').isHidden(), true, 'CHAT_PRECHAT_EMAIL=off');
  await b.startCustomer(p, 'Patient Pat', 'Can I change the colour of my order?', { goto: false });
  await page.getByText('You are in the queue. An agent will be with you shortly.').waitFor();
  assert.equal(await page.locator('#unanswered').isHidden(), true);

  // Five seconds in the queue: nobody has answered yet.
  const offer = page.locator('#unanswered');
  await offer.getByRole('heading', { name: 'Nobody has answered yet' }).waitFor({ timeout: 10000 });
  assert.equal(await page.locator('#composer').isVisible(), true, 'the chat stays open');
  await b.assertSendButton(page, true);
  await offer.getByRole('button', { name: 'Send message' }).click();
  await page.locator('#late-email-error', { hasText: 'Please give your email address.' }).waitFor();
  await offer.getByLabel('Your email').fill('pat@example.com');
  await offer.getByLabel(/Anything to add/).fill('Blue instead of green, please.');
  await b.screenshot(page, 'visitor-unanswered');
  await offer.getByRole('button', { name: 'Send message' }).click();
  await offer.getByText('Thank you, we got your message. We will reply to pat@example.com.').waitFor();
  await b.bubble(page, 'Blue instead of green, please.');

  // An agent comes and claims it: the chat goes on where it was.
  const agent = await agentOnline(stack, t, 'quinn', 'Quinn Ito');
  const queued = await stack.request('GET', '/api/v1/sessions?status=queued', { token: agent.token });
  const mine = queued.json.sessions.find((s) => s.customerName === 'Patient Pat');
  assert.ok(mine, JSON.stringify(queued.json));
  assert.equal(mine.customerEmail, 'pat@example.com');
  const claim = await stack.request('POST', `/api/v1/sessions/${mine.id}/claim`, { token: agent.token });
  assert.equal(claim.status, 200, claim.body);
  await page.locator('#messages .system-line', { hasText: 'Quinn Ito joined the chat' }).waitFor();
  await offer.waitFor({ state: 'hidden' });
  agent.client.send({ type: 'message', sessionId: mine.id, text: 'Hi Pat, blue it is.', clientMsgId: 'q1' });
  await b.bubble(page, 'Hi Pat, blue it is.');
  await b.say(page, 'Thank you!');
  await agent.client.next((f) => f.type === 'message' && f.message.text === 'Thank you!');
  b.assertNoConsoleErrors(p);
});
