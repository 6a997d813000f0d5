// Browser tests of the personal cabinet (cabinet.html), registered by run.mjs against the same
// server, which sends mail to the SMTP sink of smtp-sink.mjs: each test makes its own subject
// through the public form endpoint, signs in with the code read from the sink, and checks what
// the page shows against what the server holds.
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { REPO, SCHOOL, staffSession, timings } from './harness.mjs';

const BASE = `/v1/schools/${SCHOOL}`;
let made = 0;

// A buyer through the "payment" form, with the required consent; a fresh address per test.
export async function makeSubject(server) {
  const email = `buyer${++made}@example.com`;
  const r = await fetch(`${server.url}${BASE}/forms/payment/submissions`, {
    method: 'POST',
    headers: { 'Content-Type': 'application/json' },
    body: JSON.stringify({
      fields: { first_name: 'Олена', email, mobile_phone: '+380671234567', purchased_service: 'Курс', purchase_amount: '1200' },
      consents: ['pd_consent'], accept_policy: true, age_statement: 'adult',
    }),
  });
  const body = await r.json();
  assert.equal(r.status, 201, JSON.stringify(body));
  return { email, subject: body.subject };
}

// A minor registered through the subscription form with a representative's permission.
let minors = 0;
export async function makeMinor(server, lang, relation) {
  const n = ++minors;
  const email = `minor${n}@example.com`;
  const representative = `representative${n}@example.com`;
  const r = await fetch(`${server.url}${BASE}/forms/subscription/submissions`, {
    method: 'POST',
    headers: { 'Content-Type': 'application/json' },
    body: JSON.stringify({
      fields: { first_name: 'Софія', email }, consents: ['pd_consent'], accept_policy: true, lang,
      age_statement: 'minor', date_of_majority: '2031-03-10',
      representative: { name: 'Галина Коваль', relation, email: representative, permission_at: '2025-03-01' },
    }),
  });
  const body = await r.json();
  assert.equal(r.status, 201, JSON.stringify(body));
  return { email, representative, subject: body.subject };
}

// Runs the outbox until the sink holds a code for `email` sent after message number `since`.
export async function mailedCode(server, sink, email, since) {
  const staff = await staffSession(server);
  for (let i = 0; i < 50; i++) {
    const code = sink.lastCode(email, since);
    if (code) return code;
    const job = await staff.post(`${BASE}/jobs/outbox/run`);
    assert.equal(job.status, 200, JSON.stringify(job.body));
    await new Promise((done) => setTimeout(done, 100));
  }
  throw new Error(`no code was e-mailed to ${email}`);
}

// The CSV download opens in a spreadsheet: a UTF-8 byte-order mark first, Cyrillic intact, and
// each value exactly as stored (a phone's "+" not turned into "'+").
function checkCsv(path) {
  const bytes = readFileSync(path);
  assert.deepEqual([...bytes.subarray(0, 3)], [0xef, 0xbb, 0xbf], 'the CSV starts with the UTF-8 byte-order mark');
  const text = bytes.subarray(3).toString('utf8');
  assert.ok(text.startsWith('field,category,value,collected_at,channel,form\r\n'), text.slice(0, 80));
  assert.match(text, /^mobile_phone,[^,]*,\+380671234567,/m);
  assert.doesNotMatch(text, /'\+380/);
  assert.match(text, /^first_name,[^,]*,Олена,/m);
  assert.match(text, /^purchased_service,[^,]*,Курс,/m);
}

// The ids a policy gives its stores, purposes, fields, consents, categories, forms, rights, roles,
// relations and other enumerations, read from the policy file: table names ([fields.email]),
// `id = "..."` entries ([[storage.stores]]) and enumerated values.
export function policyIds(file = '001_vkluchi_zhizn.toml') {
  const toml = readFileSync(`${REPO}/policies/${file}`, 'utf8');
  const ids = new Set();
  for (const m of toml.matchAll(/^\[[a-z_]+(?:\.[a-z_]+)*\.([a-z][a-z0-9_]*)\]\s*$/gm)) ids.add(m[1]);
  for (const m of toml.matchAll(/^id\s*=\s*"([a-z][a-z0-9_]*)"/gm)) ids.add(m[1]);
  for (const m of toml.matchAll(/^values\s*=\s*\[([^\]]*)\]/gm)) {
    for (const v of m[1].matchAll(/"([a-z][a-z0-9_]*)"/g)) ids.add(v[1]);
  }
  return ids;
}

// What a person reads on a page in `lang`, checked for words meant for programs: a policy id as a
// whole word (unless the page's own catalogue uses that word in this language, like "cookie"), an
// ISO 8601 timestamp, or any snake_case token. E-mail and web addresses are the person's data.
function catalogueWords(lang) {
  const words = new Set();
  for (const domain of ['pages', 'cabinet', 'banner']) {
    const texts = JSON.parse(readFileSync(`${REPO}/i18n/${domain}/${lang}.json`, 'utf8'));
    for (const text of Object.values(texts)) for (const w of text.matchAll(/[A-Za-z]+/g)) words.add(w[0].toLowerCase());
  }
  return words;
}

