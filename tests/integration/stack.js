'use strict';
// The integration tests' own servers: server-config/run (lighttpd with the
// FastCGI API, websocketd and the mail sender chat-mail) on a free port
// with a temporary database, a raw HTTP client that lets a test choose
// every byte it sends, the admin tool, and the assertions every test file
// shares.
//
// Node built-ins only, and only APIs present in Node 18.19.

const assert = require('node:assert/strict');
const { spawn } = require('node:child_process');
const fs = require('node:fs');
const http = require('node:http');
const net = require('node:net');
const os = require('node:os');
const path = require('node:path');

const ROOT = path.resolve(__dirname, '..', '..');
const BUILD_DIR = path.resolve(ROOT, process.env.CHAT_BUILD_DIR || 'build');
const RUN_SCRIPT = path.join(ROOT, 'server-config', 'run');
const CHATCTL = path.join(BUILD_DIR, 'chatctl');

const TOKEN_RE = /^[A-Za-z0-9_-]{43}$/;
const TIME_RE = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z$/;
const READY_TIMEOUT_MS = 15000;
const STOP_TIMEOUT_MS = 5000;
const REQUEST_TIMEOUT_MS = 15000;

const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));

// ---------------------------------------------------------------------------
// Every stack this process started, so that they are stopped on every exit
// path: after() normally, and here when the process ends any other way.
// node:test turns an uncaught error into a failed test and still runs the
// after() hooks; a crash that ends the process still emits 'exit'.

const running = new Set();

function killGroup(pid, signal) {
  try {
    process.kill(-pid, signal);
  } catch (err) {
    if (err.code !== 'ESRCH') throw err;
  }
}

process.on('exit', () => {
  for (const s of running) {
    killGroup(s.pid, 'SIGTERM');
    fs.rmSync(s.dir, { recursive: true, force: true });
  }
});
for (const signal of ['SIGINT', 'SIGTERM', 'SIGHUP']) {
  process.once(signal, () => {
    for (const s of running) killGroup(s.pid, 'SIGTERM');
    process.exit(128 + os.constants.signals[signal]);
  });
}

// ---------------------------------------------------------------------------

// The environment for the programs: this process's own, without any CHAT_*
// setting the caller's shell may have, so that only the test decides them.
function cleanEnv(overrides) {
  const env = {};
  for (const [k, v] of Object.entries(process.env)) {
    if (!k.startsWith('CHAT_')) env[k] = v;
  }
  env.CHAT_BUILD_DIR = BUILD_DIR;
  for (const [k, v] of Object.entries(overrides || {})) {
    if (v === undefined || v === null) delete env[k];
    else env[k] = String(v);
  }
  return env;
}

/** A TCP port nothing listens on at the moment, on 127.0.0.1. */
function freePort() {
  return new Promise((resolve, reject) => {
    const srv = net.createServer();
    srv.unref();
    srv.on('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const { port } = srv.address();
      srv.close(() => resolve(port));
    });
  });
}

/**
 * One HTTP request with full control of what is sent.
 *   opts.headers  extra headers; a header set to null is not sent at all
 *   opts.token    sends Authorization: Bearer <token>
 *   opts.body     any JS value, sent as JSON text with
 *                 Content-Type: application/json unless headers say otherwise
 *   opts.rawBody  a string or Buffer sent as it is (no Content-Type added)
 * Content-Length is always the body's length (0 for a POST without body)
 * unless headers['content-length'] is given.
 * Resolves to {status, headers, body (text), json (parsed or undefined)}.
 */
