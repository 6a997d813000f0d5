// Consent rates per consent-based purpose (#/consents, GET /consents/rates): given, in force,
// withdrawn and expired, each with a bar of its share of the subjects the purpose concerns.
import { h } from '../../common/dom';
import { get, type ConsentRate } from '../api';
import type { App } from '../app';
import { dateTime } from '../format';
import { table } from '../ui';

export async function consentsView(app: App, root: HTMLElement): Promise<void> {
  const t = app.tr;
  const [clock, rates] = await Promise.all([
    app.clock(),
    get<{ at: string; subjects: number; items: ConsentRate[] }>(`${app.base}/consents/rates?lang=${app.lang}`),
  ]);
  const pct = new Intl.NumberFormat(app.lang, { style: 'percent', maximumFractionDigits: 0 });
  const rows = rates.items.map((r) => {
    const share = r.eligible ? r.active / r.eligible : 0;
    const withdrawn = r.eligible ? r.withdrawn / r.eligible : 0;
    const bar = h('span', { class: 'rate-bar', 'aria-hidden': 'true' },
      h('span', { class: 'rate-active' }), h('span', { class: 'rate-withdrawn' }));
    (bar.children[0] as HTMLElement).style.width = `${100 * share}%`;
    (bar.children[1] as HTMLElement).style.width = `${100 * withdrawn}%`;
    return [
      r.title || app.purposeTitle(r.purpose),
      String(r.eligible),
      String(r.given),
      String(r.active),
      String(r.withdrawn),
      String(r.expired),
      h('span', { class: 'rate' }, bar, ` ${pct.format(share)}`),
    ];
  });
  root.append(
    h('h1', {}, t('consentsTitle')),
    h('p', {}, t('consentsIntro')),
    h('p', { class: 'meta' }, t('consentsAsOf', { at: dateTime(clock, rates.at), subjects: rates.subjects })),
    rows.length
      ? table(t('consentsTitle'), [t('colPurpose'), t('colEligible'), t('colGiven'), t('colActive'), t('colWithdrawn'), t('colExpired'), t('colRate')], rows, 'rates')
      : h('p', { class: 'empty' }, t('noConsentPurposes')),
  );
}
