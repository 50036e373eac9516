'use strict';
// The guide's UI on the visitor page, in both languages: #connection-status
// with the classes status-connecting, status-connected (hidden 2 s later),
// status-disconnected, status-reconnecting and status-error, and
// #send-button, disabled "Connecting..." until connected, then "Send";
// the guide's Chinese strings word for word; the guide's own ChatUI code
// working on the page as it is; the language switch without a reload.

const { test, before, after } = require('node:test');
const assert = require('node:assert/strict');
const { startStack } = require('../integration/stack.js');
const { connectReady } = require('../integration/ws-client.js');
const b = require('./browser.js');

const GUIDE_ZH = {
  connecting: '正在连接...',
  connected: '已连接',
  disconnected: '连接已断开',
  reconnecting: '正在重新连接...',
  error: '连接失败，请重试',
  sendConnecting: '连接中...',
  send: '发送',
  loginExpired: '登录已过期，请重新登录',
  reload: '连接失败，请刷新页面重试',
};

let stack;
let browser;

before(async () => {
  stack = await startStack();
  await stack.addAgent('lin', 'password123', 'Lin Hui');
  browser = await b.launch();
});

after(async () => {
  if (browser) await browser.close();
  if (stack) {
    try { process.kill(stack.pid, 'SIGCONT'); } catch { /* gone */ }
    await stack.stop();
  }
});

async function agentOnline(t, username) {
  const login = await stack.login(username, 'password123');
  const { client } = await connectReady(stack, login.token);
  t.after(() => client.close());
  return client;
}

/* The guide's ChatUI as the guide writes it, run on the page as it is. */
function guideChatUI() {
  class ChatUI {
    constructor() {
      this.statusEl = document.getElementById('connection-status');
      this.sendButton = document.getElementById('send-button');
    }

    updateConnectionStatus(status) {
      const text = {
        connecting: '正在连接...',
        connected: '已连接',
        disconnected: '连接已断开',
        reconnecting: '正在重新连接...',
        error: '连接失败，请重试',
      };
      this.statusEl.textContent = text[status];
      this.statusEl.className = `status-${status}`;
      this.statusEl.style.display = 'block';
      if (status === 'connected') setTimeout(() => { this.statusEl.style.display = 'none'; }, 2000);
    }

    updateSendButton(connected) {
      this.sendButton.disabled = !connected;
      this.sendButton.textContent = connected ? '发送' : '连接中...';
    }
  }
  const ui = new ChatUI();
  const out = {};
  for (const status of ['connecting', 'connected', 'disconnected', 'reconnecting', 'error']) {
    ui.updateConnectionStatus(status);
    const style = getComputedStyle(ui.statusEl);
    out[status] = {
      className: ui.statusEl.className,
      text: ui.statusEl.textContent,
      shown: style.display !== 'none' && ui.statusEl.offsetHeight > 0,
      background: style.backgroundColor,
    };
  }
  ui.updateSendButton(false);
  out.sendOff = { disabled: ui.sendButton.disabled, text: ui.sendButton.textContent };
  ui.updateSendButton(true);
  out.sendOn = { disabled: ui.sendButton.disabled, text: ui.sendButton.textContent };
  return out;
}

/* Hold the server's WebSocket side down: run stopped, websocketd gone. */
async function serverAway() {
  const wsd = b.websocketdPid(stack);
  assert.ok(wsd, 'websocketd runs under server-config/run');
  process.kill(stack.pid, 'SIGSTOP');
  process.kill(wsd, 'SIGTERM');
  await b.exited(wsd);
}

function serverBack() {
  process.kill(stack.pid, 'SIGCONT');
}

