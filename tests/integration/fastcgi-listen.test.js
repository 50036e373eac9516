'use strict';
// chat-api and chat-authorizer listening themselves (--listen, --procs),
// for web servers that do not start FastCGI programs (Apache): spoken to
// here over FastCGI directly, on a Unix socket and on a loopback port.

const { describe, it, before, after } = require('node:test');
const assert = require('node:assert/strict');
const { spawn } = require('node:child_process');
const fs = require('node:fs');
const net = require('node:net');
const os = require('node:os');
const path = require('node:path');
const { runChatctl } = require('./stack');
const { sleep } = require('./ws-client');

const ROOT = path.resolve(__dirname, '..', '..');
const BUILD = process.env.CHAT_BUILD_DIR || path.join(ROOT, 'build');

// One FastCGI record: version 1, type, request id 1, content, no padding.
function record(type, content) {
  const head = Buffer.alloc(8);
  head.writeUInt8(1, 0);
  head.writeUInt8(type, 1);
  head.writeUInt16BE(1, 2);
  head.writeUInt16BE(content.length, 4);
  return Buffer.concat([head, content]);
}

function nameValue(name, value) {
  const n = Buffer.from(name);
  const v = Buffer.from(value);
  return Buffer.concat([Buffer.from([n.length, v.length]), n, v]);
}

// A FastCGI request with params (and role: 1 responder, 2 authorizer);
// resolves with {status, headers, body} of what the program wrote.
function fcgi(address, params, role = 1) {
  return new Promise((resolve, reject) => {
    const sock = typeof address === 'number' ? net.connect(address, '127.0.0.1') : net.connect(address);
    const chunks = [];
    sock.on('connect', () => {
      const begin = Buffer.from([0, role, 0, 0, 0, 0, 0, 0]);
      const body = Buffer.concat(Object.entries(params).map(([k, v]) => nameValue(k, v)));
      sock.write(Buffer.concat([record(1, begin), record(4, body), record(4, Buffer.alloc(0)),
        record(5, Buffer.alloc(0))]));
    });
    sock.on('data', (d) => chunks.push(d));
    sock.on('error', reject);
    sock.on('close', () => {
      const all = Buffer.concat(chunks);
      let out = '';
      for (let i = 0; i + 8 <= all.length;) {
        const type = all.readUInt8(i + 1);
        const len = all.readUInt16BE(i + 4);
        const pad = all.readUInt8(i + 6);
        if (type === 6) out += all.subarray(i + 8, i + 8 + len).toString('utf8');
        i += 8 + len + pad;
      }
      const [head, ...rest] = out.split('\r\n\r\n');
      const headers = {};
      for (const line of head.split('\r\n')) {
        const k = line.indexOf(':');
        if (k > 0) headers[line.slice(0, k).toLowerCase()] = line.slice(k + 1).trim();
      }
      resolve({ status: Number((headers.status || '').split(' ')[0]), headers, body: rest.join('\r\n\r\n') });
    });
  });
}

// A program started with args; resolves once its listening address answers.
async function startListening(program, args, env, address) {
  const child = spawn(path.join(BUILD, program), args, { env, stdio: ['ignore', 'ignore', 'pipe'] });
  let stderr = '';
  child.stderr.on('data', (d) => { stderr += d; });
  const exited = new Promise((resolve) => child.on('exit', (code, signal) => resolve({ code, signal })));
  for (let i = 0; i < 100; i++) {
    const up = await new Promise((resolve) => {
      const s = typeof address === 'number' ? net.connect(address, '127.0.0.1') : net.connect(address);
      s.on('connect', () => { s.destroy(); resolve(true); });
      s.on('error', () => resolve(false));
    });
    if (up) return { child, exited, stderr: () => stderr };
    await sleep(50);
  }
  child.kill('SIGKILL');
  throw new Error(`${program} never listened on ${address}: ${stderr}`);
}

// The pids of a process's children.
function childrenOf(pid) {
  try {
    return fs.readFileSync(`/proc/${pid}/task/${pid}/children`, 'utf8').trim().split(/\s+/).filter(Boolean).map(Number);
  } catch (e) {
    return [];
  }
}

function freePort() {
  return new Promise((resolve) => {
    const srv = net.createServer();
    srv.listen(0, '127.0.0.1', () => { const { port } = srv.address(); srv.close(() => resolve(port)); });
  });
}

