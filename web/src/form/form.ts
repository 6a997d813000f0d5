// The embeddable form: a school puts
//   <div data-dovira-form="FORM_ID" data-school="ID" data-lang="uk"></div>
//   <script src="https://dovira.example/form.js" async></script>
// on its own site. The script renders the policy's form (fields, required marks, the unticked
// consent check-boxes with their exact texts) from GET /v1/schools/{school}/forms/{form}, posts it
// to the form's submissions endpoint in the page's language, and shows the receipt, or every
// problem the server found, each next to the field it names and all of them in a summary. The
// representative's fields are shown (and sent) only when the age answer needs them (R24). Its
// texts are i18n/form/<lang>.json.
import { h } from '../common/dom';
import { detectLang, fill, type Lang } from '../common/i18n';
import uk from '../../../i18n/form/uk.json';
import ru from '../../../i18n/form/ru.json';
import en from '../../../i18n/form/en.json';
import css from './form.css?inline';

type Key = keyof typeof en;
type Texts = (key: Key, args?: Record<string, string | number>) => string;
const CATALOGUES: Record<Lang, Record<Key, string>> = { uk, ru, en };
const texts = (lang: Lang): Texts => (key, args) => fill(CATALOGUES[lang][key] ?? en[key], args);
// An enum value's name where the catalogue has one (a representative's relation), else the value.
const valueName = (lang: Lang, v: string): string => (CATALOGUES[lang] as Record<string, string>)[`value.${v}`] ?? v;

interface Field { id: string; type: string; title: string; required: boolean; max_length: number; values?: string[] }
interface Checkbox { id: string; consent: string; text: string; required: boolean }
interface Minors { rule: string; threshold: number; birth_date_field: string; accepted: boolean; representative_fields: string[] }
interface FormDef {
  id: string; school: string; title: string; accept_policy: boolean; age_statement: boolean;
  age_threshold: number; fields: Field[]; consents: Checkbox[]; notice: string; submit: string;
  minors?: Minors; one_of?: string[][];
}
interface Problem { code?: string; field?: string | null; message?: string; args?: Record<string, string> }
interface ApiError { error?: Problem; errors?: Problem[] }
interface Receipt { subject: string; policy_version: string; at: string; consents: { id: string; consent: string; text: string; at: string }[] }

const me = document.currentScript as HTMLScriptElement | null;
const server = me?.dataset.server || (me?.src ? new URL(me.src).origin : location.origin);
const AUTOCOMPLETE: Record<string, string> = {
  first_name: 'given-name', last_name: 'family-name', patronymic: 'additional-name',
  email: 'email', mobile_phone: 'tel', phone: 'tel', address: 'street-address',
};
let sheetAdded = false;

function addStyles(): void {
  if (sheetAdded) return;
  sheetAdded = true;
  try {
    const sheet = new CSSStyleSheet();
    sheet.replaceSync(css);
    document.adoptedStyleSheets = [...document.adoptedStyleSheets, sheet];
  } catch {
    document.head.append(h('style', {}, css));
  }
}

function control(f: Field, id: string, lang: Lang, t: Texts): HTMLElement {
  const common = { id, name: f.id, required: f.required, 'aria-required': f.required ? 'true' : null,
    'aria-describedby': `${id}-err`, autocomplete: AUTOCOMPLETE[f.id] ?? null };
  if (f.type === 'enum' && f.values) {
    return h('select', common, h('option', { value: '' }, t('choose')), ...f.values.map((v) => h('option', { value: v }, valueName(lang, v))));
  }
  if (f.type === 'text') return h('textarea', { ...common, maxlength: f.max_length || null, rows: 3 });
  const types: Record<string, [string, string | null]> = {
    email: ['email', null], phone: ['tel', null], date: ['date', null], datetime: ['datetime-local', null],
    url: ['url', null], integer: ['text', 'numeric'], decimal: ['text', 'decimal'],
  };
  const [type, inputmode] = types[f.type] ?? ['text', null];
  return h('input', { ...common, type, inputmode, maxlength: f.max_length || null });
}

