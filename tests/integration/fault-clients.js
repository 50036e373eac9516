'use strict';
// The clients of the delivery fault suite (delivery-fault.test.js) and its
// bookkeeping: the receiving clients, a ledger of what each user received,
// the senders, which count what the server acked, and the checks of each
// ledger against those acks.
//
// Two kinds of receiving client:
// - the receipt client confirms what it got ({"type":"received","seq":N},
//   batched after a quiet moment and once at offline_messages_complete),
//   answers the server's ping, pings the server itself and gives up on a
//   connection whose pong does not come within 3 s. It must lose nothing,
//   and is never offered again a message whose confirmation provably
//   reached the server: the server answered a ping sent after it.
// - the guide client (SEED.md's ChatWebSocket) never confirms and closes
//   with 1000. It must lose nothing but what went into a black-holed
//   connection, and is never offered again what a connection it closed
//   cleanly had received (API.md: "never offered a message twice after a
//   clean close"). It reconnects with the guide's exponential back-off
//   shortened twentyfold (100 ms doubling up to 1 s, no limit on attempts)
//   and with the same token, which stays valid in these tests.
// Neither may get one message twice on one connection, and like a
// browser both drop what arrives once they began to close.

const assert = require('node:assert/strict');
const WebSocket = require('ws');
const { sleep } = require('./stack');

const RECEIPT_QUIET_MS = 100;	// a receipt after this long without a frame
const RECEIPT_MAX_WAIT_MS = 500;	// or at the latest this long after the first unconfirmed
const CLIENT_PING_MS = 1000;
const CLIENT_PING_TIMEOUT_MS = 3000;
const WINDOW = 10;	// messages a sender has unacked at once
const RESEND_MS = 2000;
// A frame that reached a client this long before it began to close was
// surely not in flight any more (failures say how many were).
const SETTLED_MS = 300;
// How soon after a clean close the closed connection's end is surely
// recorded (its handler reads the end of its input, and marks).
const RECORDED_MS = 100;
// A message the server sent to a guide client this close to the moment it
// began a clean close may have crossed the close: a browser drops what
// arrives once it began closing, and the server counts what it had sent
// before the close reached it (the contract's fallback), so the guide
// client can lose it. Reported, not counted as lost.
const CROSSED_BEFORE_MS = 50;
const CROSSED_AFTER_MS = 1000;
// When each message was acked, by id (ids are unique across senders): the
// server writes it to its receivers at that moment.
const ackedAt = new Map();

// Events of all clients in one order: a confirmation or a clean close
// "before" a connection is one whose tick is lower than the connection's.
let ticks = 0;
const tick = () => ++ticks;
let connSeq = 0;

const rand = (lo, hi) => lo + Math.floor(Math.random() * (hi - lo + 1));

async function waitFor(pred, ms, step = 50) {
  const until = Date.now() + ms;
  while (!pred()) {
    if (Date.now() >= until) return false;
    await sleep(step);
  }
  return true;
}

// Where a client connects: through the proxy, or straight to the stack (its port now).
const wsUrl = (port, token) => `ws://127.0.0.1:${port}/ws/chat?token=${encodeURIComponent(token)}`;
const viaProxy = (proxy, token) => () => wsUrl(proxy.port, token);
const direct = (live, token) => () => wsUrl(live.port, token);

// ---------------------------------------------------------------------------
// What one user received, over every client and connection of theirs.

class Ledger {
  constructor(name) {
    this.name = name;
    this.seen = new Map();	// message id -> copies received
    // id -> {at (tick), conn, time}: when a confirmation of it was proven to reach the server
    this.confirmedAt = new Map();
    // id -> {at (tick), conn, ...}: when a connection that had it was closed cleanly
    this.cleanAt = new Map();
    this.closeStarts = [];	// when a connection of this user began a clean close
    this.offeredAgain = [];	// a confirmed message on a later connection
    this.offeredAfterClean = [];	// a message of a cleanly closed connection on a later one
    this.offeredLong = 0;	// of those, ones it had had SETTLED_MS or more before the close
    this.twiceOnOneConn = [];
    this.protocol = [];	// seq rules broken
    this.errors = [];	// error frames
    this.connections = 0;
  }

