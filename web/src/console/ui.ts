// The console's building blocks: labelled form fields whose server errors appear next to them,
// forms that post to the API and show its answer, data tables that turn into cards on a phone,
// and the small status marks (badges) of the queue.
import { h } from '../common/dom';
import type { Lang } from '../common/i18n';
import { ApiError } from './api';
import { consoleText, hasText } from './i18n';

let ids = 0;
export const uid = (prefix: string) => `${prefix}-${++ids}`;

// The text to show for an API error: the console's own words for the codes it knows, the
// server's message otherwise (in the reader's language, and it names the problem exactly).
export function errorText(lang: Lang, e: unknown): string {
  const t = consoleText(lang);
  if (!(e instanceof ApiError)) return t('loadError');
  if (e.code === 'acknowledgement_required') {
    // The policy's consequence notice, one line per language (uk, ru, en).
    const lines = e.message.split('\n');
    return lines[{ uk: 0, ru: 1, en: 2 }[lang] ?? 0] ?? e.message;
  }
  if (hasText(`errors.${e.code}`)) return t(`errors.${e.code}`);
  return e.message || t('loadError');
}

export interface FieldSpec {
  label: string;
  name: string;
  type?: string;  // text (default), email, password, number, datetime-local, textarea, select, checkbox
  value?: string;
  hint?: string;
  required?: boolean;
  options?: [string, string][];
  autocomplete?: string;
  inputmode?: string;
  multiple?: boolean;
  size?: number;
}

export type Control = HTMLInputElement | HTMLSelectElement | HTMLTextAreaElement;

// One labelled control with its hint and its error slot. The server's errors name the request
// member (error.field): the control of that name shows it.
export function field(lang: Lang, spec: FieldSpec): { row: HTMLElement; control: Control } {
  const id = uid(`f-${spec.name.replace(/[^a-z0-9_-]/gi, '')}`);
  const hintId = spec.hint ? `${id}-hint` : null;
  const errId = `${id}-err`;
  const describedBy = [hintId, errId].filter(Boolean).join(' ');
  let control: Control;
  if (spec.type === 'textarea') {
    control = h('textarea', { id, name: spec.name, rows: 3, 'aria-describedby': describedBy });
    control.value = spec.value ?? '';
  } else if (spec.type === 'select') {
    control = h('select', { id, name: spec.name, 'aria-describedby': describedBy, multiple: spec.multiple ?? false, size: spec.size });
    for (const [value, label] of spec.options ?? []) {
      control.append(h('option', { value, selected: value === spec.value }, label));
    }
  } else {
    control = h('input', {
      id,
      name: spec.name,
      type: spec.type ?? 'text',
      value: spec.type === 'checkbox' ? 'true' : spec.value,
      autocomplete: spec.autocomplete,
      inputmode: spec.inputmode,
      'aria-describedby': describedBy,
    });
  }
  if (spec.required) control.setAttribute('aria-required', 'true');
  const label = h('label', { for: id }, spec.label, spec.required ? h('span', { class: 'req' }, ` ${consoleText(lang)('required')}`) : null);
  const err = h('p', { class: 'err', id: errId, hidden: true });
  const hint = hintId ? h('p', { class: 'hint', id: hintId }, spec.hint ?? '') : null;
  const row = spec.type === 'checkbox'
    ? h('div', { class: 'row check', 'data-field': spec.name }, control, label, hint, err)
    : h('div', { class: 'row', 'data-field': spec.name }, label, hint, control, err);
  return { row, control };
}

// A form that posts to the API: busy while waiting, the server's error next to the control it
// names (or above the button), and the outcome announced in its status line.
export class ApiForm {
  readonly el: HTMLFormElement;
  readonly body: HTMLElement;
  private readonly alert: HTMLElement;
  private readonly status: HTMLElement;
  private readonly button: HTMLButtonElement;

  constructor(
    private readonly lang: Lang,
    opts: { title?: string; submit: string; className?: string; danger?: boolean },
  ) {
    const titleId = opts.title ? uid('form-title') : null;
    this.el = h('form', { class: `api-form ${opts.className ?? ''}`.trim(), novalidate: true, 'aria-labelledby': titleId });
    if (opts.title) this.el.append(h('h3', { id: titleId }, opts.title));
    this.body = h('div', { class: 'fields' });
    this.alert = h('p', { class: 'form-error', role: 'alert', hidden: true });
    this.status = h('p', { class: 'form-status', role: 'status' });
    this.button = h('button', { type: 'submit', class: opts.danger ? 'danger' : '' }, opts.submit);
    this.el.append(this.body, this.alert, h('div', { class: 'actions' }, this.button), this.status);
  }

  add(...rows: (HTMLElement | null | false)[]): this {
    for (const r of rows) if (r) this.body.append(r);
    return this;
  }

  addField(spec: FieldSpec): Control {
    const f = field(this.lang, spec);
    this.body.append(f.row);
    return f.control;
  }

  clearErrors(): void {
    this.alert.hidden = true;
    this.alert.textContent = '';
    this.status.textContent = '';
    for (const row of this.el.querySelectorAll<HTMLElement>('.row')) {
      const err = row.querySelector<HTMLElement>('.err');
      if (err) {
        err.hidden = true;
        err.textContent = '';
      }
      row.querySelector('[aria-invalid]')?.removeAttribute('aria-invalid');
    }
  }

