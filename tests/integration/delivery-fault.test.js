'use strict';
// Delivery under faults: a loopback proxy the test controls sits between
// the receiving clients and the server, and for each kind of client the
// messages the sender had acked are counted against what the receiving
// user got, across a black-holed connection (no FIN, no RST), kill -9 of a
// handler, of websocketd and of the web server, a clean close right after
// the offline messages or a second later, and a storm of reconnections. Then presence: an
// agent whose only connection is black-holed stops counting as online,
// and its active session goes back to the queue.
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

const { describe, it, before, after } = require('node:test');
const assert = require('node:assert/strict');
const { spawn } = require('node:child_process');
const fs = require('node:fs');
const path = require('node:path');
const WebSocket = require('ws');
const { ROOT, BUILD_DIR, startStack, killGroup, freePort, runProgram, sleep } = require('./stack');
const { api, newCustomer, newAgent } = require('./ws-client');
const { startProxy } = require('./fault-proxy');

const MAIN_ENV = {
  CHAT_WS_RATE: '0',
  CHAT_CUSTOMER_CREATE_LIMIT: '0',
  CHAT_AGENT_MAX_ACTIVE: '10000',
  CHAT_WS_IDLE_PING: '2',
  CHAT_PRESENCE_STALE: '6',
  // Agents of these tests are offline for seconds while the web server
  // restarts: their sessions stay theirs.
  CHAT_REQUEUE_AFTER: '0',
};
const PRESENCE_ENV = { ...MAIN_ENV, CHAT_REQUEUE_AFTER: '3' };
const IDLE_PING_S = Number(MAIN_ENV.CHAT_WS_IDLE_PING);
const STALE_S = Number(MAIN_ENV.CHAT_PRESENCE_STALE);
const REQUEUE_S = Number(PRESENCE_ENV.CHAT_REQUEUE_AFTER);

const RECEIPT_QUIET_MS = 100;	// a receipt after this long without a frame
const RECEIPT_MAX_WAIT_MS = 500;	// or at the latest this long after the first unconfirmed
const CLIENT_PING_MS = 1000;
const CLIENT_PING_TIMEOUT_MS = 3000;
const WINDOW = 10;	// messages a sender has unacked at once
const RESEND_MS = 2000;
const RESTART_TIMEOUT_MS = 20000;
// A frame that reached a client this long before it began to close was
// surely not in flight any more (failures say how many were).
const SETTLED_MS = 300;
// How soon after a clean close the closed connection's end is surely
// recorded (its handler reads the end of its input, and marks).
const RECORDED_MS = 100;

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

// Cleanups of one test, run in reverse order however it ends.
function scopeOf(t) {
  const fns = [];
  t.after(async () => {
    for (const fn of fns.reverse()) {
      try { await fn(); } catch (e) { /* the next one still runs */ }
    }
  });
  return { add: (fn) => fns.push(fn) };
}

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
// The stack, and the stack again after its web server was killed:
// server-config/run ends with its web server, so the test starts it again
// on the same port and database, as a service manager would.

function groupProcesses(pgid) {
  const found = [];
  for (const name of fs.readdirSync('/proc')) {
    if (!/^\d+$/.test(name)) continue;
    try {
      const stat = fs.readFileSync(`/proc/${name}/stat`, 'utf8');
      const close = stat.lastIndexOf(')');
      const comm = stat.slice(stat.indexOf('(') + 1, close);
      const fields = stat.slice(close + 2).split(' ');
      if (Number(fields[2]) === pgid) found.push({ pid: Number(name), comm });
    } catch (e) { /* gone already */ }
  }
  return found;
}

function alive(pid) {
  try {
    process.kill(pid, 0);
    return true;
  } catch (e) {
    return false;
  }
}

function runEnv(overrides) {
  const env = {};
  for (const [k, v] of Object.entries(process.env)) if (!k.startsWith('CHAT_')) env[k] = v;
  return { ...env, CHAT_BUILD_DIR: BUILD_DIR, CHAT_DEMO_AGENT: '0', ...overrides };
}

class LiveStack {
  constructor(stack, env) {
    this.stack = stack;
    this.env = env;
    this.port = stack.port;
    this.db = stack.db;
    this.pgid = stack.pid;
    this.child = null;	// a server-config/run this test started
    this.childOutput = [];
    this.agents = new Map();	// every agent pairUp made, by id: for transfers
  }

