// The visitor panel beside the conversation: who the visitor is (name,
// email) and where they are, from the session's context (the page's
// address and title, where they came from, their browser, system and
// language), with the pages seen while the chat is open on this
// workbench. The context comes from the visitor's page: it is shown as
// text, and only http(s) addresses become links.

import { language, t } from './i18n.js';
import { $, el, timeElement } from './ui.js';

const MAX_TRAIL = 8;
const NARROW = '(max-width: 1100px)';

/* An address worth a link: http or https only, anything else is text. */
function safeUrl(text) {
  if (typeof text !== 'string' || text === '') return null;
  try {
    const url = new URL(text);
    return url.protocol === 'http:' || url.protocol === 'https:' ? url : null;
  } catch {
    return null;
  }
}

function link(text, label) {
  const url = safeUrl(text);
  if (url === null) return el('span', { class: 'context-text' }, text);
  return el('a', {
    href: url.href, target: '_blank', rel: 'noopener noreferrer', class: 'context-link', title: url.href,
  }, label || url.href);
}

function languageName(tag) {
  try {
    const names = new Intl.DisplayNames([language()], { type: 'language' });
    const name = names.of(tag);
    return name && name !== tag ? `${name} (${tag})` : tag;
  } catch {
    return tag;
  }
}

function str(v) {
  return typeof v === 'string' ? v.trim() : '';
}

export class VisitorContext {
  constructor() {
    this.root = $('#visitor-context');
    this.details = $('#context-details');
    this.list = $('#context-list');
    this.empty = $('#context-empty');
    this.trail = $('#context-trail');
    this.trailList = $('#context-trail-list');
    this.trails = new Map();   // session id -> [{url, title, at}], newest last
    this.session = null;
    const narrow = window.matchMedia(NARROW);
    this.details.open = !narrow.matches;
    narrow.addEventListener('change', (e) => { this.details.open = !e.matches; });
  }

  /** Remember where the visitor of session s is now (any session, shown or not). */
  note(s) {
    const c = s.context || {};
    const url = str(c.url);
    if (url === '') return false;
    let trail = this.trails.get(s.id);
    if (trail === undefined) {
      trail = [];
      this.trails.set(s.id, trail);
    }
    const last = trail.at(-1);
    if (last !== undefined && last.url === url && last.title === str(c.title)) return false;
    trail.push({ url, title: str(c.title), at: new Date().toISOString() });
    if (trail.length > MAX_TRAIL) trail.shift();
    return last !== undefined;
  }

  forget(id) {
    this.trails.delete(id);
  }

  /** Show session s; moved: the visitor went to another page since it was last shown. */
  show(s, { moved = false } = {}) {
    this.session = s;
    const c = s.context || {};
    const rows = [];
    const row = (key, value, cls) => {
      if (value === null || value === undefined || value === '') return;
      rows.push(el('div', { class: `context-row ${cls || ''}`, 'data-field': key },
        el('dt', {}, t(`agent.context.${key}`)), el('dd', {}, value)));
    };
    row('name', s.customerName);
    if (s.customerEmail) {
      row('email', el('a', { href: `mailto:${encodeURIComponent(s.customerEmail).replace(/%40/g, '@')}`, class: 'context-link' },
        s.customerEmail));
    }
    const url = str(c.url);
    if (url !== '') {
      row('page', el('span', { class: 'context-page' },
        link(url, str(c.title) || url),
        str(c.title) !== '' ? el('span', { class: 'context-url' }, url) : null), moved ? 'changed' : '');
    } else if (str(c.title) !== '') {
      row('page', str(c.title));
    }
    if (str(c.referrer) !== '') row('referrer', link(str(c.referrer)));
    row('browser', str(c.browser));
    row('os', str(c.os));
    if (str(c.language) !== '') row('language', languageName(str(c.language)));
    row('started', s.createdAt ? timeElement(s.createdAt) : null);
    if (s.subject) row('subject', s.subject);
    this.list.replaceChildren(...rows);
    const known = ['url', 'title', 'referrer', 'browser', 'os', 'language'].some((k) => str(c[k]) !== '');
    this.empty.hidden = known;
    this.showTrail(s.id);
  }

  showTrail(id) {
    const trail = this.trails.get(id) || [];
    this.trail.hidden = trail.length < 2;
    this.trailList.replaceChildren(...trail.slice().reverse().map((p) => el('li', {},
      link(p.url, p.title || p.url), ' ', timeElement(p.at))));
  }

  /** The session's context changed; redraw when it is the one shown. */
  update(s) {
    const moved = this.note(s);
    if (this.session !== null && this.session.id === s.id) this.show(s, { moved });
  }

  refresh() {
    if (this.session !== null) this.show(this.session);
  }
}
