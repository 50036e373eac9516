// The workbench's alerts, so that a waiting visitor is noticed in a
// background tab: a desktop notification, a chime and the tab's title
// blinking with the count, for a new chat (queued, left as a message, or
// given to this agent) and for a customer's message in a chat that is not
// on screen. Each alert comes again every `repeat` seconds until it is
// resolved: the chat was claimed, or viewed. Each of the three can be
// turned off per agent; the choice is kept in this browser.

import { Chime } from './chime.js';
import { t } from './i18n.js';
import { TabBadge } from './tab-badge.js';
import { storageGet, storageSet } from './ui.js';

const BLINK_MS = 1000;
const SHOWN_WAIT_MS = 2500;
const MAX_BODY = 140;
/* Alerts closer together than this are one: one chime for a burst of messages. */
const BURST_MS = 1500;
export const DEFAULT_REPEAT_S = 30;

/* What an alert is about; a session's reasons merge, the first listed wins the wording. */
const REASONS = ['queued', 'left', 'assigned', 'message'];

function clip(text) {
  const s = String(text || '').replace(/\s+/g, ' ').trim();
  return s.length > MAX_BODY ? `${s.slice(0, MAX_BODY - 1)}\u2026` : s;
}

/** Whether this browser can show desktop notifications on this page at all. */
export function notificationSupport() {
  if (typeof window.Notification !== 'function') return 'unsupported';
  if (!window.isSecureContext) return 'insecure';
  return 'ok';
}

/**
 * The alerts of one workbench.
 *   options.agentId()      whose settings these are
 *   options.baseTitle()    the page's title without alerts
 *   options.onOpen(id)     open that chat (a notification was clicked)
 *   options.onChange()     the settings, permission or sound state changed
 *   options.announce(text) say a new alert to a screen reader
 */
export class Alerts {
  constructor(options) {
    this.options = options;
    this.entries = new Map();   // session id -> {reasons:Set, name, text, unread, nextAt, notification}
    this.repeatMs = DEFAULT_REPEAT_S * 1000;
    this.chime = new Chime();
    this.badge = new TabBadge();
    this.soundBlocked = false;
    this.timer = null;
    this.phase = false;
    this.testUntil = 0;
    this.chimedAt = 0;
    this.settings = this.loadSettings();
    document.addEventListener('visibilitychange', () => this.render());
    // Allowed or blocked later in the browser's own settings: say so at once.
    if (navigator.permissions !== undefined && notificationSupport() === 'ok') {
      navigator.permissions.query({ name: 'notifications' }).then((status) => {
        status.addEventListener('change', () => this.options.onChange());
      }, () => {});
    }
    for (const type of ['pointerdown', 'keydown']) {
      document.addEventListener(type, () => {
        if (!this.soundBlocked) return;
        this.soundBlocked = false;
        this.options.onChange();
      }, { capture: true });
    }
  }

  // ---- settings ----------------------------------------------------------

  storageKey() {
    return `chat.alerts.${this.options.agentId() || 0}`;
  }

  loadSettings() {
    const stored = storageGet(localStorage, this.storageKey()) || {};
    return {
      notify: stored.notify !== false,
      sound: stored.sound !== false,
      title: stored.title !== false,
    };
  }

  /** Read the settings again: the agent is known now. */
  reload() {
    this.settings = this.loadSettings();
    this.options.onChange();
  }

  set(name, on) {
    this.settings[name] = Boolean(on);
    storageSet(localStorage, this.storageKey(), this.settings);
    if (name === 'notify' && !on) for (const e of this.entries.values()) this.closeNotification(e);
    this.render();
    this.options.onChange();
  }

  setRepeat(seconds) {
    if (Number.isFinite(seconds) && seconds > 0) this.repeatMs = seconds * 1000;
  }

  /** 'granted', 'denied', 'default', 'unsupported' or 'insecure'. */
  get permission() {
    const support = notificationSupport();
    return support === 'ok' ? window.Notification.permission : support;
  }

  /** Ask for the permission: only ever from a control the agent pressed. */
  async askPermission() {
    if (notificationSupport() !== 'ok') return this.permission;
    try {
      await new Promise((resolve) => {
        const p = window.Notification.requestPermission(resolve);
        if (p !== undefined && typeof p.then === 'function') p.then(resolve, resolve);
      });
    } catch { /* the answer is read below */ }
    this.options.onChange();
    return this.permission;
  }