  chatctl(args, stdin) { return this.stack.chatctl(args, stdin); }

  output() { return this.stack.output() + Buffer.concat(this.childOutput).toString('utf8'); }

  processes(comm) { return groupProcesses(this.pgid).filter((p) => p.comm === comm).map((p) => p.pid); }

  webServerPids() {
    return this.processes(process.env.SERVER === 'apache' ? 'apache2' : 'lighttpd');
  }

  /** The live chat-ws handlers of these users, from the connections table. */
  async handlerPids(userType, ids) {
    const sql = `SELECT pid FROM connections WHERE user_type = '${userType}' ` +
      `AND user_id IN (${ids.join(',')});`;
    const r = await runProgram('sqlite3', ['-cmd', '.timeout 5000', this.db, sql]);
    assert.equal(r.code, 0, `sqlite3: ${r.stderr}`);
    return r.stdout.split('\n').filter((l) => /^\d+$/.test(l)).map(Number).filter((pid) => {
      try {
        return fs.readFileSync(`/proc/${pid}/comm`, 'utf8').trim() === 'chat-ws';
      } catch (e) {
        return false;
      }
    });
  }

  /** kill -9 every process of the web server; resolves once server-config/run has ended. */
  async killWebServer() {
    const pids = this.webServerPids();
    assert.ok(pids.length > 0, 'no web server process found');
    for (const pid of pids) process.kill(pid, 'SIGKILL');
    const gone = await waitFor(() => !alive(this.pgid), 10000);
    assert.ok(gone, 'server-config/run did not end after its web server was killed');
    // What a service manager would not leave behind either.
    killGroup(this.pgid, 'SIGKILL');
    return pids;
  }

  /** Start server-config/run again on the same database (and port, if it is free). */
  async restart() {
    let lastOutput = '';
    for (let attempt = 1; attempt <= 3; attempt++) {
      const port = attempt === 1 ? this.port : await freePort();
      const output = [];
      const child = spawn(path.join(ROOT, 'server-config', 'run'), [], {
        cwd: ROOT,
        detached: true,
        env: runEnv({ ...this.env, PORT: String(port), CHAT_DB: this.db }),
        stdio: ['ignore', 'pipe', 'pipe'],
      });
      child.stdout.on('data', (d) => output.push(d));
      child.stderr.on('data', (d) => output.push(d));
      const exited = new Promise((resolve) => child.on('exit', resolve));
      const marker = `serving http://127.0.0.1:${port}/`;
      let ended = false;
      exited.then(() => { ended = true; });
      const said = () => Buffer.concat(output).toString('utf8').includes(marker);
      await waitFor(() => ended || said(), RESTART_TIMEOUT_MS);
      lastOutput = Buffer.concat(output).toString('utf8');
      if (!ended && lastOutput.includes(marker)) {
        this.child = child;
        this.childExited = exited;
        this.childOutput = output;
        this.pgid = child.pid;
        this.port = port;
        process.once('exit', () => killGroup(child.pid, 'SIGKILL'));
        return;
      }
      killGroup(child.pid, 'SIGKILL');
      await exited;
      if (!/already in use|EADDRINUSE/i.test(lastOutput)) break;
    }
    throw new Error(`server-config/run did not start again:\n${lastOutput}`);
  }

  /** Stop what this test started; the stack itself is stopped by stack.stop(). */
  async stop() {
    if (this.child === null) return;
    killGroup(this.child.pid, 'SIGTERM');
    if ((await Promise.race([this.childExited, sleep(5000).then(() => 'timeout')])) === 'timeout') {
      killGroup(this.child.pid, 'SIGKILL');
      await this.childExited;
    }
    killGroup(this.child.pid, 'SIGKILL');
    this.child = null;
  }
}

// The last lines of the servers' output that report a problem, for a failure's message.
function serverProblems(live) {
  const lines = live.output().split('\n').filter((l) => / chat-\S+ (error|warn|info) /.test(l));
  return lines.slice(-30).join('\n');
}

// ---------------------------------------------------------------------------
// Users and sessions.

