// Finding a subject (#/subjects, POST /subject-search): the staff member states a purpose (those
// of their role first; the gate refuses the others) and an e-mail address or phone number; the
// answer shows only the fields the gate releases for that purpose and role, or the gate's refusal
// with its status (403 a purpose the role may not use or a missing consent, 423 restricted data,
// 404 nobody on file). Every search is an audited read with its purpose, and the view says so.
// From a result: file a request for the subject, or open the subject's requests.
import { h } from '../../common/dom';
import { ApiError, post, type SearchResult } from '../api';
import type { App } from '../app';
import { hasText } from '../i18n';
import { holdsSection } from './holds';
import { ApiForm, facts, table, value } from '../ui';

export async function subjectsView(app: App, root: HTMLElement): Promise<void> {
  const { tr: t, lang, settings } = app;
  const role = settings.roles.find((r) => r.id === app.session.role);
  const mine = new Set(role?.purposes ?? []);
  const label = (p: { id: string; title: string }) => p.title || app.purposeTitle(p.id);

  const form = new ApiForm(lang, { submit: t('sSearch'), className: 'subject-search' });
  const purpose = form.addField({ label: t('sPurpose'), name: 'purpose', type: 'select', hint: t('sPurposeHint'), required: true }) as HTMLSelectElement;
  const ours = h('optgroup', { label: t('sRolePurposes') });
  const others = h('optgroup', { label: t('sOtherPurposes') });
  for (const p of settings.purposes) (mine.has(p.id) ? ours : others).append(h('option', { value: p.id }, label(p)));
  purpose.append(ours);
  if (others.children.length) purpose.append(others);
  form.addField({ label: t('sBy'), name: 'by', type: 'select', options: [['email', t('sByEmail')], ['phone', t('sByPhone')]], value: 'email' });
  const input = form.addField({ label: t('sValue'), name: 'value', autocomplete: 'off', required: true }) as HTMLInputElement;
  const by = form.el.elements.namedItem('by') as HTMLSelectElement;
  const syncType = () => {
    input.type = by.value === 'email' ? 'email' : 'tel';
    input.inputMode = by.value === 'email' ? 'email' : 'tel';
  };
  by.addEventListener('change', syncType);
  syncType();

  const result = h('section', { class: 'search-result', 'aria-labelledby': 'result-title', hidden: true });
  form.onSubmit(async (f) => {
    result.hidden = true;
    result.replaceChildren();
    const body: Record<string, string> = { purpose: value(f, 'purpose') };
    body[value(f, 'by')] = value(f, 'value');
    try {
      const r = await post<SearchResult>(`${app.base}/subject-search`, body);
      showAllowed(app, result, r);
      await showHolds(app, result, r.subject);
    } catch (e) {
      if (e instanceof ApiError && typeof e.detail.decision_id === 'string') {
        showRefused(app, result, e);
        await showHolds(app, result, typeof e.detail.subject === 'string' ? e.detail.subject : null);
        return;
      }
      // A malformed address or number is the value control's error.
      if (e instanceof ApiError && (e.field === 'email' || e.field === 'phone')) {
        throw new ApiError(e.status, e.code, e.message, 'value', e.detail);
      }
      throw e;
    }
    return undefined;
  });

  root.append(
    h('h1', {}, t('subjectsTitle')),
    h('p', {}, t('subjectsIntro')),
    h('p', { class: 'note logged' }, t('sLogged')),
    form.el,
    result,
  );
}

// The subject's legal holds, for roles that decide requests (the API refuses the others).
async function showHolds(app: App, box: HTMLElement, subject: string | null): Promise<void> {
  if (!subject || !app.decidesRequests) return;
  box.append(await holdsSection(app, subject, await app.clock()));
}

function heading(app: App, text: string): HTMLElement {
  return h('h2', { id: 'result-title', tabindex: '-1' }, text || app.tr('sResultTitle'));
}

function subjectLinks(app: App, subject: string | null): HTMLElement | null {
  if (!subject) return null;
  const q = new URLSearchParams({ subject });
  return h('div', { class: 'actions' },
    h('a', { class: 'button', href: `#/requests/new?${q}` }, app.tr('sFileRequest')),
    app.decidesRequests
      ? h('a', { class: 'button secondary', href: `#/requests?${new URLSearchParams({ subject, scope: 'all' })}` }, app.tr('sOpenRequests'))
      : null);
}

function showAllowed(app: App, box: HTMLElement, r: SearchResult): void {
  const t = app.tr;
  const rows = Object.entries(r.fields).map(([id, v]) => [app.fieldTitle(id), v]);
  // R44: what the subject added to a released field in their own words, beside the values.
  const statements = Object.entries(r.statements ?? {}).map(([id, text]) => [app.fieldTitle(id), text]);
  box.replaceChildren(
    heading(app, t('sResultTitle')),
    h('p', { class: 'result-summary', role: 'status' }, t('sAllowed', { purpose: app.purposeTitle(r.purpose) })),
    facts([[t('sSubject'), r.subject ? h('code', {}, r.subject) : null]]),
    rows.length ? table(t('sResultTitle'), [t('sField'), t('sFieldValue')], rows, 'released') : h('p', { class: 'empty' }, t('sNoFields')),
  );
  if (statements.length) box.append(table(t('sStatements'), [t('sField'), t('sStatement')], statements, 'statements'));
  box.append(h('p', { class: 'note audited', 'data-decision': r.decision_id }, t('sRecorded')));
  const links = subjectLinks(app, r.subject);
  if (links) box.append(links);
  box.hidden = false;
  box.querySelector<HTMLElement>('h2')?.focus();
}

function showRefused(app: App, box: HTMLElement, e: ApiError): void {
  const t = app.tr;
  const subject = typeof e.detail.subject === 'string' ? e.detail.subject : null;
  const decision = String(e.detail.decision_id);
  box.replaceChildren(
    heading(app, t('sRefused', { status: e.status })),
    h('p', { class: 'form-error refusal', role: 'alert', 'data-reason': e.code },
      hasText(`sRefusals.${e.code}`) ? t(`sRefusals.${e.code}`) : e.message),
    facts([[t('sSubject'), subject ? h('code', {}, subject) : null]]),
    h('p', { class: 'note audited', 'data-decision': decision }, t('sRecorded')),
  );
  const links = subjectLinks(app, subject);
  if (links) box.append(links);
  box.hidden = false;
  box.querySelector<HTMLElement>('h2')?.focus();
}
