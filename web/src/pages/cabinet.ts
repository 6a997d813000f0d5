// The personal cabinet (cabinet.html?school=ID): a learner, parent or buyer signs in with a code
// e-mailed to the address on file, then sees and manages what the school holds about them, all
// through the /v1/schools/{school}/me routes. Five views, each reached by its own address
// (#data, #consents, #download, #requests, #processing), so the browser's back button and links
// work; errors from the server are shown next to the control they name.
import { h } from '../common/dom';
import type { Lang } from '../common/i18n';
import { ready, startPage } from './chrome';
import { dates, type Dates } from '../common/dates';
import { lookup, translator } from '../common/i18n';
import uk from '../../../i18n/cabinet/uk.json';
import ru from '../../../i18n/cabinet/ru.json';
import en from '../../../i18n/cabinet/en.json';

// ---- what the server sends -----------------------------------------------------------------------

interface Person { subject: string; self: boolean; name: string; relation?: string; until?: string | null }
interface Session {
  subject: string; school: string; csrf_token: string; expires_at: string;
  // B06: the signed-in person's own id (null for a representative with no data of their own),
  // the minor acted for, whose name is shown, everyone this session may act for, and a pending
  // re-consent at majority. GET /me sends them; the sign-in's answer does not.
  self?: string | null; acting_for?: string | null; name?: string; people?: Person[];
  reconsent?: { state: string; since: string | null } | null;
}
interface Titled { id: string; title: string }
// Ids for programs, with the policy's titles in the page's language beside them.
interface Field {
  field: string; title: string; category: string; category_title: string; value: string; source: string;
  channel: string; form: string; stores: string[]; kept_in: Titled[]; collected_at: string; editable: boolean;
}
interface ConsentEntry {
  consent: string; title: string; action: string; grants: string[]; at: string; channel: string; policy_version: string;
}
interface Purpose extends Titled { basis: string }
interface Recipient extends Titled { kind: string; countries: string[] }
interface RequestRow {
  id: string; type: string; right: string; state: string; received_at: string; due_at: string;
  overdue: boolean; outcome: string; closed_at: string | null;
}
// Lists the package has nothing in arrive as the string "none".
type List<T> = T[] | 'none' | undefined;
interface MeData {
  subject: string; fields: Field[]; consents?: List<ConsentEntry>; purposes?: List<Purpose>;
  categories?: List<Titled>; recipients?: List<Recipient>;
  transfer_safeguards?: List<{ recipient: string; safeguard: string }>;
  retention?: List<{ purpose: string; term: string }>; sources?: List<unknown>;
  automated_decisions?: boolean; profiling?: boolean; requests: RequestRow[];
  // Per request type whose right lists them, the grounds a request may state, with their titles.
  grounds?: Record<string, Titled[]>;
}
interface FormDef {
  fields: { id: string; type: string; title: string; max_length: number }[];
  consents: { consent: string; text: string; withdrawal_procedure: string }[];
}
interface MarketingPurpose {
  purpose: string; title: string; description: string; channels: string[];
  state: 'in' | 'out' | 'never' | 'stopped'; reason: string; consent_active: boolean; since: string | null;
  consent: string | null; consent_title: string; text: string; withdrawal_procedure: string;
}
interface Marketing { model: string; granular_optout: boolean; policy_version: string; purposes: MarketingPurpose[] }
interface ErrorBody { error?: { code?: string; message?: string; field?: string | null } }

class ApiError extends Error {
  constructor(readonly status: number, readonly code: string, readonly field: string, message: string) {
    super(message);
  }
}

const list = <T>(v: List<T>): T[] => (Array.isArray(v) ? v : []);

// ---- page state ----------------------------------------------------------------------------------

const page = startPage((p) => p('product'));
const { lang, main } = page;
// The cabinet's texts (i18n/cabinet), in the page's language.
const t = translator({ uk, ru, en }, lang);
const opt = lookup({ uk, ru, en }, lang);  // undefined for a code the catalogue lacks
document.title = t('title');
const params = new URLSearchParams(location.search);
const VIEWS = ['data', 'consents', 'download', 'requests', 'processing'] as const;
type View = (typeof VIEWS)[number];

let school = '';
let schoolName = '';
let session: Session | null = null;
let data: MeData | null = null;
let marketing: Marketing | null = null;
const fieldTitles = new Map<string, { title: string; type: string; max: number }>();
const formTitles = new Map<string, string>();
const consentTexts = new Map<string, { text: string; procedure: string }>();

const status = h('p', { class: 'cab-status', role: 'status' });
const body = h('div', { class: 'cab-body' });

// ---- the API -------------------------------------------------------------------------------------

const base = () => `/v1/schools/${encodeURIComponent(school)}`;

async function call<T>(method: string, path: string, payload?: unknown): Promise<T> {
  const headers: Record<string, string> = { Accept: 'application/json' };
  if (payload !== undefined) headers['Content-Type'] = 'application/json';
  if (method !== 'GET' && session) headers['X-CSRF-Token'] = session.csrf_token;
  const sep = path.includes('?') ? '&' : '?';
  const r = await fetch(`${base()}${path}${sep}lang=${lang}`, {
    method, headers, credentials: 'same-origin', body: payload === undefined ? undefined : JSON.stringify(payload),
  });
  if (r.status === 204) return undefined as T;
  const json = (await r.json().catch(() => ({}))) as T & ErrorBody;
  if (r.ok) return json;
  const e = json.error ?? {};
  const err = new ApiError(r.status, e.code ?? `http_${r.status}`, e.field ?? '', e.message ?? '');
  // A session that ended (expired, signed out elsewhere) sends the person back to the sign-in.
  if (r.status === 401 && session) {
    session = null;
    showSignIn(t('sessionEnded'));
  }
  throw err;
}

// The person's own words for a server error: known codes in the page's language, the server's
// message otherwise.
function explain(e: unknown): string {
  if (!(e instanceof ApiError)) return t('network');
  const known = opt(`errors.${e.code}`);
  // A refused value: the school's rule in the server's words follows the page's sentence.
  if (e.code === 'field_invalid' && known) return `${known} (${e.message.replace(/^field "[^"]*": /, '')})`;
  if (known) return known;
  return e.message || t('failed');
}

// ---- helpers -------------------------------------------------------------------------------------

