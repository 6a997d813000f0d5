// The privacy notice the server renders from the school's policy (GET /policy), in the chosen
// language, with every published version of the policy (GET /v1/schools/{school}/policy/versions).
import { h } from '../common/dom';
import { dates } from '../common/dates';
import { ready, startPage } from './chrome';

interface Version {
  version: string;
  effective: string;
  published_at: string;
}

const { lang, t, main } = startPage((t) => t('noticeTitle'));
const params = new URLSearchParams(location.search);
const { day } = dates(lang);  // effective dates are plain calendar dates: no zone to apply

async function json<T>(url: string): Promise<T> {
  const r = await fetch(url, { headers: { Accept: 'application/json' } });
  if (!r.ok) throw new Error(`${url}: HTTP ${r.status}`);
  return (await r.json()) as T;
}

async function schoolId(): Promise<string> {
  const given = params.get('school');
  if (given) return given;
  const health = await json<{ schools: string[] }>('/healthz');
  if (health.schools.length === 1) return health.schools[0];
  throw new Error(t('noSchool'));
}

function pageUrl(school: string, version?: string): string {
  const q = new URLSearchParams({ school, lang });
  if (version) q.set('version', version);
  return `/notice.html?${q.toString()}`;
}

async function showCurrent(school: string, article: HTMLElement): Promise<void> {
  const r = await fetch(`/policy?school=${encodeURIComponent(school)}&lang=${lang}`);
  if (!r.ok) throw new Error(`/policy: HTTP ${r.status}`);
  // The server's rendering is a whole document; its content is taken as parsed nodes (scripts in
  // parsed documents never run) and its own styles are left behind in favour of this page's.
  const doc = new DOMParser().parseFromString(await r.text(), 'text/html');
  const body = doc.querySelector('main') ?? doc.body;
  article.append(...Array.from(body.childNodes).map((n) => document.importNode(n, true)));
  const title = doc.querySelector('h1')?.textContent;
  if (title) document.title = title;
}

async function showVersion(school: string, version: string, article: HTMLElement): Promise<void> {
  const v = await json<{ version: string; effective: string; text: string }>(
    `/v1/schools/${encodeURIComponent(school)}/policy/versions/${encodeURIComponent(version)}`,
  );
  article.append(
    h('h1', {}, `${t('noticeTitle')}: ${v.version}`),
    h('p', { class: 'meta' }, `${t('effective')} ${day(v.effective)}`),
    h('p', { class: 'note' }, t('oldVersionNote')),
    h('pre', { class: 'policy-file', tabindex: '0' }, v.text),
  );
}

function versionList(school: string, versions: Version[], shown: string | null): HTMLElement {
  const list = h('ul');
  versions.forEach((v, i) => {
    const current = i === versions.length - 1;
    const label = `${v.version} (${t('effective')} ${day(v.effective)}${current ? `, ${t('current')}` : ''})`;
    const a = h('a', { href: pageUrl(school, current ? undefined : v.version) }, label);
    if ((shown ?? versions[versions.length - 1].version) === v.version) {
      a.setAttribute('aria-current', 'page');
    }
    list.append(h('li', {}, a));
  });
  return h('nav', { class: 'versions', 'aria-labelledby': 'versions-title' },
    h('h2', { id: 'versions-title' }, t('versions')), list);
}

async function run(): Promise<void> {
  const status = h('p', { role: 'status' }, t('loading'));
  main.append(status);
  try {
    const school = await schoolId();
    const article = h('article', { class: 'notice', lang });
    const version = params.get('version');
    const [versions] = await Promise.all([
      json<{ items: Version[] }>(`/v1/schools/${encodeURIComponent(school)}/policy/versions`),
      version ? showVersion(school, version, article) : showCurrent(school, article),
    ]);
    status.remove();
    main.append(versionList(school, versions.items, version), article);
  } catch (e) {
    status.textContent = e instanceof Error && e.message === t('noSchool') ? t('noSchool') : t('loadError');
    status.setAttribute('role', 'alert');
  }
  ready();
}

void run();
