// One request (#/requests/{id}): its facts, the due date and where its term comes from, the
// per-store and per-recipient confirmations (B03), the timeline, the messages sent, and the steps
// that remain, each a form that posts to POST /requests/{id}/{step} and shows the server's error
// next to the control it names.
import { h } from '../../common/dom';
import { isLang, LANG_NAMES } from '../../common/i18n';
import { get, post, type RequestFull } from '../api';
import { type App, humanize } from '../app';
import { civilDate, type Clock, date, dateTime, schoolWallTimeToIso } from '../format';
import { ApiError } from '../api';
import { ApiForm, badge, checked, confirmAction, type Control, errorText, facts, table, value } from '../ui';
import { timeLeft } from './queue';

const OPEN = new Set(['received', 'awaiting_identity', 'awaiting_evidence', 'in_progress']);
const PACKAGE_RIGHTS = new Set(['access', 'information', 'transfer_info', 'portability']);

function list(items: string[], name: (s: string) => string): string {
  return items.map(name).join(', ');
}

// A basis as written: a law of the policy by its title, anything else (an extension's free text)
// as it is.
function basisText(app: App, basis: string): string {
  return app.settings.laws.find((l) => l.id === basis)?.title ?? basis;
}

// What the request keeps instead of erasing, as the server records it ("<fields>: <purposes>",
// "<fields>: legal hold <id> (<law>, until <day>)", "all: <law>"), in titles.
function keptText(app: App, clock: Clock, kept: string): string {
  const t = app.tr;
  const sep = kept.indexOf(': ');
  if (sep < 0) return kept;
  const head = kept.slice(0, sep);
  const rest = kept.slice(sep + 2);
  const fields = head === 'all' ? t('keptAll') : list(head.split(', '), app.fieldTitle);
  const hold = /^legal hold \S+ \((.*), until (\d{4}-\d{2}-\d{2})\)$/.exec(rest);
  if (hold) return t('keptHold', { fields, basis: basisText(app, hold[1]), until: civilDate(clock, hold[2]) });
  if (head === 'all') return t('keptBasis', { fields, basis: basisText(app, rest) });
  return t('keptPurposes', { fields, purposes: list(rest.split(', '), app.purposeTitle) });
}