describe('FastCGI programs listening themselves', () => {
  let dir;
  let env;
  const started = [];

  before(async () => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'chat-fcgi-'));
    const db = path.join(dir, 'chat.db');
    assert.equal((await runChatctl(db, ['migrate'])).code, 0);
    env = { PATH: process.env.PATH, CHAT_DB: db, CHAT_SQL_DIR: path.join(ROOT, 'sql'), CHAT_LOG_LEVEL: 'warn' };
  });
  after(async () => {
    for (const p of started) {
      if (p.child.exitCode === null && p.child.signalCode === null) p.child.kill('SIGKILL');
      for (const c of childrenOf(p.child.pid)) { try { process.kill(c, 'SIGKILL'); } catch (e) { /* gone */ } }
    }
    if (dir) fs.rmSync(dir, { recursive: true, force: true });
  });

  it('chat-api serves the API on a Unix socket with several workers, and stops on SIGTERM', async () => {
    const sock = path.join(dir, 'api.sock');
    const p = await startListening('chat-api', ['--listen', sock, '--procs', '3'], env, sock);
    started.push(p);
    // The socket takes connections once it listens, a moment before the
    // last worker is forked on a busy machine.
    for (let i = 0; i < 100 && childrenOf(p.child.pid).length < 3; i++) await sleep(50);
    assert.equal(childrenOf(p.child.pid).length, 3);
    const r = await fcgi(sock, { REQUEST_METHOD: 'GET', REQUEST_URI: '/api/v1/me', SCRIPT_NAME: '/api/v1/me' });
    assert.equal(r.status, 401);
    assert.equal(JSON.parse(r.body).error.code, 'MISSING_TOKEN');
    const missing = await fcgi(sock, { REQUEST_METHOD: 'GET', REQUEST_URI: '/api/v1/nowhere' });
    assert.equal(missing.status, 404);

    p.child.kill('SIGTERM');
    const end = await p.exited;
    assert.equal(end.code, 0);
    assert.ok(!fs.existsSync(sock), 'the socket is removed');
  });

  it('a worker that dies is replaced', async () => {
    const sock = path.join(dir, 'api2.sock');
    const p = await startListening('chat-api', ['--listen', sock, '--procs', '2'], env, sock);
    started.push(p);
    const [first] = childrenOf(p.child.pid);
    process.kill(first, 'SIGKILL');
    let now = [];
    for (let i = 0; i < 100; i++) {
      now = childrenOf(p.child.pid);
      if (now.length === 2 && !now.includes(first)) break;
      await sleep(50);
    }
    assert.equal(now.length, 2);
    assert.ok(!now.includes(first));
    const r = await fcgi(sock, { REQUEST_METHOD: 'GET', REQUEST_URI: '/api/v1/me' });
    assert.equal(r.status, 401);
    p.child.kill('SIGTERM');
    assert.equal((await p.exited).code, 0);
  });

  it('chat-authorizer answers a bad handshake on a loopback port with 401 and its headers', async () => {
    const port = await freePort();
    const p = await startListening('chat-authorizer', ['--listen', `127.0.0.1:${port}`, '--procs', '1'], env, port);
    started.push(p);
    const r = await fcgi(port, { REQUEST_METHOD: 'GET', REQUEST_URI: '/ws/chat?token=nope', QUERY_STRING: 'token=nope',
      WS_UPGRADE: 'websocket', WS_CONNECTION: 'Upgrade', HTTP_SEC_WEBSOCKET_VERSION: '13',
      HTTP_SEC_WEBSOCKET_KEY: 'dGhlIHNhbXBsZSBub25jZQ==' }, 2);
    assert.equal(r.status, 401);
    assert.equal(r.headers['x-websocket-error-code'], 'TOKEN_EXPIRED');
    assert.ok(r.headers['x-websocket-error-message']);
    p.child.kill('SIGTERM');
    assert.equal((await p.exited).code, 0);
  });

  it('refuses bad options with one line and status 2, and a database it cannot open with status 1', async () => {
    for (const args of [['--procs', '0'], ['--procs', 'x'], ['--listen'], ['--bogus', '1'], ['--listen', '']]) {
      const r = await new Promise((resolve) => {
        const c = spawn(path.join(BUILD, 'chat-api'), args, { env, stdio: ['ignore', 'ignore', 'pipe'] });
        let err = '';
        c.stderr.on('data', (d) => { err += d; });
        c.on('exit', (code) => resolve({ code, err }));
      });
      assert.equal(r.code, 2, `${args.join(' ')}: ${r.err}`);
      assert.match(r.err, /^chat-api: [^\n]+\n$/);
    }
    const sock = path.join(dir, 'nodb.sock');
    const bad = { ...env, CHAT_DB: path.join(dir, 'missing', 'chat.db') };
    const c = spawn(path.join(BUILD, 'chat-api'), ['--listen', sock, '--procs', '1'], { env: bad, stdio: 'ignore' });
    const code = await new Promise((resolve) => c.on('exit', (x) => resolve(x)));
    assert.equal(code, 1, 'workers that cannot start make it give up');
  });
});
