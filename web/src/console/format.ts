// Dates as legal facts: every instant the API returns is shown in the school's own time zone (the
// policy's calendar), and "days left" counts the school's calendar days from today to the due day.
import type { Lang } from '../common/i18n';

export interface Clock {
  lang: Lang;
  tz: string;
  now: Date;  // the server's time (GET /healthz), so a fake clock in tests is honoured
}

export function dateTime(c: Clock, iso: string | null | undefined): string {
  if (!iso) return '';
  return new Intl.DateTimeFormat(c.lang, { timeZone: c.tz, dateStyle: 'medium', timeStyle: 'short' }).format(new Date(iso));
}

// A compact form for dense tables (the audit log).
export function dateTimeShort(c: Clock, iso: string | null | undefined): string {
  if (!iso) return '';
  return new Intl.DateTimeFormat(c.lang, { timeZone: c.tz, dateStyle: 'short', timeStyle: 'medium' }).format(new Date(iso));
}

export function date(c: Clock, iso: string | null | undefined): string {
  if (!iso) return '';
  return new Intl.DateTimeFormat(c.lang, { timeZone: c.tz, dateStyle: 'medium' }).format(new Date(iso));
}

// The school's calendar date of an instant, as days since 1970-01-01 (for differences).
export function localDay(tz: string, at: Date): number {
  const parts = new Intl.DateTimeFormat('en-CA', { timeZone: tz, year: 'numeric', month: '2-digit', day: '2-digit' })
    .formatToParts(at);
  const n = (type: string) => Number(parts.find((p) => p.type === type)?.value);
  return Math.round(Date.UTC(n('year'), n('month') - 1, n('day')) / 86400000);
}

// Whole school days from today to the due day: 0 on the due day, negative when overdue.
export function daysLeft(c: Clock, dueIso: string): number {
  return localDay(c.tz, new Date(dueIso)) - localDay(c.tz, c.now);
}

// The share of the term already used (0..1+), from receipt to the due instant.
export function termUsed(c: Clock, receivedIso: string, dueIso: string): number {
  const from = Date.parse(receivedIso);
  const to = Date.parse(dueIso);
  if (!(to > from)) return 1;
  return (c.now.getTime() - from) / (to - from);
}

// The offset of `tz` from UTC at `at`, in minutes.
function offsetMinutes(tz: string, at: Date): number {
  const parts = new Intl.DateTimeFormat('en-US', {
    timeZone: tz, hourCycle: 'h23', year: 'numeric', month: '2-digit', day: '2-digit', hour: '2-digit', minute: '2-digit', second: '2-digit',
  }).formatToParts(at);
  const n = (type: string) => Number(parts.find((p) => p.type === type)?.value);
  const wall = Date.UTC(n('year'), n('month') - 1, n('day'), n('hour'), n('minute'), n('second'));
  return Math.round((wall - Math.floor(at.getTime() / 1000) * 1000) / 60000);
}

// "2025-03-05T09:30" typed as the school's wall time → an RFC 3339 instant (UTC).
export function schoolWallTimeToIso(tz: string, local: string): string {
  const m = /^(\d{4})-(\d{2})-(\d{2})T(\d{2}):(\d{2})/.exec(local);
  if (!m) return local;
  const wall = Date.UTC(+m[1], +m[2] - 1, +m[3], +m[4], +m[5]);
  // Two passes settle the offset around a change of the clocks.
  let at = new Date(wall - offsetMinutes(tz, new Date(wall)) * 60000);
  at = new Date(wall - offsetMinutes(tz, at) * 60000);
  return at.toISOString().replace('.000Z', 'Z');
}

// The school's wall time of an instant, as a datetime-local input value ("YYYY-MM-DDTHH:MM").
export function isoToSchoolWallTime(tz: string, at: Date): string {
  const local = new Date(at.getTime() + offsetMinutes(tz, at) * 60000);
  return local.toISOString().slice(0, 16);
}

// The time zone by its name in the reader's language ("Eastern European Time"), not its id.
export function zoneName(lang: Lang, tz: string): string {
  for (const style of ['longGeneric', 'long'] as const) {
    try {
      const part = new Intl.DateTimeFormat(lang, { timeZone: tz, timeZoneName: style }).formatToParts(new Date())
        .find((p) => p.type === 'timeZoneName');
      if (part && !/^GMT[+-]|^UTC/.test(part.value)) return part.value;
    } catch {
      // an engine without this style: the next one
    }
  }
  return tz.split('/').pop()!.replace(/_/g, ' ');
}

// A calendar date written YYYY-MM-DD (a hold's last day), in the reader's words.
export function civilDate(c: Clock, ymd: string): string {
  const m = /^(\d{4})-(\d{2})-(\d{2})$/.exec(ymd);
  if (!m) return ymd;
  return new Intl.DateTimeFormat(c.lang, { timeZone: 'UTC', dateStyle: 'medium' }).format(new Date(Date.UTC(+m[1], +m[2] - 1, +m[3])));
}
