'use strict';
// Agent login, logout, GET /api/v1/me, bearer token checks, token expiry,
// and what chatctl disable / enable / passwd do to a running server's
// logins and tokens. Login throttling is off here (throttle.test.js has it).

const { describe, it, before, after } = require('node:test');
const assert = require('node:assert/strict');
const crypto = require('node:crypto');
const {
  startStack, assertError, assertOk, assertTime, assertToken, assertNear, sleep,
} = require('./stack');

const AGENT_TTL_MS = 28800 * 1000;
const CUSTOMER_TTL_MS = 86400 * 1000;
const PASSWORD = 'correct horse battery';

let stack;   // default token lifetimes, throttling off
let short;   // token lifetimes of 1 s

before(async () => {
  const off = { CHAT_LOGIN_USER_LIMIT: '0', CHAT_LOGIN_ADDR_LIMIT: '0', CHAT_CUSTOMER_CREATE_LIMIT: '0' };
  [stack, short] = await Promise.all([
    startStack(off),
    startStack({ ...off, CHAT_CUSTOMER_TOKEN_TTL: '1', CHAT_AGENT_TOKEN_TTL: '1' }),
  ]);
  await Promise.all([
    stack.addAgent('alice', PASSWORD, 'Alice Wong'),
    stack.addAgent('bob.smith-2_x', 'bobs password'),
    short.addAgent('carol', PASSWORD, 'Carol'),
  ]);
});

after(async () => {
  await Promise.all([stack && stack.stop(), short && short.stop()]);
});

const login = (s, username, password) =>
  s.request('POST', '/api/v1/public/login', { body: { username, password } });
const me = (s, token) => s.request('GET', '/api/v1/me', { token });
const logout = (s, token) => s.request('POST', '/api/v1/logout', { token });

describe('POST /api/v1/public/login', () => {
  it('logs an agent in and returns a token and the agent', async () => {
    const start = Date.now();
    const res = await login(stack, 'alice', PASSWORD);
    assertOk(res, 200);
    assert.deepEqual(Object.keys(res.json).sort(), ['agent', 'expiresAt', 'token']);
    assertToken(res.json.token, 'token');
    assertNear(assertTime(res.json.expiresAt, 'expiresAt'), start + AGENT_TTL_MS, 30000, 'expiresAt');
    const { agent } = res.json;
    assert.deepEqual(Object.keys(agent).sort(), ['displayName', 'id', 'username']);
    assert.ok(Number.isSafeInteger(agent.id) && agent.id > 0, `id is ${agent.id}`);
    assert.equal(agent.username, 'alice');
    assert.equal(agent.displayName, 'Alice Wong');
  });

  it('gives each login its own token, and both work', async () => {
    const a = await stack.login('alice', PASSWORD);
    const b = await stack.login('alice', PASSWORD);
    assert.notEqual(a.token, b.token);
    assertOk(await me(stack, a.token), 200);
    assertOk(await me(stack, b.token), 200);
  });

  it('takes a password with spaces exactly as chatctl stored it', async () => {
    const res = await login(stack, 'bob.smith-2_x', 'bobs password');
    assertOk(res, 200);
    assert.equal(res.json.agent.username, 'bob.smith-2_x');
    assert.equal(typeof res.json.agent.displayName, 'string');
  });

  it('refuses a wrong password and an unknown username with the same 401 INVALID_CREDENTIALS', async () => {
    const wrong = await login(stack, 'alice', 'not the password');
    assertError(wrong, 401, 'INVALID_CREDENTIALS');
    const unknown = await login(stack, 'nobody', PASSWORD);
    assertError(unknown, 401, 'INVALID_CREDENTIALS');
    assert.deepEqual(unknown.json, wrong.json);
  });

  it('refuses a password that differs only by a trailing newline or case', async () => {
    assertError(await login(stack, 'alice', `${PASSWORD}\n`), 401, 'INVALID_CREDENTIALS');
    assertError(await login(stack, 'alice', PASSWORD.toUpperCase()), 401, 'INVALID_CREDENTIALS');
  });

  describe('refuses a missing or ill-typed field with 400 INVALID_REQUEST naming it', () => {
    const cases = [
      ['username is missing', { password: PASSWORD }, 'username'],
      ['username is a number', { username: 7, password: PASSWORD }, 'username'],
      ['username is null', { username: null, password: PASSWORD }, 'username'],
      ['password is missing', { username: 'alice' }, 'password'],
      ['password is a number', { username: 'alice', password: 12345678 }, 'password'],
      ['password is an array', { username: 'alice', password: [PASSWORD] }, 'password'],
    ];
    for (const [what, body, field] of cases) {
      it(`when ${what}`, async () => {
        const res = await stack.request('POST', '/api/v1/public/login', { body });
        assertError(res, 400, 'INVALID_REQUEST', { field });
      });
    }
  });

  it('refuses bodies that are not a JSON object with 400 and other media types with 415', async () => {
    const json = { 'Content-Type': 'application/json' };
    for (const raw of ['', '{', '[]', '"alice"', '{"username":"alice","username":"bob","password":"x"}']) {
      assertError(await stack.request('POST', '/api/v1/public/login', { rawBody: raw, headers: json }), 400, 'INVALID_REQUEST');
    }
    const valid = JSON.stringify({ username: 'alice', password: PASSWORD });
    for (const ct of [null, 'text/plain', 'application/json; charset=latin1']) {
      const res = await stack.request('POST', '/api/v1/public/login', { rawBody: valid, headers: { 'Content-Type': ct } });
      assertError(res, 415, 'UNSUPPORTED_MEDIA_TYPE');
    }
    const big = await stack.request('POST', '/api/v1/public/login', {
      rawBody: JSON.stringify({ username: 'alice', password: 'p'.repeat(1024 * 1024) }), headers: json,
    });
    assertError(big, 413, 'PAYLOAD_TOO_LARGE');
  });
});

