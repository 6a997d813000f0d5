// The cookie banner a school puts on its own site:
//   <script src="https://dovira.example/banner.js" data-school="ID" data-lang="uk" async></script>
// It reads the school's cookie categories from the server, asks the visitor (accept all and
// reject all side by side with equal weight, or a choice per category), records the choice on the
// server as proof, keeps the record's id in the consent cookie for the policy's consent_ttl, and
// only then runs the page's scripts of allowed categories:
//   <script type="text/plain" data-dovira-category="statistics" src="..."></script>
// The Global Privacy Control signal keeps statistics and marketing off. Any element with
// data-dovira-cookie-settings, and the button the banner leaves on the page, reopen it.
import { h } from '../common/dom';
import { detectLang, lookup, translator } from '../common/i18n';
import uk from '../../../i18n/banner/uk.json';
import ru from '../../../i18n/banner/ru.json';
import en from '../../../i18n/banner/en.json';
import css from './banner.css?inline';

interface Category { id: string; consent_required: boolean }
interface Cookie { name: string; provider: string; category: string; purpose: string; lifetime: string | null }
interface Settings {
  school: string;
  policy_version: string;
  used: boolean;
  consent_cookie: string;
  categories: Category[];
  inventory: Cookie[];
  notice: string;
  record: string;
}
interface Choice { id: string; accepted: string[]; version: string }
interface Recorded { id: string; accepted: string[]; policy_version: string; at: string; expires_at: string }

const me = document.currentScript as HTMLScriptElement | null;
const server = me?.dataset.server || (me?.src ? new URL(me.src).origin : location.origin);
const school = me?.dataset.school || '';
const lang = detectLang(me?.dataset.lang);
const t = translator({ uk, ru, en }, lang);
const opt = lookup({ uk, ru, en }, lang);
const gpc = (navigator as { globalPrivacyControl?: boolean }).globalPrivacyControl === true;
const GPC_OFF = ['statistics', 'marketing'];

let settings: Settings | null = null;
let current: Choice | null = null;
let active: string[] = [];
let host: HTMLElement | null = null;
let dialog: HTMLElement;
let reopen: HTMLButtonElement;
let statusLine: HTMLElement;

function readCookie(name: string): Choice | null {
  for (const part of document.cookie.split('; ')) {
    const eq = part.indexOf('=');
    if (part.slice(0, eq) !== name) continue;
    const [id, accepted, version] = decodeURIComponent(part.slice(eq + 1)).split('|');
    if (id && version) return { id, accepted: accepted ? accepted.split(',') : [], version };
  }
  return null;
}

function writeCookie(name: string, c: Choice, seconds: number): void {
  const value = encodeURIComponent([c.id, c.accepted.join(','), c.version].join('|'));
  document.cookie = `${name}=${value}; Max-Age=${Math.max(0, Math.floor(seconds))}; Path=/; SameSite=Lax` +
    (location.protocol === 'https:' ? '; Secure' : '');
}

// Runs the page's held-back scripts of the allowed categories, once each.
function activate(accepted: string[]): void {
  const allowed = accepted.filter((c) => !(gpc && GPC_OFF.includes(c)));
  if (active.some((c) => !allowed.includes(c))) {
    location.reload();  // a script that already ran cannot be stopped: start the page afresh
    return;
  }
  active = allowed;
  for (const held of document.querySelectorAll<HTMLScriptElement>('script[type="text/plain"][data-dovira-category]')) {
    const category = held.dataset.doviraCategory || '';
    if (category !== 'necessary' && !allowed.includes(category)) continue;
    const s = document.createElement('script');
    for (const a of Array.from(held.attributes)) if (a.name !== 'type') s.setAttribute(a.name, a.value);
    if (!held.src) s.text = held.text;
    held.replaceWith(s);
  }
  document.dispatchEvent(new CustomEvent('dovira:consent', { detail: { accepted: allowed } }));
}

// A category's name and description; one the catalogue does not know goes by its id.
function label(id: string): [string, string] {
  return [opt(`category.${id}`) ?? id, opt(`category.${id}.hint`) ?? ''];
}