// Dates in the page's language and the school's time zone (set once the policy is read).
let fmt: Dates = dates(lang);
const when = (iso: string | null | undefined) => fmt.when(iso);
const day = (iso: string | null | undefined) => fmt.day(iso);
// The last resort for an id neither the policy nor the catalogue names: its words, not its code.
const humanId = (id: string) => id.replace(/[_.:]+/g, ' ').trim().replace(/^./, (s) => s.toUpperCase());
const fieldTitle = (id: string) =>
  data?.fields.find((f) => f.field === id)?.title || fieldTitles.get(id)?.title || humanId(id);
// A catalogue word for a code the server sends (a state, a channel, a relation...).
const word = (group: string, key: string) => opt(`${group}.${key}`) ?? humanId(key);
let uid = 0;
const nextId = (p: string) => `${p}-${++uid}`;

function announce(text: string): void {
  status.textContent = '';
  // A fresh text each time, so screen readers read a repeated message again.
  requestAnimationFrame(() => { status.textContent = text; });
}

function errorSlot(id: string): HTMLParagraphElement {
  return h('p', { id, class: 'err' });
}

function setError(control: HTMLElement | null, slot: HTMLElement, text: string): void {
  slot.textContent = text;
  control?.setAttribute('aria-invalid', 'true');
  control?.focus();
}

function clearErrors(scope: HTMLElement): void {
  for (const e of scope.querySelectorAll('.err')) e.textContent = '';
  for (const e of scope.querySelectorAll('[aria-invalid]')) e.removeAttribute('aria-invalid');
}

// Turns a policy term ("30 calendar days", "while_needed") into the page's language.
function term(raw: string): string {
  const fixed = opt(`terms.${raw}`);
  if (fixed) return fixed;
  const m = raw.match(/^(\d+) (.+?)s?$/);
  const unit = m ? `units.${m[2].replace(/ /g, '_')}` : '';
  if (!m || !opt(`${unit}.other`)) return raw;
  return t('term', { n: m[1], unit: t(unit, { n: Number(m[1]) }) });
}

async function busy<T>(button: HTMLButtonElement, label: string, work: () => Promise<T>): Promise<T> {
  const text = button.textContent;
  button.disabled = true;
  button.textContent = label;
  try {
    return await work();
  } finally {
    button.disabled = false;
    button.textContent = text;
  }
}

// ---- school --------------------------------------------------------------------------------------

async function resolveSchool(): Promise<boolean> {
  const given = params.get('school');
  if (given) {
    school = given;
    return true;
  }
  const health = (await (await fetch('/healthz')).json()) as { schools: string[] };
  if (health.schools.length === 1) {
    school = health.schools[0];
    return true;
  }
  // Several schools on this server: the person picks theirs.
  const items = await Promise.all(health.schools.map(async (id) => {
    const r = await fetch(`/v1/schools/${encodeURIComponent(id)}/policy?lang=${lang}`);
    const name = r.ok ? ((await r.json()) as { name: string }).name : id;
    const q = new URLSearchParams({ school: id, lang });
    return h('li', {}, h('a', { href: `/cabinet.html?${q.toString()}` }, name));
  }));
  body.replaceChildren(h('h2', {}, t('chooseSchool')), h('ul', { class: 'links' }, ...items));
  return false;
}

async function loadSchoolName(): Promise<void> {
  try {
    const r = await fetch(`${base()}/policy?lang=${lang}`);
    if (!r.ok) return;
    const info = (await r.json()) as { name: string; time_zone?: string };
    schoolName = info.name;
    fmt = dates(lang, info.time_zone);
  } catch { /* the heading then goes without the school's name */ }
}

// Field titles and consent texts come from the school's forms, in the page's language.
async function loadForms(forms: string[]): Promise<void> {
  await Promise.all(forms.filter((f) => f).map(async (form) => {
    const r = await fetch(`${base()}/forms/${encodeURIComponent(form)}?lang=${lang}`);
    if (!r.ok) return;
    const def = (await r.json()) as FormDef;
    for (const f of def.fields) if (!fieldTitles.has(f.id)) fieldTitles.set(f.id, { title: f.title, type: f.type, max: f.max_length });
    for (const k of def.consents) {
      if (!consentTexts.has(k.consent)) consentTexts.set(k.consent, { text: k.text, procedure: k.withdrawal_procedure });
    }
  }));
}

async function loadFormList(): Promise<void> {
  const r = await fetch(`${base()}/forms?lang=${lang}`);
  if (!r.ok) return;
  const items = ((await r.json()) as { items: { id: string; title: string }[] }).items;
  for (const f of items) formTitles.set(f.id, f.title);
  await loadForms(items.map((f) => f.id));
}

// ---- sign-in -------------------------------------------------------------------------------------

function showSignIn(notice?: string): void {
  data = null;
  const emailId = nextId('email');
  const email = h('input', { id: emailId, name: 'email', type: 'email', autocomplete: 'email', required: true,
    'aria-describedby': `${emailId}-err`, inputmode: 'email' });
  const send = h('button', { type: 'submit' }, t('sendCode'));
  const emailErr = errorSlot(`${emailId}-err`);
  const form = h('form', { class: 'cab-form', novalidate: true, 'aria-labelledby': 'signin-title' },
    h('div', { class: 'row' }, h('label', { for: emailId }, t('email')), email, emailErr), send);
  const section = h('section', { class: 'signin', 'aria-labelledby': 'signin-title' },
    h('h2', { id: 'signin-title', tabindex: '-1' }, t('signInTitle')),
    notice ? h('p', { class: 'note', role: 'alert' }, notice) : null,
    h('p', {}, t('signInIntro')), form);
  body.replaceChildren(section);
  form.addEventListener('submit', async (e) => {
    e.preventDefault();
    clearErrors(form);
    const address = email.value.trim();
    if (!address) return setError(email, emailErr, t('emailMissing'));
    try {
      const r = await busy(send, t('sending'), () => call<{ login: string; expires_in_seconds: number }>('POST', '/me/sign-in', { email: address, lang }));
      showCode(address, r.login, Math.round(r.expires_in_seconds / 60));
    } catch (err) {
      setError(email, emailErr, err instanceof ApiError && err.field === 'email' ? t('emailInvalid') : explain(err));
    }
  });
}