// A timeline entry's details in words: known members by their label and value, instants in the
// school's time, the rest as the API gives them.
async function detailText(app: App, clock: Clock, detail: Record<string, unknown>): Promise<string> {
  const t = app.tr;
  const iso = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}/;
  const parts: string[] = [];
  for (const [k, v] of Object.entries(detail ?? {})) {
    if (v === null || v === '' || (Array.isArray(v) && v.length === 0)) continue;
    const text = Array.isArray(v) ? v.join(', ') : String(v);
    const value = typeof v === 'string' && iso.test(v) ? dateTime(clock, v)
      : typeof v === 'string' && /^\d{4}-\d{2}-\d{2}$/.test(v) ? civilDate(clock, v) : text;
    const ids = (name: (s: string) => string) => (Array.isArray(v) ? v.map(String) : text.split(', ')).map(name).join(', ');
    switch (k) {
      case 'type': parts.push(app.typeName(text)); break;
      case 'channel': parts.push(`${t('fChannel')}: ${app.code('channels', text)}`); break;
      case 'filed_by': parts.push(`${t('fFiledBy')}: ${app.code('filedBy', text)}`); break;
      case 'received_at': parts.push(`${t('fReceived')}: ${value}`); break;
      case 'due_at': parts.push(`${t('fDue')}: ${value}`); break;
      case 'due_source': parts.push(`${t('fDueSource')}: ${app.code('dueSources', text).replace(/; \S+$/, '')}`); break;
      case 'basis': parts.push(`${t('extendBasis')}: ${basisText(app, text)}`); break;
      case 'outcome': parts.push(`${t('fOutcome')}: ${app.outcomeName(text)}`); break;
      case 'late_by_days': if (Number(v) > 0) parts.push(t('lateBy', { n: Number(v) })); break;
      case 'staff': parts.push(`${t('fAssignee')}: ${await app.staffName(text)}`); break;
      case 'method': parts.push(`${t('verifyMethod')}: ${app.code('verifyMethods', text)}`); break;
      case 'target': parts.push(app.targetTitle(text)); break;
      case 'fields': case 'blocked': case 'restricted': case 'deferred': case 'erased':
        parts.push(`${app.code('detailKeys', k)}: ${ids(app.fieldTitle)}`); break;
      case 'purposes': parts.push(`${t('fPurposes')}: ${ids(app.purposeTitle)}`); break;
      case 'consents': parts.push(`${t('fConsents')}: ${ids(app.consentTitle)}`); break;
      case 'recipients': parts.push(`${app.code('detailKeys', k)}: ${ids(app.recipientTitle)}`); break;
      case 'ground': parts.push(`${t('fGround')}: ${app.groundTitle(text)}`); break;
      case 'state': parts.push(app.stateName(text)); break;
      case 'hold': case 'request': case 'decision_id': break;  // numbers for programs
      case 'acknowledged': {
        // R58: the consequence notice the requester acknowledged: its language and policy version.
        const a = v as { lang?: string; policy_version?: string };
        parts.push(t('detailAcknowledged', { lang: isLang(a.lang) ? LANG_NAMES[a.lang] : String(a.lang ?? ''),
          version: civilDate(clock, a.policy_version ?? '') }));
        break;
      }
      default: parts.push(`${app.code('detailKeys', k)}: ${typeof v === 'string' && /^[a-z]+(_[a-z]+)+$/.test(v) ? humanize(v) : value}`);
    }
  }
  return parts.join('; ');
}

async function timeline(app: App, clock: Clock, r: RequestFull): Promise<HTMLElement> {
  const t = app.tr;
  const ol = h('ol', { class: 'timeline' });
  for (const e of r.timeline ?? []) {
    const who = await app.actorName(e.actor);
    const detail = await detailText(app, clock, e.detail);
    ol.append(h('li', {},
      h('time', { datetime: e.at }, dateTime(clock, e.at)), ' ',
      h('strong', {}, app.code('timelineKinds', e.kind)), who ? ` — ${who}` : '',
      detail ? h('div', { class: 'detail' }, detail) : null,
      e.comment ? h('blockquote', {}, e.comment) : null));
  }
  return h('section', { 'aria-labelledby': 'timeline-title' }, h('h2', { id: 'timeline-title' }, t('timelineTitle')), ol);
}

function messages(app: App, clock: Clock, r: RequestFull): HTMLElement {
  const t = app.tr;
  const items = r.messages ?? [];
  const rows = items.map((m) => [
    app.code('messageKinds', m.kind),
    app.code('channels', m.channel),
    app.code('messageStates', m.state),
    String(m.attempts),
    dateTime(clock, m.created_at),
    dateTime(clock, m.sent_at),
    m.last_error,
  ]);
  return h('section', { 'aria-labelledby': 'messages-title' },
    h('h2', { id: 'messages-title' }, t('messagesTitle')),
    rows.length
      ? table(t('messagesTitle'), [t('colKind'), t('colChannel'), t('colState'), t('colAttempts'), t('colCreated'), t('colSent'), t('colError')], rows)
      : h('p', { class: 'meta' }, t('noMessages')));
}

