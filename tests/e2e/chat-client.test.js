'use strict';
// The client module's delivery rules, in node against a fake WebSocket and
// a fake clock, so that every timing is exact: receipts batched and never
// ahead of what the connection got, one sent at once at the end of the
// offline messages, messages passed on once however often they are offered,
// the server's ping answered, SLOW_CONSUMER and a refused handshake taken as
// a blip, and the outbox resent in small windows. No server, no browser.

const { test, before, after, beforeEach, afterEach } = require('node:test');
const assert = require('node:assert/strict');
const fs = require('node:fs');
const os = require('node:os');
const path = require('node:path');
const { pathToFileURL } = require('node:url');

const SOURCE_JS = path.join(__dirname, '..', '..', 'www', 'js');
// The browser's modules, copied beside a package.json that says they are
// ES modules: Node 18 takes any other .js file for CommonJS.
let WWW_JS;
before(() => {
  WWW_JS = fs.mkdtempSync(path.join(os.tmpdir(), 'chat-client-js-'));
  for (const f of fs.readdirSync(SOURCE_JS).filter((n) => n.endsWith('.js'))) {
    fs.copyFileSync(path.join(SOURCE_JS, f), path.join(WWW_JS, f));
  }
  fs.writeFileSync(path.join(WWW_JS, 'package.json'), '{"type":"module"}\n');
});
after(() => { fs.rmSync(WWW_JS, { recursive: true, force: true }); });
const URL_ = 'ws://chat.test/ws/chat';

/* The browser's WebSocket as far as the client uses it; the test plays the server. */
class FakeSocket extends EventTarget {
  static CONNECTING = 0;
  static OPEN = 1;
  static CLOSING = 2;
  static CLOSED = 3;

  constructor(url) {
    super();
    this.url = url;
    this.readyState = FakeSocket.CONNECTING;
    this.sent = [];
    this.closedWith = null;
    FakeSocket.all.push(this);
  }

  send(text) {
    if (this.readyState !== FakeSocket.OPEN) throw new Error('send on a socket that is not open');
    this.sent.push({ at: Date.now(), frame: JSON.parse(text) });
  }

  close(code, reason) {
    this.closedWith = { code, reason };
    this.readyState = FakeSocket.CLOSED;
    this.fire('close', { code, reason, wasClean: true });
  }

  // The server's side.
  open() {
    this.readyState = FakeSocket.OPEN;
    this.fire('open');
  }

  receive(frame) {
    this.fire('message', { data: JSON.stringify(frame) });
  }

  drop(code = 1006) {
    this.readyState = FakeSocket.CLOSED;
    this.fire('close', { code, reason: '', wasClean: false });
  }

  fire(type, fields = {}) {
    this.dispatchEvent(Object.assign(new Event(type), fields));
  }

  framesOf(type) {
    return this.sent.filter((s) => s.frame.type === type);
  }
}

/*
 * A fake clock for Date.now and the timers, the same on every Node this
 * runs on (node's MockTimers take other arguments on Debian's Node 18 and
 * cannot stand in for Date there).
 */
const clock = {
  now: 0,
  timers: new Map(),
  next: 1,
  saved: null,
  install() {
    this.saved = { setTimeout, clearTimeout, setInterval, clearInterval, now: Date.now };
    this.now = 1_000_000;
    this.timers.clear();
    const add = (fn, ms, args, every) => {
      const id = this.next++;
      this.timers.set(id, { at: this.now + Math.max(0, ms || 0), fn, args, every });
      return id;
    };
    globalThis.setTimeout = (fn, ms, ...args) => add(fn, ms, args, null);
    globalThis.setInterval = (fn, ms, ...args) => add(fn, ms, args, Math.max(1, ms || 0));
    globalThis.clearTimeout = (id) => { this.timers.delete(id); };
    globalThis.clearInterval = (id) => { this.timers.delete(id); };
    Date.now = () => this.now;
  },
  uninstall() {
    Object.assign(globalThis, {
      setTimeout: this.saved.setTimeout, clearTimeout: this.saved.clearTimeout,
      setInterval: this.saved.setInterval, clearInterval: this.saved.clearInterval,
    });
    Date.now = this.saved.now;
    this.timers.clear();
  },
  // Run, in order, what falls due by now + ms; the clock reads each one's time.
  tick(ms) {
    const end = this.now + ms;
    for (;;) {
      let due = null;
      for (const [id, t] of this.timers) {
        if (t.at <= end && (due === null || t.at < due[1].at)) due = [id, t];
      }
      if (due === null) break;
      const [id, t] = due;
      this.now = t.at;
      if (t.every === null) this.timers.delete(id); else t.at += t.every;
      t.fn(...t.args);
    }
    this.now = end;
  },
};

let client;