test('in English: the guide\'s ids and classes, connected hidden after 2 s, disconnected and reconnecting', { timeout: 120000 }, async (t) => {
  const agent = await agentOnline(t, 'lin');
  const p = await b.openPage(browser, stack, { name: 'visitor en', test: t });
  const { page } = p;
  await page.goto('/');
  await page.locator('#start-form').waitFor();
  assert.equal(await page.evaluate(() => document.documentElement.lang), 'en');
  // Nothing to connect yet: the bar is not shown; the button waits.
  assert.equal(await page.locator('#connection-status').isHidden(), true);
  assert.deepEqual(await b.sendButton(page), { disabled: true, text: 'Connecting...' });

  await b.startCustomer(p, 'Sam Park', 'Hello, I need help', { goto: false });
  const connectedAt = Date.now();
  assert.deepEqual(await b.guideStatus(page), { className: 'status-connected', text: 'Connected', display: 'block' });
  await b.assertSendButton(page, true);
  await page.waitForSelector('#connection-status.status-connected', { state: 'hidden' });
  assert.ok(Date.now() - connectedAt >= 1500, 'shown for about 2 s');
  const log = await b.history(page, 'status');
  const shownAt = (await page.evaluate(() => window.__chatLog))
    .filter((e) => e.id === 'status' && e.now.startsWith('connected'));
  assert.equal(shownAt.length, 2, JSON.stringify(log));
  const shownFor = shownAt[1].at - shownAt[0].at;
  assert.ok(shownFor >= 1900 && shownFor < 3000, `connected shown for ${shownFor} ms`);
  assert.equal((await b.guideStatus(page)).display, 'none');
  let guide = await b.guideLog(page);
  assert.deepEqual(guide.classes, ['status-connecting', 'status-connected']);
  assert.deepEqual(guide.texts, ['Connecting...', 'Connected']);
  assert.deepEqual(await b.history(page, 'send'), ['disabled Connecting...', 'enabled Send']);
  const hello = await agent.next((f) => f.type === 'message' && f.message.text === 'Hello, I need help');
  assert.ok(hello.message.sessionId > 0);

  // The server goes away: disconnected, then reconnecting; the button waits again.
  await serverAway();
  try {
    await b.waitState(page, 'reconnecting');
    await b.assertSendButton(page, false);
    assert.equal((await b.guideStatus(page)).display, 'block');
    guide = await b.guideLog(page);
    const after = guide.classes.slice(2);
    assert.deepEqual(after.slice(0, 2), ['status-disconnected', 'status-reconnecting'], guide.classes.join(' > '));
    assert.ok(guide.texts.includes('Disconnected'), guide.texts.join(' > '));
    assert.equal((await b.guideStatus(page)).text, 'Reconnecting...');
  } finally {
    serverBack();
  }
  await b.waitState(page, 'connected', 30000);
  await b.assertSendButton(page, true);
  await page.waitForSelector('#connection-status.status-connected', { state: 'hidden' });
  b.assertNoConsoleErrors(p, [b.HANDSHAKE_REFUSED]);
});

