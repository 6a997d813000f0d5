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

// A catalogue text with its {name} placeholders filled; a placeholder without a value stays.
export function fill(text: string, args: Record<string, string | number> = {}): string {
  return text.replace(/\{([A-Za-z_][A-Za-z0-9_]*)\}/g, (m, k: string) => (k in args ? String(args[k]) : m));
}
