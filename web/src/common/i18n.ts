// Language choice shared by the pages and the embeddable scripts: an explicit choice (?lang= or
// a data-lang attribute), then the browser's languages, then Ukrainian.
export type Lang = 'uk' | 'ru' | 'en';
export const LANGS: readonly Lang[] = ['uk', 'ru', 'en'];

export function isLang(v: unknown): v is Lang {
  return v === 'uk' || v === 'ru' || v === 'en';
}

export function detectLang(explicit?: string | null): Lang {
  if (isLang(explicit)) return explicit;
  const q = new URLSearchParams(location.search).get('lang');
  if (isLang(q)) return q;
  for (const l of navigator.languages ?? [navigator.language]) {
    const base = (l || '').toLowerCase().slice(0, 2);
    if (isLang(base)) return base;
  }
  return 'uk';
}

// Native names, so a reader finds their language whatever the page's language is.
export const LANG_NAMES: Record<Lang, string> = { uk: 'Українська', ru: 'Русский', en: 'English' };

// ---- message catalogues ----
// The texts people read live in i18n/<domain>/<lang>.json (one flat object of "key": "text with
// {name} placeholders"), imported by the bundles. A key with plural forms is four keys,
// key.one/.few/.many/.other, chosen by the count `n` through Intl.PluralRules.

export type Catalogue = Record<string, string>;
export type TextArgs = Record<string, string | number>;
export type Translate = (key: string, args?: TextArgs) => string;

// Replaces each {name} whose name is in `args`; other braces stay as they are.
export function fill(text: string, args: TextArgs = {}): string {
  return text.replace(/\{([A-Za-z_][A-Za-z0-9_]*)\}/g, (whole, name: string) =>
    Object.prototype.hasOwnProperty.call(args, name) ? String(args[name]) : whole);
}

// t(key, args) over one domain's catalogues in `lang`: the text of `key` (its plural form for
// args.n when the key has forms), with its placeholders filled; a missing key falls back to
// English, then to the key itself.
export function translator(catalogues: Record<Lang, Catalogue>, lang: Lang): Translate {
  const rules = new Intl.PluralRules(lang);
  const find = (key: string): string | undefined => catalogues[lang][key] ?? catalogues.en[key];
  return (key, args = {}) => {
    let text = find(key);
    if (text === undefined && typeof args.n === 'number') text = find(`${key}.${rules.select(args.n)}`) ?? find(`${key}.other`);
    return text === undefined ? key : fill(text, args);
  };
}

// The text of `key` filled like t(), or undefined when no catalogue has it: for codes the caller
// shows in its own way when the catalogue does not know them.
export function lookup(catalogues: Record<Lang, Catalogue>, lang: Lang): (key: string, args?: TextArgs) => string | undefined {
  return (key, args = {}) => {
    const text = catalogues[lang][key] ?? catalogues.en[key];
    return text === undefined ? undefined : fill(text, args);
  };
}
