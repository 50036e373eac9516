// The transfer dialog's list of colleagues, from GET /api/v1/agents: each
// by name, with whether they are online and how busy they are ("3/5
// chats"), as radio buttons. Those at their limit are shown but cannot be
// picked; the server has the last word all the same (409), since the
// list may be a moment old.

import { ApiError } from './chat-client.js';
import { t } from './i18n.js';
import { $, el } from './ui.js';

const FILTER_FROM = 8;

/** Whether the agent takes no more chats now. */
export function isFull(a) {
  return Number.isInteger(a.maxActive) && a.activeChats >= a.maxActive;
}

function busyText(a) {
  if (Number.isInteger(a.maxActive)) return t('agent.picker.busyOf', { active: a.activeChats, max: a.maxActive });
  return t('agent.picker.busy', { count: a.activeChats });
}

export class AgentPicker {
  /** api(): the ChatApi; me(): the agent using the page. */
  constructor({ api, me }) {
    this.api = api;
    this.me = me;
    this.agents = [];
    this.list = $('#agent-options');
    this.state = $('#agent-picker-state');
    this.filterField = $('#agent-filter-field');
    this.filter = $('#agent-filter');
    this.filter.addEventListener('input', () => this.render());
  }

  /** Nothing picked, no filter: as the dialog opens. */
  reset() {
    this.agents = [];
    this.filter.value = '';
    this.list.replaceChildren();
  }

  /** Load the list again, keeping what was picked; resolves to false (and says why) when it could not. */
  async load() {
    const chosen = this.selectedId();
    this.state.textContent = t('agent.picker.loading');
    this.state.hidden = false;
    try {
      const reply = await this.api().call('GET', '/agents');
      const myId = this.me().id;
      this.agents = (reply.agents || []).filter((a) => a.id !== myId);
    } catch (err) {
      this.agents = [];
      this.list.replaceChildren();
      if (err instanceof ApiError && err.isTokenProblem) throw err;
      this.state.textContent = err instanceof ApiError && err.status === 0
        ? t('agent.error.unreachable') : t('agent.picker.loadFailed', { why: err.message });
      return false;
    }
    this.render(chosen);
    return true;
  }

  /* Online first, then by name as the server sorted them. */
  sorted() {
    return [...this.agents].sort((a, b) => Number(b.online) - Number(a.online));
  }

  render(keep = this.selectedId()) {
    this.filterField.hidden = this.agents.length < FILTER_FROM;
    const q = this.filter.value.trim().toLocaleLowerCase();
    const shown = this.sorted().filter((a) => q === '' || a.displayName.toLocaleLowerCase().includes(q));
    this.list.replaceChildren(...shown.map((a) => this.option(a, a.id === keep)));
    if (this.agents.length === 0) this.state.textContent = t('agent.picker.none');
    else if (shown.length === 0) this.state.textContent = t('agent.picker.noMatch');
    else this.state.textContent = '';
    this.state.hidden = this.state.textContent === '';
  }

  option(a, checked) {
    const full = isFull(a);
    const id = `agent-option-${a.id}`;
    const input = el('input', {
      type: 'radio', name: 'transfer-agent', id, value: a.id,
      disabled: full, checked: checked && !full,
      'aria-describedby': `${id}-state`,
    });
    const presence = el('span', { class: `presence ${a.online ? 'online' : 'offline'}` },
      el('span', { class: 'presence-dot', 'aria-hidden': 'true' }),
      a.online ? t('agent.picker.online') : t('agent.picker.offline'));
    const load = el('span', { class: `load${full ? ' full' : ''}` },
      busyText(a), full ? ` \u00b7 ${t('agent.picker.full')}` : '');
    return el('li', { class: `agent-option${full ? ' is-full' : ''}`, 'data-agent-id': a.id },
      input,
      el('label', { for: id },
        el('span', { class: 'agent-name' }, a.displayName),
        el('span', { class: 'agent-state', id: `${id}-state` }, presence, ' ', load)));
  }

  selectedId() {
    const checked = this.list.querySelector('input[name="transfer-agent"]:checked');
    return checked === null ? null : Number(checked.value);
  }

  agent(id) {
    return this.agents.find((a) => a.id === id) || null;
  }

  focus() {
    const target = this.list.querySelector('input:checked') || this.list.querySelector('input:not([disabled])');
    if (target !== null) target.focus();
  }
}
