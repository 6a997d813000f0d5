// The staff console (console.html): sign-in (password, a TOTP code once enrolled, the first
// sign-in's password change and TOTP enrolment), then the views under #/ (requests, a request,
// filing, audit log, consents, retention, staff, account). One page; the session is the server's
// HttpOnly cookie, every unsafe call carries the session's CSRF token.
import { h } from '../common/dom';
import { ready, startPage } from '../pages/chrome';
import { ApiError, get, post, setCsrf, setLanguage, whenSignedOut, type Session, type Settings } from './api';
import { App } from './app';
import { consoleText } from './i18n';
import { M } from './messages';
import { ApiForm, errorText, failure, loading, value } from './ui';
import { accountText, accountView, enrolTotp } from './views/account';
import { auditView } from './views/audit';
import { consentsView } from './views/consents';
import { newRequestView } from './views/new_request';
import { queueView } from './views/queue';
import { requestView } from './views/request';
import { retentionView } from './views/retention';
import { staffView } from './views/staff';
import { subjectsView } from './views/subjects';

const { lang, main } = startPage(() => 'Dovira');
const t = M[lang];
const tr = consoleText(lang);
setLanguage(lang);
document.title = tr('title');
main.classList.add('console');
const header = document.querySelector<HTMLElement>('header.top')!;
const user = h('div', { class: 'user' });
header.append(user);
const nav = h('nav', { class: 'views', 'aria-label': tr('consoleNav'), hidden: true });
header.after(nav);

let app: App | null = null;

function setView(...nodes: (Node | string)[]): void {
  main.replaceChildren(...nodes);
}

// Focus goes to the new view's heading, so a screen reader starts there (not on first load).
function focusHeading(initial: boolean): void {
  if (initial) return;
  const h1 = main.querySelector<HTMLElement>('h1');
  if (h1) {
    h1.tabIndex = -1;
    h1.focus();
  }
}

// ---- signing in ----

async function schoolOptions(): Promise<[string, string][]> {
  const health = await get<{ schools: string[] }>('/healthz');
  return Promise.all(health.schools.map(async (s): Promise<[string, string]> => {
    try {
      const p = await get<{ name: string }>(`/v1/schools/${encodeURIComponent(s)}/policy?lang=${lang}`);
      return [s, p.name || s];
    } catch {
      return [s, s];
    }
  }));
}

async function showSignIn(message?: string): Promise<void> {
  app = null;
  nav.hidden = true;
  user.replaceChildren();
  const form = new ApiForm(lang, { submit: t.signIn, className: 'signin' });
  const options = await schoolOptions().catch(() => [] as [string, string][]);
  const remembered = () => {
    try {
      return localStorage.getItem('dovira-console-school') ?? '';
    } catch {
      return '';  // storage switched off: the first school is offered
    }
  };
  const last = remembered();
  form.addField({ label: t.school, name: 'school', type: 'select', options, value: last, required: true });
  form.addField({ label: t.email, name: 'email', type: 'email', autocomplete: 'username', required: true });
  form.addField({ label: t.password, name: 'password', type: 'password', autocomplete: 'current-password', required: true });
  // A TOTP code, or one of the one-time recovery codes handed out at enrolment.
  form.addField({ label: t.totp, name: 'totp', autocomplete: 'one-time-code', hint: accountText(lang, 'signin_code_hint') });
  form.onSubmit(async (f) => {
    const body: Record<string, string> = { school: value(f, 'school'), email: value(f, 'email'), password: (f.elements.namedItem('password') as HTMLInputElement).value };
    const code = value(f, 'totp');
    if (code) body.totp = code;
    const session = await post<Session & { recovery_codes_left?: number }>('/v1/auth/login', body);
    try {
      localStorage.setItem('dovira-console-school', body.school);
    } catch {
      // Not remembered; nothing else depends on it.
    }
    setCsrf(session.csrf_token);
    await afterSignIn(session, false);
    if (session.recovery_codes_left !== undefined) {
      main.prepend(h('p', { class: 'note recovery-left', role: 'status' },
        accountText(lang, 'recovery_left', { count: session.recovery_codes_left })));
    }
  });
  setView(
    h('h1', {}, t.signInTitle),
    h('p', { class: 'lead' }, t.signInIntro),
    message ? h('p', { class: 'note', role: 'status' }, message) : '',
    form.el,
  );
  ready();
}

// The first sign-in: a new password, then (privileged roles) TOTP; then the console.
async function afterSignIn(session: Session, initial: boolean): Promise<void> {
  if (session.must_change_password) return showPasswordChange(session);
  if (session.mfa_required) return showTotp(session);
  await startConsole(session, initial);
}

function showPasswordChange(session: Session): void {
  const form = new ApiForm(lang, { submit: t.changePassword });
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
    await afterSignIn({ ...session, must_change_password: false }, false);
  });
  setView(h('h1', {}, t.changeTitle), h('p', {}, t.changeIntro), form.el);
  focusHeading(false);
}

