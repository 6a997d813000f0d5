// What every console view shares once a staff member is signed in: the language and texts, the
// session, the school's settings (GET /v1/schools/{school}/console), the staff list for names,
// the server's clock, and titles for the API's codes and the policy's ids.
import type { Lang } from '../common/i18n';
import { get, type Session, type Settings, type StaffRow } from './api';
import type { Clock } from './format';
import { consoleText, hasText, termText, type Translate } from './i18n';
import type { ConsoleMessages } from './messages';

export class App {
  private staffList: Promise<StaffRow[]> | null = null;
  // The console's catalogue in the reader's language: tr(key, args).
  readonly tr: Translate;

  constructor(
    readonly lang: Lang,
    readonly t: ConsoleMessages,  // the account view's texts
    readonly session: Session,
    readonly settings: Settings,
  ) {
    this.tr = consoleText(lang);
  }

  get base(): string {
    return `/v1/schools/${encodeURIComponent(this.session.school)}`;
  }

  // Privileged roles manage staff and read the audit log (the API refuses the others).
  get privileged(): boolean {
    return this.settings.roles.find((r) => r.id === this.session.role)?.privileged ?? false;
  }

  // Roles that may decide requests work the queue and every step of a request; the others file
  // requests and find subjects (the API refuses them the rest).
  get decidesRequests(): boolean {
    return this.settings.roles.find((r) => r.id === this.session.role)?.decides_requests ?? false;
  }

  // Where the console opens: the queue for those who work it, else the subject search.
  get home(): string {
    return this.decidesRequests ? '/requests' : '/subjects';
  }

  // The server's time now: a test server runs on a fake clock.
  async clock(): Promise<Clock> {
    const health = await get<{ now: string }>('/healthz');
    return { lang: this.lang, tz: this.settings.time_zone, now: new Date(health.now) };
  }

  // Staff accounts (privileged roles only; others get an empty list and a generic word).
  staff(refresh = false): Promise<StaffRow[]> {
    if (refresh || !this.staffList) {
      this.staffList = this.privileged
        ? get<{ items: StaffRow[] }>(`${this.base}/staff`).then((r) => r.items).catch(() => [])
        : Promise.resolve([]);
    }
    return this.staffList;
  }

  async staffName(id: string | null): Promise<string> {
    if (!id) return '';
    if (id === this.session.staff) return this.session.name;
    const s = (await this.staff()).find((x) => x.id === id);
    return s ? s.name : this.tr('aColleague');
  }

  // "staff:<id>", "system:deadlines", "subject", "guardian:<id>", ... as a reader understands it.
  async actorName(actor: string): Promise<string> {
    if (actor.startsWith('staff:')) return this.staffName(actor.slice(6));
    if (actor.startsWith('api_key:')) return this.tr('actors.api_key');
    if (actor.startsWith('guardian:')) return this.tr('actors.guardian');
    return this.code('actors', actor);
  }

  // The catalogue's words for a code of the API (`types.erasure`); a code it does not know is
  // shown as words ("some_new_code" → "some new code"), never as the identifier itself.
  code(group: string, code: string): string {
    if (!code) return '';
    const key = `${group}.${code}`;
    return hasText(key) ? this.tr(key) : humanize(code);
  }

  typeName = (type: string) => this.code('types', type);
  stateName = (state: string) => this.code('states', state);
  outcomeName = (o: string) => this.code('outcomes', o);
  term = (canonical: string) => termText(this.tr, canonical);
  roleTitle = (role: string) => this.settings.roles.find((r) => r.id === role)?.title || humanize(role);
  fieldTitle = (id: string) => this.settings.fields.find((f) => f.id === id)?.title || humanize(id);
  purposeTitle = (id: string) => this.settings.purposes.find((p) => p.id === id)?.title || humanize(id);
  consentTitle = (id: string) => this.settings.consents.find((c) => c.id === id)?.title || humanize(id);
  storeTitle = (id: string) => this.settings.stores.find((s) => s.id === id)?.title || humanize(id);
  recipientTitle = (id: string) => this.settings.recipients.find((s) => s.id === id)?.title || humanize(id);
  lawTitle = (id: string) => this.settings.laws.find((l) => l.id === id)?.title || humanize(id);
  // A request's ground by the title the policy's grounds give it, else the catalogue's word.
  groundTitle = (id: string) =>
    this.settings.request_types.flatMap((r) => r.grounds ?? []).find((g) => g.id === id)?.title || this.code('grounds', id);

  // A task's target, "store:<id>" or "recipient:<id>", by the policy's title.
  targetTitle(target: string): string {
    const [kind, id] = target.split(/:(.*)/s);
    if (kind === 'store') {
      const known = this.settings.stores.some((s) => s.id === id);
      return this.tr('targetStore', { store: known || id !== 'default' ? this.storeTitle(id) : this.tr('storeDefault') });
    }
    if (kind === 'recipient') {
      return id === 'destination' ? this.tr('targetDestination') : this.tr('targetRecipient', { recipient: this.recipientTitle(id) });
    }
    return humanize(target);
  }

  go(hash: string): void {
    if (location.hash === hash) window.dispatchEvent(new HashChangeEvent('hashchange'));
    else location.hash = hash;
  }
}

// Words from an identifier the catalogue does not know: separators become spaces.
export function humanize(id: string): string {
  return id.replace(/[_.:]+/g, ' ').trim();
}
