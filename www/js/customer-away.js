// When nobody can answer: the away page (outside the business hours, or
// with nobody online), which says so with the hours and the next opening
// and takes a message and an email address instead; and, for a chat in
// the queue that nobody claimed in time, the same offer inside the chat,
// which stays open. Both go to POST /api/v1/leave-message.

import { newClientMsgId } from './chat-client.js';
import { dateFormat, say, t } from './i18n.js';
import { $, el } from './ui.js';
import {
  busy, clearErrorsOnInput, describeFailure, emailProblem, enterSubmits, fieldError, formError,
  refusedField, serverFieldText,
} from './customer-forms.js';

const DAYS = ['mon', 'tue', 'wed', 'thu', 'fri', 'sat', 'sun'];
/* 1 January 2024 was a Monday: the day names come from the week after it. */
const MONDAY = Date.UTC(2024, 0, 1, 12);
const MAX_TEXT = 4000;

/** The day's name in the language in use: 'mon' -> "Monday", "星期一". */
export function dayName(day) {
  const i = DAYS.indexOf(day);
  if (i < 0) return day;
  return dateFormat({ weekday: 'long', timeZone: 'UTC' }).format(new Date(MONDAY + i * 86400000));
}

/** When the chat opens again, in the visitor's own time and language. */
export function nextOpening(iso) {
  const date = new Date(iso);
  if (Number.isNaN(date.getTime())) return null;
  return dateFormat({ weekday: 'long', month: 'long', day: 'numeric', hour: '2-digit', minute: '2-digit' })
    .format(date);
}

/** The week's hours as rows [dayName, "09:00–17:30, 19:00–21:00" | closed], Monday first. */
export function hoursRows(hours) {
  return DAYS.map((day) => {
    const spans = hours.filter((h) => h.day === day).map((h) => `${h.open}\u2013${h.close}`);
    return [dayName(day), spans.length > 0 ? spans.join(', ') : t('visitor.away.closedDay'), day];
  });
}

/**
 * The away page and the leave-a-message forms.
 *   page.customer(fields)  resolves to the ChatApi of the visitor, made
 *                          with fields {name, email, consent} if there is none yet
 *   page.hasCustomer()     whether there is one (then the name is not asked)
 *   page.email()           the email the visitor gave before, or ''
 *   page.onLeft(reply, email)  the message was stored ({session, message})
 *   page.chatAnyway()      the visitor would rather wait in a chat
 */
export class AwayPage {
  constructor(page) {
    this.page = page;
    this.availability = null;
    this.ui = {
      section: $('#away'),
      title: $('#away-title'),
      intro: $('#away-text'),
      hours: $('#hours'),
      hoursTitle: $('#hours-title'),
      hoursList: $('#hours-list'),
      nextOpen: $('#next-open'),
      form: $('#leave-form'),
      nameField: $('#leave-name-field'),
      name: $('#leave-name'),
      nameError: $('#leave-name-error'),
      email: $('#leave-email'),
      emailError: $('#leave-email-error'),
      text: $('#leave-text'),
      textError: $('#leave-text-error'),
      consentField: $('#leave-consent-field'),
      consent: $('#leave-consent'),
      consentLabel: $('#leave-consent-label'),
      consentError: $('#leave-consent-error'),
      error: $('#leave-error'),
      send: $('#leave-send'),
      done: $('#leave-done'),
      doneText: $('#leave-done-text'),
      chatAnyway: $('#chat-anyway'),
    };
    this.ui.form.addEventListener('submit', (event) => {
      event.preventDefault();
      this.submit();
    });
    this.ui.chatAnyway.addEventListener('click', () => page.chatAnyway());
    clearErrorsOnInput(this.ui.form);
  }