function render(mount: HTMLElement, def: FormDef, lang: Lang, t: Texts): void {
  const uid = `dovira-${def.id}-${Math.random().toString(36).slice(2, 7)}`;
  const mark = () => h('span', { class: 'req', 'aria-hidden': 'true' }, ' *');
  const errorSlot = (id: string) => h('p', { id: `${id}-err`, class: 'err' });
  const summary = h('div', { class: 'summary', role: 'alert' });
  const form = h('form', { class: 'dovira-form', novalidate: true, lang, 'aria-labelledby': `${uid}-title` },
    h('h3', { id: `${uid}-title` }, def.title),
    h('p', { class: 'note' }, t('required_note')),
    summary);
  const shown = def.fields.filter((f) => f.type !== 'file' && f.type !== 'ip');
  // Groups of which at least one field must be given (R08: e-mail or phone), by their titles.
  const titleOf = new Map(def.fields.map((f) => [f.id, f.title]));
  for (const group of def.one_of ?? []) {
    form.insertBefore(h('p', { class: 'note', 'data-one-of': group.join(' ') },
      t('one_of', { fields: group.map((id) => `«${titleOf.get(id) ?? ''}»`).join(', ') })), summary);
  }
  // The representative's fields go into their own group, shown only for a person under age.
  const minors = def.minors;
  const guardianIds = new Set(minors?.accepted ? minors.representative_fields : []);
  const guardian = h('fieldset', { class: 'guardian', hidden: true },
    h('legend', {}, t('guardian_title')),
    h('p', { class: 'note' }, t('guardian_note', { n: minors?.threshold ?? def.age_threshold })));
  for (const f of shown) {
    const id = `${uid}-${f.id}`;
    const input = f.type === 'boolean'
      ? h('input', { id, name: f.id, type: 'checkbox', value: 'true', 'aria-describedby': `${id}-err` })
      : control(f, id, lang, t);
    // A representative's field is needed whenever it is shown.
    const required = f.required || guardianIds.has(f.id);
    if (required) input.setAttribute('aria-required', 'true');
    (guardianIds.has(f.id) ? guardian : form).append(h('div', { class: `row${f.type === 'boolean' ? ' check' : ''}`, 'data-field': f.id },
      h('label', { for: id }, f.title, required ? mark() : null, required ? h('span', { class: 'sr' }, ` (${t('required')})`) : null),
      input, errorSlot(id)));
  }
  if (guardian.querySelector('.row')) form.append(guardian);
  if (def.age_statement) {
    const id = `${uid}-age`;
    const radio = (value: string, text: string) => h('label', { class: 'opt' },
      h('input', { type: 'radio', name: 'age_statement', value, required: true }), ' ', text);
    const n = { n: def.age_threshold };
    const ages = h('fieldset', { class: 'row', 'data-field': 'age_statement', 'aria-describedby': `${id}-err` },
      h('legend', {}, t('age'), mark(), h('span', { class: 'sr' }, ` (${t('required')})`)),
      radio('adult', t('adult', n)), radio('minor', t('minor', n)), errorSlot(id));
    // Before the representative's group, which follows the answer.
    form.insertBefore(ages, guardian.parentNode === form ? guardian : null);
  }
  for (const c of def.consents) {
    const id = `${uid}-c-${c.id}`;
    form.append(h('div', { class: 'row check', 'data-consent': c.id, 'data-required': c.required },
      h('input', { id, type: 'checkbox', name: 'consent', value: c.id, required: c.required, 'aria-describedby': `${id}-err` }),
      h('label', { for: id }, c.text, c.required ? mark() : null, c.required ? h('span', { class: 'sr' }, ` (${t('required')})`) : null),
      errorSlot(id)));
  }
  if (def.accept_policy) {
    const id = `${uid}-accept`;
    form.append(h('div', { class: 'row check', 'data-field': 'accept_policy' },
      h('input', { id, type: 'checkbox', name: 'accept_policy', required: true, 'aria-describedby': `${id}-err ${id}-link` }),
      h('label', { for: id }, t('accept'), mark(), h('span', { class: 'sr' }, ` (${t('required')})`)),
      h('p', { id: `${id}-link`, class: 'link' }, h('a', { href: new URL(def.notice, server).toString(), target: '_blank', rel: 'noopener' }, t('notice'))),
      errorSlot(id)));
  }
  const button = h('button', { type: 'submit' }, t('submit'));
  form.append(button);
  mount.replaceChildren(form);

  // Whether the age answer needs the representative's permission: "I am under N", or a birth
  // date less than N years ago.
  const needsGuardian = (): boolean => {
    if (!minors?.accepted) return false;
    if (minors.rule === 'self_declaration') {
      return form.querySelector<HTMLInputElement>('input[name=age_statement]:checked')?.value === 'minor';
    }
    if (minors.rule === 'birth_date' && minors.birth_date_field) {
      const v = (form.elements.namedItem(minors.birth_date_field) as HTMLInputElement | null)?.value ?? '';
      const m = /^(\d{4})-(\d{2})-(\d{2})$/.exec(v);
      if (!m) return false;
      const now = new Date();
      const majority = new Date(Number(m[1]) + minors.threshold, Number(m[2]) - 1, Number(m[3]));
      return now < majority;
    }
    return false;
  };
  const updateGuardian = () => { guardian.hidden = !needsGuardian(); };
  form.addEventListener('change', updateGuardian);
  form.addEventListener('input', updateGuardian);

  const clear = () => {
    summary.replaceChildren();
    for (const e of form.querySelectorAll('.err')) e.textContent = '';
    for (const e of form.querySelectorAll('[aria-invalid]')) e.removeAttribute('aria-invalid');
  };
  // The row a problem belongs to: its field, or for "consents" the check-box it names.
  const rowOf = (p: Problem): HTMLElement | null => {
    const field = p.field ?? '';
    if (field === 'consents' && p.args?.consent) {
      return form.querySelector(`[data-consent="${CSS.escape(p.args.consent)}"]`);
    }
    if (!field) return null;
    return form.querySelector(`[data-field="${CSS.escape(field)}"]`);
  };
  const showErrors = (data: ApiError) => {
    const problems = data.errors?.length ? data.errors : data.error ? [data.error] : [];
    const list = h('ul', {});
    let first: HTMLElement | null = null;
    for (const p of problems) {
      const message = p.message || t('failed');
      list.append(h('li', {}, message));
      const row = rowOf(p);
      const slot = row && !row.closest('[hidden]') ? row.querySelector('.err') : null;
      if (!row || !slot) continue;
      slot.textContent = slot.textContent ? `${slot.textContent} ${message}` : message;
      const input = row.querySelector('input, select, textarea') as HTMLElement | null;
      input?.setAttribute('aria-invalid', 'true');
      first ??= input;
    }
    summary.replaceChildren(h('p', {}, problems.length ? t('fix') : t('failed')), list);
    (first ?? summary).focus?.();
  };

  form.addEventListener('submit', async (e) => {
    e.preventDefault();
    clear();
    const fields: Record<string, string> = {};
    for (const f of shown) {
      const el = form.elements.namedItem(f.id) as HTMLInputElement | null;
      // A hidden field (the representative's, for an adult) is not sent.
      if (!el || el.closest('[hidden]')) continue;
      const v = f.type === 'boolean' ? (el.checked ? 'true' : '') : el.value.trim();
      if (v) fields[f.id] = v;
    }
    const consents = Array.from(form.querySelectorAll<HTMLInputElement>('input[name=consent]:checked')).map((c) => c.value);
    const body: Record<string, unknown> = { fields, consents, lang };
    if (def.accept_policy) body.accept_policy = (form.querySelector('input[name=accept_policy]') as HTMLInputElement).checked;
    if (def.age_statement) {
      const age = form.querySelector<HTMLInputElement>('input[name=age_statement]:checked');
      if (age) body.age_statement = age.value;
    }
    button.disabled = true;
    button.textContent = t('sending');
    try {
      const url = new URL(def.submit, server);
      url.searchParams.set('lang', lang);
      const r = await fetch(url, {
        method: 'POST', headers: { 'Content-Type': 'application/json' }, body: JSON.stringify(body),
      });
      const data = (await r.json().catch(() => ({}))) as Receipt & ApiError;
      if (r.status === 201) {
        showReceipt(mount, data, lang, t);
        return;
      }
      showErrors(data);
    } catch {
      summary.replaceChildren(h('p', {}, t('failed')));
    }
    button.disabled = false;
    button.textContent = t('submit');
  });
}

