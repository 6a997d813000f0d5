// Filing a request received through any channel (#/requests/new, POST /requests): the types the
// policy offers with their terms, the subject or the requester's address, the channel and the
// time of receipt on that channel (the term runs from it, R35), the ground among those the
// policy lists for the type (R49), and what the type needs. A subject found in #/subjects arrives
// as #/requests/new?subject=ID, already filled in.
import { h } from '../../common/dom';
import { LANGS, LANG_NAMES } from '../../common/i18n';
import { post, type RequestFull } from '../api';
import type { App } from '../app';
import { schoolWallTimeToIso, zoneName } from '../format';
import { ApiForm, checked, selected, value } from '../ui';

const CHANNELS = ['email', 'support', 'written', 'phone', 'personal_account', 'web'];

export async function newRequestView(app: App, root: HTMLElement, params = new URLSearchParams()): Promise<void> {
  const { tr: t, lang, settings } = app;
  const form = new ApiForm(lang, { submit: t('fileBtn'), className: 'file-request' });
  const types = settings.request_types.map((r): [string, string] => [r.type, t(r.source === 'default' ? 'nTypeOptionDefault' : 'nTypeOption', { name: app.typeName(r.type), term: app.term(r.term) })]);
  const type = form.addField({ label: t('nType'), name: 'type', type: 'select', options: types, required: true });
  // The grounds the policy lists for the chosen type (erasure, restriction), by their titles;
  // the row is there only for a type that has them.
  const ground = form.addField({ label: t('nGround'), name: 'ground', type: 'select', hint: t('nGroundHint') }) as HTMLSelectElement;
  const groundRow = ground.closest<HTMLElement>('.row')!;
  const showGrounds = () => {
    const listed = settings.request_types.find((r) => r.type === type.value)?.grounds ?? [];
    ground.replaceChildren(h('option', { value: '' }, t('nGroundChoose')),
      ...listed.map((g) => h('option', { value: g.id }, g.title)));
    groundRow.hidden = listed.length === 0;
  };
  showGrounds();
  type.addEventListener('change', showGrounds);
  form.addField({ label: t('nSubject'), name: 'subject', hint: t('nSubjectHint'), autocomplete: 'off', value: params.get('subject') ?? undefined });
  form.addField({ label: t('nEmail'), name: 'email', type: 'email', autocomplete: 'off' });
  // A letter to an address not on file needs a role that decides requests (the API refuses it).
  if (app.decidesRequests) form.addField({ label: t('nReplyEmail'), name: 'reply_email', type: 'email', autocomplete: 'off' });
  form.addField({ label: t('nChannel'), name: 'channel', type: 'select', options: CHANNELS.map((c): [string, string] => [c, app.code('channels', c)]), value: 'email', required: true });
  form.addField({ label: t('nFiledBy'), name: 'filed_by', type: 'select', options: ['subject', 'representative', 'staff'].map((f): [string, string] => [f, t(`filedBy.${f}`)]), value: 'subject' });
  form.addField({ label: t('nReceived'), name: 'received_at', type: 'datetime-local', hint: t('nReceivedHint') });
  form.addField({ label: t('nLang'), name: 'lang', type: 'select', options: LANGS.map((l): [string, string] => [l, LANG_NAMES[l]]), value: lang });

  // What only some types need, folded away.
  const more = h('details', { class: 'more' }, h('summary', {}, t('nOptional')));
  const moreForm = new ApiForm(lang, { submit: '' });
  const fields = moreForm.addField({ label: t('nFields'), name: 'fields', type: 'select', multiple: true, size: 6,
    options: settings.fields.map((f): [string, string] => [f.id, f.title || app.fieldTitle(f.id)]) });
  const purposes = moreForm.addField({ label: t('nPurposes'), name: 'purposes', type: 'select', multiple: true, size: 6,
    options: settings.purposes.map((p): [string, string] => [p.id, p.title || app.purposeTitle(p.id)]) });
  void fields;
  void purposes;
  moreForm.addField({ label: t('nStatement'), name: 'statement', type: 'textarea' });
  moreForm.addField({ label: t('nDestination'), name: 'destination_url', type: 'url', hint: t('nDestinationHint') });
  moreForm.addField({ label: t('nAck'), name: 'acknowledged_warning', type: 'checkbox' });
  moreForm.addField({ label: t('nEvidence'), name: 'evidence_supplied', type: 'checkbox' });
  more.append(...Array.from(moreForm.body.children));
  form.add(more);

  form.onSubmit(async (f) => {
    const body: Record<string, unknown> = {
      type: value(f, 'type'),
      channel: value(f, 'channel'),
      filed_by: value(f, 'filed_by'),
      lang: value(f, 'lang'),
    };
    for (const k of ['subject', 'email', 'reply_email', 'ground', 'statement', 'destination_url']) {
      if (value(f, k)) body[k] = value(f, k);
    }
    const received = value(f, 'received_at');
    if (received) body.received_at = schoolWallTimeToIso(settings.time_zone, received);
    const fl = selected(f, 'fields');
    const pl = selected(f, 'purposes');
    if (fl.length) body.fields = fl;
    if (pl.length) body.purposes = pl;
    if (checked(f, 'acknowledged_warning')) body.acknowledged_warning = true;
    if (checked(f, 'evidence_supplied')) body.evidence_supplied = true;
    const r = await post<RequestFull>(`${app.base}/requests`, body);
    if (app.decidesRequests) {
      app.go(`#/requests/${encodeURIComponent(r.id)}`);
      return;
    }
    // Filed for colleagues who decide requests: this role does not open the request itself.
    root.replaceChildren(h('h1', {}, t('newTitle')), h('p', { class: 'step-status', role: 'status' }, t('filedForColleagues')));
  });
  root.append(h('h1', {}, t('newTitle')), h('p', {}, t('newIntro')), h('p', { class: 'meta' }, t('schoolTime', { tz: zoneName(lang, settings.time_zone) })), form.el);
}
