'use strict';
// POST /api/v1/customers and POST /api/v1/customers/token; the order of the
// request checks (404, 405, auth, size, Content-Type, JSON, fields) and the
// static page, against one stack with customer-creation throttling off.

const { describe, it, before, after } = require('node:test');
const assert = require('node:assert/strict');
const crypto = require('node:crypto');
const {
  startStack, assertError, assertOk, assertTime, assertToken, assertNear, assertJsonType,
} = require('./stack');

const DAY_MS = 86400 * 1000;
// The contract's fields and the customer's email (null when not given).
const CREATE_KEYS = ['channel', 'createdAt', 'email', 'expiresAt', 'id', 'metadata', 'name', 'refreshToken', 'token'];

let stack;

before(async () => {
  stack = await startStack({ CHAT_CUSTOMER_CREATE_LIMIT: '0' });
});

after(async () => {
  if (stack) await stack.stop();
});

const create = (opts) => stack.request('POST', '/api/v1/customers', opts);
const refresh = (body) => stack.request('POST', '/api/v1/customers/token', { body });

/** A body of exactly n bytes that is a valid customer (JSON padded with spaces). */
function paddedCustomer(n) {
  const json = JSON.stringify({ name: 'Padded', channel: 'WEB' });
  assert.ok(n >= json.length);
  return json + ' '.repeat(n - json.length);
}

describe('the static site', () => {
  it('serves the index page at / as text/html', async () => {
    const res = await stack.request('GET', '/');
    assert.equal(res.status, 200);
    assert.match(res.headers['content-type'] || '', /^text\/html\b/);
    assert.match(res.body, /<html/i);
  });
});

describe('routing', () => {
  it('answers an unknown path under /api/v1/ with 404 NOT_FOUND', async () => {
    assertError(await stack.request('GET', '/api/v1/nope'), 404, 'NOT_FOUND');
    assertError(await stack.request('POST', '/api/v1/nope', { body: {} }), 404, 'NOT_FOUND');
  });

  it('answers 404 before checking the token', async () => {
    const res = await stack.request('GET', '/api/v1/nope', { token: 'not-a-token' });
    assertError(res, 404, 'NOT_FOUND');
  });

  it('answers GET /api/v1/customers with 405 and Allow: POST', async () => {
    const res = await stack.request('GET', '/api/v1/customers');
    assertError(res, 405, 'METHOD_NOT_ALLOWED');
    const allow = (res.headers.allow || '').split(',').map((m) => m.trim());
    assert.deepEqual(allow, ['POST'], `Allow is ${res.headers.allow}`);
  });

  it('answers DELETE /api/v1/me with 405 and an Allow header listing GET, before checking the token', async () => {
    const res = await stack.request('DELETE', '/api/v1/me');
    assertError(res, 405, 'METHOD_NOT_ALLOWED');
    const allow = (res.headers.allow || '').split(',').map((m) => m.trim());
    assert.ok(allow.includes('GET'), `Allow is ${res.headers.allow}`);
    assert.ok(!allow.includes('DELETE'), `Allow is ${res.headers.allow}`);
  });

  it('answers GET /api/v1/customers/token and GET /api/v1/public/login with 405 and Allow: POST', async () => {
    for (const p of ['/api/v1/customers/token', '/api/v1/public/login', '/api/v1/logout']) {
      const res = await stack.request('GET', p);
      assertError(res, 405, 'METHOD_NOT_ALLOWED');
      assert.equal(res.headers.allow, 'POST', `${p}: Allow is ${res.headers.allow}`);
    }
  });
});