function factsOf(app: App, clock: Clock, r: RequestFull, assignee: string): HTMLElement {
  const t = app.tr;
  const yesNo = (b: boolean) => (b ? t('yes') : t('no'));
  const due = h('span', {}, dateTime(clock, r.due_at), ' ', timeLeft(app, clock, r));
  const term = `${app.term(r.term)}, ${app.code('triggers', r.trigger)}`;
  const source = `${app.code('dueSources', r.due_source)}${r.due_source === 'awaiting_evidence' ? ' ' : ': '}${term}`;
  const warnings = [r.warned_half_at && `50%: ${date(clock, r.warned_half_at)}`, r.warned_four_fifths_at && `80%: ${date(clock, r.warned_four_fifths_at)}`]
    .filter(Boolean).join(', ');
  const ext = r.extensions.length
    ? h('ul', { class: 'plain' }, ...r.extensions.map((e) => h('li', {}, t('extensionLine', { from: date(clock, e.previous_due), to: date(clock, e.new_due), reason: e.reason, basis: basisText(app, e.basis) }))))
    : null;
  return facts([
    [t('fId'), h('code', {}, r.id)],
    [t('fRight'), app.typeName(r.right)],
    [t('fSubject'), r.subject ? h('code', {}, r.subject) : t('none')],
    [t('fChannel'), app.code('channels', r.channel)],
    [t('fFiledBy'), app.code('filedBy', r.filed_by)],
    [t('fReceived'), dateTime(clock, r.received_at)],
    [t('fFiled'), dateTime(clock, r.filed_at)],
    [t('fDue'), due],
    [t('fDueSource'), source],
    [t('fClause'), r.clause],
    [t('fExtensions'), ext],
    [t('fWarnings'), warnings],
    [t('fIdentity'), app.code('identity', r.identity) + (r.verification_method ? ` (${app.code('verifyMethods', r.verification_method)})` : '')],
    [t('fAssignee'), assignee || t('none')],
    [t('fFee'), yesNo(r.fee_may_apply)],
    [t('fFields'), list(r.fields, app.fieldTitle)],
    [t('fPurposes'), list(r.purposes, app.purposeTitle)],
    [t('fConsents'), list(r.consents, app.consentTitle)],
    [t('fGround'), r.ground ? app.groundTitle(r.ground) : ''],
    [t('fBlocked'), list(r.blocked, app.fieldTitle)],
    [t('fRestricted'), list(r.restricted, app.fieldTitle)],
    [t('fRestrictAll'), r.restrict_all ? t('yes') : ''],
    [t('fObjectionPending'), list(r.objection_pending, app.purposeTitle)],
    [t('fObjectionUpheld'), list(r.objection_upheld, app.purposeTitle)],
    [t('fKept'), r.kept.length ? h('ul', { class: 'plain' }, ...r.kept.map((k) => h('li', {}, keptText(app, clock, k)))) : null],
    [t('fReplyEmail'), r.reply_email ?? ''],
    [t('fStatement'), r.statement],
    [t('fOutcome'), r.outcome ? app.outcomeName(r.outcome) : ''],
    [t('fDecision'), r.decision],
    [t('fReason'), r.reason],
    [t('fClosed'), r.closed_at ? dateTime(clock, r.closed_at) + (r.late_by_days > 0 ? ` (${t('lateBy', { n: r.late_by_days })})` : '') : ''],
  ]);
}

// The subject as a confirmation names them: the pseudonymous id (the console shows no more).
function subjectName(app: App, r: RequestFull): string {
  return r.subject ? app.tr('subjectRef', { id: r.subject.slice(0, 8) }) : app.tr('subjectUnknown');
}

