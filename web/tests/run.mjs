// Browser tests of the public pages, the embeddable form and the cookie banner against the real
// server (build/release/src/cli/dovira) and Debian's Chromium. Prints each page's timings and the
// sizes checked by the build; exits 1 on the first failing test's end with every failure listed.
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { request } from 'node:http';
import { gzipSync } from 'node:zlib';
import { launch, noSeriousA11yIssues, openPage, runEach, SCHOOL, staffSession, startServer, timings } from './harness.mjs';

const tests = [];
const test = (name, fn) => tests.push({ name, fn });
const pageTimes = [];

let server;
let browser;

// A page in `lang`; with `gpc`, the browser sends the Global Privacy Control signal.
const sendsGpc = () => {
  Object.defineProperty(Navigator.prototype, 'globalPrivacyControl', { get: () => true, configurable: true });
};
const newPage = ({ gpc = false, ...options } = {}) => openPage(browser, { ...options, init: gpc ? sendsGpc : undefined });

function rawGet(path) {
  const { hostname, port } = new URL(server.url);
  return new Promise((done, fail) => {
    const r = request({ hostname, port, path, method: 'GET' }, (res) => {
      let body = '';
      res.on('data', (d) => { body += d; });
      res.on('end', () => done({ status: res.statusCode, type: res.headers['content-type'], body }));
    });
    r.on('error', fail);
    r.end();
  });
}

const banner = (page) => page.locator('#dovira-cookie-banner');
const consentCookie = async (context) =>
  (await context.cookies()).find((c) => c.name === 'vz_cookie_consent');
const proof = async (id) => (await fetch(`${server.url}/v1/schools/${SCHOOL}/cookie-consents/${id}`)).json();

// ---- static serving ------------------------------------------------------------------------------

test('the server serves the web build with content types, and refuses paths outside it', async () => {
  for (const [path, type] of [['/notice.html', 'text/html'], ['/banner.js', 'text/javascript'], ['/form.js', 'text/javascript'], ['/', 'text/html']]) {
    const r = await rawGet(path);
    assert.equal(r.status, 200, path);
    assert.ok(r.type.startsWith(type), `${path}: ${r.type}`);
  }
  for (const path of ['/../../etc/passwd', '/%2e%2e/%2e%2e/etc/passwd', '/.gitignore', '/missing.html']) {
    const r = await rawGet(path);
    assert.equal(r.status, 404, path);
    assert.equal(JSON.parse(r.body).error.code, 'not_found', path);
  }
  // An encoded slash never reaches routing or the files (the HTTP adapter refuses it).
  const slash = await rawGet('/..%2fREADME.md');
  assert.equal(slash.status, 400);
  assert.equal(JSON.parse(slash.body).error.code, 'malformed_request');
  assert.equal((await rawGet('/healthz')).status, 200);
  assert.ok((await rawGet(`/policy?school=${SCHOOL}&lang=en`)).type.startsWith('text/html'));
});

// ---- pages -------------------------------------------------------------------------------------

test('the home page links to the notice and the demo page, with a language switcher', async () => {
  const { page, context, errors } = await newPage();
  await page.goto(`${server.url}/`);
  pageTimes.push({ page: 'index', ...(await timings(page)) });
  assert.equal(await page.locator('html').getAttribute('lang'), 'en');  // the browser's language
  await page.getByRole('link', { name: 'Українська' }).click();
  await page.waitForURL(/lang=uk/);
  await page.waitForFunction(() => document.documentElement.lang === 'uk');
  assert.ok(await page.getByRole('link', { name: 'Повідомлення про обробку персональних даних' }).isVisible());
  await noSeriousA11yIssues(page, 'index');
  assert.deepEqual(errors, []);
  await context.close();
});

test('the notice page shows the notice in uk, ru and en, and its versions', async () => {
  const { page, context, errors } = await newPage();
  const headings = { uk: 'Політика конфіденційності', ru: 'Политика конфиденциальности', en: 'Privacy policy' };
  for (const [lang, heading] of Object.entries(headings)) {
    await page.goto(`${server.url}/notice.html?school=${SCHOOL}&lang=${lang}`);
    const t = await timings(page);
    if (lang === 'uk') pageTimes.push({ page: 'notice', ...t });
    assert.match(await page.locator('article.notice h1').innerText(), new RegExp(heading));
    assert.equal(await page.locator('html').getAttribute('lang'), lang);
    const versions = page.getByRole('navigation', { name: /Версії|Версии|versions/ });
    assert.match(await versions.innerText(), /2025-03-03/);
    await noSeriousA11yIssues(page, `notice ${lang}`);
  }
  // The school is found without the parameter when the server has one school.
  await page.goto(`${server.url}/notice.html?lang=en`);
  await timings(page);
  assert.match(await page.locator('article.notice h1').innerText(), /Privacy policy/);
  // An earlier version is reachable by its link and shows the file as published.
  await page.goto(`${server.url}/notice.html?school=${SCHOOL}&lang=en&version=2025-03-03`);
  await timings(page);
  assert.match(await page.locator('pre.policy-file').innerText(), /\[school\]/);
  await noSeriousA11yIssues(page, 'notice version');
  assert.deepEqual(errors, []);
  await context.close();
});

