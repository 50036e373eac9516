'use strict';
// The agents' pages in both languages: a browser that prefers Chinese gets
// the sign-in page and the workbench in Simplified Chinese, dialogs and
// lists included; the switch turns both to English at once and the choice
// is kept; what the server says (names, the visitor's own words) is left
// as it is.

const { test, before, after } = require('node:test');
const assert = require('node:assert/strict');
const { startStack } = require('../integration/stack.js');
const { api, connectReady } = require('../integration/ws-client.js');
const b = require('./browser.js');

let stack;
let browser;
const sockets = [];

before(async () => {
  stack = await startStack({ CHAT_AGENT_MAX_ACTIVE: '1' });
  await stack.addAgent('li', 'password123', '李娜');
  await stack.addAgent('sam', 'password123', 'Sam Wu');
  browser = await b.launch();
});

after(async () => {
  for (const ws of sockets) await ws.close().catch(() => {});
  if (browser) await browser.close();
  if (stack) await stack.stop();
});

/* A page in a browser whose languages are zh-CN first, recording uncaught errors. */
async function chinesePage(t) {
  const context = await browser.newContext({
    baseURL: `http://127.0.0.1:${stack.port}`, locale: 'zh-CN', viewport: { width: 1280, height: 800 },
    reducedMotion: 'reduce',
  });
  t.after(() => context.close());
  context.setDefaultTimeout(b.WAIT_MS);
  const page = await context.newPage();
  const errors = [];
  page.on('pageerror', (err) => errors.push(err.message));
  page.on('console', (m) => {
    // The wrong password's 401 is expected.
    if (m.type() === 'error' && !b.UNAUTHORIZED.test(m.text())) errors.push(m.text());
  });
  return { context, page, errors };
}

async function visitor(name, subject) {
  const customer = await stack.createCustomer({ name });
  const s = await api(stack, 'POST', '/api/v1/sessions', { token: customer.token, body: { subject } });
  assert.equal(s.status, 201);
  const { client } = await connectReady(stack, customer.token);
  sockets.push(client);
  return { customer, session: s.json, ws: client };
}

