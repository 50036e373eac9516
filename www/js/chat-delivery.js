// Delivery both ways, for the chat's browser client (chat-client.js): the
// receipts it owes the server on each connection for what reached it, the
// messages it has passed on already, and the outbox of what the user wrote
// that is not stored yet. Plain JavaScript, an ES module.
//
// The server counts a message as delivered only once a connection confirms
// it ({"type":"received","seq":N}, see the WebSocket in README.md), and on
// the next connection offers again everything after the confirmed point. So
// a receipt must never claim more than this connection was given, should
// come soon after a message, and must not cost a frame per frame.

/* A receipt goes once the frames have paused this long, */
export const RECEIPT_QUIET_MS = 200;
/* or after this many frames, or this long after the first unconfirmed one, */
export const RECEIPT_EVERY_FRAMES = 20;
export const RECEIPT_LATEST_MS = 1000;
/* but never sooner than this after the last: at most four a second. */
export const RECEIPT_GAP_MS = 250;
/* At most this many messages wait for their ack at a time. */
export const OUTBOX_WINDOW = 8;

/**
 * The receipts of one connection at a time.
 *   send(seq)  writes {"type":"received","seq":seq} on the current connection
 * reset() when a connection ends or begins; saw(seq) for every frame that
 * carries a seq, after it was handled; complete() when the offline messages
 * are all in; flush() before a close the client makes itself.
 */
export class Receipts {
  constructor(send) {
    this.send = send;
    this.timer = null;
    this.reset();
  }

  /** A new connection: nothing seen, nothing owed, no receipt waiting. */
  reset() {
    this.cancel();
    this.seen = 0;          // the highest seq this connection was given
    this.unconfirmed = 0;   // frames since the last receipt
    this.since = 0;         // when the first of them came
    this.sentAt = -Infinity;
  }

  /** A frame with this seq was handled; a receipt follows in a while. */
  saw(seq) {
    if (!Number.isSafeInteger(seq) || seq <= 0) return;
    if (seq > this.seen) this.seen = seq;
    const now = Date.now();
    if (this.unconfirmed === 0) this.since = now;
    this.unconfirmed++;
    const due = this.unconfirmed >= RECEIPT_EVERY_FRAMES
      ? now : Math.min(now + RECEIPT_QUIET_MS, this.since + RECEIPT_LATEST_MS);
    const at = Math.max(due, this.sentAt + RECEIPT_GAP_MS);
    if (at <= now) this.flush();
    else this.schedule(at - now);
  }

  /**
   * The offline messages are all in: confirm them at once, even when there
   * were none (seq 0), which tells the server that this client sends receipts.
   */
  complete() {
    this.flush(true);
  }

  /** Send what is unconfirmed now (with force, even if nothing is). */
  flush(force = false) {
    this.cancel();
    if (this.unconfirmed === 0 && !force) return;
    this.unconfirmed = 0;
    this.sentAt = Date.now();
    this.send(this.seen);
  }

  cancel() {
    if (this.timer !== null) clearTimeout(this.timer);
    this.timer = null;
  }

  schedule(delay) {
    this.cancel();
    this.timer = setTimeout(() => {
      this.timer = null;
      this.flush();
    }, delay);
  }
}

/**
 * The ids of the messages passed on already, so that one offered again
 * (live and offline, or again after a reconnect) is passed on once. Only the
 * newest `limit` are kept: what the server offers again is what came last.
 */
export class SeenMessages {
  constructor(limit = 10000) {
    this.limit = limit;
    this.ids = new Set();
  }

  /** Remember the message; false if it was seen already. */
  add(message) {
    if (message === null || typeof message !== 'object' || message.id === undefined) return true;
    if (this.ids.has(message.id)) return false;
    this.ids.add(message.id);
    if (this.ids.size > this.limit) this.ids.delete(this.ids.values().next().value);
    return true;
  }
}

/**
 * The messages written but not acked yet, in the order they were written:
 * entries {clientMsgId, sessionId, text, sent}. Each stays until its ack or
 * its refusal and goes again on every new connection, in order and at most
 * OUTBOX_WINDOW unacked at a time, so that a long outbox after a reconnect
 * does not land in the server's queue all at once.
 *   send(entry)  writes the entry's message frame on the open connection
 */
export class Outbox {
  constructor(send) {
    this.send = send;
    this.entries = [];
    this.open = false;
    this.pausedUntil = 0;
    this.timer = null;
  }

  /** A connection opened (true) or ended (false): nothing is in flight on it. */
  connected(open) {
    this.open = open;
    for (const entry of this.entries) entry.sent = false;
    this.flush();
  }

  /** A new message, sent now if the window has room; returns the entry. */
  add(entry) {
    this.entries.push(entry);
    this.flush();
    return entry;
  }

  find(clientMsgId) {
    return this.entries.find((e) => e.clientMsgId === clientMsgId);
  }

  /** The entry leaves (acked or refused) and makes room for the next. */
  take(clientMsgId) {
    const i = this.entries.findIndex((e) => e.clientMsgId === clientMsgId);
    if (i < 0) return undefined;
    const [entry] = this.entries.splice(i, 1);
    this.flush();
    return entry;
  }

  /** The server said "not now" (RATE_LIMITED): nothing more goes for ms, then it goes again. */
  retryLater(entry, ms) {
    entry.sent = false;
    this.pausedUntil = Date.now() + ms;
    if (this.timer !== null) clearTimeout(this.timer);
    this.timer = setTimeout(() => {
      this.timer = null;
      this.pausedUntil = 0;
      this.flush();
    }, ms);
  }

  flush() {
    if (!this.open || Date.now() < this.pausedUntil) return;
    let inFlight = this.entries.filter((e) => e.sent).length;
    for (const entry of this.entries) {
      if (inFlight >= OUTBOX_WINDOW) break;
      if (entry.sent) continue;
      entry.sent = true;
      inFlight++;
      this.send(entry);
    }
  }
}