function request(port, method, urlPath, opts = {}) {
  const headers = {};
  let body = null;
  if (opts.rawBody !== undefined) {
    body = Buffer.isBuffer(opts.rawBody) ? opts.rawBody : Buffer.from(opts.rawBody, 'utf8');
  } else if (opts.body !== undefined) {
    body = Buffer.from(JSON.stringify(opts.body), 'utf8');
    headers['content-type'] = 'application/json';
  }
  if (body !== null || method === 'POST' || method === 'PUT' || method === 'PATCH') {
    headers['content-length'] = String(body === null ? 0 : body.length);
  }
  if (opts.token !== undefined) headers.authorization = `Bearer ${opts.token}`;
  for (const [k, v] of Object.entries(opts.headers || {})) {
    headers[k.toLowerCase()] = v;
  }
  for (const k of Object.keys(headers)) {
    if (headers[k] === null || headers[k] === undefined) delete headers[k];
  }

  return new Promise((resolve, reject) => {
    let settled = false;
    const req = http.request(
      { host: '127.0.0.1', port, method, path: urlPath, headers, agent: false },
      (res) => {
        const chunks = [];
        res.on('data', (c) => chunks.push(c));
        res.on('error', (err) => { if (!settled) { settled = true; reject(err); } });
        res.on('end', () => {
          if (settled) return;
          settled = true;
          const text = Buffer.concat(chunks).toString('utf8');
          let json;
          try { json = JSON.parse(text); } catch { json = undefined; }
          resolve({ status: res.statusCode, headers: res.headers, body: text, json });
        });
      },
    );
    req.setTimeout(REQUEST_TIMEOUT_MS, () => {
      req.destroy(new Error(`${method} ${urlPath}: no answer in ${REQUEST_TIMEOUT_MS} ms`));
    });
    // A server may answer (say 413) before it has read a large body and
    // close the connection: a write error after the answer is not a failure.
    req.on('error', (err) => { if (!settled) { settled = true; reject(err); } });
    if (body !== null) req.end(body);
    else req.end();
  });
}

/**
 * Run a program to its end, writing stdin (if given) to it; options go to
 * spawn (env, uid, gid). Resolves to {code, signal, stdout, stderr}.
 */