test('a browser that prefers Chinese gets the sign-in page and the workbench in Chinese; the switch turns them to English', { timeout: 90000 }, async (t) => {
  const { page, errors } = await chinesePage(t);
  await page.goto('/login');
  await page.getByRole('heading', { name: '客服登录' }).waitFor();
  assert.equal(await page.title(), '登录 - 客服工作台');
  assert.equal(await page.getAttribute('html', 'lang'), 'zh-CN');
  await b.screenshot(page, 'login-zh');
  await page.getByLabel('用户名').fill('li');
  await page.getByLabel('密码').fill('wrong-password');
  await page.getByRole('button', { name: '登录' }).click();
  await page.getByText('用户名或密码不正确，请重试。').waitFor();
  await page.getByLabel('密码').fill('password123');
  await page.getByRole('button', { name: '登录' }).click();
  await page.waitForURL('**/agent');
  await b.waitState(page, 'connected');

  // The workbench, in Chinese.
  assert.equal(await page.getAttribute('html', 'lang'), 'zh-CN');
  await page.getByRole('heading', { name: '客服工作台' }).waitFor();
  assert.equal(await page.locator('#me-name').textContent(), '李娜');
  assert.equal(await page.locator('#status .status-text').textContent(), '已连接');
  assert.equal(await page.locator('#queue-title').textContent(), '等待中 0');
  assert.equal(await page.locator('#placeholder-text').textContent(), '在左侧选择一个对话，或从等待队列中接入一个。');
  assert.equal(await page.getByRole('button', { name: '退出登录' }).count(), 1);

  // A visitor is routed to 李娜; the next one waits (one chat per agent here).
  const v = await visitor('Chen Jie', '退货');
  assert.equal(v.session.agentName, '李娜');
  const waiting = await visitor('Wang Fang', '发票');
  assert.equal(waiting.session.status, 'queued');
  await page.locator('#queue li', { hasText: 'Wang Fang' }).getByRole('button', { name: '接入与Wang Fang的对话' }).waitFor();
  await page.locator('#queue li .session-when', { hasText: /开始等待$/ }).waitFor();
  await page.locator('#mine li', { hasText: 'Chen Jie' }).getByRole('button').click();
  await page.locator('.system-line', { hasText: '李娜 加入了对话' }).waitFor();
  assert.equal(await page.locator('#send').textContent(), '发送');
  assert.equal(await page.locator('#text').getAttribute('placeholder'), '输入回复...');
  assert.equal(await page.locator('#context-title').textContent(), '访客');
  assert.deepEqual(await page.locator('#context-list dt').allTextContents(), ['姓名', '开始时间', '主题']);
  // The alert's title in Chinese: a visitor waits.
  await b.until(async () => /^\(1\) 新对话 – 客服工作台$/.test(await page.title()), 'the title in Chinese');

  // The dialogs too.
  await page.getByRole('button', { name: '转接' }).click();
  const transfer = page.getByRole('dialog', { name: '转接此对话' });
  await transfer.getByRole('radio', { name: /Sam Wu/ }).waitFor();
  assert.match(await transfer.locator('.agent-state').first().textContent(), /^离线 0\/1 个对话$/);
  await transfer.getByRole('button', { name: '取消' }).click();
  await page.getByRole('button', { name: '提醒', exact: true }).click();
  const alerts = page.getByRole('dialog', { name: '提醒', exact: true });
  await alerts.getByLabel('桌面通知').waitFor();
  await alerts.getByRole('button', { name: '测试提醒' }).click();
  await alerts.locator('li[data-what="title"]').waitFor();
  assert.match(await alerts.locator('li[data-what="notify"]').textContent(), /^!通知：尚未允许。/);
  await b.screenshot(page, 'workbench-zh');
  await alerts.getByRole('button', { name: '完成' }).click();

  // The switch: English at once, the open chat included, and kept.
  await page.getByRole('combobox', { name: '语言' }).selectOption('en');
  await page.getByRole('heading', { name: 'Support workbench' }).waitFor();
  assert.equal(await page.getAttribute('html', 'lang'), 'en');
  assert.equal(await page.locator('#queue-title').textContent(), 'Waiting 1');
  assert.equal(await page.locator('#send').textContent(), 'Send');
  await page.locator('.system-line', { hasText: '李娜 joined the chat' }).waitFor();
  assert.deepEqual(await page.locator('#context-list dt').allTextContents(), ['Name', 'Chat started', 'Subject']);
  await page.getByRole('button', { name: 'Claim the chat with Wang Fang' }).waitFor();
  await b.until(async () => /^\(1\) (New chat – )?Support workbench$/.test(await page.title()), 'the title in English');
  await page.reload();
  await b.waitState(page, 'connected');
  await page.getByRole('heading', { name: 'Support workbench' }).waitFor();
  assert.equal(await page.evaluate(() => localStorage.getItem('chat.lang')), 'en');

  // Back to Chinese from the workbench; the sign-in page follows.
  await page.getByRole('combobox', { name: 'Language' }).selectOption('zh-CN');
  await page.getByRole('heading', { name: '客服工作台' }).waitFor();
  await page.getByRole('button', { name: '退出登录' }).click();
  await page.waitForURL('**/login?reason=logged-out');
  await page.getByText('你已退出登录。').waitFor();
  await page.getByRole('combobox', { name: '语言' }).selectOption('en');
  await page.getByText('You have logged out.').waitFor();
  await page.getByRole('heading', { name: 'Agent sign-in' }).waitFor();
  assert.equal(await page.getByRole('button', { name: 'Sign in' }).count(), 1);
  assert.deepEqual(errors, []);
});