function showCode(address: string, login: string, minutes: number): void {
  const codeId = nextId('code');
  const code = h('input', { id: codeId, name: 'code', type: 'text', inputmode: 'numeric', autocomplete: 'one-time-code',
    maxlength: 6, pattern: '[0-9]{6}', required: true, 'aria-describedby': `${codeId}-sent ${codeId}-hint ${codeId}-err`, class: 'code' });
  const err = errorSlot(`${codeId}-err`);
  const verify = h('button', { type: 'submit' }, t('signIn'));
  const other = h('button', { type: 'button', class: 'secondary' }, t('otherAddress'));
  const form = h('form', { class: 'cab-form', novalidate: true, 'aria-labelledby': 'code-title' },
    h('div', { class: 'row' }, h('label', { for: codeId }, t('code')),
      h('p', { id: `${codeId}-hint`, class: 'hint' }, t('codeHint')), code, err),
    h('div', { class: 'actions' }, verify, other));
  const heading = h('h2', { id: 'code-title', tabindex: '-1' }, t('codeTitle'));
  body.replaceChildren(h('section', { class: 'signin', 'aria-labelledby': 'code-title' }, heading,
    h('p', { id: `${codeId}-sent` }, t('codeSent', { email: address, minutes })), form));
  code.focus();
  other.addEventListener('click', () => {
    showSignIn();
    (body.querySelector('input') as HTMLInputElement | null)?.focus();
  });
  form.addEventListener('submit', async (e) => {
    e.preventDefault();
    clearErrors(form);
    const value = code.value.replace(/\s+/g, '');
    if (!/^\d{6}$/.test(value)) return setError(code, err, t('codeFormat'));
    try {
      session = await busy(verify, t('checking'), () => call<Session>('POST', '/me/sign-in/verify', { login, code: value }));
      announce(t('signedIn'));
      await showCabinet();
      show(currentView(), true);
    } catch (x) {
      setError(code, err, x instanceof ApiError && x.code === 'code_invalid' ? t('codeWrong') : explain(x));
    }
  });
}

async function signOut(button: HTMLButtonElement): Promise<void> {
  try {
    await busy(button, t('signingOut'), () => call('POST', '/me/sign-out', {}));
  } catch (e) {
    if (!(e instanceof ApiError && e.status === 401)) return announce(explain(e));
  }
  session = null;
  showSignIn();
  announce(t('signedOut'));
  (body.querySelector('h2') as HTMLElement | null)?.focus();
}

// ---- the signed-in cabinet -----------------------------------------------------------------------

const views: Partial<Record<View, HTMLElement>> = {};
let nav: HTMLElement | null = null;

async function loadData(): Promise<MeData> {
  [data, marketing] = await Promise.all([call<MeData>('GET', '/me/data'), call<Marketing>('GET', '/me/marketing')]);
  return data;
}

// B06: a representative chooses whose personal account to see: their own (if the school holds
// data about them) or a linked minor's, until the minor comes of age.
function personSwitcher(): HTMLElement | null {
  const people = session?.people ?? [];
  if (!people.some((p) => !p.self)) return null;
  const id = nextId('person');
  const select = h('select', { id, name: 'person' }) as HTMLSelectElement;
  if (!session?.subject) select.append(h('option', { value: '' }, '—'));
  for (const p of people) {
    const label = p.self ? t('personSelf')
      : t('personMinor', { name: p.name || humanId(p.subject), relation: word('relations', p.relation ?? ''),
        until: p.until ? day(p.until) : '—' });
    const o = h('option', { value: p.self ? '' : p.subject }, label) as HTMLOptionElement;
    if (p.subject === session?.subject) o.selected = true;
    select.append(o);
  }
  const go = h('button', { type: 'submit', class: 'secondary' }, t('switchPerson'));
  const err = errorSlot(`${id}-err`);
  const form = h('form', { class: 'cab-person' }, h('label', { for: id }, t('person')), select, go, err);
  form.addEventListener('submit', async (e) => {
    e.preventDefault();
    clearErrors(form);
    try {
      session = await busy(go, t('switchPerson'), () =>
        call<Session>('POST', '/me/acting-for', { subject: select.value || null }));
      await showCabinet();
      announce(t('switched', { name: session?.name || t('personSelf') }));
      show(currentView(), true);
    } catch (x) {
      setError(select, err, explain(x));
    }
  });
  return form;
}

// B06: come of age, the subject confirms or withdraws the consents a representative gave.
function reconsentBanner(): HTMLElement | null {
  if (session?.reconsent?.state !== 'pending' || session.acting_for) return null;
  const confirm = h('button', { type: 'button' }, t('reconsentConfirm'));
  const withdraw = h('button', { type: 'button', class: 'secondary' }, t('reconsentWithdraw'));
  const err = h('p', { class: 'error', role: 'alert' });
  const box = h('section', { class: 'cab-banner', 'aria-labelledby': 'reconsent-title' },
    h('h2', { id: 'reconsent-title' }, t('reconsentTitle')), h('p', {}, t('reconsentText')),
    h('div', { class: 'actions' }, confirm, withdraw), err);
  const decide = async (button: HTMLButtonElement, payload: Record<string, unknown>, done: string) => {
    err.textContent = '';
    try {
      await busy(button, button.textContent ?? '', () => call('POST', '/me/consents/reconfirm', payload));
      await showCabinet();
      announce(done);
    } catch (x) {
      if (x instanceof ApiError && x.code === 'acknowledgement_required' && !payload.acknowledged_warning) {
        // The withdrawal's consequence notice first (R58); a second press acknowledges it.
        err.textContent = consequenceText(x.message);
        payload.acknowledged_warning = true;
        return;
      }
      err.textContent = explain(x);
    }
  };
  confirm.addEventListener('click', () => void decide(confirm, { decision: 'confirm', lang }, t('reconsentConfirmed')));
  const withdrawal: Record<string, unknown> = { decision: 'withdraw', lang };
  withdraw.addEventListener('click', () => void decide(withdraw, withdrawal, t('reconsentWithdrawn')));
  return box;
}