beforeEach(async () => {
  FakeSocket.all = [];
  globalThis.window = Object.assign(new EventTarget(), {
    location: { protocol: 'http:', host: 'chat.test', search: '' },
  });
  globalThis.WebSocket = FakeSocket;
  // A browser's crypto; Node 18 has it only as a module.
  if (globalThis.crypto === undefined) globalThis.crypto = require('node:crypto').webcrypto;
  clock.install();
  client = await import(pathToFileURL(path.join(WWW_JS, 'chat-client.js')));
});

afterEach(() => {
  clock.uninstall();
});

/* A token check that says what the test wants, and counts the refreshes asked for. */
function fakeApi(verdict = 'valid') {
  return {
    userType: 'customer',
    token: 'customer-token-0123456789',
    refreshes: 0,
    probe: async () => verdict,
    canRefresh: () => true,
    refresh: async function refresh() { this.refreshes++; return this.token; },
  };
}

/* A client connected to a fresh fake socket; what it was given is recorded. */
function connected(options = {}) {
  const chat = new client.ChatWebSocket({ api: fakeApi(), url: URL_, ...options });
  const got = { live: [], offline: [], counts: [], states: [], acks: [] };
  chat.onMessageReceived = (m) => got.live.push(m.id);
  chat.onOfflineMessageReceived = (m) => got.offline.push(m.id);
  chat.onOfflineMessagesComplete = (n) => got.counts.push(n);
  chat.onStateChange = (state) => got.states.push(state);
  chat.onAck = (id) => got.acks.push(id);
  chat.connect();
  const ws = FakeSocket.all.at(-1);
  ws.open();
  return { chat, ws, got };
}

function message(id, extra = {}) {
  return { id, sessionId: 7, senderType: 'agent', senderId: 2, text: `m${id}`, clientMsgId: `a${id}`, ...extra };
}

/* The server's ack of an outbox entry (or of the frame that carried it), stored as message id. */
function ackOf({ clientMsgId }, id) {
  return { type: 'ack', clientMsgId, message: message(id, { senderType: 'customer', clientMsgId }) };
}

function receipts(ws) {
  return ws.framesOf('received').map((s) => s.frame.seq);
}

/* The fake clock goes on by ms. */
function advance(ms) {
  clock.tick(ms);
}

/* Let resolved promises run (the token check awaits one). */
async function settle() {
  for (let i = 0; i < 5; i++) await Promise.resolve();
}

test('a system line that waited is passed on but not counted as an offline message', () => {
  const { ws, got } = connected();
  ws.receive({ type: 'offline_message', seq: 1, message: message(1, { senderType: 'system', senderId: null,
    clientMsgId: null, event: { type: 'joined', agentName: 'Ann' } }) });
  ws.receive({ type: 'offline_message', seq: 2, message: message(2) });
  ws.receive({ type: 'offline_messages_complete', count: 2, seq: 2 });
  assert.deepEqual(got.offline, [1, 2]);
  assert.deepEqual(got.counts, [1]);
});

test('the end of the offline messages is confirmed at once, with seq 0 when there were none', () => {
  const { ws, got } = connected();
  ws.receive({ type: 'offline_messages_complete', count: 0, seq: 0 });
  assert.deepEqual(receipts(ws), [0]);
  assert.deepEqual(got.counts, [0]);

  const second = connected();
  for (const seq of [1, 2, 3]) second.ws.receive({ type: 'offline_message', seq, message: message(seq) });
  second.ws.receive({ type: 'offline_messages_complete', count: 3, seq: 3 });
  assert.deepEqual(receipts(second.ws), [3]);
  assert.deepEqual(second.got.counts, [3]);
});

test('live frames are confirmed after a quiet moment, by one receipt for the lot', () => {
  const { ws } = connected();
  ws.receive({ type: 'offline_messages_complete', count: 0, seq: 0 });
  advance(1000);
  for (let seq = 1; seq <= 5; seq++) {
    ws.receive({ type: 'message', seq, message: message(seq) });
    advance(20);
  }
  ws.receive({ type: 'session', seq: 6, session: { id: 7, status: 'active' } });
  advance(199);
  assert.deepEqual(receipts(ws), [0], 'nothing before the quiet moment');
  advance(1);
  assert.deepEqual(receipts(ws), [0, 6]);
  advance(5000);
  assert.deepEqual(receipts(ws), [0, 6], 'nothing more without news');
});

