// The visitor page inside the embed widget (/?embed=1): the host page
// shows and hides the frame, is told when the frame listens, hears of
// replies that arrive while the chat is minimized; Escape and the
// minimize button ask it to close the frame.

import { $ } from './ui.js';

/**
 * Wire the page to its host.
 *   onShown(open)  the host showed (true) or hid (false) the frame
 * Returns {unread(count)}: tell the host how many replies wait.
 */
export function wireEmbed({ onShown }) {
  document.body.classList.add('embedded');
  const minimize = $('#minimize');
  minimize.hidden = false;
  const post = (data) => window.parent.postMessage({ source: 'chat-widget', ...data }, '*');
  const close = () => post({ type: 'close' });
  minimize.addEventListener('click', close);
  document.addEventListener('keydown', (event) => {
    if (event.key === 'Escape') close();
  });
  window.addEventListener('message', (event) => {
    if (event.source !== window.parent || !event.data || event.data.source !== 'chat-widget-host') return;
    if (event.data.type === 'open' || event.data.type === 'close') onShown(event.data.type === 'open');
  });
  // Listening now: the host may say where things stand (open or not, its page).
  post({ type: 'ready' });
  return { unread: (count) => post({ type: 'unread', count }) };
}