async function showCabinet(): Promise<void> {
  // The session's people, the name to show and any pending re-consent come from GET /me.
  session = await call<Session>('GET', '/me');
  const out = h('button', { type: 'button', class: 'secondary' }, t('signOut'));
  out.addEventListener('click', () => void signOut(out));
  const switcher = personSwitcher();
  if (!session.subject) {
    // A representative with no data of their own: only the choice of whom to act for.
    body.replaceChildren(h('div', { class: 'cab-bar' },
      h('p', {}, t('signedInUntil', { time: when(session.expires_at) })), out),
    h('p', {}, t('chooseMinor')), ...(switcher ? [switcher] : []));
    return;
  }
  await loadData();
  const links = h('ul');
  nav = h('nav', { class: 'cab-nav', 'aria-label': t('sections') }, links);
  for (const v of VIEWS) links.append(h('li', {}, h('a', { href: `#${v}`, 'data-view': v }, t(`views.${v}`))));
  const whose = session.acting_for || session.name
    ? t('actingAs', { name: session.name || humanId(session.subject) }) : t('actingAsSelf');
  const bar = h('div', { class: 'cab-bar' },
    h('p', {}, t('signedInUntil', { time: when(session?.expires_at) })), out);
  body.replaceChildren(bar, h('p', { class: 'cab-whose' }, whose), ...(switcher ? [switcher] : []),
    ...[reconsentBanner()].filter((x): x is HTMLElement => x !== null), nav);
  for (const v of VIEWS) {
    const s = h('section', { id: `view-${v}`, class: 'cab-view', 'aria-labelledby': `h-${v}`, hidden: true });
    views[v] = s;
    body.append(s);
  }
  renderAll();
  show(currentView(), false);
}

function currentView(): View {
  const v = location.hash.slice(1);
  return (VIEWS as readonly string[]).includes(v) ? (v as View) : 'data';
}

function show(view: View, focus: boolean): void {
  for (const v of VIEWS) {
    const s = views[v];
    if (s) s.hidden = v !== view;
  }
  for (const a of nav?.querySelectorAll('a') ?? []) {
    if (a.dataset.view === view) a.setAttribute('aria-current', 'page');
    else a.removeAttribute('aria-current');
  }
  document.title = `${t(`views.${view}`)} — ${t('title')}`;
  if (focus) (views[view]?.querySelector('h2') as HTMLElement | null)?.focus();
}

window.addEventListener('hashchange', () => {
  if (!session || !views.data) return;
  status.textContent = '';
  show(currentView(), true);
});

function renderAll(): void {
  renderData();
  renderConsents();
  renderDownload();
  renderRequests();
  renderProcessing();
}

async function refresh(): Promise<void> {
  await loadData();
  renderAll();
}

function heading(view: View, intro: string): HTMLElement[] {
  return [h('h2', { id: `h-${view}`, tabindex: '-1' }, t(`views.${view}`)), h('p', { class: 'note' }, intro)];
}

// ---- my data -------------------------------------------------------------------------------------

function renderData(): void {
  const s = views.data!;
  const fields = data?.fields ?? [];
  const categories = new Map(list(data?.categories).map((x) => [x.id, x.title]));
  s.replaceChildren(...heading('data', t('dataIntro')));
  if (!fields.length) {
    s.append(h('p', {}, t('noFields')));
    return;
  }
  const ul = h('ul', { class: 'fields' });
  for (const f of fields) ul.append(fieldCard(f, f.category_title || (categories.get(f.category) ?? humanId(f.category))));
  s.append(ul);
}

function fieldCard(f: Field, category: string): HTMLElement {
  const id = `f-${f.field}`;
  const title = fieldTitle(f.field);
  const err = errorSlot(`${id}-err`);
  const value = h('p', { class: 'value', id: `${id}-value` }, f.value || '—');
  const source = `${word('sources', f.source)} · ${word('channels', f.channel)}`;
  const facts = h('dl', { class: 'facts' },
    h('dt', {}, t('category')), h('dd', {}, category),
    h('dt', {}, t('cameFrom')), h('dd', {}, f.form ? `${source} · ${t('form')} ${t('quote', { title: formTitles.get(f.form) ?? humanId(f.form) })}` : source),
    h('dt', {}, t('collectedAt')), h('dd', {}, when(f.collected_at)),
    h('dt', {}, t('stores')), h('dd', {}, (f.kept_in ?? []).map((s) => s.title).join(', ')));
  const li = h('li', { class: 'field', 'data-field': f.field, 'aria-labelledby': `${id}-title` },
    h('h3', { id: `${id}-title` }, title), value, facts);
  const actions = h('div', { class: 'actions' });
  if (f.editable) {
    const edit = h('button', { type: 'button', 'aria-describedby': `${id}-title`, 'data-action': 'edit' }, t('edit'));
    const del = h('button', { type: 'button', class: 'secondary', 'aria-describedby': `${id}-title`, 'data-action': 'delete' }, t('delete'));
    edit.addEventListener('click', () => editField(li, f, value, actions, err));
    del.addEventListener('click', () => confirmDelete(li, f, actions, err));
    actions.append(edit, del);
  } else {
    actions.append(h('p', { class: 'hint' }, t('notEditable'), ' ', h('a', { href: '#requests' }, t('askRectification'))));
  }
  li.append(actions, err);
  return li;
}

function editField(li: HTMLElement, f: Field, value: HTMLElement, actions: HTMLElement, err: HTMLElement): void {
  clearErrors(li);
  const id = `f-${f.field}-input`;
  const meta = fieldTitles.get(f.field);
  const type = meta?.type === 'email' ? 'email' : meta?.type === 'phone' ? 'tel' : 'text';
  const input = h('input', { id, name: f.field, type, value: f.value, 'aria-describedby': err.id,
    maxlength: meta?.max || null, autocomplete: 'off' });
  const save = h('button', { type: 'submit' }, t('save'));
  const cancel = h('button', { type: 'button', class: 'secondary' }, t('cancel'));
  const form = h('form', { class: 'cab-form edit', novalidate: true },
    h('label', { for: id }, t('newValue', { field: fieldTitle(f.field) })), input,
    h('div', { class: 'actions' }, save, cancel));
  value.hidden = true;
  actions.hidden = true;
  value.after(form);
  input.focus();
  const close = () => {
    form.remove();
    value.hidden = false;
    actions.hidden = false;
    (actions.querySelector('[data-action=edit]') as HTMLElement | null)?.focus();
  };
  cancel.addEventListener('click', () => { clearErrors(li); close(); });
  form.addEventListener('keydown', (e) => { if (e.key === 'Escape') { clearErrors(li); close(); } });
  form.addEventListener('submit', async (e) => {
    e.preventDefault();
    clearErrors(li);
    try {
      await busy(save, t('saving'), () => call('PATCH', '/me', { [f.field]: input.value.trim() }));
      await refresh();
      announce(t('saved', { field: fieldTitle(f.field) }));
      (views.data?.querySelector(`[data-field="${CSS.escape(f.field)}"] [data-action=edit]`) as HTMLElement | null)?.focus();
    } catch (x) {
      setError(input, err, explain(x));
    }
  });
}