export function rawWords(text, ids, lang) {
  const plain = text.replace(/\S*(?:@|:\/\/)\S*/g, ' ');
  const ordinary = catalogueWords(lang);
  const found = [];
  for (const m of plain.matchAll(/\d{4}-\d{2}-\d{2}T\d{2}:[^\s]*/g)) found.push(`ISO time ${m[0]}`);
  for (const m of plain.matchAll(/(?<![\p{L}\p{N}_])\p{Ll}[\p{L}\p{N}]*(?:_[\p{L}\p{N}]+)+(?![\p{L}\p{N}_])/gu)) found.push(`snake_case ${m[0]}`);
  for (const m of plain.matchAll(/(?<![\p{L}\p{N}_])[a-z][a-z0-9_]*(?![\p{L}\p{N}_])/gu)) {
    if (ids.has(m[0]) && !ordinary.has(m[0])) found.push(`policy id ${m[0]}`);
  }
  return [...new Set(found)];
}

const overflow = (page) => page.evaluate(() => document.documentElement.scrollWidth - document.documentElement.clientWidth);

export function cabinetTests({ test, server, sink, newPage, noSeriousA11yIssues, pageTimes }) {
  const url = (lang = 'en', hash = '') => `${server().url}/cabinet.html?school=${SCHOOL}&lang=${lang}${hash}`;

  // Signs in through the page as a fresh subject; returns the subject, the page and its context.
  async function signedIn({ lang = 'en', width, height, hash = '' } = {}) {
    const who = await makeSubject(server());
    const { page, context, errors } = await newPage({ width, height });
    await page.goto(url(lang, hash));
    await timings(page);
    await signIn(page, who.email);
    return { ...who, page, context, errors };
  }

  async function signIn(page, email) {
    const since = sink().messages.length;
    await page.getByLabel('E-mail address').fill(email);
    await page.getByRole('button', { name: 'Send me a code' }).click();
    const code = await mailedCode(server(), sink(), email, since);
    await page.getByLabel('Code from the e-mail').fill(code);
    await page.getByRole('button', { name: 'Sign in' }).click();
    await page.getByRole('navigation', { name: 'Sections of the personal account' }).waitFor();
  }

  const field = (page, id) => page.locator(`li.field[data-field="${id}"]`);

  test('cabinet: sign-in with the e-mailed code; a wrong code is refused with a message', async () => {
    const who = await makeSubject(server());
    const { page, context, errors } = await newPage();
    await page.goto(url('en'));
    pageTimes.push({ page: 'cabinet', ...(await timings(page)) });
    assert.equal(await page.getByRole('heading', { level: 2 }).innerText(), 'Sign in');
    await noSeriousA11yIssues(page, 'cabinet sign-in');
    // An empty address is caught before anything is sent.
    await page.getByRole('button', { name: 'Send me a code' }).click();
    await page.getByText('Enter your e-mail address.').waitFor();
    assert.equal(await page.getByLabel('E-mail address').getAttribute('aria-invalid'), 'true');
    // The server's answer is the same for an address it does not know; no mail is sent.
    const before = sink().messages.length;
    await page.getByLabel('E-mail address').fill('nobody@example.com');
    await page.getByRole('button', { name: 'Send me a code' }).click();
    await page.getByRole('heading', { name: 'Enter the code' }).waitFor();
    assert.match(await page.locator('.signin').innerText(), /If nobody@example.com is on file, a code has been sent to it\. It is valid for 15 minutes\./);
    await (await staffSession(server())).post(`${BASE}/jobs/outbox/run`);
    assert.equal(sink().lastCode('nobody@example.com', before), null);
    await page.getByRole('button', { name: 'Use another address or get a new code' }).click();
    // A wrong code: the message sits next to the code field.
    const since = sink().messages.length;
    await page.getByLabel('E-mail address').fill(who.email.toUpperCase());
    await page.getByRole('button', { name: 'Send me a code' }).click();
    const code = await mailedCode(server(), sink(), who.email, since);
    const wrong = code === '123456' ? '654321' : '123456';
    await page.getByLabel('Code from the e-mail').fill(wrong);
    await page.getByRole('button', { name: 'Sign in' }).click();
    await page.locator('.err').filter({ hasText: 'This code is wrong or has expired' }).waitFor();
    assert.equal(await page.getByLabel('Code from the e-mail').getAttribute('aria-invalid'), 'true');
    await noSeriousA11yIssues(page, 'cabinet wrong code');
    await page.getByLabel('Code from the e-mail').fill(code);
    await page.getByRole('button', { name: 'Sign in' }).click();
    await page.getByRole('navigation', { name: 'Sections of the personal account' }).waitFor();
    await page.locator('.cab-status', { hasText: /You are signed in/ }).waitFor();
    // The session survives a reload (the HttpOnly cookie), and the page is timed signed in.
    await page.reload();
    pageTimes.push({ page: 'cabinet (in)', ...(await timings(page)) });
    await field(page, 'mobile_phone').waitFor();
    assert.deepEqual(errors, []);
    await context.close();
  });

  test('cabinet: the home page links to it; it finds the only school; it speaks Ukrainian and Russian', async () => {
    const { page, context } = await newPage();
    await page.goto(`${server().url}/?lang=uk`);
    await timings(page);
    await page.getByRole('link', { name: 'Мої персональні дані (особистий кабінет)' }).click();
    await page.waitForURL(/cabinet\.html\?lang=uk$/);
    await timings(page);
    assert.equal(await page.getByRole('heading', { level: 1 }).innerText(), 'Мої персональні дані: Включи життя');
    for (const [lang, heading, button] of [['uk', 'Вхід', 'Надіслати код'], ['ru', 'Вход', 'Отправить код']]) {
      await page.goto(url(lang));
      await timings(page);
      assert.equal(await page.locator('html').getAttribute('lang'), lang);
      assert.equal(await page.getByRole('heading', { level: 2 }).innerText(), heading);
      assert.ok(await page.getByRole('button', { name: button }).isVisible());
      await noSeriousA11yIssues(page, `cabinet sign-in ${lang}`);
    }
    await context.close();
  });

  test('cabinet: my data lists every field with its category, source, date and stores', async () => {
    const { page, context, errors, subject } = await signedIn();
    const phone = field(page, 'mobile_phone');
    assert.equal(await phone.locator('.value').innerText(), '+380671234567');
    const facts = await phone.locator('dl.facts').innerText();
    assert.match(facts, /Category/);
    assert.match(facts, /from you/);
    assert.match(facts, /3 March 2025/);  // the fake clock's day
    assert.match(facts, /Kept in\s+\S+/);
    for (const id of ['first_name', 'email', 'purchased_service', 'purchase_amount']) {
      assert.equal(await field(page, id).count(), 1, id);
    }
    // Titles come from the school's form, in the page's language.
    assert.ok((await phone.locator('h3').innerText()).length > 0);
    // The same fields as the server holds for the subject.
    const staff = await staffSession(server());
    const prov = await staff.get(`${BASE}/subjects/${subject}/provenance`);
    assert.equal(prov.status, 200, JSON.stringify(prov.body));
    const held = new Set((prov.body.items ?? prov.body).map((e) => e.field));
    assert.equal(await page.locator('li.field').count(), held.size);
    await noSeriousA11yIssues(page, 'cabinet my data');
    assert.deepEqual(errors, []);
    await context.close();
  });

  test('cabinet: a field is changed in place, and the server\'s refusal is shown next to it', async () => {
    const { page, context, errors } = await signedIn();
    const phone = field(page, 'mobile_phone');
    await phone.getByRole('button', { name: 'Change' }).click();
    const input = phone.getByLabel(/New value/);
    assert.equal(await input.evaluate((e) => e === document.activeElement), true, 'the input takes the focus');
    await input.fill('call me maybe');
    await phone.getByRole('button', { name: 'Save' }).click();
    // The page's sentence, then the school's rule in the server's words.
    await phone.locator('.err').filter({ hasText: /^The school does not accept this value\. \(«[^»]+»: enter a phone number of 7 to 15 digits/ }).waitFor();
    assert.equal(await input.getAttribute('aria-invalid'), 'true');
    await noSeriousA11yIssues(page, 'cabinet field error');
    await input.fill('+380501112233');
    await phone.getByRole('button', { name: 'Save' }).click();
    await page.locator('.cab-status').filter({ hasText: 'has been changed' }).waitFor();
    assert.equal(await field(page, 'mobile_phone').locator('.value').innerText(), '+380501112233');
    assert.equal(await field(page, 'mobile_phone').locator('.err').innerText(), '');
    // Stored: a reload shows the new value.
    await page.reload();
    await timings(page);
    assert.equal(await field(page, 'mobile_phone').locator('.value').innerText(), '+380501112233');
    assert.deepEqual(errors, []);
    await context.close();
  });

  test('cabinet: deleting a field asks first; the sign-in address cannot be deleted', async () => {
    const { page, context, errors } = await signedIn();
    const amount = field(page, 'purchase_amount');
    await amount.getByRole('button', { name: 'Delete' }).click();
    assert.match(await amount.locator('.confirm').innerText(), /cannot be undone/);
    await noSeriousA11yIssues(page, 'cabinet delete confirmation');
    await amount.getByRole('button', { name: 'No, keep it' }).click();
    assert.equal(await amount.locator('.confirm').count(), 0);
    await amount.getByRole('button', { name: 'Delete' }).click();
    await amount.getByRole('button', { name: 'Yes, delete' }).click();
    await page.locator('.cab-status').filter({ hasText: 'has been deleted' }).waitFor();
    assert.equal(await field(page, 'purchase_amount').count(), 0);
    // The e-mail address: the server refuses, and says why next to the field.
    const email = field(page, 'email');
    await email.getByRole('button', { name: 'Delete' }).click();
    await email.getByRole('button', { name: 'Yes, delete' }).click();
    await email.locator('.err').filter({ hasText: 'how you sign in' }).waitFor();
    assert.equal(await field(page, 'email').count(), 1);
    await page.reload();
    await timings(page);
    assert.equal(await field(page, 'purchase_amount').count(), 0);
    assert.deepEqual(errors, []);
    await context.close();
  });

  test('cabinet: withdrawing consent shows the policy\'s consequence notice and needs it acknowledged', async () => {
    const { page, context, errors, subject } = await signedIn({ hash: '#consents' });
    const view = page.locator('#view-consents');
    await view.getByRole('heading', { name: 'Consents', level: 2 }).waitFor();
    assert.match(await view.locator('.ledger').innerText(), /Given/);
    await noSeriousA11yIssues(page, 'cabinet consents');
    await view.getByRole('button', { name: 'Withdraw consent' }).click();
    const notice = view.locator('.consequence');
    await notice.waitFor();
    // The English line of the policy's notice, not the other two languages.
    const text = await notice.locator('.notice-text').innerText();
    assert.match(text, /^Please note: after you withdraw consent, the Project does not guarantee/);
    assert.doesNotMatch(text, /Зверніть увагу/);
    await noSeriousA11yIssues(page, 'cabinet consequence notice');
    // Nothing is filed without the tick.
    await notice.getByRole('button', { name: 'Confirm withdrawal' }).click();
    await notice.locator('.err').filter({ hasText: 'Tick the box' }).waitFor();
    const staff = await staffSession(server());
    const none = await staff.get(`${BASE}/requests?subject=${subject}`);
    assert.equal((none.body.items ?? []).filter((r) => r.type === 'withdrawal').length, 0);
    await notice.getByLabel('I have read this and want to withdraw my consent').check();
    await notice.getByRole('button', { name: 'Confirm withdrawal' }).click();
    await view.locator('.done').filter({ hasText: 'Your withdrawal has been recorded' }).waitFor();
    const filed = await staff.get(`${BASE}/requests?subject=${subject}`);
    const withdrawal = (filed.body.items ?? []).find((r) => r.type === 'withdrawal');
    assert.ok(withdrawal, JSON.stringify(filed.body));
    assert.equal(withdrawal.channel, 'personal_account');
    // The ledger shows the withdrawal, and nothing is left to withdraw.
    assert.match(await view.locator('.ledger').innerText(), /Withdrawn/);
    assert.match(await view.locator('.withdraw').innerText(), /nothing to withdraw/);
    assert.deepEqual(errors, []);
    await context.close();
  });

  test('cabinet: marketing preferences: opting out stops at once and the ledger shows it; opting in shows the wording', async () => {
    const { page, context, errors, subject } = await signedIn({ hash: '#consents' });
    const view = page.locator('#view-consents');
    const staff = await staffSession(server());
    const gate = async (purpose) => (await staff.post(`${BASE}/process`, { subject, purpose })).status;
    const item = view.locator('.mk-item[data-purpose="marketing_mailing"]');
    await item.waitFor();
    assert.equal(await item.getAttribute('data-state'), 'in');
    const shown = await item.innerText();
    assert.match(shown, /Advertising and marketing mailings/);
    assert.match(shown, /By: e-mail, SMS/);
    assert.match(shown, /You receive these messages since/);
    // Service messages under the contract are not a marketing choice (R103).
    assert.equal(await view.locator('.mk-item[data-purpose="contract_mailing"]').count(), 0);
    await noSeriousA11yIssues(page, 'cabinet marketing preferences');
    assert.equal(await gate('marketing_mailing'), 200);

    // Opt out: one press, in effect at once (R53).
    await item.getByRole('button', { name: 'Stop these messages' }).click();
    await view.locator('.done').filter({ hasText: 'You opted out of “Advertising and marketing mailings”' }).waitFor();
    const out = view.locator('.mk-item[data-purpose="marketing_mailing"]');
    assert.equal(await out.getAttribute('data-state'), 'out');
    assert.match(await out.innerText(), /Stopped: you opted out since/);
    assert.equal(await gate('marketing_mailing'), 403);
    assert.equal(await gate('contract_mailing'), 200);
    // The server's ledger holds the withdrawal of that grant alone, from the personal account.
    const ledger = await staff.get(`${BASE}/subjects/${subject}/consents`);
    const last = ledger.body.items.at(-1);
    assert.equal(last.action, 'withdraw');
    assert.deepEqual(last.grants, ['marketing_mailing']);
    assert.equal(last.channel, 'personal_account');
    // The page's history says so too; the rest of the consent can still be withdrawn.
    const entry = view.locator('.ledger li[data-action="withdraw"][data-grants="marketing_mailing"]');
    assert.match(await entry.innerText(), /Withdrawn[\s\S]*Only: Advertising and marketing mailings/);
    await view.getByRole('button', { name: 'Withdraw consent' }).waitFor();

    // Opt back in: the wording and the policy version are shown before anything is recorded.
    await out.getByRole('button', { name: 'Agree to receive these messages' }).click();
    const wording = out.locator('.mk-wording');
    await wording.waitFor();
    const text = await wording.locator('blockquote').innerText();
    assert.match(text, /^I consent to “Advertising and marketing mailings”: The Project's advertising and marketing materials/);
    assert.match(await wording.innerText(), /policy version \S+/);
    // This page is where it is withdrawn, so it says so rather than "write to support".
    assert.match(await wording.innerText(), /How to withdraw it: You can withdraw it here at any time with “Stop these messages”/);
    await noSeriousA11yIssues(page, 'cabinet marketing wording');
    assert.equal(await gate('marketing_mailing'), 403, 'nothing is recorded before the agreement');
    await wording.getByRole('button', { name: 'I agree' }).click();
    await view.locator('.done').filter({ hasText: 'Your consent to “Advertising and marketing mailings” has been recorded.' }).waitFor();
    assert.equal(await view.locator('.mk-item[data-purpose="marketing_mailing"]').getAttribute('data-state'), 'in');
    assert.equal(await gate('marketing_mailing'), 200);
    const after = await staff.get(`${BASE}/subjects/${subject}/consents`);
    const grant = after.body.items.at(-1);
    assert.equal(grant.action, 'grant');
    assert.deepEqual(grant.grants, ['marketing_mailing']);
    assert.equal(grant.text, text);
    assert.equal(grant.lang, 'en');
    assert.deepEqual(errors, []);
    await context.close();
  });

  test('cabinet: the data downloads as JSON and CSV; sending it on shows the school\'s refusal', async () => {
    const { page, context, errors, email } = await signedIn({ hash: '#download' });
    const view = page.locator('#view-download');
    await noSeriousA11yIssues(page, 'cabinet download');
    const [json] = await Promise.all([page.waitForEvent('download'), view.getByRole('link', { name: 'Download as JSON' }).click()]);
    assert.equal(json.suggestedFilename(), 'my-data.json');
    const exp = JSON.parse(readFileSync(await json.path(), 'utf8'));
    const byField = Object.fromEntries(exp.fields.map((f) => [f.field, f.value]));
    assert.equal(byField.email, email);
    assert.equal(byField.mobile_phone, '+380671234567');
    assert.equal(byField.purchase_amount, '1200');
    const [csv] = await Promise.all([page.waitForEvent('download'), view.getByRole('link', { name: /Download as CSV/ }).click()]);
    await checkCsv(await csv.path());
    // A plain http address is caught on the page; this school offers no portability.
    const dest = view.getByLabel('Address of the other service');
    await dest.fill('http://lms.example.com/in');
    await view.getByRole('button', { name: 'Send my data' }).click();
    await view.locator('.err').filter({ hasText: 'https://' }).waitFor();
    await dest.fill('https://lms.example.com/in');
    await view.getByRole('button', { name: 'Send my data' }).click();
    await view.locator('.err').filter({ hasText: 'does not offer this' }).waitFor();
    assert.equal(await dest.getAttribute('aria-invalid'), 'true');
    await noSeriousA11yIssues(page, 'cabinet transfer refused');
    assert.deepEqual(errors, []);
    await context.close();
  });

  test('cabinet: an access request is filed and listed with its state and due date', async () => {
    const { page, context, errors, subject } = await signedIn({ hash: '#requests' });
    const view = page.locator('#view-requests');
    assert.match(await view.innerText(), /You have made no requests/);
    await noSeriousA11yIssues(page, 'cabinet requests');
    await view.getByLabel('What do you ask for?').selectOption('access');
    await view.getByLabel('Anything you want to add (optional)').fill('Please send everything you hold.');
    await view.getByRole('button', { name: 'Send the request' }).click();
    await view.locator('.done').filter({ hasText: 'has been received' }).waitFor();
    const item = view.locator('li.request');
    assert.equal(await item.count(), 1);
    const shown = await item.innerText();
    assert.match(shown, /A copy of my data/);
    assert.match(shown, /State\s+In progress|State\s+Received/);
    // The due date is the server's.
    const staff = await staffSession(server());
    const listed = await staff.get(`${BASE}/requests?subject=${subject}`);
    const access = listed.body.items.find((r) => r.type === 'access');
    assert.ok(access, JSON.stringify(listed.body));
    assert.equal(access.channel, 'personal_account');
    const due = new Intl.DateTimeFormat('en-GB', { dateStyle: 'long' }).format(new Date(access.due_at));
    assert.match(await item.locator('dd.due').innerText(), new RegExp(due));
    // An objection without purposes: the server's refusal sits next to the purposes.
    await view.getByLabel('What do you ask for?').selectOption('objection');
    await view.getByRole('button', { name: 'Send the request' }).click();
    await view.locator('.err').filter({ hasText: 'Tick the purposes' }).waitFor();
    await noSeriousA11yIssues(page, 'cabinet request error');
    assert.deepEqual(errors, []);
    await context.close();
  });

  test('cabinet: an erasure states a ground chosen by its title and is sent once the policy\'s warning is acknowledged (R49, R58)', async () => {
    const { page, context, errors, subject } = await signedIn({ hash: '#requests' });
    const view = page.locator('#view-requests');
    const type = view.getByLabel('What do you ask for?');
    const ground = view.getByLabel('On what ground?');
    // Only a type whose right lists grounds asks for one.
    await type.selectOption('access');
    assert.equal(await ground.isVisible(), false);
    await type.selectOption('erasure');
    await ground.waitFor();
    // 001 §3.3.2's five grounds, by their titles in the page's language, never their ids.
    const titles = await ground.locator('option').allInnerTexts();
    assert.deepEqual(titles, ['Choose a ground', 'the data are incomplete', 'the data are outdated',
      'the data are inaccurate', 'the data were obtained unlawfully', 'the data are not necessary for the stated purpose of processing']);
    assert.deepEqual(rawWords(titles.join('\n'), policyIds(), 'en'), []);
    await noSeriousA11yIssues(page, 'cabinet erasure ground');
    // Without a ground nothing is filed: the server's refusal names the grounds, beside the select.
    await view.getByRole('button', { name: 'Send the request' }).click();
    await view.locator('.err').filter({ hasText: 'State a ground for erasure that the policy provides for: the data are incomplete; the data are outdated' }).waitFor();
    assert.equal(await ground.getAttribute('aria-invalid'), 'true');
    await ground.selectOption({ label: 'the data are not necessary for the stated purpose of processing' });
    await view.getByRole('button', { name: 'Send the request' }).click();
    // R58: 001 §3.2.5's warning, in English only, before anything is filed.
    const notice = view.locator('.consequence');
    await notice.waitFor();
    assert.equal(await notice.getByRole('heading').innerText(), 'Before you ask for erasure: what happens next');
    const text = await notice.locator('.notice-text').innerText();
    assert.equal(text, 'Please note: after your data are erased, the Project does not guarantee that services not yet provided '
      + 'when the request is received will be provided properly. Erased data may remain in third-party systems such as caches, '
      + 'search engines and interconnected proxy servers.');
    assert.equal(await view.locator('form.cab-form').first().isVisible(), false);
    await noSeriousA11yIssues(page, 'cabinet erasure warning');
    const staff = await staffSession(server());
    const filedErasures = async () => ((await staff.get(`${BASE}/requests?subject=${subject}`)).body.items ?? []).filter((r) => r.type === 'erasure');
    assert.equal((await filedErasures()).length, 0);
    // Nothing is sent without the tick.
    await notice.getByRole('button', { name: 'Send the erasure request' }).click();
    await notice.locator('.err').filter({ hasText: 'Tick the box' }).waitFor();
    assert.equal((await filedErasures()).length, 0);
    await notice.getByLabel('I have read this and want my data erased').check();
    await notice.getByRole('button', { name: 'Send the erasure request' }).click();
    await view.locator('.done').filter({ hasText: 'Your request “Erase my data” has been received' }).waitFor();
    assert.equal(await view.locator('.consequence').count(), 0);
    const [erasure] = await filedErasures();
    assert.ok(erasure, 'the erasure was filed');
    assert.equal(erasure.channel, 'personal_account');
    const full = await staff.get(`${BASE}/requests/${erasure.id}`);
    assert.equal(full.body.ground, 'not_necessary');
    const filed = full.body.timeline.find((e) => e.kind === 'filed');
    assert.equal(filed.detail.acknowledged.lang, 'en');
    assert.match(await view.locator('li.request').first().innerText(), /Erase my data/);

    // In Ukrainian the same grounds read in Ukrainian.
    await page.goto(url('uk', '#requests'));
    const uk = page.locator('#view-requests');
    await uk.getByLabel('Про що ви просите?').selectOption('erasure');
    const ukTitles = await uk.getByLabel('На якій підставі?').locator('option').allInnerTexts();
    assert.deepEqual(ukTitles.slice(1), ['дані неповні', 'дані застаріли', 'дані недостовірні', 'дані отримано незаконно',
      'дані не потрібні для заявленої мети обробки']);
    assert.deepEqual(errors, []);
    await context.close();
  });

  test('cabinet: what is done with the data: purposes, recipients, retention, automated decisions', async () => {
    const { page, context, errors } = await signedIn({ hash: '#processing' });
    const view = page.locator('#view-processing');
    const text = await view.innerText();
    assert.match(text, /Purposes/);
    assert.match(text, /legal basis: (a contract with you|your consent)/);
    assert.match(text, /kept: /);
    assert.match(text, /Who receives it/);
    assert.match(text, /No decisions about you are made solely by automated means|may be made solely by automated means/);
    assert.ok(await view.locator('.purposes li').count() > 0);
    await noSeriousA11yIssues(page, 'cabinet processing');
    assert.deepEqual(errors, []);
    await context.close();
  });

  test('cabinet: signing out ends the session', async () => {
    const { page, context, errors } = await signedIn();
    await page.getByRole('button', { name: 'Sign out' }).click();
    await page.getByRole('heading', { name: 'Sign in', level: 2 }).waitFor();
    // The status line is filled on the next animation frame (so screen readers read it anew).
    await page.locator('.cab-status', { hasText: /You have signed out/ }).waitFor();
    const me = await page.evaluate(async (path) => (await fetch(path)).status, `${BASE}/me`);
    assert.equal(me, 401);
    await page.reload();
    await timings(page);
    await page.getByRole('heading', { name: 'Sign in', level: 2 }).waitFor();
    assert.deepEqual(errors, []);
    await context.close();
  });

  test('cabinet: every view fits a 375 px phone screen without horizontal scrolling', async () => {
    const { page, context } = await newPage({ width: 375, height: 740 });
    await page.goto(url('uk'));
    await timings(page);
    assert.ok(await overflow(page) <= 0, 'sign-in');
    await context.close();
    const s = await signedIn({ width: 375, height: 740 });
    for (const view of ['data', 'consents', 'download', 'requests', 'processing']) {
      await s.page.goto(url('uk', `#${view}`));
      await timings(s.page);
      await s.page.locator(`#view-${view}`).waitFor();
      const o = await overflow(s.page);
      assert.ok(o <= 0, `${view}: ${o} px wider than the screen`);
    }
    await s.page.goto(url('uk', '#data'));
    await timings(s.page);
    await field(s.page, 'first_name').getByRole('button', { name: 'Змінити' }).click();
    assert.ok(await overflow(s.page) <= 0, 'editing a field');
    await s.context.close();
  });

  test('cabinet: by keyboard only: sign in, change a field, sign out', async () => {
    const who = await makeSubject(server());
    const { page, context, errors } = await newPage();
    await page.goto(url('en'));
    await timings(page);
    const focused = () => page.evaluate(() => {
      const e = document.activeElement;
      return `${e?.tagName.toLowerCase()}|${e?.getAttribute('name') ?? ''}|${(e?.textContent ?? '').trim()}`;
    });
    // Tab (or Shift+Tab) until the focused element matches; fails after 60 presses.
    const tabTo = async (re, back = false) => {
      for (let i = 0; i < 60; i++) {
        await page.keyboard.press(back ? 'Shift+Tab' : 'Tab');
        if (re.test(await focused())) {
          const outline = await page.evaluate(() => getComputedStyle(document.activeElement).outlineStyle);
          assert.notEqual(outline, 'none', `${await focused()} shows no focus outline`);
          return;
        }
      }
      throw new Error(`${re} was never focused; ended on ${await focused()}`);
    };
    await tabTo(/^input\|email\|/);
    const since = sink().messages.length;
    await page.keyboard.type(who.email);
    await page.keyboard.press('Enter');
    await page.getByRole('heading', { name: 'Enter the code' }).waitFor();
    assert.match(await focused(), /^input\|code\|/, 'the focus moves to the code');
    await page.keyboard.type(await mailedCode(server(), sink(), who.email, since));
    await page.keyboard.press('Enter');
    await page.getByRole('navigation', { name: 'Sections of the personal account' }).waitFor();
    // To the change button of the mobile phone: its accessible description names the field.
    for (let i = 0; i < 60; i++) {
      await page.keyboard.press('Tab');
      const onPhone = await page.evaluate(() => document.activeElement?.closest('li.field')?.getAttribute('data-field') === 'mobile_phone'
        && document.activeElement?.getAttribute('data-action') === 'edit');
      if (onPhone) break;
      assert.ok(i < 59, 'the change button of the mobile phone was never reached');
    }
    await page.keyboard.press('Enter');
    assert.match(await focused(), /^input\|mobile_phone\|/);
    await page.keyboard.press('ControlOrMeta+A');
    await page.keyboard.type('+380931234567');
    await page.keyboard.press('Enter');
    await page.locator('.cab-status').filter({ hasText: 'has been changed' }).waitFor();
    assert.equal(await field(page, 'mobile_phone').locator('.value').innerText(), '+380931234567');
    assert.equal(await page.evaluate(() => document.activeElement?.getAttribute('data-action')), 'edit', 'the focus returns to the change button');
    // Escape closes an edit without saving.
    await page.keyboard.press('Enter');
    await page.keyboard.type('x');
    await page.keyboard.press('Escape');
    assert.equal(await field(page, 'mobile_phone').locator('.value').innerText(), '+380931234567');
    // The sections are links: Enter on "Consents" moves to that view and its heading.
    await tabTo(/^a\|\|Consents$/, true);
    await page.keyboard.press('Enter');
    await page.waitForFunction(() => document.activeElement?.id === 'h-consents');
    await tabTo(/^button\|\|Sign out$/, true);
    await page.keyboard.press('Enter');
    await page.getByRole('heading', { name: 'Sign in', level: 2 }).waitFor();
    assert.deepEqual(errors, []);
    await context.close();
  });

  // Issue 12: walked in Ukrainian and Russian, every view of the public pages and the cabinet
  // reads in words: no id of the policy, no ISO timestamp, no snake_case code, dates in the
  // reader's language; the withdrawal page and the marketing state agree with what is stored.
  for (const lang of ['uk', 'ru']) {
    test(`cabinet: in ${lang} the public pages and every cabinet view show titles and dates, never ids or codes`, async () => {
      const ids = policyIds();
      const cat = JSON.parse(readFileSync(`${REPO}/i18n/cabinet/${lang}.json`, 'utf8'));
      const said = (key) => cat[key].split('{')[0];  // a message's words before its first value
      const problems = [];
      const check = async (page, where, text) => {
        const shown = text ?? await page.evaluate(() => document.body.innerText);
        for (const p of rawWords(shown, ids, lang)) problems.push(`${where}: ${p}`);
      };
      const ready = (page) => page.waitForFunction(() => document.documentElement.dataset.ready === 'true');
      const base = server().url;
      const { page, context, errors } = await newPage();

      // The public pages: the home page, the notice page's own frame (the notice itself is the
      // server's rendering, checked by its own tests) and the demo page's cookie banner.
      await page.goto(`${base}/?lang=${lang}`);
      await ready(page);
      await check(page, 'home');
      await page.goto(`${base}/notice.html?lang=${lang}`);
      await ready(page);
      await page.locator('nav.versions').waitFor();
      await check(page, 'notice page', await page.evaluate(() => {
        const copy = document.body.cloneNode(true);
        copy.querySelector('article.notice')?.remove();
        document.body.append(copy);
        const text = copy.innerText;
        copy.remove();
        return text;
      }));
      await page.goto(`${base}/demo-school.html?lang=${lang}`);
      await ready(page);
      const banner = page.locator('#dovira-cookie-banner');
      await page.waitForFunction(() => document.querySelector('#dovira-cookie-banner')?.shadowRoot?.querySelector('h2'));
      await banner.locator('button.secondary').first().click();  // "choose": the categories
      await check(page, 'cookie banner', await page.evaluate(() => {
        const root = document.querySelector('#dovira-cookie-banner').shadowRoot;
        return [...root.children].map((e) => e.innerText ?? '').join('\n');
      }));

      // The cabinet, signed in as a fresh buyer.
      const who = await makeSubject(server());
      await page.goto(url(lang));
      await ready(page);
      await check(page, 'cabinet sign-in');
      const since = sink().messages.length;
      await page.locator('input[name=email]').fill(who.email);
      await page.locator('form button[type=submit]').click();
      const code = await mailedCode(server(), sink(), who.email, since);
      await page.locator('input[name=code]').fill(code);
      await check(page, 'cabinet code');
      await page.locator('form button[type=submit]').click();
      await page.locator('nav.cab-nav').waitFor();
      const walk = async (label) => {
        for (const view of ['data', 'consents', 'download', 'requests', 'processing']) {
          await page.goto(url(lang, `#${view}`));
          await page.locator(`#view-${view}:not([hidden])`).waitFor();
          await check(page, `cabinet ${view} (${label})`);
        }
      };
      await walk('fresh');
      // The stores a field is kept in are the policy's titles, here in this language.
      const kept = await field(page, 'mobile_phone').locator('dl.facts dd').nth(3).innerText();
      assert.match(kept, lang === 'uk' ? /Договори та покупки/ : /Договоры и покупки/);

      // A request with fields and purposes, and the marketing opted out and in again.
      await page.goto(url(lang, '#requests'));
      const requests = page.locator('#view-requests');
      await requests.locator('select[name=type]').selectOption('objection');
      await requests.locator('input[name=purposes]').first().check();
      await requests.locator('form button[type=submit]').click();
      await requests.locator('.done', { hasText: said('filed') }).waitFor();
      await check(page, 'cabinet requests (filed)');
      await page.goto(url(lang, '#consents'));
      const consents = page.locator('#view-consents');
      const mk = consents.locator('.mk-item[data-purpose="marketing_mailing"]');
      await mk.locator('button.danger').click();
      await consents.locator('.done', { hasText: said('mkOptedOut') }).waitFor();
      await check(page, 'cabinet consents (opted out)');
      await consents.locator('.mk-item[data-purpose="marketing_mailing"] .actions button').click();
      await check(page, 'cabinet consents (opt-in wording)');
      await consents.locator('.mk-wording button[type=submit]').click();
      await consents.locator('.done', { hasText: said('mkOptedIn') }).waitFor();
      assert.equal(await consents.locator('.mk-item[data-purpose="marketing_mailing"]').getAttribute('data-state'), 'in');

      // Withdraw every consent: the page that withdraws does not send the person elsewhere, and
      // afterwards the marketing state and the next step it offers agree with what is stored.
      const withdraw = consents.locator('.withdraw');
      const withdrawText = await withdraw.innerText();
      if (/служб[иуа] підтримки|службу поддержки|@/.test(withdrawText)) problems.push('withdrawal page: sends the person to support');
      for (const box of await withdraw.locator('input[name=consent]').all()) await box.check();
      await withdraw.locator('form button[type=submit]').click();
      const ack = withdraw.locator('.consequence');
      await ack.waitFor();
      await check(page, 'cabinet withdrawal notice');
      await ack.locator('input[type=checkbox]').check();
      await ack.locator('button[type=submit]').click();
      await consents.locator('.withdraw .done', { hasText: said('withdrawn') }).waitFor();
      await check(page, 'cabinet consents (withdrawn)');
      const item = consents.locator('.mk-item[data-purpose="marketing_mailing"]');
      const stateBefore = await item.getAttribute('data-state');
      const offered = item.locator('.actions button');
      if (await offered.count()) {
        // What the page offers must work: agreeing makes the messages go out again.
        await offered.first().click();
        await consents.locator('.mk-wording button[type=submit]').click();
        await consents.locator('.mk-item .done').waitFor();
        const now = consents.locator('.mk-item[data-purpose="marketing_mailing"]');
        if (await now.getAttribute('data-state') !== 'in') {
          problems.push(`marketing after a withdrawal (state "${stateBefore}", ${await now.locator('.mk-state').innerText()}): ` +
            'the page offered to agree, said it was recorded, and nothing changed');
        }
      }
      const prefs = await page.evaluate(async ({ school }) => {
        const r = await fetch(`/v1/schools/${school}/me/marketing`, { headers: { Accept: 'application/json' } });
        return r.json();
      }, { school: SCHOOL });
      const stored = prefs.purposes.find((p) => p.purpose === 'marketing_mailing');
      assert.equal(await consents.locator('.mk-item[data-purpose="marketing_mailing"]').getAttribute('data-state'), stored.state);
      await walk('after a withdrawal');

      // The CSV download.
      await page.goto(url(lang, '#download'));
      const download = page.locator('#view-download');
      const [csv] = await Promise.all([page.waitForEvent('download'), download.locator('a[href*="format=csv"]').click()]);
      await checkCsv(await csv.path());

      // A representative (an adoptive parent) choosing whose account to see: the relation in words.
      const minor = await makeMinor(server(), lang, 'adoptive_parent');
      await page.goto(url(lang));
      await ready(page);
      const signOut = page.locator('.cab-bar button');
      if (await signOut.count()) {
        await signOut.click();
        await page.locator('input[name=email]').waitFor();
      }
      const since2 = sink().messages.length;
      await page.locator('input[name=email]').fill(minor.representative);
      await page.locator('form button[type=submit]').click();
      const code2 = await mailedCode(server(), sink(), minor.representative, since2);
      await page.locator('input[name=code]').fill(code2);
      await page.locator('form button[type=submit]').click();
      await page.locator('select[name=person]').waitFor();
      const options = await page.locator('select[name=person] option').allInnerTexts();
      await check(page, 'cabinet representative', `${await page.evaluate(() => document.body.innerText)}\n${options.join('\n')}`);
      assert.ok(options.some((o) => o.includes(lang === 'uk' ? 'усиновлювач' : 'усыновитель')), options.join(' | '));

      assert.deepEqual(problems, [], `words meant for programs on ${lang} pages:\n${problems.join('\n')}`);
      assert.deepEqual(errors, []);
      await context.close();
    });
  }
}
