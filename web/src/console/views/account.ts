// The signed-in person's account: who they are, their session, a password change, new recovery
// codes; and the TOTP enrolment a privileged role goes through at first sign-in: a QR code of the
// otpauth URI drawn in the page (the `qrcode` package, bundled: no network), the key beside it,
// and, once the first code is accepted, the ten one-time recovery codes, shown this once.
import QRCode from 'qrcode';
import { h } from '../../common/dom';
import type { Lang } from '../../common/i18n';
import uk from '../../../../i18n/account/uk.json';
import ru from '../../../../i18n/account/ru.json';
import en from '../../../../i18n/account/en.json';
import { post } from '../api';
import type { App } from '../app';
import { dateTime } from '../format';
import type { ConsoleMessages } from '../messages';
import { ApiForm, facts, value } from '../ui';

const TEXTS: Record<Lang, Record<string, string>> = { uk, ru, en };

// The account texts (i18n/account) in `lang`, with {name} placeholders filled.
export function accountText(lang: string, key: string, args: Record<string, string | number> = {}): string {
  const catalogue = TEXTS[(lang in TEXTS ? lang : 'uk') as Lang];
  const text = catalogue[key] ?? TEXTS.en[key] ?? key;
  return text.replace(/\{([a-z_]+)\}/g, (whole, name: string) => (name in args ? String(args[name]) : whole));
}

// The QR code options: the browser tests draw the same SVG from the same URI to check the image.
export const QR_OPTIONS = { type: 'svg', errorCorrectionLevel: 'M', margin: 2, width: 220 } as const;

// The one-time recovery codes, shown once, with a button that leads on.
function recoveryCodes(lang: string, codes: string[], onSaved?: () => Promise<void>): HTMLElement {
  const list = h('ol', { class: 'recovery-codes' });
  for (const code of codes) list.append(h('li', {}, h('code', {}, code)));
  const box = h('section', { class: 'recovery', 'aria-labelledby': 'recovery-title' },
    h('h2', { id: 'recovery-title' }, accountText(lang, 'recovery_title')),
    h('p', {}, accountText(lang, 'recovery_intro')),
    list);
  if (onSaved) {
    const go = h('button', { type: 'button', class: 'primary' }, accountText(lang, 'recovery_saved'));
    go.addEventListener('click', () => void onSaved());
    box.append(h('div', { class: 'actions' }, go));
  }
  return box;
}

// POST /v1/auth/totp/begin, then a form that confirms the first code; then the recovery codes,
// and `done` once they are saved.
export async function enrolTotp(t: ConsoleMessages, lang: Lang, done: () => Promise<void>): Promise<HTMLElement> {
  const begin = await post<{ secret: string; issuer: string; account: string; otpauth_uri: string }>('/v1/auth/totp/begin');
  const grouped = begin.secret.replace(/(.{4})/g, '$1 ').trim();
  const svg = await QRCode.toString(begin.otpauth_uri, QR_OPTIONS);
  const qr = h('img', {
    class: 'totp-qr',
    src: `data:image/svg+xml;base64,${btoa(svg)}`,
    alt: accountText(lang, 'qr_alt', { issuer: begin.issuer, account: begin.account }),
    width: QR_OPTIONS.width,
    height: QR_OPTIONS.width,
  });
  const wrap = h('div', { class: 'totp-enrol' });
  const form = new ApiForm(lang, { submit: t.confirm });
  form.add(
    h('div', { class: 'secret' },
      qr,
      h('p', {}, accountText(lang, 'qr_hint')),
      h('p', {}, h('span', { class: 'label' }, `${t.totpSecret}: `), h('code', { class: 'totp-secret', 'data-secret': begin.secret }, grouped)),
      h('p', {}, h('a', { href: begin.otpauth_uri }, t.totpLink))),
  );
  form.addField({ label: t.totpCode, name: 'code', inputmode: 'numeric', autocomplete: 'one-time-code', required: true });
  form.onSubmit(async (f) => {
    const confirmed = await post<{ recovery_codes?: string[] }>('/v1/auth/totp/confirm', { code: value(f, 'code').replace(/\s/g, '') });
    const codes = confirmed.recovery_codes ?? [];
    if (codes.length === 0) return done();
    wrap.replaceChildren(recoveryCodes(lang, codes, done));
    wrap.querySelector('h2')?.setAttribute('tabindex', '-1');
    (wrap.querySelector('h2') as HTMLElement | null)?.focus();
  });
  wrap.append(form.el);
  return wrap;
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
  // New recovery codes replace the old ones; shown once, here.
  const codesForm = new ApiForm(app.lang, { title: accountText(app.lang, 'recovery_title'), submit: accountText(app.lang, 'recovery_regenerate') });
  const codesBox = h('div', { class: 'recovery-new' });
  codesForm.add(h('p', {}, accountText(app.lang, 'recovery_regenerate_intro')));
  codesForm.onSubmit(async () => {
    const fresh = await post<{ recovery_codes: string[] }>('/v1/auth/recovery-codes');
    codesBox.replaceChildren(recoveryCodes(app.lang, fresh.recovery_codes));
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
    codesForm.el,
    codesBox,
  );
}