describe('GET /api/v1/me', () => {
  it('describes a customer token', async () => {
    const c = await stack.createCustomer({ name: 'Li Si', channel: 'MOBILE', metadata: { plan: 'gold' } });
    const res = await me(stack, c.token);
    assertOk(res, 200);
    assert.deepEqual(res.json, {
      role: 'customer',
      id: c.id,
      name: 'Li Si',
      channel: 'MOBILE',
      metadata: { plan: 'gold' },
      email: null,
      createdAt: c.createdAt,
      expiresAt: c.expiresAt,
    });
  });

  it('describes an agent token', async () => {
    const l = await stack.login('alice', PASSWORD);
    const res = await me(stack, l.token);
    assertOk(res, 200);
    assert.deepEqual(res.json, {
      role: 'agent',
      id: l.agent.id,
      username: 'alice',
      displayName: 'Alice Wong',
      expiresAt: l.expiresAt,
    });
  });

  it('answers 401 MISSING_TOKEN without an Authorization header', async () => {
    assertError(await stack.request('GET', '/api/v1/me'), 401, 'MISSING_TOKEN');
  });

  describe('answers 401 MISSING_TOKEN without a bearer token', () => {
    const cases = [
      ['an empty Bearer', 'Bearer'],
      ['Bearer and a space', 'Bearer '],
      ['Basic credentials', 'Basic YWxpY2U6cGFzc3dvcmQ='],
      ['an empty header', ''],
    ];
    for (const [what, value] of cases) {
      it(`given ${what}`, async () => {
        const res = await stack.request('GET', '/api/v1/me', { headers: { Authorization: value } });
        assertError(res, 401, 'MISSING_TOKEN');
      });
    }
  });

  describe('answers 401 TOKEN_EXPIRED for a token it does not know', () => {
    const cases = [
      ['a well-formed random token', () => crypto.randomBytes(32).toString('base64url')],
      ['a short token', () => 'abc'],
      ['a token with characters outside base64url', () => `${'!'.repeat(42)}=`],
      ['a 2 KB token', () => 'A'.repeat(2048)],
    ];
    for (const [what, token] of cases) {
      it(`given ${what}`, async () => {
        assertError(await me(stack, token()), 401, 'TOKEN_EXPIRED');
      });
    }

    it('given a customer\'s refresh token', async () => {
      const c = await stack.createCustomer();
      assertError(await me(stack, c.refreshToken), 401, 'TOKEN_EXPIRED');
    });
  });
});

