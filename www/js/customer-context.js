// Where the visitor is, for the agent: the host page's address, title and
// referrer, which only the embed script (widget.js) on the operator's own
// page passes in (the chat page alone takes nothing of the kind), and the
// visitor's browser, operating system and language, read here. Kept to the
// server's limits; sent with the new session and again, a moment after
// each change, while the chat is open.

/** The server's limits, in characters. */
export const CONTEXT_LIMITS = {
  url: 2048, title: 200, referrer: 2048, browser: 100, os: 100, language: 35,
};

/* Updates wait this long for the host page to settle (a title follows its address). */
const DEBOUNCE_MS = 800;

/** At most max characters (code points), without control characters. */
export function clip(value, max) {
  if (typeof value !== 'string') return '';
  // eslint-disable-next-line no-control-regex
  const clean = value.replace(/[\u0000-\u001f\u007f]+/g, ' ').trim();
  const chars = Array.from(clean);
  return chars.length <= max ? clean : chars.slice(0, max).join('');
}

function isWebAddress(value) {
  try {
    const u = new URL(value);
    return u.protocol === 'http:' || u.protocol === 'https:';
  } catch {
    return false;
  }
}

const BROWSERS = [
  [/\bEdg(?:e|A|iOS)?\/(\d+)/, 'Edge'],
  [/\bOPR\/(\d+)/, 'Opera'],
  [/\bSamsungBrowser\/(\d+)/, 'Samsung Internet'],
  [/\bFirefox\/(\d+)/, 'Firefox'],
  [/\bFxiOS\/(\d+)/, 'Firefox'],
  [/\bCriOS\/(\d+)/, 'Chrome'],
  [/\bHeadlessChrome\/(\d+)/, 'Headless Chrome'],
  [/\bChrome\/(\d+)/, 'Chrome'],
  [/\bVersion\/(\d+)[.\d]* (?:Mobile\/\S+ )?Safari\//, 'Safari'],
];

/** "Firefox 126" from a user agent string. */
export function browserFromAgent(ua) {
  for (const [re, name] of BROWSERS) {
    const m = re.exec(ua);
    if (m !== null) return `${name} ${m[1]}`;
  }
  return '';
}

/** "Windows", "macOS", "iOS 17", "Android 14", "Linux", ... from a user agent string. */
export function osFromAgent(ua) {
  let m;
  if ((m = /\b(?:iPhone|CPU) OS (\d+)/.exec(ua)) !== null) return `iOS ${m[1]}`;
  if (/\biPad\b/.test(ua)) return 'iPadOS';
  if ((m = /\bAndroid (\d+)/.exec(ua)) !== null) return `Android ${m[1]}`;
  if (/\bWindows NT 10\.0/.test(ua)) return 'Windows 10/11';
  if ((m = /\bWindows NT (\d+\.\d+)/.exec(ua)) !== null) return `Windows NT ${m[1]}`;
  if (/\bCrOS\b/.test(ua)) return 'ChromeOS';
  if (/\bMac OS X\b/.test(ua)) return 'macOS';
  if (/\bLinux\b/.test(ua)) return 'Linux';
  return '';
}

/* The browser's own account of itself, where it gives one (Chromium's client hints). */
function fromClientHints(data) {
  if (!data || !Array.isArray(data.brands)) return { browser: '', os: '' };
  const named = data.brands.filter((b) => !/not.?a.?brand|^chromium$/i.test(b.brand));
  const brand = named[0] || data.brands.find((b) => /^chromium$/i.test(b.brand));
  return {
    browser: brand ? `${brand.brand.replace(/^Google /, '')} ${brand.version}` : '',
    os: typeof data.platform === 'string' ? data.platform : '',
  };
}

/** The visitor's browser, OS and language, short. */
export function visitorEnvironment(nav = navigator) {
  const ua = String(nav.userAgent || '');
  const hints = fromClientHints(nav.userAgentData);
  return {
    browser: hints.browser || browserFromAgent(ua),
    os: osFromAgent(ua) || hints.os,
    language: String(nav.language || (nav.languages && nav.languages[0]) || ''),
  };
}

/** A context as the server takes it: known fields only, within limits, empty ones left out. */
export function cleanContext(raw) {
  const out = {};
  for (const [key, max] of Object.entries(CONTEXT_LIMITS)) {
    const value = clip(raw[key], max);
    if (value === '') continue;
    if ((key === 'url' || key === 'referrer') && !isWebAddress(value)) continue;
    out[key] = value;
  }
  return out;
}

function same(a, b) {
  const ka = Object.keys(a);
  return ka.length === Object.keys(b || {}).length && ka.every((k) => a[k] === b[k]);
}

/**
 * The context of this visit.
 *   options.embedded   whether the page is inside the embed widget; only then
 *                      does it listen to the host page
 *   options.send(context)  returns a promise; called, debounced, after a
 *                      change while a session is attached
 */
export class VisitorContext {
  constructor({ embedded, send }) {
    this.host = {};
    this.environment = visitorEnvironment();
    this.send = send;
    this.attached = null;     // {id, context}: the open session and what it has
    this.timer = null;
    if (embedded) window.addEventListener('message', (event) => this.fromHost(event));
  }

  /** What there is to say now. */
  get value() {
    return cleanContext({ ...this.host, ...this.environment });
  }

  /*
   * Only the page that embeds the chat, about itself: the message must
   * come from the parent window, and the address it gives must be of the
   * origin it was posted from.
   */
  fromHost(event) {
    if (event.source !== window.parent || window.parent === window) return;
    const data = event.data;
    if (!data || data.source !== 'chat-widget-host' || data.type !== 'context') return;
    const ctx = data.context || {};
    let origin = null;
    try {
      origin = new URL(ctx.url).origin;
    } catch { /* not an address */ }
    if (origin === null || origin !== event.origin) return;
    this.host = {
      url: typeof ctx.url === 'string' ? ctx.url : '',
      title: typeof ctx.title === 'string' ? ctx.title : '',
      referrer: typeof ctx.referrer === 'string' ? ctx.referrer : '',
    };
    this.schedule();
  }

  /** The session whose context follows this visit from now on (null: none). */
  attach(session) {
    if (session === null || session.status === 'closed') {
      this.attached = null;
      return;
    }
    if (this.attached !== null && this.attached.id === session.id) return;
    this.attached = { id: session.id, context: session.context || {} };
    this.schedule();
  }

  schedule() {
    clearTimeout(this.timer);
    if (this.attached === null) return;
    this.timer = setTimeout(() => this.flush(), DEBOUNCE_MS);
  }

  async flush() {
    const target = this.attached;
    if (target === null) return;
    const value = this.value;
    // A context the server has already, or one with nothing from the host to add, is not sent again.
    if (same(value, target.context)) return;
    if (value.url === undefined && target.context.url !== undefined) return;
    target.context = value;
    try {
      await this.send(target.id, value);
    } catch (err) {
      console.warn('chat: the visitor context was not updated:', err.message);
    }
  }
}
