import { ready, startPage } from './chrome';

const { lang, t } = startPage((t) => t('demoTitle'));
const text = (id: string, value: string) => {
  const el = document.getElementById(id);
  if (el) el.textContent = value;
};
text('demo-title', t('demoTitle'));
text('demo-intro', t('demoIntro'));
text('form-title', t('demoForm'));
text('cookie-settings', t('demoCookies'));
// The embeds take the page's language.
for (const el of document.querySelectorAll<HTMLElement>('[data-dovira-form]')) el.dataset.lang = lang;
const banner = document.querySelector<HTMLScriptElement>('script[src$="banner.js"]');
if (banner) banner.dataset.lang = lang;

const showStats = () => text('stats-state', (window as { __statsRan?: boolean }).__statsRan ? t('statsOn') : t('statsOff'));
showStats();
document.addEventListener('demo:stats-ran', showStats);
ready();
