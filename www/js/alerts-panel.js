// The alerts' controls on the workbench: the Alerts dialog (on/off for
// each kind, the notification permission, "Test alerts" with its report)
// and the hint under the top bar when something would keep an alert from
// reaching the agent: notifications never allowed, or the chime blocked
// until the page is clicked.

import { t } from './i18n.js';
import { $, el } from './ui.js';

/** Wire the controls to alerts (an Alerts); returns render(), to call when its state changes. */
export function wireAlertsPanel(alerts) {
  const ui = {
    open: $('#alerts-open'),
    dot: $('#alerts-dot'),
    dialog: $('#alerts-dialog'),
    notify: $('#alert-notify'),
    sound: $('#alert-sound'),
    title: $('#alert-title'),
    permission: $('#alert-permission'),
    allow: $('#alert-allow'),
    report: $('#alert-report'),
    test: $('#alerts-test'),
    done: $('#alerts-done'),
    hint: $('#alert-hint'),
    hintText: $('#alert-hint-text'),
    hintAction: $('#alert-hint-action'),
    hintDismiss: $('#alert-hint-dismiss'),
  };
  let dismissed = null;
  let hintDo = null;
  let lastReport = null;

  const toggles = [[ui.notify, 'notify'], [ui.sound, 'sound'], [ui.title, 'title']];
  for (const [box, name] of toggles) {
    box.addEventListener('change', () => alerts.set(name, box.checked));
  }

  ui.open.addEventListener('click', () => {
    render();
    ui.dialog.showModal();
  });
  ui.done.addEventListener('click', () => ui.dialog.close());
  ui.allow.addEventListener('click', async () => {
    await alerts.askPermission();
    render();
  });
  ui.test.addEventListener('click', async () => {
    ui.test.disabled = true;
    ui.report.hidden = false;
    ui.report.replaceChildren(el('li', { class: 'pending' }, t('agent.alerts.test.running')));
    try {
      lastReport = await alerts.test();
      showReport();
    } finally {
      ui.test.disabled = false;
    }
  });

  ui.hintAction.addEventListener('click', async () => {
    if (hintDo !== null) await hintDo();
    render();
  });
  ui.hintDismiss.addEventListener('click', () => {
    dismissed = ui.hint.dataset.kind;
    render();
  });

  function showReport() {
    if (lastReport === null) return;
    ui.report.replaceChildren(...lastReport.map((r) => el('li', {
      class: r.ok ? 'ok' : 'problem', 'data-what': r.what,
    },
    el('span', { class: 'report-mark', 'aria-hidden': 'true' }, r.ok ? '\u2713' : '!'),
    el('span', { class: 'report-what' }, t('agent.alerts.whatLabel', { what: t(`agent.alerts.what.${r.what}`) })),
    r.text)));
  }

  function permissionText() {
    const p = alerts.permission;
    return t(`agent.alerts.permission.${p}`);
  }

  /* The one thing most worth fixing now, or null. */
  function hint() {
    const s = alerts.settings;
    if (s.sound && alerts.soundBlocked) {
      return {
        kind: 'sound',
        text: t('agent.alerts.hint.sound'),
        action: t('agent.alerts.hint.soundAction'),
        run: () => alerts.playChime(),
      };
    }
    if (s.notify && alerts.permission === 'default') {
      return {
        kind: 'permission',
        text: t('agent.alerts.hint.permission'),
        action: t('agent.alerts.hint.permissionAction'),
        run: () => alerts.askPermission(),
      };
    }
    if (s.notify && alerts.permission === 'denied') {
      return {
        kind: 'denied',
        text: t('agent.alerts.hint.denied'),
        action: t('agent.alerts.hint.deniedAction'),
        run: () => { render(); ui.dialog.showModal(); },
      };
    }
    return null;
  }

  function render() {
    const s = alerts.settings;
    ui.notify.checked = s.notify;
    ui.sound.checked = s.sound;
    ui.title.checked = s.title;
    ui.permission.textContent = permissionText();
    ui.permission.dataset.permission = alerts.permission;
    ui.allow.hidden = alerts.permission !== 'default';
    const h = hint();
    const healthy = h === null && (s.notify || s.sound || s.title);
    ui.dot.dataset.state = healthy ? 'ok' : 'problem';
    ui.open.setAttribute('title', healthy ? t('agent.alerts.dotOk') : t('agent.alerts.dotProblem'));
    // A blocked chime is shown again however often the hint was put away: a chat waits.
    if (h === null || (h.kind === dismissed && h.kind !== 'sound')) {
      ui.hint.hidden = true;
      hintDo = null;
    } else {
      ui.hint.hidden = false;
      ui.hint.dataset.kind = h.kind;
      ui.hintText.textContent = h.text;
      ui.hintAction.textContent = h.action;
      ui.hintDismiss.hidden = h.kind === 'sound';
      hintDo = h.run;
    }
    showReport();
  }

  return render;
}