// A new agent and a new customer with an active session between them,
// whatever agent routing picked (a queued session is claimed, another
// agent's is transferred).
async function pairUp(live) {
  const agent = await newAgent(live);
  live.agents.set(agent.id, agent);
  const customer = await newCustomer(live);
  const s = await api(live, 'POST', '/api/v1/sessions', { token: customer.token, body: {} });
  assert.equal(s.status, 201, `new session: ${s.status} ${JSON.stringify(s.json)}`);
  if (s.json.agentId !== agent.id) {
    const owner = live.agents.get(s.json.agentId);
    const r = s.json.agentId === null ?
      await api(live, 'POST', `/api/v1/sessions/${s.json.id}/claim`, { token: agent.token }) :
      await api(live, 'POST', `/api/v1/sessions/${s.json.id}/transfer`,
        { token: owner.token, body: { agentId: agent.id } });
    assert.equal(r.status, 200,
      `session ${s.json.id} to agent ${agent.id}: ${r.status} ${JSON.stringify(r.json)}`);
  }
  return { agent, customer, sessionId: s.json.id };
}

async function loginAgain(live, agent) {
  const body = { username: agent.username, password: 'password123' };
  const r = await api(live, 'POST', '/api/v1/public/login', { body });
  assert.equal(r.status, 200, `login ${agent.username}: ${r.status}`);
  return r.json.token;
}

// Where a client connects: through the proxy, or straight to the stack (its port now).
const wsUrl = (port, token) => `ws://127.0.0.1:${port}/ws/chat?token=${encodeURIComponent(token)}`;
const viaProxy = (proxy, token) => () => wsUrl(proxy.port, token);
const direct = (live, token) => () => wsUrl(live.port, token);

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

function checkGuide(live, ledger, ids, { mayLose = false } = {}) {
  const why = `\n${ledger.offeredLong} of them had reached the client ${SETTLED_MS} ms or more ` +
    `before it closed\n${ledger.summary(ids)}\nserver log:\n${serverProblems(live)}`;
  if (!mayLose) assertNone(ledger.missing(ids), 'acked messages the guide client never received', why);
  assertNone(ledger.offeredAfterClean, 'messages offered to the guide client again after a clean close', why);
  assertNone(ledger.twiceOnOneConn, 'messages twice on one connection', why);
  assertNone(ledger.errors, 'error frames to the guide client', why);
}

function codes(device) {
  return [...device.closeCodes].map(([code, n]) => `${code} x${n}`).join(', ') || 'none';
}

// ---------------------------------------------------------------------------