test('every page fits a 375 px phone screen without horizontal scrolling', async () => {
  const { page, context } = await newPage({ width: 375, height: 740 });
  for (const path of ['/?lang=uk', `/notice.html?school=${SCHOOL}&lang=uk`, '/demo-school.html?lang=uk']) {
    await page.goto(server.url + path);
    await timings(page);
    if (path.startsWith('/demo')) {
      await page.waitForSelector('form.dovira-form');
      await banner(page).getByRole('button', { name: 'Вибрати' }).click();
    }
    const overflow = await page.evaluate(() => document.documentElement.scrollWidth - document.documentElement.clientWidth);
    assert.ok(overflow <= 0, `${path}: ${overflow} px wider than the screen`);
  }
  await context.close();
});

// ---- the embedded form -------------------------------------------------------------------------

test('a learner registers through the embedded form with the consent check-box', async () => {
  const { page, context, errors } = await newPage();
  await page.goto(`${server.url}/demo-school.html?lang=en`);
  pageTimes.push({ page: 'demo-school', ...(await timings(page)) });
  await page.waitForSelector('form.dovira-form');
  await banner(page).getByRole('button', { name: 'Reject all' }).click();
  const form = page.locator('form.dovira-form');
  await noSeriousA11yIssues(page, 'demo form');
  await form.getByLabel('First name').fill('Olena');
  await form.getByLabel('E-mail address').fill('olena@example.com');
  await form.getByLabel('I am 18 or older').check();
  await form.getByLabel(/I have read the personal data notice/).check();
  // Without the required consent the server refuses, and says so next to the check-box.
  await form.getByRole('button', { name: 'Send' }).click();
  const consentRow = form.locator('[data-consent]');
  await consentRow.locator('.err').filter({ hasText: 'To send this form, tick «I agree to the processing of my personal data».' }).waitFor();
  assert.equal(await consentRow.locator('input').getAttribute('aria-invalid'), 'true');
  await noSeriousA11yIssues(page, 'demo form with an error');
  await form.getByLabel('I agree to the processing of my personal data').check();
  await form.getByRole('button', { name: 'Send' }).click();
  const receipt = page.locator('.receipt');
  await receipt.waitFor();
  const subject = (await receipt.locator('dd.subject').innerText()).trim();
  assert.match(subject, /^[a-z0-9]{8,}$/);
  await noSeriousA11yIssues(page, 'demo receipt');
  // The subject exists on the server, as the school's staff see it.
  const staff = await staffSession(server);
  const r = await staff.get(`/v1/schools/${SCHOOL}/subjects/${subject}`);
  assert.equal(r.status, 200, JSON.stringify(r.body));
  assert.equal(r.body.kind, 'subscriber');
  assert.equal(r.body.form, 'subscription');
  const consents = await staff.get(`/v1/schools/${SCHOOL}/subjects/${subject}/consents`);
  assert.equal(consents.status, 200);
  assert.ok(consents.body.items.some((c) => c.consent === 'personal_data' && c.action === 'grant'));
  assert.deepEqual(errors, []);
  await context.close();
});

test('the form shows the server\'s field error next to the field', async () => {
  const { page, context } = await newPage();
  await page.goto(`${server.url}/demo-school.html?lang=uk`);
  await page.waitForSelector('form.dovira-form');
  await banner(page).getByRole('button', { name: 'Відхилити всі' }).click();
  const form = page.locator('form.dovira-form');
  await form.getByLabel('Адреса електронної пошти').fill('not-an-address');
  await form.getByLabel('Мені 18 років або більше').check();
  await form.locator('[data-consent] input').check();
  await form.locator('input[name=accept_policy]').check();
  await form.getByRole('button', { name: 'Надіслати' }).click();
  const row = form.locator('[data-field=email]');
  await row.locator('.err').filter({ hasText: /введіть адресу електронної пошти/ }).waitFor();
  assert.equal(await row.locator('input').getAttribute('aria-invalid'), 'true');
  assert.equal(await page.locator('.receipt').count(), 0);
  await context.close();
});

