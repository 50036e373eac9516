// The agent's sign-in page (/login). A successful login keeps the token in
// this tab's sessionStorage and opens the workbench (/agent). Failures are
// shown under the form; a throttled account or address is told how long to
// wait, and the button stays off until then. In English or Chinese, with
// the same switch as the workbench.

import { ApiError, ChatApi } from './chat-client.js';
import { languageSwitch, onLanguageChange, t } from './i18n.js';
import { $, AGENT_KEY, storageGet, storageSet } from './ui.js';

const form = $('#login-form');
const username = $('#username');
const password = $('#password');
const error = $('#login-error');
const submit = $('#submit');
const notice = $('#notice');

let pausedUntil = 0;
let countdown = null;
let signingIn = false;
/* The error shown, as a function, so that it is said again in another language. */
let errorSays = null;

$('#language-slot').append(languageSwitch({ className: 'language-switch' }));

const reason = new URLSearchParams(window.location.search).get('reason');
const notices = { expired: 'login.notice.expired', 'logged-out': 'login.notice.loggedOut' };
if (Object.hasOwn(notices, reason)) {
  notice.textContent = t(notices[reason]);
  notice.hidden = false;
  notice.dataset.kind = reason;
}

// Signed in already in this tab: straight to the workbench.
const stored = storageGet(sessionStorage, AGENT_KEY);
if (stored !== null && stored.token && reason === null) {
  new ChatApi({ userType: 'agent', credentials: { token: stored.token } }).probe().then((verdict) => {
    if (verdict === 'valid') window.location.replace('/agent');
    else if (verdict === 'invalid') storageSet(sessionStorage, AGENT_KEY, null);
  });
}

/* The error under the form; field: the input at fault, null for none, undefined for both. */
function showError(says, field) {
  errorSays = says;
  const text = says === null ? '' : says();
  error.textContent = text;
  error.hidden = text === '';
  for (const input of [username, password]) {
    input.setAttribute('aria-invalid', text !== '' && (field === undefined || field === input) ? 'true' : 'false');
  }
}

function duration(seconds) {
  if (seconds < 60) return t('login.seconds', { count: seconds });
  return t('login.minutes', { count: Math.ceil(seconds / 60) });
}

/* The button's words: signing in, paused with the time left, or "Sign in". */
function renderButton() {
  const left = Math.ceil((pausedUntil - Date.now()) / 1000);
  if (left > 0) {
    submit.disabled = true;
    submit.textContent = t('login.wait', { time: duration(left) });
  } else if (signingIn) {
    submit.disabled = true;
    submit.textContent = t('login.signingIn');
  } else {
    submit.disabled = false;
    submit.textContent = t('login.submit');
  }
}

/* Throttled: the button says how long is left and comes back by itself. */
function pause(seconds) {
  pausedUntil = Date.now() + seconds * 1000;
  clearInterval(countdown);
  renderButton();
  countdown = setInterval(() => {
    if (Date.now() >= pausedUntil) clearInterval(countdown);
    renderButton();
  }, 1000);
}

function describe(err) {
  if (!(err instanceof ApiError)) return () => t('login.error.generic');
  switch (err.status) {
    case 0: return () => t('login.error.unreachable');
    case 400: return () => t('login.error.invalid', { why: err.message });
    case 401: return () => t('login.error.wrong');
    case 429: {
      const wait = err.retryAfter || 60;
      return () => t('login.error.throttled', { time: duration(wait) });
    }
    default: return () => t('login.error.server');
  }
}

form.addEventListener('submit', async (event) => {
  event.preventDefault();
  if (Date.now() < pausedUntil) return;
  if (username.value.trim() === '') {
    showError(() => t('login.error.noUsername'), username);
    username.focus();
    return;
  }
  if (password.value === '') {
    showError(() => t('login.error.noPassword'), password);
    password.focus();
    return;
  }
  showError(null);
  signingIn = true;
  renderButton();
  try {
    const reply = await ChatApi.login(username.value.trim(), password.value);
    storageSet(sessionStorage, AGENT_KEY, { token: reply.token, expiresAt: reply.expiresAt, agent: reply.agent });
    window.location.replace('/agent');
    return;
  } catch (err) {
    const throttled = err instanceof ApiError && err.status === 429;
    showError(describe(err), err instanceof ApiError && err.status === 401 ? undefined : null);
    password.value = '';
    if (throttled) pause(err.retryAfter || 60);
    (username.value.trim() === '' ? username : password).focus();
  }
  signingIn = false;
  renderButton();
});

onLanguageChange(() => {
  if (notice.dataset.kind) notice.textContent = t(notices[notice.dataset.kind]);
  if (errorSays !== null) error.textContent = errorSays();
  renderButton();
});

username.focus();
