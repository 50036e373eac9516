'use strict';
// A customer and agents in real browser pages, each in a context of its
// own: the queue and the claim, a conversation both ways with typing,
// unread counts, transfer, close and logout, as a person sees them.

const { test, before, after } = require('node:test');
const assert = require('node:assert/strict');
const { startStack } = require('../integration/stack.js');
const b = require('./browser.js');

let stack;
let browser;
let alice;
let bob;

before(async () => {
  stack = await startStack();
  await stack.addAgent('alice', 'password123', 'Alice Wong');
  await stack.addAgent('bob', 'password123', 'Bob Li');
  browser = await b.launch();
});

after(async () => {
  if (browser) await browser.close();
  if (stack) await stack.stop();
});

test('a customer and an agent hold a conversation both ways, with typing', { timeout: 120000 }, async () => {
  const customer = await b.openPage(browser, stack, { name: 'customer', viewport: { width: 1000, height: 760 } });
  const agent = await b.openPage(browser, stack, { name: 'agent' });
  const c = customer.page;
  const a = agent.page;

  // Before the chat starts: nothing to connect, the send button waits.
  // No agent online: the page says so, and the customer chooses to wait.
  await c.goto('/');
  await c.locator('#away').getByRole('heading', { name: 'Nobody is available right now' }).waitFor();
  assert.equal(await c.locator('#chat').isHidden(), true);

  // In the queue; the first question is their first message.
  await b.startCustomer(customer, 'Zhang San', 'Order 1042 has not arrived', { goto: false });
  await b.bubble(c, 'Order 1042 has not arrived');
  await b.assertSendButton(c, true);
  await c.getByText('You are in the queue. An agent will be with you shortly.').waitFor();
  const states = await b.history(c, 'status');
  const from = states.indexOf('connecting');
  assert.ok(from >= 0, `status bar went through ${states.join(' > ')}`);
  assert.deepEqual(states.slice(from, from + 2), ['connecting', 'connected'],
    `status bar went through ${states.join(' > ')}`);
  const sends = await b.history(c, 'send');
  assert.equal(sends[0], 'disabled Connecting...');
  assert.equal(sends.at(-1), 'enabled Send');
  // Connected is shown, then hidden after 2 s.
  await c.waitForSelector('#connection-status.status-connected', { state: 'hidden' });
  assert.equal((await b.history(c, 'status')).at(-1), 'connected (hidden)');
  await b.say(c, 'Hello, I need help');
  await (await b.bubble(c, 'Hello, I need help')).first().waitFor();
  await c.waitForSelector('.bubble.own[data-message-id]');

  // The agent signs in and sees the customer waiting, with the question.
  await b.loginAgent(agent, 'alice');
  assert.equal(await a.locator('#me-name').textContent(), 'Alice Wong');
  const waiting = a.locator('#queue li', { hasText: 'Zhang San' });
  await waiting.waitFor();
  assert.match(await waiting.textContent(), /Order 1042 has not arrived|Hello, I need help/);
  assert.equal(await a.locator('#queue-count').textContent(), '1');
  await waiting.getByRole('button', { name: 'Claim the chat with Zhang San' }).click();

  // Claimed: the chat moves to "My chats", with what the customer wrote.
  await a.locator('#mine li', { hasText: 'Zhang San' }).waitFor();
  assert.equal(await a.locator('#queue li').count(), 0);
  await b.bubble(a, 'Hello, I need help');
  assert.equal(await a.locator('#conv-title').textContent(), 'Zhang San');
  // The visitor sees who joined, by name, and the agent's messages with their avatar.
  await c.locator('#messages .system-line', { hasText: 'Alice Wong joined the chat' }).waitFor();
  await c.getByText('You are chatting with Alice Wong').waitFor();

  // Typing shows on the other side, and goes when the message comes.
  await c.locator('#text').pressSequentially('My parcel', { delay: 30 });
  await a.getByText('Zhang San is typing').waitFor();
  await c.locator('#text').pressSequentially(' has not arrived yet.', { delay: 10 });
  await c.locator('#text').press('Enter');
  await b.bubble(a, 'My parcel has not arrived yet.');
  await a.waitForSelector('#typing', { state: 'hidden' });

  await a.locator('#text').pressSequentially('Let me check', { delay: 30 });
  await c.getByText('Alice Wong is typing').waitFor();
  await a.locator('#text').pressSequentially(' the tracking number for you.', { delay: 10 });
  await a.locator('#text').press('Enter');
  const reply = await b.bubble(c, 'Let me check the tracking number for you.');
  await c.waitForSelector('#typing', { state: 'hidden' });
  assert.equal(await reply.locator('.sender').textContent(), 'Alice Wong');
  const row = c.locator('#messages .bubble-row', { hasText: 'Let me check the tracking number for you.' });
  assert.equal(await row.locator('.avatar').textContent(), 'AW');

  await b.say(c, 'Thank you! The order number is 1042.');
  await b.bubble(a, 'Thank you! The order number is 1042.');
  await b.say(a, 'It left our warehouse yesterday and arrives tomorrow.\nYou will get an e-mail with the tracking link.');
  await b.bubble(c, 'It left our warehouse yesterday and arrives tomorrow.\nYou will get an e-mail with the tracking link.');

  // Each message shows once on each side, with the right sender.
  for (const page of [a, c]) {
    for (const text of ['Hello, I need help', 'My parcel has not arrived yet.', 'Let me check the tracking number for you.']) {
      assert.equal(await b.bubbleCount(page, text), 1, `"${text}" on ${page === a ? 'agent' : 'customer'} page`);
    }
  }
  assert.equal(await c.locator('.bubble.own').count(), 4);
  assert.equal(await c.locator('.bubble.other').count(), 2);
  assert.equal(await a.locator('.bubble.own').count(), 2);

  // The token never shows in the address bar.
  assert.doesNotMatch(c.url(), /token/);
  assert.doesNotMatch(a.url(), /token/);

  await b.screenshot(c, 'customer-conversation');
  alice = agent;
  await b.screenshot(a, 'workbench-conversation');
  b.assertNoConsoleErrors(customer);
  b.assertNoConsoleErrors(agent);
  await customer.context.close();
});

