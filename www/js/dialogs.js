// The workbench's two modal dialogs: transfer the open chat to a colleague
// picked by name (agent-picker.js), and close it. A refusal shows inside
// the dialog, in words: the colleague was disabled, or is at their limit.

import { AgentPicker, isFull } from './agent-picker.js';
import { ApiError } from './chat-client.js';
import { t } from './i18n.js';
import { $ } from './ui.js';

/**
 * Wire the dialogs to the page. ctx: current() the open session's id, me()
 * the agent, api() the ChatApi, done(session) with the changed session,
 * failed(err, show) for errors the dialog cannot explain, focusTitle().
 */
export function wireDialogs(ctx) {
  const ui = {
    transfer: $('#transfer'),
    transferDialog: $('#transfer-dialog'),
    transferForm: $('#transfer-form'),
    transferError: $('#transfer-error'),
    transferSubmit: $('#transfer-submit'),
    close: $('#close'),
    closeDialog: $('#close-dialog'),
    closeForm: $('#close-form'),
    closeError: $('#close-error'),
    closeSubmit: $('#close-submit'),
  };
  const picker = new AgentPicker({ api: ctx.api, me: ctx.me });

  const showError = (text) => {
    ui.transferError.textContent = text;
    ui.transferError.hidden = text === '';
  };

  const loadPicker = async () => {
    try {
      await picker.load();
    } catch (err) {
      ui.transferDialog.close();
      ctx.failed(err);
    }
  };

  ui.transfer.addEventListener('click', async () => {
    showError('');
    picker.reset();
    ui.transferDialog.showModal();
    await loadPicker();
    picker.focus();
  });
  $('#transfer-cancel').addEventListener('click', () => ui.transferDialog.close());

  ui.transferForm.addEventListener('submit', async (event) => {
    event.preventDefault();
    const id = ctx.current();
    const agentId = picker.selectedId();
    if (agentId === null) {
      showError(t('agent.transfer.pick'));
      picker.focus();
      return;
    }
    const name = picker.agent(agentId)?.displayName || '';
    ui.transferSubmit.disabled = true;
    try {
      const s = await ctx.api().transfer(id, agentId);
      ui.transferDialog.close();
      ctx.done(s);
    } catch (err) {
      if (err instanceof ApiError && err.status === 409) {
        // At the limit (the list was a moment old), or this chat is no longer active.
        await loadPicker();
        const now = picker.agent(agentId);
        if (now !== null && isFull(now)) {
          showError(t('agent.transfer.full', { name, active: now.activeChats, max: now.maxActive }));
        } else if (/active chats/.test(err.message)) {
          showError(t('agent.transfer.fullNow', { name }));
        } else {
          showError(t('agent.transfer.notActive'));
        }
      } else if (err instanceof ApiError && err.status === 400) {
        showError(t('agent.transfer.unavailable', { name }));
        await loadPicker();
      } else if (err instanceof ApiError && err.status === 403) {
        showError(t('agent.transfer.notYours'));
      } else {
        ctx.failed(err, showError);
      }
      picker.focus();
    } finally {
      ui.transferSubmit.disabled = false;
    }
  });

  ui.close.addEventListener('click', () => {
    ui.closeError.hidden = true;
    ui.closeDialog.showModal();
    $('#close-cancel').focus();
  });
  $('#close-cancel').addEventListener('click', () => ui.closeDialog.close());

  ui.closeForm.addEventListener('submit', async (event) => {
    event.preventDefault();
    const id = ctx.current();
    ui.closeSubmit.disabled = true;
    try {
      const s = await ctx.api().close(id);
      ui.closeDialog.close();
      ctx.done(s);
      ctx.focusTitle();
    } catch (err) {
      ctx.failed(err, (text) => {
        ui.closeError.textContent = text;
        ui.closeError.hidden = false;
      });
    } finally {
      ui.closeSubmit.disabled = false;
    }
  });
}
