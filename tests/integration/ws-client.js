'use strict';
// WebSocket helpers for the integration tests: a client that queues every
// frame it receives so a test can wait for the next one matching what it
// expects, and a raw handshake to inspect refusals (status, headers, body).

const fs = require('node:fs');
const http = require('node:http');
const path = require('node:path');
const crypto = require('node:crypto');
const WebSocket = require('ws');

const WAIT_MS = 5000;

// Open /ws/chat?token=... on the stack; resolves once open.
// The client keeps every frame in `frames` and `queue` (not yet taken).
// Whether frame is a system line (who joined, a transfer): a client made
// without options.systemLines keeps those apart, in client.system, so that
// a test of the relay sees only what people wrote.
function isSystemLine(frame) {
  return (frame.type === 'message' || frame.type === 'offline_message') &&
    frame.message && frame.message.senderType === 'system';
}

// The first frame in queue that matches pred, or the next one to arrive
// within ms (a waiter on waiters, which give() resolves).
function take(queue, waiters, pred, ms) {
  const i = queue.findIndex(pred);
  if (i >= 0) return Promise.resolve(queue.splice(i, 1)[0]);
  return new Promise((resolve, reject) => {
    const waiter = { pred, resolve };
    waiter.timer = setTimeout(() => {
      waiters.splice(waiters.indexOf(waiter), 1);
      reject(new Error(`no frame matching ${pred} within ${ms} ms; queued: ` +
        JSON.stringify(queue)));
    }, ms);
    waiters.push(waiter);
  });
}

// Hands frame to the first waiter it matches, or queues it.
function give(queue, waiters, frame) {
  const w = waiters.find((x) => x.pred(frame));
  if (w) {
    waiters.splice(waiters.indexOf(w), 1);
    clearTimeout(w.timer);
    w.resolve(frame);
  } else {
    queue.push(frame);
  }
}

function connect(stack, token, options = {}) {
  const query = token === undefined ? '' : `?token=${encodeURIComponent(token)}`;
  const ws = new WebSocket(`ws://127.0.0.1:${stack.port}/ws/chat${query}`, {
    headers: options.headers || {},
  });
  const client = {
    ws,
    frames: [],
    system: [],
    systemQueue: [],
    systemWaiters: [],
    queue: [],
    waiters: [],
    closed: null,
    send(obj) {
      ws.send(typeof obj === 'string' ? obj : JSON.stringify(obj));
    },
    // The next frame (skipping none) that matches pred, within ms.
    next(pred = () => true, ms = WAIT_MS) {
      return take(client.queue, client.waiters, pred, ms);
    },
    // The next system line kept apart (see isSystemLine), within ms.
    nextSystem(ms = WAIT_MS) {
      return take(client.systemQueue, client.systemWaiters, () => true, ms);
    },
    // The next frame of a type.
    nextType(type, ms) {
      return client.next((f) => f.type === type, ms);
    },
    // Resolves with {code, reason} when the connection closes.
    whenClosed(ms = WAIT_MS) {
      if (client.closed) return Promise.resolve(client.closed);
      return new Promise((resolve, reject) => {
        const timer = setTimeout(() => reject(new Error(`not closed within ${ms} ms`)), ms);
        ws.once('close', () => { clearTimeout(timer); resolve(client.closed); });
      });
    },
    close() {
      if (ws.readyState === WebSocket.OPEN || ws.readyState === WebSocket.CONNECTING) ws.close(1000);
      return client.closed ? Promise.resolve(client.closed) : client.whenClosed();
    },
  };
  ws.on('message', (data) => {
    const frame = JSON.parse(data.toString());
    if (!options.systemLines && isSystemLine(frame)) {
      client.system.push(frame);
      give(client.systemQueue, client.systemWaiters, frame);
      return;
    }
    client.frames.push(frame);
    give(client.queue, client.waiters, frame);
  });
  ws.on('close', (code, reason) => { client.closed = { code, reason: reason.toString() }; });
  return new Promise((resolve, reject) => {
    ws.once('open', () => resolve(client));
    ws.once('unexpected-response', (req, res) => {
      reject(Object.assign(new Error(`handshake refused: ${res.statusCode}`), { status: res.statusCode }));
      req.destroy();
    });
    ws.once('error', reject);
  });
}

