// The page the subscription-confirmation letter links to (double opt-in, R15, R54):
// confirm.html?school=ID&token=T&lang=L. Opening it confirms nothing: the subscription is
// confirmed by the button's POST, so a mail scanner that follows the link does not subscribe
// anyone. The texts come from the letters' catalogue (i18n/mail), in the letter's language.
import { h } from '../common/dom';
import type { Lang } from '../common/i18n';
import uk from '../../../i18n/mail/uk.json';
import ru from '../../../i18n/mail/ru.json';
import en from '../../../i18n/mail/en.json';
import { ready, startPage } from './chrome';

const CATALOGUE: Record<Lang, Record<string, string>> = { uk, ru, en };

const params = new URLSearchParams(location.search);
const school = params.get('school') ?? '';
const token = params.get('token') ?? '';

let lang: Lang = 'uk';
function text(key: string, args: Record<string, string> = {}): string {
  const raw = CATALOGUE[lang][`confirm_page.${key}`] ?? key;
  return raw.replace(/\{([a-z_]+)\}/g, (whole, name: string) => args[name] ?? whole);
}

const page = startPage(() => text('title'));
lang = page.lang;
document.title = text('title');
const { main } = page;

const status = h('p', { class: 'status', role: 'status', 'aria-live': 'polite' });
const button = h('button', { type: 'button', class: 'primary' }, text('button'));
main.append(h('h1', {}, text('title')));

async function schoolName(): Promise<string> {
  try {
    const r = await fetch(`/v1/schools/${encodeURIComponent(school)}/policy?lang=${lang}`, {
      headers: { Accept: 'application/json' },
    });
    if (!r.ok) return '';
    const body = await r.json();
    return typeof body?.name === 'string' ? body.name : '';
  } catch {
    return '';
  }
}

async function confirm(): Promise<void> {
  button.disabled = true;
  status.textContent = text('working');
  try {
    const r = await fetch(
      `/v1/schools/${encodeURIComponent(school)}/subscriptions/confirm?lang=${lang}`,
      { method: 'POST', headers: { 'Content-Type': 'application/json' }, body: JSON.stringify({ token }) },
    );
    const body = await r.json().catch(() => ({}));
    if (r.ok && body.confirmed) {
      const purposes = (body.purposes ?? []).map((p: { title: string }) => p.title).join(', ');
      button.remove();
      status.className = 'status done';
      status.textContent = text('done', { purposes });
      main.dataset.state = 'confirmed';
      return;
    }
    const code: string = body?.error?.code ?? '';
    status.className = 'status error';
    status.textContent = ['link_unknown', 'link_used', 'link_expired'].includes(code) ? text(code) : text('failed');
    main.dataset.state = code || 'failed';
    if (code !== 'link_unknown' && code !== 'link_used' && code !== 'link_expired') button.disabled = false;
  } catch {
    status.className = 'status error';
    status.textContent = text('failed');
    button.disabled = false;
  }
}

async function start(): Promise<void> {
  if (!school || !token) {
    main.append(h('p', { class: 'status error', role: 'alert' }, text('no_token')));
    main.dataset.state = 'no_token';
    ready();
    return;
  }
  const name = await schoolName();
  main.append(
    h('p', { class: 'lead' }, name ? text('lead', { school: name }) : text('lead_unknown_school')),
    button,
    status,
  );
  button.addEventListener('click', () => void confirm());
  ready();
}

void start();
