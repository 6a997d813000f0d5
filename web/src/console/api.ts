// The staff API as the console calls it: JSON in and out, the session cookie (set by the server,
// HttpOnly) plus the session's CSRF token on every unsafe call, and the API's one error shape
// ({"error": {"code", "message", "field"}}) turned into an ApiError.

export class ApiError extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
    readonly field: string | null = null,
    // The error object as the server sent it (a gate refusal adds decision_id, subject, purpose).
    readonly detail: Record<string, unknown> = {},
  ) {
    super(message);
  }
}

// The reader's language, sent with every call so that the server's messages are in it.
let language = '';
export function setLanguage(lang: string): void {
  language = lang;
}

let csrf = '';
// Called with the token of the session the server just confirmed (login, /v1/auth/me).
export function setCsrf(token: string): void {
  csrf = token;
}

// Everyone who must hear that the session is gone (the console shows the sign-in form).
let onSignedOut: ((e: ApiError) => void) | null = null;
export function whenSignedOut(fn: (e: ApiError) => void): void {
  onSignedOut = fn;
}

export async function call<T>(method: string, path: string, body?: unknown): Promise<T> {
  const headers: Record<string, string> = { Accept: 'application/json' };
  if (body !== undefined) headers['Content-Type'] = 'application/json';
  if (language) headers['Accept-Language'] = language;
  if (method !== 'GET' && csrf) headers['X-CSRF-Token'] = csrf;
  let r: Response;
  try {
    r = await fetch(path, {
      method,
      headers,
      body: body === undefined ? undefined : JSON.stringify(body),
      credentials: 'same-origin',
    });
  } catch {
    throw new ApiError(0, 'network', '');
  }
  const text = await r.text();
  let json: unknown = null;
  try {
    json = text ? JSON.parse(text) : null;
  } catch {
    json = null;
  }
  if (!r.ok) {
    const e = (json as { error?: { code?: string; message?: string; field?: string | null } & Record<string, unknown> } | null)?.error;
    const err = new ApiError(r.status, e?.code ?? `http_${r.status}`, e?.message ?? `HTTP ${r.status}`, e?.field ?? null, e ?? {});
    // A session that ended (expired, signed out elsewhere, a leaver) sends the console back to
    // the sign-in form; a wrong password at sign-in is the sign-in form's own error.
    if (r.status === 401 && path !== '/v1/auth/login' && onSignedOut) onSignedOut(err);
    throw err;
  }
  return json as T;
}

export const get = <T>(path: string) => call<T>('GET', path);
export const post = <T>(path: string, body: unknown = {}) => call<T>('POST', path, body);

// ---- what the API returns ----

export interface Session {
  staff: string;
  name: string;
  email?: string;
  role: string;
  school: string;
  csrf_token: string;
  mfa_required: boolean;
  must_change_password: boolean;
  briefed?: boolean;
  expires_at: string;
}

export interface Titled {
  id: string;
  title: string;
}

export interface Settings {
  school: string;
  name: string;
  policy_version: string;
  time_zone: string;
  languages: string[];
  roles: { id: string; title: string; privileged: boolean; decides_requests: boolean; purposes: string[] }[];
  // retention: the term the policy keeps a purpose's data after its trigger ("immediate", ...)
  purposes: { id: string; title: string; basis: string; retention: string }[];
  fields: { id: string; title: string; category: string }[];
  stores: Titled[];
  consents: Titled[];
  recipients: Titled[];
  categories: Titled[];
  laws: (Titled & { citation: string })[];
  // Each type the policy offers, with the grounds its right lists (titles in the reader's language).
  request_types: { type: string; right: string; term: string; trigger: string; source: string; grounds: Titled[] }[];
  // The inactivity that ends the use (R71) and the legal minimums per category (R72).
  retention: { inactivity: string | null; legal_minimum: { category: string; term: string; law: string }[] };
}

// One field of one subject whose retention ends (GET /retention/upcoming).
export interface RetentionItem {
  subject: string;
  field: string;
  category: string;
  purpose: string;  // the purpose that ended last
  trigger: string;  // agreement_end, end_of_use, consent_withdrawn, consent_expired, collection, purpose_end
  trigger_at: string;
  date: string;  // YYYY-MM-DD in the school's time zone
  action: 'destroy' | 'anonymise' | 'keep' | 'skip_legal_claims';
  law: string | null;
  kept_until: string | null;
  text: string;
}

export interface RequestTask {
  target: string;
  action: string;
  state: string;
  at: string | null;
  note: string;
}

export interface RequestRow {
  id: string;
  type: string;
  right: string;
  state: string;
  subject: string | null;
  channel: string;
  filed_by: string;
  received_at: string;
  due_at: string;
  due_source: string;
  term: string;
  trigger: string;
  overdue: boolean;
  late_by_days: number;
  assignee: string | null;
  outcome: string;
  closed_at: string | null;
}

export interface RequestFull extends RequestRow {
  filed_at: string;
  lang: string;
  fields: string[];
  purposes: string[];
  consents: string[];
  ground: string;
  segment: string;
  mode: string;
  reason: string;
  decision: string;
  clause: string;
  identity: string;
  verification_method: string;
  verified_at: string | null;
  evidence_at: string | null;
  fee_may_apply: boolean;
  warned_half_at: string | null;
  warned_four_fifths_at: string | null;
  overdue_at: string | null;
  answered_at: string | null;
  reply_email: string | null;
  statement: string;
  blocked: string[];
  restricted: string[];
  restrict_all: boolean;
  objection_pending: string[];
  objection_upheld: string[];
  kept: string[];
  tasks: RequestTask[];
  extensions: { reason: string; basis: string; previous_due: string; new_due: string }[];
  timeline?: { seq: number; at: string; actor: string; kind: string; detail: Record<string, unknown>; comment: string }[];
  messages?: {
    id: string;
    channel: string;
    kind: string;
    state: string;
    attempts: number;
    created_at: string;
    sent_at: string | null;
    due: string | null;
    last_error: string;
  }[];
}

export interface Page<T, C = string> {
  items: T[];
  next_cursor: C | null;
}

export interface Obligations {
  open: number;
  overdue: number;
  due_within_7_days: number;
  closed: number;
  closed_late: number;
}

export interface StaffRow {
  id: string;
  name: string;
  email: string;
  role: string;
  totp_enabled: boolean;
  briefing_completed_at: string | null;
  left_at: string | null;
  created_at: string;
}

export interface AuditRow {
  seq: number;
  at: string;
  actor: string;
  role: string;
  action: string;
  subject_ref: string;
  purpose: string;
  fields: string;
  outcome: string;
  reason: string;
  decision_id: string;
  request_id: string;
  detail: unknown;
}

// POST /subject-search when the gate allows: the released fields only.
export interface SearchResult {
  allowed: true;
  reason: string;
  decision_id: string;
  purpose: string;
  subject: string | null;
  fields: Record<string, string>;
  // R44: the subject's own statements on released fields, by field.
  statements?: Record<string, string>;
  audited: boolean;
}

export interface ConsentRate {
  purpose: string;
  title: string;
  eligible: number;
  given: number;
  active: number;
  withdrawn: number;
  expired: number;
}
