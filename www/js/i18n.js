// The pages' languages: the strings of each in www/js/strings/<code>.js,
// the one in use picked from localStorage 'chat.lang' (the switch keeps
// it there), else from the browser's languages (zh* is Simplified Chinese,
// anything else English). Elements name their strings in the markup:
//   data-i18n="key"               the text
//   data-i18n-placeholder="key"   the placeholder
//   data-i18n-title="key"         the title
//   data-i18n-aria-label="key"    the aria-label
// and code asks t(key, params). A switch of language applies the strings
// again and tells those who listen (onLanguageChange), without a reload.

/** The languages offered, by code, each named in itself. Another language: one line here and its file. */
export const LANGUAGES = {
  en: 'English',
  'zh-CN': '简体中文',
};

const STORE_KEY = 'chat.lang';
const FALLBACK = 'en';

const loaded = new Map();
const listeners = new Set();
let current = FALLBACK;
let strings = {};

async function load(code) {
  if (!loaded.has(code)) {
    const module = await import(`./strings/${code}.js`);
    loaded.set(code, module.default);
  }
  return loaded.get(code);
}

/** The language to use: the one chosen before, else the browser's. */
export function pickLanguage() {
  let chosen = null;
  try {
    chosen = window.localStorage.getItem(STORE_KEY);
  } catch { /* storage may be off */ }
  if (chosen !== null && Object.hasOwn(LANGUAGES, chosen)) return chosen;
  const wanted = navigator.languages && navigator.languages.length > 0
    ? navigator.languages : [navigator.language || FALLBACK];
  for (const tag of wanted) {
    const lower = String(tag).toLowerCase();
    if (lower.startsWith('zh')) return 'zh-CN';
    if (lower.startsWith('en')) return 'en';
    const base = Object.keys(LANGUAGES).find((code) => code.toLowerCase() === lower
      || code.toLowerCase() === lower.split('-')[0]);
    if (base !== undefined) return base;
  }
  return FALLBACK;
}

/** The language in use, as a BCP 47 tag ('en', 'zh-CN'). */
export function language() {
  return current;
}

function lookup(key) {
  if (Object.hasOwn(strings, key)) return strings[key];
  const english = loaded.get(FALLBACK);
  if (english !== undefined && Object.hasOwn(english, key)) return english[key];
  return undefined;
}

/**
 * The string for key in the language in use, its {name}s replaced by
 * params. With params.count, the form for that number (key.one, key.other)
 * is taken when there is one. An unknown key gives the key itself.
 */
export function t(key, params = {}) {
  let text;
  if (typeof params.count === 'number') {
    const form = new Intl.PluralRules(current).select(params.count);
    text = lookup(`${key}.${form}`) ?? lookup(`${key}.other`);
  }
  text = text ?? lookup(key);
  if (text === undefined) return key;
  return text.replace(/\{(\w+)\}/g, (all, name) => (
    Object.hasOwn(params, name) ? String(params[name]) : all));
}

/** Whether the language in use (or English) has a string for key. */
export function has(key) {
  return lookup(key) !== undefined;
}

const ATTRIBUTES = [
  ['data-i18n-placeholder', 'placeholder'],
  ['data-i18n-title', 'title'],
  ['data-i18n-aria-label', 'aria-label'],
];

/** Put the strings named by data-i18n* attributes into root's elements (and root itself). */
export function applyStrings(root = document) {
  const scope = root === document ? document.documentElement : root;
  const all = [scope, ...scope.querySelectorAll('[data-i18n], [data-i18n-placeholder], [data-i18n-title], [data-i18n-aria-label]')];
  for (const node of all) {
    const key = node.getAttribute('data-i18n');
    if (key) node.textContent = t(key);
    for (const [data, attr] of ATTRIBUTES) {
      const k = node.getAttribute(data);
      if (k) node.setAttribute(attr, t(k));
    }
  }
  if (root === document) document.documentElement.lang = current;
}

/* Texts put by code, said again in the new language on a switch: node -> () => text. */
const said = new Map();

/**
 * Put a string into node's text and keep it in the language in use:
 * say(node, key, params), or say(node, () => text) for text made by code,
 * or say(node, null) to empty it. Returns the text.
 */
export function say(node, key, params) {
  if (key === null || key === undefined || key === '') {
    said.delete(node);
    node.textContent = '';
    return '';
  }
  const fn = typeof key === 'function' ? key : () => t(key, params);
  said.set(node, fn);
  const text = fn();
  node.textContent = text;
  return text;
}

function sayAgain() {
  for (const [node, fn] of said) {
    if (node.isConnected) node.textContent = fn();
    else said.delete(node);
  }
}

/** Call fn(code) after each switch of language; returns a function that stops it. */
export function onLanguageChange(fn) {
  listeners.add(fn);
  return () => listeners.delete(fn);
}

/**
 * Use this language from now on (and remember it, unless remember is
 * false): its strings are applied to the page and listeners re-render.
 */
export async function setLanguage(code, { remember = true } = {}) {
  const use = Object.hasOwn(LANGUAGES, code) ? code : FALLBACK;
  const [table] = await Promise.all([load(use), load(FALLBACK)]);
  current = use;
  strings = table;
  if (remember) {
    try {
      window.localStorage.setItem(STORE_KEY, use);
    } catch { /* the choice lasts this page only */ }
  }
  applyStrings(document);
  sayAgain();
  for (const fn of listeners) {
    try {
      fn(use);
    } catch (err) {
      console.warn('i18n: a listener failed:', err.message);
    }
  }
}

/**
 * The language switch: a labelled <select> of the languages, each in its
 * own words, that switches at once. Put it where the page wants it.
 */
export function languageSwitch({ className = 'language-switch', id = 'language' } = {}) {
  const select = document.createElement('select');
  select.id = id;
  select.className = className;
  select.setAttribute('data-i18n-aria-label', 'common.language');
  select.setAttribute('aria-label', t('common.language'));
  for (const [code, name] of Object.entries(LANGUAGES)) {
    const option = document.createElement('option');
    option.value = code;
    option.lang = code;
    option.textContent = name;
    select.append(option);
  }
  select.value = current;
  select.addEventListener('change', () => { setLanguage(select.value); });
  onLanguageChange((code) => { select.value = code; });
  return select;
}

/** Date and time formats in the language in use (Intl options), made once per language. */
const formats = new Map();
export function dateFormat(options) {
  const key = `${current}|${JSON.stringify(options)}`;
  if (!formats.has(key)) formats.set(key, new Intl.DateTimeFormat(current, options));
  return formats.get(key);
}

// The language is ready before any page module that imports this one runs.
await setLanguage(pickLanguage(), { remember: false });
