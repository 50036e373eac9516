// The customer's chat page (/), on its own or inside the embed widget
// (widget.js opens it as /?embed=1): the pre-chat form, or the away page
// when nobody can answer, then the conversation. The credentials and how
// they arrive are in customer-store.js, the away page and the offer of a
// chat nobody answered in customer-away.js, the forms' checks and the
// transcript in customer-forms.js, the visitor context in
// customer-context.js, the host page in customer-embed.js.
//
// The status bar and the send button are the guide's own
// (#connection-status with its status-* classes, #send-button), so the
// guide's ChatUI works on this page unchanged.

import { ApiError, ChatApi, createChatWebSocket } from './chat-client.js';
import { languageSwitch, onLanguageChange, say, t } from './i18n.js';
import {
  $, MessageList, StatusBar, TypingIndicator, clientText, updateSendButton, wireComposer,
} from './ui.js';
import { AwayPage, UnansweredOffer } from './customer-away.js';
import { VisitorContext } from './customer-context.js';
import { wireEmbed } from './customer-embed.js';
import {
  CHANNEL, Credentials, credentialsOf, takeLinkCode,
} from './customer-store.js';
import { TranscriptControl, describeFailure } from './customer-forms.js';
import { StartForm } from './customer-start.js';

const MAX_TEXT = 4000;

const params = new URLSearchParams(window.location.search);
const embedded = params.get('embed') === '1';

const ui = {
  chatName: $('#chat-name'),
  tagline: $('#tagline'),
  name: $('#name'),
  chat: $('#chat'),
  earlier: $('#earlier'),
  text: $('#text'),
  send: $('#send-button'),
  composer: $('#composer'),
  ended: $('#ended'),
  restart: $('#restart'),
  announcer: $('#announcer'),
};

const status = new StatusBar($('#connection-status'), {
  guide: true,
  action: $('#status-action'),
  onRetry: () => chat !== null && chat.reconnectNow(),
});
const typing = new TypingIndicator($('#typing'));
const list = new MessageList($('#messages'), {
  isOwn: (m) => m.senderType === 'customer',
  senderLabel: (m) => agentName(m) || t('visitor.support'),
  avatarName: (m) => (m.senderType === 'agent' ? agentName(m) || t('visitor.support') : null),
});

let availability = null;
const creds = new Credentials();
let api = null;
let chat = null;
let session = null;
let connection = 'idle';
let early = [];          // messages that came before the session was known
let earlyCount = 0;      // and the offline count
let opened = false;
let unread = 0;
let widgetOpen = !embedded;

const context = new VisitorContext({
  embedded,
  send: async (id, value) => {
    if (api === null) return;
    const s = await api.updateContext(id, value);
    if (session !== null && s && s.id === session.id) session = { ...session, context: s.context };
  },
});

const start = new StartForm({
  customer: ensureCustomer,
  started: (question) => startChat({ newSession: true, question }),
});

const away = new AwayPage({
  customer: ensureCustomer,
  hasCustomer: () => creds.usable,
  email: () => knownEmail(),
  onLeft: (reply, email) => {
    rememberEmail(email);
    if (reply && reply.session) session = reply.session;
  },
  chatAnyway: () => {
    away.hide();
    if (creds.usable) startChat({ newSession: true });
    else showWelcome(ui.name.value);
  },
});

const unanswered = new UnansweredOffer({
  api: () => api,
  email: () => knownEmail(),
  onLeft: (reply, email) => {
    rememberEmail(email);
    if (reply && reply.message) receive(reply.message, false);
  },
});

const transcript = new TranscriptControl({
  api: () => api,
  session: () => session,
  email: () => knownEmail(),
  rememberEmail,
}, {
  box: $('#transcript'),
  button: $('#transcript-button'),
  form: $('#transcript-form'),
  email: $('#transcript-email'),
  send: $('#transcript-send'),
  cancel: $('#transcript-cancel'),
  status: $('#transcript-status'),
});

