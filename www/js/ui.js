// What the customer page and the agent workbench share: building DOM
// nodes (text only, never HTML), times, the connection status bar, the send
// button, the message list and the typing indicator.

/** An element with attributes (class, hidden, data-*, aria-*, ...) and children (nodes or text). */
export function el(tag, attrs = {}, ...children) {
  const node = document.createElement(tag);
  for (const [key, value] of Object.entries(attrs)) {
    if (value === undefined || value === null || value === false) continue;
    if (key === 'class') node.className = value;
    else if (key === 'text') node.textContent = value;
    else if (value === true) node.setAttribute(key, '');
    else node.setAttribute(key, String(value));
  }
  for (const child of children) {
    if (child === undefined || child === null || child === false) continue;
    node.append(child instanceof Node ? child : document.createTextNode(String(child)));
  }
  return node;
}

export function $(selector, root = document) {
  const node = root.querySelector(selector);
  if (node === null) throw new Error(`no element ${selector}`);
  return node;
}

const timeFormat = new Intl.DateTimeFormat(undefined, { hour: '2-digit', minute: '2-digit' });
const dayTimeFormat = new Intl.DateTimeFormat(undefined,
  { day: 'numeric', month: 'short', hour: '2-digit', minute: '2-digit' });
const fullFormat = new Intl.DateTimeFormat(undefined, { dateStyle: 'full', timeStyle: 'short' });

/** A <time> for an RFC 3339 instant: the hour today, else the day and hour. */
export function timeElement(iso) {
  const date = new Date(iso);
  if (Number.isNaN(date.getTime())) return el('time', {}, '');
  const today = new Date().toDateString() === date.toDateString();
  return el('time', { datetime: date.toISOString(), title: fullFormat.format(date) },
    (today ? timeFormat : dayTimeFormat).format(date));
}

/** "just now", "5 min ago", "2 h ago" for a past instant. */
export function ago(iso) {
  const s = Math.max(0, Math.round((Date.now() - new Date(iso).getTime()) / 1000));
  if (s < 60) return 'just now';
  if (s < 3600) return `${Math.floor(s / 60)} min ago`;
  if (s < 86400) return `${Math.floor(s / 3600)} h ago`;
  return `${Math.floor(s / 86400)} d ago`;
}

/** Where an agent's login is kept: sessionStorage, this tab only. */
export const AGENT_KEY = 'chat.agent';

/* localStorage or sessionStorage, or nothing when the browser refuses it. */
export function storageGet(storage, key) {
  try {
    const text = storage.getItem(key);
    return text === null ? null : JSON.parse(text);
  } catch {
    return null;
  }
}

export function storageSet(storage, key, value) {
  try {
    if (value === null) storage.removeItem(key);
    else storage.setItem(key, JSON.stringify(value));
  } catch { /* private mode or full: the page still works, without memory */ }
}

/**
 * The connection status bar of the guide: connecting, connected (hidden
 * after 2 s), disconnected, reconnecting, error. The element carries the
 * state in data-state; a Reload button comes with the error state.
 */
export class StatusBar {
  constructor(node, { hideConnected = true } = {}) {
    this.node = node;
    this.hideConnected = hideConnected;
    this.text = el('span', { class: 'status-text' });
    this.action = el('button', { type: 'button', class: 'status-action', hidden: true }, 'Reload');
    this.action.addEventListener('click', () => window.location.reload());
    node.replaceChildren(el('span', { class: 'status-dot', 'aria-hidden': 'true' }), this.text, this.action);
    this.hideTimer = null;
  }

  update(state, detail = {}) {
    clearTimeout(this.hideTimer);
    this.node.dataset.state = state;
    this.node.hidden = false;
    this.action.hidden = state !== 'error';
    this.text.textContent = StatusBar.describe(state, detail);
    if (state === 'connected' && this.hideConnected) {
      this.hideTimer = setTimeout(() => { this.node.hidden = true; }, 2000);
    }
  }

  static describe(state, detail) {
    switch (state) {
      case 'connecting': return 'Connecting...';
      case 'connected': return 'Connected';
      case 'disconnected': return 'Disconnected';
      case 'reconnecting':
        if (detail.refreshing) return 'Renewing your session...';
        if (detail.attempt > 0) return `Reconnecting (attempt ${detail.attempt} of ${detail.maxAttempts})...`;
        return 'Connection lost, reconnecting...';
      case 'error': return detail.message || 'Connection failed, please reload the page.';
      default: return '';
    }
  }
}

/** The send button of the guide: "Send" and enabled only while connected. */
export function updateSendButton(button, state) {
  const connected = state === 'connected';
  button.disabled = !connected;
  button.textContent = connected ? 'Send' : 'Connecting...';
}

/**
 * A conversation's messages, kept in id order, each shown once however
 * often it arrives (live, offline, history), with the user's own messages
 * that wait for their ack at the end, and notes of what happened.
 *   options.isOwn(message)     whether the viewer wrote it
 *   options.senderLabel(message)
 */
export class MessageList {
  constructor(node, options) {
    this.node = node;
    this.isOwn = options.isOwn;
    this.senderLabel = options.senderLabel;
    this.items = [];        // {key, node}, key ascending; pending ones last
    this.byId = new Map();
    this.pending = new Map();
    this.lastKey = 0;
  }

  clear() {
    this.node.replaceChildren();
    this.items = [];
    this.byId.clear();
    this.pending.clear();
    this.lastKey = 0;
  }

  has(id) {
    return this.byId.has(id);
  }