// Issue 12 (R15, R24, R36): every mistake at once, each message by its field in the page's
// language, from the server's catalogue; the representative's fields only for a person under age.
const API_TEXTS = Object.fromEntries(['uk', 'ru', 'en'].map((l) =>
  [l, JSON.parse(readFileSync(new URL(`../../i18n/api/${l}.json`, import.meta.url), 'utf8'))]));
const fillText = (text, args) => text.replace(/\{(\w+)\}/g, (m, k) => (k in args ? args[k] : m));

for (const lang of ['uk', 'ru']) {
  test(`form (${lang}): every mistake is shown by its field in the page's language; the representative's fields follow the age answer`, async () => {
    const { page, context, errors } = await newPage({ lang: lang === 'uk' ? 'uk-UA' : 'ru-RU' });
    const def = await (await fetch(`${server.url}/v1/schools/${SCHOOL}/forms/subscription?lang=${lang}`)).json();
    const title = Object.fromEntries(def.fields.map((f) => [f.id, f.title]));
    const api = API_TEXTS[lang];
    await page.goto(`${server.url}/demo-school.html?lang=${lang}`);
    await page.waitForSelector('form.dovira-form');
    await banner(page).getByRole('button', { name: lang === 'uk' ? 'Відхилити всі' : 'Отклонить все' }).click();
    const form = page.locator('form.dovira-form');
    const guardianIds = ['representative_name', 'representative_relation', 'representative_permission_date'];
    const guardianVisible = async () => Promise.all(guardianIds.map((id) => form.locator(`[data-field=${id}]`).isVisible()));
    // R08 (001 §2.1): the form says that an e-mail or a phone is needed, by the fields' titles.
    const oneOf = await form.locator('[data-one-of]').innerText();
    assert.ok(oneOf.includes(`«${title.email}»`) && oneOf.includes(`«${title.mobile_phone}»`), oneOf);
    // No age answer yet, then an adult: no representative's fields.
    assert.deepEqual(await guardianVisible(), [false, false, false]);
    const adult = lang === 'uk' ? 'Мені 18 років або більше' : 'Мне 18 лет или больше';
    const minor = lang === 'uk' ? 'Мені менше 18 років' : 'Мне меньше 18 лет';
    await form.getByLabel(adult).check();
    assert.deepEqual(await guardianVisible(), [false, false, false]);
    // Under 18: they appear, each marked as needed, and the relation is offered by name.
    await form.getByLabel(minor).check();
    assert.deepEqual(await guardianVisible(), [true, true, true]);
    const relation = await form.locator('[data-field=representative_relation] select').innerText();
    assert.doesNotMatch(relation, /parent|guardian|custodian/);
    await noSeriousA11yIssues(page, `form ${lang} with the representative's fields`);

    // Several mistakes at once: a wrong e-mail and phone, the representative's fields empty, the
    // consent not given and the notice not accepted.
    await form.getByLabel(title.email).fill('not-an-address');
    await form.getByLabel(title.mobile_phone).fill('дзвоніть увечері');
    const sent = page.waitForRequest((r) => r.url().includes('/submissions'));
    await form.getByRole('button', { name: lang === 'uk' ? 'Надіслати' : 'Отправить' }).click();
    const request = await sent;
    assert.equal(new URL(request.url()).searchParams.get('lang'), lang);
    assert.equal(request.postDataJSON().lang, lang);
    const consentText = def.consents.find((c) => c.id === 'pd_consent').text;
    const expected = [
      ['[data-field=email]', fillText(api['field_invalid.email'], { field: `«${title.email}»` })],
      ['[data-field=mobile_phone]', fillText(api['field_invalid.phone'], { field: `«${title.mobile_phone}»` })],
      ['[data-consent=pd_consent]', fillText(api.consent_required, { consent: consentText })],
      ['[data-field=accept_policy]', api.policy_not_accepted],
      ...guardianIds.map((id) => [`[data-field=${id}]`, api.representative_required]),
    ];
    await form.locator('.summary li').nth(expected.length - 1).waitFor();
    for (const [row, message] of expected) {
      assert.equal((await form.locator(`${row} .err`).innerText()).trim(), message, row);
      assert.equal(await form.locator(row).locator('input, select').first().getAttribute('aria-invalid'), 'true', row);
    }
    const summary = (await form.locator('.summary li').allInnerTexts()).map((t) => t.trim());
    assert.deepEqual([...summary].sort(), expected.map(([, m]) => m).sort());
    for (const text of summary) {
      const plain = text.replace(/«[^»]*»/g, '');
      assert.doesNotMatch(plain, /[A-Za-z]{3,}/, `an English word in "${text}"`);
      assert.doesNotMatch(plain, /[a-z]+_[a-z_]+/, `an internal id in "${text}"`);
    }
    await noSeriousA11yIssues(page, `form ${lang} with every error`);

    // Back to an adult: the representative's fields hide and are not sent, and the form goes
    // through once the rest is right.
    await form.getByLabel(title.representative_name).fill('Марія Коваль');
    await form.getByLabel(adult).check();
    assert.deepEqual(await guardianVisible(), [false, false, false]);
    await form.getByLabel(title.email).fill(`form-${lang}@example.com`);
    await form.getByLabel(title.mobile_phone).fill('+380 67 123 45 67');
    await form.locator('[data-consent=pd_consent] input').check();
    await form.locator('input[name=accept_policy]').check();
    const second = page.waitForRequest((r) => r.url().includes('/submissions'));
    await form.getByRole('button', { name: lang === 'uk' ? 'Надіслати' : 'Отправить' }).click();
    const body = (await second).postDataJSON();
    assert.equal(body.fields.representative_name, undefined, 'a hidden field is not sent');
    await page.locator('.receipt').waitFor();
    assert.doesNotMatch(await page.locator('.receipt').innerText(), /\d{4}-\d{2}-\d{2}T/);
    assert.deepEqual(errors, []);
    await context.close();
  });
}