const growComposer = wireComposer(ui.text, submitMessage, () => {
  if (chat !== null && session !== null && session.status !== 'closed') chat.sendTyping(session.id);
});

/* The agent of a message: its sender's name, else the session's agent's. */
function agentName(m) {
  if (m.senderName) return m.senderName;
  if (session !== null && session.agentName && (m.senderId === session.agentId || !m.senderId)) {
    return session.agentName;
  }
  return null;
}

// ---------------------------------------------------------------------------
// Credentials

function knownEmail() {
  if (session !== null && session.customerEmail) return session.customerEmail;
  return creds.email;
}

function rememberEmail(email) {
  creds.rememberEmail(email);
}

function newApi() {
  return new ChatApi({ userType: 'customer', credentials: creds.value, onCredentials: creds.save });
}

/** The visitor's ChatApi, after making the customer with these fields if there is none yet. */
async function ensureCustomer({ name, email, consent }) {
  if (creds.usable) {
    api = api || newApi();
    return api;
  }
  const body = { name, channel: CHANNEL, metadata: { source: embedded ? 'widget' : 'homepage' } };
  if (email) body.email = email;
  if (consent !== undefined) body.consent = consent;
  const c = await ChatApi.createCustomer(body);
  creds.replace(credentialsOf(c));
  api = newApi();
  return api;
}

// ---------------------------------------------------------------------------
// Availability: the form's fields, and whether anyone can answer

async function loadAvailability() {
  try {
    availability = await ChatApi.availability();
  } catch (err) {
    // An older server, or none: the chat as it always was.
    availability = null;
    if (!(err instanceof ApiError) || err.status !== 404) {
      console.warn('chat: availability unknown:', err.message);
    }
  }
  applyAvailability();
  return availability;
}

function applyAvailability() {
  const a = availability || {};
  start.configure(availability);
  if (a.chatName && a.chatName !== 'Support') {
    ui.chatName.removeAttribute('data-i18n');
    ui.chatName.textContent = a.chatName;
  }
  if (session !== null) {
    unanswered.watch(session, a.unclaimedTimeout || 0);
    transcript.offer(Boolean(a.mail));
  }
}

function isAway() {
  return availability !== null && availability.open === false;
}

// ---------------------------------------------------------------------------
// Starting

function showWelcome(name) {
  ui.chat.hidden = true;
  away.hide();
  start.show(name, creds.email);
}

function showAway() {
  ui.chat.hidden = true;
  start.hide();
  away.show(availability, creds.name || ui.name.value);
}

/*
 * Connect and show the conversation. options.newSession: start one if none
 * is open; options.question: the visitor's first message, sent once the
 * session exists; options.sessionId: show this one (a link from a mail).
 */
function startChat(options = {}) {
  start.hide();
  away.hide();
  ui.chat.hidden = false;
  if (chat !== null) {
    if (chat.isOpen) loadSession(options);
    return;
  }
  api = api || newApi();
  chat = createChatWebSocket({ api });
  chat.onStateChange = onStateChange;
  chat.onOpen = () => onOpen(options);
  chat.onMessageReceived = (m) => receive(m, false);
  chat.onOfflineMessageReceived = (m) => receive(m, true);
  chat.onOfflineMessagesComplete = offlineComplete;
  chat.onAck = (clientMsgId, m) => receive(m, false);
  chat.onSendFailed = sendFailed;
  chat.onSession = sessionChanged;
  chat.onTyping = (e) => {
    if (session !== null && e.sessionId === session.id && e.senderType === 'agent') typing.show(typingText());
  };
  chat.onNotice = (text) => announce(clientText(text));
  chat.connect();
}

function typingText() {
  return session !== null && session.agentName
    ? t('common.typing', { name: session.agentName }) : t('visitor.agentTyping');
}

function announce(text) {
  ui.announcer.textContent = '';
  ui.announcer.textContent = text;
}