  /** Show the away page for this answer of GET /availability. */
  show(availability, name = '') {
    const ui = this.ui;
    this.availability = availability;
    const closed = availability.reason === 'closed';
    say(ui.title, closed ? 'visitor.away.closedTitle' : 'visitor.away.noAgentsTitle');
    say(ui.intro, closed ? 'visitor.away.closedText' : 'visitor.away.noAgentsText');
    this.renderHours();
    ui.nameField.hidden = this.page.hasCustomer();
    if (name && ui.name.value === '') ui.name.value = name;
    if (ui.email.value === '') ui.email.value = this.page.email();
    const privacy = availability.privacyText;
    ui.consentField.hidden = !privacy || this.page.hasCustomer();
    ui.consentLabel.textContent = privacy || '';
    // With nobody online in working hours someone may come: the visitor may wait for them.
    ui.chatAnyway.hidden = closed;
    ui.form.hidden = false;
    ui.done.hidden = true;
    ui.section.hidden = false;
    (ui.nameField.hidden ? (ui.email.value ? ui.text : ui.email) : ui.name).focus();
  }

  hide() {
    this.ui.section.hidden = true;
  }

  /** Hours and next opening, again in the language now in use. */
  renderHours() {
    const ui = this.ui;
    const a = this.availability;
    if (a === null) return;
    const hours = Array.isArray(a.hours) && a.hours.length > 0 ? a.hours : null;
    ui.hours.hidden = hours === null && !a.nextOpenAt;
    ui.hoursTitle.hidden = hours === null;
    ui.hoursTitle.textContent = t('visitor.away.hours', { zone: a.timeZone || 'UTC' });
    ui.hoursList.replaceChildren(...(hours === null ? [] : hoursRows(hours).map(([day, spans, key]) => (
      el('tr', { 'data-day': key, class: spans === t('visitor.away.closedDay') ? 'closed' : null },
        el('th', { scope: 'row' }, day), el('td', {}, spans))))));
    const when = a.nextOpenAt ? nextOpening(a.nextOpenAt) : null;
    ui.nextOpen.hidden = when === null;
    ui.nextOpen.textContent = when === null ? '' : t('visitor.away.nextOpen', { when });
  }

  /** Check the form in the page; the first field at fault gets the focus. */
  check() {
    const ui = this.ui;
    const problems = [];
    const name = ui.name.value.trim();
    if (!ui.nameField.hidden) {
      fieldError(ui.name, ui.nameError, name === '' ? 'visitor.error.name' : null);
      if (name === '') problems.push(ui.name);
    }
    const email = emailProblem(ui.email.value, true);
    fieldError(ui.email, ui.emailError, email);
    if (email !== null) problems.push(ui.email);
    const text = ui.text.value.trim();
    const textProblem = text === '' ? 'visitor.error.textMissing'
      : text.length > MAX_TEXT ? () => t('visitor.error.textLong', { max: MAX_TEXT }) : null;
    fieldError(ui.text, ui.textError, textProblem);
    if (textProblem !== null) problems.push(ui.text);
    const consent = !ui.consentField.hidden && !ui.consent.checked;
    fieldError(ui.consent, ui.consentError, consent ? 'visitor.error.consent' : null);
    if (consent) problems.push(ui.consent);
    if (problems.length > 0) problems[0].focus();
    return problems.length === 0;
  }

  async submit() {
    const ui = this.ui;
    formError(ui.error, null);
    if (!this.check()) return;
    const email = ui.email.value.trim();
    const done = busy(ui.send, 'visitor.leave.sending', 'visitor.leave.send');
    try {
      const api = await this.page.customer({
        name: ui.name.value.trim(), email, consent: ui.consentField.hidden ? undefined : true,
      });
      // The same id until it is stored: a try again after a lost answer stores it once.
      this.clientMsgId = this.clientMsgId || newClientMsgId();
      const reply = await api.leaveMessage({ email, text: ui.text.value.trim(), clientMsgId: this.clientMsgId });
      this.clientMsgId = null;
      ui.form.hidden = true;
      ui.chatAnyway.hidden = true;
      say(ui.doneText, 'visitor.leave.done', { email });
      ui.done.hidden = false;
      ui.done.focus();
      this.page.onLeft(reply, email);
    } catch (err) {
      this.refused(err);
    } finally {
      done();
    }
  }