// ---- the cookie banner -------------------------------------------------------------------------

test('rejecting cookies: the statistics script never runs, and the choice is stored on the server', async () => {
  const { page, context, errors } = await newPage();
  await page.goto(`${server.url}/demo-school.html?lang=en`);
  const dialog = banner(page).getByRole('dialog', { name: 'Cookies on this site' });
  await dialog.waitFor();
  await noSeriousA11yIssues(page, 'banner');
  // Equal weight: the two answers look the same.
  const style = (name) => dialog.getByRole('button', { name }).evaluate((b) => {
    const s = getComputedStyle(b);
    return [s.backgroundColor, s.color, s.fontSize, s.fontWeight, s.borderWidth].join();
  });
  assert.equal(await style('Accept all'), await style('Reject all'));
  await dialog.getByRole('button', { name: 'Reject all' }).click();
  await banner(page).getByRole('button', { name: 'Cookie settings' }).waitFor();
  assert.equal(await page.evaluate(() => window.__statsRan), undefined);
  const cookie = await consentCookie(context);
  assert.ok(cookie, 'the consent cookie is set');
  const [id] = decodeURIComponent(cookie.value).split('|');
  const stored = await proof(id);
  assert.equal(stored.choice, 'reject_all');
  assert.ok(stored.rejected.includes('statistics') && stored.rejected.includes('marketing'));
  assert.equal(stored.gpc, false);
  assert.equal(stored.lang, 'en');
  assert.equal(stored.ip, '127.0.0.0/24');
  assert.equal(stored.expires_at, '2026-03-03T09:00:00.000000Z');  // consent_ttl: 12 calendar months
  // Lifetime of the cookie: the policy's consent_ttl (12 calendar months), from now.
  const days = (cookie.expires - Date.now() / 1000) / 86400;
  assert.ok(days > 360 && days < 367, `cookie lifetime ${days} days`);
  // The next visit remembers the choice: no banner, still no statistics.
  await page.reload();
  await timings(page);
  await banner(page).getByRole('button', { name: 'Cookie settings' }).waitFor();
  assert.equal(await dialog.isVisible(), false);
  await page.waitForTimeout(300);
  assert.equal(await page.evaluate(() => window.__statsRan), undefined);
  assert.deepEqual(errors, []);
  await context.close();
});

