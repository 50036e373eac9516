// The agent workbench (/agent): the queue of waiting customers, the agent's
// own chats with their unread counts, and one conversation at a time with
// its history, typing, transfer and close, beside what is known of the
// visitor. Alerts (alerts.js) make sure a new chat or message is noticed
// in a background tab. The login token comes from the sign-in page through
// sessionStorage; when it stops working the agent is told and sent back to
// /login. A dropped connection never logs out.

import { Alerts, DEFAULT_REPEAT_S } from './alerts.js';
import { wireAlertsPanel } from './alerts-panel.js';
import { ApiError, ChatApi, createChatWebSocket } from './chat-client.js';
import { ConversationPane } from './conversation-pane.js';
import { wireDialogs } from './dialogs.js';
import { languageSwitch, onLanguageChange, t } from './i18n.js';
import { renderSessionLists } from './session-list.js';
import {
  $, AGENT_KEY, MessageList, StatusBar, TypingIndicator, el, storageGet, storageSet,
  updateSendButton, wireComposer,
} from './ui.js';
import { VisitorContext } from './visitor-context.js';

const LOGIN_REDIRECT_MS = 2500;
const MAX_TEXT = 4000;

const ui = {
  layout: $('#layout'),
  banner: $('#banner'),
  bannerText: $('#banner-text'),
  bannerLink: $('#banner-link'),
  meName: $('#me-name'),
  logout: $('#logout'),
  offlineNote: $('#offline-note'),
  back: $('#back'),
  earlier: $('#earlier'),
  claimCurrent: $('#claim-current'),
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

/** Every session shown: id -> {session, messages: Map id -> message, unread, loaded, hasMore}. */
const views = new Map();
let current = null;
let me = { id: 0, displayName: '' };
let api = null;
let chat = null;
let opened = false;
let expired = false;
let connState = 'connecting';
let offlineCount = 0;
/* Whether the server sends mail (GET /availability): replies then reach a visitor who left. */
let mailOn = false;
/* Chats this page is claiming: their session frames are no news to the agent. */
const claiming = new Set();

const status = new StatusBar($('#status'), { hideConnected: false });
const typing = new TypingIndicator($('#typing'));
const list = new MessageList($('#messages'), {
  isOwn: (m) => m.senderType === 'agent' && m.senderId === me.id,
  senderLabel,
  avatarName: (m) => (m.senderType === 'system' ? null : senderLabel(m)),
});
const pane = new ConversationPane({ list, typing, mail: () => mailOn });
const context = new VisitorContext();
const alerts = new Alerts({
  agentId: () => me.id,
  baseTitle: () => t('agent.pageTitle'),
  onOpen: (id) => {
    if (views.has(id)) select(id);
  },
  onChange: () => renderAlertsPanel(),
  announce: (text) => { $('#alert-announcer').textContent = text; },
});
const renderAlertsPanel = wireAlertsPanel(alerts);

/* Who wrote a message: the name the server gives it, else what the page knows. */
function senderLabel(m) {
  if (m.senderName) return m.senderName;
  if (m.senderType === 'customer') return views.get(m.sessionId)?.session.customerName || t('agent.customer');
  if (m.senderType === 'agent') return t('agent.agentNumber', { id: m.senderId });
  return t('agent.notice');
}

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
  ui.bannerText.textContent = t('common.loginExpired');
  ui.bannerLink.hidden = false;
  ui.banner.hidden = false;
  ui.banner.dataset.kind = 'login-expired';
  ui.layout.inert = true;
  ui.logout.disabled = true;
  status.update('error', { message: t('agent.signedOut') });
  setTimeout(() => window.location.assign('/login?reason=expired'), LOGIN_REDIRECT_MS);
}

/* A REST failure: an expired login ends the page; anything else is shown where it happened. */
function failed(err, show) {
  if (err instanceof ApiError && err.isTokenProblem) {
    loginExpired();
    return;
  }
  const text = err instanceof ApiError && err.status === 0
    ? t('agent.error.unreachable')
    : (err instanceof ApiError ? err.message : t('agent.error.generic'));
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
  renderSessionLists(listNodes, views, {
    current, isMine, onOpen: select, onClaim: claimSession, alerting: (id) => alerts.has(id),
  });
  alerts.render();
}