  refused(err) {
    const ui = this.ui;
    const field = refusedField(err);
    const at = { name: [ui.name, ui.nameError, 'visitor.error.nameLong'],
      email: [ui.email, ui.emailError, 'visitor.error.emailInvalid'],
      text: [ui.text, ui.textError, undefined] }[field];
    if (at !== undefined) {
      fieldError(at[0], at[1], serverFieldText(err, at[2]));
      at[0].focus();
    } else {
      formError(ui.error, describeFailure(err));
    }
  }
}

/**
 * "Nobody has answered yet", inside a chat left in the queue past the
 * unclaimed timeout: an email address and, if the visitor likes, more
 * text; the chat stays open, and goes on if an agent claims it later.
 *   page.api()          the visitor's ChatApi
 *   page.email()        the email given before, or ''
 *   page.onLeft(reply, email)
 */
export class UnansweredOffer {
  constructor(page) {
    this.page = page;
    this.timer = null;
    this.sent = false;
    this.sessionId = null;
    this.ui = {
      section: $('#unanswered'),
      form: $('#late-form'),
      email: $('#late-email'),
      emailError: $('#late-email-error'),
      text: $('#late-text'),
      error: $('#late-error'),
      send: $('#late-send'),
      done: $('#late-done'),
    };
    enterSubmits(this.ui.text);
    clearErrorsOnInput(this.ui.form);
    this.ui.form.addEventListener('submit', (event) => {
      event.preventDefault();
      this.submit();
    });
  }

  /**
   * Follow this session: offered once it waited timeoutSeconds in the
   * queue (by its createdAt), gone when an agent has it or it closed.
   */
  watch(session, timeoutSeconds) {
    clearTimeout(this.timer);
    this.timer = null;
    if (this.sessionId !== session.id) {
      this.sessionId = session.id;
      this.sent = false;
    }
    const waiting = session.status === 'queued' && session.kind !== 'message';
    if (!waiting || !(timeoutSeconds > 0)) {
      this.ui.section.hidden = !(this.sent && session.status === 'queued');
      return;
    }
    const due = Date.parse(session.createdAt) + timeoutSeconds * 1000 - Date.now();
    if (due <= 0 || Number.isNaN(due)) this.offer();
    else this.timer = setTimeout(() => this.offer(), due);
  }

  offer() {
    const ui = this.ui;
    if (!ui.section.hidden) return;
    if (ui.email.value === '') ui.email.value = this.page.email();
    ui.form.hidden = this.sent;
    ui.done.hidden = !this.sent;
    ui.section.hidden = false;
  }

  hide() {
    clearTimeout(this.timer);
    this.ui.section.hidden = true;
  }

  async submit() {
    const ui = this.ui;
    formError(ui.error, null);
    const problem = emailProblem(ui.email.value, true);
    fieldError(ui.email, ui.emailError, problem);
    if (problem !== null) {
      ui.email.focus();
      return;
    }
    const email = ui.email.value.trim();
    const text = ui.text.value.trim();
    if (text.length > MAX_TEXT) {
      formError(ui.error, () => t('visitor.error.textLong', { max: MAX_TEXT }));
      return;
    }
    const done = busy(ui.send, 'visitor.leave.sending', 'visitor.leave.send');
    try {
      // The text is the visitor's message to the team; without one, what they asked for.
      this.clientMsgId = this.clientMsgId || newClientMsgId();
      const reply = await this.page.api().leaveMessage({
        email, text: text || t('visitor.leave.defaultText'), clientMsgId: this.clientMsgId,
      });
      this.clientMsgId = null;
      this.sent = true;
      ui.form.hidden = true;
      say(ui.done, 'visitor.leave.done', { email });
      ui.done.hidden = false;
      // The session's news (now a message left) may have come first and hidden the offer.
      ui.section.hidden = false;
      this.page.onLeft(reply, email);
    } catch (err) {
      if (refusedField(err) === 'email') {
        fieldError(ui.email, ui.emailError, serverFieldText(err, 'visitor.error.emailInvalid'));
        ui.email.focus();
      } else {
        formError(ui.error, describeFailure(err));
      }
    } finally {
      done();
    }
  }
}