function confirmDelete(li: HTMLElement, f: Field, actions: HTMLElement, err: HTMLElement): void {
  clearErrors(li);
  const yes = h('button', { type: 'button', class: 'danger' }, t('confirmDelete'));
  const no = h('button', { type: 'button', class: 'secondary' }, t('keep'));
  const box = h('div', { class: 'confirm', role: 'group', 'aria-label': t('deleteQuestion', { field: fieldTitle(f.field) }) },
    h('p', {}, t('deleteQuestion', { field: fieldTitle(f.field) })), h('div', { class: 'actions' }, yes, no));
  actions.hidden = true;
  actions.after(box);
  no.focus();
  const close = () => {
    box.remove();
    actions.hidden = false;
    (actions.querySelector('[data-action=delete]') as HTMLElement | null)?.focus();
  };
  no.addEventListener('click', close);
  box.addEventListener('keydown', (e) => { if (e.key === 'Escape') close(); });
  yes.addEventListener('click', async () => {
    try {
      await busy(yes, t('deleting'), () => call('DELETE', `/me/fields/${encodeURIComponent(f.field)}`));
      await refresh();
      announce(t('deleted', { field: fieldTitle(f.field) }));
      (views.data?.querySelector('h2') as HTMLElement | null)?.focus();
    } catch (x) {
      close();
      err.textContent = explain(x);
    }
  });
}

// ---- consents ------------------------------------------------------------------------------------

function consentTitle(id: string): string {
  return list(data?.consents).find((e) => e.consent === id && e.title)?.title ?? consentTexts.get(id)?.text ?? humanId(id);
}

function renderConsents(): void {
  const s = views.consents!;
  const ledger = list(data?.consents);
  s.replaceChildren(...heading('consents', t('consentsIntro')));
  s.append(renderMarketing());
  if (!ledger.length) {
    s.append(h('p', {}, t('noConsents')));
    return;
  }
  // An entry about marketing purposes alone (an opt-in or opt-out) says which.
  const marketingTitles = new Map((marketing?.purposes ?? []).map((p) => [p.purpose, p.title]));
  const ul = h('ul', { class: 'ledger' });
  for (const e of ledger) {
    const only = e.grants.length > 0 && e.grants.every((g) => marketingTitles.has(g));
    ul.append(h('li', { 'data-consent': e.consent, 'data-action': e.action, 'data-grants': e.grants.join(' ') },
      h('p', { class: 'what' }, h('strong', {}, word('actions', e.action)), ' · ', when(e.at)),
      h('p', {}, consentTitle(e.consent)),
      only ? h('p', { class: 'only' }, t('mkOnly', { purposes: e.grants.map((g) => marketingTitles.get(g)).join(', ') })) : null,
      h('p', { class: 'hint' }, `${t('channel')}: ${word('channels', e.channel)} · ${t('policyVersion')}: ${e.policy_version}`)));
  }
  s.append(h('h3', {}, t('ledger')), ul);

  // What is in force: per consent, the grants its entries left in force (an opt-out of marketing
  // withdraws one grant and leaves the rest of the consent).
  const inForce = new Map<string, Set<string>>();
  const latest = new Map<string, ConsentEntry>();
  for (const e of ledger) {
    const set = inForce.get(e.consent) ?? new Set<string>();
    for (const g of e.grants) {
      if (e.action === 'grant') set.add(g);
      else set.delete(g);
    }
    inForce.set(e.consent, set);
    latest.set(e.consent, e);
  }
  const active = [...latest.values()].filter((e) => (inForce.get(e.consent)?.size ?? 0) > 0);
  const box = h('div', { class: 'withdraw' }, h('h3', { id: 'withdraw-title' }, t('withdrawTitle')));
  s.append(box);
  if (!active.length) {
    box.append(h('p', {}, t('nothingToWithdraw')));
    return;
  }
  const legendId = nextId('withdraw-legend');
  const errId = nextId('withdraw-err');
  const group = h('fieldset', { class: 'checks', 'aria-describedby': errId }, h('legend', { id: legendId }, t('withdrawWhich')));
  for (const e of active) {
    const id = nextId('w');
    group.append(h('div', { class: 'check' },
      h('input', { id, type: 'checkbox', name: 'consent', value: e.consent, checked: active.length === 1 }),
      h('label', { for: id }, consentTitle(e.consent)),
    ));
  }
  const err = errorSlot(errId);
  const go = h('button', { type: 'submit', class: 'danger' }, t('withdraw'));
  const form = h('form', { class: 'cab-form', novalidate: true, 'aria-labelledby': 'withdraw-title' }, group,
    h('p', { class: 'hint' }, t('withdrawHere')), err, go);
  box.append(form);
  form.addEventListener('submit', async (e) => {
    e.preventDefault();
    clearErrors(box);
    box.querySelector('.consequence')?.remove();
    const chosen = [...group.querySelectorAll<HTMLInputElement>('input:checked')].map((i) => i.value);
    if (!chosen.length) return setError(group.querySelector('input'), err, t('chooseConsent'));
    const all = chosen.length === active.length;
    // Withdrawing every consent asks for all of them, so the policy's "withdraw all" effects apply.
    const payload: Record<string, unknown> = all ? { lang } : { consents: chosen, lang };
    try {
      const r = await busy(go, t('sending'), () => call<RequestRow>('POST', '/me/withdraw', payload));
      await withdrawn(r);
    } catch (x) {
      if (x instanceof ApiError && x.code === 'acknowledgement_required') {
        askAcknowledgement(form, x.message, WITHDRAWAL_TEXTS, async () =>
          withdrawn(await call<RequestRow>('POST', '/me/withdraw', { ...payload, acknowledged_warning: true })));
      } else {
        setError(group.querySelector('input'), err, explain(x));
      }
    }
  });
}

// Marketing preferences (GET/PUT /me/marketing): per marketing purpose of the policy, its
// channels and its state as the gate sees it; opting out withdraws that consent at once (R53),
// opting in records a consent with the wording shown and the policy's version.
function renderMarketing(): HTMLElement {
  const box = h('section', { class: 'marketing', 'aria-labelledby': 'mk-title' },
    h('h3', { id: 'mk-title', tabindex: '-1' }, t('mkTitle')));
  const purposes = marketing?.purposes ?? [];
  if (!purposes.length) {
    box.append(h('p', {}, t('mkNone')));
    return box;
  }
  box.append(h('p', { class: 'note' }, t('mkIntro')));
  const ul = h('ul', { class: 'mk-list' });
  for (const p of purposes) ul.append(marketingItem(p));
  box.append(ul);
  return box;
}

