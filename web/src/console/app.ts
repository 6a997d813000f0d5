// What every console view shares once a staff member is signed in: the language and texts, the
// session, the school's settings (GET /v1/schools/{school}/console), the staff list for names,
// the server's clock, and names for the API's codes.
import type { Lang } from '../common/i18n';
import { get, type Session, type Settings, type StaffRow } from './api';
import type { Clock } from './format';
import type { ConsoleMessages } from './messages';

export class App {
  private staffList: Promise<StaffRow[]> | null = null;

  constructor(
    readonly lang: Lang,
    readonly t: ConsoleMessages,
    readonly session: Session,
    readonly settings: Settings,
  ) {}

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

  // Staff accounts (privileged roles only; others get an empty list and see ids).
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
    return s ? s.name : id;
  }

  // "staff:<id>", "system:deadlines", "subject", ... as a reader understands it.
  async actorName(actor: string): Promise<string> {
    if (actor.startsWith('staff:')) return this.staffName(actor.slice(6));
    return this.t.actors[actor] ?? actor;
  }

  typeName = (type: string) => this.t.types[type] ?? type;
  stateName = (state: string) => this.t.states[state] ?? state;
  outcomeName = (o: string) => this.t.outcomes[o] ?? o;
  roleTitle = (role: string) => this.settings.roles.find((r) => r.id === role)?.title || role;
  fieldTitle = (id: string) => this.settings.fields.find((f) => f.id === id)?.title || id;
  purposeTitle = (id: string) => this.settings.purposes.find((p) => p.id === id)?.title || id;

  go(hash: string): void {
    if (location.hash === hash) window.dispatchEvent(new HashChangeEvent('hashchange'));
    else location.hash = hash;
  }
}
