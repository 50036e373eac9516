// The agent workbench (/agent): the queue of waiting customers, the agent's
// own chats with their unread counts, and one conversation at a time with
// its history, typing, transfer and close. The login token comes from the
// sign-in page through sessionStorage; when it stops working the agent is
// told and sent back to /login. A dropped connection never logs out.

import { ApiError, ChatApi, TEXT_LOGIN_EXPIRED, createChatWebSocket } from './chat-client.js';
import { wireDialogs } from './dialogs.js';
import { renderSessionLists } from './session-list.js';
import {
  $, AGENT_KEY, MessageList, StatusBar, TypingIndicator, el, storageGet, storageSet,
  updateSendButton, wireComposer,
} from './ui.js';

const LOGIN_REDIRECT_MS = 2500;
const MAX_TEXT = 4000;
const TITLE = document.title;

const ui = {
  layout: $('#layout'),
  banner: $('#banner'),
  bannerText: $('#banner-text'),
  bannerLink: $('#banner-link'),
  meName: $('#me-name'),
  meId: $('#me-id'),
  logout: $('#logout'),
  offlineNote: $('#offline-note'),
  placeholder: $('#placeholder'),
  placeholderText: $('#placeholder-text'),
  view: $('#view'),
  back: $('#back'),
  title: $('#conv-title'),
  meta: $('#conv-meta'),
  notice: $('#conv-notice'),
  transfer: $('#transfer'),
  close: $('#close'),
  earlier: $('#earlier'),
  claimBar: $('#claim-bar'),
  claimCurrent: $('#claim-current'),
  ended: $('#ended'),
  composer: $('#composer'),
  text: $('#text'),
  send: $('#send'),
};
const listNodes = {
  queue: $('#queue'),
  queueCount: $('#queue-count'),
  queueEmpty: $('#queue-empty'),
  mine: $('#mine'),
  mineCount: $('#mine-count'),
  mineEmpty: $('#mine-empty'),
};

const status = new StatusBar($('#status'), { hideConnected: false });
const typing = new TypingIndicator($('#typing'));
const list = new MessageList($('#messages'), {
  isOwn: (m) => m.senderType === 'agent' && m.senderId === me.id,
  senderLabel: (m) => {
    if (m.senderType === 'customer') return views.get(m.sessionId)?.session.customerName || 'Customer';
    return m.senderType === 'agent' ? `Agent ${m.senderId}` : 'Notice';
  },
});

/** Every session shown: id -> {session, messages: Map id -> message, unread, loaded, hasMore}. */
const views = new Map();
let current = null;
let me = { id: 0, displayName: '' };
let api = null;
let chat = null;
let opened = false;
let expired = false;

const growComposer = wireComposer(ui.text, submitReply, () => {
  if (chat !== null && current !== null) chat.sendTyping(current);
});

// ---------------------------------------------------------------------------
// Login

function loginExpired() {
  if (expired) return;
  expired = true;
  if (chat !== null) chat.destroy();
  storageSet(sessionStorage, AGENT_KEY, null);
  ui.bannerText.textContent = TEXT_LOGIN_EXPIRED;
  ui.bannerLink.hidden = false;
  ui.banner.hidden = false;
  ui.banner.dataset.kind = 'login-expired';
  ui.layout.inert = true;
  ui.logout.disabled = true;
  status.update('error', { message: 'Signed out' });
  setTimeout(() => window.location.assign('/login?reason=expired'), LOGIN_REDIRECT_MS);
}

/* A REST failure: an expired login ends the page; anything else is shown where it happened. */
function failed(err, show) {
  if (err instanceof ApiError && err.isTokenProblem) {
    loginExpired();
    return;
  }
  const text = err instanceof ApiError && err.status === 0
    ? 'The server cannot be reached. Please try again.'
    : (err instanceof ApiError ? err.message : 'Something went wrong. Please try again.');
  if (show) show(text);
  else console.warn('chat:', text);
}

ui.logout.addEventListener('click', async () => {
  ui.logout.disabled = true;
  expired = true;
  chat.destroy();
  try {
    await api.logout();
  } catch (err) { /* gone already, or unreachable: the token is forgotten here all the same */ }
  storageSet(sessionStorage, AGENT_KEY, null);
  window.location.replace('/login?reason=logged-out');
});

// ---------------------------------------------------------------------------
// Sessions and the lists

function viewOf(session) {
  let v = views.get(session.id);
  if (v === undefined) {
    v = { session, messages: new Map(), unread: 0, loaded: false, hasMore: false };
    views.set(session.id, v);
  } else {
    v.session = session;
  }
  return v;
}

function isMine(s) {
  return s.agentId === me.id && s.status !== 'queued';
}

function renderLists() {
  const unread = renderSessionLists(listNodes, views, {
    current, isMine, onOpen: select, onClaim: claimSession,
  });
  document.title = unread > 0 ? `(${unread}) ${TITLE}` : TITLE;
}