test('in Chinese: the guide\'s strings word for word, through an outage that gives up and a retry', { timeout: 150000 }, async (t) => {
  const agent = await agentOnline(t, 'lin');
  const p = await b.openPage(browser, stack, { name: 'visitor zh', locale: 'zh-CN', test: t });
  const { page } = p;
  await page.goto('/');
  await page.locator('#start-form').waitFor();
  assert.equal(await page.evaluate(() => document.documentElement.lang), 'zh-CN');
  assert.equal(await page.locator('#language').inputValue(), 'zh-CN');
  assert.deepEqual(await b.sendButton(page), { disabled: true, text: GUIDE_ZH.sendConnecting });
  const form = page.locator('#start-form');
  await form.getByLabel('您的名字').fill('张三');
  await form.getByLabel('请问有什么可以帮您？').fill('你好，我需要帮助');
  await form.getByRole('button', { name: '开始聊天' }).click();
  await b.waitState(page, 'connected');
  assert.deepEqual(await b.guideStatus(page), { className: 'status-connected', text: GUIDE_ZH.connected, display: 'block' });
  await b.assertSendButton(page, true, { send: GUIDE_ZH.send });
  await page.waitForSelector('#connection-status.status-connected', { state: 'hidden' });
  let guide = await b.guideLog(page);
  assert.deepEqual(guide.texts, [GUIDE_ZH.connecting, GUIDE_ZH.connected]);
  // (Before the page's script runs, the markup's English is there.)
  const sends = await b.history(page, 'send');
  assert.deepEqual(sends.slice(sends.indexOf(`disabled ${GUIDE_ZH.sendConnecting}`)),
    [`disabled ${GUIDE_ZH.sendConnecting}`, `enabled ${GUIDE_ZH.send}`], sends.join(' > '));

  // The agent answers: the system line and the name, in Chinese around them.
  const hello = await agent.next((f) => f.type === 'message' && f.message.text === '你好，我需要帮助');
  await page.locator('#messages .system-line', { hasText: 'Lin Hui 加入了对话' }).waitFor();
  agent.send({ type: 'message', sessionId: hello.message.sessionId, text: '您好，张三！请问订单号是多少？', clientMsgId: 'zh1' });
  const reply = await b.bubble(page, '您好，张三！请问订单号是多少？');
  assert.equal(await reply.locator('.sender').textContent(), 'Lin Hui');
  await page.getByText('Lin Hui 正在为您服务').waitFor();
  await b.say(page, '订单号是 1042。');
  await page.waitForSelector('.bubble.own[data-message-id] >> text=订单号是 1042。');
  await b.screenshot(page, 'visitor-zh-CN');

  // The server goes away for longer than the client tries: 连接已断开,
  // 正在重新连接..., then 连接失败，请重试 with a button that tries again.
  await serverAway();
  try {
    await b.waitState(page, 'reconnecting');
    await b.assertSendButton(page, false, { connecting: GUIDE_ZH.sendConnecting });
    await b.waitState(page, 'error', 60000);
    assert.deepEqual(await b.guideStatus(page), { className: 'status-error', text: GUIDE_ZH.error, display: 'block' });
    await b.assertSendButton(page, false, { connecting: GUIDE_ZH.sendConnecting });
    guide = await b.guideLog(page);
    const later = guide.classes.slice(2);
    assert.deepEqual([...new Set(later)], ['status-disconnected', 'status-reconnecting', 'status-error'], guide.classes.join(' > '));
    assert.deepEqual([...new Set(guide.texts.slice(2))], [GUIDE_ZH.disconnected, GUIDE_ZH.reconnecting, GUIDE_ZH.error]);
    await page.getByRole('button', { name: '重试' }).waitFor();
  } finally {
    serverBack();
  }
  await page.getByRole('button', { name: '重试' }).click();
  await b.waitState(page, 'connected', 30000);
  await b.assertSendButton(page, true, { send: GUIDE_ZH.send });
  assert.equal(await page.getByRole('button', { name: '重试' }).isHidden(), true);

  // The strings file has the guide's other strings, word for word.
  const zh = await page.evaluate(async () => (await import('/js/strings/zh-CN.js')).default);
  assert.equal(zh['common.loginExpired'], GUIDE_ZH.loginExpired);
  assert.equal(zh['common.connectionFailedReload'], GUIDE_ZH.reload);
  assert.equal(zh['common.disconnectedReconnecting'], '连接已断开，正在重新连接...');

  // Switched to English without a reload, and back: the choice is kept.
  const sockets = p.record.sockets.length;
  await page.locator('#language').selectOption('en');
  await page.getByText('Lin Hui joined the chat').waitFor();
  assert.equal(await page.evaluate(() => document.documentElement.lang), 'en');
  await b.assertSendButton(page, true);
  assert.equal(await page.locator('#text').getAttribute('placeholder'), 'Type your message...');
  assert.equal(p.record.sockets.length, sockets, 'no reload, no new connection');
  await page.reload();
  await b.waitState(page, 'connected');
  await b.assertSendButton(page, true);
  await page.locator('#language').selectOption('zh-CN');
  await page.getByText('Lin Hui 加入了对话').waitFor();
  b.assertNoConsoleErrors(p, [b.HANDSHAKE_REFUSED]);
});

test('the guide\'s own ChatUI code works on the page unchanged', async (t) => {
  const p = await b.openPage(browser, stack, { name: 'guide code', test: t });
  const { page } = p;
  await b.startCustomer(p, 'Guide Reader');
  const got = await page.evaluate(guideChatUI);
  const backgrounds = new Set();
  for (const status of ['connecting', 'connected', 'disconnected', 'reconnecting', 'error']) {
    assert.equal(got[status].className, `status-${status}`);
    assert.equal(got[status].shown, true, `${status} is shown`);
    assert.notEqual(got[status].background, 'rgba(0, 0, 0, 0)', `${status} has its colour`);
    backgrounds.add(got[status].background);
  }
  assert.equal(backgrounds.size, 5, 'each state its own colour');
  assert.deepEqual(got.sendOff, { disabled: true, text: '连接中...' });
  assert.deepEqual(got.sendOn, { disabled: false, text: '发送' });
  // Readable in every state, as the guide's code leaves it.
  for (const status of ['connecting', 'connected', 'disconnected', 'reconnecting', 'error']) {
    await page.evaluate((s) => {
      const n = document.getElementById('connection-status');
      n.className = `status-${s}`;
      n.style.display = 'block';
    }, status);
    await b.assertContrast(page, ['#connection-status']);
  }
  b.assertNoConsoleErrors(p);
});