test('a burst is confirmed every 20 frames at most four times a second; a trickle within a second', () => {
  const { ws } = connected();
  ws.receive({ type: 'offline_messages_complete', count: 0, seq: 0 });
  let seq = 0;
  const given = [];
  // 300 frames, one every 2 ms.
  for (let i = 0; i < 300; i++) {
    ws.receive({ type: 'message', seq: ++seq, message: message(seq) });
    given.push({ at: Date.now(), seq });
    advance(2);
  }
  advance(300);
  const sent = ws.framesOf('received').slice(1);
  assert.ok(sent.length >= 2 && sent.length <= 4, `${sent.length} receipts for 300 frames in 0.6 s`);
  for (let i = 1; i < sent.length; i++) assert.ok(sent[i].at - sent[i - 1].at >= 250, 'at most four a second');
  for (const s of sent) {
    const highest = Math.max(...given.filter((g) => g.at <= s.at).map((g) => g.seq));
    assert.ok(s.frame.seq <= highest, `receipt ${s.frame.seq} names no frame not given yet (${highest})`);
  }
  assert.equal(sent.at(-1).frame.seq, 300, 'all confirmed in the end');

  // One frame every 150 ms never leaves a quiet moment: still confirmed within a second.
  const before = ws.framesOf('received').length;
  const start = Date.now();
  for (let i = 0; i < 20; i++) {
    ws.receive({ type: 'message', seq: ++seq, message: message(seq) });
    advance(150);
  }
  const trickle = ws.framesOf('received').slice(before);
  assert.ok(trickle.length >= 2 && trickle.length <= 4, `${trickle.length} receipts for 20 frames in 3 s`);
  assert.ok(trickle[0].at - start <= 1000, 'the first within a second');
});

test('a receipt names only what this connection was given; a new connection starts from nothing', async () => {
  const { chat, ws } = connected();
  ws.receive({ type: 'offline_messages_complete', count: 0, seq: 0 });
  for (let seq = 1; seq <= 10; seq++) ws.receive({ type: 'message', seq, message: message(seq) });
  ws.drop(1006);
  await settle();
  assert.equal(chat.state, 'reconnecting');
  advance(2000);
  const next = FakeSocket.all.at(-1);
  assert.notEqual(next, ws);
  next.open();
  advance(1000);
  assert.deepEqual(receipts(ws), [0], 'the old connection confirmed nothing after its end');
  assert.deepEqual(receipts(next), [], 'nor the new one before it was given anything');
  // Nothing owed (the server had it all by the fallback's grace period, say).
  next.receive({ type: 'offline_messages_complete', count: 0, seq: 0 });
  assert.deepEqual(receipts(next), [0], 'not the 10 of the old connection');
  next.receive({ type: 'message', seq: 11, message: message(11) });
  advance(250);
  assert.deepEqual(receipts(next), [0, 11]);
});

test('a message offered again, live or offline or after a reconnect, is passed on once', async () => {
  const { chat, ws, got } = connected();
  ws.receive({ type: 'offline_message', seq: 1, message: message(1) });
  ws.receive({ type: 'offline_message', seq: 2, message: message(2) });
  ws.receive({ type: 'offline_messages_complete', count: 2, seq: 2 });
  ws.receive({ type: 'message', seq: 3, message: message(3) });
  ws.receive({ type: 'message', seq: 4, message: message(3) });
  // One of the user's own, acked on this connection.
  const entry = chat.sendMessage(7, 'mine');
  ws.receive(ackOf(entry, 4));
  ws.drop(1006);
  await settle();
  advance(2000);
  const next = FakeSocket.all.at(-1);
  next.open();
  // The server offers again everything after the confirmed point, and one new message.
  for (const [i, id] of [2, 3, 4, 5].entries()) {
    next.receive({ type: 'offline_message', seq: 5 + i, message: message(id) });
  }
  next.receive({ type: 'offline_messages_complete', count: 4, seq: 8 });
  next.receive({ type: 'message', seq: 9, message: message(5) });
  assert.deepEqual(got.offline, [1, 2, 5]);
  assert.deepEqual(got.live, [3]);
  assert.deepEqual(got.counts, [2, 1], 'the offline count counts only the new ones');
  assert.deepEqual(receipts(next), [8], 'the repeats are confirmed all the same');
  advance(249);
  assert.deepEqual(receipts(next), [8], 'not sooner than 250 ms after the last');
  advance(1);
  assert.deepEqual(receipts(next), [8, 9]);
});

test('the server\'s ping is answered with a pong', () => {
  const { ws } = connected();
  ws.receive({ type: 'offline_messages_complete', count: 0, seq: 0 });
  ws.receive({ type: 'ping' });
  assert.deepEqual(ws.sent.map((s) => s.frame.type), ['received', 'pong']);
  advance(1000);
  ws.receive({ type: 'ping' });
  assert.equal(ws.framesOf('pong').length, 2);
});