/* The queue and the agent's active chats, as the server has them now. */
async function loadLists() {
  const [queued, active] = await Promise.all([api.listSessions('queued'), api.listSessions('active')]);
  const seen = new Set();
  for (const s of [...queued.sessions, ...active.sessions]) {
    seen.add(s.id);
    viewOf(s);
  }
  // Gone while the connection was down: claimed by others, transferred, closed.
  for (const [id, v] of views) {
    if (seen.has(id) || v.session.status === 'closed') continue;
    try {
      updateSession(await api.getSession(id));
    } catch (err) {
      if (err instanceof ApiError && (err.status === 403 || err.status === 404)) dropView(id, 'This chat is no longer yours.');
      else throw err;
    }
  }
  renderLists();
}

/* A session event, or a fresher copy of a session. */
function updateSession(s) {
  const before = views.get(s.id);
  if (s.status === 'queued' || isMine(s)) {
    const v = viewOf(s);
    if (s.id === current) showSessionState(v, before ? before.session : null);
  } else if (before !== undefined) {
    const why = s.status === 'closed' ? 'The customer left before anyone took the chat.'
      : before.session.agentId === me.id ? `The chat was transferred to agent ${s.agentId}.`
        : 'Another agent took this chat.';
    dropView(s.id, why);
  }
  renderLists();
}

function dropView(id, why) {
  views.delete(id);
  if (current === id) deselect(why);
}

// ---------------------------------------------------------------------------
// The conversation

async function select(id) {
  const v = views.get(id);
  if (v === undefined) return;
  current = id;
  v.unread = 0;
  document.body.classList.add('show-conversation');
  ui.placeholder.hidden = true;
  ui.view.hidden = false;
  ui.notice.hidden = true;
  typing.hide();
  list.clear();
  list.addMessages([...v.messages.values()]);
  for (const entry of chat.outbox) {
    if (entry.sessionId === id) list.addPending(entry, !chat.isOpen);
  }
  showSessionState(v, null);
  renderLists();
  (ui.composer.hidden ? ui.title : ui.text).focus();
  if (!v.loaded) {
    try {
      await loadHistory(v);
    } catch (err) {
      failed(err, notice);
    }
  }
  list.scrollToEnd();
}

function deselect(why) {
  current = null;
  typing.hide();
  ui.view.hidden = true;
  ui.placeholder.hidden = false;
  ui.placeholderText.textContent = why || 'Pick a conversation on the left, or claim one from the queue.';
  document.body.classList.remove('show-conversation');
  renderLists();
}

async function loadHistory(v, before) {
  const page = await api.messages(v.session.id, before === undefined ? {} : { before });
  for (const m of page.messages) v.messages.set(m.id, m);
  if (before === undefined) v.loaded = true;
  if (before === undefined || !page.hasMore || v.hasMore) v.hasMore = page.hasMore;
  if (current === v.session.id) {
    list.addMessages(page.messages);
    ui.earlier.hidden = !v.hasMore;
  }
  renderLists();
}

function notice(text) {
  ui.notice.textContent = text;
  ui.notice.hidden = false;
}

/* The header, the composer or the claim bar, as the session's state wants. */
function showSessionState(v, before) {
  const s = v.session;
  const state = { queued: 'Waiting', active: 'Active', closed: 'Closed' }[s.status] || s.status;
  ui.title.textContent = s.customerName;
  ui.meta.replaceChildren(
    el('span', { class: `state-badge ${s.status}` }, state),
    ` ${s.channel} \u00b7 chat ${s.id}`,
    s.subject ? ` \u00b7 ${s.subject}` : '',
  );
  const mine = isMine(s) && s.status === 'active';
  ui.claimBar.hidden = s.status !== 'queued';
  ui.composer.hidden = !mine;
  ui.ended.hidden = s.status !== 'closed';
  ui.transfer.hidden = !mine;
  ui.close.hidden = !mine;
  ui.earlier.hidden = !v.hasMore;
  if (s.status === 'closed') typing.hide();
  if (before !== null && before.status !== 'closed' && s.status === 'closed') list.addNote('The chat was closed.');
  if (before !== null && before.status === 'queued' && mine) list.addNote('You claimed this chat.');
}

async function claimSession(id) {
  try {
    const s = await api.claim(id);
    updateSession(s);
    if (current !== s.id) await select(s.id);
    else ui.text.focus();
  } catch (err) {
    if (err instanceof ApiError && err.status === 409) {
      updateSession(await api.getSession(id).catch(() => ({ id, status: 'closed', agentId: null })));
      if (current === null) ui.placeholderText.textContent = 'Another agent took that chat first.';
      return;
    }
    failed(err, current === id ? notice : undefined);
  }
}

ui.claimCurrent.addEventListener('click', () => {
  if (current !== null) claimSession(current);
});

ui.back.addEventListener('click', () => deselect());

ui.earlier.addEventListener('click', async () => {
  const v = views.get(current);
  if (v === undefined) return;
  ui.earlier.disabled = true;
  try {
    await loadHistory(v, list.oldestId);
  } catch (err) {
    failed(err, notice);
  } finally {
    ui.earlier.disabled = false;
  }
});

