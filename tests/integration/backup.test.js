'use strict';
// chatctl backup and restore against a running server: a backup taken
// while messages are being written holds every message acked before it
// began, and restoring it into the live database ends the connections of
// the old one, whose clients reconnect to what was restored.

const { describe, it, before, after } = require('node:test');
const assert = require('node:assert/strict');
const fs = require('node:fs');
const os = require('node:os');
const path = require('node:path');
const { startStack, runChatctl } = require('./stack');
const { connect, connectReady, api, newCustomer, newAgent, sleep } = require('./ws-client');

// A customer and an agent online, with a session between them.
async function pair(stack) {
  const agent = await newAgent(stack, 'backup');
  const a = (await connectReady(stack, agent.token)).client;
  const customer = await newCustomer(stack);
  const c = (await connectReady(stack, customer.token)).client;
  const s = await api(stack, 'POST', '/api/v1/sessions', { token: customer.token, body: {} });
  assert.equal(s.status, 201);
  return { agent, customer, session: s.json, a, c };
}

// Send messages one after the other until stop() is called; resolves with
// every ack, each with the time it arrived.
function sendUntilStopped(client, sessionId) {
  let stopped = false;
  const acks = [];
  const done = (async () => {
    for (let i = 0; !stopped; i++) {
      client.send({ type: 'message', sessionId, text: `load ${i}`, clientMsgId: `load-${i}` });
      const ack = await client.next((f) => f.type === 'ack' && f.clientMsgId === `load-${i}`);
      acks.push({ id: ack.message.id, at: process.hrtime.bigint() });
    }
    return acks;
  })();
  return { stop() { stopped = true; return done; }, acks };
}

function messageIds(stack, token, sessionId) {
  return api(stack, 'GET', `/api/v1/sessions/${sessionId}/messages?limit=200`, { token })
    .then((r) => {
      assert.equal(r.status, 200);
      return r.json.messages.map((m) => m.id);
    });
}

describe('chatctl backup and restore', () => {
  let stack;
  let dir;

  before(async () => {
    stack = await startStack({ CHAT_WS_RATE: '0' });
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'chat-backup-'));
  });
  after(async () => {
    await stack.stop();
    if (dir) fs.rmSync(dir, { recursive: true, force: true });
  });

  it('a backup taken under write load holds every message acked before it began', async () => {
    const p = await pair(stack);
    const load = sendUntilStopped(p.c, p.session.id);
    while (load.acks.length < 30) await sleep(10);
    const file = path.join(dir, 'under-load.db');
    const began = process.hrtime.bigint();
    const r = await runChatctl(stack.db, ['backup', file]);
    const ended = process.hrtime.bigint();
    while (load.acks.filter((x) => x.at > ended).length < 10) await sleep(10);
    const acks = await load.stop();
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stdout, /backed up to .*under-load\.db \(\d+ pages\)/);
    assert.ok(!fs.existsSync(`${file}.partial`), 'no partial file left behind');

    // Restored into another running server's database, it answers there.
    const restored = await startStack({});
    try {
      const rr = await runChatctl(restored.db, ['restore', file]);
      assert.equal(rr.code, 0, rr.stderr);
      const inBackup = new Set(await messageIds(restored, p.customer.token, p.session.id));
      const before = acks.filter((x) => x.at < began);
      assert.ok(before.length >= 30);
      for (const x of before) assert.ok(inBackup.has(x.id), `acked message ${x.id} is in the backup`);
      const after = acks.filter((x) => x.at > ended);
      for (const x of after) assert.ok(!inBackup.has(x.id), `message ${x.id}, acked after, is not`);
    } finally {
      await restored.stop();
    }
    await p.a.close();
    await p.c.close();
  });

  it('restoring into the live database ends its connections; clients reconnect to the restored state', async () => {
    const p = await pair(stack);
    p.c.send({ type: 'message', sessionId: p.session.id, text: 'kept', clientMsgId: 'r-1' });
    const kept = await p.c.nextType('ack');
    const file = path.join(dir, 'live.db');
    assert.equal((await runChatctl(stack.db, ['backup', file])).code, 0);
    p.c.send({ type: 'message', sessionId: p.session.id, text: 'after the backup', clientMsgId: 'r-2' });
    const lost = await p.c.nextType('ack');

    const r = await runChatctl(stack.db, ['restore', file]);
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stdout, /restored from .*live\.db; 0 migrations applied/);
    // Every connection of the database replaced is ended at once.
    await p.a.whenClosed(5000);
    await p.c.whenClosed(5000);

    const ids = await messageIds(stack, p.customer.token, p.session.id);
    assert.ok(ids.includes(kept.message.id));
    assert.ok(!ids.includes(lost.message.id), 'what came after the backup is gone');
    // The customer reconnects with the same token and can go on.
    const again = (await connectReady(stack, p.customer.token)).client;
    again.send({ type: 'message', sessionId: p.session.id, text: 'back again', clientMsgId: 'r-3' });
    const ack = await again.nextType('ack');
    assert.equal(ack.message.text, 'back again');
    await again.close();
  });

  it('refuses an existing file, a file that is not a chat database, and the live database itself', async () => {
    const file = path.join(dir, 'exists.db');
    fs.writeFileSync(file, 'x');
    let r = await runChatctl(stack.db, ['backup', file]);
    assert.equal(r.code, 1);
    assert.match(r.stderr, /^chatctl: backup .*exists\.db: file exists; name a new one\n$/);
    assert.equal(fs.readFileSync(file, 'utf8'), 'x', 'the file is left alone');

    const junk = path.join(dir, 'junk.db');
    fs.writeFileSync(junk, 'this is not a database\n'.repeat(200));
    r = await runChatctl(stack.db, ['restore', junk]);
    assert.equal(r.code, 1);
    assert.match(r.stderr, /^chatctl: restore .*junk\.db: not a sound SQLite database: file is not a database\n$/);

    r = await runChatctl(stack.db, ['restore', file]);
    assert.equal(r.code, 1);
    assert.match(r.stderr, /^chatctl: restore .*exists\.db: not a chat database \(it has no migrations recorded\)\n$/);

    r = await runChatctl(stack.db, ['restore', stack.db]);
    assert.equal(r.code, 1);
    assert.match(r.stderr, /that is the live database itself\n$/);

    r = await runChatctl(stack.db, ['restore', path.join(dir, 'missing.db')]);
    assert.equal(r.code, 1);
    assert.match(r.stderr, /missing\.db: No such file or directory\n$/);

    r = await runChatctl(stack.db, ['backup']);
    assert.equal(r.code, 1);
    assert.match(r.stderr, /^chatctl: backup: usage: chatctl backup FILE\n$/);
    // The server is unharmed by all of it.
    const c = await newCustomer(stack);
    const conn = await connect(stack, c.token);
    await conn.nextType('offline_messages_complete');
    await conn.close();
  });
});