  // ---- alerts ------------------------------------------------------------

  /**
   * Something needs the agent in session id. reason: 'queued', 'left'
   * (a left message), 'assigned' (a chat given to this agent) or 'message'.
   * info: {name, text, unread}. A new alert fires at once; one that is
   * already pending only gets the newer text and count.
   */
  raise(id, reason, info = {}) {
    let e = this.entries.get(id);
    const fresh = e === undefined || !e.reasons.has(reason);
    if (e === undefined) {
      e = { reasons: new Set(), name: '', text: '', unread: 0, nextAt: 0, firedAt: 0, notification: null };
      this.entries.set(id, e);
    }
    e.reasons.add(reason);
    if (info.name) e.name = info.name;
    if (info.text) e.text = clip(info.text);
    if (Number.isInteger(info.unread)) e.unread = info.unread;
    // A burst of messages is one alert; each later message alerts again.
    if (fresh || (reason === 'message' && Date.now() - e.firedAt >= BURST_MS)) {
      this.fire([[id, e]]);
      if (this.options.announce) this.options.announce(this.headline(e));
    }
    this.start();
    this.render();
  }

  /** The reasons (all when omitted) no longer hold for session id. */
  resolve(id, reasons = REASONS) {
    const e = this.entries.get(id);
    if (e === undefined) return;
    for (const r of reasons) e.reasons.delete(r);
    if (e.reasons.size === 0) {
      this.closeNotification(e);
      this.entries.delete(id);
    }
    this.render();
  }

  /** The agent sees chat id on screen now: its message and assignment alerts end. */
  viewed(id) {
    if (document.visibilityState !== 'visible') return;
    this.resolve(id, ['assigned', 'message']);
  }

  has(id, reason) {
    const e = this.entries.get(id);
    return e !== undefined && (reason === undefined || e.reasons.has(reason));
  }

  /* What the title counts: each waiting chat, and each unread message (at least one per chat). */
  get count() {
    let n = 0;
    for (const e of this.entries.values()) {
      if (e.reasons.has('queued') || e.reasons.has('left')) n += 1;
      else n += Math.max(1, e.unread);
    }
    return n;
  }

  start() {
    if (this.timer !== null) return;
    this.timer = setInterval(() => this.tick(), BLINK_MS);
  }

  stop() {
    clearInterval(this.timer);
    this.timer = null;
    this.phase = false;
  }

  tick() {
    const now = Date.now();
    const due = [...this.entries].filter(([, e]) => e.nextAt <= now);
    if (due.length > 0) this.fire(due);
    this.phase = !this.phase;
    if (this.entries.size === 0 && now > this.testUntil) this.stop();
    this.render();
  }

  /* Notify and chime for these [id, entry] pairs, and set when they come again. */
  fire(pairs) {
    const now = Date.now();
    for (const [id, e] of pairs) {
      e.nextAt = now + this.repeatMs;
      e.firedAt = now;
      this.notify(id, e);
    }
    if (this.settings.sound && now - this.chimedAt >= BURST_MS) {
      this.chimedAt = now;
      this.playChime();
    }
  }

  async playChime() {
    const result = await this.chime.play();
    const blocked = result === 'blocked';
    if (blocked !== this.soundBlocked) {
      this.soundBlocked = blocked;
      this.options.onChange();
    }
    return result;
  }

  /* A desktop notification when the page is not what the agent looks at. */
  notify(id, e) {
    if (!this.settings.notify || this.permission !== 'granted') return;
    if (document.visibilityState === 'visible' && document.hasFocus()) return;
    const title = this.headline(e);
    const reason = REASONS.find((r) => e.reasons.has(r));
    this.closeNotification(e);
    try {
      const n = new window.Notification(title, {
        body: e.text || t('agent.alert.notify.body'),
        tag: `chat-session-${id}`,
        renotify: true,
        requireInteraction: reason === 'queued' || reason === 'left',
      });
      n.onclick = () => {
        window.focus();
        n.close();
        this.options.onOpen(id);
      };
      e.notification = n;
    } catch (err) {
      // Chrome on Android allows notifications only from a service worker.
      console.warn('chat: the notification could not be shown:', err.message);
    }
  }

