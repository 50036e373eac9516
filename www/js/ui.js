// What the customer page and the agent workbench share: building DOM
// nodes (text only, never HTML), times, the connection status bar, the send
// button, the message list (with avatars and system lines) and the typing
// indicator, all in the language of www/js/i18n.js.

import { dateFormat, t } from './i18n.js';

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

const TIME = { hour: '2-digit', minute: '2-digit' };
const DAY_TIME = { day: 'numeric', month: 'short', hour: '2-digit', minute: '2-digit' };
const FULL = { dateStyle: 'full', timeStyle: 'short' };

/** A <time> for an RFC 3339 instant: the hour today, else the day and hour. */
export function timeElement(iso) {
  const date = new Date(iso);
  if (Number.isNaN(date.getTime())) return el('time', {}, '');
  const today = new Date().toDateString() === date.toDateString();
  return el('time', { datetime: date.toISOString(), title: dateFormat(FULL).format(date) },
    dateFormat(today ? TIME : DAY_TIME).format(date));
}

/** "just now", "5 min ago", "2 h ago" for a past instant. */
export function ago(iso) {
  const s = Math.max(0, Math.round((Date.now() - new Date(iso).getTime()) / 1000));
  if (s < 60) return t('common.justNow');
  if (s < 3600) return t('common.minAgo', { count: Math.floor(s / 60) });
  if (s < 86400) return t('common.hoursAgo', { count: Math.floor(s / 3600) });
  return t('common.daysAgo', { count: Math.floor(s / 86400) });
}

// Who is who: an avatar of initials on a colour taken from the name.

/* Dark enough for white text at 4.5:1 or more, and told apart from each other. */
const AVATAR_COLOURS = [
  '#1d4ed8', '#7c3aed', '#be185d', '#b91c1c', '#9a3412', '#a16207',
  '#15803d', '#0f766e', '#0e7490', '#4338ca', '#6d28d9', '#374151',
];

/** The initials of a name: the first letters of its first and last words, or its first character. */
export function initials(name) {
  const words = String(name || '').trim().split(/\s+/).filter(Boolean);
  if (words.length === 0) return '?';
  const first = (w) => Array.from(w)[0];
  // Han, kana and hangul names read as one word: their first character says enough.
  if (words.length === 1 || /[\u3040-\u30ff\u3400-\u9fff\uac00-\ud7af]/.test(words[0])) {
    return first(words[0]).toUpperCase();
  }
  return (first(words[0]) + first(words[words.length - 1])).toUpperCase();
}

/** The avatar's colour for a name: the same name, the same colour, on every page and every visit. */
export function avatarColour(name) {
  let h = 2166136261;
  for (const ch of String(name || '')) {
    h ^= ch.codePointAt(0);
    h = Math.imul(h, 16777619) >>> 0;
  }
  return AVATAR_COLOURS[h % AVATAR_COLOURS.length];
}

/** An avatar for a person: their initials on their colour, the name as its label. */
export function avatar(name) {
  const node = el('span', { class: 'avatar', 'aria-hidden': 'true', title: name }, initials(name));
  // The CSSOM, not a style attribute: the pages' policy allows no inline styles.
  node.style.backgroundColor = avatarColour(name);
  return node;
}

/**
 * What a system line says, in the page's language: from its event
 * (joined, transferred, left_message), else the server's English text.
 */
