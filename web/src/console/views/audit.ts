// The audit log (#/audit): the newest entries first, page by page (GET /audit?after=&limit=), and
// the verification of the whole hash chain with its signed checkpoints (GET /audit/verify).
import { h } from '../../common/dom';
import { get, post, type AuditRow, type Page } from '../api';
import type { App } from '../app';
import { dateTimeShort } from '../format';
import { badge, errorText, ident, table } from '../ui';

const PAGE = 50;

const page = (app: App, after: number, limit: number) =>
  get<Page<AuditRow, number>>(`${app.base}/audit?after=${after}&limit=${limit}`);

// The newest sequence number: the API pages forwards only, so the head is found by probing.
async function head(app: App): Promise<number> {
  const exists = async (after: number) => (await page(app, after, 1)).items.length > 0;
  if (!(await exists(0))) return 0;
  let lo = 0;  // an entry follows lo
  let hi = 256;
  while (await exists(hi)) {
    lo = hi;
    hi *= 2;
  }
  while (hi - lo > 1) {  // an entry follows lo, none follows hi
    const mid = Math.floor((lo + hi) / 2);
    if (await exists(mid)) lo = mid;
    else hi = mid;
  }
  return hi;
}

export async function auditView(app: App, root: HTMLElement, params: URLSearchParams): Promise<void> {
  const { t, lang } = app;
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
      ident(e.action),
      e.subject_ref ? h('code', { title: e.subject_ref }, e.subject_ref.slice(0, 10)) : '',
      e.purpose ? e.purpose.split(',').map(app.purposeTitle).join(', ') : '',
      e.outcome === 'deny' ? badge('overdue', e.outcome) : e.outcome,
      ident(e.reason),
    ]);
  }

  const result = h('p', { class: 'chain-result', role: 'status' });
  const verify = h('button', { type: 'button' }, t.verifyChain);
  verify.addEventListener('click', async () => {
    verify.disabled = true;
    result.className = 'chain-result';
    result.textContent = t.loading;
    try {
      const v = await get<{ ok: boolean; entries: number; checkpoints: number; first_broken: number | null; problem: string }>(`${app.base}/audit/verify`);
      result.textContent = v.ok ? t.chainOk(v.entries, v.checkpoints) : t.chainBroken(v.first_broken, v.problem);
      result.classList.add(v.ok ? 'ok' : 'bad');
    } catch (e) {
      result.textContent = errorText(t, lang, e);
      result.classList.add('bad');
    } finally {
      verify.disabled = false;
    }
  });
  const checkpoint = h('button', { type: 'button', class: 'secondary' }, t.checkpoint);
  checkpoint.addEventListener('click', async () => {
    checkpoint.disabled = true;
    try {
      await post(`${app.base}/audit/checkpoint`);
      result.className = 'chain-result ok';
      result.textContent = t.checkpointDone;
    } catch (e) {
      result.className = 'chain-result bad';
      result.textContent = errorText(t, lang, e);
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
  const pager = h('nav', { class: 'pager', 'aria-label': t.pageNav });
  if (to < last) pager.append(link(t.newest, null), link(t.newer, Math.min(after + limit, Math.max(0, last - limit))));
  if (after > 0) pager.append(link(t.older, Math.max(0, after - limit)), link(t.oldest, 0));

  root.append(
    h('h1', {}, t.auditTitle),
    h('p', {}, t.auditIntro),
    h('div', { class: 'actions' }, verify, checkpoint),
    result,
    h('p', { class: 'meta' }, entries.items.length ? `${t.auditRange(after + 1, to)}. ${t.schoolTime(app.settings.time_zone)}` : t.schoolTime(app.settings.time_zone)),
    table(t.auditTitle, [t.colSeq, t.colTime, t.colActor, t.colRole, t.colAuditAction, t.colPseudonym, t.colPurpose, t.colOutcome, t.colReason], rows, 'audit'),
    pager,
  );
}
