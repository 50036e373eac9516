// The workbench's two modal dialogs: transfer the open chat to another
// agent (by ID), and close it. Errors show inside the dialog.

import { ApiError } from './chat-client.js';
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
    transferAgent: $('#transfer-agent'),
    transferError: $('#transfer-error'),
    transferSubmit: $('#transfer-submit'),
    close: $('#close'),
    closeDialog: $('#close-dialog'),
    closeForm: $('#close-form'),
    closeError: $('#close-error'),
    closeSubmit: $('#close-submit'),
  };

  ui.transfer.addEventListener('click', () => {
    ui.transferError.hidden = true;
    ui.transferAgent.value = '';
    ui.transferDialog.showModal();
    ui.transferAgent.focus();
  });
  $('#transfer-cancel').addEventListener('click', () => ui.transferDialog.close());

  ui.transferForm.addEventListener('submit', async (event) => {
    event.preventDefault();
    const id = ctx.current();
    const agentId = Number(ui.transferAgent.value);
    const showError = (text) => {
      ui.transferError.textContent = text;
      ui.transferError.hidden = false;
      ui.transferAgent.focus();
    };
    if (!Number.isInteger(agentId) || agentId <= 0) {
      showError('Enter the ID of the agent, a whole number.');
      return;
    }
    if (agentId === ctx.me().id) {
      showError('That is your own ID: enter a colleague\'s.');
      return;
    }
    ui.transferSubmit.disabled = true;
    try {
      const s = await ctx.api().transfer(id, agentId);
      ui.transferDialog.close();
      ctx.done(s);
    } catch (err) {
      if (err instanceof ApiError && err.status === 400) showError(`No active agent has the ID ${agentId}.`);
      else if (err instanceof ApiError && (err.status === 403 || err.status === 409)) showError(err.message);
      else ctx.failed(err, showError);
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