export function systemText(m) {
  const e = m.event;
  if (e && e.type === 'joined' && e.agentName) return t('common.system.joined', { agent: e.agentName });
  if (e && e.type === 'transferred' && e.agentName) {
    return e.fromAgentName
      ? t('common.system.transferred', { from: e.fromAgentName, agent: e.agentName })
      : t('common.system.transferredNoFrom', { agent: e.agentName });
  }
  if (e && e.type === 'left_message') return t('common.system.leftMessage');
  return m.text;
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

/* The client's own texts, to say in the page's language. */
const CLIENT_TEXTS = {
  'Connection failed, please reload the page.': 'common.connectionFailedReload',
  'Login expired, please log in again.': 'common.loginExpired',
  'Disconnected, reconnecting...': 'common.disconnectedReconnecting',
};

/** A text from the client (chat-client.js's TEXT_*), in the page's language. */
export function clientText(text) {
  return Object.hasOwn(CLIENT_TEXTS, text) ? t(CLIENT_TEXTS[text]) : text;
}

/**
 * The connection status bar of the guide: connecting, connected (hidden
 * after 2 s), disconnected, reconnecting, error.
 *
 * By default the element carries the state in data-state, and a Reload
 * button comes with the error state. With options.guide it is exactly the
 * guide's ChatUI: className status-connecting, status-connected, ...,
 * style.display 'block' on every change and 'none' 2 s after connected,
 * the text alone inside; options.action is then a button of the page's,
 * shown with the error state: Retry (reconnect) after the attempts ran
 * out, Reload when only a reload helps.
 */
export class StatusBar {
  constructor(node, { hideConnected = true, guide = false, action = null, onRetry = null } = {}) {
    this.node = node;
    this.hideConnected = hideConnected;
    this.guide = guide;
    this.onRetry = onRetry;
    this.state = null;
    this.detail = {};
    this.hideTimer = null;
    if (guide) {
      this.text = node;
      this.action = action;
    } else {
      this.text = el('span', { class: 'status-text' });
      this.action = el('button', { type: 'button', class: 'status-action', hidden: true });
      node.replaceChildren(el('span', { class: 'status-dot', 'aria-hidden': 'true' }), this.text, this.action);
    }
    if (this.action !== null) {
      this.action.addEventListener('click', () => {
        if (this.retries() && this.onRetry !== null) this.onRetry();
        else window.location.reload();
      });
    }
  }

  /* Whether the error is one a new attempt may cure (the attempts ran out). */
  retries() {
    return this.detail.reason === 'attempts' && this.onRetry !== null;
  }

  update(state, detail = {}) {
    clearTimeout(this.hideTimer);
    this.state = state;
    this.detail = detail;
    if (this.guide) {
      this.node.className = `status-${state}`;
      this.node.style.display = 'block';
    } else {
      this.node.dataset.state = state;
      this.node.hidden = false;
    }
    this.render();
    if (state === 'connected' && this.hideConnected) {
      this.hideTimer = setTimeout(() => {
        if (this.guide) this.node.style.display = 'none';
        else this.node.hidden = true;
      }, 2000);
    }
  }

  /** Say it again, in the language now in use. */
  render() {
    if (this.state === null) return;
    const { state, detail } = this;
    if (this.guide) {
      this.node.textContent = this.guideText(state, detail);
      // The guide's words are short; the detail (which attempt, a renewal) is a tooltip.
      const more = StatusBar.describe(state, detail);
      if (more !== this.node.textContent) this.node.title = more;
      else this.node.removeAttribute('title');
    } else {
      this.text.textContent = StatusBar.describe(state, detail);
    }
    if (this.action !== null) {
      this.action.hidden = state !== 'error';
      this.action.textContent = this.retries() ? t('common.tryAgain') : t('common.status.reload');
    }
  }

  /* The guide's words for each state; the client's own when only a reload helps. */
  guideText(state, detail) {
    if (state === 'error' && detail.reason !== 'attempts' && detail.message) return clientText(detail.message);
    if (state === 'reconnecting' || state === 'connecting' || state === 'connected'
      || state === 'disconnected' || state === 'error') return t(`common.status.${state}`);
    return '';
  }

  static describe(state, detail) {
    switch (state) {
      case 'connecting': return t('common.status.connecting');
      case 'connected': return t('common.status.connected');
      case 'disconnected': return t('common.status.disconnected');
      case 'reconnecting':
        if (detail.refreshing) return t('common.status.renewing');
        if (detail.attempt > 0) {
          return t('common.status.reconnectingAttempt', { attempt: detail.attempt, max: detail.maxAttempts });
        }
        return t('common.disconnectedReconnecting');
      case 'error': return detail.message ? clientText(detail.message) : t('common.connectionFailedReload');
      default: return '';
    }
  }
}

/** The send button of the guide: "Send" and enabled only while connected, else disabled "Connecting...". */
export function updateSendButton(button, state) {
  const connected = state === 'connected';
  button.disabled = !connected;
  button.textContent = connected ? t('common.send') : t('common.sendConnecting');
}

/**
 * A conversation's messages, kept in id order, each shown once however
 * often it arrives (live, offline, history), with the user's own messages
 * that wait for their ack at the end, and notes of what happened. System
 * lines (senderType "system") are centred lines of their own.
 *   options.isOwn(message)       whether the viewer wrote it
 *   options.senderLabel(message)
 *   options.avatarName(message)  a name to show an avatar for beside the message, or null
 *   options.systemText(message)  what a system line says (default: from its event)
 */
export class MessageList {
  constructor(node, options) {
    this.node = node;
    this.isOwn = options.isOwn;
    this.senderLabel = options.senderLabel;
    this.avatarName = options.avatarName || (() => null);
    this.systemText = options.systemText || systemText;
    this.items = [];        // {key, node, message?, note?}, key ascending; pending ones last
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
      this.insert({ key: m.id, id: m.id, node, message: m });
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
    const item = { key: Infinity, node, state, entry };
    this.pending.set(entry.clientMsgId, item);
    this.insert(item);
    this.setPendingState(entry.clientMsgId, waiting ? 'waiting' : 'sending');
    this.keepView(stick, null);
  }

  setPendingState(clientMsgId, state) {
    const item = this.pending.get(clientMsgId);
    if (item === undefined) return;
    item.node.dataset.delivery = state;
    item.state.textContent = state === 'waiting' ? t('common.delivery.waiting') : t('common.delivery.sending');
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
    item.state.textContent = t('common.delivery.failed', { why });
    if (retry) {
      const button = el('button', { type: 'button', class: 'link-button' }, t('common.tryAgain'));
      button.addEventListener('click', () => {
        this.removeItem(item);
        retry();
      });
      item.state.append(' ', button);
    }
  }

  /**
   * A note of what happened ("An agent joined"), after what is shown now.
   * text may be a function that says it, called again when the language changes.
   */
  addNote(text) {
    const stick = this.nearBottom();
    const say = typeof text === 'function' ? text : () => text;
    const node = el('div', { class: 'note', role: 'note' }, el('span', {}, say()));
    this.insert({ key: this.lastKey + 0.5, node, note: say });
    this.keepView(stick, null);
  }

  /** Show everything again, in the language now in use (and with names as they are now). */
  refresh() {
    for (const item of this.items) {
      if (item.message !== undefined) {
        const node = this.bubble(item.message);
        item.node.replaceWith(node);
        item.node = node;
        this.byId.set(item.id, node);
      } else if (item.note !== undefined) {
        item.node.firstChild.textContent = item.note();
      } else if (item.entry !== undefined && item.node.dataset.delivery !== 'failed') {
        item.node.querySelector('.sender').textContent = t('common.you');
        this.setPendingState(item.entry.clientMsgId, item.node.dataset.delivery);
      }
    }
  }

  bubble(m, own = this.isOwn(m)) {
    if (m.senderType === 'system') return this.systemLine(m);
    const kind = own ? 'own' : 'other';
    const meta = el('div', { class: 'meta' },
      el('span', { class: 'sender' }, own ? t('common.you') : this.senderLabel(m)),
      m.createdAt ? timeElement(m.createdAt) : null);
    const node = el('div', { class: `bubble ${kind}` },
      el('p', { class: 'text' }, m.text), meta);
    if (m.id !== undefined) node.dataset.messageId = String(m.id);
    const name = own ? null : this.avatarName(m);
    if (!name) return node;
    return el('div', { class: 'bubble-row' }, avatar(name), node);
  }

  /* A system line: centred, in the page's language, with its time as a tooltip. */
  systemLine(m) {
    const date = m.createdAt ? new Date(m.createdAt) : null;
    const node = el('div', {
      class: 'system-line',
      role: 'note',
      'data-message-id': m.id,
      'data-event': m.event && m.event.type,
      title: date !== null && !Number.isNaN(date.getTime()) ? dateFormat(FULL).format(date) : null,
    }, el('span', {}, this.systemText(m)));
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
