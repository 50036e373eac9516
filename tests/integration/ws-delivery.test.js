'use strict';
// Proven delivery on /ws/chat: seq and receipts, the fallback of clients
// that send none, one frame per JSON value, per-user rate limits, the cap
// on connections per token, a handler that never blocks, and presence that
// follows the connection's heartbeat.

const { describe, it, before, after } = require('node:test');
const assert = require('node:assert/strict');
const { startStack } = require('./stack');
const { connect, connectReady, api, handshake, newCustomer, newAgent, handlerPids, sleep } = require('./ws-client');

// A customer with a session assigned to an agent who is online.
async function pair(stack) {
  const agent = await newAgent(stack);
  const a = (await connectReady(stack, agent.token)).client;
  const customer = await newCustomer(stack);
  const c = (await connectReady(stack, customer.token)).client;
  const s = await api(stack, 'POST', '/api/v1/sessions', { token: customer.token, body: {} });
  assert.equal(s.json.agentId, agent.id);
  await a.next((f) => f.type === 'session' && f.session.id === s.json.id);
  await c.next((f) => f.type === 'session' && f.session.id === s.json.id);
  // The line saying the agent joined: both have it before the test goes on,
  // so that it is owed to neither once they close.
  await a.nextSystem();
  await c.nextSystem();
  return { agent, customer, session: s.json, a, c };
}

// Send n messages from client and wait for their acks; returns the message ids.
async function sendAcked(client, sessionId, n, tag) {
  const ids = [];
  for (let i = 0; i < n; i++) {
    client.send({ type: 'message', sessionId, text: `${tag} ${i}`, clientMsgId: `${tag}-${i}` });
    ids.push((await client.nextType('ack')).message.id);
  }
  return ids;
}