/* The queue and the agent's active chats, as the server has them now. */
async function loadLists() {
  const [queued, active] = await Promise.all([api.listSessions('queued'), api.listSessions('active')]);
  const seen = new Set();
  for (const s of [...queued.sessions, ...active.sessions]) {
    seen.add(s.id);
    const before = views.get(s.id);
    viewOf(s);
    context.note(s);
    // At the start, what is there is no news; after a drop, what came meanwhile is.
    noteAlerts(s, before === undefined ? null : before.session, opened);
  }
  // Gone while the connection was down: claimed by others, transferred, closed.
  for (const [id, v] of views) {
    if (seen.has(id) || v.session.status === 'closed') continue;
    try {
      updateSession(await api.getSession(id));
    } catch (err) {
      if (err instanceof ApiError && (err.status === 403 || err.status === 404)) dropView(id, () => t('agent.why.notYours'));
      else throw err;
    }
  }
  renderLists();
}

/*
 * What a session's news means for the alerts: a chat waits (queued, or a
 * left message), a chat became this agent's without their doing (routed
 * to them, transferred to them), or it no longer needs them. live: the
 * news came now, not with the lists at start.
 */
function noteAlerts(s, before, live) {
  const name = s.customerName;
  if (s.status === 'queued') {
    const reason = s.kind === 'message' ? 'left' : 'queued';
    alerts.raise(s.id, reason, { name, text: s.subject || '' });
    return;
  }
  alerts.resolve(s.id, ['queued', 'left']);
  if (!isMine(s) || s.status !== 'active') {
    alerts.resolve(s.id);
    return;
  }
  const givenToMe = live && !claiming.has(s.id) && (before === null || before.agentId !== me.id);
  if (givenToMe) {
    alerts.raise(s.id, 'assigned', { name, text: s.subject || '' });
    if (s.id === current) alerts.viewed(s.id);
  }
}

/* A session event, or a fresher copy of a session. */
function updateSession(s) {
  const before = views.get(s.id);
  if (s.status === 'queued' || isMine(s)) {
    const v = viewOf(s);
    context.update(s);
    if (s.id === current) showSessionState(v, before ? before.session : null);
  } else if (before !== undefined) {
    const old = before.session;
    let why;
    if (s.status === 'closed') why = () => t('agent.why.leftBeforeTaken');
    else if (old.agentId === me.id) why = () => t('agent.why.transferred', { name: s.agentName || `#${s.agentId}` });
    else why = () => t('agent.why.taken');
    dropView(s.id, why);
  }
  noteAlerts(s, before === undefined ? null : before.session, true);
  renderLists();
}

function dropView(id, why) {
  views.delete(id);
  alerts.resolve(id);
  context.forget(id);
  if (current === id) deselect(why);
}

// ---------------------------------------------------------------------------
// The conversation

async function select(id) {
  const v = views.get(id);
  if (v === undefined) return;
  current = id;
  v.unread = 0;
  alerts.viewed(id);
  pane.open();
  drawConversation(v);
  showSessionState(v, null);
  context.show(v.session);
  renderLists();
  pane.focus();
  if (!v.loaded) {
    try {
      await loadHistory(v);
    } catch (err) {
      failed(err, notice);
    }
  }
  list.scrollToEnd();
}

function drawConversation(v) {
  list.clear();
  list.addMessages([...v.messages.values()]);
  for (const entry of chat.outbox) {
    if (entry.sessionId === v.session.id) list.addPending(entry, !chat.isOpen);
  }
}

function deselect(why) {
  current = null;
  pane.close(why);
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
  pane.notice(text);
}

function showSessionState(v, before) {
  pane.show(v, isMine(v.session) && v.session.status === 'active', before);
}

