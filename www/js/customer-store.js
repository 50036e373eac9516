// The visitor's credentials: kept in localStorage ('chat.customer'), so
// that a reload or a visit days later finds the conversation; handed over
// by a site that makes its customers itself as a one-time code in the
// address's fragment (#handoff=CODE), or brought back by a link from a
// mail (#resume=CODE). Either leaves the address bar at once. Tokens in
// the address are never taken: a link that carried them would let
// whoever made it read along.

import { storageGet, storageSet } from './ui.js';

export const STORE_KEY = 'chat.customer';
export const CHANNEL = 'WEB';

function clearFragment() {
  history.replaceState(null, '', window.location.pathname + window.location.search);
}

/**
 * The code of a link into a conversation: #handoff=CODE (a site's, works
 * once) or #resume=CODE (a mail's), or null. The fragment is cleared
 * whatever it holds when it names a code or a token.
 */
export function takeLinkCode() {
  const f = new URLSearchParams(window.location.hash.slice(1));
  const code = f.get('handoff') ?? f.get('resume');
  if (code !== null || f.has('token') || f.has('refreshToken')) clearFragment();
  return code;
}

/** What is kept of a customer as POST /customers (or /customers/resume) answers it. */
export function credentialsOf(c) {
  return {
    customerId: c.id, channel: c.channel, name: c.name, email: c.email || undefined,
    token: c.token, refreshToken: c.refreshToken, expiresAt: c.expiresAt,
  };
}

/** The stored credentials of this browser's visitor. */
export class Credentials {
  constructor() {
    this.value = null;
    // The ChatApi calls this after a refresh, as a method passed on its own.
    this.save = this.save.bind(this);
  }

  /** Read what is stored; returns it (or null). */
  load() {
    this.value = storageGet(localStorage, STORE_KEY);
    return this.value;
  }

  /** Keep next; a refresh hands back the tokens only, so what is known besides stays. */
  save(next) {
    this.value = next === null ? null : { ...(this.value || {}), ...next };
    storageSet(localStorage, STORE_KEY, this.value);
  }

  /** Keep next, another customer's: nothing of the one before stays. */
  replace(next) {
    this.value = null;
    this.save(next);
  }

  /** The tokens no longer work: keep only the name and email, so the next visit starts afresh. */
  forget() {
    const old = storageGet(localStorage, STORE_KEY);
    this.value = old && old.name ? { name: old.name, email: old.email } : null;
    storageSet(localStorage, STORE_KEY, this.value);
  }

  /** Whether there are tokens to connect with. */
  get usable() {
    return this.value !== null && Boolean(this.value.token) && Boolean(this.value.customerId);
  }

  get name() {
    return (this.value && this.value.name) || '';
  }

  get email() {
    return (this.value && this.value.email) || '';
  }

  /** An email the visitor gave (a form, a transcript), for next time. */
  rememberEmail(email) {
    if (email && this.value !== null) this.save({ email });
  }
}