  receive(conn, id, type) {
    if (conn.ids.has(id)) {
      this.twiceOnOneConn.push(`message ${id} again as ${type} on connection ${conn.n}`);
    } else {
      const c = this.confirmedAt.get(id);
      if (c !== undefined && c.at < conn.created) {
        this.offeredAgain.push(`message ${id} as ${type} on connection ${conn.n}, opened ` +
          `${conn.createdAt - c.time} ms after connection ${c.conn} confirmed it and the server answered`);
      }
      const k = this.cleanAt.get(id);
      // A connection opened within moments of the close may run its offline
      // pass before the closed one's handler has recorded its end.
      if (k !== undefined && k.at < conn.created && conn.createdAt - k.closedAt >= RECORDED_MS) {
        if (k.before >= SETTLED_MS) this.offeredLong += 1;
        this.offeredAfterClean.push(`message ${id} as ${type} on connection ${conn.n}, opened after ` +
          `connection ${k.conn} had it and was closed cleanly ${k.before} ms after receiving it ` +
          `(${k.lived} ms after it opened, ${conn.createdAt - k.closedAt} ms before this one was)`);
      }
    }
    conn.ids.add(id);
    conn.receivedAt.set(id, Date.now());
    this.seen.set(id, (this.seen.get(id) || 0) + 1);
  }

  missing(ids) { return ids.filter((id) => !this.seen.has(id)); }

  copies() { let n = 0; for (const v of this.seen.values()) n += v; return n; }

  summary(ids) {
    return `${this.name}: ${ids.length} acked, ${this.missing(ids).length} lost, ` +
      `${this.seen.size} distinct received in ${this.copies()} copies over ${this.connections} connections`;
  }
}

// ---------------------------------------------------------------------------
// A receiving client: kind 'receipt' or 'guide' (see the top of the file).
// opts: name, ledger, url() (where to connect, asked at each connection),
// auto (reconnect by itself when a connection is lost; default true),
// ownPing (the receipt client's own ping; default true).

class Device {
  constructor(kind, opts) {
    this.kind = kind;
    this.name = opts.name;
    this.ledger = opts.ledger;
    this.url = opts.url;
    this.auto = opts.auto !== false;
    this.ownPing = kind === 'receipt' && opts.ownPing !== false;
    this.conn = null;
    this.attempt = 0;
    this.stopped = false;
    this.reconnectTimer = null;
    this.pingTimeouts = 0;
    this.refusals = 0;
    this.closeCodes = new Map();	// close code -> times
  }

  /** Open a connection; resolves with it at offline_messages_complete. */
  open() {
    const conn = {
      n: ++connSeq, created: tick(), createdAt: Date.now(), openedAt: 0, localPort: null,
      ids: new Set(), receivedAt: new Map(), complete: false, cleanClosing: false,
      unconfirmed: [], lastSeq: 0, offlineSeq: 0, receiptSent: -1, batchStart: 0, pings: [],
      receiptTimer: null, pingTimer: null,
    };
    this.conn = conn;
    const ws = new WebSocket(this.url(), { handshakeTimeout: 5000 });
    conn.ws = ws;
    conn.closed = new Promise((resolve) => { conn.onClosed = resolve; });
    return new Promise((resolve, reject) => {
      conn.ready = { resolve, reject };
      ws.on('upgrade', (res) => { conn.localPort = res.socket.localPort; });
      ws.on('open', () => {
        conn.openedAt = Date.now();
        this.attempt = 0;
        this.ledger.connections += 1;
        if (this.ownPing) conn.pingTimer = setInterval(() => this.ping(conn), CLIENT_PING_MS);
      });
      ws.on('message', (data) => this.onFrame(conn, JSON.parse(data.toString())));
      ws.on('error', (err) => {
        conn.error = err.message;
        if (/Unexpected server response/.test(err.message)) this.refusals += 1;
      });
      ws.on('close', (code) => this.onClose(conn, code));
    });
  }