  get oldestId() {
    const first = this.items.find((item) => item.id !== undefined);
    return first === undefined ? undefined : first.id;
  }

  /** Add stored messages; returns how many were new. Keeps the view where the reader is. */
  addMessages(messages) {
    const stick = this.nearBottom();
    const before = this.node.scrollHeight - this.node.scrollTop;
    let added = 0;
    let older = false;
    for (const m of messages) {
      if (this.byId.has(m.id)) continue;
      const waiting = m.clientMsgId ? this.pending.get(m.clientMsgId) : undefined;
      if (waiting !== undefined) this.removeItem(waiting);
      this.pending.delete(m.clientMsgId);
      const node = this.bubble(m);
      this.byId.set(m.id, node);
      older = older || m.id < this.lastKey;
      this.insert({ key: m.id, id: m.id, node });
      this.lastKey = Math.max(this.lastKey, m.id);
      added++;
    }
    if (added > 0) this.keepView(stick, older && !stick ? before : null);
    return added;
  }

  /** A message of the viewer's that waits for its ack. */
  addPending(entry, waiting) {
    const stick = true;
    const node = this.bubble({ senderType: null, text: entry.text, createdAt: null }, true);
    node.classList.add('pending');
    node.dataset.clientMsgId = entry.clientMsgId;
    const state = el('span', { class: 'delivery' });
    node.querySelector('.meta').append(state);
    const item = { key: Infinity, node, state };
    this.pending.set(entry.clientMsgId, item);
    this.insert(item);
    this.setPendingState(entry.clientMsgId, waiting ? 'waiting' : 'sending');
    this.keepView(stick, null);
  }

  setPendingState(clientMsgId, state) {
    const item = this.pending.get(clientMsgId);
    if (item === undefined) return;
    item.node.dataset.delivery = state;
    item.state.textContent = state === 'waiting' ? 'Waiting for connection' : 'Sending...';
  }

  /** All waiting messages now go out on a new connection. */
  markAllSending() {
    for (const id of this.pending.keys()) this.setPendingState(id, 'sending');
  }

  /** A message of the viewer's was refused: say why, and offer to send it again. */
  failPending(clientMsgId, why, retry) {
    const item = this.pending.get(clientMsgId);
    if (item === undefined) return;
    this.pending.delete(clientMsgId);
    item.node.classList.replace('pending', 'failed');
    item.node.dataset.delivery = 'failed';
    item.state.textContent = `Not sent: ${why}`;
    if (retry) {
      const button = el('button', { type: 'button', class: 'link-button' }, 'Try again');
      button.addEventListener('click', () => {
        this.removeItem(item);
        retry();
      });
      item.state.append(' ', button);
    }
  }

  /** A note of what happened ("An agent joined"), after what is shown now. */
  addNote(text) {
    const stick = this.nearBottom();
    const node = el('div', { class: 'note', role: 'note' }, el('span', {}, text));
    this.insert({ key: this.lastKey + 0.5, node });
    this.keepView(stick, null);
  }

  bubble(m, own = this.isOwn(m)) {
    const kind = m.senderType === 'system' ? 'system' : own ? 'own' : 'other';
    const meta = el('div', { class: 'meta' },
      el('span', { class: 'sender' }, own ? 'You' : this.senderLabel(m)),
      m.createdAt ? timeElement(m.createdAt) : null);
    const node = el('div', { class: `bubble ${kind}` },
      el('p', { class: 'text' }, m.text), meta);
    if (m.id !== undefined) node.dataset.messageId = String(m.id);
    return node;
  }

  insert(item) {
    let i = this.items.length;
    while (i > 0 && this.items[i - 1].key > item.key) i--;
    const next = this.items[i];
    this.items.splice(i, 0, item);
    this.node.insertBefore(item.node, next === undefined ? null : next.node);
  }

  removeItem(item) {
    const i = this.items.indexOf(item);
    if (i >= 0) this.items.splice(i, 1);
    item.node.remove();
  }

  nearBottom() {
    return this.node.scrollHeight - this.node.scrollTop - this.node.clientHeight < 80;
  }

  keepView(stick, fromBottom) {
    if (fromBottom !== null) this.node.scrollTop = this.node.scrollHeight - fromBottom;
    else if (stick) this.node.scrollTop = this.node.scrollHeight;
  }

  scrollToEnd() {
    this.node.scrollTop = this.node.scrollHeight;
  }
}

/** "Support is typing..." for a few seconds after each typing event. */
export class TypingIndicator {
  constructor(node) {
    this.node = node;
    this.timer = null;
  }

  show(text) {
    this.node.querySelector('.typing-text').textContent = text;
    this.node.hidden = false;
    clearTimeout(this.timer);
    this.timer = setTimeout(() => this.hide(), 4000);
  }

  hide() {
    clearTimeout(this.timer);
    this.node.hidden = true;
  }
}

/** Enter sends, Shift+Enter breaks the line; the textarea grows with its text. */
export function wireComposer(textarea, onSubmit, onType) {
  const grow = () => {
    textarea.style.height = 'auto';
    textarea.style.height = `${Math.min(textarea.scrollHeight, 160)}px`;
  };
  textarea.addEventListener('keydown', (event) => {
    if (event.key === 'Enter' && !event.shiftKey && !event.isComposing) {
      event.preventDefault();
      onSubmit();
    }
  });
  textarea.addEventListener('input', () => {
    grow();
    if (textarea.value.trim() !== '') onType();
  });
  return grow;
}
