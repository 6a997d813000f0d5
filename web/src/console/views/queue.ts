// The request queue (#/requests): the obligations dashboard (GET /obligations), a chart of open
// requests by the week they fall due, and the queue by due date with its filters and keyset
// paging (GET /requests?...&cursor=). Filters live in the address (#/requests?type=...), so a
// filtered queue can be bookmarked and the browser's back button works; ?subject=ID (from the
// subject search) shows one subject's requests.
import { h } from '../../common/dom';
import { get, type Obligations, type Page, type RequestRow } from '../api';
import type { App } from '../app';
import { type Clock, date, dateTime, daysLeft, localDay, termUsed, zoneName } from '../format';
import type { Translate } from '../i18n';
import { badge, table } from '../ui';

const PAGE = 25;
const STATES = ['received', 'awaiting_identity', 'awaiting_evidence', 'in_progress', 'done', 'partly_done', 'rejected'];
const OPEN_STATES = new Set(STATES.slice(0, 4));

// Cursors of the pages before this one, per filter, so "Previous page" can go back.
const previous = new Map<string, string[]>();

export function timeLeft(app: App, clock: Clock, r: RequestRow): HTMLElement {
  const t = app.tr;
  const wrap = h('span', { class: 'left' });
  if (!OPEN_STATES.has(r.state)) {
    wrap.append(r.closed_at ? t('closedOn', { date: date(clock, r.closed_at) }) : app.stateName(r.state));
    if (r.late_by_days > 0) wrap.append(' ', badge('overdue', t('lateBy', { n: r.late_by_days })));
    return wrap;
  }
  const days = daysLeft(clock, r.due_at);
  if (r.overdue || days < 0 || clock.now.getTime() > Date.parse(r.due_at)) {
    wrap.append(badge('overdue', t('badgeOverdue')), ' ', t('daysOverdue', { n: Math.max(1, -days) }));
    return wrap;
  }
  const used = termUsed(clock, r.received_at, r.due_at);
  if (used >= 0.8) wrap.append(badge('urgent', t('badgeUrgent')), ' ');
  else if (used >= 0.5) wrap.append(badge('warning', t('badgeWarning')), ' ');
  wrap.append(days === 0 ? t('dueToday') : t('daysLeft', { n: days }));
  return wrap;
}

function dashboard(t: Translate, o: Obligations): HTMLElement {
  const tile = (label: string, n: number, alert = false) =>
    h('div', { class: `tile${alert && n > 0 ? ' alert' : ''}` }, h('dt', {}, label), h('dd', {}, String(n)));
  return h('section', { class: 'dashboard', 'aria-labelledby': 'dash-title' },
    h('h2', { id: 'dash-title' }, t('dashboardTitle')),
    h('dl', { class: 'tiles' },
      tile(t('open'), o.open),
      tile(t('overdue'), o.overdue, true),
      tile(t('dueWeek'), o.due_within_7_days),
      tile(t('closed'), o.closed),
      tile(t('closedLate'), o.closed_late, true)));
}

// Every open request (page by page), for the chart.
async function allOpen(app: App): Promise<RequestRow[]> {
  const out: RequestRow[] = [];
  let cursor: string | null = '';
  for (let i = 0; i < 20 && cursor !== null; ++i) {
    const q = new URLSearchParams({ open: 'true', limit: '1000' });
    if (cursor) q.set('cursor', cursor);
    const page: Page<RequestRow> = await get<Page<RequestRow>>(`${app.base}/requests?${q}`);
    out.push(...page.items);
    cursor = page.next_cursor;
  }
  return out;
}