async function claimSession(id) {
  claiming.add(id);
  try {
    const s = await api.claim(id);
    updateSession(s);
    if (current !== s.id) await select(s.id);
    else ui.text.focus();
  } catch (err) {
    if (err instanceof ApiError && err.status === 409) {
      updateSession(await api.getSession(id).catch(() => ({ id, status: 'closed', agentId: null })));
      if (current === null) pane.placeholder(() => t('agent.why.takenFirst'));
      return;
    }
    failed(err, current === id ? notice : undefined);
  } finally {
    claiming.delete(id);
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
    notice(t('agent.error.tooLong', { max: MAX_TEXT }));
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
  focusTitle: () => pane.focusTitle(),
});

// ---------------------------------------------------------------------------
// Live traffic

function receive(m) {
  const v = views.get(m.sessionId);
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
  if (m.senderType === 'customer' && away) {
    v.unread++;
    if (isMine(v.session)) {
      alerts.raise(m.sessionId, 'message', { name: v.session.customerName, text: m.text, unread: v.unread });
    } else if (v.session.status === 'queued') {
      alerts.raise(m.sessionId, v.session.kind === 'message' ? 'left' : 'queued',
        { name: v.session.customerName, text: m.text });
    }
  }
  renderLists();
}

function offlineComplete(count) {
  if (count <= 0) return;
  offlineCount = count;
  ui.offlineNote.textContent = t('common.offlineLoaded', { count });
  ui.offlineNote.hidden = false;
}

function sendFailed(entry, code, text) {
  const why = ['SESSION_CLOSED', 'FORBIDDEN', 'INVALID_MESSAGE'].includes(code) ? t(`agent.why.send.${code}`) : text;
  const retry = code === 'SESSION_CLOSED' || code === 'FORBIDDEN' ? null : () => {
    const again = chat.sendMessage(entry.sessionId, entry.text);
    if (current === entry.sessionId) list.addPending(again, !chat.isOpen);
  };
  if (current === entry.sessionId) list.failPending(entry.clientMsgId, why, retry);
  if (code === 'SESSION_CLOSED' || code === 'FORBIDDEN') {
    api.getSession(entry.sessionId).then(updateSession, (err) => {
      if (err instanceof ApiError && err.status === 403) dropView(entry.sessionId, () => t('agent.why.notYours'));
      else failed(err);
    });
  }
}

function onStateChange(state, detail) {
  connState = state;
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
  if (document.visibilityState !== 'visible' || current === null) return;
  alerts.viewed(current);
  const v = views.get(current);
  if (v !== undefined && v.unread > 0) v.unread = 0;
  renderLists();
});

// ---------------------------------------------------------------------------
// Languages: everything on screen is said again in the one chosen.

$('#language-slot').append(languageSwitch({ className: 'language-switch' }));

onLanguageChange(() => {
  status.render();
  updateSendButton(ui.send, connState);
  list.refresh();
  renderLists();
  pane.refresh();
  context.refresh();
  if (offlineCount > 0) ui.offlineNote.textContent = t('common.offlineLoaded', { count: offlineCount });
  renderAlertsPanel();
});

// ---------------------------------------------------------------------------

/* How often an alert comes again (the server's setting, else 30 s), and whether mail goes out. */
async function loadAlertRepeat() {
  try {
    const a = await ChatApi.availability();
    alerts.setRepeat(Number(a.alertRepeat) || DEFAULT_REPEAT_S);
    mailOn = a.mail === true;
  } catch { /* an older server: the default */ }
}

async function start() {
  const stored = storageGet(sessionStorage, AGENT_KEY);
  if (stored === null || !stored.token) {
    window.location.replace('/login');
    return;
  }
  pane.placeholder(() => t('agent.placeholder'));
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
      typing.show(t('common.typing', { name: v.session.customerName }));
    }
  };
  chat.onLoginExpired = loginExpired;

  me = stored.agent || me;
  showMe();
  alerts.reload();
  const repeat = loadAlertRepeat();
  try {
    const who = await api.me();
    me = { id: who.id, username: who.username, displayName: who.displayName };
    showMe();
    alerts.reload();
    await repeat;
    await loadLists();
  } catch (err) {
    failed(err, (text) => pane.placeholder(() => text));
    if (expired) return;
  }
  chat.connect();
}

function showMe() {
  ui.meName.textContent = me.displayName || me.username || '';
}

start();
