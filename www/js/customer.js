// The customer's chat page (/), on its own or inside the embed widget
// (widget.js opens it as /?embed=1). The customer's tokens live in
// localStorage, so a reload or a visit days later finds the conversation;
// a site that creates its customers itself can hand them over in the
// address's fragment, #customerId=..&channel=..&token=..&refreshToken=..,
// which the page removes from the address bar at once.

import { ApiError, ChatApi, createChatWebSocket } from './chat-client.js';
import {
  $, MessageList, StatusBar, TypingIndicator, storageGet, storageSet, updateSendButton, wireComposer,
} from './ui.js';

const STORE_KEY = 'chat.customer';
const CHANNEL = 'WEB';
const MAX_TEXT = 4000;

const params = new URLSearchParams(window.location.search);
const embedded = params.get('embed') === '1';

const ui = {
  welcome: $('#welcome'),
  startForm: $('#start-form'),
  name: $('#name'),
  subject: $('#subject'),
  startError: $('#start-error'),
  start: $('#start'),
  chat: $('#chat'),
  earlier: $('#earlier'),
  text: $('#text'),
  send: $('#send'),
  composer: $('#composer'),
  ended: $('#ended'),
  restart: $('#restart'),
  announcer: $('#announcer'),
  minimize: $('#minimize'),
};
const status = new StatusBar($('#status'));
const typing = new TypingIndicator($('#typing'));
const list = new MessageList($('#messages'), {
  isOwn: (m) => m.senderType === 'customer',
  senderLabel: (m) => (m.senderType === 'agent' ? 'Support' : 'Notice'),
});

let api = null;
let chat = null;
let session = null;
let early = [];          // messages that came before the session was known
let earlyNote = null;    // and the offline count's note
let opened = false;
let unread = 0;
let widgetOpen = !embedded;

const growComposer = wireComposer(ui.text, submitMessage, () => {
  if (chat !== null && session !== null && session.status !== 'closed') chat.sendTyping(session.id);
});

// ---------------------------------------------------------------------------
// Credentials

/* Credentials handed over in the fragment, removed from the address bar at once. */
function takeFragmentCredentials() {
  const hash = window.location.hash.slice(1);
  if (!hash.includes('token=')) return null;
  history.replaceState(null, '', window.location.pathname + window.location.search);
  const f = new URLSearchParams(hash);
  const customerId = Number(f.get('customerId'));
  if (!f.get('token') || !Number.isInteger(customerId) || customerId <= 0) return null;
  return {
    customerId,
    channel: f.get('channel') || CHANNEL,
    token: f.get('token'),
    refreshToken: f.get('refreshToken') || undefined,
    name: f.get('name') || undefined,
  };
}

function saveCredentials(creds) {
  storageSet(localStorage, STORE_KEY, creds);
}

/* The tokens no longer work: keep only the name, so the next visit starts afresh. */
function forgetCredentials() {
  const old = storageGet(localStorage, STORE_KEY);
  saveCredentials(old && old.name ? { name: old.name } : null);
}

// ---------------------------------------------------------------------------
// Starting

function showWelcome(name) {
  ui.chat.hidden = true;
  ui.welcome.hidden = false;
  if (name) ui.name.value = name;
  ui.name.focus();
}

function startError(text) {
  ui.startError.textContent = text;
  ui.startError.hidden = text === '';
  ui.name.setAttribute('aria-invalid', text === '' ? 'false' : 'true');
}

ui.startForm.addEventListener('submit', async (event) => {
  event.preventDefault();
  const name = ui.name.value.trim();
  const subject = ui.subject.value.trim();
  if (name === '') {
    startError('Please tell us your name.');
    ui.name.focus();
    return;
  }
  startError('');
  ui.start.disabled = true;
  ui.start.textContent = 'Starting...';
  try {
    const c = await ChatApi.createCustomer({
      name,
      channel: CHANNEL,
      metadata: { source: embedded ? 'widget' : 'homepage' },
    });
    const creds = {
      customerId: c.id, channel: c.channel, name: c.name,
      token: c.token, refreshToken: c.refreshToken, expiresAt: c.expiresAt,
    };
    saveCredentials(creds);
    startChat(creds, subject);
  } catch (err) {
    startError(describeStartError(err));
    ui.name.focus();
  } finally {
    ui.start.disabled = false;
    ui.start.textContent = 'Start chat';
  }
});

