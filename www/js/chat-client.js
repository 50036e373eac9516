// The chat's browser client: the WebSocket client of the guide
// (ChatWebSocket), with its debug variant, over the REST calls of the wire
// contract (ChatApi, in chat-api.js, exported here too). It confirms what it
// received with delivery receipts, passes each message on once and keeps
// what the user wrote until it is stored (chat-delivery.js). Plain
// JavaScript, ES modules, no dependencies: copy the three files.
//
//   import { ChatApi, ChatWebSocket } from '/js/chat-client.js';
//   const api = new ChatApi({ userType: 'customer', credentials: { customerId, channel, token, refreshToken } });
//   const chat = new ChatWebSocket({ api });
//   chat.onMessageReceived = (message) => { ... };
//   chat.connect();
//   chat.sendMessage(sessionId, 'Hello, I need help');

import { ApiError, ChatApi } from './chat-api.js';
import { Outbox, Receipts, SeenMessages } from './chat-delivery.js';

export { API_BASE, ApiError, ChatApi } from './chat-api.js';
export { OUTBOX_WINDOW } from './chat-delivery.js';
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
 *   options.receipts     false: send no delivery receipts, as the guide's own client
 *
 * Callbacks, to assign or override: onMessageReceived(message),
 * onOfflineMessageReceived(message), onOfflineMessagesComplete(count),
 * onAck(clientMsgId, message), onSendFailed(entry, code, text), onSession(session),
 * onTyping({sessionId, senderType, senderId}), onServerError(code, text, clientMsgId),
 * onStateChange(state, detail), onNotice(text), onLoginExpired(text), onOpen().
 *
 * A message offered again (live and offline, or after a reconnect) is passed
 * to the callbacks once; count is the number of offline messages that were
 * new, system lines (who joined) not counted. Each connection confirms what it received with
 * {"type":"received","seq":N}, a few times a second at most, and answers the
 * server's ping.
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
    this.sending = new Outbox((entry) => this.sendFrame({
      type: 'message', sessionId: entry.sessionId, text: entry.text, clientMsgId: entry.clientMsgId,
    }));
    /** Messages not yet acked, in the order they were written (to read; the Outbox keeps it). */
    this.outbox = this.sending.entries;
    this.sendsReceipts = options.receipts !== false;
    this.receipts = new Receipts((seq) => this.sendFrame({ type: 'received', seq }));
    this.seen = new SeenMessages();
    this.offlineNew = 0;

    this.onOnline = () => this.reconnectNow();
    window.addEventListener('online', this.onOnline);
    // What came in the last moments before the page goes is confirmed too.
    this.onPageHide = () => {
      if (this.isOpen) this.receipts.flush();
    };
    window.addEventListener('pagehide', this.onPageHide);
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
    this.receipts.reset();
    this.offlineNew = 0;
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
    this.checkSeq++;
    if (this.isOpen) this.receipts.flush();
    this.forgetConnection();
    if (this.ws !== null && this.ws.readyState <= WebSocket.OPEN) {
      this.ws.close(CLOSE_NORMAL, 'Client closed connection');
    }
    this.setState('disconnected');
  }

  /** Stop for good: disconnect, and stop listening to the browser's events. */
  destroy() {
    this.disconnect();
    window.removeEventListener('online', this.onOnline);
    window.removeEventListener('pagehide', this.onPageHide);
  }

  /**
   * Send a message, or keep it until the connection is back. Returns its
   * outbox entry {clientMsgId, sessionId, text}; it leaves the outbox on
   * its ack (onAck) or its refusal (onSendFailed).
   */
  sendMessage(sessionId, text) {
    // What is typed next is news to the other side at once.
    this.typingAt.delete(sessionId);
    const entry = this.sending.add({ clientMsgId: newClientMsgId(), sessionId, text, sent: false });
    if (!this.isOpen) {
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
    this.sendFrame({ type: 'typing', sessionId });
  }

  /** Write a frame on the open connection; nothing when there is none. */
  sendFrame(frame) {
    if (this.isOpen) this.ws.send(JSON.stringify(frame));
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
    this.sending.connected(true);
    this.onOpen();
  }

  handleError(event, ws) {
    // The browser gives no detail; close follows, and says what to do.
  }

  handleClose(event, ws) {
    if (ws !== this.ws) return;
    this.ws = null;
    this.forgetConnection();
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
    if (data === null || typeof data !== 'object') {
      console.warn('chat: ignored a frame that is not a JSON object');
      return;
    }
    switch (data.type) {
      case 'message':
        this.settleOwn(data.message);
        if (this.seen.add(data.message)) this.onMessageReceived(data.message);
        break;
      case 'offline_message':
        this.settleOwn(data.message);
        if (this.seen.add(data.message)) {
          // A system line (who joined) is shown, but is no message to count.
          if (data.message.senderType !== 'system') this.offlineNew++;
          this.onOfflineMessageReceived(data.message);
        }
        break;
      case 'offline_messages_complete':
        // A server that numbers its frames takes receipts; one goes at once.
        if (this.sendsReceipts && Number.isSafeInteger(data.seq)) this.receipts.complete();
        this.onOfflineMessagesComplete(this.offlineNew);
        break;
      case 'ack':
        if (data.message) this.seen.add(data.message);
        this.sending.take(data.clientMsgId);
        this.onAck(data.clientMsgId, data.message);
        break;
      case 'session':
        this.onSession(data.session);
        break;
      case 'typing':
        this.onTyping(data);
        break;
      case 'ping':
        this.sendFrame({ type: 'pong' });
        break;
      case 'pong':
        break;
      case 'error':
        this.handleServerError(data);
        break;
      default:
        console.warn('chat: ignored a frame of unknown type', data.type);
    }
    // Confirmed only once handled, and only on the connection that got it.
    if (this.sendsReceipts && ws === this.ws && data.type !== 'offline_messages_complete') {
      this.receipts.saw(data.seq);
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
    if (data.code === 'SLOW_CONSUMER') {
      // The server ends the connection: a blip, with the same token. What was
      // not confirmed comes again on the next connection.
      this.dropSocket('Slow consumer');
      this.setState('disconnected', { code: 'SLOW_CONSUMER' });
      this.attemptReconnect();
      this.onServerError(data.code, data.message);
      return;
    }
    const entry = data.clientMsgId ? this.sending.find(data.clientMsgId) : undefined;
    if (entry !== undefined && data.code === 'RATE_LIMITED') {
      this.sending.retryLater(entry, RATE_LIMIT_RETRY_MS);
    } else if (entry !== undefined) {
      this.sending.take(entry.clientMsgId);
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

  /* One of ours that came back as a message (another tab, or an ack that was lost). */
  settleOwn(message) {
    if (!message || !message.clientMsgId || message.senderType !== this.userType) return;
    if (this.sending.take(message.clientMsgId) !== undefined) this.onAck(message.clientMsgId, message);
  }

  // Liveness: a connection that stops answering is given up and replaced.

  startHeartbeat() {
    this.stopHeartbeat();
    this.pingTimer = setInterval(() => {
      if (!this.isOpen || this.answerTimer !== null) return;
      this.sendFrame({ type: 'ping' });
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

  /* Forget the socket, after confirming what it brought: its later events are ignored. */
  dropSocket(reason, code = CLOSE_NORMAL) {
    const ws = this.ws;
    if (this.isOpen) this.receipts.flush();
    this.ws = null;
    this.forgetConnection();
    if (ws !== null && ws.readyState <= WebSocket.OPEN) ws.close(code, reason);
  }

  /* What belonged to the connection that ended: its heartbeat, receipts and sends. */
  forgetConnection() {
    this.stopHeartbeat();
    this.receipts.reset();
    this.sending.connected(false);
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
