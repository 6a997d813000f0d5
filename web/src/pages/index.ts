import { h } from '../common/dom';
import { ready, startPage } from './chrome';

const { lang, t, main } = startPage((t) => t('homeTitle'));
main.append(
  h('h1', {}, t('homeTitle')),
  h('p', { class: 'lead' }, t('tagline')),
  h('p', {}, t('homeIntro')),
  h(
    'ul',
    { class: 'links' },
    h('li', {}, h('a', { href: `/notice.html?lang=${lang}` }, t('noticeLink'))),
    h('li', {}, h('a', { href: `/demo-school.html?lang=${lang}` }, t('demoLink'))),
    h('li', {}, h('a', { href: `/cabinet.html?lang=${lang}` }, t('cabinetLink'))),
    h('li', {}, h('a', { href: `/console.html?lang=${lang}` }, t('consoleLink'))),
  ),
);
ready();