function marketingItem(p: MarketingPurpose): HTMLElement {
  const stateText = word('mkStates', p.state);
  const reason = p.state === 'stopped' ? word('mkReasons', p.reason) : '';
  const since = p.since && (p.state === 'in' || p.state === 'out') ? ` ${t('mkSince', { time: when(p.since) })}` : '';
  const errId = nextId('mk-err');
  const err = errorSlot(errId);
  const li = h('li', { class: 'mk-item', 'data-purpose': p.purpose, 'data-state': p.state },
    h('h4', {}, p.title),
    p.description ? h('p', {}, p.description) : null,
    p.channels.length ? h('p', { class: 'hint' }, `${t('mkBy')}: ${p.channels.map((m) => word('mkMedia', m)).join(', ')}`) : null,
    h('p', { class: `mk-state mk-${p.state}` }, h('strong', {}, stateText), since, reason ? ` (${reason})` : ''));
  const actions = h('div', { class: 'actions' });
  li.append(actions, err);
  if (p.consent_active) {
    const stop = h('button', { type: 'button', class: 'danger', 'aria-describedby': errId }, t('mkOptOut'));
    stop.addEventListener('click', async () => {
      clearErrors(li);
      try {
        await busy(stop, t('sending'), () => call('PUT', '/me/marketing', { purpose: p.purpose, opt_in: false, lang }));
        await marketingChanged(p.purpose, t('mkOptedOut', { title: p.title }));
      } catch (x) {
        setError(stop, err, explain(x));
      }
    });
    actions.append(stop);
  } else if (p.consent && (p.state === 'never' || p.state === 'out')) {
    // Only where a consent is what is missing: a purpose stopped for another reason (restricted
    // processing, an upheld objection, a minor, an account being closed) stays stopped after an
    // opt-in, so the page offers none and its state line says why.
    const start = h('button', { type: 'button', 'aria-describedby': errId, 'aria-expanded': 'false' }, t('mkOptIn'));
    start.addEventListener('click', () => {
      start.hidden = true;
      start.setAttribute('aria-expanded', 'true');
      li.querySelector('.mk-wording')?.remove();
      const titleId = nextId('mk-wording');
      const yes = h('button', { type: 'submit' }, t('mkConfirmIn'));
      const back = h('button', { type: 'button', class: 'secondary' }, t('cancel'));
      const panel = h('form', { class: 'cab-form mk-wording', novalidate: true, 'aria-labelledby': titleId },
        h('h5', { id: titleId, tabindex: '-1' }, t('mkWordingTitle')),
        h('p', {}, t('mkWordingIntro', { version: marketing?.policy_version ?? '' })),
        h('blockquote', { class: 'notice-text', lang }, p.text),
        // This page is where it is withdrawn: it says so, rather than the policy's other ways.
        h('p', { class: 'hint' }, h('strong', {}, `${t('mkProcedure')}: `), t('mkWithdrawHere')),
        h('div', { class: 'actions' }, yes, back));
      li.insertBefore(panel, err);
      (panel.querySelector('h5') as HTMLElement).focus();
      back.addEventListener('click', () => {
        panel.remove();
        start.hidden = false;
        start.setAttribute('aria-expanded', 'false');
        start.focus();
      });
      panel.addEventListener('submit', async (e) => {
        e.preventDefault();
        clearErrors(li);
        try {
          await busy(yes, t('sending'), () => call('PUT', '/me/marketing', { purpose: p.purpose, opt_in: true, lang }));
          await marketingChanged(p.purpose, t('mkOptedIn', { title: p.title }));
        } catch (x) {
          setError(yes, err, explain(x));
        }
      });
    });
    actions.append(start);
  } else if (p.state === 'in') {
    actions.append(h('p', { class: 'hint' }, t('mkNoConsent')));
  }
  return li;
}

async function marketingChanged(purpose: string, text: string): Promise<void> {
  await refresh();
  const item = views.consents?.querySelector<HTMLElement>(`.mk-item[data-purpose="${CSS.escape(purpose)}"]`);
  item?.prepend(h('p', { class: 'done' }, text));
  announce(text);
  (views.consents?.querySelector('#mk-title') as HTMLElement | null)?.focus();
}

// The 409 carries the policy's consequence notice, one line per language (uk, ru, en).
function consequenceText(message: string): string {
  const lines = message.split('\n').map((l) => l.trim()).filter((l) => l);
  const order: Lang[] = ['uk', 'ru', 'en'];
  return lines.length === 3 ? lines[order.indexOf(lang)] : message;
}

// The words around a consequence notice: its heading, the tick box and the button that sends.
interface AckTexts { title: string; acknowledge: string; confirm: string }
const WITHDRAWAL_TEXTS: AckTexts = { title: 'consequenceTitle', acknowledge: 'acknowledge', confirm: 'confirmWithdraw' };
const ERASURE_TEXTS: AckTexts = { title: 'erasureConsequenceTitle', acknowledge: 'acknowledgeErasure', confirm: 'confirmErasure' };

// R58: the policy's notice of what follows (the 409's message) in place of `form` (after it), with
// a tick box; `send` files again with acknowledged_warning once it is ticked. Cancel brings the form back.
function askAcknowledgement(form: HTMLFormElement, message: string, texts: AckTexts,
  send: () => Promise<void>): void {
  form.hidden = true;
  const ackId = nextId('ack');
  const errId = `${ackId}-err`;
  const titleId = `${ackId}-title`;
  const ack = h('input', { id: ackId, type: 'checkbox', 'aria-describedby': errId });
  const confirm = h('button', { type: 'submit', class: 'danger' }, t(texts.confirm));
  const back = h('button', { type: 'button', class: 'secondary' }, t('cancel'));
  const err = errorSlot(errId);
  const panel = h('form', { class: 'cab-form consequence', novalidate: true, 'aria-labelledby': titleId },
    h('h4', { id: titleId, tabindex: '-1' }, t(texts.title)),
    h('p', { class: 'notice-text', lang }, consequenceText(message)),
    h('div', { class: 'check' }, ack, h('label', { for: ackId }, t(texts.acknowledge))), err,
    h('div', { class: 'actions' }, confirm, back));
  form.after(panel);
  (panel.querySelector('h4') as HTMLElement).focus();
  back.addEventListener('click', () => {
    panel.remove();
    form.hidden = false;
    (form.querySelector('input, select') as HTMLElement | null)?.focus();
  });
  panel.addEventListener('submit', async (e) => {
    e.preventDefault();
    clearErrors(panel);
    if (!ack.checked) return setError(ack, err, t('acknowledgeFirst'));
    try {
      await busy(confirm, t('sending'), send);
    } catch (x) {
      setError(ack, err, explain(x));
    }
  });
}