describe('POST /api/v1/logout', () => {
  it('ends a customer token at once and leaves the customer\'s other tokens working', async () => {
    const c = await stack.createCustomer({ name: 'Leaving' });
    const r = await stack.request('POST', '/api/v1/customers/token', {
      body: { customerId: c.id, channel: 'WEB', refreshToken: c.refreshToken },
    });
    assertOk(r, 200);

    const res = await logout(stack, c.token);
    assert.equal(res.status, 204, `logout: ${res.status} ${res.body}`);
    assert.equal(res.body, '');

    assertError(await me(stack, c.token), 401, 'TOKEN_EXPIRED');
    assertError(await logout(stack, c.token), 401, 'TOKEN_EXPIRED');
    const other = await me(stack, r.json.token);
    assertOk(other, 200);
    assert.equal(other.json.id, c.id);
  });

  it('does not end the refresh token', async () => {
    const c = await stack.createCustomer({ name: 'Back Again' });
    assert.equal((await logout(stack, c.token)).status, 204);
    const r = await stack.request('POST', '/api/v1/customers/token', {
      body: { customerId: c.id, channel: 'WEB', refreshToken: c.refreshToken },
    });
    assertOk(r, 200);
    assertOk(await me(stack, r.json.token), 200);
  });

  it('ends an agent token and leaves the agent\'s other logins working', async () => {
    const a = await stack.login('alice', PASSWORD);
    const b = await stack.login('alice', PASSWORD);
    const res = await logout(stack, a.token);
    assert.equal(res.status, 204, `logout: ${res.status} ${res.body}`);
    assert.equal(res.body, '');
    assertError(await me(stack, a.token), 401, 'TOKEN_EXPIRED');
    assertError(await logout(stack, a.token), 401, 'TOKEN_EXPIRED');
    assertOk(await me(stack, b.token), 200);
  });

  it('leaves other principals\' tokens alone', async () => {
    const c1 = await stack.createCustomer({ name: 'One' });
    const c2 = await stack.createCustomer({ name: 'Two' });
    assert.equal((await logout(stack, c1.token)).status, 204);
    assertOk(await me(stack, c2.token), 200);
  });

  it('answers 401 MISSING_TOKEN without a token and 401 TOKEN_EXPIRED with an unknown one', async () => {
    assertError(await stack.request('POST', '/api/v1/logout'), 401, 'MISSING_TOKEN');
    assertError(await logout(stack, crypto.randomBytes(32).toString('base64url')), 401, 'TOKEN_EXPIRED');
  });

  it('checks the token before the body size', async () => {
    const res = await stack.request('POST', '/api/v1/logout', {
      rawBody: Buffer.alloc(1024 * 1024, 0x20), headers: { 'Content-Type': 'application/json' },
    });
    assertError(res, 401, 'MISSING_TOKEN');
  });

  it('is refused as GET with 405 before the token is checked', async () => {
    const res = await stack.request('GET', '/api/v1/logout');
    assertError(res, 405, 'METHOD_NOT_ALLOWED');
    assert.equal(res.headers.allow, 'POST');
  });
});

