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
// The two kinds of receiving client, and what each must and must not get,
// are described in fault-clients.js.

const { describe, it, before, after } = require('node:test');
const assert = require('node:assert/strict');
const { spawn } = require('node:child_process');
const fs = require('node:fs');
const path = require('node:path');
const { ROOT, BUILD_DIR, startStack, killGroup, freePort, runProgram, sleep } = require('./stack');
const { api, newCustomer, newAgent } = require('./ws-client');
const { startProxy } = require('./fault-proxy');
const {
  RECEIPT_QUIET_MS, CLIENT_PING_TIMEOUT_MS, rand, waitFor, viaProxy, direct,
  Ledger, Device, Outbox, serverProblems, settle, checkReceipt, checkGuide, codes,
} = require('./fault-clients');

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

const RESTART_TIMEOUT_MS = 20000;

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

// A receipt receiver and a guide receiver behind a new proxy, each the
// agent or the customer (opts.receivers) of a pair of its own, with the
// pair's other user as its sender. Everything is stopped when the test
// ends: the senders first, then the receivers, the proxy last.
// opts: receivers ('agent', the default, or 'customer'); tag (the senders
// are tag-receipt and tag-guide); paceMs (the senders' pace); auto (the
// receivers' reconnecting); open (connect the receivers before the
// senders start); clients (a receiver's Devices, default 1) sharing
// tokens logins of their agent in turn.
// Resolves to {scope, proxy, devices} and, r on the receipt side and g on
// the guide's, the pairs pr and pg, the Ledgers lr and lg, the first
// Device of each side dr and dg, and the Outboxes sr and sg.
async function twoReceivers(t, live, opts) {
  const { receivers = 'agent', tag, paceMs, auto, open = false, clients = 1, tokens = 1 } = opts;
  const senders = receivers === 'agent' ? 'customer' : 'agent';
  const scope = scopeOf(t);
  const proxy = await startProxy(live.port);
  scope.add(() => proxy.close());
  const pr = await pairUp(live);
  const pg = await pairUp(live);
  const many = clients > 1 ? ` (${clients} clients)` : '';
  const lr = new Ledger(`receipt ${receivers}${many}`);
  const lg = new Ledger(`guide ${receivers}${many}`);
  const devices = [];
  for (const [kind, p, ledger] of [['receipt', pr, lr], ['guide', pg, lg]]) {
    const logins = [p[receivers].token];
    while (logins.length < tokens) logins.push(await loginAgain(live, p[receivers]));
    for (let i = 0; i < clients; i++) {
      const d = new Device(kind, { name: clients > 1 ? `${kind} client ${i}` : ledger.name, ledger, auto,
        url: viaProxy(proxy, logins[i % tokens]) });
      devices.push(d);
      scope.add(() => d.stop());
    }
  }
  if (open) await Promise.all(devices.map((d) => d.open()));
  const sr = new Outbox(live, pr[senders].token, `${tag}-receipt`, paceMs);
  const sg = new Outbox(live, pg[senders].token, `${tag}-guide`, paceMs);
  scope.add(() => sr.stop());
  scope.add(() => sg.stop());
  return { scope, proxy, devices, pr, pg, lr, lg, dr: devices[0], dg: devices[clients], sr, sg };
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
    const { scope, proxy, pr, pg, lr, lg, dr, dg, sr, sg } =
      await twoReceivers(t, live, { tag: 'bh', paceMs: 20, open: true });
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
    const { proxy, pr, pg, lr, lg, dr, dg, sr, sg } =
      await twoReceivers(t, live, { receivers: 'customer', tag, open: true });
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
    checkGuide(live, lg, sg.ackedIds(pg.sessionId), { t });
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
    const { pr, pg, lr, lg, dr, dg, sr, sg } = await twoReceivers(t, live, { tag, auto: false });

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
    checkGuide(live, lg, sg.ackedIds(pg.sessionId), { t });
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
    const { proxy, devices, pr, pg, lr, lg, sr, sg } =
      await twoReceivers(t, live, { tag: 'storm', auto: false, clients: CLIENTS, tokens: TOKENS });

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
    checkGuide(live, lg, sg.ackedIds(pg.sessionId), { t });
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