async function withdrawn(r: RequestRow): Promise<void> {
  await refresh();
  const text = t('withdrawn', { id: r.id });
  views.consents!.querySelector('.withdraw')?.prepend(h('p', { class: 'done' }, text));
  announce(text);
  (views.consents?.querySelector('h2') as HTMLElement | null)?.focus();
}

// ---- download and transfer ----------------------------------------------------------------------

function renderDownload(): void {
  const s = views.download!;
  s.replaceChildren(...heading('download', t('downloadIntro')));
  const link = (format: string, label: string) =>
    h('a', { class: 'button', href: `${base()}/me/export?format=${format}&lang=${lang}`, download: `my-data.${format}` }, label);
  s.append(h('div', { class: 'actions' }, link('json', t('downloadJson')), link('csv', t('downloadCsv'))));

  const urlId = nextId('dest');
  const input = h('input', { id: urlId, name: 'destination_url', type: 'url', inputmode: 'url', placeholder: 'https://',
    autocomplete: 'url', 'aria-describedby': `${urlId}-hint ${urlId}-err` });
  const err = errorSlot(`${urlId}-err`);
  const send = h('button', { type: 'submit' }, t('sendData'));
  const result = h('p', { class: 'done', role: 'status' });
  const form = h('form', { class: 'cab-form', novalidate: true, 'aria-labelledby': 'transfer-title' },
    h('div', { class: 'row' }, h('label', { for: urlId }, t('destination')),
      h('p', { id: `${urlId}-hint`, class: 'hint' }, t('destinationHint')), input, err), send, result);
  s.append(h('h3', { id: 'transfer-title' }, t('transferTitle')), h('p', {}, t('transferIntro')), form);
  form.addEventListener('submit', async (e) => {
    e.preventDefault();
    clearErrors(form);
    result.textContent = '';
    const url = input.value.trim();
    if (!/^https:\/\/\S+$/.test(url)) return setError(input, err, t('errors.destination_url'));
    try {
      const r = await busy(send, t('sending'), () => call<RequestRow>('POST', '/me/export', { destination_url: url, lang }));
      result.textContent = t('transferred', { id: r.id });
      await refresh();
    } catch (x) {
      setError(input, err, x instanceof ApiError && x.field === 'destination_url' ? t('errors.destination_url') : explain(x));
    }
  });
}

// ---- requests ------------------------------------------------------------------------------------

const REQUEST_TYPES = ['access', 'rectification', 'erasure', 'restriction', 'objection', 'marketing_objection',
  'portability', 'information', 'automated_decision_review', 'complaint'] as const;

function requestItem(r: RequestRow): HTMLElement {
  return h('li', { class: 'request', 'data-request': r.id, 'data-state': r.state },
    h('h4', {}, word('types', r.type), ' ', h('span', { class: 'hint' }, `(${r.id})`)),
    h('dl', { class: 'facts' },
      h('dt', {}, t('state')), h('dd', { class: 'state' }, word('states', r.state)),
      h('dt', {}, t('received')), h('dd', {}, when(r.received_at)),
      r.closed_at ? h('dt', {}, t('closed')) : h('dt', {}, t('due')),
      r.closed_at ? h('dd', {}, when(r.closed_at)) : h('dd', { class: 'due' }, day(r.due_at), r.overdue ? ` — ${t('overdue')}` : ''),
      r.outcome ? h('dt', {}, t('outcome')) : null, r.outcome ? h('dd', {}, word('outcomes', r.outcome)) : null));
}

