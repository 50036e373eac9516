// The agent's sign-in page (/login). A successful login keeps the token in
// this tab's sessionStorage and opens the workbench (/agent). Failures are
// shown under the form; a throttled account or address is told how long to
// wait, and the button stays off until then.

import { ApiError, ChatApi } from './chat-client.js';
import { $, AGENT_KEY, storageGet, storageSet } from './ui.js';

const form = $('#login-form');
const username = $('#username');
const password = $('#password');
const error = $('#login-error');
const submit = $('#submit');
const notice = $('#notice');

let pausedUntil = 0;
let countdown = null;

const reason = new URLSearchParams(window.location.search).get('reason');
const notices = {
  expired: 'Your login expired. Please log in again.',
  'logged-out': 'You have logged out.',
};
if (notices[reason]) {
  notice.textContent = notices[reason];
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
function showError(text, field) {
  error.textContent = text;
  error.hidden = text === '';
  for (const input of [username, password]) {
    input.setAttribute('aria-invalid', text !== '' && (field === undefined || field === input) ? 'true' : 'false');
  }
}

function minutes(seconds) {
  if (seconds < 60) return `${seconds} second${seconds === 1 ? '' : 's'}`;
  const m = Math.ceil(seconds / 60);
  return `${m} minute${m === 1 ? '' : 's'}`;
}

/* Throttled: the button says how long is left and comes back by itself. */
function pause(seconds) {
  pausedUntil = Date.now() + seconds * 1000;
  clearInterval(countdown);
  const tick = () => {
    const left = Math.ceil((pausedUntil - Date.now()) / 1000);
    if (left <= 0) {
      clearInterval(countdown);
      submit.disabled = false;
      submit.textContent = 'Sign in';
      return;
    }
    submit.disabled = true;
    submit.textContent = `Try again in ${minutes(left)}`;
  };
  tick();
  countdown = setInterval(tick, 1000);
}

function describe(err) {
  if (!(err instanceof ApiError)) return 'Something went wrong. Please try again.';
  switch (err.status) {
    case 0: return 'The server cannot be reached. Check your connection and try again.';
    case 400: return `Please check what you entered: ${err.message}`;
    case 401: return 'The username or password is not right. Please try again.';
    case 429: {
      const wait = err.retryAfter || 60;
      return 'Too many failed sign-in attempts for this account or from this network. ' +
        `To protect the account, sign-in is paused: try again in ${minutes(wait)}.`;
    }
    default: return 'The server could not sign you in just now. Please try again in a moment.';
  }
}

form.addEventListener('submit', async (event) => {
  event.preventDefault();
  if (Date.now() < pausedUntil) return;
  if (username.value.trim() === '') {
    showError('Please enter your username.', username);
    username.focus();
    return;
  }
  if (password.value === '') {
    showError('Please enter your password.', password);
    password.focus();
    return;
  }
  showError('');
  submit.disabled = true;
  submit.textContent = 'Signing in...';
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
  if (Date.now() >= pausedUntil) {
    submit.disabled = false;
    submit.textContent = 'Sign in';
  }
});

username.focus();