function describeStartError(err) {
  if (!(err instanceof ApiError)) return 'Something went wrong. Please try again.';
  if (err.status === 429) {
    const wait = err.retryAfter ? ` in ${err.retryAfter} seconds` : ' in a minute';
    return `Many chats were started from your network just now. Please try again${wait}.`;
  }
  if (err.status === 0) return 'We cannot reach the chat server. Check your connection and try again.';
  if (err.code === 'INVALID_REQUEST') return 'Please use a name of up to 100 letters.';
  return 'Something went wrong on our side. Please try again in a moment.';
}

function startChat(creds, subject) {
  ui.welcome.hidden = true;
  ui.chat.hidden = false;
  api = new ChatApi({ userType: 'customer', credentials: creds, onCredentials: saveCredentials });
  chat = createChatWebSocket({ api });
  chat.onStateChange = onStateChange;
  chat.onOpen = () => onOpen(subject);
  chat.onMessageReceived = (m) => receive(m, false);
  chat.onOfflineMessageReceived = (m) => receive(m, true);
  chat.onOfflineMessagesComplete = offlineComplete;
  chat.onAck = (clientMsgId, m) => receive(m, false);
  chat.onSendFailed = sendFailed;
  chat.onSession = sessionChanged;
  chat.onTyping = (e) => {
    if (session !== null && e.sessionId === session.id && e.senderType === 'agent') typing.show('Support is typing');
  };
  chat.onNotice = announce;
  chat.connect();
}

function announce(text) {
  ui.announcer.textContent = '';
  ui.announcer.textContent = text;
}

// ---------------------------------------------------------------------------
// The connection

function onStateChange(state, detail) {
  status.update(state, detail);
  updateSendButton(ui.send, state);
  if (state === 'connected') list.markAllSending();
  else for (const entry of chat.outbox) list.setPendingState(entry.clientMsgId, 'waiting');
  if (state === 'error' && (detail.reason === 'token' || detail.reason === 'refresh')) {
    if (!(detail.cause instanceof ApiError) || detail.cause.status === 401 || detail.cause.status === 400) {
      forgetCredentials();
    }
  }
}

async function onOpen(subject) {
  if (!opened) {
    opened = true;
    await loadSession(subject);
  } else if (session !== null) {
    // What changed while the connection was down: its messages come as offline ones.
    try {
      applySession(await api.getSession(session.id));
    } catch (err) {
      reportFailure(err);
    }
  }
}

/* The open conversation, else the last one, else a new one. */
async function loadSession(subject) {
  try {
    const { sessions } = await api.listSessions();
    sessions.sort((a, b) => b.id - a.id);
    let s = sessions.find((x) => x.status !== 'closed');
    if (s === undefined && (subject !== undefined || sessions.length === 0)) {
      s = await api.createSession(subject || undefined);
    }
    if (s === undefined) s = sessions[0];
    await showSession(s);
  } catch (err) {
    reportFailure(err);
  }
}

async function showSession(s) {
  session = s;
  list.clear();
  typing.hide();
  const waiting = early.filter((m) => m.sessionId === s.id);
  early = [];
  const page = await api.messages(s.id);
  list.addMessages(page.messages);
  list.addMessages(waiting);
  if (earlyNote !== null) list.addNote(earlyNote);
  earlyNote = null;
  ui.earlier.hidden = !page.hasMore;
  applySession(s, true);
  ui.text.disabled = false;
  if (widgetOpen) ui.text.focus();
  list.scrollToEnd();
}

function applySession(s, first = false) {
  const before = session;
  session = s;
  const closed = s.status === 'closed';
  ui.ended.hidden = !closed;
  ui.composer.hidden = closed;
  if (closed) typing.hide();
  if (first) {
    if (s.status === 'queued') list.addNote('You are in the queue. An agent will be with you shortly.');
    return;
  }
  if (before.status === 'queued' && s.status === 'active') list.addNote('An agent joined the conversation.');
  else if (before.status === 'active' && s.status === 'active' && before.agentId !== s.agentId) {
    list.addNote('You were transferred to another agent.');
  } else if (before.status !== 'closed' && closed) list.addNote('The conversation was closed.');
}

function sessionChanged(s) {
  if (session === null) return;
  if (s.id === session.id) applySession(s);
  else if (session.status === 'closed' && s.status !== 'closed') showSession(s).catch(reportFailure);
}