function runProgram(cmd, args, stdin, options = {}) {
  return new Promise((resolve, reject) => {
    const child = spawn(cmd, args, { ...options, stdio: ['pipe', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.setEncoding('utf8');
    child.stderr.setEncoding('utf8');
    child.stdout.on('data', (d) => { stdout += d; });
    child.stderr.on('data', (d) => { stderr += d; });
    child.on('error', reject);
    child.stdin.on('error', () => {}); // it may exit before reading stdin
    child.on('close', (code, signal) => resolve({ code, signal, stdout, stderr }));
    child.stdin.end(stdin === undefined ? '' : stdin);
  });
}

/**
 * Run build/chatctl with --db db and args, writing stdin (if given) to it,
 * with the CHAT_* settings of env (as an administrator's chat.env).
 * Resolves to {code, signal, stdout, stderr}.
 */
function runChatctl(db, args, stdin, env = {}) {
  const argv = db === null ? args : ['--db', db, ...args];
  return runProgram(CHATCTL, argv, stdin, { env: cleanEnv({ CHAT_SQL_DIR: path.join(ROOT, 'sql'), ...env }) });
}

/** The pids of the processes named `name` whose CHAT_DB is db, oldest first. */
function programPids(name, db) {
  const pids = [];
  for (const entry of fs.readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      const argv0 = fs.readFileSync(`/proc/${entry}/cmdline`, 'utf8').split('\0')[0];
      if (path.basename(argv0) !== name) continue;
      const env = fs.readFileSync(`/proc/${entry}/environ`, 'utf8').split('\0');
      if (env.includes(`CHAT_DB=${db}`)) pids.push(Number(entry));
    } catch {
      // gone already
    }
  }
  return pids.sort((a, b) => a - b);
}

/** Rows of sql on the database db (sqlite3's -json), as objects. */
async function queryDb(db, sql) {
  const r = await runProgram('sqlite3', ['-json', '-cmd', '.timeout 5000', db, sql]);
  if (r.code !== 0) throw new Error(`sqlite3 ${sql}: exit ${r.code}: ${r.stderr}`);
  return r.stdout.trim() === '' ? [] : JSON.parse(r.stdout);
}

async function waitReady(stack, child, exited) {
  const deadline = Date.now() + READY_TIMEOUT_MS;
  while (Date.now() < deadline) {
    if (exited.done) return false;
    try {
      const res = await request(stack.port, 'GET', '/');
      if (res.status > 0) return true;
    } catch {
      // not listening yet
    }
    await sleep(100);
  }
  return false;
}

/**
 * Start server-config/run on a free port with a fresh temporary database.
 * env: CHAT_* settings for this stack (CHAT_DEMO_AGENT is 0 unless given),
 * those of the mail sender too (CHAT_SMTP_URL, CHAT_MAIL_FROM, ...): every
 * stack runs chat-mail, which only sleeps while mail is not configured.
 * stack.chatctl runs the admin tool with the same settings.
 */
async function startStack(env = {}) {
  for (const f of [RUN_SCRIPT, CHATCTL, path.join(BUILD_DIR, 'chat-api')]) {
    if (!fs.existsSync(f)) throw new Error(`${f} does not exist: run make first`);
  }
  const ATTEMPTS = 3;
  for (let attempt = 1; ; attempt++) {
    try {
      return await startOnce(env);
    } catch (err) {
      // Another process may have taken our port, or websocketd's, between
      // the moment it was found free and the bind: try again on others.
      const retry = attempt < ATTEMPTS && /already in use|EADDRINUSE/i.test(err.output || '');
      if (!retry) {
        process.stderr.write(`--- server-config/run output ---\n${err.output || ''}\n--- end ---\n`);
        throw err;
      }
    }
  }
}

async function startOnce(env) {
  const port = await freePort();
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'chat-test-'));
  const db = path.join(dir, 'chat.db');
  const output = [];
  const child = spawn(RUN_SCRIPT, [], {
    cwd: ROOT,
    detached: true,
    env: cleanEnv({ CHAT_DEMO_AGENT: '0', ...env, PORT: String(port), CHAT_DB: db }),
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const exited = { done: false, code: null, signal: null };
  const exitPromise = new Promise((resolve) => {
    child.on('exit', (code, signal) => {
      Object.assign(exited, { done: true, code, signal });
      resolve();
    });
  });
  const echo = process.env.CHAT_TEST_VERBOSE === '1';
  let printed = '';
  child.stdout.on('data', (d) => {
    output.push(d);
    printed += d;
    if (echo) process.stderr.write(d);
  });
  child.stderr.on('data', (d) => { output.push(d); if (echo) process.stderr.write(d); });
  child.on('error', (err) => output.push(Buffer.from(`spawn: ${err.message}\n`)));

  const stack = {
    port,
    db,
    dir,
    pid: child.pid,
    output: () => Buffer.concat(output).toString('utf8'),
    env,
    request: (method, urlPath, opts) => request(port, method, urlPath, opts),
    chatctl: (args, stdin) => runChatctl(db, args, stdin, env),
    /** The mail sender's pid, or undefined while there is none (it is being restarted). */
    mailPid: () => programPids('chat-mail', db)[0],
    /** Rows of sql on the stack's database. */
    query: (sql) => queryDb(db, sql),
    /** Add an agent with chatctl, asserting that it worked; returns the agent's username. */
    async addAgent(username, password, displayName) {
      const args = ['agent', 'add', username];
      if (displayName !== undefined) args.push('--display-name', displayName);
      const r = await runChatctl(db, args, `${password}\n`);
      assert.equal(r.code, 0, `chatctl ${args.join(' ')} failed: ${r.stderr}`);
      return username;
    },
    /** Log an agent in, asserting a 200; returns the response's JSON. */
    async login(username, password) {
      const res = await request(port, 'POST', '/api/v1/public/login', { body: { username, password } });
      assert.equal(res.status, 200, `login ${username}: ${res.status} ${res.body}`);
      return res.json;
    },
    /** Create a customer, asserting a 201; returns the response's JSON. */
    async createCustomer(fields = {}) {
      const body = { name: 'Test Customer', channel: 'WEB', ...fields };
      const res = await request(port, 'POST', '/api/v1/customers', { body });
      assert.equal(res.status, 201, `create customer: ${res.status} ${res.body}`);
      return res.json;
    },
    async stop() {
      if (!running.has(stack)) return;
      killGroup(child.pid, 'SIGTERM');
      let timeout;
      const timer = new Promise((resolve) => { timeout = setTimeout(resolve, STOP_TIMEOUT_MS, 'timeout'); });
      const first = await Promise.race([exitPromise, timer]);
      clearTimeout(timeout);
      if (first === 'timeout') {
        killGroup(child.pid, 'SIGKILL');
        await exitPromise;
      }
      // The script's children share its process group: make sure none is left.
      killGroup(child.pid, 'SIGKILL');
      running.delete(stack);
      fs.rmSync(dir, { recursive: true, force: true });
    },
  };
  running.add(stack);

  // Ready: the port answers, the script said so, and it is still running a
  // moment later (it ends at once when websocketd could not start).
  const marker = `serving http://127.0.0.1:${port}/`;
  let why = null;
  if (!(await waitReady(stack, child, exited))) {
    why = `nothing answered on port ${port} within ${READY_TIMEOUT_MS} ms`;
  } else {
    for (let i = 0; i < 40 && !printed.includes(marker) && !exited.done; i++) await sleep(50);
    if (!printed.includes(marker)) why = `server-config/run never printed "${marker}"`;
    else await sleep(200);
  }
  if (exited.done) why = `server-config/run exited (code ${exited.code}, signal ${exited.signal})`;
  if (why !== null) {
    await stack.stop();
    const out = Buffer.concat(output).toString('utf8');
    const err = new Error(`${why}\n${out}`);
    err.output = out;
    throw err;
  }
  return stack;
}

// ---------------------------------------------------------------------------
// Assertions shared by the test files.

/** The response's media type is exactly application/json. */
function assertJsonType(res) {
  const ct = res.headers['content-type'];
  assert.ok(ct !== undefined, `no Content-Type on ${res.status} ${res.body}`);
  assert.equal(ct.split(';')[0].trim().toLowerCase(), 'application/json',
    `Content-Type is ${ct}`);
}

/**
 * The response is the contract's error: that status, a JSON body
 * {"error":{"code","message"}} with that code and a non-empty message,
 * the message naming opts.field when given, and WWW-Authenticate: Bearer
 * on the 401s of bearer tokens.
 */
function assertError(res, status, code, opts = {}) {
  const where = `${res.status} ${res.body}`;
  assert.equal(res.status, status, `expected ${status} ${code}, got ${where}`);
  assertJsonType(res);
  assert.ok(res.json !== undefined, `body is not JSON: ${res.body}`);
  assert.deepEqual(Object.keys(res.json), ['error'], `body: ${res.body}`);
  assert.deepEqual(Object.keys(res.json.error).sort(), ['code', 'message'], `body: ${res.body}`);
  assert.equal(res.json.error.code, code, `body: ${res.body}`);
  assert.equal(typeof res.json.error.message, 'string');
  assert.ok(res.json.error.message.length > 0, 'error message is empty');
  if (opts.field !== undefined) {
    assert.ok(res.json.error.message.includes(opts.field),
      `message does not name the field ${opts.field}: ${res.json.error.message}`);
  }
  if (code === 'MISSING_TOKEN' || code === 'TOKEN_EXPIRED') {
    assert.ok(/^Bearer\b/.test(res.headers['www-authenticate'] || ''),
      `WWW-Authenticate is ${res.headers['www-authenticate']}`);
  }
}

/** A 429 RATE_LIMITED with an integer Retry-After in 1..max; returns it. */
function assertThrottled(res, max) {
  assertError(res, 429, 'RATE_LIMITED');
  const ra = res.headers['retry-after'];
  assert.match(ra || '', /^[0-9]+$/, `Retry-After is ${ra}`);
  const seconds = Number(ra);
  assert.ok(seconds >= 1, `Retry-After ${seconds} < 1`);
  if (max !== undefined) assert.ok(seconds <= max, `Retry-After ${seconds} > ${max}`);
  return seconds;
}

/** A 2xx JSON answer with that status. */
function assertOk(res, status) {
  assert.equal(res.status, status, `expected ${status}, got ${res.status} ${res.body}`);
  assertJsonType(res);
  assert.ok(res.json !== undefined && res.json !== null && typeof res.json === 'object',
    `body is not a JSON object: ${res.body}`);
}

/** An RFC 3339 UTC time with milliseconds; returns it in ms since the epoch. */
function assertTime(value, what) {
  assert.match(String(value), TIME_RE, `${what} is ${value}`);
  const ms = Date.parse(value);
  assert.ok(Number.isFinite(ms), `${what} ${value} is not a date`);
  return ms;
}

function assertToken(value, what) {
  assert.equal(typeof value, 'string', `${what} is not a string`);
  assert.match(value, TOKEN_RE, `${what} is not 43 characters of URL-safe base64`);
}

/** Whether ms is within slackMs of now. */
function assertNear(ms, expectedMs, slackMs, what) {
  assert.ok(Math.abs(ms - expectedMs) <= slackMs,
    `${what}: ${new Date(ms).toISOString()} is not within ${slackMs} ms of ${new Date(expectedMs).toISOString()}`);
}

module.exports = {
  ROOT,
  BUILD_DIR,
  CHATCTL,
  TOKEN_RE,
  TIME_RE,
  sleep,
  killGroup,
  freePort,
  request,
  runProgram,
  runChatctl,
  programPids,
  queryDb,
  startStack,
  assertJsonType,
  assertError,
  assertThrottled,
  assertOk,
  assertTime,
  assertToken,
  assertNear,
};
