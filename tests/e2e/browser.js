'use strict';
// The browser tests' own helpers: Debian's Chromium driven headless by
// playwright-core, pages that record what the console said and what the
// status bar and send button went through, and the steps every test takes
// (a customer starts a chat, an agent signs in). Servers come from
// ../integration/stack.js; pictures go to tests/output/e2e/.

const assert = require('node:assert/strict');
const fs = require('node:fs');
const path = require('node:path');
const { chromium } = require('playwright-core');
const { ROOT, sleep } = require('../integration/stack.js');

const CHROMIUM = process.env.CHAT_CHROMIUM || '/usr/bin/chromium';
const OUTPUT_DIR = path.join(ROOT, 'tests', 'output', 'e2e');
const WAIT_MS = 15000;

// Chromium as root, on a machine whose only network is loopback: no
// sandbox, no GPU, and none of its own background traffic. Playwright adds
// --headless and a fresh --user-data-dir of its own for each launch.
const CHROMIUM_ARGS = [
  '--no-sandbox',
  '--disable-gpu',
  '--disable-quic',
  '--no-first-run',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
];

async function launch() {
  if (!fs.existsSync(CHROMIUM)) {
    throw new Error(`${CHROMIUM} does not exist: install Debian's chromium (setup/install-deps --tests)`);
  }
  return chromium.launch({ executablePath: CHROMIUM, headless: true, args: CHROMIUM_ARGS });
}

// Recorded in every page before its own scripts run: each change of the
// status bar's state and of the send button, in order. The visitor page
// has the guide's #connection-status (its state in its class status-*,
// hidden with style.display) and #send-button; the workbench its own
// #status (data-state) and #send. Both are logged as "status" and "send".
function recordStates() {
  window.__chatLog = [];
  const seen = new Map();
  const describe = {
    status: (node) => `${node.dataset.state}${node.hidden ? ' (hidden)' : ''}`,
    'connection-status': (node) => {
      const state = node.className.replace(/^status-/, '') || 'idle';
      return `${state}${node.style.display === 'none' || node.style.display === '' ? ' (hidden)' : ''}`;
    },
    send: (node) => `${node.disabled ? 'disabled' : 'enabled'} ${node.textContent.trim()}`,
  };
  describe['send-button'] = describe.send;
  // The guide's bar, each class and text it had, in order, even those it
  // had only for a moment (disconnected, then reconnecting in the same task).
  window.__guideLog = { classes: [], texts: [] };
  const push = (list, value) => {
    if (list[list.length - 1] !== value) list.push(value);
  };
  const guide = (records) => {
    const node = document.getElementById('connection-status');
    if (node === null) return;
    const mine = records.filter((r) => r.target === node && r.attributeName === 'class');
    for (const r of mine.slice(1)) push(window.__guideLog.classes, r.oldValue || '');
    if (mine.length > 0) push(window.__guideLog.classes, node.className);
    // Each textContent written is a childList record adding its text node.
    for (const r of records) {
      if (r.target === node && r.type === 'childList' && r.addedNodes.length > 0) {
        push(window.__guideLog.texts, Array.from(r.addedNodes, (n) => n.textContent).join(''));
      }
    }
  };
  const note = (records = []) => {
    guide(records);
    for (const [id, as] of [['status', 'status'], ['connection-status', 'status'], ['send', 'send'], ['send-button', 'send']]) {
      const node = document.getElementById(id);
      if (node === null) continue;
      const now = describe[id](node);
      if (seen.get(as) !== now) {
        seen.set(as, now);
        window.__chatLog.push({ id: as, now, at: Date.now() });
      }
    }
  };
  new MutationObserver(note).observe(document, {
    subtree: true, attributes: true, childList: true, characterData: true, attributeOldValue: true,
  });
}

/**
 * A new browser context and page that remember their console errors,
 * uncaught exceptions, WebSocket addresses and API calls.
 * options: viewport, locale, timezoneId, name (in messages), test (closes
 * it when that test ends).
 */