  /* "Ann is waiting for an agent": what the alert is about, in words. */
  headline(e) {
    const reason = REASONS.find((r) => e.reasons.has(r));
    return t(`agent.alert.notify.${reason}`, { name: e.name || t('agent.customer') });
  }

  closeNotification(e) {
    if (e.notification === null) return;
    try { e.notification.close(); } catch { /* gone already */ }
    e.notification = null;
  }

  /** The tab's title: the count, and while alerts wait, blinking words; the count on its icon too. */
  render() {
    const base = this.options.baseTitle();
    const count = this.count;
    const testing = Date.now() < this.testUntil;
    this.badge.set(this.settings.title ? count : 0);
    if (count === 0 && !testing) {
      document.title = base;
      return;
    }
    const prefix = count > 0 ? `(${count}) ` : '';
    if (!this.settings.title || !this.phase) {
      document.title = `${prefix}${base}`;
      return;
    }
    let word = 'agent.alert.title.message';
    if (testing) word = 'agent.alert.title.test';
    else if ([...this.entries.values()].some((e) => e.reasons.has('queued') || e.reasons.has('left'))) {
      word = 'agent.alert.title.queued';
    } else if ([...this.entries.values()].some((e) => e.reasons.has('assigned') && e.unread === 0)) {
      word = 'agent.alert.title.assigned';
    }
    document.title = `${prefix}${t(word)} \u2013 ${base}`;
  }

  // ---- the check ---------------------------------------------------------

  /**
   * Try each alert once and say what works in this browser and what to do
   * about what does not. Resolves to [{what, ok, text}], what being
   * 'notify', 'sound' or 'title'.
   */
  async test() {
    const report = [];
    report.push(await this.testNotification());
    report.push(await this.testSound());
    if (this.settings.title) {
      this.testUntil = Date.now() + 5 * BLINK_MS;
      this.start();
      this.render();
      report.push({ what: 'title', ok: true, text: t('agent.alerts.test.titleOk') });
    } else {
      report.push({ what: 'title', ok: false, text: t('agent.alerts.test.titleOff') });
    }
    return report;
  }

  async testNotification() {
    const what = 'notify';
    const permission = this.permission;
    if (permission === 'unsupported') return { what, ok: false, text: t('agent.alerts.test.notifyUnsupported') };
    if (permission === 'insecure') return { what, ok: false, text: t('agent.alerts.test.notifyInsecure') };
    if (permission === 'denied') return { what, ok: false, text: t('agent.alerts.test.notifyDenied') };
    if (permission === 'default') return { what, ok: false, text: t('agent.alerts.test.notifyDefault') };
    if (!this.settings.notify) return { what, ok: false, text: t('agent.alerts.test.notifyOff') };
    let n;
    try {
      n = new window.Notification(t('agent.alerts.test.notifyTitle'), {
        body: t('agent.alerts.test.notifyBody'), tag: 'chat-test',
      });
    } catch (err) {
      return { what, ok: false, text: t('agent.alerts.test.notifyFailed', { why: err.message }) };
    }
    n.onclick = () => {
      window.focus();
      n.close();
    };
    const outcome = await new Promise((resolve) => {
      n.onshow = () => resolve('shown');
      n.onerror = () => resolve('error');
      setTimeout(resolve, SHOWN_WAIT_MS, 'unknown');
    });
    if (outcome === 'error') return { what, ok: false, text: t('agent.alerts.test.notifyError') };
    if (outcome === 'shown') return { what, ok: true, text: t('agent.alerts.test.notifyShown') };
    return { what, ok: true, text: t('agent.alerts.test.notifySent') };
  }

  async testSound() {
    const what = 'sound';
    if (!this.settings.sound) return { what, ok: false, text: t('agent.alerts.test.soundOff') };
    const result = await this.playChime();
    if (result === 'played') return { what, ok: true, text: t('agent.alerts.test.soundOk') };
    if (result === 'blocked') return { what, ok: false, text: t('agent.alerts.test.soundBlocked') };
    return { what, ok: false, text: t('agent.alerts.test.soundFailed') };
  }
}