function submitReply() {
  const text = ui.text.value.trim();
  const v = views.get(current);
  if (text === '' || v === undefined || !isMine(v.session) || v.session.status !== 'active') return;
  if (text.length > MAX_TEXT) {
    notice(`Replies are limited to ${MAX_TEXT} characters.`);
    return;
  }
  const entry = chat.sendMessage(current, text);
  list.addPending(entry, !chat.isOpen);
  ui.text.value = '';
  growComposer();
}

ui.composer.addEventListener('submit', (event) => {
  event.preventDefault();
  submitReply();
});

// Transfer and close, each in a modal dialog.
wireDialogs({
  current: () => current,
  me: () => me,
  api: () => api,
  done: updateSession,
  failed,
  focusTitle: () => ui.title.focus(),
});

// ---------------------------------------------------------------------------
// Live traffic

function receive(m) {
  let v = views.get(m.sessionId);
  if (v === undefined) {
    // A chat this page does not know yet: the server says what it is.
    api.getSession(m.sessionId).then((s) => {
      updateSession(s);
      if (views.has(m.sessionId)) receive(m);
    }, (err) => failed(err));
    return;
  }
  if (v.messages.has(m.id)) return;
  v.messages.set(m.id, m);
  if (current === m.sessionId) {
    list.addMessages([m]);
    if (m.senderType === 'customer') typing.hide();
  }
  const away = current !== m.sessionId || document.visibilityState !== 'visible';
  if (m.senderType === 'customer' && away) v.unread++;
  renderLists();
}

function offlineComplete(count) {
  if (count <= 0) return;
  ui.offlineNote.textContent = count === 1 ? '1 offline message loaded' : `${count} offline messages loaded`;
  ui.offlineNote.hidden = false;
}

function sendFailed(entry, code, text) {
  const why = {
    SESSION_CLOSED: 'the chat is closed',
    FORBIDDEN: 'the chat is no longer yours',
    INVALID_MESSAGE: 'the reply is empty or too long',
  }[code] || text;
  const retry = code === 'SESSION_CLOSED' || code === 'FORBIDDEN' ? null : () => {
    const again = chat.sendMessage(entry.sessionId, entry.text);
    if (current === entry.sessionId) list.addPending(again, !chat.isOpen);
  };
  if (current === entry.sessionId) list.failPending(entry.clientMsgId, why, retry);
  if (code === 'SESSION_CLOSED' || code === 'FORBIDDEN') {
    api.getSession(entry.sessionId).then(updateSession, (err) => {
      if (err instanceof ApiError && err.status === 403) dropView(entry.sessionId, 'This chat is no longer yours.');
      else failed(err);
    });
  }
}

function onStateChange(state, detail) {
  status.update(state, detail);
  updateSendButton(ui.send, state);
  if (state === 'connected') list.markAllSending();
  else for (const entry of chat.outbox) list.setPendingState(entry.clientMsgId, 'waiting');
}

async function onOpen() {
  if (!opened) {
    opened = true;
    return;
  }
  // Back after a drop: what changed meanwhile (messages come as offline ones).
  try {
    await loadLists();
    if (current !== null && views.has(current)) showSessionState(views.get(current), null);
  } catch (err) {
    failed(err);
  }
}

document.addEventListener('visibilitychange', () => {
  const v = views.get(current);
  if (document.visibilityState === 'visible' && v !== undefined && v.unread > 0) {
    v.unread = 0;
    renderLists();
  }
});

// ---------------------------------------------------------------------------

async function start() {
  const stored = storageGet(sessionStorage, AGENT_KEY);
  if (stored === null || !stored.token) {
    window.location.replace('/login');
    return;
  }
  api = new ChatApi({ userType: 'agent', credentials: { token: stored.token } });
  chat = createChatWebSocket({ api });
  chat.onStateChange = onStateChange;
  chat.onOpen = onOpen;
  chat.onMessageReceived = receive;
  chat.onOfflineMessageReceived = receive;
  chat.onOfflineMessagesComplete = offlineComplete;
  chat.onAck = (clientMsgId, m) => receive(m);
  chat.onSendFailed = sendFailed;
  chat.onSession = updateSession;
  chat.onTyping = (e) => {
    const v = views.get(e.sessionId);
    if (e.sessionId === current && e.senderType === 'customer' && v !== undefined) {
      typing.show(`${v.session.customerName} is typing`);
    }
  };
  chat.onLoginExpired = loginExpired;

  me = stored.agent || me;
  showMe();
  try {
    const who = await api.me();
    me = { id: who.id, username: who.username, displayName: who.displayName };
    showMe();
    await loadLists();
  } catch (err) {
    failed(err, (text) => {
      ui.placeholderText.textContent = text;
    });
    if (expired) return;
  }
  chat.connect();
}

function showMe() {
  ui.meName.textContent = me.displayName || me.username || '';
  ui.meId.textContent = me.id ? `ID ${me.id}` : '';
}

start();