test('a second chat is routed to the agent online and counts unread messages', { timeout: 60000 }, async () => {
  assert.ok(alice, 'the first test signed alice in');
  const a = alice.page;
  const customer = await b.openPage(browser, stack, { name: 'customer 2' });
  const c = customer.page;
  await b.startCustomer(customer, 'Li Wei');
  // Routed at once: no queue.
  const item = a.locator('#mine li', { hasText: 'Li Wei' });
  await item.waitFor();
  assert.equal(await c.getByText('You are in the queue.', { exact: false }).count(), 0);

  await b.say(c, 'Hi, can I change my delivery address?');
  await b.say(c, 'It is for order 2231.');
  await item.locator('.badge', { hasText: '2' }).waitFor();
  assert.equal(await item.locator('.badge').getAttribute('aria-label'), '2 unread');
  assert.match(await a.title(), /^\(2\) /);
  await b.screenshot(a, 'workbench-unread');

  await item.getByRole('button').click();
  await b.bubble(a, 'It is for order 2231.');
  assert.equal(await item.locator('.badge').count(), 0);
  assert.doesNotMatch(await a.title(), /^\(/);
  b.assertNoConsoleErrors(customer);
  alice.liWei = customer;
});

test('an agent transfers a chat to a colleague, who gets it with its history', { timeout: 60000 }, async () => {
  assert.ok(alice && alice.liWei, 'the tests before set the chat up');
  const a = alice.page;
  const c = alice.liWei.page;
  bob = await b.openPage(browser, stack, { name: 'bob' });
  await b.loginAgent(bob, 'bob');

  // Li Wei's chat is open on alice's page (the test before); colleagues by name.
  await a.getByRole('button', { name: 'Transfer' }).click();
  const dialog = a.getByRole('dialog', { name: 'Transfer this chat' });
  await dialog.getByRole('radio', { name: /Bob Li/ }).check();
  await dialog.getByRole('button', { name: 'Transfer' }).click();
  await dialog.waitFor({ state: 'hidden' });

  await a.getByText('The chat was transferred to Bob Li.').waitFor();
  assert.equal(await a.locator('#mine li', { hasText: 'Li Wei' }).count(), 0);
  await c.locator('#messages .system-line', { hasText: 'Alice Wong transferred the chat to Bob Li' }).waitFor();

  const item = bob.page.locator('#mine li', { hasText: 'Li Wei' });
  await item.waitFor();
  await item.getByRole('button').click();
  await b.bubble(bob.page, 'Hi, can I change my delivery address?');
  await b.say(bob.page, 'Hello Li Wei, Bob here. Which address should we use?');
  await b.bubble(c, 'Hello Li Wei, Bob here. Which address should we use?');
  b.assertNoConsoleErrors(alice);
  b.assertNoConsoleErrors(bob);
  b.assertNoConsoleErrors(alice.liWei);
});

test('an agent closes a chat; the customer sees it ended and can start anew', { timeout: 60000 }, async () => {
  const c = alice.liWei.page;
  const page = bob.page;
  await page.getByRole('button', { name: 'Close chat' }).click();
  const dialog = page.getByRole('dialog', { name: 'Close this chat?' });
  await dialog.getByRole('button', { name: 'Close chat' }).click();
  await dialog.waitFor({ state: 'hidden' });
  await page.getByText('This chat is closed.').waitFor();
  assert.equal(await page.locator('#composer').isHidden(), true);
  assert.equal(await page.locator('#mine li.closed', { hasText: 'Li Wei' }).count(), 1);

  await c.getByText('This conversation has ended.', { exact: false }).waitFor();
  assert.equal(await c.locator('#composer').isHidden(), true);
  await c.getByRole('button', { name: 'Start a new conversation' }).click();
  await c.locator('#composer').waitFor();
  assert.equal(await c.locator('#messages .bubble').count(), 0);
  // The new chat goes to an agent online: alice has one chat, bob none open.
  await b.say(c, 'One more question about returns.');
  await c.waitForSelector('.bubble.own[data-message-id]');
  b.assertNoConsoleErrors(bob);
  b.assertNoConsoleErrors(alice.liWei);
});

test('an agent logs out: the token ends and the sign-in page says so', { timeout: 60000 }, async () => {
  const page = alice.page;
  const token = await page.evaluate(() => JSON.parse(sessionStorage.getItem('chat.agent')).token);
  await page.getByRole('button', { name: 'Log out' }).click();
  await page.waitForURL('**/login?reason=logged-out');
  await page.getByText('You have logged out.').waitFor();
  assert.equal(await page.evaluate(() => sessionStorage.getItem('chat.agent')), null);
  const me = await stack.request('GET', '/api/v1/me', { token });
  assert.equal(me.status, 401);
  // Going to the workbench now leads back to sign-in.
  await page.goto('/agent');
  await page.waitForURL('**/login');
  b.assertNoConsoleErrors(alice);
});