  onFrame(conn, f) {
    // Like a browser: once it began to close, what arrives is dropped.
    if (conn.cleanClosing) return;
    const L = this.ledger;
    if (typeof f.seq === 'number' && ['message', 'offline_message', 'session'].includes(f.type)) {
      if (f.seq <= conn.lastSeq) {
        L.protocol.push(`connection ${conn.n}: ${f.type} seq ${f.seq} after ${conn.lastSeq}`);
      }
      conn.lastSeq = Math.max(conn.lastSeq, f.seq);
    }
    switch (f.type) {
      case 'offline_message':
        if (conn.complete) {
          L.protocol.push(`connection ${conn.n}: offline_message after offline_messages_complete`);
        }
        if (typeof f.seq === 'number') conn.offlineSeq = f.seq;
        // falls through
      case 'message':
        L.receive(conn, f.message.id, f.type);
        if (typeof f.seq === 'number') conn.unconfirmed.push([f.seq, f.message.id]);
        this.receiptSoon(conn);
        break;
      case 'session':
        this.receiptSoon(conn);
        break;
      case 'offline_messages_complete':
        conn.complete = true;
        if (this.kind === 'receipt') {
          const seq = typeof f.seq === 'number' ? f.seq : 0;
          if (seq !== conn.offlineSeq) {
            L.protocol.push(`connection ${conn.n}: offline_messages_complete seq ${f.seq}, ` +
              `the last offline frame had ${conn.offlineSeq}`);
          }
          this.sendReceipt(conn, seq);
        }
        conn.ready.resolve(conn);
        break;
      case 'ping':	// the server's liveness check; the guide's client does not know it
        if (this.kind === 'receipt') this.send(conn, { type: 'pong' });
        break;
      case 'pong':
        this.onPong(conn);
        break;
      case 'error':
        L.errors.push(`${this.name}, connection ${conn.n}: ${f.code} ${f.message}`);
        break;
      default:
        break;
    }
  }

  send(conn, obj) {
    if (conn.ws.readyState !== WebSocket.OPEN) return false;
    conn.ws.send(JSON.stringify(obj));
    return true;
  }

  // A receipt once frames stop coming for a moment, or after a while in a stream.
  receiptSoon(conn) {
    if (this.kind !== 'receipt' || conn.lastSeq <= conn.receiptSent) return;
    clearTimeout(conn.receiptTimer);
    const now = Date.now();
    if (conn.batchStart === 0) conn.batchStart = now;
    const wait = now - conn.batchStart >= RECEIPT_MAX_WAIT_MS ? 0 : RECEIPT_QUIET_MS;
    conn.receiptTimer = setTimeout(() => this.sendReceipt(conn, conn.lastSeq), wait);
  }

  // The receipt, then a ping: its pong proves the server read the receipt.
  sendReceipt(conn, seq) {
    clearTimeout(conn.receiptTimer);
    conn.batchStart = 0;
    if (seq < conn.receiptSent || !this.send(conn, { type: 'received', seq })) return;
    conn.receiptSent = seq;
    const ids = [];
    conn.unconfirmed = conn.unconfirmed.filter(([s, id]) => (s <= seq ? (ids.push(id), false) : true));
    this.sendPing(conn, ids);
  }

  sendPing(conn, ids) {
    if (this.send(conn, { type: 'ping' })) conn.pings.push({ at: Date.now(), ids });
  }

  onPong(conn) {
    const p = conn.pings.shift();
    if (p === undefined) {
      this.ledger.protocol.push(`connection ${conn.n}: a pong for no ping`);
      return;
    }
    if (p.ids.length > 0) {
      const proof = { at: tick(), conn: conn.n, time: Date.now() };
      for (const id of p.ids) if (!this.ledger.confirmedAt.has(id)) this.ledger.confirmedAt.set(id, proof);
    }
  }

  // The receipt client's own ping; no pong within the timeout: the network is gone.
  ping(conn) {
    if (conn.pings.length > 0 && Date.now() - conn.pings[0].at > CLIENT_PING_TIMEOUT_MS) {
      this.pingTimeouts += 1;
      conn.ws.terminate();
      return;
    }
    this.sendPing(conn, []);
  }

  onClose(conn, code) {
    clearInterval(conn.pingTimer);
    clearTimeout(conn.receiptTimer);
    this.closeCodes.set(code, (this.closeCodes.get(code) || 0) + 1);
    if (conn.cleanClosing && code === 1000 && this.kind === 'guide') {
      const at = tick();
      const now = Date.now();
      for (const id of conn.ids) {
        if (this.ledger.cleanAt.has(id)) continue;
        this.ledger.cleanAt.set(id, { at, conn: conn.n, closedAt: now, lived: now - conn.openedAt,
          before: now - conn.receivedAt.get(id) });
      }
    }
    if (!conn.complete) {
      conn.ready.reject(new Error(`${this.name}: connection ${conn.n} closed (${code}) before ` +
        `offline_messages_complete${conn.error ? `: ${conn.error}` : ''}`));
    }
    conn.onClosed(code);
    if (this.conn === conn) this.conn = null;
    if (this.auto && !this.stopped && !conn.cleanClosing) this.reconnectLater();
  }