async function openPage(browser, stack, options = {}) {
  const p = await newPage(browser, stack, options);
  // Closed when the test ends, passed or failed, so that no page signed in
  // as an agent is left to take the next test's chats.
  if (options.test) options.test.after(() => p.context.close());
  return p;
}

async function newPage(browser, stack, options) {
  const context = await browser.newContext({
    baseURL: `http://127.0.0.1:${stack.port}`,
    viewport: options.viewport || { width: 1280, height: 800 },
    reducedMotion: 'reduce',
    locale: options.locale || 'en-US',
    timezoneId: options.timezoneId,
  });
  context.setDefaultTimeout(WAIT_MS);
  await context.addInitScript(recordStates);
  const page = await context.newPage();
  const record = { console: [], errors: [], sockets: [], api: [] };
  watch(page, record);
  context.on('page', (p) => watch(p, record));
  return { context, page, record, name: options.name || 'page' };
}

function watch(page, record) {
  page.on('console', (m) => record.console.push({ type: m.type(), text: m.text() }));
  page.on('pageerror', (err) => record.errors.push(err.message));
  page.on('websocket', (ws) => record.sockets.push(ws.url()));
  page.on('response', (res) => {
    const url = new URL(res.url());
    if (url.pathname.startsWith('/api/')) {
      record.api.push({ method: res.request().method(), path: url.pathname, status: res.status() });
    }
  });
}

// What Chromium itself logs, as errors, when a handshake is refused or a
// call answers 401: expected in the token and restart scenarios, and only
// there.
const HANDSHAKE_REFUSED = /^WebSocket connection to 'ws:\/\/127\.0\.0\.1:\d+\/ws\/chat\?token=[^']*' failed/;
const UNAUTHORIZED = /^Failed to load resource: the server responded with a status of 401/;

/** No uncaught exception, and no console error but those allowed. */
function assertNoConsoleErrors(p, allowed = []) {
  assert.deepEqual(p.record.errors, [], `${p.name}: uncaught exceptions`);
  const errors = p.record.console.filter((m) => m.type === 'error' && !allowed.some((re) => re.test(m.text)));
  assert.deepEqual(errors.map((m) => m.text), [], `${p.name}: console errors`);
}

/** Every class and every text the guide's #connection-status had, in order: {classes, texts}. */
async function guideLog(page) {
  return page.evaluate(() => window.__guideLog);
}

/** The states the page's status bar ("status") or send button ("send") went through. */
async function history(page, id) {
  const log = await page.evaluate(() => window.__chatLog);
  return log.filter((e) => e.id === id).map((e) => e.now);
}

/** The status bar's selector for a state: the visitor page's (the guide's) or the workbench's. */
function stateSelector(state) {
  return `#connection-status.status-${state}, #status[data-state="${state}"]`;
}

async function waitState(page, state, ms = WAIT_MS) {
  await page.waitForSelector(stateSelector(state), { state: 'attached', timeout: ms });
}

/** The visitor page's status bar, as the guide's ChatUI leaves it. */
async function guideStatus(page) {
  return page.$eval('#connection-status', (n) => ({
    className: n.className, text: n.textContent, display: n.style.display,
  }));
}

async function sendButton(page) {
  return page.$eval('#send-button, #send', (b) => ({ disabled: b.disabled, text: b.textContent.trim() }));
}

async function assertSendButton(page, connected, strings = { send: 'Send', connecting: 'Connecting...' }) {
  const b = await sendButton(page);
  if (connected) assert.deepEqual(b, { disabled: false, text: strings.send });
  else assert.deepEqual(b, { disabled: true, text: strings.connecting });
}

/**
 * The customer page: a visitor gives a name (and a first question) and
 * waits until connected. options.email fills the email field. With nobody
 * online the page first says so (the away page): the visitor chooses to
 * wait in the chat anyway.
 */