function showReceipt(mount: HTMLElement, r: Receipt, lang: Lang, t: Texts): void {
  // The time in the reader's language (the machine-readable instant stays in the datetime).
  const at = new Date(r.at);
  const when = Number.isNaN(at.getTime()) ? r.at
    : at.toLocaleString({ uk: 'uk-UA', ru: 'ru-RU', en: 'en-GB' }[lang], { dateStyle: 'long', timeStyle: 'short' });
  const dl = h('dl', {},
    h('dt', {}, t('record')), h('dd', { class: 'subject' }, r.subject),
    h('dt', {}, t('version')), h('dd', {}, r.policy_version),
    h('dt', {}, t('at')), h('dd', {}, h('time', { datetime: r.at }, when)));
  for (const c of r.consents) dl.append(h('dt', {}, t('consent')), h('dd', {}, c.text));
  const box = h('div', { class: 'dovira-form receipt', role: 'status', tabindex: '-1' },
    h('p', { class: 'thanks' }, t('thanks')), h('h3', {}, t('receipt')), dl);
  mount.replaceChildren(box);
  box.focus();
}

async function mountOne(mount: HTMLElement): Promise<void> {
  if (mount.dataset.doviraMounted) return;
  mount.dataset.doviraMounted = 'true';
  addStyles();
  const lang = detectLang(mount.dataset.lang);
  const t = texts(lang);
  const school = mount.dataset.school ?? '';
  const form = mount.dataset.doviraForm ?? '';
  try {
    const r = await fetch(`${server}/v1/schools/${encodeURIComponent(school)}/forms/${encodeURIComponent(form)}?lang=${lang}`);
    if (!r.ok) throw new Error(String(r.status));
    render(mount, (await r.json()) as FormDef, lang, t);
    mount.dispatchEvent(new CustomEvent('dovira:form-ready', { bubbles: true }));
  } catch {
    mount.replaceChildren(h('p', { class: 'dovira-form err', role: 'alert' }, t('load_failed')));
  }
}

function mountAll(): void {
  for (const el of document.querySelectorAll<HTMLElement>('[data-dovira-form]')) void mountOne(el);
}

mountAll();
if (document.readyState === 'loading') document.addEventListener('DOMContentLoaded', mountAll, { once: true });
