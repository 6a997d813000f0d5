// What retention ends in the coming 30 days (#/retention, GET /retention/upcoming?days=30; R70-R72):
// per field of each subject, the day in the school's time zone, the subject by its short number
// (a link to their requests), the field with its category and the purpose that ended by their
// titles, what the job will do (destroy, depersonalise, restrict to storage, or leave under a
// legal-claims restriction) and why: the event the term ran from, on its day, and the term the
// policy keeps the data after it (the inactivity of R71, the legal minimum of R72 with its law).
import { h } from '../../common/dom';
import { get, type RetentionItem } from '../api';
import { type App, humanize } from '../app';
import { civilDate, type Clock, date, localDay, zoneName } from '../format';
import { hasText } from '../i18n';
import { table } from '../ui';

export const RETENTION_DAYS = 30;

export async function retentionView(app: App, root: HTMLElement): Promise<void> {
  const t = app.tr;
  const [clock, upcoming] = await Promise.all([
    app.clock(),
    get<{ until: string; items: RetentionItem[] }>(`${app.base}/retention/upcoming?days=${RETENTION_DAYS}`),
  ]);
  const rows = upcoming.items
    .map((item) => ({ item, day: actionDay(clock, item) }))
    .sort((a, b) => a.day - b.day || a.item.subject.localeCompare(b.item.subject))
    .map(({ item, day }) => [
      h('span', { class: 'retention-day' }, dayText(clock, item), h('br'), h('span', { class: 'meta' }, inDays(app, day - localDay(clock.tz, clock.now)))),
      h('a', { href: `#/requests?subject=${encodeURIComponent(item.subject)}` }, t('subjectRef', { id: item.subject.slice(0, 8) })),
      h('span', {}, app.fieldTitle(item.field), h('br'), h('span', { class: 'meta' }, categoryTitle(app, item.category))),
      app.purposeTitle(item.purpose),
      app.code('retention.actions', item.action),
      reason(app, clock, item),
    ]);
  root.append(
    h('h1', {}, t('retention.title', { n: RETENTION_DAYS })),
    h('p', {}, t('retention.intro')),
    h('p', { class: 'meta' }, t('retention.asOf', { until: civilDate(clock, upcoming.until), zone: zoneName(app.lang, clock.tz) })),
    rows.length
      ? table(t('retention.title', { n: RETENTION_DAYS }),
        [t('retention.colDay'), t('colSubject'), t('retention.colData'), t('colPurpose'), t('colAction'), t('colReason')], rows, 'retention')
      : h('p', { class: 'empty' }, t('retention.none', { n: RETENTION_DAYS })),
  );
}

// The school's day the job acts on the field: a field kept restricted is restricted from its
// trigger on; the others go on their day.
function actionDay(clock: Clock, item: RetentionItem): number {
  if (item.action === 'keep') return localDay(clock.tz, new Date(item.trigger_at));
  const [y, m, d] = item.date.split('-').map(Number);
  return Math.round(Date.UTC(y, m - 1, d) / 86400000);
}

function dayText(clock: Clock, item: RetentionItem): string {
  return item.action === 'keep' ? date(clock, item.trigger_at) : civilDate(clock, item.date);
}

function inDays(app: App, n: number): string {
  if (n === 0) return app.tr('retention.today');
  return n < 0 ? app.tr('retention.daysAgo', { n: -n }) : app.tr('retention.inDays', { n });
}

function categoryTitle(app: App, id: string): string {
  return app.settings.categories.find((c) => c.id === id)?.title || humanize(id);
}

// Why: the event the term ran from and its day, then how long the policy keeps the field after it.
function reason(app: App, clock: Clock, item: RetentionItem): string {
  const t = app.tr;
  const on = date(clock, item.trigger_at);
  const retention = app.settings.retention;
  const inactivity = retention?.inactivity ? app.term(retention.inactivity) : '';
  const key = `retention.trigger.${item.trigger}`;
  const parts = [hasText(key) ? t(key, { date: on, inactivity }) : t('retention.trigger.other', { date: on })];
  if (item.action === 'skip_legal_claims') {
    parts.push(t('retention.skipLegalClaims'));
  } else if (item.action === 'keep' && item.law) {
    const minimum = retention?.legal_minimum.find((m) => m.category === item.category && m.law === item.law);
    parts.push(t('retention.keptLaw', {
      until: civilDate(clock, item.kept_until ?? ''), law: app.lawTitle(item.law), term: minimum ? app.term(minimum.term) : '',
    }));
  } else {
    const term = app.settings.purposes.find((p) => p.id === item.purpose)?.retention ?? 'immediate';
    if (item.action === 'keep' && item.kept_until) {
      parts.push(t('retention.kept', { term: app.term(term), until: civilDate(clock, item.kept_until) }));
    } else if (item.action === 'keep') {
      parts.push(t('retention.keptForever'));
    } else {
      parts.push(term === 'immediate' || term === 'indefinite' ? t(`retention.term.${term}`) : t('retention.term', { term: app.term(term) }));
    }
  }
  return parts.join(' ');
}
