// The console's texts: i18n/console/{uk,ru,en}.json through the shared t(key, args), and the
// words for what the API spells as codes (request types, states, terms ...).
import en from '../../../i18n/console/en.json';
import ru from '../../../i18n/console/ru.json';
import uk from '../../../i18n/console/uk.json';
import { type Lang, type Translate, translator } from '../common/i18n';

const CATALOGUES: Record<Lang, Record<string, string>> = { uk, ru, en };

export type { Translate };

export function consoleText(lang: Lang): Translate {
  return translator(CATALOGUES, lang);
}

// Whether the console has a text for `key` (in English at least).
export function hasText(key: string): boolean {
  return key in CATALOGUES.en || `${key}.other` in CATALOGUES.en;
}

// A term as the API spells it ("7 working days", "1 calendar month", "immediate") in words of
// the language; a spelling not recognised is shown as it is.
export function termText(t: Translate, canonical: string): string {
  if (canonical === 'immediate' || canonical === 'indefinite') return t(`term.${canonical}`);
  const m = /^(\d+) ([a-z ]+?)s?$/.exec(canonical);
  const key = m ? `term.${m[2].replace(/ /g, '_')}` : '';
  return m && hasText(key) ? t(key, { n: Number(m[1]) }) : canonical;
}
