// Staff accounts (#/staff): the list (GET /staff), a new account (POST /staff) with a one-time
// password made here and shown once, the briefing that unlocks personal data and a leaver's
// revocation (R87).
import { h } from '../../common/dom';
import { post, type StaffRow } from '../api';
import type { App } from '../app';
import { date } from '../format';
import { ApiForm, badge, confirmAction, errorText, table, value } from '../ui';

// 20 random characters from an alphabet without look-alikes, in groups of five (100 bits).
export function oneTimePassword(): string {
  const alphabet = 'abcdefghjkmnpqrstuvwxyz23456789A';
  const bytes = crypto.getRandomValues(new Uint8Array(20));
  let out = '';
  bytes.forEach((b, i) => {
    if (i && i % 5 === 0) out += '-';
    out += alphabet[b % 32];
  });
  return out;
}

export async function staffView(app: App, root: HTMLElement): Promise<void> {
  const { tr: t, lang } = app;
  const clock = await app.clock();
  const status = h('p', { class: 'step-status', role: 'status', tabindex: '-1' });
  const listSlot = h('div');

  const renderList = (items: StaffRow[]) => {
    const rows = items.map((s) => {
      const actions = h('div', { class: 'row-actions' });
      const act = (label: string, kind: string, run: () => Promise<unknown>, done: string, ask?: { title: string; text: string; confirm: string }) => {
        const b = h('button', { type: 'button', class: kind, 'aria-label': `${label}: ${s.name}` }, label);
        b.addEventListener('click', async () => {
          if (ask && !(await confirmAction(lang, ask))) return;
          b.disabled = true;
          try {
            await run();
            await refresh();
            status.textContent = done;
            status.focus();
          } catch (e) {
            b.disabled = false;
            status.textContent = errorText(lang, e);
            status.focus();
          }
        });
        actions.append(b);
      };
      const path = `${app.base}/staff/${encodeURIComponent(s.id)}`;
      if (!s.left_at && !s.briefing_completed_at) {
        act(t('brief'), 'secondary', () => post(`${path}/briefing`), t('briefDone', { name: s.name }));
      }
      if (!s.left_at && s.id !== app.session.staff) {
        act(t('leave'), 'danger', () => post(`${path}/leave`), t('leaveDone', { name: s.name }),
          { title: t('leaveConfirmTitle'), text: t('leaveConfirm', { name: s.name }), confirm: t('leave') });
      }
      return [
        s.name,
        s.email,
        app.roleTitle(s.role),
        s.totp_enabled ? t('yes') : t('no'),
        s.briefing_completed_at ? date(clock, s.briefing_completed_at) : badge('warning', t('notBriefed')),
        s.left_at ? badge('muted', t('leftOn', { date: date(clock, s.left_at) })) : t('working'),
        actions,
      ];
    });
    listSlot.replaceChildren(table(t('staffTitle'),
      [t('colName'), t('colEmail'), t('colStaffRole'), t('colTotp'), t('colBriefing'), t('colStatus'), t('colActions')], rows, 'staff'));
  };
  const refresh = async () => {
    renderList(await app.staff(true));
  };

  const invite = new ApiForm(lang, { title: t('inviteTitle'), submit: t('inviteBtn'), className: 'invite' });
  invite.addField({ label: t('inviteName'), name: 'name', autocomplete: 'off', required: true });
  invite.addField({ label: t('inviteEmail'), name: 'email', type: 'email', autocomplete: 'off', required: true });
  // No role is chosen for the person by default: the server names a missing one.
  invite.addField({ label: t('inviteRole'), name: 'role', type: 'select', required: true,
    options: [['', t('none')], ...app.settings.roles.map((r): [string, string] => [r.id, r.title || r.id])] });
  const credentials = h('div', { class: 'credentials-slot' });
  invite.onSubmit(async (f) => {
    const password = oneTimePassword();
    const made = await post<{ id: string; name: string; email: string; role: string }>(`${app.base}/staff`, {
      name: value(f, 'name'), email: value(f, 'email'), role: value(f, 'role'), password,
    });
    f.reset();
    const copy = h('button', { type: 'button', class: 'secondary' }, t('copy'));
    const copied = h('span', { role: 'status' });
    copy.addEventListener('click', async () => {
      try {
        await navigator.clipboard.writeText(`${made.email}\n${password}`);
        copied.textContent = ` ${t('copied')}`;
      } catch {
        copied.textContent = '';
      }
    });
    const privileged = app.settings.roles.find((r) => r.id === made.role)?.privileged;
    const box = h('section', { class: 'credentials', 'aria-labelledby': 'cred-title', tabindex: '-1' },
      h('h3', { id: 'cred-title' }, t('credentialsTitle')),
      h('p', {}, t('credentialsIntro')),
      h('dl', { class: 'facts' },
        h('div', {}, h('dt', {}, t('inviteName')), h('dd', {}, made.name)),
        h('div', {}, h('dt', {}, t('inviteEmail')), h('dd', {}, made.email)),
        h('div', {}, h('dt', {}, t('inviteRole')), h('dd', {}, app.roleTitle(made.role))),
        h('div', {}, h('dt', {}, t('password')), h('dd', {}, h('code', { class: 'one-time-password' }, password)))),
      privileged ? h('p', { class: 'note' }, t('privilegedNote')) : null,
      h('p', {}, copy, copied));
    credentials.replaceChildren(box);
    await refresh();
    box.focus();
  });

  await refresh();
  root.append(h('h1', {}, t('staffTitle')), status, listSlot, invite.el, credentials);
}
