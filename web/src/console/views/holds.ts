// A subject's legal holds (R50), shown with a search result: what is held, why, under which law of
// the policy and until when; privileged roles place a hold (the basis chosen from the policy's
// [[laws]] by title, never typed) and release one early, after a confirmation that says what the
// release lets happen.
import { h } from '../../common/dom';
import { get, post } from '../api';
import type { App } from '../app';
import { civilDate, type Clock, isoToSchoolWallTime } from '../format';
import { ApiForm, confirmAction, type Control, table, value, selected, checked } from '../ui';

interface Hold {
  id: string;
  fields: string[];
  categories: string[];
  reason: string;
  basis: string;
  until: string;
  state: string;
  request: string | null;
}

export async function holdsSection(app: App, subject: string, clock: Clock): Promise<HTMLElement> {
  const t = app.tr;
  const lang = app.lang;
  const section = h('section', { class: 'holds', 'aria-labelledby': 'holds-title' });
  const status = h('p', { class: 'step-status', role: 'status', tabindex: '-1' });
  const listSlot = h('div');
  const path = `${app.base}/subjects/${encodeURIComponent(subject)}/holds`;

  const render = async () => {
    const holds = (await get<{ items: Hold[] }>(path)).items;
    const rows = holds.map((hold) => {
      let actions: HTMLElement | string = '';
      if (app.privileged && hold.state === 'active') {
        const f = new ApiForm(lang, { submit: t('holdRelease'), className: 'hold-release', danger: true });
        const reason: Control = f.addField({ label: t('holdReleaseReason'), name: 'reason', required: true });
        f.el.setAttribute('aria-label', `${t('holdRelease')}: ${hold.fields.map(app.fieldTitle).join(', ')}`);
        f.onSubmit(async () => {
          // Without a reason the server refuses it and names the field; with one, asked first.
          if (reason.value.trim() && !(await confirmAction(lang, {
            title: t('confirmReleaseTitle'),
            text: t(hold.request ? 'confirmReleaseErases' : 'confirmReleaseText', {
              fields: hold.fields.map(app.fieldTitle).join(', '),
              subject: t('subjectRef', { id: subject.slice(0, 8) }),
            }),
            confirm: t('holdRelease'),
          }))) {
            return t('cancelled');
          }
          await post(`${path}/${encodeURIComponent(hold.id)}/release`, { reason: reason.value.trim() });
          await render();
          status.textContent = t('holdReleased');
          status.focus();
        });
        actions = f.el;
      }
      return [
        hold.fields.map(app.fieldTitle).join(', '),
        hold.reason,
        app.lawTitle(hold.basis),
        civilDate(clock, hold.until),
        app.code('holdStates', hold.state),
        actions,
      ];
    });
    listSlot.replaceChildren(rows.length
      ? table(t('holdsTitle'), [t('fFields'), t('holdReason'), t('holdBasis'), t('holdUntil'), t('colState'), t('colActions')], rows, 'holds')
      : h('p', { class: 'meta' }, t('noHolds')));
  };

  section.append(h('h2', { id: 'holds-title' }, t('holdsTitle')), h('p', { class: 'meta' }, t('holdsIntro')), status, listSlot);
  if (app.privileged) {
    const place = new ApiForm(lang, { title: t('holdPlaceTitle'), submit: t('holdPlaceBtn'), className: 'hold-place' });
    place.addField({ label: t('fFields'), name: 'fields', type: 'select', multiple: true, size: 5, required: true,
      options: app.settings.fields.map((f): [string, string] => [f.id, f.title || app.fieldTitle(f.id)]) });
    place.addField({ label: t('holdReason'), name: 'reason', type: 'textarea', required: true });
    place.addField({ label: t('holdBasis'), name: 'basis', type: 'select', required: true, hint: t('storageBasisHint'),
      options: [['', t('none')], ...app.settings.laws.map((l): [string, string] => [l.id, l.title])] });
    place.addField({ label: t('holdUntil'), name: 'until', type: 'date', required: true,
      value: isoToSchoolWallTime(app.settings.time_zone, clock.now).slice(0, 10) });
    place.addField({ label: t('holdNotify'), name: 'notify_subject', type: 'checkbox' });
    place.onSubmit(async (el) => {
      await post(path, {
        fields: selected(el, 'fields'), reason: value(el, 'reason'), basis: value(el, 'basis'),
        until: value(el, 'until'), notify_subject: checked(el, 'notify_subject'),
      });
      el.reset();
      await render();
      return t('holdPlaced');
    });
    section.append(place.el);
  }
  await render();
  return section;
}
