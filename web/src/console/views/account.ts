// The signed-in person's account: who they are, their session, a password change; and the TOTP
// enrolment a privileged role goes through at first sign-in.
import { h } from '../../common/dom';
import type { Lang } from '../../common/i18n';
import { post } from '../api';
import type { App } from '../app';
import { dateTime } from '../format';
import type { ConsoleMessages } from '../messages';
import { ApiForm, facts, value } from '../ui';

// POST /v1/auth/totp/begin, then a form that confirms the first code; `done` after it is accepted.
export async function enrolTotp(t: ConsoleMessages, lang: Lang, done: () => Promise<void>): Promise<HTMLElement> {
  const begin = await post<{ secret: string; otpauth_uri: string }>('/v1/auth/totp/begin');
  const grouped = begin.secret.replace(/(.{4})/g, '$1 ').trim();
  const form = new ApiForm(lang, { submit: t.confirm });
  form.add(
    h('div', { class: 'secret' },
      h('p', {}, h('span', { class: 'label' }, `${t.totpSecret}: `), h('code', { class: 'totp-secret', 'data-secret': begin.secret }, grouped)),
      h('p', {}, h('a', { href: begin.otpauth_uri }, t.totpLink))),
  );
  form.addField({ label: t.totpCode, name: 'code', inputmode: 'numeric', autocomplete: 'one-time-code', required: true });
  form.onSubmit(async (f) => {
    await post('/v1/auth/totp/confirm', { code: value(f, 'code').replace(/\s/g, '') });
    await done();
  });
  return form.el;
}

export async function accountView(app: App, root: HTMLElement): Promise<void> {
  const { t, session } = app;
  const clock = await app.clock();
  const form = new ApiForm(app.lang, { title: t.changePassword, submit: t.changePassword });
  form.addField({ label: t.currentPassword, name: 'current_password', type: 'password', autocomplete: 'current-password', required: true });
  form.addField({ label: t.newPassword, name: 'new_password', type: 'password', autocomplete: 'new-password', required: true });
  form.addField({ label: t.repeatPassword, name: 'repeat', type: 'password', autocomplete: 'new-password', required: true });
  form.onSubmit(async (f) => {
    const pw = (name: string) => (f.elements.namedItem(name) as HTMLInputElement).value;
    if (pw('new_password') !== pw('repeat')) {
      form.showError(t.passwordMismatch, 'repeat');
      return;
    }
    await post('/v1/auth/password', { current_password: pw('current_password'), new_password: pw('new_password') });
    f.reset();
    return t.passwordChanged;
  });
  root.append(
    h('h1', {}, t.accountTitle),
    facts([
      [t.colName, session.name],
      [t.colEmail, session.email ?? ''],
      [t.colStaffRole, app.roleTitle(session.role)],
      [t.school, app.settings.name],
    ]),
    h('p', { class: 'meta' }, t.sessionUntil(dateTime(clock, session.expires_at))),
    form.el,
  );
}
