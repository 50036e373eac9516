// The workbench's two lists: the customers waiting for an agent, each with
// its Claim button, and the agent's own chats with their unread counts.

import { ago, el } from './ui.js';

function lastMessage(v) {
  let last = null;
  for (const m of v.messages.values()) if (last === null || m.id > last.id) last = m;
  return last;
}

/**
 * Draw both lists from views (id -> {session, messages, unread}), keeping
 * the keyboard focus on the same item. nodes: the lists, their counts and
 * their empty notes; opts: current (the open session's id), isMine(session),
 * onOpen(id), onClaim(id). Returns the unread count of the agent's chats.
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
  const preview = last !== null ? last.text : (s.subject || 'No messages yet');
  const button = el('button', {
    type: 'button',
    class: 'session-item',
    'data-session-id': s.id,
    'data-focus-key': `open-${s.id}`,
    'aria-current': s.id === opts.current ? 'true' : undefined,
  },
  el('span', { class: 'session-line' },
    el('span', { class: 'session-name' }, s.customerName),
    el('span', { class: 'session-when' }, extra)),
  el('span', { class: 'session-preview' }, preview),
  v.unread > 0 ? el('span', { class: 'badge', 'aria-label': `${v.unread} unread` }, String(v.unread)) : null);
  button.addEventListener('click', () => opts.onOpen(s.id));
  return button;
}

function queueItem(v, opts) {
  const claim = el('button', {
    type: 'button', class: 'primary small claim', 'data-focus-key': `claim-${v.session.id}`,
    'aria-label': `Claim the chat with ${v.session.customerName}`,
  }, 'Claim');
  claim.addEventListener('click', () => opts.onClaim(v.session.id));
  return el('li', { class: 'queue-item' }, itemButton(v, `waiting ${ago(v.session.createdAt)}`, opts), claim);
}

function mineItem(v, opts) {
  const closed = v.session.status === 'closed';
  return el('li', { class: closed ? 'closed' : undefined }, itemButton(v, closed ? 'closed' : v.session.channel, opts));
}