// The step forms that fit the request's state and right.
function steps(app: App, r: RequestFull, rerender: (note: string) => void): HTMLElement[] {
  const { tr: t, lang } = app;
  const path = `${app.base}/requests/${encodeURIComponent(r.id)}`;
  const forms: HTMLElement[] = [];
  const step = async (name: string, body: unknown) => {
    await post<RequestFull>(`${path}/${name}`, body);
    rerender(t('saved'));
  };

  if (r.state === 'awaiting_identity') {
    const f = new ApiForm(lang, { title: t('verifyTitle'), submit: t('verifyBtn'), className: 'step-verify' });
    f.addField({ label: t('verifyMethod'), name: 'method', type: 'select', options: ['document', 'email_code'].map((m): [string, string] => [m, t(`verifyMethods.${m}`)]), value: 'document' });
    f.addField({ label: t('verifyEvidence'), name: 'evidence' });
    f.addField({ label: t('verifyCode'), name: 'code', inputmode: 'numeric' });
    f.onSubmit((el) => step('verify', { method: value(el, 'method'), evidence: value(el, 'evidence'), code: value(el, 'code') }));
    forms.push(f.el);
  }
  if (r.state === 'awaiting_evidence') {
    const f = new ApiForm(lang, { title: t('evidenceTitle'), submit: t('evidenceBtn'), className: 'step-evidence' });
    f.addField({ label: t('evidenceAt'), name: 'at', type: 'datetime-local', hint: t('evidenceAtHint') });
    f.addField({ label: t('evidenceNote'), name: 'note', type: 'textarea' });
    f.onSubmit((el) => {
      const at = value(el, 'at');
      return step('evidence', { note: value(el, 'note'), ...(at ? { at: schoolWallTimeToIso(app.settings.time_zone, at) } : {}) });
    });
    forms.push(f.el);
  }
  if (r.state === 'in_progress' || r.state === 'received') {
    const f = new ApiForm(lang, { title: t('completeTitle'), submit: t('completeBtn'), className: 'step-complete', danger: r.right === 'erasure' || r.right === 'unlawful_processing' || r.right === 'withdrawal' });
    const fill: ((el: HTMLFormElement) => Record<string, unknown>)[] = [];
    if (r.right === 'rectification') {
      for (const field of r.fields) {
        f.addField({ label: t('changesFor', { field: app.fieldTitle(field) }), name: `changes.${field}`, required: true });
      }
      fill.push((el) => ({ changes: Object.fromEntries(r.fields.map((fid) => [fid, value(el, `changes.${fid}`)]).filter(([, v]) => v !== '')) }));
    } else if (r.right === 'objection') {
      f.addField({ label: t('decision'), name: 'decision', type: 'select', required: true, options: [['', ''], ...['overriding_grounds', 'no_overriding_grounds'].map((d): [string, string] => [d, t(`decisions.${d}`)])] });
      f.addField({ label: t('justification'), name: 'justification', type: 'textarea' });
      fill.push((el) => ({ decision: value(el, 'decision'), justification: value(el, 'justification') }));
    } else if (r.right === 'automated_decision_review' || r.right === 'complaint') {
      f.addField({ label: t('answer'), name: 'answer', type: 'textarea', required: true });
      fill.push((el) => ({ answer: value(el, 'answer') }));
    } else if (r.right === 'withdrawal') {
      f.add(h('p', { class: 'warning' }, t('erasureWarning')));
      f.addField({ label: t('storageNeeded'), name: 'storage_needed', type: 'checkbox' });
      // The basis for keeping is one of the laws the policy declares, by its title.
      f.addField({ label: t('storageBasis'), name: 'storage_basis', type: 'select', hint: t('storageBasisHint'),
        options: [['', t('none')], ...app.settings.laws.map((l): [string, string] => [l.id, l.title])] });
      fill.push((el) => ({ storage_needed: checked(el, 'storage_needed'), storage_basis: value(el, 'storage_basis') }));
    }
    const destroys = r.right === 'erasure' || r.right === 'unlawful_processing' || r.right === 'withdrawal';
    if (r.right !== 'withdrawal' && destroys) f.add(h('p', { class: 'warning' }, t('erasureWarning')));
    if (r.right !== 'automated_decision_review' && r.right !== 'complaint') {
      f.addField({ label: t('note'), name: 'note', type: 'textarea' });
      fill.push((el) => (value(el, 'note') ? { note: value(el, 'note') } : {}));
    }
    f.onSubmit(async (el) => {
      // Carrying out an erasure, unlawful processing or a withdrawal destroys the subject's data
      // (a withdrawal keeps them only with a recorded need): asked first, in plain words.
      const keeps = r.right === 'withdrawal' && checked(el, 'storage_needed');
      if (destroys && !keeps && !(await confirmAction(lang, {
        title: t('confirmDestroyTitle'),
        text: t('confirmDestroyText', { type: app.typeName(r.type), subject: subjectName(app, r), id: r.id }),
        confirm: t('confirmDestroyBtn'),
      }))) {
        return t('cancelled');
      }
      await step('complete', Object.assign({}, ...fill.map((fn) => fn(el))));
    });
    forms.push(f.el);
  }
  if (OPEN.has(r.state)) {
    const assign = new ApiForm(lang, { title: t('assignTitle'), submit: t('assignBtn'), className: 'step-assign' });
    const staffSelect = assign.addField({ label: t('assignStaff'), name: 'staff', type: 'select', options: [[app.session.staff, app.session.name]], value: r.assignee ?? app.session.staff });
    void app.staff().then((staff) => {
      for (const s of staff) {
        if (s.id === app.session.staff || s.left_at) continue;
        staffSelect.append(h('option', { value: s.id, selected: s.id === r.assignee }, `${s.name} (${app.roleTitle(s.role)})`));
      }
    });
    assign.onSubmit((el) => step('assign', { staff: value(el, 'staff') }));

    const extend = new ApiForm(lang, { title: t('extendTitle'), submit: t('extendBtn'), className: 'step-extend' });
    // The term as a number and a unit in words; the API takes it as "60 calendar days".
    extend.addField({ label: t('extendTerm'), name: 'term', type: 'number', value: '60', hint: t('extendTermHint'), inputmode: 'numeric', required: true });
    extend.addField({ label: t('extendUnit'), name: 'term_unit', type: 'select', value: 'calendar days',
      options: ['calendar days', 'working days', 'calendar months'].map((u): [string, string] => [u, t(`extendUnits.${u.replace(' ', '_')}`)]) });
    extend.addField({ label: t('extendReason'), name: 'reason', type: 'textarea', required: true });
    extend.addField({ label: t('extendBasis'), name: 'basis', required: true });
    extend.onSubmit((el) => step('extend', { term: `${value(el, 'term')} ${value(el, 'term_unit')}`, reason: value(el, 'reason'), basis: value(el, 'basis') }));

    const reject = new ApiForm(lang, { title: t('rejectTitle'), submit: t('rejectBtn'), className: 'step-reject', danger: true });
    reject.addField({ label: t('rejectReason'), name: 'reason', type: 'textarea', required: true });
    reject.onSubmit(async (el) => {
      // Without a reason the server refuses it and names the field; with one, asked first.
      if (value(el, 'reason') && !(await confirmAction(lang, {
        title: t('confirmRejectTitle'),
        text: t('confirmRejectText', { type: app.typeName(r.type), subject: subjectName(app, r), id: r.id }),
        confirm: t('rejectBtn'),
      }))) {
        return t('cancelled');
      }
      await step('reject', { reason: value(el, 'reason') });
    });
    forms.push(assign.el, extend.el, reject.el);
  }
  const comment = new ApiForm(lang, { title: t('commentTitle'), submit: t('commentBtn'), className: 'step-comment' });
  comment.addField({ label: t('commentText'), name: 'text', type: 'textarea', required: true });
  comment.onSubmit((el) => step('comments', { text: value(el, 'text') }));
  forms.push(comment.el);
  return forms;
}