// Connect and wait for offline_messages_complete; resolves with
// {client, offline: [messages], count}.
async function connectReady(stack, token, options) {
  const client = await connect(stack, token, options);
  const done = await client.nextType('offline_messages_complete');
  const offline = client.frames.filter((f) => f.type === 'offline_message').map((f) => f.message);
  client.queue = client.queue.filter((f) => f.type !== 'offline_message');
  return { client, offline, count: done.count };
}

// A raw handshake to /ws/chat with the given query string and headers,
// resolving with {status, headers, body, upgraded}.
function handshake(stack, query, { method = 'GET', headers } = {}) {
  const defaults = {
    Connection: 'Upgrade',
    Upgrade: 'websocket',
    'Sec-WebSocket-Version': '13',
    'Sec-WebSocket-Key': crypto.randomBytes(16).toString('base64'),
  };
  return new Promise((resolve, reject) => {
    const req = http.request({
      host: '127.0.0.1', port: stack.port, method,
      path: `/ws/chat${query}`,
      headers: headers === undefined ? defaults : headers,
    });
    req.on('upgrade', (res, socket) => {
      socket.destroy();
      resolve({ status: res.statusCode, headers: res.headers, body: '', upgraded: true });
    });
    req.on('response', (res) => {
      let body = '';
      res.on('data', (d) => { body += d; });
      res.on('end', () => resolve({ status: res.statusCode, headers: res.headers, body, upgraded: false }));
    });
    req.on('error', reject);
    req.setTimeout(WAIT_MS, () => req.destroy(new Error('handshake timed out')));
    req.end();
  });
}

// A JSON REST call: resolves with {status, json}.
function api(stack, method, path, { token, body } = {}) {
  const data = body === undefined ? '' : JSON.stringify(body);
  const headers = { 'Content-Length': Buffer.byteLength(data) };
  if (body !== undefined) headers['Content-Type'] = 'application/json';
  if (token) headers.Authorization = `Bearer ${token}`;
  return new Promise((resolve, reject) => {
    const req = http.request({ host: '127.0.0.1', port: stack.port, method, path, headers }, (res) => {
      let text = '';
      res.on('data', (d) => { text += d; });
      res.on('end', () => {
        let json = null;
        try { json = text ? JSON.parse(text) : null; } catch (e) { json = null; }
        resolve({ status: res.statusCode, headers: res.headers, json });
      });
    });
    req.on('error', reject);
    req.end(data);
  });
}

let customerSeq = 0;

// A new customer: {id, token, refreshToken, ...}.
async function newCustomer(stack, name) {
  customerSeq += 1;
  const r = await api(stack, 'POST', '/api/v1/customers',
    { body: { name: name || `Customer ${customerSeq}`, channel: 'WEB' } });
  if (r.status !== 201) throw new Error(`customer create: ${r.status} ${JSON.stringify(r.json)}`);
  return r.json;
}

let agentSeq = 0;

// A new agent, logged in: {id, username, token}.
async function newAgent(stack, prefix = 'agent') {
  agentSeq += 1;
  const username = `${prefix}${process.pid}x${agentSeq}`;
  const add = await stack.chatctl(['agent', 'add', username], 'password123\n');
  if (add.code !== 0) throw new Error(`agent add: ${add.stderr}`);
  const r = await api(stack, 'POST', '/api/v1/public/login',
    { body: { username, password: 'password123' } });
  if (r.status !== 200) throw new Error(`login: ${r.status} ${JSON.stringify(r.json)}`);
  return { id: r.json.agent.id, username, token: r.json.token };
}

// The pids of a stack's WebSocket handlers, oldest first: the chat-ws
// processes whose CHAT_DB is the stack's database.
function handlerPids(db) {
  const pids = [];
  for (const name of fs.readdirSync('/proc')) {
    if (!/^\d+$/.test(name)) continue;
    try {
      const argv0 = fs.readFileSync(`/proc/${name}/cmdline`, 'utf8').split('\0')[0];
      if (path.basename(argv0) !== 'chat-ws') continue;
      const env = fs.readFileSync(`/proc/${name}/environ`, 'utf8').split('\0');
      if (env.includes(`CHAT_DB=${db}`)) pids.push(Number(name));
    } catch (e) { /* gone already */ }
  }
  return pids.sort((a, b) => a - b);
}

const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));

module.exports = { isSystemLine, connect, connectReady, handshake, api, newCustomer, newAgent, handlerPids, sleep, WAIT_MS };
