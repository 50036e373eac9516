// The workbench's two lists: the customers waiting for an agent, each with
// its Claim button (a message left while nobody was there is marked as
// such), and the agent's own chats with their unread counts.

import { t } from './i18n.js';
import { el } from './ui.js';

function lastMessage(v) {
  let last = null;
  for (const m of v.messages.values()) {
    if (m.senderType === 'system') continue;
    if (last === null || m.id > last.id) last = m;
  }
  return last;
}

/** "just now", "5 min ago", ... in the page's language. */
export function since(iso) {
  const s = Math.max(0, Math.round((Date.now() - new Date(iso).getTime()) / 1000));
  if (!Number.isFinite(s) || s < 60) return t('common.justNow');
  if (s < 3600) return t('common.minAgo', { count: Math.floor(s / 60) });
  if (s < 86400) return t('common.hoursAgo', { count: Math.floor(s / 3600) });
  return t('common.daysAgo', { count: Math.floor(s / 86400) });
}

/**
 * Draw both lists from views (id -> {session, messages, unread}), keeping
 * the keyboard focus on the same item. nodes: the lists, their counts and
 * their empty notes; opts: current (the open session's id), isMine(session),
 * onOpen(id), onClaim(id), alerting(id) (whether an alert waits for it).
 * Returns the unread count of the agent's chats.
 */
export function renderSessionLists(nodes, views, opts) {
  const focused = document.activeElement;
  const focusKey = focused && focused.dataset ? focused.dataset.focusKey : undefined;
  const queued = [];
  const mine = [];
  for (const v of views.values()) {
    if (v.session.status === 'queued') queued.push(v);
    else if (opts.isMine(v.session)) mine.push(v);
  }
  queued.sort((a, b) => a.session.id - b.session.id);
  mine.sort((a, b) => (a.session.status === 'closed') - (b.session.status === 'closed') || a.session.id - b.session.id);
  nodes.queue.replaceChildren(...queued.map((v) => queueItem(v, opts)));
  nodes.mine.replaceChildren(...mine.map((v) => mineItem(v, opts)));
  nodes.queueCount.textContent = String(queued.length);
  nodes.mineCount.textContent = String(mine.filter((v) => v.session.status !== 'closed').length);
  nodes.queueEmpty.hidden = queued.length > 0;
  nodes.mineEmpty.hidden = mine.length > 0;
  if (focusKey !== undefined) {
    const again = document.querySelector(`[data-focus-key="${CSS.escape(focusKey)}"]`);
    if (again !== null) again.focus();
  }
  return mine.reduce((n, v) => n + v.unread, 0);
}

function itemButton(v, extra, opts) {
  const s = v.session;
  const last = lastMessage(v);
  const preview = last !== null ? last.text : (s.subject || t('agent.list.noMessages'));
  const left = s.kind === 'message';
  const button = el('button', {
    type: 'button',
    class: `session-item${opts.alerting(s.id) ? ' alerting' : ''}`,
    'data-session-id': s.id,
    'data-focus-key': `open-${s.id}`,
    'aria-current': s.id === opts.current ? 'true' : undefined,
  },
  el('span', { class: 'session-line' },
    el('span', { class: 'session-name' }, s.customerName),
    el('span', { class: 'session-when' }, extra)),
  left ? el('span', { class: 'kind-tag' }, t('agent.list.leftMessage')) : null,
  el('span', { class: 'session-preview' }, preview),
  v.unread > 0 ? el('span', {
    class: 'badge', 'aria-label': t('agent.list.unread', { count: v.unread }),
  }, String(v.unread)) : null);
  button.addEventListener('click', () => opts.onOpen(s.id));
  return button;
}

function queueItem(v, opts) {
  const s = v.session;
  const claim = el('button', {
    type: 'button', class: 'primary small claim', 'data-focus-key': `claim-${s.id}`,
    'aria-label': t('agent.list.claimLabel', { name: s.customerName }),
  }, t('agent.list.claim'));
  claim.addEventListener('click', () => opts.onClaim(s.id));
  const when = s.kind === 'message' ? t('agent.list.left', { ago: since(s.createdAt) })
    : t('agent.list.waiting', { ago: since(s.createdAt) });
  return el('li', { class: `queue-item${s.kind === 'message' ? ' left-message' : ''}`, 'data-kind': s.kind || 'chat' },
    itemButton(v, when, opts), claim);
}

function mineItem(v, opts) {
  const closed = v.session.status === 'closed';
  return el('li', { class: closed ? 'closed' : undefined, 'data-kind': v.session.kind || 'chat' },
    itemButton(v, closed ? t('agent.list.closed') : v.session.channel, opts));
}
