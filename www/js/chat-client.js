// The chat's browser client: the WebSocket client of the guide
// (ChatWebSocket), with its debug variant, over the REST calls of the wire
// contract (ChatApi, in chat-api.js, exported here too). Plain JavaScript,
// ES modules, no dependencies: copy both files.
//
//   import { ChatApi, ChatWebSocket } from '/js/chat-client.js';
//   const api = new ChatApi({ userType: 'customer', credentials: { customerId, channel, token, refreshToken } });
//   const chat = new ChatWebSocket({ api });
//   chat.onMessageReceived = (message) => { ... };
//   chat.connect();
//   chat.sendMessage(sessionId, 'Hello, I need help');

import { ApiError, ChatApi } from './chat-api.js';

export { API_BASE, ApiError, ChatApi } from './chat-api.js';
export const SOCKET_PATH = '/ws/chat';

/** Close codes the client acts on. */
export const CLOSE_NORMAL = 1000;
export const CLOSE_ABNORMAL = 1006;
/* A private-use code: the client gave up on a connection that stopped answering. */
const CLOSE_NO_ANSWER = 4000;

/* A ping after this long without a frame, and a connection that answers nothing
 * for PING_TIMEOUT_MS after it is taken for dead (a laptop that slept, say). */
const PING_EVERY_MS = 25000;
const PING_TIMEOUT_MS = 10000;
/* Typing is passed on at most this often per session. */
const TYPING_EVERY_MS = 1500;
/* A message the server refused with RATE_LIMITED goes again after this long. */
const RATE_LIMIT_RETRY_MS = 1000;

export const TEXT_RECONNECTING = 'Disconnected, reconnecting...';
export const TEXT_CONNECTION_FAILED = 'Connection failed, please reload the page.';
export const TEXT_LOGIN_EXPIRED = 'Login expired, please log in again.';

/** A token as logs may show it: first 8 + "..." + last 4, or *** when shorter than 10. */
export function maskToken(token) {
  if (typeof token !== 'string' || token.length < 10) return '***';
  return `${token.slice(0, 8)}...${token.slice(-4)}`;
}