describe('delivery under faults', () => {
  let stack;
  let live;

  before(async () => {
    stack = await startStack(MAIN_ENV);
    live = new LiveStack(stack, MAIN_ENV);
  });
  after(async () => {
    if (live) await live.stop();
    if (stack) await stack.stop();
  });

  it('black hole: the receipt client loses nothing and is not offered what it confirmed', async (t) => {
    const N = 300;
    const scope = scopeOf(t);
    const proxy = await startProxy(live.port);
    scope.add(() => proxy.close());
    const pr = await pairUp(live);
    const pg = await pairUp(live);
    const lr = new Ledger('receipt agent');
    const lg = new Ledger('guide agent');
    const dr = new Device('receipt',
      { name: 'receipt agent', ledger: lr, url: viaProxy(proxy, pr.agent.token) });
    const dg = new Device('guide',
      { name: 'guide agent', ledger: lg, url: viaProxy(proxy, pg.agent.token) });
    scope.add(() => dr.stop());
    scope.add(() => dg.stop());
    await Promise.all([dr.open(), dg.open()]);
    const sr = new Outbox(live, pr.customer.token, 'bh-receipt', 20);
    const sg = new Outbox(live, pg.customer.token, 'bh-guide', 20);
    scope.add(() => sr.stop());
    scope.add(() => sg.stop());
    sr.enqueue(pr.sessionId, N);
    sg.enqueue(pg.sessionId, N);

    assert.ok(await waitFor(() => sr.acked.size >= N / 4 && sg.acked.size >= N / 4, 20000), 'messages flow');
    const linkR = proxy.linkFor(dr.conn.localPort);
    const linkG = proxy.linkFor(dg.conn.localPort);
    assert.ok(linkR !== null && linkG !== null, 'both receivers go through the proxy');
    linkR.blackhole();
    linkG.blackhole();
    const guideConn = dg.conn;
    const holedAt = Date.now();
    // The guide's client has no ping of its own: its system gives up on
    // the connection instead, here as late as the receipt client's ping.
    const giveUp = setTimeout(() => dg.terminate(guideConn), CLIENT_PING_TIMEOUT_MS);
    scope.add(() => clearTimeout(giveUp));

    assert.ok(await waitFor(() => sr.idle() && sg.idle(), 40000), 'every message acked');
    await settle([[lr, sr.ackedIds(pr.sessionId)], [lg, sg.ackedIds(pg.sessionId), true]], 15000);
    const lost = lg.missing(sg.ackedIds(pg.sessionId));
    t.diagnostic(lr.summary(sr.ackedIds(pr.sessionId)));
    t.diagnostic(`receipt client: ${dr.pingTimeouts} ping time-outs; close codes ${codes(dr)}; ` +
      `reconnected ${lr.connections - 1} times`);
    t.diagnostic(`${lg.summary(sg.ackedIds(pg.sessionId))} (it may lose what was written into the black ` +
      `hole and counted delivered after the grace period)`);
    if (lost.length > 0) {
      t.diagnostic(`guide client lost messages ${lost[0]}..${lost[lost.length - 1]}, ` +
        `${lost.length} of the ${N} acked; black hole at ${new Date(holedAt).toISOString()}`);
    }
    assert.ok(dr.pingTimeouts >= 1, 'the receipt client noticed the black hole by its ping');
    assert.ok(lr.connections >= 2 && lg.connections >= 2, 'both reconnected');
    checkReceipt(live, lr, sr.ackedIds(pr.sessionId));
    checkGuide(live, lg, sg.ackedIds(pg.sessionId), { mayLose: true });
  });

  // Customers receive through the proxy while their agents send; fault()
  // strikes at a third of the messages (and again at two thirds when twice).
  async function underFault(t, tag, fault, { twice = false, N = 150 } = {}) {
    const scope = scopeOf(t);
    const proxy = await startProxy(live.port);
    scope.add(() => proxy.close());
    const pr = await pairUp(live);
    const pg = await pairUp(live);
    const lr = new Ledger('receipt customer');
    const lg = new Ledger('guide customer');
    const dr = new Device('receipt',
      { name: 'receipt customer', ledger: lr, url: viaProxy(proxy, pr.customer.token) });
    const dg = new Device('guide',
      { name: 'guide customer', ledger: lg, url: viaProxy(proxy, pg.customer.token) });
    scope.add(() => dr.stop());
    scope.add(() => dg.stop());
    await Promise.all([dr.open(), dg.open()]);
    const sr = new Outbox(live, pr.agent.token, `${tag}-receipt`);
    const sg = new Outbox(live, pg.agent.token, `${tag}-guide`);
    scope.add(() => sr.stop());
    scope.add(() => sg.stop());
    sr.enqueue(pr.sessionId, N);
    sg.enqueue(pg.sessionId, N);
    const ctx = { proxy, customers: [pr.customer.id, pg.customer.id] };
    for (const share of twice ? [1 / 3, 2 / 3] : [1 / 3]) {
      const flowing = await waitFor(() => sr.acked.size >= N * share && sg.acked.size >= N * share, 20000);
      assert.ok(flowing, 'messages flow');
      await fault(ctx);
    }
    assert.ok(await waitFor(() => sr.idle() && sg.idle(), 40000),
      `every message acked (${sr.acked.size} and ${sg.acked.size} of ${N}; ` +
      `failed: ${[...sr.failed, ...sg.failed]})`);
    await settle([[lr, sr.ackedIds(pr.sessionId)], [lg, sg.ackedIds(pg.sessionId)]], 15000);
    t.diagnostic(`${lr.summary(sr.ackedIds(pr.sessionId))}; close codes ${codes(dr)}`);
    t.diagnostic(`${lg.summary(sg.ackedIds(pg.sessionId))}; close codes ${codes(dg)}`);
    assert.ok(lr.connections >= 2 && lg.connections >= 2, 'the fault ended the receivers\' connections');
    checkReceipt(live, lr, sr.ackedIds(pr.sessionId));
    checkGuide(live, lg, sg.ackedIds(pg.sessionId));
  }

  it('kill -9 of the receivers\' handlers: nothing lost', async (t) => {
    let killed = 0;
    await underFault(t, 'handler', async ({ customers }) => {
      let pids = [];
      for (let i = 0; i < 20 && pids.length < 2; i++) {
        pids = await live.handlerPids('customer', customers);
        if (pids.length < 2) await sleep(100);
      }
      assert.ok(pids.length >= 2, `the receivers' handlers: ${pids}`);
      for (const pid of pids) process.kill(pid, 'SIGKILL');
      killed += pids.length;
    }, { twice: true });
    t.diagnostic(`killed ${killed} handlers`);
  });

  it('kill -9 of websocketd: it is started again and nothing is lost', async (t) => {
    let before = [];
    await underFault(t, 'websocketd', async () => {
      before = live.processes('websocketd');
      assert.equal(before.length, 1, `one websocketd: ${before}`);
      process.kill(before[0], 'SIGKILL');
    });
    const now = live.processes('websocketd');
    assert.ok(now.length === 1 && now[0] !== before[0], `a new websocketd runs (${before} -> ${now})`);
  });

  it('kill -9 of the web server: the stack is started again and nothing is lost', async (t) => {
    let killed = [];
    await underFault(t, 'webserver', async ({ proxy }) => {
      killed = await live.killWebServer();
      await live.restart();
      proxy.target = live.port;
    });
    const server = process.env.SERVER === 'apache' ? 'apache2' : 'lighttpd';
    t.diagnostic(`killed ${server} (${killed.length} processes); ` +
      `server-config/run started again on port ${live.port}`);
  });

  // Each round: messages stored while the agents are away, then the
  // agents connect, take them, stay `ms` with `live` messages sent to them
  // meanwhile (a burst, or at 10 ms a message until the close) and close
  // with 1000. A last connection stays until everything is in.
  async function closeRounds(t, tag, rounds) {
    const scope = scopeOf(t);
    const proxy = await startProxy(live.port);
    scope.add(() => proxy.close());
    const pr = await pairUp(live);
    const pg = await pairUp(live);
    const lr = new Ledger('receipt agent');
    const lg = new Ledger('guide agent');
    const dr = new Device('receipt',
      { name: 'receipt agent', ledger: lr, url: viaProxy(proxy, pr.agent.token), auto: false });
    const dg = new Device('guide',
      { name: 'guide agent', ledger: lg, url: viaProxy(proxy, pg.agent.token), auto: false });
    scope.add(() => dr.stop());
    scope.add(() => dg.stop());
    const sr = new Outbox(live, pr.customer.token, `${tag}-receipt`);
    const sg = new Outbox(live, pg.customer.token, `${tag}-guide`);
    scope.add(() => sr.stop());
    scope.add(() => sg.stop());

    const pairs = [[dr, sr, pr], [dg, sg, pg]];
    for (const { ms, live: n = 0 } of rounds) {
      for (const [, s, p] of pairs) s.enqueue(p.sessionId, 10);
      assert.ok(await waitFor(() => sr.idle() && sg.idle(), 10000), 'offline messages stored');
      await Promise.all(pairs.map(async ([d, s, p]) => {
        await d.open();
        s.enqueue(p.sessionId, n);
        await sleep(ms);
        await d.closeClean();
      }));
    }
    for (const [, s, p] of pairs) s.enqueue(p.sessionId, 10);
    assert.ok(await waitFor(() => sr.idle() && sg.idle(), 10000), 'every message acked');
    await Promise.all([dr.open(), dg.open()]);
    await settle([[lr, sr.ackedIds(pr.sessionId)], [lg, sg.ackedIds(pg.sessionId)]], 10000);
    await sleep(RECEIPT_QUIET_MS * 3);
    t.diagnostic(lr.summary(sr.ackedIds(pr.sessionId)));
    t.diagnostic(lg.summary(sg.ackedIds(pg.sessionId)));
    checkReceipt(live, lr, sr.ackedIds(pr.sessionId));
    checkGuide(live, lg, sg.ackedIds(pg.sessionId));
  }

  it('a clean close a second after the offline messages: nothing offered twice, nothing lost', async (t) => {
    await closeRounds(t, 'close-late', [{ ms: 1000, live: 5 }, { ms: 1500, live: 150 }]);
  });

  it('a clean close at once after the offline messages: nothing offered twice, nothing lost', async (t) => {
    await closeRounds(t, 'close-soon', [{ ms: 0 }, { ms: 50 }]);
  });

  it('a reconnect storm of 20 clients of one user: nothing lost, nothing offered twice', async (t) => {
    const N = 300;
    const TOKENS = 4;	// 5 clients a token: under the cap of 10 while old connections linger
    const CLIENTS = 20;
    const scope = scopeOf(t);
    const proxy = await startProxy(live.port);
    scope.add(() => proxy.close());
    const pr = await pairUp(live);
    const pg = await pairUp(live);
    const lr = new Ledger('receipt agent (20 clients)');
    const lg = new Ledger('guide agent (20 clients)');
    const devices = [];
    for (const [kind, p, ledger] of [['receipt', pr, lr], ['guide', pg, lg]]) {
      const tokens = [p.agent.token];
      while (tokens.length < TOKENS) tokens.push(await loginAgain(live, p.agent));
      for (let i = 0; i < CLIENTS; i++) {
        const d = new Device(kind, { name: `${kind} client ${i}`, ledger, auto: false,
          url: viaProxy(proxy, tokens[i % TOKENS]) });
        devices.push(d);
        scope.add(() => d.stop());
      }
    }
    const sr = new Outbox(live, pr.customer.token, 'storm-receipt');
    const sg = new Outbox(live, pg.customer.token, 'storm-guide');
    scope.add(() => sr.stop());
    scope.add(() => sg.stop());

    // Each client: connect, stay a moment, then close cleanly or have the
    // proxy cut the connection, and again, until the senders are done.
    let storming = true;
    let cuts = 0;
    let cleans = 0;
    const storm = async (d) => {
      while (storming) {
        try {
          await d.open();
        } catch (e) {
          await sleep(rand(100, 200));
          continue;
        }
        await sleep(rand(100, 600));
        const conn = d.conn;
        if (conn === null) continue;
        if (Math.random() < 0.5) {
          cleans += 1;
          await d.closeClean();
        } else {
          const link = proxy.linkFor(conn.localPort);
          cuts += 1;
          if (link !== null) link.cut();
          else conn.ws.terminate();
          await conn.closed;
        }
        await sleep(rand(0, 100));
      }
    };
    const loops = devices.map(storm);
    sr.enqueue(pr.sessionId, N);
    sg.enqueue(pg.sessionId, N);
    const acked = await waitFor(() => sr.idle() && sg.idle(), 60000);
    storming = false;
    await Promise.all(loops);
    assert.ok(acked, `every message acked (${sr.acked.size} and ${sg.acked.size} of ${N})`);
    // Then every client connects once more and stays.
    for (const d of devices) {
      for (let i = 0; i < 20; i++) {
        try {
          await d.open();
          break;
        } catch (e) {
          await sleep(200);
        }
      }
    }
    await settle([[lr, sr.ackedIds(pr.sessionId)], [lg, sg.ackedIds(pg.sessionId)]], 15000);
    await sleep(RECEIPT_QUIET_MS * 3);
    const refusals = devices.reduce((n, d) => n + d.refusals, 0);
    t.diagnostic(`${cleans} clean closes, ${cuts} cuts, ${refusals} refused handshakes`);
    t.diagnostic(lr.summary(sr.ackedIds(pr.sessionId)));
    t.diagnostic(lg.summary(sg.ackedIds(pg.sessionId)));
    checkReceipt(live, lr, sr.ackedIds(pr.sessionId));
    checkGuide(live, lg, sg.ackedIds(pg.sessionId));
  });
});

