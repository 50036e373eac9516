'use strict';
// Upgrades: a new release's migrations applied with chatctl migrate to a
// live database while messages flow lose nothing, and a migration that
// fails leaves the database as it was, saying which file failed.

const { describe, it, before, after } = require('node:test');
const assert = require('node:assert/strict');
const fs = require('node:fs');
const os = require('node:os');
const path = require('node:path');
const { startStack, runProgram } = require('./stack');
const { connectReady, api, newCustomer, newAgent, sleep } = require('./ws-client');

const ROOT = path.resolve(__dirname, '..', '..');
const CHATCTL = path.join(process.env.CHAT_BUILD_DIR || path.join(ROOT, 'build'), 'chatctl');

// chatctl with migrations from sqlDir; resolves with {code, stdout, stderr}.
function chatctl(db, sqlDir, args) {
  return runProgram(CHATCTL, args, undefined, { env: { PATH: process.env.PATH, CHAT_DB: db, CHAT_SQL_DIR: sqlDir } });
}

// Every table, index and column of the database, as sqlite_schema says.
async function schemaOf(stack) {
  const r = await runProgram('sqlite3', [stack.db, 'SELECT type, name, sql FROM sqlite_schema ORDER BY name;'
    + ' SELECT version FROM schema_migrations ORDER BY version;']);
  if (r.code !== 0) throw new Error(`sqlite3 exit ${r.code}: ${r.stderr}`);
  return r.stdout;
}

describe('upgrades with chatctl migrate', () => {
  let stack;
  let sqlDir;

  before(async () => {
    // The release being upgraded: today's migrations, in a directory of its own.
    sqlDir = fs.mkdtempSync(path.join(os.tmpdir(), 'chat-sql-'));
    for (const f of fs.readdirSync(path.join(ROOT, 'sql'))) {
      fs.copyFileSync(path.join(ROOT, 'sql', f), path.join(sqlDir, f));
    }
    stack = await startStack({ CHAT_SQL_DIR: sqlDir, CHAT_WS_RATE: '0' });
  });
  after(async () => {
    await stack.stop();
    if (sqlDir) fs.rmSync(sqlDir, { recursive: true, force: true });
  });

  it('applies a new migration to the live database while messages flow, losing none', async () => {
    const agent = await newAgent(stack, 'upgrade');
    const a = (await connectReady(stack, agent.token)).client;
    const customer = await newCustomer(stack);
    const c = (await connectReady(stack, customer.token)).client;
    const s = (await api(stack, 'POST', '/api/v1/sessions', { token: customer.token, body: {} })).json;

    let stop = false;
    const acked = [];
    const load = (async () => {
      for (let i = 0; !stop; i++) {
        c.send({ type: 'message', sessionId: s.id, text: `during upgrade ${i}`, clientMsgId: `u-${i}` });
        acked.push((await c.next((f) => f.type === 'ack' && f.clientMsgId === `u-${i}`)).message.id);
      }
    })();
    while (acked.length < 20) await sleep(10);
    // A new release adds a column and an index to the busiest table.
    fs.writeFileSync(path.join(sqlDir, '900_upgrade_test.sql'),
      '-- A later release: messages get an edit time.\n'
      + 'ALTER TABLE messages ADD COLUMN edited_at INTEGER;\n'
      + 'CREATE INDEX messages_edited ON messages (edited_at) WHERE edited_at IS NOT NULL;\n');
    const r = await chatctl(stack.db, sqlDir, ['migrate']);
    const atMigrate = acked.length;
    while (acked.length < atMigrate + 20) await sleep(10);
    stop = true;
    await load;
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stdout, /1 migration applied/);
    assert.match(await schemaOf(stack), /edited_at INTEGER/);

    // Every acked message is stored once and reached the agent, in order.
    const got = [];
    while (got.length < acked.length) got.push((await a.nextType('message')).message.id);
    assert.deepEqual(got, acked);
    const stored = await api(stack, 'GET', `/api/v1/sessions/${s.id}/messages?limit=200`, { token: customer.token });
    assert.deepEqual(stored.json.messages.filter((m) => m.senderType !== 'system').map((m) => m.id), acked);
    // New connections start on the upgraded database.
    const again = (await connectReady(stack, customer.token)).client;
    await again.close();
    await a.close();
    await c.close();
  });

  it('a migration that fails leaves the database as it was and names the file', async () => {
    const before = await schemaOf(stack);
    fs.writeFileSync(path.join(sqlDir, '901_first.sql'), 'CREATE TABLE upgrade_probe (id INTEGER PRIMARY KEY);\n');
    fs.writeFileSync(path.join(sqlDir, '902_broken.sql'),
      'ALTER TABLE messages ADD COLUMN flagged INTEGER;\nALTER TABLE no_such_table ADD COLUMN x INTEGER;\n');
    const r = await chatctl(stack.db, sqlDir, ['migrate']);
    assert.equal(r.code, 1);
    assert.match(r.stderr, /^chatctl: migrate: .*902_broken\.sql.*no such table: no_such_table.*nothing was applied\n$/);
    assert.equal(await schemaOf(stack), before, 'neither 901 nor the first half of 902 is left behind');
    // With the broken release taken back, the server goes on as before.
    fs.rmSync(path.join(sqlDir, '901_first.sql'));
    fs.rmSync(path.join(sqlDir, '902_broken.sql'));
    const customer = await newCustomer(stack);
    const c = (await connectReady(stack, customer.token)).client;
    await c.close();
  });
});
