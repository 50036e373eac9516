// What the visitor's forms share: an error shown at its field (and said
// again in a new language), the email check, and the server's refusals
// (400 naming the field) put at the field they name.

import { ApiError } from './chat-client.js';
import { language, say, t } from './i18n.js';

export const EMAIL_MAX = 254;
/* The shape of an address; the server checks the rest and says so, named. */
const EMAIL_SHAPE = /^[^\s@]+@[^\s@.]+(\.[^\s@.]+)+$/;

/**
 * What is wrong with an email address, as a string key, or null when it
 * looks right (or is empty and not required).
 */
export function emailProblem(value, required) {
  const v = value.trim();
  if (v === '') return required ? 'visitor.error.emailMissing' : null;
  if (v.length > EMAIL_MAX || !EMAIL_SHAPE.test(v)) return 'visitor.error.emailInvalid';
  return null;
}

/**
 * Show (or, with what null, clear) the error of an input in its error
 * node: what is a key of the strings, or a function that says it.
 */
export function fieldError(input, node, what, params) {
  if (what === null || what === undefined) {
    say(node, null);
    node.hidden = true;
    input.removeAttribute('aria-invalid');
    return;
  }
  say(node, what, params);
  node.hidden = false;
  input.setAttribute('aria-invalid', 'true');
}

/** The field a 400 INVALID_REQUEST names ("email must be ...": email), or null. */
export function refusedField(err) {
  if (!(err instanceof ApiError) || err.code !== 'INVALID_REQUEST') return null;
  const m = /^(?:context\.)?([a-zA-Z]+)\b/.exec(err.message || '');
  return m === null ? null : m[1];
}

/**
 * The server's refusal of a field, at the field: in English its own words
 * (they say what the rule is), in another language ours for that field.
 */
export function serverFieldText(err, fallbackKey) {
  // "email must be ..." reads as a sentence at the field: "Email must be ...".
  const message = err.message.charAt(0).toUpperCase() + err.message.slice(1);
  return () => (language() === 'en' || fallbackKey === undefined ? message : t(fallbackKey));
}

/** What to tell the visitor about a failed call that no field explains; a key or a function. */
export function describeFailure(err) {
  if (!(err instanceof ApiError)) return 'visitor.error.generic';
  if (err.status === 429) {
    const seconds = err.retryAfter;
    return seconds ? () => t('visitor.error.rateLimited', { seconds }) : 'visitor.error.rateLimitedMinute';
  }
  if (err.status === 0) return 'visitor.error.network';
  if (err.status >= 500) return 'visitor.error.server';
  const message = err.message;
  return () => (language() === 'en' ? message : t('visitor.error.generic'));
}

/** Show a form-level error (key, function, or null to clear) in node. */
export function formError(node, what) {
  if (what === null || what === undefined) {
    say(node, null);
    node.hidden = true;
    return;
  }
  say(node, what);
  node.hidden = false;
}

/** A submit button busy with its call: disabled, its text saying so; returns how to undo it. */
export function busy(button, busyKey, idleKey) {
  button.disabled = true;
  say(button, busyKey);
  return () => {
    button.disabled = false;
    say(button, idleKey);
  };
}

/** Enter submits the form from a textarea; Shift and Enter start a new line. */
export function enterSubmits(textarea) {
  textarea.addEventListener('keydown', (event) => {
    if (event.key === 'Enter' && !event.shiftKey && !event.isComposing) {
      event.preventDefault();
      textarea.form.requestSubmit();
    }
  });
}

/**
 * "Email me this conversation": POST /sessions/{id}/transcript, to the
 * address the visitor gave before, else to one the control asks for.
 *   page.api(), page.session(), page.email(), page.rememberEmail(email)
 */
export class TranscriptControl {
  constructor(page, ui) {
    this.page = page;
    this.ui = ui;   // {box, button, form, email, send, cancel, status}
    ui.button.addEventListener('click', () => this.start());
    ui.cancel.addEventListener('click', () => this.closeForm());
    ui.form.addEventListener('submit', (event) => {
      event.preventDefault();
      this.submitForm();
    });
  }

  /** Offered or not (the server sends mail, and there is a session). */
  offer(yes) {
    this.ui.box.hidden = !yes;
  }

  start() {
    const email = this.page.email();
    if (email) this.request(undefined, email);
    else this.openForm();
  }

  openForm() {
    const ui = this.ui;
    ui.form.hidden = false;
    ui.button.hidden = true;
    this.status(null);
    ui.email.focus();
  }

  closeForm() {
    const ui = this.ui;
    ui.form.hidden = true;
    ui.button.hidden = false;
    ui.email.removeAttribute('aria-invalid');
    this.status(null);
    ui.button.focus();
  }

  submitForm() {
    const problem = emailProblem(this.ui.email.value, true);
    if (problem !== null) {
      this.ui.email.setAttribute('aria-invalid', 'true');
      this.status(problem, true);
      this.ui.email.focus();
      return;
    }
    this.ui.email.removeAttribute('aria-invalid');
    const email = this.ui.email.value.trim();
    this.request(email, email);
  }

  async request(email, shown) {
    const ui = this.ui;
    const session = this.page.session();
    if (session === null) return;
    ui.button.disabled = true;
    ui.send.disabled = true;
    try {
      const reply = await this.page.api().requestTranscript(session.id, email);
      const to = (reply && reply.email) || shown;
      if (email) this.page.rememberEmail(email);
      ui.form.hidden = true;
      ui.button.hidden = false;
      this.status(() => t('visitor.transcript.queued', { email: to }), false);
    } catch (err) {
      if (err instanceof ApiError && err.status === 409) {
        this.status('visitor.transcript.unavailable', true);
      } else if (refusedField(err) === 'email') {
        if (ui.form.hidden) this.openForm();
        ui.email.setAttribute('aria-invalid', 'true');
        this.status(serverFieldText(err, 'visitor.error.emailInvalid'), true);
      } else {
        this.status(describeFailure(err), true);
      }
    } finally {
      ui.button.disabled = false;
      ui.send.disabled = false;
    }
  }

  /** The chat ended and the server mails it by itself to the address the visitor gave: say so. */
  closed(email) {
    if (email) this.status(() => t('visitor.transcript.onClose', { email }), false);
  }

  status(what, error = false) {
    const node = this.ui.status;
    node.classList.toggle('error', Boolean(what) && error);
    formError(node, what);
  }
}

/** A field's error goes as soon as the visitor changes the field. */
export function clearErrorsOnInput(form) {
  const clear = (event) => {
    const input = event.target;
    if (!(input instanceof HTMLElement) || input.getAttribute('aria-invalid') !== 'true') return;
    input.removeAttribute('aria-invalid');
    for (const id of (input.getAttribute('aria-describedby') || '').split(/\s+/)) {
      const node = id.endsWith('-error') ? document.getElementById(id) : null;
      if (node !== null) formError(node, null);
    }
  };
  form.addEventListener('input', clear);
  form.addEventListener('change', clear);
}
