// What every public page shares: the language (from ?lang=, then the browser, default uk), the
// header with the language switcher, and the "ready" mark the browser tests time.
import { h } from '../common/dom';
import { detectLang, LANGS, LANG_NAMES, translator, type Lang, type Translate } from '../common/i18n';
import uk from '../../../i18n/pages/uk.json';
import ru from '../../../i18n/pages/ru.json';
import en from '../../../i18n/pages/en.json';

export interface Page {
  lang: Lang;
  t: Translate;  // the public pages' texts (i18n/pages)
  main: HTMLElement;
}

function withLang(lang: Lang): string {
  const q = new URLSearchParams(location.search);
  q.set('lang', lang);
  return `${location.pathname}?${q.toString()}${location.hash}`;
}

export function startPage(title: (t: Translate) => string): Page {
  const lang = detectLang();
  const t = translator({ uk, ru, en }, lang);
  document.documentElement.lang = lang;
  document.title = title(t);
  const nav = h('nav', { class: 'langs', 'aria-label': t('langNav') });
  const list = h('ul');
  for (const l of LANGS) {
    const a = h('a', { href: withLang(l), hreflang: l, lang: l }, LANG_NAMES[l]);
    if (l === lang) a.setAttribute('aria-current', 'true');
    list.append(h('li', {}, a));
  }
  nav.append(list);
  // A page with views under #/ (the console) keeps its view when the language changes.
  window.addEventListener('hashchange', () => {
    for (const a of list.querySelectorAll<HTMLAnchorElement>('a[hreflang]')) a.href = withLang(a.hreflang as Lang);
  });
  const header = h(
    'header',
    { class: 'top' },
    h('a', { class: 'skip', href: '#main' }, t('skip')),
    h('a', { class: 'brand', href: `/?lang=${lang}` }, t('product')),
    nav,
  );
  const main = document.getElementById('main') as HTMLElement;
  document.body.prepend(header);
  return { lang, t, main };
}

// Marks the moment the page's own content is on screen (read by the browser tests).
export function ready(): void {
  performance.mark('dovira:ready');
  document.documentElement.dataset.ready = 'true';
}