// Open requests by due week: overdue, the next 7 days, the 7 after, ... and later.
function chart(app: App, clock: Clock, open: RequestRow[]): HTMLElement {
  const t = app.tr;
  const WEEKS = 8;
  const counts = new Array<number>(WEEKS + 2).fill(0);  // [overdue, week 0..7, later]
  for (const r of open) {
    const days = daysLeft(clock, r.due_at);
    if (r.overdue || days < 0 || clock.now.getTime() > Date.parse(r.due_at)) counts[0]++;
    else counts[Math.min(1 + Math.floor(days / 7), WEEKS + 1)]++;
  }
  const today = localDay(clock.tz, clock.now);
  const dayFmt = new Intl.DateTimeFormat(app.lang, { timeZone: 'UTC', day: 'numeric', month: 'short' });
  const day = (n: number) => dayFmt.format(new Date(n * 86400000));
  const labels = [t('chartOverdue'), t('chartThisWeek')];
  for (let w = 1; w < WEEKS; ++w) labels.push(`${day(today + 7 * w)} – ${day(today + 7 * w + 6)}`);
  labels.push(t('chartLater'));
  const max = Math.max(1, ...counts);
  const body = h('tbody');
  counts.forEach((n, i) => {
    const bar = h('span', { class: `bar${i === 0 ? ' bar-overdue' : ''}`, 'aria-hidden': 'true' });
    bar.style.width = `${(100 * n) / max}%`;
    body.append(h('tr', { class: n ? '' : 'zero' },
      h('th', { scope: 'row' }, labels[i]),
      h('td', { class: 'bar-cell' }, h('span', { class: 'bar-track' }, bar)),
      h('td', { class: 'num' }, String(n))));
  });
  return h('section', { class: 'chart', 'aria-labelledby': 'chart-title' },
    h('h2', { id: 'chart-title' }, t('chartTitle')),
    h('p', { class: 'meta' }, open.length ? t('chartIntro') : t('chartEmpty')),
    h('div', { class: 'table-wrap' },
      h('table', { class: 'due-chart' },
        h('caption', { class: 'visually-hidden' }, t('chartTitle')),
        h('thead', { class: 'visually-hidden' }, h('tr', {}, h('th', { scope: 'col' }, t('chartPeriod')), h('td'), h('th', { scope: 'col' }, t('chartCount')))),
        body)));
}

function filters(app: App, params: URLSearchParams, staff: { id: string; name: string }[]): HTMLElement {
  const t = app.tr;
  const form = h('form', { class: 'filters', role: 'search', 'aria-labelledby': 'filters-title' });
  const select = (name: string, label: string, options: [string, string][]) => {
    const id = `filter-${name}`;
    const s = h('select', { id, name });
    for (const [v, l] of options) s.append(h('option', { value: v, selected: (params.get(name) ?? '') === v }, l));
    return h('div', { class: 'row' }, h('label', { for: id }, label), s);
  };
  const types: [string, string][] = [['', t('anyType')], ...app.settings.request_types.map((r): [string, string] => [r.type, app.typeName(r.type)])];
  const states: [string, string][] = [['', t('anyState')], ...STATES.map((s): [string, string] => [s, app.stateName(s)])];
  const scopes: [string, string][] = [['', t('scopeOpen')], ['overdue', t('scopeOverdue')], ['all', t('scopeAll')]];
  const people: [string, string][] = [['', t('anyone')], [app.session.staff, t('me')],
    ...staff.filter((s) => s.id !== app.session.staff).map((s): [string, string] => [s.id, s.name])];
  const reset = h('a', { href: '#/requests', class: 'button secondary' }, t('reset'));
  form.append(
    h('h2', { id: 'filters-title', class: 'visually-hidden' }, t('filtersTitle')),
    h('div', { class: 'filter-grid' },
      select('type', t('fType'), types),
      select('state', t('fState'), states),
      select('scope', t('fScope'), scopes),
      select('assignee', t('filterAssignee'), people)),
    h('div', { class: 'actions' }, h('button', { type: 'submit' }, t('apply')), reset),
  );
  form.addEventListener('submit', (ev) => {
    ev.preventDefault();
    const q = new URLSearchParams();
    for (const name of ['type', 'state', 'scope', 'assignee']) {
      const v = (form.elements.namedItem(name) as HTMLSelectElement).value;
      if (v) q.set(name, v);
    }
    if (params.get('limit')) q.set('limit', params.get('limit')!);
    if (params.get('subject')) q.set('subject', params.get('subject')!);
    app.go(`#/requests${q.size ? `?${q}` : ''}`);
  });
  return form;
}