async function showTotp(session: Session): Promise<void> {
  setView(h('h1', {}, t.totpTitle), loading(lang));
  try {
    const form = await enrolTotp(t, lang, async () => {
      await afterSignIn({ ...session, mfa_required: false }, false);
    });
    setView(h('h1', {}, t.totpTitle), h('p', {}, t.totpIntro), form);
  } catch (e) {
    setView(h('h1', {}, t.totpTitle), failure(errorText(lang, e)));
  }
  focusHeading(false);
}

// ---- the console ----

async function startConsole(signedIn: Session, initial: boolean): Promise<void> {
  const session = await get<Session>('/v1/auth/me');  // with the e-mail and briefing the login omits
  setCsrf(session.csrf_token || signedIn.csrf_token);
  const settings = await get<Settings>(`/v1/schools/${encodeURIComponent(session.school)}/console?lang=${lang}`);
  app = new App(lang, t, session, settings);
  const signOut = h('button', { type: 'button', class: 'link' }, tr('signOut'));
  signOut.addEventListener('click', async () => {
    try {
      await post('/v1/auth/logout');
    } catch {
      // Signed out already: the sign-in form is what follows either way.
    }
    setCsrf('');
    if (location.hash) history.replaceState(null, '', location.pathname + location.search);
    await showSignIn(tr('signedOut'));
    main.querySelector('h1')?.setAttribute('tabindex', '-1');
    main.querySelector<HTMLElement>('h1')?.focus();
  });
  user.replaceChildren(h('span', { class: 'who' }, tr('signedInAs', { name: session.name, role: app.roleTitle(session.role) })), signOut);
  buildNav(app);
  await route(initial);
}

// Each view with who may open it: any staff member, a role that decides requests, or a privileged
// role (the same capabilities the API declares per route).
type Needs = 'any' | 'decides' | 'privileged';
const VIEWS: [string, string, Needs][] = [
  ['#/requests', 'queue', 'decides'],
  ['#/requests/new', 'newRequest', 'any'],
  ['#/subjects', 'subjects', 'any'],
  ['#/audit', 'audit', 'privileged'],
  ['#/consents', 'consents', 'any'],
  ['#/retention', 'retention', 'decides'],
  ['#/staff', 'staff', 'privileged'],
  ['#/account', 'account', 'any'],
];

function buildNav(a: App): void {
  const list = h('ul');
  for (const [hash, key, needs] of VIEWS) {
    if (needs === 'privileged' && !a.privileged) continue;
    if (needs === 'decides' && !a.decidesRequests) continue;
    list.append(h('li', {}, h('a', { href: hash, 'data-view': key }, tr(`nav.${key}`))));
  }
  // The privacy notice as published, rendered from the same policy, with its earlier versions.
  const notice = new URLSearchParams({ school: a.session.school, lang: a.lang });
  list.append(h('li', {}, h('a', { href: `/notice.html?${notice.toString()}`, target: '_blank', rel: 'noopener' }, tr('nav.notice'))));
  nav.replaceChildren(list);
  nav.hidden = false;
}

function markNav(key: string): void {
  for (const a of nav.querySelectorAll<HTMLAnchorElement>('a')) {
    if (a.dataset.view === key) a.setAttribute('aria-current', 'page');
    else a.removeAttribute('aria-current');
  }
}

async function route(initial = false): Promise<void> {
  if (!app) return;
  document.documentElement.dataset.ready = 'false';
  const [path, query] = (location.hash.slice(1) || app.home).split('?');
  const params = new URLSearchParams(query ?? '');
  const parts = path.split('/').filter(Boolean);
  const root = h('div', { class: 'view' });
  setView(root);
  let key = 'queue';
  try {
    if (parts[0] === 'requests' && parts[1] === 'new') {
      key = 'newRequest';
      await newRequestView(app, root, params);
    } else if (parts[0] === 'subjects') {
      key = 'subjects';
      await subjectsView(app, root);
    } else if (parts[0] === 'requests' && parts[1]) {
      await requestView(app, root, decodeURIComponent(parts[1]));
    } else if (parts[0] === 'audit') {
      key = 'audit';
      await auditView(app, root, params);
    } else if (parts[0] === 'retention') {
      key = 'retention';
      await retentionView(app, root);
    } else if (parts[0] === 'consents') {
      key = 'consents';
      await consentsView(app, root);
    } else if (parts[0] === 'staff') {
      key = 'staff';
      await staffView(app, root);
    } else if (parts[0] === 'account') {
      key = 'account';
      await accountView(app, root);
    } else {
      await queueView(app, root, params);
    }
  } catch (e) {
    if (e instanceof ApiError && e.status === 401) return;  // the sign-in form took over
    root.append(failure(errorText(lang, e)));
  }
  markNav(key);
  const title = root.querySelector('h1')?.textContent;
  document.title = title ? `${title} — ${tr('title')}` : tr('title');
  focusHeading(initial);
  ready();
}

window.addEventListener('hashchange', () => void route());
whenSignedOut(() => {
  if (app) void showSignIn(tr('sessionEnded'));
});

async function boot(): Promise<void> {
  let session: Session;
  try {
    session = await get<Session>('/v1/auth/me');
  } catch {
    await showSignIn();
    return;
  }
  setCsrf(session.csrf_token);
  try {
    await afterSignIn(session, true);
  } catch (e) {
    setView(failure(errorText(lang, e)));
    ready();
  }
}

void boot();