/** The URL with the value of its token parameter masked. */
export function maskUrl(url) {
  return String(url).replace(/([?&]token=)([^&#]*)/, (all, key, value) => {
    let token = value;
    try { token = decodeURIComponent(value); } catch { /* keep it as it is */ }
    return key + maskToken(token);
  });
}

/** The wait before reconnect attempt n (1, 2, ...): min(1000 * 2^n, 10000) ms, so 2 s, 4 s, 8 s, 10 s. */
export function reconnectDelay(attempt) {
  return Math.min(1000 * 2 ** attempt, 10000);
}

/** ws(s)://host/ws/chat of the page's own site. */
export function defaultSocketUrl(loc = window.location) {
  const scheme = loc.protocol === 'https:' ? 'wss:' : 'ws:';
  return `${scheme}//${loc.host}${SOCKET_PATH}`;
}

/** A fresh id for a message, so that sending it again is never stored twice. */
export function newClientMsgId() {
  if (typeof crypto.randomUUID === 'function') return crypto.randomUUID();
  // crypto.randomUUID exists only on https and localhost pages.
  const bytes = crypto.getRandomValues(new Uint8Array(16));
  return Array.from(bytes, (b) => b.toString(16).padStart(2, '0')).join('');
}

/**
 * The WebSocket client of the guide.
 *   options.api          a ChatApi (or options.userType and options.credentials to make one)
 *   options.url          the socket's address without query, default ws(s)://this-host/ws/chat
 *   options.maxReconnectAttempts  3 to 5 (default 5)
 *   options.loginUrl     where an agent whose login expired is sent, '/login'
 *
 * Callbacks, to assign or override: onMessageReceived(message),
 * onOfflineMessageReceived(message), onOfflineMessagesComplete(count),
 * onAck(clientMsgId, message), onSendFailed(entry, code, text), onSession(session),
 * onTyping({sessionId, senderType, senderId}), onServerError(code, text, clientMsgId),
 * onStateChange(state, detail), onNotice(text), onLoginExpired(text), onOpen().
 *
 * States: idle, connecting, connected, disconnected, reconnecting, error.
 */
export class ChatWebSocket {
  constructor(options = {}) {
    this.api = options.api || new ChatApi({
      userType: options.userType,
      credentials: options.credentials,
      onCredentials: options.onCredentials,
    });
    this.userType = this.api.userType;
    this.url = options.url || defaultSocketUrl();
    const max = Number(options.maxReconnectAttempts ?? 5);
    this.maxReconnectAttempts = Math.min(5, Math.max(3, Number.isFinite(max) ? max : 5));
    this.loginUrl = options.loginUrl || '/login';

    this.ws = null;
    this.state = 'idle';
    this.reconnectAttempts = 0;
    this.tokenRefreshes = 0;
    this.reconnectTimer = null;
    this.pingTimer = null;
    this.answerTimer = null;
    this.closedByUser = false;
    this.fatal = false;
    this.checkSeq = 0;
    this.typingAt = new Map();
    /** Messages not yet acked, in the order they were written. */
    this.outbox = [];

    this.onOnline = () => this.reconnectNow();
    window.addEventListener('online', this.onOnline);
  }

  // Callbacks: no-ops until assigned.
  onOpen() {}
  onMessageReceived(message) {}
  onOfflineMessageReceived(message) {}
  onOfflineMessagesComplete(count) {}
  onAck(clientMsgId, message) {}
  onSendFailed(entry, code, text) {}
  onSession(session) {}
  onTyping(event) {}
  onServerError(code, text, clientMsgId) {}
  onStateChange(state, detail) {}
  onNotice(text) {}
  /** Default: go to the login page. */
  onLoginExpired(text) { window.location.assign(this.loginUrl); }

  get isOpen() {
    return this.ws !== null && this.ws.readyState === WebSocket.OPEN;
  }

  /** Open ${url}?token=...; nothing if a connection is open or opening. */
  connect() {
    if (this.ws !== null && this.ws.readyState <= WebSocket.OPEN) return;
    this.clearReconnectTimer();
    this.closedByUser = false;
    this.fatal = false;
    if (this.state !== 'reconnecting') this.setState('connecting');
    const ws = this.openSocket(`${this.url}?token=${encodeURIComponent(this.api.token || '')}`);
    this.ws = ws;
    ws.addEventListener('open', (event) => this.handleOpen(event, ws));
    ws.addEventListener('message', (event) => this.handleMessage(event, ws));
    ws.addEventListener('error', (event) => this.handleError(event, ws));
    ws.addEventListener('close', (event) => this.handleClose(event, ws));
  }

  /** The socket itself; the debug client logs the address here. */
  openSocket(url) {
    return new WebSocket(url);
  }

  /** Close with 1000; nothing reconnects until connect() is called again. */
  disconnect() {
    this.closedByUser = true;
    this.clearReconnectTimer();
    this.stopHeartbeat();
    this.checkSeq++;
    if (this.ws !== null && this.ws.readyState <= WebSocket.OPEN) {
      this.ws.close(CLOSE_NORMAL, 'Client closed connection');
    }
    this.setState('disconnected');
  }

  /** Stop for good: disconnect, and stop listening to the browser's online events. */
  destroy() {
    this.disconnect();
    window.removeEventListener('online', this.onOnline);
  }

  /**
   * Send a message, or keep it until the connection is back. Returns its
   * outbox entry {clientMsgId, sessionId, text}; it leaves the outbox on
   * its ack (onAck) or its refusal (onSendFailed).
   */
  sendMessage(sessionId, text) {
    const entry = { clientMsgId: newClientMsgId(), sessionId, text, sentOn: null };
    this.outbox.push(entry);
    // What is typed next is news to the other side at once.
    this.typingAt.delete(sessionId);
    if (this.isOpen) {
      this.transmit(entry);
    } else {
      this.onNotice(TEXT_RECONNECTING);
      this.wakeUp();
    }
    return entry;
  }

  /** Tell the other side of the session that the user is typing (at most every 1.5 s). */
  sendTyping(sessionId) {
    const now = Date.now();
    if (!this.isOpen || now - (this.typingAt.get(sessionId) || 0) < TYPING_EVERY_MS) return;
    this.typingAt.set(sessionId, now);
    this.ws.send(JSON.stringify({ type: 'typing', sessionId }));
  }

  /** Try again at once: after a give-up, or while waiting to reconnect. */
  reconnectNow() {
    if (this.closedByUser || this.fatal) return;
    if (this.reconnectTimer === null && this.state !== 'error') return;
    this.clearReconnectTimer();
    if (this.state === 'error') this.reconnectAttempts = 0;
    this.setState('reconnecting', { attempt: this.reconnectAttempts, maxAttempts: this.maxReconnectAttempts });
    this.connect();
  }

  // -------------------------------------------------------------------------

  handleOpen(event, ws) {
    if (ws !== this.ws) return;
    this.reconnectAttempts = 0;
    this.tokenRefreshes = 0;
    this.setState('connected');
    this.startHeartbeat();
    this.flushOutbox();
    this.onOpen();
  }

  handleError(event, ws) {
    // The browser gives no detail; close follows, and says what to do.
  }

  handleClose(event, ws) {
    if (ws !== this.ws) return;
    this.ws = null;
    this.stopHeartbeat();
    for (const entry of this.outbox) entry.sentOn = null;
    if (this.closedByUser || this.fatal) return;
    this.setState('disconnected', { code: event.code });
    if (event.code === CLOSE_NORMAL) return;
    if (event.code === CLOSE_ABNORMAL) this.checkToken();
    else this.attemptReconnect();
  }

  handleMessage(event, ws) {
    if (ws !== this.ws) return;
    this.heard();
    let data;
    try {
      data = JSON.parse(event.data);
    } catch {
      console.warn('chat: ignored a frame that is not JSON');
      return;
    }
    switch (data.type) {
      case 'message':
        this.settleOwn(data.message);
        this.onMessageReceived(data.message);
        break;
      case 'offline_message':
        this.settleOwn(data.message);
        this.onOfflineMessageReceived(data.message);
        break;
      case 'offline_messages_complete':
        this.onOfflineMessagesComplete(data.count);
        break;
      case 'ack':
        this.takeFromOutbox(data.clientMsgId);
        this.onAck(data.clientMsgId, data.message);
        break;
      case 'session':
        this.onSession(data.session);
        break;
      case 'typing':
        this.onTyping(data);
        break;
      case 'pong':
        break;
      case 'error':
        this.handleServerError(data);
        break;
      default:
        console.warn('chat: ignored a frame of unknown type', data.type);
    }
  }

  handleServerError(data) {
    if (data.code === 'TOKEN_EXPIRED') {
      // The server ends the connection now: the token flow starts without it.
      this.dropSocket('Token expired');
      this.setState('disconnected', { code: 'TOKEN_EXPIRED' });
      this.handleTokenExpired();
      return;
    }
    const entry = data.clientMsgId ? this.outbox.find((e) => e.clientMsgId === data.clientMsgId) : undefined;
    if (entry !== undefined && data.code === 'RATE_LIMITED') {
      entry.sentOn = null;
      setTimeout(() => this.flushOutbox(), RATE_LIMIT_RETRY_MS);
    } else if (entry !== undefined) {
      this.takeFromOutbox(entry.clientMsgId);
      this.onSendFailed(entry, data.code, data.message);
    }
    this.onServerError(data.code, data.message, data.clientMsgId);
  }

  /**
   * A close with 1006 is a refused handshake or a dropped connection alike:
   * GET /me tells which. Only a 401 there is a token problem.
   */
  async checkToken() {
    const seq = ++this.checkSeq;
    this.setState('reconnecting', { checking: true, attempt: this.reconnectAttempts,
      maxAttempts: this.maxReconnectAttempts });
    const verdict = await this.api.probe();
    if (seq !== this.checkSeq || this.closedByUser || this.fatal) return;
    if (verdict === 'invalid') this.handleTokenExpired();
    else this.attemptReconnect();
  }

  /** A customer refreshes its token silently and connects again; an agent logs in again. */
  async handleTokenExpired() {
    this.clearReconnectTimer();
    if (this.userType === 'agent' || !this.api.canRefresh()) {
      this.giveUp(this.userType === 'agent' ? TEXT_LOGIN_EXPIRED : TEXT_CONNECTION_FAILED, 'token');
      if (this.userType === 'agent') this.onLoginExpired(TEXT_LOGIN_EXPIRED);
      return;
    }
    // A new token that is refused at once again is not worth a third try.
    if (this.tokenRefreshes >= 2) {
      this.giveUp(TEXT_CONNECTION_FAILED, 'token');
      return;
    }
    this.tokenRefreshes++;
    const seq = ++this.checkSeq;
    this.setState('reconnecting', { refreshing: true, attempt: this.reconnectAttempts,
      maxAttempts: this.maxReconnectAttempts });
    try {
      await this.api.refresh();
    } catch (err) {
      if (seq !== this.checkSeq || this.closedByUser) return;
      if (err instanceof ApiError && err.isTransient) this.attemptReconnect();
      else this.giveUp(TEXT_CONNECTION_FAILED, 'refresh', err);
      return;
    }
    if (seq !== this.checkSeq || this.closedByUser) return;
    this.connect();
  }

  /** Exponential back-off: 2 s, 4 s, 8 s, 10 s, 10 s; then give up. */
  attemptReconnect() {
    if (this.closedByUser || this.fatal) return;
    this.clearReconnectTimer();
    if (this.reconnectAttempts >= this.maxReconnectAttempts) {
      this.giveUp(TEXT_CONNECTION_FAILED, 'attempts');
      return;
    }
    this.reconnectAttempts++;
    const delay = reconnectDelay(this.reconnectAttempts);
    this.setState('reconnecting', { attempt: this.reconnectAttempts,
      maxAttempts: this.maxReconnectAttempts, delay });
    this.reconnectTimer = setTimeout(() => {
      this.reconnectTimer = null;
      this.connect();
    }, delay);
  }

  /* Stop trying; with reason 'token' or 'refresh' nothing but a reload helps. */
  giveUp(text, reason, cause) {
    this.clearReconnectTimer();
    this.fatal = reason !== 'attempts';
    this.setState('error', { message: text, reason, cause });
  }

  /* After the user wrote something while disconnected: make sure a reconnect is on its way. */
  wakeUp() {
    if (this.closedByUser || this.fatal) return;
    if (this.state === 'error') this.reconnectNow();
    else if (this.ws === null && this.reconnectTimer === null && this.state !== 'reconnecting') {
      this.attemptReconnect();
    }
  }

  setState(state, detail = {}) {
    this.state = state;
    this.onStateChange(state, detail);
  }

  // The outbox: every message stays until acked and goes again on each new connection.

  transmit(entry) {
    entry.sentOn = this.ws;
    this.ws.send(JSON.stringify({
      type: 'message', sessionId: entry.sessionId, text: entry.text, clientMsgId: entry.clientMsgId,
    }));
  }

  flushOutbox() {
    if (!this.isOpen) return;
    for (const entry of this.outbox) {
      if (entry.sentOn !== this.ws) this.transmit(entry);
    }
  }

  takeFromOutbox(clientMsgId) {
    const i = this.outbox.findIndex((e) => e.clientMsgId === clientMsgId);
    return i >= 0 ? this.outbox.splice(i, 1)[0] : undefined;
  }

  /* One of ours that came back as a message (another tab, or an ack that was lost). */
  settleOwn(message) {
    if (!message || !message.clientMsgId || message.senderType !== this.userType) return;
    if (this.takeFromOutbox(message.clientMsgId) !== undefined) this.onAck(message.clientMsgId, message);
  }

  // Liveness: a connection that stops answering is given up and replaced.

  startHeartbeat() {
    this.stopHeartbeat();
    this.pingTimer = setInterval(() => {
      if (!this.isOpen || this.answerTimer !== null) return;
      this.ws.send(JSON.stringify({ type: 'ping' }));
      this.answerTimer = setTimeout(() => {
        this.answerTimer = null;
        this.dropSocket('No answer to ping', CLOSE_NO_ANSWER);
        this.setState('disconnected', { code: CLOSE_NO_ANSWER });
        this.checkToken();
      }, PING_TIMEOUT_MS);
    }, PING_EVERY_MS);
  }

  heard() {
    if (this.answerTimer !== null) {
      clearTimeout(this.answerTimer);
      this.answerTimer = null;
    }
  }

  stopHeartbeat() {
    if (this.pingTimer !== null) clearInterval(this.pingTimer);
    this.pingTimer = null;
    this.heard();
  }

  /* Forget the socket: its later events are ignored. */
  dropSocket(reason, code = CLOSE_NORMAL) {
    const ws = this.ws;
    this.ws = null;
    this.stopHeartbeat();
    for (const entry of this.outbox) entry.sentOn = null;
    if (ws !== null && ws.readyState <= WebSocket.OPEN) ws.close(code, reason);
  }

  clearReconnectTimer() {
    if (this.reconnectTimer !== null) clearTimeout(this.reconnectTimer);
    this.reconnectTimer = null;
  }
}

/**
 * The same client, logging every open, error and close (code, reason,
 * wasClean) and each address it connects to, with the token masked.
 */
export class DebugChatWebSocket extends ChatWebSocket {
  openSocket(url) {
    console.info(`[chat] connecting to ${maskUrl(url)}`);
    return super.openSocket(url);
  }

  handleOpen(event, ws) {
    console.info(`[chat] open ${maskUrl(ws.url)}`);
    super.handleOpen(event, ws);
  }

  handleError(event, ws) {
    console.warn(`[chat] error on ${maskUrl(ws.url)}: the browser gives no detail; ` +
      'a refused handshake shows its status and X-WebSocket-Error-Code in DevTools > Network > WS');
    super.handleError(event, ws);
  }

  handleClose(event, ws) {
    console.info(`[chat] close code=${event.code} reason=${JSON.stringify(event.reason)} ` +
      `wasClean=${event.wasClean}`);
    super.handleClose(event, ws);
  }

  setState(state, detail = {}) {
    const { cause, ...shown } = detail;
    console.info(`[chat] state ${state}`, shown);
    super.setState(state, detail);
  }
}

/** The client to use: the debug one with ?debug=1 in the address or localStorage chat.debug = 1. */
export function createChatWebSocket(options) {
  let debug = new URLSearchParams(window.location.search).get('debug') === '1';
  try {
    debug = debug || window.localStorage.getItem('chat.debug') === '1';
  } catch { /* storage may be off */ }
  return debug ? new DebugChatWebSocket(options) : new ChatWebSocket(options);
}