export async function queueView(app: App, root: HTMLElement, params: URLSearchParams): Promise<void> {
  const t = app.tr;
  const limit = Math.min(1000, Math.max(1, Number(params.get('limit')) || PAGE));
  const api = new URLSearchParams({ limit: String(limit) });
  const state = params.get('state') ?? '';
  const scope = params.get('scope') ?? '';
  if (params.get('type')) api.set('type', params.get('type')!);
  if (state) api.set('state', state);
  if (params.get('assignee')) api.set('assignee', params.get('assignee')!);
  const subject = params.get('subject') ?? '';
  if (subject) api.set('subject', subject);
  // A closed state is never among the open requests; a state filter looks at every request.
  api.set('open', scope === 'all' || (state && !OPEN_STATES.has(state)) ? 'false' : 'true');
  if (scope === 'overdue') api.set('overdue', 'true');
  const cursor = params.get('cursor') ?? '';
  if (cursor) api.set('cursor', cursor);

  const [clock, obligations, page, open, staff] = await Promise.all([
    app.clock(),
    get<Obligations>(`${app.base}/obligations`),
    get<Page<RequestRow>>(`${app.base}/requests?${api}`),
    allOpen(app),
    app.staff(),
  ]);
  const names = new Map(staff.map((s) => [s.id, s.name]));
  names.set(app.session.staff, app.session.name);

  const rows = page.items.map((r) => [
    date(clock, r.due_at),
    timeLeft(app, clock, r),
    h('a', { href: `#/requests/${encodeURIComponent(r.id)}` }, app.typeName(r.type)),
    app.stateName(r.state) + (r.outcome ? ` (${app.outcomeName(r.outcome)})` : ''),
    r.subject ? h('code', { title: r.subject }, r.subject.slice(0, 8)) : t('none'),
    dateTime(clock, r.received_at),
    r.assignee ? names.get(r.assignee) ?? r.assignee : t('none'),
  ]);
  const filterKey = Array.from(params.entries()).filter(([k]) => k !== 'cursor').map((kv) => kv.join('=')).join('&');
  const stack = previous.get(filterKey) ?? [];
  if (!cursor) stack.length = 0;
  previous.set(filterKey, stack);
  const here = (c: string) => {
    const q = new URLSearchParams(params);
    if (c) q.set('cursor', c);
    else q.delete('cursor');
    return `#/requests${q.size ? `?${q}` : ''}`;
  };
  const pager = h('nav', { class: 'pager', 'aria-label': t('pageNav') });
  if (cursor) {
    const back = h('button', { type: 'button', class: 'secondary' }, stack.length ? t('prevPage') : t('firstPage'));
    back.addEventListener('click', () => app.go(here(stack.pop() ?? '')));
    pager.append(back);
  }
  if (page.next_cursor) {
    const next = h('button', { type: 'button' }, t('nextPage'));
    const nextCursor = page.next_cursor;
    next.addEventListener('click', () => {
      stack.push(cursor);
      app.go(here(nextCursor));
    });
    pager.append(next);
  }

  root.append(
    h('h1', {}, t('queueTitle')),
    h('p', { class: 'meta' }, t('schoolTime', { tz: zoneName(app.lang, app.settings.time_zone) })),
    h('div', { class: 'overview' }, dashboard(t, obligations), chart(app, clock, open)),
    ...(subject ? [h('p', { class: 'note subject-filter' }, t('queueOfSubject', { id: subject }), ' ', h('a', { href: '#/requests' }, t('showAllRequests')))] : []),
    filters(app, params, staff.filter((s) => !s.left_at)),
    rows.length
      ? table(t('queueCaption', { n: rows.length }), [t('colDue'), t('colLeft'), t('colType'), t('colState'), t('colSubject'), t('colReceived'), t('colAssignee')], rows, 'queue')
      : h('p', { class: 'empty', role: 'status' }, t('empty')),
    pager,
  );
}
