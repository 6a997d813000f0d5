// The audit log (#/audit): the newest entries first, page by page (GET /audit?after=&limit=), and
// the verification of the whole hash chain with its signed checkpoints (GET /audit/verify).
import { h } from '../../common/dom';
import { get, post, type AuditRow, type Page } from '../api';
import { type App, humanize } from '../app';
import { dateTimeShort, zoneName } from '../format';
import { badge, errorText, table } from '../ui';

const PAGE = 50;

const page = (app: App, after: number, limit: number) =>
  get<Page<AuditRow, number>>(`${app.base}/audit?after=${after}&limit=${limit}`);

// The newest sequence number, which every page of GET /audit carries as last_seq.
async function head(app: App): Promise<number> {
  return (await get<Page<AuditRow, number> & { last_seq: number }>(`${app.base}/audit?order=desc&limit=1`)).last_seq;
}

// An audit action ("subject.destroy", "gate.read", "request.filed", "legal_hold.place") in words.
function actionName(app: App, action: string): string {
  const t = app.tr;
  const [group, ...rest] = action.split('.');
  const what = rest.join('.');
  if (group === 'gate') return t('auditGate', { operation: app.code('operations', what) });
  if (group === 'request') return t('auditRequest', { event: app.code('timelineKinds', what) });
  return app.code('auditActions', action);
}

// A consent's grant is a purpose or a permission (processing, transfer to third parties, ...).
function purposeOrPermission(app: App, id: string): string {
  return app.settings.purposes.some((p) => p.id === id) ? app.purposeTitle(id) : app.code('permissions', id);
}

// A reason of an audit entry: a gate's reason, an erasure's ground, or another code, in words.
function reasonName(app: App, reason: string): string {
  if (!reason) return '';
  for (const group of ['gateReasons', 'grounds', 'types', 'auditReasons']) {
    const text = app.code(group, reason);
    if (text !== humanize(reason)) return text;
  }
  return app.purposeTitle(reason) !== humanize(reason) ? app.purposeTitle(reason) : humanize(reason);
}

export async function auditView(app: App, root: HTMLElement, params: URLSearchParams): Promise<void> {
  const { tr: t, lang } = app;
  const limit = Math.min(1000, Math.max(1, Number(params.get('limit')) || PAGE));
  const [clock, last] = await Promise.all([app.clock(), head(app)]);
  const given = params.get('after');
  const after = given !== null && /^\d+$/.test(given) ? Math.min(Number(given), Math.max(0, last - 1)) : Math.max(0, last - limit);
  const [entries] = await Promise.all([page(app, after, limit), app.staff()]);
  const rows = [];
  for (const e of [...entries.items].reverse()) {
    rows.push([
      String(e.seq),
      h('span', { class: 'nowrap' }, dateTimeShort(clock, e.at)),
      await app.actorName(e.actor),
      e.role ? app.roleTitle(e.role) : '',
      actionName(app, e.action),
      e.subject_ref ? h('code', { title: e.subject_ref }, e.subject_ref.replace(/^pn_/, '').slice(0, 7)) : '',
      e.purpose ? e.purpose.split(',').map((p) => purposeOrPermission(app, p)).join(', ') : '',
      e.outcome === 'deny' ? badge('overdue', app.code('auditOutcomes', e.outcome)) : app.code('auditOutcomes', e.outcome),
      reasonName(app, e.reason),
    ]);
  }

  const result = h('p', { class: 'chain-result', role: 'status' });
  const verify = h('button', { type: 'button' }, t('verifyChain'));
  verify.addEventListener('click', async () => {
    verify.disabled = true;
    result.className = 'chain-result';
    result.textContent = t('loading');
    try {
      const v = await get<{ ok: boolean; entries: number; checkpoints: number; first_broken: number | null; problem: string }>(`${app.base}/audit/verify`);
      result.textContent = v.ok ? t('chainOk', { entries: v.entries, checkpoints: v.checkpoints })
        : v.first_broken === null ? t('chainBroken', { problem: v.problem }) : t('chainBrokenAt', { seq: v.first_broken, problem: v.problem });
      result.classList.add(v.ok ? 'ok' : 'bad');
    } catch (e) {
      result.textContent = errorText(lang, e);
      result.classList.add('bad');
    } finally {
      verify.disabled = false;
    }
  });
  const checkpoint = h('button', { type: 'button', class: 'secondary' }, t('checkpoint'));
  checkpoint.addEventListener('click', async () => {
    checkpoint.disabled = true;
    try {
      await post(`${app.base}/audit/checkpoint`);
      result.className = 'chain-result ok';
      result.textContent = t('checkpointDone');
    } catch (e) {
      result.className = 'chain-result bad';
      result.textContent = errorText(lang, e);
    } finally {
      checkpoint.disabled = false;
    }
  });

  const to = entries.items.length ? entries.items[entries.items.length - 1].seq : after;
  const link = (label: string, a: number | null) => {
    const q = new URLSearchParams();
    if (a !== null) q.set('after', String(a));
    if (params.get('limit')) q.set('limit', params.get('limit')!);
    return h('a', { href: `#/audit${q.size ? `?${q}` : ''}`, class: 'button secondary' }, label);
  };
  const pager = h('nav', { class: 'pager', 'aria-label': t('pageNav') });
  if (to < last) pager.append(link(t('newest'), null), link(t('newer'), Math.min(after + limit, Math.max(0, last - limit))));
  if (after > 0) pager.append(link(t('older'), Math.max(0, after - limit)), link(t('oldest'), 0));

  const zone = t('schoolTime', { tz: zoneName(lang, app.settings.time_zone) });
  root.append(
    h('h1', {}, t('auditTitle')),
    h('p', {}, t('auditIntro')),
    h('div', { class: 'actions' }, verify, checkpoint),
    result,
    h('p', { class: 'meta' }, entries.items.length ? `${t('auditRange', { from: after + 1, to })}. ${zone}` : zone),
    table(t('auditTitle'), [t('colSeq'), t('colTime'), t('colActor'), t('colRole'), t('colAuditAction'), t('colPseudonym'), t('colPurpose'), t('colOutcome'), t('colReason')], rows, 'audit'),
    pager,
  );
}
