'use strict';
// Throttling: failed agent logins per username and per client address, and
// customer creations per client address, up to 429 and back once
// Retry-After has passed. Every request here comes from 127.0.0.1, so each
// stack throttles one thing and turns the others off.

const { describe, it, before, after } = require('node:test');
const assert = require('node:assert/strict');
const {
  startStack, assertError, assertOk, assertThrottled, sleep,
} = require('./stack');

// Sleeping exactly Retry-After must do; the margin covers timer granularity only.
const MARGIN_MS = 150;

const USER_WINDOW = 4;
const ADDR_WINDOW = 4;
const CREATE_WINDOW = 2;

let defaults; // the default settings: 5 failures per username, 30 creations per minute
let perUser;  // 3 failures per username per 4 s, no address limit
let perAddr;  // 3 failures per address per 4 s, no username limit
let creates;  // 2 creations per 2 s

before(async () => {
  [defaults, perUser, perAddr, creates] = await Promise.all([
    startStack({}),
    startStack({
      CHAT_LOGIN_USER_LIMIT: '3', CHAT_LOGIN_ADDR_LIMIT: '0', CHAT_LOGIN_WINDOW: String(USER_WINDOW),
    }),
    startStack({
      CHAT_LOGIN_USER_LIMIT: '0', CHAT_LOGIN_ADDR_LIMIT: '3', CHAT_LOGIN_WINDOW: String(ADDR_WINDOW),
    }),
    startStack({
      CHAT_CUSTOMER_CREATE_LIMIT: '2', CHAT_CUSTOMER_CREATE_WINDOW: String(CREATE_WINDOW),
    }),
  ]);
  await Promise.all([
    defaults.addAgent('dee', 'dee password'),
    defaults.addAgent('dum', 'dum password'),
    perUser.addAgent('uma', 'uma password'),
    perUser.addAgent('ulf', 'ulf password'),
    perUser.addAgent('una', 'una password'),
    perAddr.addAgent('ada', 'ada password'),
    perAddr.addAgent('abe', 'abe password'),
  ]);
});

after(async () => {
  await Promise.all([defaults, perUser, perAddr, creates].map((s) => s && s.stop()));
});

const login = (s, username, password) =>
  s.request('POST', '/api/v1/public/login', { body: { username, password } });
const create = (s, body) => s.request('POST', '/api/v1/customers', { body });

describe('agent login throttling per username', () => {
  it('answers 429 after CHAT_LOGIN_USER_LIMIT failures, even to the right password, until Retry-After has passed', async () => {
    for (let i = 0; i < 3; i++) {
      assertError(await login(perUser, 'uma', `wrong ${i}`), 401, 'INVALID_CREDENTIALS');
    }
    assertThrottled(await login(perUser, 'uma', 'uma password'), USER_WINDOW);
    assertThrottled(await login(perUser, 'uma', 'still wrong'), USER_WINDOW);
    // Field checks come before throttling.
    assertError(await perUser.request('POST', '/api/v1/public/login', { body: { username: 'uma' } }),
      400, 'INVALID_REQUEST', { field: 'password' });
    const retry = assertThrottled(await login(perUser, 'uma', 'uma password'), USER_WINDOW);

    await sleep(retry * 1000 + MARGIN_MS);
    const ok = await login(perUser, 'uma', 'uma password');
    assertOk(ok, 200);
    assert.equal(ok.json.agent.username, 'uma');
  });

  it('counts each username on its own', async () => {
    for (let i = 0; i < 3; i++) {
      assertError(await login(perUser, 'ulf', `wrong ${i}`), 401, 'INVALID_CREDENTIALS');
    }
    assertThrottled(await login(perUser, 'ulf', 'ulf password'), USER_WINDOW);
    assertOk(await login(perUser, 'una', 'una password'), 200);
  });

  it('clears a username\'s failures on a successful login', async () => {
    assertError(await login(perUser, 'una', 'wrong a'), 401, 'INVALID_CREDENTIALS');
    assertError(await login(perUser, 'una', 'wrong b'), 401, 'INVALID_CREDENTIALS');
    assertOk(await login(perUser, 'una', 'una password'), 200);
    assertError(await login(perUser, 'una', 'wrong c'), 401, 'INVALID_CREDENTIALS');
    assertError(await login(perUser, 'una', 'wrong d'), 401, 'INVALID_CREDENTIALS');
    assertOk(await login(perUser, 'una', 'una password'), 200);
  });

  it('throttles an unknown username like a known one', async () => {
    for (let i = 0; i < 3; i++) {
      assertError(await login(perUser, 'ghost', `wrong ${i}`), 401, 'INVALID_CREDENTIALS');
    }
    assertThrottled(await login(perUser, 'ghost', 'anything'), USER_WINDOW);
  });

  it('with the defaults, answers 429 after five failures with a Retry-After within 900 s', async () => {
    for (let i = 0; i < 5; i++) {
      assertError(await login(defaults, 'dee', `wrong ${i}`), 401, 'INVALID_CREDENTIALS');
    }
    const retry = assertThrottled(await login(defaults, 'dee', 'dee password'), 900);
    assert.ok(retry > 800, `Retry-After ${retry} for a 900 s window just started`);
    assertOk(await login(defaults, 'dum', 'dum password'), 200);
  });
});

describe('agent login throttling per client address', () => {
  it('answers 429 to every username after CHAT_LOGIN_ADDR_LIMIT failures from one address, until Retry-After has passed', async () => {
    assertError(await login(perAddr, 'ada', 'wrong'), 401, 'INVALID_CREDENTIALS');
    assertError(await login(perAddr, 'abe', 'wrong'), 401, 'INVALID_CREDENTIALS');
    assertError(await login(perAddr, 'nobody', 'wrong'), 401, 'INVALID_CREDENTIALS');
    assertThrottled(await login(perAddr, 'ada', 'ada password'), ADDR_WINDOW);
    const retry = assertThrottled(await login(perAddr, 'abe', 'abe password'), ADDR_WINDOW);

    await sleep(retry * 1000 + MARGIN_MS);
    assertOk(await login(perAddr, 'abe', 'abe password'), 200);
  });
});

describe('customer creation throttling per client address', () => {
  it('answers 429 after CHAT_CUSTOMER_CREATE_LIMIT creations, until Retry-After has passed', async () => {
    assertOk(await create(creates, { name: 'One', channel: 'WEB' }), 201);
    assertOk(await create(creates, { name: 'Two', channel: 'WEB' }), 201);
    assertThrottled(await create(creates, { name: 'Three', channel: 'WEB' }), CREATE_WINDOW);
    // Refused requests are not creations, and field checks come first.
    assertError(await create(creates, { name: 'Bad', channel: 'web' }), 400, 'INVALID_REQUEST', { field: 'channel' });
    const retry = assertThrottled(await create(creates, { name: 'Three', channel: 'WEB' }), CREATE_WINDOW);

    await sleep(retry * 1000 + MARGIN_MS);
    const res = await create(creates, { name: 'Three', channel: 'WEB' });
    assertOk(res, 201);
    assert.equal(res.json.name, 'Three');
  });

  it('with the defaults, allows 30 creations a minute and then answers 429 with a Retry-After within 60 s', async () => {
    for (let i = 0; i < 30; i++) {
      assertOk(await create(defaults, { name: `Customer ${i}`, channel: 'WEB' }), 201);
    }
    assertThrottled(await create(defaults, { name: 'One Too Many', channel: 'WEB' }), 60);
  });
});