describe('WebSocket delivery', () => {
  let stack;

  before(async () => {
    stack = await startStack({
      CHAT_WS_RATE: '0', CHAT_WS_IDLE_PING: '1', CHAT_PRESENCE_STALE: '3',
      CHAT_REQUEUE_AFTER: '2', CHAT_WS_DRAIN_TIMEOUT: '4',
    });
  });
  after(async () => { await stack.stop(); });

  it('owed frames carry a seq that grows; a receipt client gets again only what it did not confirm', async () => {
    const p = await pair(stack);
    await p.a.close();
    const ids = await sendAcked(p.c, p.session.id, 4, 'r');
    // Offline for the agent: four frames with growing seq, then the last seq.
    let r = await connectReady(stack, p.agent.token);
    assert.deepEqual(r.offline.map((m) => m.id), ids);
    const seqs = r.client.frames.filter((f) => f.type === 'offline_message').map((f) => f.seq);
    assert.ok(seqs.every((s, i) => Number.isInteger(s) && s > 0 && (i === 0 || s > seqs[i - 1])), `seqs ${seqs}`);
    const done = r.client.frames.find((f) => f.type === 'offline_messages_complete');
    assert.equal(done.seq, seqs[3]);
    // A seq never sent on this connection is refused; a confirmation of the first two stands.
    r.client.send({ type: 'received', seq: seqs[3] + 1000 });
    assert.equal((await r.client.nextType('error')).code, 'INVALID_REQUEST');
    r.client.send({ type: 'received', seq: seqs[1] });
    r.client.send({ type: 'received', seq: seqs[0] });	// lower: ignored
    r.client.send({ type: 'ping' });
    await r.client.nextType('pong');
    // Gone without confirming the rest, even after the grace: the rest comes again.
    await sleep(1300);
    r.client.ws.terminate();
    await sleep(300);
    r = await connectReady(stack, p.agent.token);
    assert.deepEqual(r.offline.map((m) => m.id), ids.slice(2));
    r.client.send({ type: 'received', seq: r.client.frames.find((f) => f.type === 'offline_messages_complete').seq });
    r.client.send({ type: 'ping' });
    await r.client.nextType('pong');
    await r.client.close();
    await sleep(200);
    r = await connectReady(stack, p.agent.token);
    assert.equal(r.count, 0);
    // A live message has its seq too, above the offline ones.
    p.c.send({ type: 'message', sessionId: p.session.id, text: 'live' });
    const live = await r.client.nextType('message');
    assert.ok(live.seq > seqs[3]);
    await r.client.close();
    await p.c.close();
  });

  it('a client without receipts is not offered again what it had before closing', async () => {
    const p = await pair(stack);
    await p.a.close();
    for (const wait of [300, 1000]) {
      await sendAcked(p.c, p.session.id, 3, `f${wait}`);
      const r = await connectReady(stack, p.agent.token);
      assert.equal(r.count, 3);
      await sleep(wait);
      await r.client.close();
      await sleep(200);
      const again = await connectReady(stack, p.agent.token);
      assert.equal(again.count, 0, `closed ${wait} ms after its offline messages`);
      await again.client.close();
      await sleep(100);
    }
    await p.c.close();
  });

  it('takes a pretty-printed frame as one and refuses a binary frame on its own', async () => {
    const p = await pair(stack);
    p.c.send(JSON.stringify({ type: 'message', sessionId: p.session.id, text: 'pretty', clientMsgId: 'pp' }, null, 2));
    const ack = await p.c.nextType('ack');
    assert.equal(ack.message.text, 'pretty');
    p.c.ws.send(Buffer.from('{"type":"ping"}'), { binary: true });
    p.c.ws.send(Buffer.from([0, 1, 2, 255]), { binary: true });
    p.c.send({ type: 'message', sessionId: p.session.id, text: 'after binary', clientMsgId: 'ab' });
    const err = await p.c.nextType('error');
    assert.equal(err.code, 'INVALID_REQUEST');
    assert.equal((await p.c.nextType('ack')).message.text, 'after binary');
    assert.equal((await p.a.nextType('message')).message.text, 'pretty');
    assert.equal((await p.a.nextType('message')).message.text, 'after binary');
    await p.a.close();
    await p.c.close();
  });

  it('pings a receipt client that went quiet and ends it when nothing answers', async () => {
    const customer = await newCustomer(stack);
    const { client } = await connectReady(stack, customer.token);
    client.send({ type: 'received', seq: 0 });
    const ping = await client.nextType('ping', 3000);
    assert.deepEqual(ping, { type: 'ping' });
    client.send({ type: 'pong' });
    await client.nextType('ping', 3000);	// answered, so asked again later
    const closed = await client.whenClosed(4000);	// not answered this time
    assert.ok(closed);
  });

  it('drops an agent whose connection stops reading, and routes past them', async (t) => {
    const p = await pair(stack);
    // A receipt client: the servers in front may buffer what it does not
    // read, but what it does not confirm shows.
    p.a.send({ type: 'received', seq: 0 });
    p.a.send({ type: 'ping' });
    await p.a.nextType('pong');
    // The agent's socket stops reading (but still writes: it is not
    // silent); the customer sends large messages.
    p.a.ws._socket.pause();
    const pinger = setInterval(() => p.a.send({ type: 'ping' }), 200);
    t.after(() => { clearInterval(pinger); p.a.ws.terminate(); });
    const big = 'é'.repeat(4000);
    for (let i = 0; i < 60; i++) {
      p.c.send({ type: 'message', sessionId: p.session.id, text: big, clientMsgId: `big-${i}` });
    }
    let acks = 0;
    while (acks < 60) { await p.c.nextType('ack', 20000); acks++; }
    // Within the drain timeout and the presence bound, the agent is gone,
    // told why once it reads again. (The drain timeout leaves a web server
    // starved of CPU for a moment room to pass on the customer's acks.)
    await sleep(5500);
    clearInterval(pinger);
    p.a.ws._socket.resume();
    const why = await p.a.next((f) => f.type === 'error');
    assert.equal(why.code, 'SLOW_CONSUMER');
    await p.a.whenClosed();
    const other = await newCustomer(stack);
    const s = await api(stack, 'POST', '/api/v1/sessions', { token: other.token, body: {} });
    assert.equal(s.json.status, 'queued', 'not routed to the agent who stopped reading');
    // The customer's connection kept working meanwhile.
    p.c.send({ type: 'ping' });
    await p.c.nextType('pong');
    // And once the agent stayed away past CHAT_REQUEUE_AFTER, their chat
    // went back to the queue, and its customer was told.
    const back = await p.c.next((f) => f.type === 'session' && f.session.id === p.session.id, 8000);
    assert.equal(back.session.status, 'queued');
    assert.equal(back.session.agentId, null);
    const again = await api(stack, 'GET', `/api/v1/sessions/${p.session.id}`, { token: p.customer.token });
    assert.equal(again.json.status, 'queued');
    await p.c.close();
    p.a.ws.terminate();
  });

  it('keeps answering while a client sends large frames back to back', async () => {
    const p = await pair(stack);
    const big = 'é'.repeat(4000);
    for (let i = 0; i < 40; i++) {
      p.c.send({ type: 'message', sessionId: p.session.id, text: big, clientMsgId: `burst-${i}` });
      p.a.send({ type: 'message', sessionId: p.session.id, text: big, clientMsgId: `back-${i}` });
    }
    p.c.send({ type: 'ping' });
    p.a.send({ type: 'ping' });
    await p.c.nextType('pong', 10000);
    await p.a.nextType('pong', 10000);
    const count = (cl) => cl.frames.filter((f) => f.type === 'ack').length;
    for (let i = 0; i < 100 && (count(p.c) < 40 || count(p.a) < 40); i++) await sleep(100);
    assert.equal(count(p.c), 40);
    assert.equal(count(p.a), 40);
    await p.a.close();
    await p.c.close();
  });
});