function reportFailure(err) {
  if (err instanceof ApiError && err.isTokenProblem) {
    status.update('error', { message: 'Your chat session has expired. Please reload the page.' });
    forgetCredentials();
    return;
  }
  announce('Something went wrong loading the conversation.');
  console.warn('chat: loading the conversation failed:', err.message);
}

// ---------------------------------------------------------------------------
// Messages

function receive(m, offline) {
  if (session === null) {
    early.push(m);
    return;
  }
  if (m.sessionId !== session.id) return;
  const added = list.addMessages([m]);
  if (m.senderType === 'agent') {
    typing.hide();
    if (added > 0 && !offline) noteUnread();
  }
}

function offlineComplete(count) {
  if (count <= 0) return;
  const text = count === 1 ? '1 offline message loaded' : `${count} offline messages loaded`;
  if (session === null) earlyNote = text;
  else list.addNote(text);
  announce(text);
}

function submitMessage() {
  const text = ui.text.value.trim();
  if (text === '' || session === null || session.status === 'closed' || chat === null) return;
  if (text.length > MAX_TEXT) {
    announce(`Messages are limited to ${MAX_TEXT} characters.`);
    return;
  }
  sendText(text);
  ui.text.value = '';
  growComposer();
}

ui.composer.addEventListener('submit', (event) => {
  event.preventDefault();
  submitMessage();
});

function sendText(text) {
  const entry = chat.sendMessage(session.id, text);
  if (chat.outbox.includes(entry)) list.addPending(entry, !chat.isOpen);
}

function sendFailed(entry, code) {
  const why = {
    SESSION_CLOSED: 'the conversation has ended',
    INVALID_MESSAGE: 'the message is empty or too long',
    FORBIDDEN: 'this conversation is not yours',
  }[code] || 'the server refused it';
  const retry = code === 'SESSION_CLOSED' || code === 'FORBIDDEN' ? null : () => sendText(entry.text);
  list.failPending(entry.clientMsgId, why, retry);
  if (code === 'SESSION_CLOSED') api.getSession(entry.sessionId).then(applySession, reportFailure);
}

ui.earlier.addEventListener('click', async () => {
  if (session === null) return;
  ui.earlier.disabled = true;
  try {
    const page = await api.messages(session.id, { before: list.oldestId });
    list.addMessages(page.messages);
    ui.earlier.hidden = !page.hasMore;
  } catch (err) {
    reportFailure(err);
  } finally {
    ui.earlier.disabled = false;
  }
});

ui.restart.addEventListener('click', async () => {
  ui.restart.disabled = true;
  try {
    await showSession(await api.createSession());
  } catch (err) {
    reportFailure(err);
  } finally {
    ui.restart.disabled = false;
  }
});

// ---------------------------------------------------------------------------
// Inside the embed widget: the host page shows and hides the frame.

const TITLE = document.title;

function noteUnread() {
  if (widgetOpen && document.visibilityState === 'visible') return;
  unread++;
  if (embedded) window.parent.postMessage({ source: 'chat-widget', type: 'unread', count: unread }, '*');
  else document.title = `(${unread}) ${TITLE}`;
}

if (embedded) {
  document.body.classList.add('embedded');
  ui.minimize.hidden = false;
  const close = () => window.parent.postMessage({ source: 'chat-widget', type: 'close' }, '*');
  ui.minimize.addEventListener('click', close);
  document.addEventListener('keydown', (event) => {
    if (event.key === 'Escape') close();
  });
  window.addEventListener('message', (event) => {
    if (event.source !== window.parent || !event.data || event.data.source !== 'chat-widget-host') return;
    widgetOpen = event.data.type === 'open';
    if (widgetOpen) {
      unread = 0;
      (ui.chat.hidden ? ui.name : ui.text).focus();
    }
  });
}

document.addEventListener('visibilitychange', () => {
  if (document.visibilityState !== 'visible' || !widgetOpen) return;
  unread = 0;
  document.title = TITLE;
});

// ---------------------------------------------------------------------------

const handed = takeFragmentCredentials();
if (handed !== null) saveCredentials(handed);
const stored = storageGet(localStorage, STORE_KEY);
if (stored !== null && stored.token && stored.customerId) startChat(stored);
else showWelcome(stored !== null ? stored.name : '');
