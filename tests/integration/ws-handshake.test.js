'use strict';
// The WebSocket handshake: refusals are plain HTTP answers from the
// authorizer before any upgrade, with X-WebSocket-Error-Code and
// X-WebSocket-Error-Message and the JSON error body; the handler refuses
// on its own too when reached directly.

const { describe, it, before, after } = require('node:test');
const assert = require('node:assert/strict');
const path = require('node:path');
const { spawnSync } = require('node:child_process');
const { startStack, BUILD_DIR, ROOT } = require('./stack');
const { connect, connectReady, handshake, api, newCustomer, newAgent, sleep } = require('./ws-client');

function assertRefused(res, status, code) {
  assert.equal(res.upgraded, false, 'must not be upgraded');
  assert.equal(res.status, status);
  assert.equal(res.headers['x-websocket-error-code'], code);
  assert.ok(res.headers['x-websocket-error-message'].length > 0);
  assert.match(res.headers['content-type'], /^application\/json/);
  const body = JSON.parse(res.body);
  assert.equal(body.error.code, code);
  assert.ok(body.error.message.length > 0);
}

describe('WebSocket handshake', () => {
  let stack;

  before(async () => {
    stack = await startStack({ CHAT_CUSTOMER_TOKEN_TTL: '2' });
  });
  after(async () => { await stack.stop(); });

  it('refuses a missing token with 401 MISSING_TOKEN', async () => {
    assertRefused(await handshake(stack, ''), 401, 'MISSING_TOKEN');
  });

  it('refuses an empty token with 401 MISSING_TOKEN', async () => {
    assertRefused(await handshake(stack, '?token='), 401, 'MISSING_TOKEN');
  });

  it('refuses an unknown token with 401 TOKEN_EXPIRED', async () => {
    assertRefused(await handshake(stack, '?token=not-a-token'), 401, 'TOKEN_EXPIRED');
    assertRefused(await handshake(stack, `?token=${'A'.repeat(43)}`), 401, 'TOKEN_EXPIRED');
  });

  it('refuses an expired token with 401 TOKEN_EXPIRED and the guide\'s message', async () => {
    const c = await newCustomer(stack);
    await sleep(2200);
    const res = await handshake(stack, `?token=${c.token}`);
    assertRefused(res, 401, 'TOKEN_EXPIRED');
    assert.equal(res.headers['x-websocket-error-message'],
      'Token is invalid or expired, please obtain a new one');
  });

  it('refuses a revoked token with 401 TOKEN_EXPIRED', async () => {
    const c = await newCustomer(stack);
    assert.equal((await api(stack, 'POST', '/api/v1/logout', { token: c.token })).status, 204);
    assertRefused(await handshake(stack, `?token=${c.token}`), 401, 'TOKEN_EXPIRED');
  });

  it('refuses a plain GET with 400 INVALID_REQUEST', async () => {
    const c = await newCustomer(stack);
    assertRefused(await handshake(stack, `?token=${c.token}`, { headers: {} }), 400, 'INVALID_REQUEST');
  });

  it('refuses another method with 400 INVALID_REQUEST', async () => {
    const c = await newCustomer(stack);
    const res = await handshake(stack, `?token=${c.token}`, {
      method: 'POST',
      headers: { Connection: 'Upgrade', Upgrade: 'websocket', 'Sec-WebSocket-Version': '13',
        'Sec-WebSocket-Key': 'dGhlIHNhbXBsZSBub25jZQ==', 'Content-Length': '0' },
    });
    assertRefused(res, 400, 'INVALID_REQUEST');
  });

  it('refuses bad upgrade headers with 400 INVALID_REQUEST', async () => {
    const c = await newCustomer(stack);
    const good = { Connection: 'Upgrade', Upgrade: 'websocket', 'Sec-WebSocket-Version': '13',
      'Sec-WebSocket-Key': 'dGhlIHNhbXBsZSBub25jZQ==' };
    for (const drop of ['Upgrade', 'Sec-WebSocket-Key', 'Sec-WebSocket-Version']) {
      const headers = { ...good };
      delete headers[drop];
      assertRefused(await handshake(stack, `?token=${c.token}`, { headers }), 400, 'INVALID_REQUEST');
    }
    assertRefused(await handshake(stack, `?token=${c.token}`,
      { headers: { ...good, 'Sec-WebSocket-Version': '8' } }), 400, 'INVALID_REQUEST');
  });

  it('refuses a foreign Origin with 403 FORBIDDEN and accepts its own', async () => {
    const c = await newCustomer(stack);
    const headers = { Connection: 'Upgrade', Upgrade: 'websocket', 'Sec-WebSocket-Version': '13',
      'Sec-WebSocket-Key': 'dGhlIHNhbXBsZSBub25jZQ==' };
    assertRefused(await handshake(stack, `?token=${c.token}`,
      { headers: { ...headers, Origin: 'http://evil.example' } }), 403, 'FORBIDDEN');
    const own = await handshake(stack, `?token=${c.token}`,
      { headers: { ...headers, Origin: `http://127.0.0.1:${stack.port}` } });
    assert.equal(own.status, 101);
    assert.equal(own.upgraded, true);
  });

  it('never answers a bad token with 101, even to a real client', async () => {
    for (let i = 0; i < 5; i++) {
      await assert.rejects(connect(stack, 'bad-token'), (e) => e.status === 401);
    }
  });

  it('upgrades a good token and starts with offline_messages_complete', async () => {
    const c = await newCustomer(stack);
    const { client, offline, count } = await connectReady(stack, c.token);
    assert.deepEqual(offline, []);
    assert.equal(count, 0);
    assert.equal(client.frames[0].type, 'offline_messages_complete');
    await client.close();
  });

  it('the handler refuses a bad or missing token on its own, exiting non-zero', async () => {
    const fresh = await newCustomer(stack);
    const bin = path.join(BUILD_DIR, 'chat-ws');
    const env = { PATH: process.env.PATH, CHAT_DB: stack.db, CHAT_SQL_DIR: path.join(ROOT, 'sql') };
    const cases = [
      ['token=nope', 'TOKEN_EXPIRED'],
      ['', 'MISSING_TOKEN'],
      ['token=', 'MISSING_TOKEN'],
    ];
    for (const [query, code] of cases) {
      const r = spawnSync(bin, [], {
        env: { ...env, QUERY_STRING: query },
        input: '',
        timeout: 5000,
      });
      assert.notEqual(r.status, 0, `exit status for "${query}"`);
      const frame = JSON.parse(r.stdout.toString().trim().split('\n')[0]);
      assert.equal(frame.type, 'error');
      assert.equal(frame.code, code);
    }
    // A valid token gets through the same program.
    const ok = spawnSync(bin, [], {
      env: { ...env, QUERY_STRING: `token=${fresh.token}` },
      input: '',
      timeout: 5000,
    });
    assert.equal(ok.status, 0);
    assert.deepEqual(JSON.parse(ok.stdout.toString().trim()),
      { type: 'offline_messages_complete', count: 0, seq: 0 });
  });

  it('an agent token connects too', async () => {
    const a = await newAgent(stack);
    const { client, count } = await connectReady(stack, a.token);
    assert.equal(count, 0);
    await client.close();
  });
});