test('SLOW_CONSUMER ends the connection, and the client reconnects with the same token after the back-off', () => {
  const { chat, ws, got } = connected();
  ws.receive({ type: 'offline_messages_complete', count: 0, seq: 0 });
  ws.receive({ type: 'message', seq: 1, message: message(1) });
  ws.receive({ type: 'error', code: 'SLOW_CONSUMER', message: 'Too slow' });
  assert.deepEqual(receipts(ws), [0, 1], 'what it got is confirmed before it goes');
  assert.ok(ws.closedWith !== null, 'the client closed the socket');
  assert.equal(chat.state, 'reconnecting');
  assert.deepEqual(got.states.slice(-2), ['disconnected', 'reconnecting']);
  advance(1999);
  assert.equal(FakeSocket.all.length, 1);
  advance(1);
  assert.equal(FakeSocket.all.length, 2);
  assert.equal(FakeSocket.all[1].url, ws.url, 'the same token');
  FakeSocket.all[1].open();
  assert.equal(chat.state, 'connected');
  assert.equal(chat.api.refreshes, 0);
});

test('a refused handshake (1006) with a token that still works reconnects with back-off', async () => {
  const chat = new client.ChatWebSocket({ api: fakeApi('valid'), url: URL_ });
  const delays = [];
  chat.onStateChange = (state, detail) => {
    if (state === 'reconnecting' && detail.delay) delays.push(detail.delay);
  };
  chat.connect();
  for (let i = 0; i < 5; i++) {
    FakeSocket.all.at(-1).drop(1006);
    await settle();
    advance(delays.at(-1));
  }
  assert.deepEqual(delays, [2000, 4000, 8000, 10000, 10000]);
  assert.equal(chat.api.refreshes, 0, 'no token refresh');
  assert.ok(FakeSocket.all.every((s) => s.url === FakeSocket.all[0].url));
  FakeSocket.all.at(-1).drop(1006);
  await settle();
  assert.equal(chat.state, 'error', 'then it gives up');
});

test('the outbox goes again after a reconnect in order, at most 8 unacked at a time', async () => {
  const { chat, ws } = connected();
  ws.drop(1006);
  await settle();
  const entries = [];
  for (let i = 1; i <= 20; i++) entries.push(chat.sendMessage(7, `line ${i}`));
  assert.equal(chat.outbox.length, 20);
  advance(2000);
  const next = FakeSocket.all.at(-1);
  next.open();
  const texts = () => next.framesOf('message').map((s) => s.frame.text);
  assert.deepEqual(texts(), entries.slice(0, 8).map((e) => e.text));
  let acked = 0;
  while (acked < 20) {
    const sent = next.framesOf('message');
    assert.ok(sent.length - acked <= client.OUTBOX_WINDOW, `${sent.length - acked} in flight`);
    next.receive(ackOf(sent[acked].frame, 100 + acked));
    acked++;
  }
  assert.deepEqual(texts(), entries.map((e) => e.text));
  assert.equal(chat.outbox.length, 0);
});

test('a message refused with RATE_LIMITED holds the outbox for a second, then goes again', () => {
  const { chat, ws } = connected();
  const a = chat.sendMessage(7, 'first');
  const b = chat.sendMessage(7, 'second');
  ws.receive({ type: 'error', code: 'RATE_LIMITED', message: 'Slow down', clientMsgId: b.clientMsgId });
  ws.receive(ackOf(a, 50));
  const c = chat.sendMessage(7, 'third');
  assert.deepEqual(ws.framesOf('message').map((s) => s.frame.text), ['first', 'second']);
  advance(1000);
  assert.deepEqual(ws.framesOf('message').map((s) => s.frame.text), ['first', 'second', 'second', 'third']);
  assert.deepEqual(chat.outbox, [b, c]);
});

test('disconnect() confirms what came before it closes', () => {
  const { chat, ws } = connected();
  ws.receive({ type: 'offline_messages_complete', count: 0, seq: 0 });
  ws.receive({ type: 'message', seq: 1, message: message(1) });
  chat.disconnect();
  assert.deepEqual(receipts(ws), [0, 1]);
  assert.deepEqual(ws.closedWith, { code: 1000, reason: 'Client closed connection' });
});

test('without seq in its frames (an older server) no receipt is sent; with receipts off neither', () => {
  const old = connected();
  old.ws.receive({ type: 'offline_message', message: message(1) });
  old.ws.receive({ type: 'offline_messages_complete', count: 1 });
  old.ws.receive({ type: 'message', message: message(2) });
  advance(2000);
  assert.deepEqual(receipts(old.ws), []);
  assert.deepEqual(old.got.counts, [1]);

  const guide = connected({ receipts: false });
  guide.ws.receive({ type: 'offline_messages_complete', count: 0, seq: 0 });
  guide.ws.receive({ type: 'message', seq: 1, message: message(3) });
  guide.ws.receive({ type: 'ping' });
  advance(2000);
  assert.deepEqual(guide.ws.sent.map((s) => s.frame.type), ['pong']);
});