  reconnectLater() {
    const delay = this.kind === 'receipt' ? rand(100, 150) : Math.min(100 * 2 ** this.attempt, 1000);
    this.attempt += 1;
    clearTimeout(this.reconnectTimer);
    this.reconnectTimer = setTimeout(() => {
      if (this.auto && !this.stopped && this.conn === null) this.open().catch(() => {});
    }, delay);
  }

  /** Close the current connection with 1000; resolves once it is closed. */
  async closeClean(timeoutMs = 2000) {
    const conn = this.conn;
    if (conn === null) return;
    conn.cleanClosing = true;
    this.ledger.closeStarts.push(Date.now());
    if (conn.ws.readyState === WebSocket.OPEN) conn.ws.close(1000, 'Client closed connection');
    else conn.ws.terminate();
    // A black-holed connection never answers the close: drop it then.
    const timer = setTimeout(() => conn.ws.terminate(), timeoutMs);
    await conn.closed;
    clearTimeout(timer);
  }

  /** The client's network gave up on this connection (it is gone without a close). */
  terminate(conn = this.conn) {
    if (conn !== null && conn === this.conn) conn.ws.terminate();
  }

  async stop() {
    this.stopped = true;
    clearTimeout(this.reconnectTimer);
    await this.closeClean(1000);
  }
}

// ---------------------------------------------------------------------------
// A sender: an outbox sent WINDOW at a time, one new message per pace ms,
// resent after each reconnect and after RESEND_MS without an ack (the same
// clientMsgId stores nothing new), on its own connection straight to the
// stack.

class Outbox {
  constructor(live, token, name, paceMs = 10) {
    this.live = live;
    this.token = token;
    this.name = name;
    this.paceMs = paceMs;
    this.plan = [];
    this.out = new Map();	// clientMsgId -> {sessionId, text, sentAt}
    this.acked = new Map();	// clientMsgId -> message id
    this.bySession = new Map();	// sessionId -> Set of acked message ids
    this.failed = [];
    this.count = 0;
    this.ws = null;
    this.ready = false;
    this.stopped = false;
    this.pump = setInterval(() => this.step(), paceMs);
    this.open();
  }

  open() {
    if (this.stopped) return;
    const ws = new WebSocket(direct(this.live, this.token)(), { handshakeTimeout: 5000 });
    this.ws = ws;
    ws.on('message', (data) => this.onFrame(JSON.parse(data.toString())));
    ws.on('error', () => {});
    ws.on('close', () => {
      this.ready = false;
      if (this.ws === ws) this.ws = null;
      if (!this.stopped) setTimeout(() => this.open(), 100);
    });
  }

  onFrame(f) {
    if (f.type === 'offline_messages_complete') {
      this.ready = true;
      for (const [cmid, m] of this.out) this.transmit(cmid, m);
    } else if (f.type === 'ack') {
      this.out.delete(f.clientMsgId);
      this.acked.set(f.clientMsgId, f.message.id);
      if (!ackedAt.has(f.message.id)) ackedAt.set(f.message.id, Date.now());
      this.bySession.get(f.message.sessionId).add(f.message.id);
    } else if (f.type === 'error' && f.clientMsgId) {
      const m = this.out.get(f.clientMsgId);
      if (m === undefined) return;
      if (f.code === 'RATE_LIMITED') {
        m.sentAt = Date.now() - RESEND_MS + 1000;	// again in a second
      } else {
        this.failed.push(`${f.clientMsgId}: ${f.code} ${f.message}`);
        this.out.delete(f.clientMsgId);
      }
    }
  }

  transmit(cmid, m) {
    m.sentAt = Date.now();
    const frame = { type: 'message', sessionId: m.sessionId, text: m.text, clientMsgId: cmid };
    this.ws.send(JSON.stringify(frame));
  }

  step() {
    if (!this.ready || this.ws === null || this.ws.readyState !== WebSocket.OPEN) return;
    const now = Date.now();
    for (const [cmid, m] of this.out) if (now - m.sentAt > RESEND_MS) this.transmit(cmid, m);
    if (this.plan.length > 0 && this.out.size < WINDOW) {
      const m = this.plan.shift();
      this.out.set(m.cmid, m);
      this.transmit(m.cmid, m);
    }
  }

  /** Plan n more messages to the session. */
  enqueue(sessionId, n) {
    if (!this.bySession.has(sessionId)) this.bySession.set(sessionId, new Set());
    for (let i = 0; i < n; i++) {
      this.count += 1;
      const cmid = `${this.name}-${this.count}`;
      this.plan.push({ cmid, sessionId, text: `${this.name} message ${this.count}`, sentAt: 0 });
    }
  }