// ---------------------------------------------------------------------------
// The connection

function onStateChange(state, detail) {
  connection = state;
  status.update(state, detail);
  updateSendButton(ui.send, state);
  if (state === 'connected') list.markAllSending();
  else for (const entry of chat.outbox) list.setPendingState(entry.clientMsgId, 'waiting');
  if (state === 'error' && (detail.reason === 'token' || detail.reason === 'refresh')) {
    if (!(detail.cause instanceof ApiError) || detail.cause.status === 401 || detail.cause.status === 400) {
      creds.forget();
    }
  }
}

async function onOpen(options) {
  if (!opened) {
    opened = true;
    await loadSession(options);
  } else if (session !== null) {
    // What changed while the connection was down: its messages come as offline ones.
    try {
      applySession(await api.getSession(session.id));
    } catch (err) {
      reportFailure(err);
    }
  }
}

/* The session asked for, else the open one, else (asked to) a new one, else the last one. */
async function loadSession({ newSession = false, question = '', sessionId } = {}) {
  try {
    let s;
    if (sessionId !== undefined) s = await api.getSession(sessionId).catch(() => undefined);
    if (s === undefined) {
      const { sessions } = await api.listSessions();
      sessions.sort((a, b) => b.id - a.id);
      s = sessions.find((x) => x.status !== 'closed');
      if (s === undefined && (newSession || sessions.length === 0)) {
        s = await api.createSession(subjectOf(question), { context: context.value });
      }
      if (s === undefined) s = sessions[0];
    }
    await showSession(s);
    if (question) sendText(question);
  } catch (err) {
    reportFailure(err);
  }
}

/* The first question's first line, as the session's subject: what agents see in the queue. */
function subjectOf(question) {
  const line = (question || '').split('\n').map((x) => x.trim()).find((x) => x !== '');
  if (line === undefined) return undefined;
  const chars = Array.from(line);
  return chars.length <= 200 ? line : `${chars.slice(0, 199).join('')}\u2026`;
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
  if (earlyCount > 0) {
    const count = earlyCount;
    list.addNote(() => t('common.offlineLoaded', { count }));
  }
  earlyCount = 0;
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
  context.attach(s);
  unanswered.watch(s, availability ? availability.unclaimedTimeout : 0);
  transcript.offer(Boolean(availability && availability.mail));
  showAgent();
  if (first) {
    if (s.kind === 'message' && s.status === 'queued') {
      const email = knownEmail();
      list.addNote(() => t('visitor.leave.done', { email }));
    } else if (s.status === 'queued') {
      list.addNote(() => t('visitor.queued'));
    }
    return;
  }
  // Who joined or took over says the server's system line; only the end is noted here.
  if (before.status !== 'closed' && closed) {
    list.addNote(() => t('visitor.closedNote'));
    if (availability && availability.mail) transcript.closed(knownEmail());
  }
  if (before.agentName !== s.agentName) list.refresh();
}

/* The header says who the visitor talks to, once an agent has the chat. */
function showAgent() {
  if (session !== null && session.status === 'active' && session.agentName) {
    const name = session.agentName;
    say(ui.tagline, () => t('visitor.withAgent', { name }));
  } else {
    say(ui.tagline, 'visitor.tagline');
  }
}

function sessionChanged(s) {
  if (session === null) return;
  if (s.id === session.id) applySession({ ...session, ...s });
  else if (session.status === 'closed' && s.status !== 'closed') showSession(s).catch(reportFailure);
}

function reportFailure(err) {
  if (err instanceof ApiError && err.isTokenProblem) {
    status.update('error', { message: t('visitor.error.expired'), reason: 'token' });
    creds.forget();
    return;
  }
  announce(t('visitor.error.loading'));
  console.warn('chat: loading the conversation failed:', err.message);
}

// ---------------------------------------------------------------------------
// Messages