describe('POST /api/v1/customers', () => {
  it('creates a customer and returns it with a token and a refresh token', async () => {
    const before = Date.now();
    const res = await create({ body: { name: 'Zhang San', channel: 'WEB', metadata: { source: 'homepage', n: 3 } } });
    assertOk(res, 201);
    const c = res.json;
    assert.deepEqual(Object.keys(c).sort(), CREATE_KEYS);
    assert.ok(Number.isSafeInteger(c.id) && c.id > 0, `id is ${c.id}`);
    assert.equal(c.name, 'Zhang San');
    assert.equal(c.channel, 'WEB');
    assert.deepEqual(c.metadata, { source: 'homepage', n: 3 });
    assertToken(c.token, 'token');
    assertToken(c.refreshToken, 'refreshToken');
    assert.notEqual(c.token, c.refreshToken);
    const created = assertTime(c.createdAt, 'createdAt');
    const expires = assertTime(c.expiresAt, 'expiresAt');
    assertNear(created, before, 30000, 'createdAt');
    assertNear(expires - created, DAY_MS, 2000, 'expiresAt - createdAt');
    assert.equal(c.email, null);
  });

  it('keeps the email the pre-chat form gave, and shows it to the agent with the session', async () => {
    const res = await create({ body: { name: 'Li Si', channel: 'WEB', email: 'li.si+chat@example.cn', consent: true } });
    assertOk(res, 201);
    assert.equal(res.json.email, 'li.si+chat@example.cn');
    const s = await stack.request('POST', '/api/v1/sessions', { token: res.json.token, body: {} });
    assert.equal(s.json.customerEmail, 'li.si+chat@example.cn');
  });

  it('gives each customer its own id and its own tokens', async () => {
    const a = await stack.createCustomer({ name: 'A' });
    const b = await stack.createCustomer({ name: 'B' });
    assert.notEqual(a.id, b.id);
    assert.ok(b.id > a.id, `ids ${a.id} then ${b.id}`);
    const tokens = new Set([a.token, a.refreshToken, b.token, b.refreshToken]);
    assert.equal(tokens.size, 4);
  });

  it('treats absent or null metadata as {}', async () => {
    const absent = await create({ body: { name: 'No Meta', channel: 'WEB' } });
    assertOk(absent, 201);
    assert.deepEqual(absent.json.metadata, {});
    const nul = await create({ body: { name: 'Null Meta', channel: 'WEB', metadata: null } });
    assertOk(nul, 201);
    assert.deepEqual(nul.json.metadata, {});
  });

  it('keeps nested metadata as it was given', async () => {
    const metadata = { page: { url: 'https://example.com/a?b=c', title: 'Ünïcødé 你好' }, tags: ['x', 'y'], vip: true, score: 1.5, none: null };
    const res = await create({ body: { name: 'Nested', channel: 'APP_2', metadata } });
    assertOk(res, 201);
    assert.deepEqual(res.json.metadata, metadata);
  });

  it('accepts a name of 100 multi-byte characters and returns it unchanged', async () => {
    for (const ch of ['é', '你', '😀']) {
      const name = ch.repeat(100);
      const res = await create({ body: { name, channel: 'WEB' } });
      assertOk(res, 201);
      assert.equal(res.json.name, name);
    }
  });

  it('accepts a name of 100 ASCII characters and a channel of 32', async () => {
    const name = 'n'.repeat(100);
    const channel = 'A_0'.repeat(10) + 'ZZ';
    const res = await create({ body: { name, channel } });
    assertOk(res, 201);
    assert.equal(res.json.name, name);
    assert.equal(res.json.channel, channel);
  });

  it('accepts metadata of exactly 4096 bytes of compact JSON', async () => {
    const metadata = { k: 'x'.repeat(4096 - '{"k":""}'.length) };
    assert.equal(JSON.stringify(metadata).length, 4096);
    const res = await create({ body: { name: 'Big Meta', channel: 'WEB', metadata } });
    assertOk(res, 201);
    assert.deepEqual(res.json.metadata, metadata);
  });

  it('accepts a Content-Type of application/json; charset=utf-8', async () => {
    for (const ct of ['application/json; charset=utf-8', 'application/json;charset=UTF-8']) {
      const res = await create({
        rawBody: JSON.stringify({ name: 'Charset', channel: 'WEB' }),
        headers: { 'Content-Type': ct },
      });
      assertOk(res, 201);
    }
  });

  it('ignores fields it does not know', async () => {
    const res = await create({ body: { name: 'Extra', channel: 'WEB', color: 'blue', id: 12345 } });
    assertOk(res, 201);
    assert.equal(res.json.name, 'Extra');
    assert.notEqual(res.json.id, 12345);
  });

  it('does not throttle creation when CHAT_CUSTOMER_CREATE_LIMIT is 0', async () => {
    for (let i = 0; i < 40; i++) {
      await stack.createCustomer({ name: `Many ${i}` });
    }
  });

  describe('refuses a bad field with 400 INVALID_REQUEST naming the field', () => {
    const cases = [
      ['name is missing', { channel: 'WEB' }, 'name'],
      ['name is a number', { name: 1, channel: 'WEB' }, 'name'],
      ['name is null', { name: null, channel: 'WEB' }, 'name'],
      ['name is an object', { name: { first: 'a' }, channel: 'WEB' }, 'name'],
      ['name is empty', { name: '', channel: 'WEB' }, 'name'],
      ['name has 101 characters', { name: 'n'.repeat(101), channel: 'WEB' }, 'name'],
      ['name has 101 multi-byte characters', { name: '你'.repeat(101), channel: 'WEB' }, 'name'],
      ['name has a newline', { name: 'a\nb', channel: 'WEB' }, 'name'],
      ['name has a control character', { name: 'a\u0001b', channel: 'WEB' }, 'name'],
      ['name has DEL', { name: 'a\u007fb', channel: 'WEB' }, 'name'],
      ['name has NEL (C1)', { name: 'a\u0085b', channel: 'WEB' }, 'name'],
      ['name has a right-to-left override', { name: 'evil\u202etxt.exe', channel: 'WEB' }, 'name'],
      ['name has a bidi isolate', { name: 'a\u2067b', channel: 'WEB' }, 'name'],
      ['name has a line separator', { name: 'a\u2028b', channel: 'WEB' }, 'name'],
      ['name is only white space', { name: '\u3000\u00a0 ', channel: 'WEB' }, 'name'],
      ['a metadata key has an override', { name: 'x', channel: 'WEB', metadata: { 'k\u202e': 1 } }, 'metadata'],
      ['channel is missing', { name: 'x' }, 'channel'],
      ['channel is lowercase', { name: 'x', channel: 'web' }, 'channel'],
      ['channel is empty', { name: 'x', channel: '' }, 'channel'],
      ['channel has 33 characters', { name: 'x', channel: 'A'.repeat(33) }, 'channel'],
      ['channel has a dash', { name: 'x', channel: 'WEB-1' }, 'channel'],
      ['channel has a space', { name: 'x', channel: 'WEB ' }, 'channel'],
      ['channel is a number', { name: 'x', channel: 7 }, 'channel'],
      ['metadata is an array', { name: 'x', channel: 'WEB', metadata: [1, 2] }, 'metadata'],
      ['metadata is a string', { name: 'x', channel: 'WEB', metadata: '{}' }, 'metadata'],
      ['metadata is a number', { name: 'x', channel: 'WEB', metadata: 5 }, 'metadata'],
      ['metadata is true', { name: 'x', channel: 'WEB', metadata: true }, 'metadata'],
      ['metadata has 4097 bytes', { name: 'x', channel: 'WEB', metadata: { k: 'x'.repeat(4089) } }, 'metadata'],
      ['metadata has 5 KiB', { name: 'x', channel: 'WEB', metadata: { blob: 'y'.repeat(5 * 1024) } }, 'metadata'],
    ];
    for (const [what, body, field] of cases) {
      it(`when ${what}`, async () => {
        assertError(await create({ body }), 400, 'INVALID_REQUEST', { field });
      });
    }
  });

  describe('refuses a body that is not a JSON object with 400 INVALID_REQUEST', () => {
    const cases = [
      ['an empty body', ''],
      ['text that is not JSON', 'hello'],
      ['truncated JSON', '{"name":"x","channel":"WEB"'],
      ['JSON with unquoted keys', '{name:"x",channel:"WEB"}'],
      ['JSON followed by garbage', '{"name":"x","channel":"WEB"} x'],
      ['two JSON objects', '{"name":"x","channel":"WEB"}{"name":"y","channel":"WEB"}'],
      ['an array', '[{"name":"x","channel":"WEB"}]'],
      ['a string', '"name"'],
      ['a number', '42'],
      ['null', 'null'],
      ['true', 'true'],
      ['a duplicate key', '{"name":"x","name":"y","channel":"WEB"}'],
      ['invalid UTF-8', Buffer.concat([Buffer.from('{"name":"'), Buffer.from([0xff, 0xfe]), Buffer.from('","channel":"WEB"}')])],
    ];
    for (const [what, raw] of cases) {
      it(`given ${what}`, async () => {
        const res = await create({ rawBody: raw, headers: { 'Content-Type': 'application/json' } });
        assertError(res, 400, 'INVALID_REQUEST');
      });
    }
  });

  describe('refuses a body that is not application/json with 415 UNSUPPORTED_MEDIA_TYPE', () => {
    const valid = JSON.stringify({ name: 'x', channel: 'WEB' });
    const cases = [
      ['no Content-Type', null],
      ['text/plain', 'text/plain'],
      ['application/json; charset=latin1', 'application/json; charset=latin1'],
      ['application/json; charset=iso-8859-1', 'application/json; charset=iso-8859-1'],
      ['application/x-www-form-urlencoded', 'application/x-www-form-urlencoded'],
      ['application/jsonx', 'application/jsonx'],
    ];
    for (const [what, ct] of cases) {
      it(`given ${what}`, async () => {
        const headers = ct === null ? {} : { 'Content-Type': ct };
        assertError(await create({ rawBody: valid, headers }), 415, 'UNSUPPORTED_MEDIA_TYPE');
      });
    }

    it('before parsing the body', async () => {
      const res = await create({ rawBody: 'not json', headers: { 'Content-Type': 'text/plain' } });
      assertError(res, 415, 'UNSUPPORTED_MEDIA_TYPE');
    });
  });

  describe('limits the body to CHAT_MAX_BODY (65536 bytes)', () => {
    it('accepts a body of exactly 65536 bytes', async () => {
      const res = await create({ rawBody: paddedCustomer(65536), headers: { 'Content-Type': 'application/json' } });
      assertOk(res, 201);
      assert.equal(res.json.name, 'Padded');
    });

    it('refuses a body of 65537 bytes with 413 PAYLOAD_TOO_LARGE', async () => {
      const res = await create({ rawBody: paddedCustomer(65537), headers: { 'Content-Type': 'application/json' } });
      assertError(res, 413, 'PAYLOAD_TOO_LARGE');
    });

    it('refuses a 1 MiB body with 413 PAYLOAD_TOO_LARGE', async () => {
      const res = await create({ rawBody: paddedCustomer(1024 * 1024), headers: { 'Content-Type': 'application/json' } });
      assertError(res, 413, 'PAYLOAD_TOO_LARGE');
    });

    it('checks the size before the Content-Type', async () => {
      const res = await create({ rawBody: Buffer.alloc(1024 * 1024, 0x61), headers: { 'Content-Type': 'text/plain' } });
      assertError(res, 413, 'PAYLOAD_TOO_LARGE');
    });

    it('refuses a 1 MiB body to the refresh call with 413 too', async () => {
      const res = await stack.request('POST', '/api/v1/customers/token', {
        rawBody: ' '.repeat(1024 * 1024), headers: { 'Content-Type': 'application/json' },
      });
      assertError(res, 413, 'PAYLOAD_TOO_LARGE');
    });
  });
});