async function startCustomer(p, name, question, options = {}) {
  const { page } = p;
  if (options.goto !== false) await page.goto(options.url || '/');
  const form = page.locator('#start-form');
  const anyway = page.getByRole('button', { name: 'Wait in the chat instead' });
  await page.locator('#start-form:visible, #chat-anyway:visible').first().waitFor();
  if (await anyway.isVisible()) await anyway.click();
  await form.getByLabel('Your name').fill(name);
  if (options.email) await form.getByLabel('Your email').fill(options.email);
  if (question) await form.getByLabel('How can we help?').fill(question);
  await form.getByRole('button', { name: 'Start chat' }).click();
  await waitState(page, 'connected');
  await page.waitForSelector('#text:not([disabled])');
}

/** The agent signs in at /login and waits for the workbench to connect. */
async function loginAgent(p, username, password = 'password123') {
  const { page } = p;
  await page.goto('/login');
  await page.getByLabel('Username').fill(username);
  await page.getByLabel('Password').fill(password);
  await page.getByRole('button', { name: 'Sign in' }).click();
  await page.waitForURL('**/agent');
  await waitState(page, 'connected');
}

/** Type into the composer and press Enter. */
async function say(page, text) {
  await page.locator('#text').fill(text);
  await page.locator('#text').press('Enter');
}

/** Wait for a message bubble with exactly this text; returns its locator. */
async function bubble(page, text, ms = WAIT_MS) {
  const loc = page.locator('#messages .bubble').filter({ has: page.getByText(text, { exact: true }) });
  await loc.first().waitFor({ timeout: ms });
  return loc;
}

async function bubbleCount(page, text) {
  return page.locator('#messages .bubble .text').evaluateAll(
    (nodes, t) => nodes.filter((n) => n.textContent === t).length, text);
}

async function screenshot(page, name) {
  fs.mkdirSync(OUTPUT_DIR, { recursive: true });
  const file = path.join(OUTPUT_DIR, `${name}.png`);
  await page.screenshot({ path: file });
  return file;
}

/** The token the page's WebSocket used, taken from its address. */
function socketToken(url) {
  return new URL(url).searchParams.get('token');
}

/** Wait until pred() is true, polling. */
async function until(pred, what, ms = WAIT_MS) {
  const deadline = Date.now() + ms;
  for (;;) {
    if (await pred()) return;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await sleep(50);
  }
}

/* The process's parent pid and command name, from /proc. */
function procStat(pid) {
  const stat = fs.readFileSync(`/proc/${pid}/stat`, 'utf8');
  const close = stat.lastIndexOf(')');
  const comm = stat.slice(stat.indexOf('(') + 1, close);
  const ppid = Number(stat.slice(close + 2).split(' ')[1]);
  return { comm, ppid };
}

function processes() {
  return fs.readdirSync('/proc').filter((n) => /^\d+$/.test(n)).map(Number);
}

/** The stack's websocketd: the child of its server-config/run of that name. */
function websocketdPid(stack) {
  for (const pid of processes()) {
    try {
      const { comm, ppid } = procStat(pid);
      if (comm === 'websocketd' && ppid === stack.pid) return pid;
    } catch { /* gone */ }
  }
  return null;
}

/** Wait until the process has exited: gone, or a zombie its stopped parent has not reaped. */
async function exited(pid, ms = WAIT_MS) {
  await until(() => {
    try {
      const stat = fs.readFileSync(`/proc/${pid}/stat`, 'utf8');
      return stat.slice(stat.lastIndexOf(')') + 2).startsWith('Z');
    } catch {
      return true;
    }
  }, `process ${pid} to exit`, ms);
}

/** The stack's chat-ws handlers serving a connection made with this token. */
function handlersOf(stack, token) {
  const pids = [];
  for (const pid of processes()) {
    try {
      if (procStat(pid).comm !== 'chat-ws') continue;
      const env = fs.readFileSync(`/proc/${pid}/environ`, 'utf8').split('\0');
      if (env.includes(`CHAT_DB=${stack.db}`) && env.some((e) => e.startsWith('QUERY_STRING=') &&
        new URLSearchParams(e.slice('QUERY_STRING='.length)).get('token') === token)) {
        pids.push(pid);
      }
    } catch { /* gone */ }
  }
  return pids;
}


