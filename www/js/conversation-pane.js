// The workbench's right side: either the placeholder (nothing open, or why
// the open chat went away) or one conversation with its header, the claim
// bar of a waiting chat, the composer of the agent's own active chat, or
// the note that it is closed. What it says is kept as functions, so that a
// switch of language says it all again.

import { t } from './i18n.js';
import { $, el } from './ui.js';

export class ConversationPane {
  /** list: the MessageList; typing: the TypingIndicator; mail(): whether the server sends mail. */
  constructor({ list, typing, mail }) {
    this.list = list;
    this.typing = typing;
    this.mail = mail;
    this.ui = {
      placeholder: $('#placeholder'),
      placeholderText: $('#placeholder-text'),
      view: $('#view'),
      title: $('#conv-title'),
      meta: $('#conv-meta'),
      notice: $('#conv-notice'),
      transfer: $('#transfer'),
      close: $('#close'),
      earlier: $('#earlier'),
      claimBar: $('#claim-bar'),
      claimText: $('#claim-text'),
      ended: $('#ended'),
      composer: $('#composer'),
      text: $('#text'),
    };
    this.says = () => t('agent.placeholder');
    this.shown = null;
  }

  /** Show the conversation side (on a phone: instead of the lists). */
  open() {
    document.body.classList.add('show-conversation');
    this.ui.placeholder.hidden = true;
    this.ui.view.hidden = false;
    this.ui.notice.hidden = true;
    this.typing.hide();
  }

  /** Back to the placeholder, saying why (a function giving the text), or the default. */
  close(why) {
    this.shown = null;
    this.typing.hide();
    this.ui.view.hidden = true;
    this.ui.placeholder.hidden = false;
    document.body.classList.remove('show-conversation');
    this.placeholder(why || (() => t('agent.placeholder')));
  }

  /** What the placeholder says: a function giving the text. */
  placeholder(says) {
    this.says = says;
    this.ui.placeholderText.textContent = says();
  }

  notice(text) {
    this.ui.notice.textContent = text;
    this.ui.notice.hidden = false;
  }

  /** The composer when there is one, else the title: where the keyboard goes. */
  focus() {
    (this.ui.composer.hidden ? this.ui.title : this.ui.text).focus();
  }

  focusTitle() {
    this.ui.title.focus();
  }

  /*
   * The header, the composer or the claim bar, as session v.session wants;
   * mine: whether it is the agent's own active chat. before: the session
   * as it was, for the notes of what changed (null: nothing changed).
   */
  show(v, mine, before) {
    const s = v.session;
    const ui = this.ui;
    this.shown = { v, mine };
    const state = ['queued', 'active', 'closed'].includes(s.status) ? t(`agent.state.${s.status}`) : s.status;
    const left = s.kind === 'message';
    ui.title.textContent = s.customerName;
    ui.meta.replaceChildren(
      el('span', { class: `state-badge ${s.status}` }, state),
      left ? ' ' : '',
      left ? el('span', { class: 'state-badge left-message' }, t('agent.list.leftMessage')) : '',
      ` ${s.channel} \u00b7 ${t('agent.chatNumber', { id: s.id })}`,
      s.customerEmail ? ` \u00b7 ${s.customerEmail}` : '',
      s.subject ? ` \u00b7 ${s.subject}` : '',
    );
    ui.claimBar.hidden = s.status !== 'queued';
    let claim = 'agent.claim.text';
    if (left) claim = this.mail() && s.customerEmail ? 'agent.claim.leftTextMail' : 'agent.claim.leftText';
    ui.claimText.textContent = t(claim);
    ui.composer.hidden = !mine;
    ui.ended.hidden = s.status !== 'closed';
    ui.transfer.hidden = !mine;
    ui.close.hidden = !mine;
    ui.earlier.hidden = !v.hasMore;
    if (s.status === 'closed') this.typing.hide();
    if (before === null) return;
    if (before.status !== 'closed' && s.status === 'closed') this.list.addNote(() => t('agent.note.closed'));
    if (before.status === 'queued' && mine) this.list.addNote(() => t('agent.note.claimed'));
  }

  /** Say everything again, in the language now in use. */
  refresh() {
    if (this.shown !== null) this.show(this.shown.v, this.shown.mine, null);
    this.ui.placeholderText.textContent = this.says();
  }
}