function build(s: Settings): void {
  host = h('div', { id: 'dovira-cookie-banner' });
  const root = host.attachShadow({ mode: 'open' });
  try {
    const sheet = new CSSStyleSheet();
    sheet.replaceSync(css);
    root.adoptedStyleSheets = [sheet];
  } catch {
    root.append(h('style', {}, css));
  }
  const noticeUrl = new URL(s.notice, server).toString();
  const fieldset = h('fieldset', {}, h('legend', {}, t('legend')));
  for (const c of s.categories) {
    const [name, desc] = label(c.id);
    const off = gpc && GPC_OFF.includes(c.id);
    const box = h('input', {
      type: 'checkbox', id: `dc-${c.id}`, name: 'category', value: c.id,
      checked: !c.consent_required, disabled: !c.consent_required || off,
      'aria-describedby': desc ? `dd-${c.id}` : null,
    });
    const cookies = s.inventory.filter((k) => k.category === c.id);
    fieldset.append(h('div', { class: 'cat' },
      box,
      h('label', { for: `dc-${c.id}` }, name, !c.consent_required ? h('span', { class: 'always' }, ' ', t('always')) : null),
      desc ? h('p', { id: `dd-${c.id}`, class: 'desc' }, desc) : null,
      cookies.length ? h('details', {}, h('summary', {}, t('cookies', { n: cookies.length })),
        h('ul', {}, ...cookies.map((k) => h('li', {}, h('b', {}, k.name), ` — ${k.provider}. ${k.purpose} (${k.lifetime ?? t('session')})`)))) : null,
    ));
  }
  const form = h('form', { id: 'dc-form', hidden: true }, fieldset,
    h('button', { type: 'submit', class: 'choice' }, t('save')));
  const choose = h('button', { type: 'button', class: 'secondary', 'aria-expanded': 'false', 'aria-controls': 'dc-form' }, t('choose'));
  const reject = h('button', { type: 'button', class: 'choice' }, t('reject'));
  const accept = h('button', { type: 'button', class: 'choice' }, t('accept'));
  const close = h('button', { type: 'button', class: 'close', 'aria-label': t('close'), hidden: true }, '×');
  statusLine = h('p', { class: 'status', role: 'status' });
  dialog = h('section', { class: 'panel', role: 'dialog', 'aria-modal': 'false', 'aria-labelledby': 'dc-title', 'aria-describedby': 'dc-intro', hidden: true, tabindex: '-1' },
    close,
    h('h2', { id: 'dc-title' }, t('title')),
    h('p', { id: 'dc-intro' }, t('intro'), ' ', h('a', { href: noticeUrl, target: '_blank', rel: 'noopener' }, t('notice'))),
    gpc ? h('p', { class: 'gpc' }, t('gpc')) : null,
    h('div', { class: 'buttons' }, reject, accept, choose),
    form,
    statusLine,
  );
  reopen = h('button', { type: 'button', class: 'reopen', 'aria-haspopup': 'dialog', hidden: true }, t('reopen'));
  root.append(dialog, reopen);

  reject.addEventListener('click', () => void decide('reject_all', []));
  accept.addEventListener('click', () => void decide('accept_all', []));
  choose.addEventListener('click', () => {
    form.hidden = !form.hidden;
    choose.setAttribute('aria-expanded', String(!form.hidden));
    if (!form.hidden) (form.querySelector('input:not([disabled])') as HTMLElement | null)?.focus();
  });
  form.addEventListener('submit', (e) => {
    e.preventDefault();
    const picked = Array.from(form.querySelectorAll<HTMLInputElement>('input[name=category]'))
      .filter((b) => b.checked && !b.disabled).map((b) => b.value);
    void decide('custom', picked);
  });
  close.addEventListener('click', () => hide());
  dialog.addEventListener('keydown', (e) => { if (e.key === 'Escape' && current) hide(); });
  reopen.addEventListener('click', () => open());
  document.body.prepend(host);
}

function show(focus: boolean): void {
  if (!host || !settings) return;
  dialog.hidden = false;
  reopen.hidden = true;
  (dialog.querySelector('.close') as HTMLElement).hidden = !current;
  for (const b of dialog.querySelectorAll<HTMLInputElement>('input[name=category]')) {
    if (!b.disabled) b.checked = current ? current.accepted.includes(b.value) : false;
  }
  if (focus) dialog.focus();
}

function hide(): void {
  const hadFocus = host?.shadowRoot?.activeElement != null;
  dialog.hidden = true;
  reopen.hidden = false;
  if (hadFocus) reopen.focus();
}

export function open(): void { show(true); }

async function decide(choice: string, accepted: string[]): Promise<void> {
  if (!settings) return;
  statusLine.textContent = '';
  try {
    const r = await fetch(new URL(settings.record, server), {
      method: 'POST',
      headers: { 'Content-Type': 'application/json' },
      body: JSON.stringify({ choice, accepted, policy_version: settings.policy_version, gpc, lang }),
    });
    if (!r.ok) throw new Error(String(r.status));
    const rec = (await r.json()) as Recorded;
    current = { id: rec.id, accepted: rec.accepted, version: rec.policy_version };
    // The lifetime, not the server's date: a browser clock that differs from the server's must
    // not shorten or stretch the consent_ttl.
    writeCookie(settings.consent_cookie, current, (Date.parse(rec.expires_at) - Date.parse(rec.at)) / 1000);
    statusLine.textContent = t('saved');
    hide();
    activate(rec.accepted);
  } catch {
    statusLine.textContent = t('error');
  }
}

async function start(): Promise<void> {
  if (!school) return;
  try {
    const r = await fetch(`${server}/v1/schools/${encodeURIComponent(school)}/cookies?lang=${lang}`);
    if (!r.ok) return;
    settings = (await r.json()) as Settings;
  } catch {
    return;
  }
  if (!settings.used) return;
  if (document.readyState === 'loading') {
    await new Promise((done) => document.addEventListener('DOMContentLoaded', done, { once: true }));
  }
  build(settings);
  const stored = readCookie(settings.consent_cookie);
  if (stored && stored.version === settings.policy_version) {
    current = stored;
    hide();
    activate(stored.accepted);
  } else {
    show(false);  // a new visit, an expired choice, or a changed policy: ask (again)
  }
}

document.addEventListener('click', (e) => {
  const target = e.target as Element | null;
  if (target?.closest?.('[data-dovira-cookie-settings]')) open();
});
(window as { DoviraCookies?: object }).DoviraCookies = { open, consent: () => current };
void start();