/*
 * In the page: the lowest contrast ratio (WCAG) between the text colour of
 * the elements matching each selector and what is behind them (the first
 * ancestor with an opaque background colour), and those elements.
 */
function measureContrast(selectors) {
  const rgb = (css) => {
    const m = css.match(/rgba?\(([^)]+)\)/);
    if (m === null) return null;
    const [r, g, b, a = 1] = m[1].split(/[ ,/]+/).filter(Boolean).map(Number);
    return { r, g, b, a };
  };
  const lum = ({ r, g, b }) => {
    const f = (v) => {
      const c = v / 255;
      return c <= 0.03928 ? c / 12.92 : ((c + 0.055) / 1.055) ** 2.4;
    };
    return 0.2126 * f(r) + 0.7152 * f(g) + 0.0722 * f(b);
  };
  const behind = (node) => {
    for (let n = node; n !== null; n = n.parentElement) {
      const style = getComputedStyle(n);
      if (style.backgroundImage !== 'none') return null;
      const c = rgb(style.backgroundColor);
      if (c !== null && c.a === 1) return c;
    }
    return { r: 255, g: 255, b: 255, a: 1 };
  };
  const out = {};
  for (const selector of selectors) {
    let worst = null;
    for (const node of document.querySelectorAll(selector)) {
      if (node.offsetParent === null && getComputedStyle(node).position !== 'fixed') continue;
      const fg = rgb(getComputedStyle(node).color);
      const bg = behind(node);
      if (fg === null || bg === null) continue;
      const [hi, lo] = [lum(fg), lum(bg)].sort((x, y) => y - x);
      const ratio = (hi + 0.05) / (lo + 0.05);
      if (worst === null || ratio < worst) worst = ratio;
    }
    out[selector] = worst;
  }
  return out;
}

/** Every listed selector that is shown has text at 4.5:1 or more against its background. */
async function assertContrast(page, selectors) {
  const ratios = await page.evaluate(measureContrast, selectors);
  for (const [selector, ratio] of Object.entries(ratios)) {
    if (ratio === null) continue;
    assert.ok(ratio >= 4.5, `${selector}: contrast ${ratio.toFixed(2)} < 4.5`);
  }
  return ratios;
}

/** Every form control has a label, every button a name, and nothing is wider than the screen. */
async function assertAccessibleBasics(page) {
  const problems = await page.evaluate(() => {
    const found = [];
    for (const node of document.querySelectorAll('input, textarea, select')) {
      if (node.type === 'hidden') continue;
      if (node.labels.length === 0 && !node.getAttribute('aria-label')) found.push(`no label: #${node.id}`);
    }
    for (const node of document.querySelectorAll('button')) {
      if (node.textContent.trim() === '' && !node.getAttribute('aria-label')) found.push(`no name: button#${node.id}`);
    }
    if (document.documentElement.scrollWidth > window.innerWidth) {
      found.push(`wider than the screen: ${document.documentElement.scrollWidth} > ${window.innerWidth}`);
    }
    if (!document.documentElement.lang) found.push('no lang on <html>');
    return found;
  });
  assert.deepEqual(problems, []);
}

module.exports = {
  OUTPUT_DIR,
  WAIT_MS,
  HANDSHAKE_REFUSED,
  UNAUTHORIZED,
  launch,
  openPage,
  assertNoConsoleErrors,
  history,
  guideLog,
  waitState,
  stateSelector,
  guideStatus,
  sendButton,
  assertSendButton,
  startCustomer,
  loginAgent,
  say,
  bubble,
  bubbleCount,
  screenshot,
  socketToken,
  until,
  assertContrast,
  assertAccessibleBasics,
  websocketdPid,
  handlersOf,
  exited,
};