describe('chatctl on a running server', () => {
  it('agent disable ends the agent\'s tokens at once and refuses its logins', async () => {
    await stack.addAgent('dave', PASSWORD);
    const a = await stack.login('dave', PASSWORD);
    const other = await stack.login('alice', PASSWORD);
    const r = await stack.chatctl(['agent', 'disable', 'dave']);
    assert.equal(r.code, 0, r.stderr);

    assertError(await me(stack, a.token), 401, 'TOKEN_EXPIRED');
    const refused = await login(stack, 'dave', PASSWORD);
    assertError(refused, 401, 'INVALID_CREDENTIALS');
    const wrong = await login(stack, 'alice', 'wrong password');
    assert.deepEqual(refused.json, wrong.json, 'a disabled agent is told apart from a wrong password');
    assertOk(await me(stack, other.token), 200);
  });

  it('agent enable lets the agent log in again, but its old tokens stay ended', async () => {
    await stack.addAgent('erin', PASSWORD, 'Erin');
    const before = await stack.login('erin', PASSWORD);
    assert.equal((await stack.chatctl(['agent', 'disable', 'erin'])).code, 0);
    assertError(await login(stack, 'erin', PASSWORD), 401, 'INVALID_CREDENTIALS');
    const r = await stack.chatctl(['agent', 'enable', 'erin']);
    assert.equal(r.code, 0, r.stderr);

    const after = await login(stack, 'erin', PASSWORD);
    assertOk(after, 200);
    assert.equal(after.json.agent.id, before.agent.id);
    assertOk(await me(stack, after.json.token), 200);
    assertError(await me(stack, before.token), 401, 'TOKEN_EXPIRED');
  });

  it('agent passwd ends the agent\'s tokens and only the new password works', async () => {
    await stack.addAgent('frank', 'old password 1');
    const a = await stack.login('frank', 'old password 1');
    const r = await stack.chatctl(['agent', 'passwd', 'frank'], 'new password 2\n');
    assert.equal(r.code, 0, r.stderr);

    assertError(await me(stack, a.token), 401, 'TOKEN_EXPIRED');
    assertError(await login(stack, 'frank', 'old password 1'), 401, 'INVALID_CREDENTIALS');
    const b = await login(stack, 'frank', 'new password 2');
    assertOk(b, 200);
    assertOk(await me(stack, b.json.token), 200);
  });

  it('a refused agent passwd changes nothing', async () => {
    await stack.addAgent('gina', 'gina password');
    const a = await stack.login('gina', 'gina password');
    const r = await stack.chatctl(['agent', 'passwd', 'gina'], 'short\n');
    assert.equal(r.code, 1);
    assertOk(await me(stack, a.token), 200);
    assertOk(await login(stack, 'gina', 'gina password'), 200);
    assertError(await login(stack, 'gina', 'short'), 401, 'INVALID_CREDENTIALS');
  });
});

describe('token lifetimes', () => {
  it('are the configured ones in expiresAt', async () => {
    const c = await short.createCustomer();
    const ms = assertTime(c.expiresAt, 'expiresAt') - assertTime(c.createdAt, 'createdAt');
    assertNear(ms, 1000, 1000, 'customer expiresAt - createdAt');
    const start = Date.now();
    const l = await short.login('carol', PASSWORD);
    const end = Date.now();
    const expires = assertTime(l.expiresAt, 'expiresAt');
    assert.ok(expires >= start + 1000 - 500 && expires <= end + 1000 + 500,
      `agent expiresAt ${l.expiresAt} is not 1 s after the login (${new Date(start).toISOString()} .. ${new Date(end).toISOString()})`);
    // And the defaults elsewhere.
    const d = await stack.createCustomer();
    assertNear(Date.parse(d.expiresAt) - Date.parse(d.createdAt), CUSTOMER_TTL_MS, 2000, 'default customer TTL');
  });

  it('end customer and agent tokens once CHAT_*_TOKEN_TTL has passed, and refresh still works', async () => {
    const c = await short.createCustomer({ name: 'Brief' });
    const l = await short.login('carol', PASSWORD);
    assertOk(await me(short, c.token), 200);
    assertOk(await me(short, l.token), 200);

    const last = Math.max(Date.parse(c.expiresAt), Date.parse(l.expiresAt));
    await sleep(Math.max(0, last - Date.now()) + 1000);

    assertError(await me(short, c.token), 401, 'TOKEN_EXPIRED');
    assertError(await me(short, l.token), 401, 'TOKEN_EXPIRED');
    assertError(await logout(short, c.token), 401, 'TOKEN_EXPIRED');

    const r = await short.request('POST', '/api/v1/customers/token', {
      body: { customerId: c.id, channel: 'WEB', refreshToken: c.refreshToken },
    });
    assertOk(r, 200);
    const fresh = await me(short, r.json.token);
    assertOk(fresh, 200);
    assert.equal(fresh.json.id, c.id);
  });
});