test('R99: on 003 the catAccCookies cookie keeps the choice for one month, and the banner asks again once it has expired', async () => {
  // 003's own site, with the banner for IT PRO, on a server that runs 003's policy.
  const site = await startServer({ policies: ['003_it_pro.toml'] });
  const { page, context, errors } = await newPage();
  try {
    const url = `${site.url}/it-pro-site.html`;
    await page.route(url, (route) => route.fulfill({
      contentType: 'text/html',
      body: '<!doctype html><html lang="en"><head><meta charset="utf-8"><title>IT PRO</title>' +
        '<script src="/banner.js" data-school="it-pro" data-lang="en" async></script></head>' +
        '<body><main><h1>IT PRO</h1></main></body></html>',
    }));
    await page.goto(url);
    const dialog = banner(page).getByRole('dialog');
    await dialog.waitFor();
    await dialog.getByRole('button', { name: 'Reject all' }).click();
    await banner(page).getByRole('button', { name: 'Cookie settings' }).waitFor();
    const cookie = (await context.cookies()).find((c) => c.name === 'catAccCookies');
    assert.ok(cookie, 'the consent cookie is catAccCookies, as 003 names it');
    // One calendar month from the server's 2025-03-03 09:00: 31 days, in the browser's time.
    const days = (cookie.expires - Date.now() / 1000) / 86400;
    assert.ok(days > 30.9 && days < 31.1, `catAccCookies lifetime ${days} days`);
    const [id] = decodeURIComponent(cookie.value).split('|');
    const stored = await (await fetch(`${site.url}/v1/schools/it-pro/cookie-consents/${id}`)).json();
    assert.equal(stored.expires_at, '2025-04-03T09:00:00.000000Z');

    // Within the month the choice holds: no question.
    await page.reload();
    await banner(page).getByRole('button', { name: 'Cookie settings' }).waitFor();
    assert.equal(await dialog.isVisible(), false);
    // A month later the browser has dropped the cookie: the banner asks again.
    await context.addCookies([{ ...cookie, expires: Math.floor(Date.now() / 1000) - 1 }]);
    assert.equal((await context.cookies()).find((c) => c.name === 'catAccCookies'), undefined);
    await page.reload();
    await dialog.waitFor();
    assert.equal(await dialog.isVisible(), true);
    assert.deepEqual(errors, []);
  } finally {
    await context.close();
    await site.stop();
  }
});

test('accepting cookies runs the statistics script', async () => {
  const { page, context } = await newPage({ lang: 'ru-RU' });
  await page.goto(`${server.url}/demo-school.html`);
  const dialog = banner(page).getByRole('dialog');
  await dialog.waitFor();
  assert.equal(await page.evaluate(() => window.__statsRan), undefined);  // nothing before a choice
  await dialog.getByRole('button', { name: 'Разрешить все' }).click();
  await page.waitForFunction(() => window.__statsRan === true);
  const [id] = decodeURIComponent((await consentCookie(context)).value).split('|');
  const stored = await proof(id);
  assert.equal(stored.choice, 'accept_all');
  assert.deepEqual(stored.accepted, ['necessary', 'statistics', 'marketing']);
  assert.equal(stored.lang, 'ru');
  await page.reload();
  await page.waitForFunction(() => window.__statsRan === true);  // remembered on the next visit
  await context.close();
});

test('with Global Privacy Control on, statistics stay off even on accept all, recorded as such', async () => {
  const { page, context } = await newPage({ gpc: true });
  await page.goto(`${server.url}/demo-school.html?lang=en`);
  const dialog = banner(page).getByRole('dialog');
  await dialog.waitFor();
  assert.match(await dialog.innerText(), /Global Privacy Control/);
  await dialog.getByRole('button', { name: 'Choose' }).click();
  assert.equal(await dialog.getByLabel('Statistics').isDisabled(), true);
  assert.equal(await dialog.getByLabel('Statistics').isChecked(), false);
  await noSeriousA11yIssues(page, 'banner with choices');
  await dialog.getByRole('button', { name: 'Accept all' }).click();
  await banner(page).getByRole('button', { name: 'Cookie settings' }).waitFor();
  await page.waitForTimeout(300);
  assert.equal(await page.evaluate(() => window.__statsRan), undefined);
  const [id] = decodeURIComponent((await consentCookie(context)).value).split('|');
  const stored = await proof(id);
  assert.equal(stored.gpc, true);
  assert.ok(stored.rejected.includes('statistics') && stored.rejected.includes('marketing'));
  await context.close();
});