function renderRequests(): void {
  const s = views.requests!;
  const rows = data?.requests ?? [];
  s.replaceChildren(...heading('requests', t('requestsIntro')));
  s.append(h('h3', {}, t('requestList')));
  s.append(rows.length ? h('ul', { class: 'requests' }, ...rows.map(requestItem)) : h('p', {}, t('noRequests')));

  const typeId = nextId('type');
  const type = h('select', { id: typeId, name: 'type', 'aria-describedby': `${typeId}-hint ${typeId}-err` },
    ...REQUEST_TYPES.map((type) => h('option', { value: type }, word('types', type))));
  const typeErr = errorSlot(`${typeId}-err`);
  const typeHint = h('p', { id: `${typeId}-hint`, class: 'hint' }, t('typeHints.access'));

  // The grounds the policy lists for the chosen type (erasure, R49), by their titles; shown only
  // for a type that has them.
  const groundId = nextId('ground');
  const ground = h('select', { id: groundId, name: 'ground', 'aria-describedby': `${groundId}-hint ${groundId}-err` });
  const groundErr = errorSlot(`${groundId}-err`);
  const groundRow = h('div', { class: 'row ground', hidden: true },
    h('label', { for: groundId }, t('ground')), h('p', { id: `${groundId}-hint`, class: 'hint' }, t('groundHint')), ground, groundErr);
  const groundsOf = (which: string) => data?.grounds?.[which] ?? [];
  const showGrounds = () => {
    const listed = groundsOf(type.value);
    ground.replaceChildren(h('option', { value: '' }, t('groundChoose')),
      ...listed.map((g) => h('option', { value: g.id }, g.title)));
    groundRow.hidden = listed.length === 0;
  };
  showGrounds();
  type.addEventListener('change', () => {
    typeHint.textContent = opt(`typeHints.${type.value}`) ?? '';
    clearErrors(groundRow);
    showGrounds();
  });

  const fieldsErr = errorSlot(nextId('fields-err'));
  const fields = h('fieldset', { class: 'checks', 'aria-describedby': fieldsErr.id, 'data-name': 'fields' },
    h('legend', {}, t('whichFields')));
  for (const f of data?.fields ?? []) {
    const id = nextId('rf');
    fields.append(h('div', { class: 'check' }, h('input', { id, type: 'checkbox', name: 'fields', value: f.field }), h('label', { for: id }, fieldTitle(f.field))));
  }
  const purposesErr = errorSlot(nextId('purposes-err'));
  const purposes = h('fieldset', { class: 'checks', 'aria-describedby': purposesErr.id, 'data-name': 'purposes' },
    h('legend', {}, t('whichPurposes')));
  for (const p of list(data?.purposes)) {
    const id = nextId('rp');
    purposes.append(h('div', { class: 'check' }, h('input', { id, type: 'checkbox', name: 'purposes', value: p.id }), h('label', { for: id }, p.title)));
  }
  const stId = nextId('statement');
  const statement = h('textarea', { id: stId, name: 'statement', rows: 4, maxlength: 10000, 'aria-describedby': `${stId}-err` });
  const stErr = errorSlot(`${stId}-err`);
  const summary = h('p', { class: 'err', role: 'alert' });
  const file = h('button', { type: 'submit' }, t('fileRequest'));
  const form = h('form', { class: 'cab-form', novalidate: true, 'aria-labelledby': 'new-request-title' },
    h('div', { class: 'row' }, h('label', { for: typeId }, t('requestType')), typeHint, type, typeErr),
    groundRow,
    fields, fieldsErr,
    list(data?.purposes).length ? purposes : null, purposesErr,
    h('div', { class: 'row' }, h('label', { for: stId }, t('statement')), statement, stErr),
    summary, file);
  s.append(h('h3', { id: 'new-request-title' }, t('newRequest')), form);

  const filed = async (r: RequestRow) => {
    await refresh();
    const text = t('filed', { type: word('types', r.type), due: day(r.due_at) });
    const title = views.requests?.querySelector('h2') as HTMLElement | null;
    views.requests?.querySelector('.requests, h3 + p')?.before(h('p', { class: 'done' }, text));
    announce(text);
    title?.focus();
  };
  form.addEventListener('submit', async (e) => {
    e.preventDefault();
    clearErrors(form);
    s.querySelector('.consequence')?.remove();
    const picked = (name: string) => [...form.querySelectorAll<HTMLInputElement>(`input[name=${name}]:checked`)].map((i) => i.value);
    const payload: Record<string, unknown> = { type: type.value, lang };
    // The server decides whether the ground is one the policy lists (R49) and says which are.
    if (groundsOf(type.value).length && ground.value) payload.ground = ground.value;
    if (picked('fields').length) payload.fields = picked('fields');
    if (picked('purposes').length) payload.purposes = picked('purposes');
    if (statement.value.trim()) payload.statement = statement.value.trim();
    try {
      await filed(await busy(file, t('sending'), () => call<RequestRow>('POST', '/me/requests', payload)));
    } catch (x) {
      // R58: what follows an erasure is acknowledged before the request is sent.
      if (x instanceof ApiError && x.code === 'acknowledgement_required') {
        askAcknowledgement(form, x.message, ERASURE_TEXTS, async () =>
          filed(await call<RequestRow>('POST', '/me/requests', { ...payload, acknowledged_warning: true })));
        return;
      }
      const f = x instanceof ApiError ? x.field : '';
      const target: Record<string, [HTMLElement | null, HTMLElement]> = {
        type: [type, typeErr], ground: [ground, groundErr], fields: [fields.querySelector('input'), fieldsErr],
        purposes: [purposes.querySelector('input'), purposesErr], statement: [statement, stErr],
      };
      const [control, slot] = target[f] ?? (x instanceof ApiError && x.code === 'right_not_offered' ? target.type : [null, summary]);
      setError(control, slot, explain(x));
    }
  });
}

// ---- what is done with my data ---------------------------------------------------------------

function renderProcessing(): void {
  const s = views.processing!;
  s.replaceChildren(...heading('processing', t('processingIntro')));
  const purposes = list(data?.purposes);
  const retention = new Map(list(data?.retention).map((r) => [r.purpose, r.term]));
  s.append(h('h3', {}, t('purposes')));
  s.append(purposes.length
    ? h('ul', { class: 'plain purposes' }, ...purposes.map((p) => h('li', {},
      h('strong', {}, p.title),
      h('span', { class: 'hint' }, ` — ${t('basis')}: ${word('bases', p.basis)}`),
      retention.has(p.id) ? h('span', { class: 'hint' }, `; ${t('keptFor')}: ${term(retention.get(p.id)!)}`) : null)))
    : h('p', {}, t('none')));

  const cats = list(data?.categories);
  s.append(h('h3', {}, t('categories')), cats.length ? h('ul', { class: 'plain' }, ...cats.map((x) => h('li', {}, x.title))) : h('p', {}, t('none')));

  const safeguards = new Map(list(data?.transfer_safeguards).map((x) => [x.recipient, x.safeguard]));
  const recipients = list(data?.recipients);
  s.append(h('h3', {}, t('recipients')), recipients.length
    ? h('ul', { class: 'plain recipients' }, ...recipients.map((r) => h('li', {},
      h('strong', {}, r.title), h('span', { class: 'hint' }, ` — ${word('kinds', r.kind)}`),
      r.countries.length ? h('span', { class: 'hint' }, `; ${t('countries')}: ${r.countries.join(', ')}`) : null,
      safeguards.has(r.id) ? h('span', { class: 'hint' }, `; ${t('safeguard')}: ${word('safeguards', safeguards.get(r.id)!)}`) : null)))
    : h('p', {}, t('none')));

  s.append(h('h3', {}, t('automated')),
    h('p', { class: 'automated' }, data?.automated_decisions ? t('automatedYes') : t('automatedNo')),
    h('p', { class: 'profiling' }, data?.profiling ? t('profilingYes') : t('profilingNo')));
  const q = new URLSearchParams({ school, lang });
  s.append(h('p', {}, h('a', { href: `/notice.html?${q.toString()}` }, t('fullNotice'))));
}

// ---- start ---------------------------------------------------------------------------------------

async function run(): Promise<void> {
  main.append(h('h1', { id: 'cab-title' }, t('title')), status, body);
  try {
    if (!(await resolveSchool())) return ready();
    // The school's name, its forms (for field titles) and the session, all at once.
    const me = call<Session>('GET', '/me').catch((e) => {
      if (e instanceof ApiError && e.status === 401) return null;
      throw e;
    });
    [, , session] = await Promise.all([loadSchoolName(), loadFormList(), me]);
    if (schoolName) main.querySelector('h1')!.textContent = `${t('title')}: ${schoolName}`;
    if (session) await showCabinet();
    else showSignIn();
  } catch {
    body.replaceChildren(h('p', { role: 'alert' }, t('loadError')));
  }
  ready();
}

void run();