function tasks(app: App, clock: Clock, r: RequestFull, rerender: (note: string) => void): HTMLElement | null {
  const { tr: t, lang } = app;
  if (!r.tasks.length) return null;
  const path = `${app.base}/requests/${encodeURIComponent(r.id)}/tasks`;
  const rows = r.tasks.map((task) => {
    let actions: HTMLElement | string = '';
    if (task.state !== 'done') {
      const f = new ApiForm(lang, { submit: t('taskConfirm'), className: 'task-form' });
      const note: Control = f.addField({ label: t('taskNote'), name: 'note' });
      const fail = h('button', { type: 'button', class: 'secondary' }, t('taskFail'));
      f.el.querySelector('.actions')!.append(fail);
      const send = async (ok: boolean) => {
        await post(path, { target: task.target, ok, note: note.value.trim() });
        rerender(t('saved'));
      };
      f.onSubmit(() => send(true));
      fail.addEventListener('click', () => {
        f.clearErrors();
        send(false).catch((e) => f.showError(errorText(lang, e), e instanceof ApiError ? e.field : null));
      });
      f.el.setAttribute('aria-label', `${t('taskConfirm')}: ${app.targetTitle(task.target)}`);
      actions = f.el;
    }
    return [
      app.targetTitle(task.target),
      app.code('taskActions', task.action),
      task.state === 'done' ? badge('ok', t('taskStates.done')) : task.state === 'failed' ? badge('overdue', t('taskStates.failed')) : badge('warning', app.code('taskStates', task.state)),
      dateTime(clock, task.at),
      task.note,
      actions,
    ];
  });
  return h('section', { 'aria-labelledby': 'tasks-title' },
    h('h2', { id: 'tasks-title' }, t('tasksTitle')),
    h('p', { class: 'meta' }, t('tasksIntro')),
    table(t('tasksTitle'), [t('colTarget'), t('colAction'), t('colState'), t('colAt'), t('colNote'), t('colActions')], rows, 'tasks'));
}