// ---------------------------------------------------------------------------

describe('presence after a black hole', () => {
  let stack;
  let live;

  before(async () => {
    stack = await startStack(PRESENCE_ENV);
    live = new LiveStack(stack, PRESENCE_ENV);
  });
  after(async () => {
    if (stack) await stack.stop();
  });

  // A receipt client agent on the proxy that never gives up by itself.
  async function blackholedAgent(scope, proxy) {
    const agent = await newAgent(live);
    const ledger = new Ledger('agent');
    const d = new Device('receipt',
      { name: 'agent', ledger, url: viaProxy(proxy, agent.token), auto: false, ownPing: false });
    scope.add(() => d.stop());
    await d.open();
    // Its receipt (seq 0) has reached the server: it is a receipt client.
    const answered = await waitFor(() => d.conn !== null && d.conn.pings.length === 0, 3000);
    assert.ok(answered, 'the receipt was answered');
    return { agent, device: d };
  }

  it('an agent whose only connection is black-holed stops counting as online', async (t) => {
    const scope = scopeOf(t);
    const proxy = await startProxy(live.port);
    scope.add(() => proxy.close());
    const { agent, device } = await blackholedAgent(scope, proxy);
    const first = await newCustomer(live);
    const s = await api(live, 'POST', '/api/v1/sessions', { token: first.token, body: {} });
    assert.equal(s.json.agentId, agent.id, 'routed to the only agent online');

    proxy.linkFor(device.conn.localPort).blackhole();
    const holedAt = Date.now();
    // The server pings after IDLE_PING s of silence and waits as long
    // again; a connection not seen for STALE s does not count either way.
    const bound = (2 * IDLE_PING_S + STALE_S + 2) * 1000;
    let queuedAfter = null;
    const routed = [];
    while (Date.now() - holedAt < bound) {
      const c = await newCustomer(live);
      const r = await api(live, 'POST', '/api/v1/sessions', { token: c.token, body: {} });
      assert.equal(r.status, 201);
      if (r.json.status === 'queued') {
        queuedAfter = Date.now() - holedAt;
        break;
      }
      assert.equal(r.json.agentId, agent.id);
      routed.push(r.json.id);
      await sleep(500);
    }
    t.diagnostic(`offline after ${queuedAfter} ms (bound ${bound} ms); ` +
      `${routed.length} sessions routed to it before`);
    assert.ok(queuedAfter !== null,
      `a new session still went to the black-holed agent ${bound} ms later\n${serverProblems(live)}`);
    const later = await newCustomer(live);
    const again = await api(live, 'POST', '/api/v1/sessions', { token: later.token, body: {} });
    assert.equal(again.json.status, 'queued', 'and stays queued');
  });

  it('the black-holed agent\'s active session goes back to the queue; the others are told', async (t) => {
    const scope = scopeOf(t);
    const proxy = await startProxy(live.port);
    scope.add(() => proxy.close());
    const { agent, device } = await blackholedAgent(scope, proxy);
    const customer = await newCustomer(live);
    const s = await api(live, 'POST', '/api/v1/sessions', { token: customer.token, body: {} });
    assert.equal(s.json.agentId, agent.id, 'routed to the only agent online');
    const sessionId = s.json.id;

    // The customer and another agent, online: they only answer the
    // server's pings, which keep their connections.
    const watchers = [];
    const other = await newAgent(live);
    for (const [name, token] of [['customer', customer.token], ['other agent', other.token]]) {
      const d = new Device('receipt',
        { name, ledger: new Ledger(name), url: direct(live, token), auto: false, ownPing: false });
      scope.add(() => d.stop());
      d.requeued = null;
      const onFrame = d.onFrame.bind(d);
      d.onFrame = (conn, f) => {
        const requeued = f.type === 'session' && f.session.id === sessionId && f.session.status === 'queued';
        if (requeued && d.requeued === null) {
          d.requeued = { at: Date.now(), session: f.session };
        }
        onFrame(conn, f);
      };
      await d.open();
      watchers.push(d);
    }

    proxy.linkFor(device.conn.localPort).blackhole();
    const holedAt = Date.now();
    const bound = (2 * IDLE_PING_S + STALE_S + REQUEUE_S + 3) * 1000;
    await waitFor(() => watchers.every((d) => d.requeued !== null), bound);
    for (const d of watchers) {
      t.diagnostic(`${d.name}: ${d.requeued === null ? 'no queued session frame' :
        `queued session frame ${d.requeued.at - holedAt} ms after the black hole`} (bound ${bound} ms)`);
    }
    for (const d of watchers) {
      assert.ok(d.requeued !== null, `${d.name} got no session frame putting session ${sessionId} back ` +
        `in the queue within ${bound} ms\n${serverProblems(live)}`);
      assert.equal(d.requeued.session.agentId, null);
    }
    // One transaction requeues it and wakes everyone concerned.
    const [first, second] = watchers.map((d) => d.requeued.at);
    assert.ok(Math.abs(first - second) <= 2000, `the customer heard of it ${first - holedAt} ms and the ` +
      `other agent ${second - holedAt} ms after the black hole: not together`);
    for (const d of watchers) {
      assert.ok(d.conn !== null && d.ledger.connections === 1, `${d.name} kept its connection ` +
        `(closed: ${codes(d)})`);
    }
    const now = await api(live, 'GET', `/api/v1/sessions/${sessionId}`, { token: customer.token });
    assert.equal(now.json.status, 'queued');
    assert.equal(now.json.agentId, null);
  });
});
