// The pre-chat form: the visitor's name, an email address (off, optional
// or required: CHAT_PRECHAT_EMAIL), the first question (sent as the first
// message once the session exists) and, when the operator gave a privacy
// text (CHAT_PRIVACY_TEXT), the box to agree to it. Checked in the page,
// each problem at its field; the server's refusal of a field shown there.

import { $ } from './ui.js';
import {
  busy, clearErrorsOnInput, describeFailure, emailProblem, enterSubmits, fieldError, formError,
  refusedField, serverFieldText,
} from './customer-forms.js';

const MAX_TEXT = 4000;

/**
 *   page.customer(fields)  resolves to the visitor's ChatApi, made with
 *                          {name, email, consent}
 *   page.started(question) the customer exists: open the chat
 */
export class StartForm {
  constructor(page) {
    this.page = page;
    this.ui = {
      section: $('#welcome'),
      form: $('#start-form'),
      name: $('#name'),
      nameError: $('#name-error'),
      emailField: $('#email-field'),
      email: $('#email'),
      emailOptional: $('#email-optional'),
      emailError: $('#email-error'),
      question: $('#question'),
      consentField: $('#consent-field'),
      consent: $('#consent'),
      consentLabel: $('#consent-label'),
      consentError: $('#consent-error'),
      error: $('#start-error'),
      start: $('#start'),
    };
    enterSubmits(this.ui.question);
    clearErrorsOnInput(this.ui.form);
    this.ui.form.addEventListener('submit', (event) => {
      event.preventDefault();
      this.submit();
    });
  }

  /** The fields as GET /availability says (null: the defaults, an optional email). */
  configure(availability) {
    const ui = this.ui;
    const a = availability || {};
    const field = a.emailField || 'optional';
    ui.emailField.hidden = field === 'off';
    ui.email.required = field === 'required';
    ui.emailOptional.hidden = field === 'required';
    ui.consentField.hidden = !a.privacyText;
    // The operator's own words, as text.
    ui.consentLabel.textContent = a.privacyText || '';
    ui.consent.required = Boolean(a.privacyText);
  }

  show(name, email) {
    const ui = this.ui;
    if (name && ui.name.value === '') ui.name.value = name;
    if (email && ui.email.value === '') ui.email.value = email;
    ui.section.hidden = false;
    ui.name.focus();
  }

  hide() {
    this.ui.section.hidden = true;
  }

  get visible() {
    return !this.ui.section.hidden;
  }

  /** Show an error of the whole form (a key or a function), e.g. a spent link. */
  error(what) {
    formError(this.ui.error, what);
  }

  check() {
    const ui = this.ui;
    const problems = [];
    const name = ui.name.value.trim();
    fieldError(ui.name, ui.nameError, name === '' ? 'visitor.error.name' : null);
    if (name === '') problems.push(ui.name);
    if (!ui.emailField.hidden) {
      const problem = emailProblem(ui.email.value, ui.email.required);
      fieldError(ui.email, ui.emailError, problem);
      if (problem !== null) problems.push(ui.email);
    }
    if (!ui.consentField.hidden) {
      const missing = !ui.consent.checked;
      fieldError(ui.consent, ui.consentError, missing ? 'visitor.error.consent' : null);
      if (missing) problems.push(ui.consent);
    }
    if (ui.question.value.trim().length > MAX_TEXT) problems.push(ui.question);
    if (problems.length > 0) problems[0].focus();
    return problems.length === 0;
  }

  async submit() {
    const ui = this.ui;
    formError(ui.error, null);
    if (!this.check()) return;
    const email = ui.emailField.hidden ? '' : ui.email.value.trim();
    const done = busy(ui.start, 'visitor.starting', 'visitor.start');
    try {
      await this.page.customer({
        name: ui.name.value.trim(),
        email: email || undefined,
        consent: ui.consentField.hidden ? undefined : true,
      });
      const question = ui.question.value.trim();
      ui.question.value = '';
      this.page.started(question);
    } catch (err) {
      this.refused(err);
    } finally {
      done();
    }
  }

  refused(err) {
    const ui = this.ui;
    const at = {
      name: [ui.name, ui.nameError, 'visitor.error.nameLong'],
      email: [ui.email, ui.emailError, 'visitor.error.emailInvalid'],
      consent: [ui.consent, ui.consentError, 'visitor.error.consent'],
    }[refusedField(err)];
    if (at !== undefined) {
      fieldError(at[0], at[1], serverFieldText(err, at[2]));
      at[0].focus();
      return;
    }
    formError(ui.error, describeFailure(err));
    ui.name.focus();
  }
}
