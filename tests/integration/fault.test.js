'use strict';
// Handlers killed with SIGKILL at random during a burst of traffic: every
// acked message still reaches the agent, none twice on one connection, and
// a message reaches a second connection only when the first one that got
// it was killed before it could be marked delivered.

const { describe, it, before, after } = require('node:test');
const assert = require('node:assert/strict');
const { startStack } = require('./stack');
const { connect, api, newCustomer, newAgent, handlerPids, sleep } = require('./ws-client');

const MESSAGES = 300;
const WINDOW = 5;

// A connection that comes back whenever it is dropped, like the real client.
function resilient(stack, token, onFrame) {
  const state = { conn: null, generation: 0, stopped: false, opened: 0, dropped: new Set() };
  async function open() {
    while (!state.stopped) {
      try {
        const client = await connect(stack, token);
        state.generation += 1;
        state.opened += 1;
        const gen = state.generation;
        state.conn = client;
        // Frames that came with the handshake's packet were emitted before
        // this point: take them from what the client kept, then listen.
        for (const f of client.frames) onFrame(f, gen);
        client.ws.on('message', (d) => onFrame(JSON.parse(d.toString()), gen));
        client.ws.on('close', (code) => {
          // 1006: no close frame, the handler was killed under it.
          if (code === 1006) state.dropped.add(gen);
          if (state.conn === client) state.conn = null;
          if (!state.stopped) setTimeout(open, 50);
        });
        return;
      } catch (e) {
        await sleep(100);
      }
    }
  }
  state.ready = open();
  state.stop = async () => {
    state.stopped = true;
    if (state.conn) await state.conn.close().catch(() => {});
  };
  return state;
}

describe('fault tolerance', () => {
  let stack;

  before(async () => { stack = await startStack({ CHAT_WS_RATE: '0' }); });

  // Reconnecting links and the killer, stopped however the test ends.
  const cleanups = [];
  after(async () => {
    for (const f of cleanups) await f();
    await stack.stop();
  });

  it('delivers every acked message exactly once per connection while handlers are killed', async () => {
    const agent = await newAgent(stack);
    const customer = await newCustomer(stack);

    // Agent side: who got which message on which connection.
    const seenOn = new Map();	// message id -> [generation, ...]
    const perConn = new Map();	// generation -> Set of ids
    let dupWithinConn = 0;
    const agentLink = resilient(stack, agent.token, (f, gen) => {
      if (f.type !== 'message' && f.type !== 'offline_message') return;
      const id = f.message.id;
      if (!perConn.has(gen)) perConn.set(gen, new Set());
      if (perConn.get(gen).has(id)) dupWithinConn += 1;
      perConn.get(gen).add(id);
      if (!seenOn.has(id)) seenOn.set(id, []);
      seenOn.get(id).push(gen);
    });
    cleanups.push(agentLink.stop);
    await agentLink.ready;
    await sleep(100);
    const session = (await api(stack, 'POST', '/api/v1/sessions', { token: customer.token })).json;
    assert.equal(session.agentId, agent.id);

    // Customer side: an outbox resent after every reconnect until acked.
    const acked = new Map();	// clientMsgId -> message id
    const sentAt = new Map();
    let next = 0;
    const custLink = resilient(stack, customer.token, (f) => {
      if (f.type === 'ack') acked.set(f.clientMsgId, f.message.id);
      if (f.type === 'offline_messages_complete') sentAt.clear();	// resend the outbox
    });
    cleanups.push(custLink.stop);
    await custLink.ready;

    // Kill handlers at random while the burst runs.
    let kills = 0;
    const killer = setInterval(() => {
      const pids = handlerPids(stack.db);
      if (pids.length === 0) return;
      try { process.kill(pids[Math.floor(Math.random() * pids.length)], 'SIGKILL'); kills += 1; } catch (e) { /* gone */ }
    }, 120);
    cleanups.push(() => clearInterval(killer));

    const deadline = Date.now() + 60000;
    while (acked.size < MESSAGES && Date.now() < deadline) {
      const conn = custLink.conn;
      if (conn && conn.ws.readyState === 1) {
        const outstanding = [...sentAt.keys()].filter((k) => !acked.has(k));
        // Resend what waited too long (its connection died), then new ones.
        for (const k of outstanding) {
          if (Date.now() - sentAt.get(k) > 1000) {
            conn.send({ type: 'message', sessionId: session.id, text: `burst ${k}`, clientMsgId: k });
            sentAt.set(k, Date.now());
          }
        }
        for (let i = outstanding.length; i < WINDOW && next < MESSAGES; i++) {
          const k = `cm-${next++}`;
          conn.send({ type: 'message', sessionId: session.id, text: `burst ${k}`, clientMsgId: k });
          sentAt.set(k, Date.now());
        }
        // Unacked ids sent on a connection that died get sent again.
        for (let i = 0; i < next; i++) {
          const k = `cm-${i}`;
          if (!acked.has(k) && !sentAt.has(k)) {
            conn.send({ type: 'message', sessionId: session.id, text: `burst ${k}`, clientMsgId: k });
            sentAt.set(k, Date.now());
          }
        }
      }
      if (Date.now() - (deadline - 60000) > 3000 && kills > 0 && next >= MESSAGES) clearInterval(killer);
      await sleep(20);
    }
    clearInterval(killer);
    assert.equal(acked.size, MESSAGES, `all ${MESSAGES} acked (kills: ${kills})`);
    assert.ok(kills >= 3, `handlers were killed (${kills})`);

    // Let the agent's connection settle and catch up.
    const ids = new Set(acked.values());
    const until = Date.now() + 15000;
    while ([...ids].some((id) => !seenOn.has(id)) && Date.now() < until) await sleep(100);
    const missing = [...ids].filter((id) => !seenOn.has(id));
    assert.deepEqual(missing, [], 'every acked message reached the agent');
    assert.equal(dupWithinConn, 0, 'no message twice on one connection');
    // A second copy only when the connection that had the first was killed
    // between sending it and marking it delivered.
    for (const [id, gens] of seenOn) {
      assert.ok(gens.slice(0, -1).every((g) => agentLink.dropped.has(g)),
        `message ${id} came again after connection ${gens[0]} ended normally`);
    }
    // Stored once each, whatever was resent.
    const stored = [];
    for (let after = 0, more = true; more;) {
      const page = await api(stack, 'GET',
        `/api/v1/sessions/${session.id}/messages?limit=200&after=${after}`, { token: customer.token });
      stored.push(...page.json.messages);
      more = page.json.hasMore;
      after = page.json.messages[page.json.messages.length - 1].id;
    }
    // What people wrote: the session's system line of who joined aside.
    stored.splice(0, stored.length, ...stored.filter((m) => m.senderType !== 'system'));
    assert.equal(stored.length, MESSAGES);
    assert.equal(new Set(stored.map((m) => m.clientMsgId)).size, MESSAGES);
  });
});