function receive(m, offline) {
  if (!m) return;
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
  const text = () => t('common.offlineLoaded', { count });
  if (session === null) earlyCount = count;
  else list.addNote(text);
  announce(text());
}

function submitMessage() {
  const text = ui.text.value.trim();
  if (text === '' || session === null || session.status === 'closed' || chat === null) return;
  if (text.length > MAX_TEXT) {
    announce(t('visitor.error.textLong', { max: MAX_TEXT }));
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
  const why = t({
    SESSION_CLOSED: 'visitor.why.closed',
    INVALID_MESSAGE: 'visitor.why.invalid',
    FORBIDDEN: 'visitor.why.forbidden',
  }[code] || 'visitor.why.refused');
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
    // Nobody to answer now: say so, and offer to leave a message instead.
    await loadAvailability();
    if (isAway()) {
      showAway();
      return;
    }
    await showSession(await api.createSession(undefined, { context: context.value }));
  } catch (err) {
    reportFailure(err);
  } finally {
    ui.restart.disabled = false;
  }
});

// ---------------------------------------------------------------------------
// Inside the embed widget: the host page shows and hides the frame.

function pageTitle() {
  return ui.chatName.textContent || t('visitor.pageTitle');
}

function noteUnread() {
  if (widgetOpen && document.visibilityState === 'visible') return;
  unread++;
  if (host !== null) host.unread(unread);
  else document.title = `(${unread}) ${pageTitle()}`;
}

const host = !embedded ? null : wireEmbed({
  onShown: (open) => {
    widgetOpen = open;
    if (!open) return;
    unread = 0;
    const target = [ui.text, ui.name, $('#leave-email')].find((n) => n.offsetParent !== null);
    if (target !== undefined) target.focus();
  },
});

document.addEventListener('visibilitychange', () => {
  if (document.visibilityState !== 'visible' || !widgetOpen) return;
  unread = 0;
  document.title = pageTitle();
});

// ---------------------------------------------------------------------------
// Languages: the switch in the header; a switch says everything again.

$('#language-slot').append(languageSwitch());
onLanguageChange(() => {
  status.render();
  if (connection !== 'idle') updateSendButton(ui.send, connection);
  list.refresh();
  if (!$('#typing').hidden) typing.show(typingText());
  away.renderHours();
  if (unread === 0 || embedded) document.title = pageTitle();
});

// ---------------------------------------------------------------------------

/*
 * Whether the visitor, who has a conversation here, wants the one a link
 * leads to instead: nothing replaces a chat without asking.
 */
function askSwitch() {
  const section = $('#switch-chat');
  start.hide();
  away.hide();
  ui.chat.hidden = true;
  section.hidden = false;
  $('#switch-keep').focus();
  return new Promise((resolve) => {
    const answer = (open) => {
      section.hidden = true;
      resolve(open);
    };
    $('#switch-keep').onclick = () => answer(false);
    $('#switch-open').onclick = () => answer(true);
  });
}

/*
 * A link into a conversation (a mail's, or a site's hand-off): its
 * customer from now on, and its conversation. Returns false when the page
 * goes on with what it had.
 */
async function openLink(code) {
  let c;
  try {
    c = await ChatApi.resume(code);
  } catch (err) {
    if (creds.usable) return false;
    showWelcome(creds.name);
    start.error(err instanceof ApiError && err.status === 401 ? 'visitor.error.resume' : describeFailure(err));
    return true;
  }
  if (creds.usable && creds.value.customerId !== c.id && !(await askSwitch())) return false;
  creds.replace(credentialsOf(c));
  startChat(c.sessionId ? { sessionId: c.sessionId } : {});
  return true;
}

async function begin() {
  const code = takeLinkCode();
  creds.load();
  const availabilityKnown = loadAvailability();
  if (code !== null && await openLink(code)) return;
  if (creds.usable) {
    startChat();
    return;
  }
  await availabilityKnown;
  if (isAway()) showAway();
  else showWelcome(creds.name);
}

begin();
