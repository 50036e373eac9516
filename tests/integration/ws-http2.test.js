'use strict';
// The WebSocket over HTTP/2 (RFC 8441's extended CONNECT), which browsers
// use where the server offers it, as lighttpd does: the handshake check
// refuses a bad token with its 401 and headers, and a good one gets a
// WebSocket that carries messages both ways like any other.
// Behind lighttpd only: Apache serves no HTTP/2 in this configuration.

const { describe, it, before, after } = require('node:test');
const assert = require('node:assert/strict');
const http2 = require('node:http2');
const { startStack } = require('./stack');
const { connectReady, api, newCustomer, newAgent, WAIT_MS } = require('./ws-client');
const { textFrame, frameReader, connectStream } = require('./ws-frames');

const skip = process.env.SERVER === 'apache' ? 'Apache serves no HTTP/2 here' : false;

// A WebSocket over one HTTP/2 stream: resolves with {status, headers, body}
// for a refusal, or {status: 200, socket} whose socket.next() gives the
// server's text frames as parsed JSON, one at a time (nextType: of a type).
function openStream(session, port, token) {
  return new Promise((resolve, reject) => {
    const stream = connectStream(session, port, token);
    stream.on('error', reject);
    stream.once('response', (headers) => {
      const status = headers[':status'];
      if (status !== 200) {
        let body = '';
        stream.setEncoding('utf8');
        stream.on('data', (d) => { body += d; });
        stream.on('end', () => resolve({ status, headers, body }));
        return;
      }
      const frames = [];
      const waiters = [];
      const deliver = () => {
        while (frames.length && waiters.length) waiters.shift()(frames.shift());
      };
      stream.on('data', frameReader((f) => { frames.push(f); deliver(); }));
      const socket = {
        send: (obj) => stream.write(textFrame(JSON.stringify(obj))),
        next: () => new Promise((res, rej) => {
          const timer = setTimeout(() => rej(new Error(`no frame within ${WAIT_MS} ms`)), WAIT_MS);
          waiters.push((f) => { clearTimeout(timer); res(f); });
          deliver();
        }),
        // The next frame of this type; others (session events) are passed over.
        async nextType(type) {
          for (;;) {
            const f = await socket.next();
            if (f.type === type) return f;
          }
        },
        close: () => stream.close(),
      };
      resolve({ status, headers, socket });
    });
  });
}

describe('the WebSocket over HTTP/2', { skip }, () => {
  let stack;
  let session;

  before(async () => {
    stack = await startStack();
    session = http2.connect(`http://127.0.0.1:${stack.port}`);
    await new Promise((resolve, reject) => {
      session.once('remoteSettings', resolve);
      session.once('error', reject);
    });
  });
  after(async () => {
    if (session) session.close();
    if (stack) await stack.stop();
  });

  it('is offered by the server (SETTINGS_ENABLE_CONNECT_PROTOCOL)', () => {
    assert.equal(session.remoteSettings.enableConnectProtocol, true);
  });

  it('refuses a bad token with 401 and the X-WebSocket-Error-* headers', async () => {
    const r = await openStream(session, stack.port, 'not-a-token');
    assert.equal(r.status, 401);
    assert.equal(r.headers['x-websocket-error-code'], 'TOKEN_EXPIRED');
    assert.match(r.headers['x-websocket-error-message'], /Token is invalid or expired/);
    assert.match(r.headers['content-type'], /^application\/json/);
    assert.equal(JSON.parse(r.body).error.code, 'TOKEN_EXPIRED');
  });

  it('carries messages both ways once the token is good', async () => {
    const customer = await newCustomer(stack);
    const agent = await newAgent(stack, 'h2');
    const a = (await connectReady(stack, agent.token)).client;
    const r = await openStream(session, stack.port, customer.token);
    assert.equal(r.status, 200);
    const c = r.socket;
    assert.equal((await c.next()).type, 'offline_messages_complete');
    const s = await api(stack, 'POST', '/api/v1/sessions', { token: customer.token, body: {} });
    assert.equal(s.status, 201);
    c.send({ type: 'message', sessionId: s.json.id, text: 'over HTTP/2', clientMsgId: 'h2-1' });
    const ack = await c.nextType('ack');
    const got = await a.nextType('message');
    assert.equal(got.message.id, ack.message.id);
    assert.equal(got.message.text, 'over HTTP/2');
    a.send({ type: 'message', sessionId: s.json.id, text: 'and back', clientMsgId: 'h2-2' });
    const back = await c.nextType('message');
    assert.equal(back.message.text, 'and back');
    c.close();
    await a.close();
  });
});