test('the banner works by keyboard: a choice per category, reopening, Escape, visible focus', async () => {
  const { page, context } = await newPage();
  await page.goto(`${server.url}/demo-school.html?lang=en`);
  const dialog = banner(page).getByRole('dialog');
  await dialog.waitFor();
  await dialog.getByRole('button', { name: 'Choose' }).focus();
  await page.keyboard.press('Enter');
  // Focus moves to the first category that can be changed: statistics.
  await page.keyboard.press('Space');
  assert.equal(await dialog.getByLabel('Statistics').isChecked(), true);
  const outline = await page.evaluate(() => {
    const el = document.querySelector('#dovira-cookie-banner').shadowRoot.activeElement;
    return getComputedStyle(el).outlineStyle;
  });
  assert.notEqual(outline, 'none', 'the focused control shows a focus outline');
  await dialog.getByRole('button', { name: 'Save my choice' }).focus();
  await page.keyboard.press('Enter');
  await page.waitForFunction(() => window.__statsRan === true);
  const reopen = banner(page).getByRole('button', { name: 'Cookie settings' });
  assert.equal(await reopen.evaluate((b) => b.getRootNode().activeElement === b), true, 'focus returns to the reopen button');
  await page.keyboard.press('Enter');
  await dialog.waitFor();
  await page.keyboard.press('Escape');
  await reopen.waitFor();
  assert.equal(await dialog.isVisible(), false);
  // The page's own link opens it too.
  await page.getByRole('button', { name: 'Cookie settings' }).last().click();
  await dialog.waitFor();
  const [id] = decodeURIComponent((await consentCookie(context)).value).split('|');
  const stored = await proof(id);
  assert.equal(stored.choice, 'custom');
  assert.deepEqual(stored.accepted, ['necessary', 'statistics']);
  await context.close();
});

test('the cookie endpoints answer cross-origin and refuse bad input naming the field', async () => {
  const pre = await fetch(`${server.url}/v1/schools/${SCHOOL}/cookie-consents`, {
    method: 'OPTIONS', headers: { Origin: 'https://school.example', 'Access-Control-Request-Method': 'POST' },
  });
  assert.equal(pre.status, 204);
  assert.equal(pre.headers.get('access-control-allow-origin'), '*');
  for (const [body, field] of [[{ choice: 'maybe' }, 'choice'], [{ choice: 'custom', accepted: ['ads'] }, 'accepted'],
    [{ choice: 'custom', gpc: 'yes' }, 'gpc'], [{ choice: 'custom', extra: 1 }, 'extra'], [{}, 'choice']]) {
    const r = await fetch(`${server.url}/v1/schools/${SCHOOL}/cookie-consents`, {
      method: 'POST', headers: { 'Content-Type': 'application/json', Origin: 'https://school.example' }, body: JSON.stringify(body),
    });
    assert.equal(r.status, 400, JSON.stringify(body));
    assert.equal(r.headers.get('access-control-allow-origin'), '*');
    assert.equal((await r.json()).error.field, field, JSON.stringify(body));
  }
});

// ---- the personal cabinet (tests/cabinet.mjs) -----------------------------------------------------
// The server mails through the SMTP sink started below, so the tests can read the sign-in codes.

import { cabinetTests } from './cabinet.mjs';
import { startSmtpSink } from './smtp-sink.mjs';

let sink;
cabinetTests({ test, server: () => server, sink: () => sink, newPage, noSeriousA11yIssues, pageTimes });

// ---- run -----------------------------------------------------------------------------------------

const started = Date.now();
let failures = 0;
const only = process.env.WEB_TEST_ONLY;  // a part of the test names, to run only those
const chosen = tests.filter((t) => !only || t.name.includes(only));
try {
  sink = await startSmtpSink();
  server = await startServer({ extraArgs: ['--smtp-url', sink.url, '--mail-from', 'privacy@school.test'] });
  browser = await launch();
  failures = await runEach(chosen);
} finally {
  await browser?.close();
  await server?.stop();
  await sink?.stop();
}
console.log('\nPage timings (ms from navigation start, Chromium headless, local server)');
console.log('page           dom-interactive  dom-content-loaded  content-ready');
for (const t of pageTimes) {
  console.log(`${t.page.padEnd(15)}${String(t.interactive).padStart(15)}${String(t.contentLoaded).padStart(20)}${String(t.ready).padStart(15)}`);
}
for (const file of ['banner.js', 'form.js']) {
  const raw = readFileSync(new URL(`../dist/${file}`, import.meta.url));
  console.log(`${file}: ${raw.length} bytes, ${gzipSync(raw, { level: 9 }).length} bytes gzipped`);
}
console.log(`\n${chosen.length - failures}/${chosen.length} browser tests passed in ${((Date.now() - started) / 1000).toFixed(1)} s`);
process.exit(failures ? 1 : 0);