describe('WebSocket limits per user and token', () => {
  let stack;

  before(async () => { stack = await startStack({ CHAT_WS_RATE: '2', CHAT_WS_MAX_PER_TOKEN: '3' }); });
  after(async () => { await stack.stop(); });

  it('limits the message rate of a user across all of their connections', async () => {
    const agent = await newAgent(stack);
    const a = (await connectReady(stack, agent.token)).client;
    const customer = await newCustomer(stack);
    const conns = [];
    for (let i = 0; i < 3; i++) conns.push((await connectReady(stack, customer.token)).client);
    const s = await api(stack, 'POST', '/api/v1/sessions', { token: customer.token, body: {} });
    // Burst: 3 s of 2 a second, shared by the three connections.
    for (let i = 0; i < 12; i++) {
      conns[i % 3].send({ type: 'message', sessionId: s.json.id, text: `m${i}`, clientMsgId: `m${i}` });
    }
    await sleep(1000);
    const acks = conns.reduce((n, c) => n + c.frames.filter((f) => f.type === 'ack').length, 0);
    const limited = conns.reduce((n, c) => n + c.frames.filter((f) => f.type === 'error' && f.code === 'RATE_LIMITED').length, 0);
    assert.ok(acks >= 6 && acks <= 8, `${acks} acked`);
    assert.equal(acks + limited, 12);
    for (const c of conns) await c.close();
    await a.close();
  });

  it('refuses a connection past the cap per token at the handshake with 429', async () => {
    const customer = await newCustomer(stack);
    const conns = [];
    for (let i = 0; i < 3; i++) conns.push((await connectReady(stack, customer.token)).client);
    const res = await handshake(stack, `?token=${encodeURIComponent(customer.token)}`);
    assert.equal(res.status, 429);
    assert.equal(res.upgraded, false);
    assert.equal(res.headers['x-websocket-error-code'], 'RATE_LIMITED');
    assert.ok(res.headers['x-websocket-error-message']);
    assert.ok(Number(res.headers['retry-after']) > 0);
    assert.equal(JSON.parse(res.body).error.code, 'RATE_LIMITED');
    await conns[0].close();
    await sleep(200);
    const again = await connect(stack, customer.token);
    await again.nextType('offline_messages_complete');
    await again.close();
    for (const c of conns.slice(1)) await c.close();
  });

  it('does not count connections whose handlers were killed against the cap', async () => {
    const customer = await newCustomer(stack);
    const before = new Set(handlerPids(stack.db));
    const conns = [];
    for (let i = 0; i < 3; i++) conns.push((await connectReady(stack, customer.token)).client);
    const mine = handlerPids(stack.db).filter((pid) => !before.has(pid));
    assert.equal(mine.length, 3);
    // kill -9 leaves their rows; the next handshake finds them dead.
    for (const pid of mine) process.kill(pid, 'SIGKILL');
    await sleep(200);
    const again = await connect(stack, customer.token);
    await again.nextType('offline_messages_complete');
    await again.close();
    for (const c of conns) c.ws.terminate();
  });
});
