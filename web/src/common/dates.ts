// Dates and times as a person reads them: in the reader's language and the school's time zone
// (the policy's calendar.timezone, sent as time_zone by GET /v1/schools/{school}/policy). The API
// keeps ISO 8601; only the pages format.
import type { Lang } from './i18n';

const LOCALES: Record<Lang, string> = { uk: 'uk-UA', ru: 'ru-RU', en: 'en-GB' };

export interface Dates {
  // A moment (ISO 8601 timestamp): date and time of day in the school's zone.
  when(iso: string | null | undefined): string;
  // The calendar day of a moment in the school's zone, or a plain date ("2026-09-01") as written.
  day(iso: string | null | undefined): string;
}

export function dates(lang: Lang, timeZone?: string): Dates {
  const zone = (() => {
    try {
      return timeZone ? new Intl.DateTimeFormat('en', { timeZone }).resolvedOptions().timeZone : undefined;
    } catch {
      return undefined;  // an unknown zone name: the browser's own
    }
  })();
  const locale = LOCALES[lang];
  const at = new Intl.DateTimeFormat(locale, { dateStyle: 'long', timeStyle: 'short', timeZone: zone });
  const on = new Intl.DateTimeFormat(locale, { dateStyle: 'long', timeZone: zone });
  const plain = new Intl.DateTimeFormat(locale, { dateStyle: 'long', timeZone: 'UTC' });
  const parse = (iso: string) => new Date(iso);
  return {
    when: (iso) => (iso ? at.format(parse(iso)) : '—'),
    day: (iso) => {
      if (!iso) return '—';
      const m = /^(\d{4})-(\d{2})-(\d{2})$/.exec(iso);
      if (m) return plain.format(new Date(Date.UTC(+m[1], +m[2] - 1, +m[3])));
      return on.format(parse(iso));
    },
  };
}
