// The embeddable form: a school puts
//   <div data-dovira-form="FORM_ID" data-school="ID" data-lang="uk"></div>
//   <script src="https://dovira.example/form.js" async></script>
// on its own site. The script renders the policy's form (fields, required marks, the unticked
// consent check-boxes with their exact texts) from GET /v1/schools/{school}/forms/{form}, posts it
// to the form's submissions endpoint, and shows the receipt, or the server's error next to the
// field it names.
import { h } from '../common/dom';
import { detectLang, type Lang } from '../common/i18n';
import { T, type Texts } from './messages';
import css from './form.css?inline';

interface Field { id: string; type: string; title: string; required: boolean; max_length: number; values?: string[] }
interface Checkbox { id: string; consent: string; text: string; required: boolean }
interface FormDef {
  id: string; school: string; title: string; accept_policy: boolean; age_statement: boolean;
  age_threshold: number; fields: Field[]; consents: Checkbox[]; notice: string; submit: string;
}
interface ApiError { error?: { code?: string; field?: string | null; message?: string } }
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

function control(f: Field, id: string, t: Texts): HTMLElement {
  const common = { id, name: f.id, required: f.required, 'aria-required': f.required ? 'true' : null,
    'aria-describedby': `${id}-err`, autocomplete: AUTOCOMPLETE[f.id] ?? null };
  if (f.type === 'enum' && f.values) {
    return h('select', common, h('option', { value: '' }, t.choose), ...f.values.map((v) => h('option', { value: v }, v)));
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
  const summary = h('p', { class: 'summary', role: 'alert' });
  const form = h('form', { class: 'dovira-form', novalidate: true, lang, 'aria-labelledby': `${uid}-title` },
    h('h3', { id: `${uid}-title` }, def.title),
    h('p', { class: 'note' }, t.requiredNote),
    summary);
  const shown = def.fields.filter((f) => f.type !== 'file' && f.type !== 'ip');
  for (const f of shown) {
    const id = `${uid}-${f.id}`;
    const input = f.type === 'boolean'
      ? h('input', { id, name: f.id, type: 'checkbox', value: 'true', 'aria-describedby': `${id}-err` })
      : control(f, id, t);
    form.append(h('div', { class: `row${f.type === 'boolean' ? ' check' : ''}`, 'data-field': f.id },
      h('label', { for: id }, f.title, f.required ? mark() : null, f.required ? h('span', { class: 'sr' }, ` (${t.required})`) : null),
      input, errorSlot(id)));
  }
  if (def.age_statement) {
    const id = `${uid}-age`;
    const radio = (value: string, text: string) => h('label', { class: 'opt' },
      h('input', { type: 'radio', name: 'age_statement', value, required: true }), ' ', text.replace('{n}', String(def.age_threshold)));
    form.append(h('fieldset', { class: 'row', 'data-field': 'age_statement', 'aria-describedby': `${id}-err` },
      h('legend', {}, t.age, mark(), h('span', { class: 'sr' }, ` (${t.required})`)),
      radio('adult', t.adult), radio('minor', t.minor), errorSlot(id)));
  }
  for (const c of def.consents) {
    const id = `${uid}-c-${c.id}`;
    form.append(h('div', { class: 'row check', 'data-field': c.id, 'data-consent': true, 'data-required': c.required },
      h('input', { id, type: 'checkbox', name: 'consent', value: c.id, required: c.required, 'aria-describedby': `${id}-err` }),
      h('label', { for: id }, c.text, c.required ? mark() : null, c.required ? h('span', { class: 'sr' }, ` (${t.required})`) : null),
      errorSlot(id)));
  }
  if (def.accept_policy) {
    const id = `${uid}-accept`;
    form.append(h('div', { class: 'row check', 'data-field': 'accept_policy' },
      h('input', { id, type: 'checkbox', name: 'accept_policy', required: true, 'aria-describedby': `${id}-err ${id}-link` }),
      h('label', { for: id }, t.accept, mark(), h('span', { class: 'sr' }, ` (${t.required})`)),
      h('p', { id: `${id}-link`, class: 'link' }, h('a', { href: new URL(def.notice, server).toString(), target: '_blank', rel: 'noopener' }, t.notice)),
      errorSlot(id)));
  }
  const button = h('button', { type: 'submit' }, t.submit);
  form.append(button);
  mount.replaceChildren(form);

  const clear = () => {
    summary.textContent = '';
    for (const e of form.querySelectorAll('.err')) e.textContent = '';
    for (const e of form.querySelectorAll('[aria-invalid]')) e.removeAttribute('aria-invalid');
  };
  const showError = (err: ApiError['error']) => {
    const field = err?.field ?? '';
    // "consents" names the check-boxes as a group: the first required one left unticked.
    const consentRow = field === 'consents'
      ? form.querySelector('[data-consent][data-required]:has(input:not(:checked))') ?? form.querySelector('[data-consent]')
      : null;
    const row = (consentRow ?? (field && (form.querySelector(`[data-field="${CSS.escape(field)}"]`)
      ?? form.querySelector(`[data-field^="${CSS.escape(field.split('.')[0])}"]`)))) as HTMLElement | null;
    const slot = row?.querySelector('.err');
    if (row && slot) {
      slot.textContent = err?.message ?? t.fix;
      const input = row.querySelector('input, select, textarea') as HTMLElement | null;
      input?.setAttribute('aria-invalid', 'true');
      summary.textContent = t.fix;
      input?.focus();
    } else {
      summary.textContent = err?.message ?? t.failed;
    }
  };

  form.addEventListener('submit', async (e) => {
    e.preventDefault();
    clear();
    const fields: Record<string, string> = {};
    for (const f of shown) {
      const el = form.elements.namedItem(f.id) as HTMLInputElement | null;
      if (!el) continue;
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
    button.textContent = t.sending;
    try {
      const r = await fetch(new URL(def.submit, server), {
        method: 'POST', headers: { 'Content-Type': 'application/json' }, body: JSON.stringify(body),
      });
      const data = (await r.json().catch(() => ({}))) as Receipt & ApiError;
      if (r.status === 201) {
        showReceipt(mount, data, t);
        return;
      }
      showError(data.error);
    } catch {
      summary.textContent = t.failed;
    }
    button.disabled = false;
    button.textContent = t.submit;
  });
}

function showReceipt(mount: HTMLElement, r: Receipt, t: Texts): void {
  const dl = h('dl', {},
    h('dt', {}, t.record), h('dd', { class: 'subject' }, r.subject),
    h('dt', {}, t.version), h('dd', {}, r.policy_version),
    h('dt', {}, t.at), h('dd', {}, r.at));
  for (const c of r.consents) dl.append(h('dt', {}, t.consent), h('dd', {}, c.text));
  const box = h('div', { class: 'dovira-form receipt', role: 'status', tabindex: '-1' },
    h('p', { class: 'thanks' }, t.thanks), h('h3', {}, t.receipt), dl);
  mount.replaceChildren(box);
  box.focus();
}

async function mountOne(mount: HTMLElement): Promise<void> {
  if (mount.dataset.doviraMounted) return;
  mount.dataset.doviraMounted = 'true';
  addStyles();
  const lang = detectLang(mount.dataset.lang);
  const t = T[lang];
  const school = mount.dataset.school ?? '';
  const form = mount.dataset.doviraForm ?? '';
  try {
    const r = await fetch(`${server}/v1/schools/${encodeURIComponent(school)}/forms/${encodeURIComponent(form)}?lang=${lang}`);
    if (!r.ok) throw new Error(String(r.status));
    render(mount, (await r.json()) as FormDef, lang, t);
    mount.dispatchEvent(new CustomEvent('dovira:form-ready', { bubbles: true }));
  } catch {
    mount.replaceChildren(h('p', { class: 'dovira-form err', role: 'alert' }, t.loadFailed));
  }
}

function mountAll(): void {
  for (const el of document.querySelectorAll<HTMLElement>('[data-dovira-form]')) void mountOne(el);
}

mountAll();
if (document.readyState === 'loading') document.addEventListener('DOMContentLoaded', mountAll, { once: true });