  idle() { return this.plan.length === 0 && this.out.size === 0; }

  ackedIds(sessionId) { return [...(this.bySession.get(sessionId) || [])]; }

  async stop() {
    this.stopped = true;
    clearInterval(this.pump);
    if (this.ws !== null) {
      const ws = this.ws;
      const closed = new Promise((resolve) => ws.once('close', resolve));
      if (ws.readyState === WebSocket.OPEN) ws.close(1000);
      else ws.terminate();
      await Promise.race([closed, sleep(1000)]);
    }
  }
}

// ---------------------------------------------------------------------------
// Checking a ledger against what the senders had acked.

// The last lines of the servers' output that report a problem, for a failure's message.
function serverProblems(live) {
  const lines = live.output().split('\n').filter((l) => / chat-\S+ (error|warn|info) /.test(l));
  return lines.slice(-30).join('\n');
}

// Wait until every ledger has its acked messages, or nothing new came for
// quietMs (a ledger that may lose some), or maxMs passed.
async function settle(pairs, maxMs, quietMs = 1500) {
  const until = Date.now() + maxMs;
  let last = -1;
  let lastChange = Date.now();
  for (;;) {
    const done = pairs.every(([ledger, ids]) => ledger.missing(ids).length === 0);
    const total = pairs.reduce((n, [ledger]) => n + ledger.copies(), 0);
    if (total !== last) { last = total; lastChange = Date.now(); }
    if (done || Date.now() >= until) return;
    if (pairs.every(([ledger, ids, mayLose]) => mayLose || ledger.missing(ids).length === 0) &&
      Date.now() - lastChange >= quietMs) return;
    await sleep(100);
  }
}

// No entry in the list; else fail with how many and the first ten.
function assertNone(list, what, why) {
  if (list.length === 0) return;
  const shown = list.slice(0, 10).map((x) => `  ${x}`).join('\n');
  assert.fail(`${what}: ${list.length}${list.length > 10 ? ', the first ten' : ''}:\n${shown}${why}`);
}

function checkReceipt(live, ledger, ids) {
  const why = `\n${ledger.summary(ids)}\nserver log:\n${serverProblems(live)}`;
  assertNone(ledger.missing(ids), 'acked messages the receipt client never received', why);
  assertNone(ledger.offeredAgain, 'confirmed messages offered to the receipt client again', why);
  assertNone(ledger.twiceOnOneConn, 'messages twice on one connection', why);
  assertNone(ledger.protocol, 'seq rules broken', why);
  assertNone(ledger.errors, 'error frames to the receipt client', why);
}

// Whether message id was sent to the user about when one of their connections began to close.
function crossedClose(ledger, id) {
  const at = ackedAt.get(id);
  return at !== undefined &&
    ledger.closeStarts.some((c) => at >= c - CROSSED_BEFORE_MS && at <= c + CROSSED_AFTER_MS);
}

function checkGuide(live, ledger, ids, { mayLose = false, t = null } = {}) {
  const why = `\n${ledger.offeredLong} of them had reached the client ${SETTLED_MS} ms or more ` +
    `before it closed\n${ledger.summary(ids)}\nserver log:\n${serverProblems(live)}`;
  const missing = ledger.missing(ids);
  const crossed = missing.filter((id) => crossedClose(ledger, id));
  if (crossed.length > 0 && t !== null) {
    t.diagnostic(`${ledger.name}: ${crossed.length} lost that crossed a clean close (${crossed.join(', ')})`);
  }
  if (!mayLose) {
    assertNone(missing.filter((id) => !crossedClose(ledger, id)),
      'acked messages the guide client never received', why);
  }
  assertNone(ledger.offeredAfterClean, 'messages offered to the guide client again after a clean close', why);
  assertNone(ledger.twiceOnOneConn, 'messages twice on one connection', why);
  assertNone(ledger.errors, 'error frames to the guide client', why);
}

function codes(device) {
  return [...device.closeCodes].map(([code, n]) => `${code} x${n}`).join(', ') || 'none';
}

module.exports = {
  RECEIPT_QUIET_MS, CLIENT_PING_TIMEOUT_MS, rand, waitFor, viaProxy, direct,
  Ledger, Device, Outbox, serverProblems, settle, checkReceipt, checkGuide, codes,
};