describe('POST /api/v1/customers/token', () => {
  let customer;

  before(async () => {
    customer = await stack.createCustomer({ name: 'Refresher', channel: 'WEB', metadata: { tab: 1 } });
  });

  it('returns a new access token that works on /me, while the old one keeps working', async () => {
    const start = Date.now();
    const res = await refresh({ customerId: customer.id, channel: 'WEB', refreshToken: customer.refreshToken });
    assertOk(res, 200);
    assert.deepEqual(Object.keys(res.json).sort(), ['expiresAt', 'token']);
    assertToken(res.json.token, 'token');
    assert.notEqual(res.json.token, customer.token);
    assert.notEqual(res.json.token, customer.refreshToken);
    const expires = assertTime(res.json.expiresAt, 'expiresAt');
    assertNear(expires, start + DAY_MS, 30000, 'expiresAt');

    const meNew = await stack.request('GET', '/api/v1/me', { token: res.json.token });
    assertOk(meNew, 200);
    assert.equal(meNew.json.role, 'customer');
    assert.equal(meNew.json.id, customer.id);
    assert.equal(meNew.json.expiresAt, res.json.expiresAt);

    const meOld = await stack.request('GET', '/api/v1/me', { token: customer.token });
    assertOk(meOld, 200);
    assert.equal(meOld.json.id, customer.id);
  });

  it('lets the same refresh token be used again', async () => {
    const body = { customerId: customer.id, channel: 'WEB', refreshToken: customer.refreshToken };
    const a = await refresh(body);
    const b = await refresh(body);
    assertOk(a, 200);
    assertOk(b, 200);
    assert.notEqual(a.json.token, b.json.token);
  });

  it('needs no Authorization header', async () => {
    const res = await stack.request('POST', '/api/v1/customers/token', {
      body: { customerId: customer.id, channel: 'WEB', refreshToken: customer.refreshToken },
      headers: { Authorization: null },
    });
    assertOk(res, 200);
  });

  describe('answers 401 TOKEN_EXPIRED, all alike', () => {
    const cases = [
      ['the refresh token is wrong', () => ({ customerId: customer.id, channel: 'WEB', refreshToken: crypto.randomBytes(32).toString('base64url') })],
      ['the channel is another well-formed one', () => ({ customerId: customer.id, channel: 'APP', refreshToken: customer.refreshToken })],
      ['the customer does not exist', () => ({ customerId: 987654321, channel: 'WEB', refreshToken: customer.refreshToken })],
      ['the access token is given as the refresh token', () => ({ customerId: customer.id, channel: 'WEB', refreshToken: customer.token })],
      ['the refresh token is not base64', () => ({ customerId: customer.id, channel: 'WEB', refreshToken: 'not a token at all!' })],
    ];
    for (const [what, body] of cases) {
      it(`when ${what}`, async () => {
        assertError(await refresh(body()), 401, 'TOKEN_EXPIRED');
      });
    }

    it('when the refresh token is another customer\'s', async () => {
      const other = await stack.createCustomer({ name: 'Other', channel: 'WEB' });
      const res = await refresh({ customerId: customer.id, channel: 'WEB', refreshToken: other.refreshToken });
      assertError(res, 401, 'TOKEN_EXPIRED');
    });

    it('with the same message whichever field is wrong', async () => {
      const wrongToken = await refresh({ customerId: customer.id, channel: 'WEB', refreshToken: crypto.randomBytes(32).toString('base64url') });
      const wrongChannel = await refresh({ customerId: customer.id, channel: 'APP', refreshToken: customer.refreshToken });
      const unknown = await refresh({ customerId: 987654321, channel: 'WEB', refreshToken: customer.refreshToken });
      assert.deepEqual(wrongChannel.json, wrongToken.json);
      assert.deepEqual(unknown.json, wrongToken.json);
    });
  });

  describe('refuses a missing or ill-typed field with 400 INVALID_REQUEST naming it', () => {
    const cases = [
      ['customerId is missing', () => ({ channel: 'WEB', refreshToken: customer.refreshToken }), 'customerId'],
      ['customerId is a string', () => ({ customerId: String(customer.id), channel: 'WEB', refreshToken: customer.refreshToken }), 'customerId'],
      ['customerId is 0', () => ({ customerId: 0, channel: 'WEB', refreshToken: customer.refreshToken }), 'customerId'],
      ['customerId is negative', () => ({ customerId: -customer.id, channel: 'WEB', refreshToken: customer.refreshToken }), 'customerId'],
      ['customerId is a fraction', () => ({ customerId: customer.id + 0.5, channel: 'WEB', refreshToken: customer.refreshToken }), 'customerId'],
      ['customerId is null', () => ({ customerId: null, channel: 'WEB', refreshToken: customer.refreshToken }), 'customerId'],
      ['channel is missing', () => ({ customerId: customer.id, refreshToken: customer.refreshToken }), 'channel'],
      ['channel is a number', () => ({ customerId: customer.id, channel: 1, refreshToken: customer.refreshToken }), 'channel'],
      ['channel is lowercase', () => ({ customerId: customer.id, channel: 'web', refreshToken: customer.refreshToken }), 'channel'],
      ['refreshToken is missing', () => ({ customerId: customer.id, channel: 'WEB' }), 'refreshToken'],
      ['refreshToken is a number', () => ({ customerId: customer.id, channel: 'WEB', refreshToken: 12345 }), 'refreshToken'],
      ['refreshToken is null', () => ({ customerId: customer.id, channel: 'WEB', refreshToken: null }), 'refreshToken'],
      ['refreshToken is empty', () => ({ customerId: customer.id, channel: 'WEB', refreshToken: '' }), 'refreshToken'],
    ];
    for (const [what, body, field] of cases) {
      it(`when ${what}`, async () => {
        assertError(await refresh(body()), 400, 'INVALID_REQUEST', { field });
      });
    }
  });

  it('refuses a body that is not JSON or not an object with 400, and no Content-Type with 415', async () => {
    const headers = { 'Content-Type': 'application/json' };
    for (const raw of ['', 'nope', '[]', '"x"', '1']) {
      assertError(await stack.request('POST', '/api/v1/customers/token', { rawBody: raw, headers }), 400, 'INVALID_REQUEST');
    }
    const valid = JSON.stringify({ customerId: customer.id, channel: 'WEB', refreshToken: customer.refreshToken });
    assertError(await stack.request('POST', '/api/v1/customers/token', { rawBody: valid }), 415, 'UNSUPPORTED_MEDIA_TYPE');
  });
});

describe('every API answer', () => {
  it('is application/json, successes and errors alike', async () => {
    const answers = [
      await create({ body: { name: 'Type', channel: 'WEB' } }),
      await create({ body: { name: 1 } }),
      await stack.request('GET', '/api/v1/nope'),
      await stack.request('GET', '/api/v1/me'),
    ];
    for (const res of answers) assertJsonType(res);
  });
});