export async function requestView(app: App, root: HTMLElement, id: string, note = ''): Promise<void> {
  const t = app.tr;
  const [clock, r] = await Promise.all([app.clock(), get<RequestFull>(`${app.base}/requests/${encodeURIComponent(id)}`), app.staff()]);
  const assignee = await app.staffName(r.assignee);
  const rerender = (text: string) => {
    const fresh = h('div', { class: 'view' });
    requestView(app, fresh, id, text).then(() => {
      root.replaceWith(fresh);
      const status = fresh.querySelector<HTMLElement>('.step-status');
      status?.focus();
    }).catch((e) => {
      root.append(h('p', { class: 'form-error', role: 'alert' }, String(e?.message ?? e)));
    });
  };
  const open = OPEN.has(r.state);
  const stateMark = r.state === 'done' ? badge('ok', app.stateName(r.state))
    : r.state === 'rejected' || r.state === 'partly_done' ? badge('warning', app.stateName(r.state))
      : badge('muted', app.stateName(r.state));
  const pkg = PACKAGE_RIGHTS.has(r.right) && r.identity !== 'required' && r.subject
    ? h('p', {}, h('a', { href: `${app.base}/requests/${encodeURIComponent(r.id)}/package`, download: `package-${r.id}.json` }, t('packageLink')))
    : null;
  root.append(
    h('p', { class: 'crumbs' }, h('a', { href: '#/requests' }, `← ${t('back')}`)),
    h('h1', {}, t('requestTitle', { type: app.typeName(r.type) }), ' ', stateMark),
    h('p', { class: 'step-status', role: 'status', tabindex: '-1' }, note),
    h('div', { class: 'request-grid' },
      h('section', { class: 'facts-col', 'aria-labelledby': 'facts-title' },
        h('h2', { id: 'facts-title' }, t('factsTitle')),
        factsOf(app, clock, r, assignee),
        pkg),
      h('section', { class: 'steps-col', 'aria-labelledby': 'steps-title' },
        h('h2', { id: 'steps-title' }, t('actionsTitle')),
        open ? null : h('p', { class: 'meta' }, t('closedNote')),
        ...steps(app, r, rerender))),
    tasks(app, clock, r, rerender) ?? '',
    await timeline(app, clock, r),
    messages(app, clock, r),
  );
}