  // Shows `text` next to the control named `name` (a member of the request body), else above the
  // button. Moves focus to the control in error so a keyboard user lands on it.
  showError(text: string, name: string | null): void {
    const row = name ? this.findRow(name) : null;
    if (row) {
      row.closest('details')?.setAttribute('open', '');
      const err = row.querySelector<HTMLElement>('.err')!;
      err.textContent = text;
      err.hidden = false;
      const control = row.querySelector<HTMLElement>('input, select, textarea');
      control?.setAttribute('aria-invalid', 'true');
      control?.focus();
      return;
    }
    this.alert.textContent = text;
    this.alert.hidden = false;
  }

  private findRow(name: string): HTMLElement | null {
    const rows = Array.from(this.el.querySelectorAll<HTMLElement>('.row[data-field]'));
    return rows.find((r) => r.dataset.field === name) ?? rows.find((r) => r.dataset.field?.startsWith(`${name}.`)) ?? null;
  }

  say(text: string): void {
    this.status.textContent = text;
  }

  onSubmit(fn: (form: HTMLFormElement) => Promise<string | void>): this {
    this.el.addEventListener('submit', async (ev) => {
      ev.preventDefault();
      if (this.button.disabled) return;
      this.clearErrors();
      this.button.disabled = true;
      this.el.setAttribute('aria-busy', 'true');
      try {
        const done = await fn(this.el);
        if (typeof done === 'string') this.say(done);
      } catch (e) {
        this.showError(errorText(this.lang, e), e instanceof ApiError ? e.field : null);
      } finally {
        this.button.disabled = false;
        this.el.removeAttribute('aria-busy');
      }
    });
    return this;
  }
}

export function value(form: HTMLFormElement, name: string): string {
  const el = form.elements.namedItem(name) as Control | null;
  return el ? el.value.trim() : '';
}

export function checked(form: HTMLFormElement, name: string): boolean {
  const el = form.elements.namedItem(name) as HTMLInputElement | null;
  return !!el?.checked;
}

export function selected(form: HTMLFormElement, name: string): string[] {
  const el = form.elements.namedItem(name) as HTMLSelectElement | null;
  return el ? Array.from(el.selectedOptions).map((o) => o.value) : [];
}

export type Cell = Node | string | null | undefined;

// A data table; on a narrow screen each row becomes a card whose cells carry their column name.
export function table(caption: string, headers: string[], rows: Cell[][], className = ''): HTMLElement {
  const head = h('tr');
  for (const c of headers) head.append(h('th', { scope: 'col' }, c));
  const body = h('tbody');
  for (const r of rows) {
    const tr = h('tr');
    r.forEach((cell, i) => tr.append(h('td', { 'data-label': headers[i] }, cell ?? '')));
    body.append(tr);
  }
  return h('div', { class: `table-wrap ${className}`.trim() },
    h('table', { class: 'data' }, h('caption', {}, caption), h('thead', {}, head), body));
}

export function badge(kind: 'overdue' | 'urgent' | 'warning' | 'ok' | 'muted', text: string): HTMLElement {
  return h('span', { class: `badge badge-${kind}` }, text);
}

// A description list of label → value pairs; empty values are left out.
export function facts(pairs: [string, Cell][]): HTMLElement {
  const dl = h('dl', { class: 'facts' });
  for (const [k, v] of pairs) {
    if (v === null || v === undefined || v === '') continue;
    dl.append(h('div', {}, h('dt', {}, k), h('dd', {}, v)));
  }
  return dl;
}

export function loading(lang: Lang): HTMLElement {
  return h('p', { class: 'loading', role: 'status' }, consoleText(lang)('loading'));
}

export function failure(text: string): HTMLElement {
  return h('p', { class: 'form-error', role: 'alert' }, text);
}

// Asks before a step that cannot be undone (destroying data, refusing a request, revoking access):
// a modal dialog that says in plain words what will happen, with "Cancel" (the default, and what
// Escape does) and a button that names the action. Resolves true only on that button.
export function confirmAction(lang: Lang, opts: { title: string; text: string; confirm: string }): Promise<boolean> {
  const t = consoleText(lang);
  const titleId = uid('confirm-title');
  const textId = uid('confirm-text');
  const cancel = h('button', { type: 'button', class: 'secondary', value: 'cancel' }, t('cancel'));
  const ok = h('button', { type: 'button', class: 'danger', value: 'confirm' }, opts.confirm);
  const dialog = h('dialog', { class: 'confirm', 'aria-labelledby': titleId, 'aria-describedby': textId },
    h('h2', { id: titleId }, opts.title),
    h('p', { id: textId }, opts.text),
    h('div', { class: 'actions' }, cancel, ok));
  document.body.append(dialog);
  return new Promise((resolve) => {
    let answer = false;
    dialog.addEventListener('close', () => {
      dialog.remove();
      resolve(answer);
    });
    cancel.addEventListener('click', () => dialog.close());
    ok.addEventListener('click', () => {
      answer = true;
      dialog.close();
    });
    dialog.showModal();
    cancel.focus();
  });
}
