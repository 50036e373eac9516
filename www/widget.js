/*
 * The chat on any page, with one line:
 *
 *   <script src="https://chat.example.com/widget.js" async></script>
 *
 * It adds a "Chat with us" button in the corner; the button opens the
 * customer's chat (this server's page /?embed=1) in a frame above the page.
 * The frame keeps the chat on the chat server's own origin: its storage, its
 * API and its WebSocket, whatever the host page's setup. Optional attributes
 * on the script tag: data-label (the button's text, "Chat with us"),
 * data-position ("right" or "left") and data-open ("true": open at once).
 * A host page with a Content-Security-Policy must allow this server in its
 * script-src and frame-src.
 *
 * So that the agent sees where the visitor is, the script tells the chat
 * frame (and only it: postMessage to the chat's own origin) this page's
 * address, title and referrer, when the frame loads and whenever they
 * change: history.pushState and replaceState, popstate, hashchange, and a
 * new <title>. The chat passes them on with the visitor's conversation;
 * nothing is sent before the visitor starts one.
 */
(function () {
  'use strict';

  var script = document.currentScript;
  if (!script || window.__chatWidget) return;
  window.__chatWidget = true;

  var origin = new URL(script.src, window.location.href).origin;
  var label = script.getAttribute('data-label') || 'Chat with us';
  var side = script.getAttribute('data-position') === 'left' ? 'left' : 'right';
  var phone = window.matchMedia('(max-width: 520px)');
  var frame = null;
  var panel = null;
  var button = null;
  var badge = null;
  var open = false;

  function css(node, rules) {
    for (var key in rules) node.style.setProperty(key, rules[key]);
    return node;
  }

  function layoutPanel() {
    if (panel === null) return;
    if (phone.matches) {
      css(panel, { inset: '0', width: '100%', height: '100%', 'border-radius': '0' });
    } else {
      css(panel, {
        inset: 'auto', bottom: '88px', width: '400px', height: 'min(640px, calc(100vh - 112px))',
        'border-radius': '16px',
      });
      panel.style.setProperty(side, '20px');
    }
  }

  function buildPanel() {
    panel = css(document.createElement('div'), {
      position: 'fixed', 'z-index': '2147483646', overflow: 'hidden', display: 'none',
      background: '#fff', 'box-shadow': '0 24px 48px -12px rgba(30,27,75,.35), 0 0 0 1px rgba(17,24,39,.08)',
    });
    frame = css(document.createElement('iframe'), { width: '100%', height: '100%', border: '0', display: 'block' });
    frame.title = 'Support chat';
    frame.src = origin + '/?embed=1';
    // A message posted before the page loaded is lost: say again where things stand.
    frame.addEventListener('load', function () {
      tell(open ? 'open' : 'close');
      sent = null;
      tellContext();
    });
    panel.appendChild(frame);
    document.body.appendChild(panel);
    layoutPanel();
  }

  function tell(type, extra) {
    if (frame !== null && frame.contentWindow) {
      var data = { source: 'chat-widget-host', type: type };
      if (extra) data.context = extra;
      frame.contentWindow.postMessage(data, origin);
    }
  }

  // Where the visitor is: told to the frame when it changes, at most once per tick.
  var sent = null;
  var pending = false;

  function tellContext() {
    pending = false;
    var ctx = { url: window.location.href, title: document.title, referrer: document.referrer };
    var key = ctx.url + '\n' + ctx.title + '\n' + ctx.referrer;
    if (key === sent) return;
    sent = key;
    tell('context', ctx);
  }

  function contextChanged() {
    if (pending) return;
    pending = true;
    setTimeout(tellContext, 0);
  }

  function watchNavigation() {
    ['pushState', 'replaceState'].forEach(function (name) {
      var original = history[name];
      if (typeof original !== 'function') return;
      history[name] = function () {
        var result = original.apply(this, arguments);
        contextChanged();
        return result;
      };
    });
    window.addEventListener('popstate', contextChanged);
    window.addEventListener('hashchange', contextChanged);
    // The title: its text, or a new <title> element (single-page apps replace it).
    if (typeof MutationObserver !== 'function' || !document.head) return;
    var titleNode = null;
    var titleWatch = new MutationObserver(contextChanged);
    function followTitle() {
      var node = document.head.querySelector('title');
      if (node === titleNode) return;
      titleWatch.disconnect();
      titleNode = node;
      if (node !== null) titleWatch.observe(node, { childList: true, characterData: true, subtree: true });
      contextChanged();
    }
    new MutationObserver(followTitle).observe(document.head, { childList: true });
    followTitle();
  }

  function setUnread(count) {
    badge.textContent = count > 0 ? String(count) : '';
    badge.style.display = count > 0 ? 'inline-block' : 'none';
    button.setAttribute('aria-label', count > 0 ? label + ' (' + count + ' unread)' : label);
  }

  function show(yes) {
    if (panel === null) buildPanel();
    open = yes;
    panel.style.display = yes ? 'block' : 'none';
    button.style.display = yes && phone.matches ? 'none' : 'inline-flex';
    button.setAttribute('aria-expanded', yes ? 'true' : 'false');
    buttonText.textContent = yes ? 'Close chat' : label;
    if (yes) {
      setUnread(0);
      frame.focus();
      tell('open');
    } else {
      tell('close');
      button.focus();
    }
  }

  button = css(document.createElement('button'), {
    position: 'fixed', bottom: '20px', 'z-index': '2147483647', display: 'inline-flex',
    'align-items': 'center', gap: '8px', padding: '14px 20px', border: '0', 'border-radius': '999px',
    background: '#4338ca', color: '#fff', cursor: 'pointer',
    font: '600 16px/1.2 system-ui, -apple-system, "Segoe UI", Roboto, Arial, sans-serif',
    'box-shadow': '0 12px 24px -6px rgba(30,27,75,.45)',
  });
  button.style.setProperty(side, '20px');
  button.type = 'button';
  button.setAttribute('aria-expanded', 'false');
  var buttonText = document.createElement('span');
  buttonText.textContent = label;
  badge = css(document.createElement('span'), {
    display: 'none', 'min-width': '22px', padding: '2px 6px', 'border-radius': '999px',
    background: '#fff', color: '#312e81', 'font-size': '13px', 'text-align': 'center',
  });
  badge.setAttribute('aria-hidden', 'true');
  button.appendChild(buttonText);
  button.appendChild(badge);
  button.addEventListener('click', function () { show(!open); });

  window.addEventListener('message', function (event) {
    if (event.origin !== origin || frame === null || event.source !== frame.contentWindow) return;
    var data = event.data || {};
    if (data.source !== 'chat-widget') return;
    if (data.type === 'ready') {
      // The chat's script runs after the frame's load event: tell it again.
      tell(open ? 'open' : 'close');
      sent = null;
      tellContext();
    } else if (data.type === 'close') show(false);
    else if (data.type === 'unread' && !open) setUnread(Number(data.count) || 0);
  });
  phone.addEventListener('change', function () {
    layoutPanel();
    if (open) button.style.display = phone.matches ? 'none' : 'inline-flex';
  });

  function mount() {
    document.body.appendChild(button);
    watchNavigation();
    if (script.getAttribute('data-open') === 'true') {
      show(true);
      return;
    }
    // The chat loads in the background, so that a conversation under way
    // follows the visitor from page to page and counts the replies meanwhile.
    var idle = window.requestIdleCallback || function (fn) { return setTimeout(fn, 1); };
    idle(function () { if (panel === null) buildPanel(); });
  }
  if (document.body) mount();
  else document.addEventListener('DOMContentLoaded', mount);
})();
