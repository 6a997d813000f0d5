import type { Lang } from '../common/i18n';

// Every text of the staff console, in the three languages of the notices. Codes the API returns
// (request types, states, outcomes, timeline and message kinds, error codes) are named here; a
// code without a text is shown as the API gives it.

type Dict = Record<string, string>;

export interface ConsoleMessages {
  title: string;
  product: string;
  consoleNav: string;
  nav: { queue: string; newRequest: string; subjects: string; audit: string; consents: string; staff: string; account: string; notice: string };
  signedInAs: (name: string, role: string) => string;
  signOut: string;
  loading: string;
  loadError: string;
  required: string;
  saved: string;
  yes: string;
  no: string;
  none: string;
  schoolTime: (tz: string) => string;

  signInTitle: string;
  signInIntro: string;
  school: string;
  email: string;
  password: string;
  totp: string;
  totpHint: string;
  signIn: string;
  signedOut: string;
  sessionEnded: string;
  changeTitle: string;
  changeIntro: string;
  currentPassword: string;
  newPassword: string;
  repeatPassword: string;
  passwordMismatch: string;
  changePassword: string;
  passwordChanged: string;
  totpTitle: string;
  totpIntro: string;
  totpSecret: string;
  totpLink: string;
  totpCode: string;
  confirm: string;
  accountTitle: string;
  sessionUntil: (at: string) => string;

  queueTitle: string;
  dashboardTitle: string;
  open: string;
  overdue: string;
  dueWeek: string;
  closed: string;
  closedLate: string;
  chartTitle: string;
  chartIntro: string;
  chartPeriod: string;
  chartCount: string;
  chartOverdue: string;
  chartLater: string;
  chartThisWeek: string;
  chartEmpty: string;
  filtersTitle: string;
  fType: string;
  fState: string;
  fScope: string;
  scopeOpen: string;
  scopeOverdue: string;
  scopeAll: string;
  filterAssignee: string;
  anyone: string;
  me: string;
  anyType: string;
  anyState: string;
  apply: string;
  reset: string;
  colDue: string;
  colLeft: string;
  colType: string;
  colState: string;
  colSubject: string;
  colReceived: string;
  colAssignee: string;
  colChannel: string;
  queueCaption: (n: number) => string;
  empty: string;
  nextPage: string;
  prevPage: string;
  firstPage: string;
  pageNav: string;
  badgeOverdue: string;
  badgeUrgent: string;
  badgeWarning: string;
  daysLeft: (n: number) => string;
  dueToday: string;
  daysOverdue: (n: number) => string;
  closedOn: (date: string) => string;
  lateBy: (n: number) => string;
  open_: string;

  requestTitle: (type: string) => string;
  back: string;
  factsTitle: string;
  fId: string;
  fRight: string;
  fSubject: string;
  fChannel: string;
  fFiledBy: string;
  fReceived: string;
  fFiled: string;
  fDue: string;
  fDueSource: string;
  fTerm: string;
  fIdentity: string;
  fAssignee: string;
  fOutcome: string;
  fFee: string;
  fFields: string;
  fPurposes: string;
  fConsents: string;
  fGround: string;
  fReason: string;
  fDecision: string;
  fBlocked: string;
  fRestricted: string;
  fRestrictAll: string;
  fObjectionPending: string;
  fObjectionUpheld: string;
  fKept: string;
  fReplyEmail: string;
  fStatement: string;
  fExtensions: string;
  fWarnings: string;
  fClosed: string;
  fClause: string;
  extensionLine: (from: string, to: string, reason: string, basis: string) => string;
  dueSources: Dict;
  triggers: Dict;
  identity: Dict;
  tasksTitle: string;
  tasksIntro: string;
  colTarget: string;
  colAction: string;
  colAt: string;
  colNote: string;
  taskConfirm: string;
  taskFail: string;
  taskNote: string;
  taskStates: Dict;
  timelineTitle: string;
  timelineKinds: Dict;
  messagesTitle: string;
  noMessages: string;
  colKind: string;
  colAttempts: string;
  colCreated: string;
  colSent: string;
  colError: string;
  messageKinds: Dict;
  messageStates: Dict;
  actionsTitle: string;
  closedNote: string;
  packageLink: string;
  verifyTitle: string;
  verifyMethod: string;
  verifyMethods: Dict;
  verifyEvidence: string;
  verifyCode: string;
  verifyBtn: string;
  evidenceTitle: string;
  evidenceAt: string;
  evidenceAtHint: string;
  evidenceNote: string;
  evidenceBtn: string;
  completeTitle: string;
  changesFor: (field: string) => string;
  decision: string;
  decisions: Dict;
  justification: string;
  answer: string;
  storageNeeded: string;
  storageBasis: string;
  erasureWarning: string;
  confirmErase: string;
  note: string;
  completeBtn: string;
  rejectTitle: string;
  rejectReason: string;
  rejectBtn: string;
  extendTitle: string;
  extendTerm: string;
  extendTermHint: string;
  extendReason: string;
  extendBasis: string;
  extendBtn: string;
  assignTitle: string;
  assignStaff: string;
  assignBtn: string;
  commentTitle: string;
  commentText: string;
  commentBtn: string;

  newTitle: string;
  newIntro: string;
  filedForColleagues: string;
  nType: string;
  nTypeOption: (name: string, term: string, source: string) => string;
  nSubject: string;
  nSubjectHint: string;
  nEmail: string;
  nReplyEmail: string;
  nChannel: string;
  channels: Dict;
  nFiledBy: string;
  filedBy: Dict;
  nReceived: string;
  nReceivedHint: string;
  nLang: string;
  nFields: string;
  nPurposes: string;
  nGround: string;
  nStatement: string;
  nDestination: string;
  nDestinationHint: string;
  nAck: string;
  nEvidence: string;
  nOptional: string;
  fileBtn: string;

  auditTitle: string;
  auditIntro: string;
  verifyChain: string;
  chainOk: (entries: number, checkpoints: number) => string;
  chainBroken: (seq: number | null, problem: string) => string;
  checkpoint: string;
  checkpointDone: string;
  colSeq: string;
  colTime: string;
  colActor: string;
  colRole: string;
  colAuditAction: string;
  colPseudonym: string;
  colPurpose: string;
  colOutcome: string;
  colReason: string;
  auditRange: (from: number, to: number) => string;
  newest: string;
  older: string;
  newer: string;
  oldest: string;

  subjectsTitle: string;
  subjectsIntro: string;
  sPurpose: string;
  sPurposeHint: string;
  sRolePurposes: string;
  sOtherPurposes: string;
  sBy: string;
  sByEmail: string;
  sByPhone: string;
  sValue: string;
  sSearch: string;
  sLogged: string;
  sResultTitle: string;
  sAllowed: (purpose: string) => string;
  sRecorded: (decision: string) => string;
  sNoFields: string;
  sField: string;
  sFieldValue: string;
  sRefused: (status: number) => string;
  sRefusals: Dict;
  sSubject: string;
  sFileRequest: string;
  sOpenRequests: string;
  queueOfSubject: (id: string) => string;
  showAllRequests: string;

  consentsTitle: string;
  consentsIntro: string;
  colEligible: string;
  colGiven: string;
  colActive: string;
  colWithdrawn: string;
  colExpired: string;
  colRate: string;
  consentsAsOf: (at: string, subjects: number) => string;
  noConsentPurposes: string;

  staffTitle: string;
  colName: string;
  colEmail: string;
  colStaffRole: string;
  colTotp: string;
  colBriefing: string;
  colStatus: string;
  colActions: string;
  working: string;
  leftOn: (date: string) => string;
  notBriefed: string;
  brief: string;
  leave: string;
  leaveConfirm: (name: string) => string;
  leaveDone: (name: string) => string;
  briefDone: (name: string) => string;
  inviteTitle: string;
  inviteName: string;
  inviteEmail: string;
  inviteRole: string;
  inviteBtn: string;
  credentialsTitle: string;
  credentialsIntro: string;
  privilegedNote: string;
  copy: string;
  copied: string;

  term: (canonical: string) => string;
  types: Dict;
  states: Dict;
  outcomes: Dict;
  actors: Dict;
  errors: Dict;
}

function plural(lang: Lang, n: number, forms: Record<string, string>): string {
  const rule = new Intl.PluralRules(lang).select(n);
  return (forms[rule] ?? forms.other).replace('{n}', String(n));
}

// Terms as the API spells them ("7 working days", "1 calendar month", "immediate"), in words of
// the language; a spelling not recognised is shown as it is.
type UnitForms = Record<string, Record<string, string>>;
const UNITS: Record<Lang, UnitForms & { immediate: string; indefinite: string } | null> = {
  en: null,
  uk: {
    immediate: 'негайно',
    indefinite: 'безстроково',
    hour: { one: '{n} година', few: '{n} години', many: '{n} годин', other: '{n} години' },
    'calendar day': { one: '{n} календарний день', few: '{n} календарні дні', many: '{n} календарних днів', other: '{n} календарного дня' },
    day: { one: '{n} день', few: '{n} дні', many: '{n} днів', other: '{n} дня' },
    'working day': { one: '{n} робочий день', few: '{n} робочі дні', many: '{n} робочих днів', other: '{n} робочого дня' },
    'calendar month': { one: '{n} календарний місяць', few: '{n} календарні місяці', many: '{n} календарних місяців', other: '{n} календарного місяця' },
    'calendar year': { one: '{n} календарний рік', few: '{n} календарні роки', many: '{n} календарних років', other: '{n} календарного року' },
  } as unknown as UnitForms & { immediate: string; indefinite: string },
  ru: {
    immediate: 'немедленно',
    indefinite: 'бессрочно',
    hour: { one: '{n} час', few: '{n} часа', many: '{n} часов', other: '{n} часа' },
    'calendar day': { one: '{n} календарный день', few: '{n} календарных дня', many: '{n} календарных дней', other: '{n} календарного дня' },
    day: { one: '{n} день', few: '{n} дня', many: '{n} дней', other: '{n} дня' },
    'working day': { one: '{n} рабочий день', few: '{n} рабочих дня', many: '{n} рабочих дней', other: '{n} рабочего дня' },
    'calendar month': { one: '{n} календарный месяц', few: '{n} календарных месяца', many: '{n} календарных месяцев', other: '{n} календарного месяца' },
    'calendar year': { one: '{n} календарный год', few: '{n} календарных года', many: '{n} календарных лет', other: '{n} календарного года' },
  } as unknown as UnitForms & { immediate: string; indefinite: string },
};

function termIn(lang: Lang, canonical: string): string {
  const units = UNITS[lang];
  if (!units) return canonical;
  if (canonical === 'immediate' || canonical === 'indefinite') return units[canonical];
  const m = /^(\d+) ([a-z ]+?)s?$/.exec(canonical);
  const forms = m ? (units as UnitForms)[m[2]] : undefined;
  return m && forms ? plural(lang, Number(m[1]), forms) : canonical;
}

const en: ConsoleMessages = {
  title: 'Dovira — staff console',
  product: 'Dovira',
  consoleNav: 'Console sections',
  nav: { queue: 'Requests', newRequest: 'New request', subjects: 'Subjects', audit: 'Audit log', consents: 'Consents', staff: 'Staff', account: 'Account', notice: 'Privacy notice' },
  signedInAs: (name, role) => `Signed in as ${name} (${role})`,
  signOut: 'Sign out',
  loading: 'Loading…',
  loadError: 'This could not be loaded.',
  required: '(required)',
  saved: 'Saved.',
  yes: 'yes',
  no: 'no',
  none: '—',
  schoolTime: (tz) => `Times are in the school's time zone, ${tz}.`,

  signInTitle: 'Staff sign-in',
  signInIntro: 'The console of the school’s staff and data-protection officer: requests against their deadlines, the audit log, consents and staff accounts.',
  school: 'School',
  email: 'E-mail address',
  password: 'Password',
  totp: 'Code from the authenticator app',
  totpHint: 'Only if you have set up an authenticator app for this account: 6 digits.',
  signIn: 'Sign in',
  signedOut: 'You have signed out.',
  sessionEnded: 'Your session has ended. Please sign in again.',
  changeTitle: 'Choose a new password',
  changeIntro: 'The password you were given must be changed before you can work in the console.',
  currentPassword: 'Current password',
  newPassword: 'New password',
  repeatPassword: 'New password again',
  passwordMismatch: 'The two new passwords differ.',
  changePassword: 'Change password',
  passwordChanged: 'The password has been changed.',
  totpTitle: 'Set up a second factor',
  totpIntro: 'Your role needs a second factor. Add this key to an authenticator app (or open the link on a phone that has one), then enter the 6-digit code the app shows.',
  totpSecret: 'Key',
  totpLink: 'Open in an authenticator app',
  totpCode: 'Code from the app',
  confirm: 'Confirm',
  accountTitle: 'Account',
  sessionUntil: (at) => `This session lasts until ${at}.`,

  queueTitle: 'Request queue',
  dashboardTitle: 'Obligations',
  open: 'Open',
  overdue: 'Overdue',
  dueWeek: 'Due within 7 days',
  closed: 'Closed',
  closedLate: 'Closed late',
  chartTitle: 'Open requests by due week',
  chartIntro: 'How many open requests fall due in each of the coming weeks, and how many are already overdue.',
  chartPeriod: 'Due',
  chartCount: 'Requests',
  chartOverdue: 'Overdue',
  chartLater: 'Later',
  chartThisWeek: 'Next 7 days',
  chartEmpty: 'No open requests.',
  filtersTitle: 'Filters',
  fType: 'Type',
  fState: 'State',
  fScope: 'Show',
  scopeOpen: 'Open requests',
  scopeOverdue: 'Overdue only',
  scopeAll: 'All requests',
  filterAssignee: 'Assignee',
  anyone: 'Anyone',
  me: 'Me',
  anyType: 'Every type',
  anyState: 'Every state',
  apply: 'Apply',
  reset: 'Reset',
  colDue: 'Due',
  colLeft: 'Time left',
  colType: 'Type',
  colState: 'State',
  colSubject: 'Subject',
  colReceived: 'Received',
  colAssignee: 'Assignee',
  colChannel: 'Channel',
  queueCaption: (n) => `Requests by due date (${n} on this page)`,
  empty: 'No requests match these filters.',
  nextPage: 'Next page',
  prevPage: 'Previous page',
  firstPage: 'First page',
  pageNav: 'Pages',
  badgeOverdue: 'Overdue',
  badgeUrgent: 'Past 4/5 of the term',
  badgeWarning: 'Past half the term',
  daysLeft: (n) => plural('en', n, { one: '{n} day left', other: '{n} days left' }),
  dueToday: 'Due today',
  daysOverdue: (n) => plural('en', n, { one: '{n} day overdue', other: '{n} days overdue' }),
  closedOn: (date) => `Closed ${date}`,
  lateBy: (n) => plural('en', n, { one: '{n} day late', other: '{n} days late' }),
  open_: 'open',

  requestTitle: (type) => `Request: ${type}`,
  back: 'Back to the queue',
  factsTitle: 'The request',
  fId: 'Number',
  fRight: 'Right',
  fSubject: 'Subject',
  fChannel: 'Channel',
  fFiledBy: 'Filed by',
  fReceived: 'Received',
  fFiled: 'Registered',
  fDue: 'Due',
  fDueSource: 'Where the term comes from',
  fTerm: 'Term',
  fIdentity: 'Identity',
  fAssignee: 'Assignee',
  fOutcome: 'Outcome',
  fFee: 'A fee may apply',
  fFields: 'Fields',
  fPurposes: 'Purposes',
  fConsents: 'Consents',
  fGround: 'Ground',
  fReason: 'Reason for refusal',
  fDecision: 'Decision',
  fBlocked: 'Blocked fields (storage only)',
  fRestricted: 'Restricted fields',
  fRestrictAll: 'Everything but storage is stopped',
  fObjectionPending: 'Objection pending for',
  fObjectionUpheld: 'Objection upheld for',
  fKept: 'Kept',
  fReplyEmail: 'Reply address',
  fStatement: 'Statement',
  fExtensions: 'Extensions',
  fWarnings: 'Deadline warnings sent',
  fClosed: 'Closed',
  fClause: 'Policy clause',
  extensionLine: (from, to, reason, basis) => `${from} → ${to}: ${reason} (basis: ${basis})`,
  dueSources: { policy: 'the school’s policy', default: 'the default term (the policy states none)', awaiting_evidence: 'the default term until the evidence arrives; then' },
  triggers: {
    request_received: 'from receipt of the request',
    evidence_supplied: 'from the day the evidence is supplied',
    withdrawal_received: 'from receipt of the withdrawal',
    claim_received: 'from receipt of the claim',
    detected: 'from detection',
    action_performed: 'from the action',
  },
  identity: { not_required: 'no check needed', required: 'to be confirmed', verified: 'confirmed' },
  tasksTitle: 'Stores and recipients',
  tasksIntro: 'The request is done only when every store and recipient has confirmed its part.',
  colTarget: 'Store or recipient',
  colAction: 'Action',
  colAt: 'When',
  colNote: 'Note',
  taskConfirm: 'Confirm done',
  taskFail: 'Report a failure',
  taskNote: 'Note',
  taskStates: { pending: 'waiting', done: 'done', failed: 'failed' },
  timelineTitle: 'Timeline',
  timelineKinds: {
    filed: 'Filed',
    verified: 'Identity confirmed',
    evidence: 'Evidence received',
    extended: 'Term extended',
    assigned: 'Assigned',
    comment: 'Comment',
    closed: 'Closed',
    task_done: 'Part confirmed',
    task_failed: 'Part failed',
    warning: 'Deadline warning',
    overdue: 'Overdue',
  },
  messagesTitle: 'Messages',
  noMessages: 'No messages for this request.',
  colKind: 'Message',
  colAttempts: 'Attempts',
  colCreated: 'Written',
  colSent: 'Sent',
  colError: 'Last error',
  messageKinds: {
    received: 'Receipt',
    identity_code: 'Identity code',
    answer: 'Answer',
    no_data: 'No data held',
    rejected: 'Refusal',
    action_notice: 'Notice of the action',
    restriction_lifted: 'Restriction lifted',
    objection_decided: 'Objection decided',
    erasure_offer: 'Offer of erasure',
    warning: 'Deadline warning',
    overdue: 'Overdue alert',
    transfer: 'Transfer to the recipient',
  },
  messageStates: { pending: 'waiting to be sent', sent: 'sent', failed: 'failed' },
  actionsTitle: 'Steps',
  closedNote: 'The request is closed; no steps remain.',
  packageLink: 'Download the access package (JSON)',
  verifyTitle: 'Confirm the requester’s identity',
  verifyMethod: 'How',
  verifyMethods: { document: 'A document was checked', email_code: 'The code sent by e-mail' },
  verifyEvidence: 'Which document was checked',
  verifyCode: 'Code',
  verifyBtn: 'Confirm identity',
  evidenceTitle: 'Record the evidence',
  evidenceAt: 'Received on (school time)',
  evidenceAtHint: 'Leave empty for now. The term restarts from this moment.',
  evidenceNote: 'What was supplied',
  evidenceBtn: 'Record evidence',
  completeTitle: 'Carry out the request',
  changesFor: (field) => `Corrected value of “${field}”`,
  decision: 'Decision',
  decisions: { overriding_grounds: 'Overriding legitimate grounds: processing continues', no_overriding_grounds: 'No overriding grounds: the objection is upheld' },
  justification: 'Justification',
  answer: 'Written answer to the requester',
  storageNeeded: 'The data must be kept (storage only)',
  storageBasis: 'Legal basis for keeping them',
  erasureWarning: 'This destroys the subject’s key and deletes their data for good, backups included.',
  confirmErase: 'I understand that this cannot be undone',
  note: 'Note',
  completeBtn: 'Carry out',
  rejectTitle: 'Refuse',
  rejectReason: 'Reason (sent to the requester with their right to complain)',
  rejectBtn: 'Refuse the request',
  extendTitle: 'Extend the term',
  extendTerm: 'New term from receipt',
  extendTermHint: 'For example “30 calendar days” or “10 working days”.',
  extendReason: 'Reason',
  extendBasis: 'Legal basis',
  extendBtn: 'Extend',
  assignTitle: 'Assign',
  assignStaff: 'Staff member',
  assignBtn: 'Assign',
  commentTitle: 'Comment',
  commentText: 'Comment',
  commentBtn: 'Add comment',

  newTitle: 'File a request',
  newIntro: 'A request received through any channel. The term runs from the moment it was received.',
  filedForColleagues: 'The request is filed. Colleagues who decide requests take it from here; its term runs from the moment it was received.',
  nType: 'Type',
  nTypeOption: (name, term, source) => `${name} — ${termIn('en', term)}${source === 'default' ? ' (default)' : ''}`,
  nSubject: 'Subject id',
  nSubjectHint: 'Or give the requester’s e-mail address: the subject is found by it.',
  nEmail: 'Requester’s e-mail address',
  nReplyEmail: 'Reply address',
  nChannel: 'Received through',
  channels: { email: 'E-mail', support: 'Support service', written: 'Letter', phone: 'Phone', personal_account: 'Personal account', web: 'Web form' },
  nFiledBy: 'Filed by',
  filedBy: { subject: 'The subject', representative: 'A representative', staff: 'School staff' },
  nReceived: 'Received on (school time)',
  nReceivedHint: 'Leave empty for now.',
  nLang: 'Language of the answers',
  nFields: 'Fields (rectification, restriction)',
  nPurposes: 'Purposes (objection, withdrawal)',
  nGround: 'Ground (erasure, restriction)',
  nStatement: 'Statement (what the requester wrote)',
  nDestination: 'Transmit to (portability)',
  nDestinationHint: 'The address of the other controller’s system that receives the data directly.',
  nAck: 'The requester was told what follows from withdrawing consent',
  nEvidence: 'The evidence came with the request',
  nOptional: 'More details',
  fileBtn: 'File the request',

  auditTitle: 'Audit log',
  auditIntro: 'Every action on personal data, hash-chained. Subjects appear only by pseudonym.',
  verifyChain: 'Verify the chain',
  chainOk: (entries, checkpoints) => `The chain is intact: ${entries} entries, ${checkpoints} signed checkpoints.`,
  chainBroken: (seq, problem) => `The chain is broken${seq === null ? '' : ` at entry ${seq}`}: ${problem}`,
  checkpoint: 'Sign a checkpoint now',
  checkpointDone: 'The chain head is signed.',
  colSeq: 'No.',
  colTime: 'Time',
  colActor: 'Who',
  colRole: 'Role',
  colAuditAction: 'Action',
  colPseudonym: 'Subject (pseudonym)',
  colPurpose: 'Purpose',
  colOutcome: 'Outcome',
  colReason: 'Reason',
  auditRange: (from, to) => `Entries ${from}–${to}`,
  newest: 'Newest',
  older: 'Older',
  newer: 'Newer',
  oldest: 'Oldest',

  subjectsTitle: 'Find a subject',
  subjectsIntro: 'Look a person up by e-mail address or phone number for a stated purpose. The purpose gate decides: you see only the fields that purpose and your role allow, or why it refuses.',
  sPurpose: 'Purpose of this look-up',
  sPurposeHint: 'The reason you need the data now. The school’s policy says which purposes your role may use.',
  sRolePurposes: 'Purposes of your role',
  sOtherPurposes: 'Other purposes (the gate refuses them for your role)',
  sBy: 'Search by',
  sByEmail: 'E-mail address',
  sByPhone: 'Phone number',
  sValue: 'E-mail address or phone number',
  sSearch: 'Search',
  sLogged: 'Every search is recorded in the audit log with its purpose, your name and the gate’s answer, whether or not anyone is found.',
  sResultTitle: 'Result',
  sAllowed: (purpose) => `Released for “${purpose}”: only the fields this purpose and your role allow.`,
  sRecorded: (decision) => `This read is recorded in the audit log (decision ${decision}).`,
  sNoFields: 'The purpose releases no field that this subject has.',
  sField: 'Field',
  sFieldValue: 'Value',
  sRefused: (status) => `Refused by the gate (${status})`,
  sRefusals: {
    role_denied: 'Your role may not use this purpose. Choose a purpose of your role.',
    purpose_disabled: 'This purpose is switched off in the school’s policy.',
    briefing_required: 'Your data-protection briefing is not recorded yet; ask a privileged colleague to record it.',
    subject_unknown: 'No one with this e-mail address or phone number is on file.',
    subject_kind_excluded: 'This purpose does not concern this kind of person.',
    no_consent: 'Missing consent: this purpose rests on consent, and the subject has not given it.',
    consent_not_yet_given: 'Missing consent: the subject’s consent starts later.',
    consent_withdrawn: 'Missing consent: the subject withdrew the consent this purpose needs.',
    consent_expired: 'Missing consent: the subject’s consent has expired.',
    minor: 'The subject is a minor, and this purpose is not allowed for minors.',
    subject_closing: 'The subject disagreed with the policy: only storage is allowed.',
    blocked: 'Restricted data: a field is blocked while a rectification is pending.',
    restricted: 'Restricted data: the processing is restricted, only storage is allowed.',
    objection_pending: 'Restricted data: the subject objected to this purpose and the decision is pending.',
    objection_upheld: 'The subject’s objection to this purpose was upheld.',
    retention_ended: 'The retention period of this purpose has ended for the subject.',
    field_not_in_role: 'A field is outside the categories your role may see.',
  },
  sSubject: 'Subject',
  sFileRequest: 'File a request for this subject',
  sOpenRequests: 'This subject’s requests',
  queueOfSubject: (id) => `Requests of subject ${id}`,
  showAllRequests: 'Show every request',

  consentsTitle: 'Consents by purpose',
  consentsIntro: 'For each purpose that rests on consent: how many subjects it concerns, how many gave consent, and how many of those consents are in force, withdrawn or expired. No personal data.',
  colEligible: 'Subjects concerned',
  colGiven: 'Gave consent',
  colActive: 'In force',
  colWithdrawn: 'Withdrawn',
  colExpired: 'Expired',
  colRate: 'In force, of those concerned',
  consentsAsOf: (at, subjects) => `As of ${at}; ${subjects} subjects in all.`,
  noConsentPurposes: 'The policy has no purposes based on consent.',

  staffTitle: 'Staff',
  colName: 'Name',
  colEmail: 'E-mail',
  colStaffRole: 'Role',
  colTotp: 'Second factor',
  colBriefing: 'Briefing',
  colStatus: 'Status',
  colActions: 'Actions',
  working: 'active',
  leftOn: (date) => `left ${date}`,
  notBriefed: 'not yet',
  brief: 'Record briefing',
  leave: 'Mark as leaver',
  leaveConfirm: (name) => `Revoke every session and key of ${name} now? This cannot be undone.`,
  leaveDone: (name) => `${name} has left: sessions and keys are revoked.`,
  briefDone: (name) => `Briefing of ${name} recorded.`,
  inviteTitle: 'Add a staff member',
  inviteName: 'Full name',
  inviteEmail: 'E-mail address',
  inviteRole: 'Role',
  inviteBtn: 'Create the account',
  credentialsTitle: 'First sign-in details',
  credentialsIntro: 'The password is shown once only. Give it to the person through a separate channel and ask them to change it at first sign-in.',
  privilegedNote: 'This role is privileged: at first sign-in the person also sets up an authenticator app.',
  copy: 'Copy',
  copied: 'Copied.',

  term: (c) => termIn('en', c),
  types: {
    access: 'Access to data',
    confirmation: 'Confirmation of processing',
    information: 'Information on processing',
    transfer_info: 'Information on transfers',
    rectification: 'Rectification',
    erasure: 'Erasure',
    restriction: 'Restriction of processing',
    suspend: 'Suspension of processing',
    objection: 'Objection',
    marketing_objection: 'Objection to marketing',
    object_direct_marketing: 'Objection to direct marketing',
    portability: 'Data portability',
    withdrawal: 'Withdrawal of consent',
    automated_decision_review: 'Review of an automated decision',
    contest_segment: 'Contesting a segment',
    no_automated_decisions: 'Opt-out of automated decisions',
    complaint: 'Complaint',
    claim: 'Claim',
    unlawful_processing: 'Unlawful processing',
  },
  states: {
    received: 'Received',
    awaiting_identity: 'Awaiting identity',
    awaiting_evidence: 'Awaiting evidence',
    in_progress: 'In progress',
    done: 'Done',
    partly_done: 'Partly done',
    rejected: 'Refused',
  },
  outcomes: {
    answered: 'answered',
    no_data: 'no data held',
    rectified: 'rectified',
    erased: 'erased',
    kept_for_storage: 'kept for storage',
    lifted: 'restriction lifted',
    overriding_grounds: 'overriding grounds',
    no_overriding_grounds: 'objection upheld',
    rejected: 'refused',
    done: 'done',
    withdrawn: 'consent withdrawn',
    effective: 'in effect',
  },
  actors: { subject: 'the subject', public: 'the public', 'system:deadlines': 'deadline job', 'system:outbox': 'delivery job' },
  errors: {
    network: 'The server could not be reached. Check the connection and try again.',
    invalid_credentials: 'The e-mail, password or code is not correct.',
    locked_out: 'Too many failed attempts: the account is locked for a while.',
    rate_limited: 'Too many sign-in attempts from this address. Try again in a minute.',
    account_left: 'This account belongs to someone who has left; it can no longer sign in.',
    session_invalid: 'Your session has ended. Please sign in again.',
    unauthenticated: 'Please sign in.',
    csrf_token_invalid: 'The page is out of date. Reload it and try again.',
    role_denied: 'Your role cannot do this under the school’s policy: ask a colleague whose role may.',
    school_mismatch: 'Your account belongs to another school.',
    mfa_required: 'Set up the second factor first.',
    password_change_required: 'Change your password first.',
  },
};

const uk: ConsoleMessages = {
  product: 'Dovira',
  none: '—',
  title: 'Dovira — консоль персоналу',
  consoleNav: 'Розділи консолі',
  nav: { queue: 'Запити', newRequest: 'Новий запит', subjects: 'Суб’єкти', audit: 'Журнал аудиту', consents: 'Згоди', staff: 'Персонал', account: 'Обліковий запис', notice: 'Повідомлення про обробку даних' },
  signedInAs: (name, role) => `Ви увійшли як ${name} (${role})`,
  signOut: 'Вийти',
  loading: 'Завантаження…',
  loadError: 'Не вдалося завантажити.',
  required: '(обов’язково)',
  saved: 'Збережено.',
  yes: 'так',
  no: 'ні',
  schoolTime: (tz) => `Час указано в часовому поясі школи, ${tz}.`,

  signInTitle: 'Вхід для персоналу',
  signInIntro: 'Консоль персоналу школи та відповідальної особи: запити та їхні строки, журнал аудиту, згоди й облікові записи персоналу.',
  school: 'Школа',
  email: 'Адреса електронної пошти',
  password: 'Пароль',
  totp: 'Код із застосунку автентифікації',
  totpHint: 'Лише якщо для цього облікового запису налаштовано застосунок: 6 цифр.',
  signIn: 'Увійти',
  signedOut: 'Ви вийшли з консолі.',
  sessionEnded: 'Сеанс завершився. Увійдіть знову.',
  changeTitle: 'Оберіть новий пароль',
  changeIntro: 'Пароль, який вам видали, треба змінити, перш ніж працювати в консолі.',
  currentPassword: 'Поточний пароль',
  newPassword: 'Новий пароль',
  repeatPassword: 'Новий пароль ще раз',
  passwordMismatch: 'Нові паролі не збігаються.',
  changePassword: 'Змінити пароль',
  passwordChanged: 'Пароль змінено.',
  totpTitle: 'Налаштуйте другий фактор',
  totpIntro: 'Ваша роль потребує другого фактора. Додайте цей ключ у застосунок автентифікації (або відкрийте посилання на телефоні із застосунком) і введіть 6-значний код, який він показує.',
  totpSecret: 'Ключ',
  totpLink: 'Відкрити в застосунку автентифікації',
  totpCode: 'Код із застосунку',
  confirm: 'Підтвердити',
  accountTitle: 'Обліковий запис',
  sessionUntil: (at) => `Сеанс триває до ${at}.`,

  queueTitle: 'Черга запитів',
  dashboardTitle: 'Зобов’язання',
  open: 'Відкриті',
  overdue: 'Прострочені',
  dueWeek: 'Строк за 7 днів',
  closed: 'Закриті',
  closedLate: 'Закриті із запізненням',
  chartTitle: 'Відкриті запити за тижнями строку',
  chartIntro: 'Скільки відкритих запитів мають строк у кожному з найближчих тижнів і скільки вже прострочено.',
  chartPeriod: 'Строк',
  chartCount: 'Запитів',
  chartOverdue: 'Прострочені',
  chartLater: 'Пізніше',
  chartThisWeek: 'Найближчі 7 днів',
  chartEmpty: 'Відкритих запитів немає.',
  filtersTitle: 'Фільтри',
  fType: 'Тип',
  fState: 'Стан',
  fScope: 'Показати',
  scopeOpen: 'Відкриті запити',
  scopeOverdue: 'Лише прострочені',
  scopeAll: 'Усі запити',
  filterAssignee: 'Виконавець',
  anyone: 'Будь-хто',
  me: 'Я',
  anyType: 'Усі типи',
  anyState: 'Усі стани',
  apply: 'Застосувати',
  reset: 'Скинути',
  colDue: 'Строк',
  colLeft: 'Залишилось',
  colType: 'Тип',
  colState: 'Стан',
  colSubject: 'Суб’єкт',
  colReceived: 'Отримано',
  colAssignee: 'Виконавець',
  colChannel: 'Канал',
  queueCaption: (n) => `Запити за строком (${n} на цій сторінці)`,
  empty: 'Немає запитів за цими фільтрами.',
  nextPage: 'Наступна сторінка',
  prevPage: 'Попередня сторінка',
  firstPage: 'Перша сторінка',
  pageNav: 'Сторінки',
  badgeOverdue: 'Прострочено',
  badgeUrgent: 'Минуло 4/5 строку',
  badgeWarning: 'Минула половина строку',
  daysLeft: (n) => plural('uk', n, { one: 'залишився {n} день', few: 'залишилося {n} дні', many: 'залишилося {n} днів', other: 'залишилося {n} дня' }),
  dueToday: 'Строк сьогодні',
  daysOverdue: (n) => plural('uk', n, { one: 'прострочено на {n} день', few: 'прострочено на {n} дні', many: 'прострочено на {n} днів', other: 'прострочено на {n} дня' }),
  closedOn: (date) => `Закрито ${date}`,
  lateBy: (n) => plural('uk', n, { one: 'із запізненням на {n} день', few: 'із запізненням на {n} дні', many: 'із запізненням на {n} днів', other: 'із запізненням на {n} дня' }),
  open_: 'відкритий',

  requestTitle: (type) => `Запит: ${type}`,
  back: 'До черги',
  factsTitle: 'Запит',
  fId: 'Номер',
  fRight: 'Право',
  fSubject: 'Суб’єкт',
  fChannel: 'Канал',
  fFiledBy: 'Хто подав',
  fReceived: 'Отримано',
  fFiled: 'Зареєстровано',
  fDue: 'Строк',
  fDueSource: 'Звідки строк',
  fTerm: 'Термін',
  fIdentity: 'Особа',
  fAssignee: 'Виконавець',
  fOutcome: 'Результат',
  fFee: 'Може бути плата',
  fFields: 'Поля',
  fPurposes: 'Цілі',
  fConsents: 'Згоди',
  fGround: 'Підстава',
  fReason: 'Причина відмови',
  fDecision: 'Рішення',
  fBlocked: 'Заблоковані поля (лише зберігання)',
  fRestricted: 'Обмежені поля',
  fRestrictAll: 'Зупинено все, крім зберігання',
  fObjectionPending: 'Заперечення розглядається щодо',
  fObjectionUpheld: 'Заперечення задоволено щодо',
  fKept: 'Збережено',
  fReplyEmail: 'Адреса для відповіді',
  fStatement: 'Заява',
  fExtensions: 'Продовження',
  fWarnings: 'Попередження про строк',
  fClosed: 'Закрито',
  fClause: 'Пункт політики',
  extensionLine: (from, to, reason, basis) => `${from} → ${to}: ${reason} (підстава: ${basis})`,
  dueSources: { policy: 'політика школи', default: 'строк за замовчуванням (політика свого не встановлює)', awaiting_evidence: 'строк за замовчуванням до надходження доказів; потім' },
  triggers: {
    request_received: 'від отримання запиту',
    evidence_supplied: 'від дня надання доказів',
    withdrawal_received: 'від отримання відкликання',
    claim_received: 'від отримання претензії',
    detected: 'від виявлення',
    action_performed: 'від виконання дії',
  },
  identity: { not_required: 'перевірка не потрібна', required: 'потрібно підтвердити', verified: 'підтверджено' },
  tasksTitle: 'Сховища та одержувачі',
  tasksIntro: 'Запит виконано лише тоді, коли кожне сховище й кожен одержувач підтвердили свою частину.',
  colTarget: 'Сховище чи одержувач',
  colAction: 'Дія',
  colAt: 'Коли',
  colNote: 'Примітка',
  taskConfirm: 'Підтвердити виконання',
  taskFail: 'Повідомити про збій',
  taskNote: 'Примітка',
  taskStates: { pending: 'очікує', done: 'виконано', failed: 'збій' },
  timelineTitle: 'Хронологія',
  timelineKinds: {
    filed: 'Зареєстровано',
    verified: 'Особу підтверджено',
    evidence: 'Надійшли докази',
    extended: 'Строк продовжено',
    assigned: 'Призначено виконавця',
    comment: 'Коментар',
    closed: 'Закрито',
    task_done: 'Частину підтверджено',
    task_failed: 'Збій частини',
    warning: 'Попередження про строк',
    overdue: 'Прострочено',
  },
  messagesTitle: 'Повідомлення',
  noMessages: 'Повідомлень щодо цього запиту немає.',
  colKind: 'Повідомлення',
  colAttempts: 'Спроб',
  colCreated: 'Створено',
  colSent: 'Надіслано',
  colError: 'Остання помилка',
  messageKinds: {
    received: 'Підтвердження отримання',
    identity_code: 'Код підтвердження особи',
    answer: 'Відповідь',
    no_data: 'Даних немає',
    rejected: 'Відмова',
    action_notice: 'Повідомлення про дію',
    restriction_lifted: 'Обмеження знято',
    objection_decided: 'Рішення щодо заперечення',
    erasure_offer: 'Пропозиція видалення',
    warning: 'Попередження про строк',
    overdue: 'Сповіщення про прострочення',
    transfer: 'Передання одержувачу',
  },
  messageStates: { pending: 'очікує надсилання', sent: 'надіслано', failed: 'не надіслано' },
  actionsTitle: 'Кроки',
  closedNote: 'Запит закрито; кроків не лишилося.',
  packageLink: 'Завантажити пакет даних (JSON)',
  verifyTitle: 'Підтвердити особу заявника',
  verifyMethod: 'Спосіб',
  verifyMethods: { document: 'Перевірено документ', email_code: 'Код, надісланий листом' },
  verifyEvidence: 'Який документ перевірено',
  verifyCode: 'Код',
  verifyBtn: 'Підтвердити особу',
  evidenceTitle: 'Зафіксувати докази',
  evidenceAt: 'Коли надійшли (час школи)',
  evidenceAtHint: 'Порожньо — зараз. Строк почнеться від цього моменту.',
  evidenceNote: 'Що надано',
  evidenceBtn: 'Зафіксувати докази',
  completeTitle: 'Виконати запит',
  changesFor: (field) => `Виправлене значення «${field}»`,
  decision: 'Рішення',
  decisions: { overriding_grounds: 'Є переважні законні підстави: обробка триває', no_overriding_grounds: 'Переважних підстав немає: заперечення задоволено' },
  justification: 'Обґрунтування',
  answer: 'Письмова відповідь заявнику',
  storageNeeded: 'Дані треба зберігати (лише зберігання)',
  storageBasis: 'Правова підстава зберігання',
  erasureWarning: 'Ключ суб’єкта буде знищено, а його дані видалено назавжди, зокрема в резервних копіях.',
  confirmErase: 'Я розумію, що це незворотно',
  note: 'Примітка',
  completeBtn: 'Виконати',
  rejectTitle: 'Відмовити',
  rejectReason: 'Причина (надсилається заявнику разом із правом на скаргу)',
  rejectBtn: 'Відмовити в запиті',
  extendTitle: 'Продовжити строк',
  extendTerm: 'Новий термін від отримання',
  extendTermHint: 'Наприклад, «30 calendar days» або «10 working days».',
  extendReason: 'Причина',
  extendBasis: 'Правова підстава',
  extendBtn: 'Продовжити',
  assignTitle: 'Призначити',
  assignStaff: 'Працівник',
  assignBtn: 'Призначити',
  commentTitle: 'Коментар',
  commentText: 'Коментар',
  commentBtn: 'Додати коментар',

  newTitle: 'Зареєструвати запит',
  newIntro: 'Запит, отриманий будь-яким каналом. Строк рахується від моменту отримання.',
  filedForColleagues: 'Запит подано. Далі його розглядають колеги, які ухвалюють рішення щодо запитів; строк рахується від моменту отримання.',
  nType: 'Тип',
  nTypeOption: (name, term, source) => `${name} — ${termIn('uk', term)}${source === 'default' ? ' (за замовчуванням)' : ''}`,
  nSubject: 'Ідентифікатор суб’єкта',
  nSubjectHint: 'Або вкажіть адресу заявника: суб’єкта буде знайдено за нею.',
  nEmail: 'Адреса заявника',
  nReplyEmail: 'Адреса для відповіді',
  nChannel: 'Канал отримання',
  channels: { email: 'Електронна пошта', support: 'Служба підтримки', written: 'Лист', phone: 'Телефон', personal_account: 'Особистий кабінет', web: 'Вебформа' },
  nFiledBy: 'Хто подав',
  filedBy: { subject: 'Сам суб’єкт', representative: 'Представник', staff: 'Працівник школи' },
  nReceived: 'Отримано (час школи)',
  nReceivedHint: 'Порожньо — зараз.',
  nLang: 'Мова відповідей',
  nFields: 'Поля (виправлення, обмеження)',
  nPurposes: 'Цілі (заперечення, відкликання)',
  nGround: 'Підстава (видалення, обмеження)',
  nStatement: 'Заява (що написав заявник)',
  nDestination: 'Передати до (перенесення даних)',
  nDestinationHint: 'Адреса системи іншого володільця, що отримає дані напряму.',
  nAck: 'Заявника попереджено про наслідки відкликання згоди',
  nEvidence: 'Докази додано до запиту',
  nOptional: 'Докладніше',
  fileBtn: 'Зареєструвати запит',

  auditTitle: 'Журнал аудиту',
  auditIntro: 'Кожна дія з персональними даними, зчеплена гешами. Суб’єктів названо лише псевдонімами.',
  verifyChain: 'Перевірити ланцюжок',
  chainOk: (entries, checkpoints) => `Ланцюжок цілий: записів — ${entries}, підписаних контрольних точок — ${checkpoints}.`,
  chainBroken: (seq, problem) => `Ланцюжок порушено${seq === null ? '' : ` на записі ${seq}`}: ${problem}`,
  checkpoint: 'Підписати контрольну точку',
  checkpointDone: 'Голову ланцюжка підписано.',
  colSeq: '№',
  colTime: 'Час',
  colActor: 'Хто',
  colRole: 'Роль',
  colAuditAction: 'Дія',
  colPseudonym: 'Суб’єкт (псевдонім)',
  colPurpose: 'Мета',
  colOutcome: 'Результат',
  colReason: 'Причина',
  auditRange: (from, to) => `Записи ${from}–${to}`,
  newest: 'Найновіші',
  older: 'Старіші',
  newer: 'Новіші',
  oldest: 'Найстаріші',

  subjectsTitle: 'Пошук суб’єкта',
  subjectsIntro: 'Знайдіть особу за адресою електронної пошти або номером телефону для зазначеної мети. Рішення ухвалює перевірка мети: ви бачите лише поля, які дозволяють ця мета й ваша роль, або причину відмови.',
  sPurpose: 'Мета цього пошуку',
  sPurposeHint: 'Навіщо вам зараз потрібні дані. Політика школи визначає, які мети може використовувати ваша роль.',
  sRolePurposes: 'Мети вашої ролі',
  sOtherPurposes: 'Інші мети (для вашої ролі перевірка їх відхиляє)',
  sBy: 'Шукати за',
  sByEmail: 'Адреса електронної пошти',
  sByPhone: 'Номер телефону',
  sValue: 'Адреса електронної пошти або номер телефону',
  sSearch: 'Шукати',
  sLogged: 'Кожен пошук записується в журнал аудиту з метою, вашим ім’ям і відповіддю перевірки — незалежно від того, чи когось знайдено.',
  sResultTitle: 'Результат',
  sAllowed: (purpose) => `Надано для мети «${purpose}»: лише поля, які дозволяють ця мета й ваша роль.`,
  sRecorded: (decision) => `Це читання записано в журнал аудиту (рішення ${decision}).`,
  sNoFields: 'Мета не відкриває жодного поля, яке є в цього суб’єкта.',
  sField: 'Поле',
  sFieldValue: 'Значення',
  sRefused: (status) => `Перевірка відмовила (${status})`,
  sRefusals: {
    role_denied: 'Ваша роль не може використовувати цю мету. Оберіть мету своєї ролі.',
    purpose_disabled: 'Цю мету вимкнено в політиці школи.',
    briefing_required: 'Ваш інструктаж із захисту даних ще не записано; попросіть привілейованого колегу записати його.',
    subject_unknown: 'Нікого з такою адресою електронної пошти чи номером телефону не знайдено.',
    subject_kind_excluded: 'Ця мета не стосується такої категорії осіб.',
    no_consent: 'Немає згоди: ця мета ґрунтується на згоді, а суб’єкт її не надав.',
    consent_not_yet_given: 'Немає згоди: згода суб’єкта починає діяти пізніше.',
    consent_withdrawn: 'Немає згоди: суб’єкт відкликав згоду, потрібну для цієї мети.',
    consent_expired: 'Немає згоди: строк згоди суб’єкта минув.',
    minor: 'Суб’єкт неповнолітній, а ця мета для неповнолітніх не дозволена.',
    subject_closing: 'Суб’єкт не погодився з політикою: дозволено лише зберігання.',
    blocked: 'Дані обмежено: поле заблоковано, доки розглядається виправлення.',
    restricted: 'Дані обмежено: обробку обмежено, дозволено лише зберігання.',
    objection_pending: 'Дані обмежено: суб’єкт заперечив проти цієї мети, рішення ще не ухвалено.',
    objection_upheld: 'Заперечення суб’єкта проти цієї мети задоволено.',
    retention_ended: 'Строк зберігання для цієї мети щодо суб’єкта минув.',
    field_not_in_role: 'Поле поза категоріями, які може бачити ваша роль.',
  },
  sSubject: 'Суб’єкт',
  sFileRequest: 'Зареєструвати запит щодо цього суб’єкта',
  sOpenRequests: 'Запити цього суб’єкта',
  queueOfSubject: (id) => `Запити суб’єкта ${id}`,
  showAllRequests: 'Показати всі запити',

  consentsTitle: 'Згоди за цілями',
  consentsIntro: 'Для кожної мети, що ґрунтується на згоді: скільки суб’єктів вона стосується, скільки дали згоду і скільки з цих згод чинні, відкликані або спливли. Без персональних даних.',
  colEligible: 'Стосується суб’єктів',
  colGiven: 'Дали згоду',
  colActive: 'Чинні',
  colWithdrawn: 'Відкликані',
  colExpired: 'Спливли',
  colRate: 'Чинні серед тих, кого стосується',
  consentsAsOf: (at, subjects) => `Станом на ${at}; усього суб’єктів: ${subjects}.`,
  noConsentPurposes: 'У політиці немає цілей, що ґрунтуються на згоді.',

  staffTitle: 'Персонал',
  colName: 'Ім’я',
  colEmail: 'Пошта',
  colStaffRole: 'Роль',
  colTotp: 'Другий фактор',
  colBriefing: 'Інструктаж',
  colStatus: 'Статус',
  colActions: 'Дії',
  working: 'працює',
  leftOn: (date) => `звільнено ${date}`,
  notBriefed: 'ще ні',
  brief: 'Зафіксувати інструктаж',
  leave: 'Звільнення',
  leaveConfirm: (name) => `Негайно відкликати всі сеанси й ключі ${name}? Це незворотно.`,
  leaveDone: (name) => `${name}: сеанси й ключі відкликано.`,
  briefDone: (name) => `Інструктаж ${name} зафіксовано.`,
  inviteTitle: 'Додати працівника',
  inviteName: 'Ім’я та прізвище',
  inviteEmail: 'Адреса електронної пошти',
  inviteRole: 'Роль',
  inviteBtn: 'Створити обліковий запис',
  credentialsTitle: 'Дані для першого входу',
  credentialsIntro: 'Пароль показано лише один раз. Передайте його окремим каналом і попросіть змінити під час першого входу.',
  privilegedNote: 'Роль привілейована: під час першого входу працівник також налаштує застосунок автентифікації.',
  copy: 'Копіювати',
  copied: 'Скопійовано.',

  term: (c) => termIn('uk', c),
  types: {
    access: 'Доступ до даних',
    confirmation: 'Підтвердження обробки',
    information: 'Інформація про обробку',
    transfer_info: 'Інформація про передачу',
    rectification: 'Виправлення даних',
    erasure: 'Видалення даних',
    restriction: 'Обмеження обробки',
    suspend: 'Зупинення обробки',
    objection: 'Заперечення проти обробки',
    marketing_objection: 'Відмова від маркетингу',
    object_direct_marketing: 'Відмова від прямого маркетингу',
    portability: 'Перенесення даних',
    withdrawal: 'Відкликання згоди',
    automated_decision_review: 'Перегляд автоматизованого рішення',
    contest_segment: 'Оскарження сегмента',
    no_automated_decisions: 'Відмова від автоматизованих рішень',
    complaint: 'Скарга',
    claim: 'Претензія',
    unlawful_processing: 'Неправомірна обробка',
  },
  states: {
    received: 'Отримано',
    awaiting_identity: 'Очікує підтвердження особи',
    awaiting_evidence: 'Очікує доказів',
    in_progress: 'У роботі',
    done: 'Виконано',
    partly_done: 'Виконано частково',
    rejected: 'Відмовлено',
  },
  outcomes: {
    answered: 'надано відповідь',
    no_data: 'даних немає',
    rectified: 'виправлено',
    erased: 'видалено',
    kept_for_storage: 'збережено лише для зберігання',
    lifted: 'обмеження знято',
    overriding_grounds: 'є переважні підстави',
    no_overriding_grounds: 'заперечення задоволено',
    rejected: 'відмовлено',
    done: 'виконано',
    withdrawn: 'згоду відкликано',
    effective: 'набуло чинності',
  },
  actors: { subject: 'суб’єкт', public: 'заявник без облікового запису', 'system:deadlines': 'перевірка строків', 'system:outbox': 'надсилання повідомлень' },
  errors: {
    network: 'Сервер недоступний. Перевірте з’єднання і спробуйте ще раз.',
    invalid_credentials: 'Неправильна адреса, пароль або код.',
    locked_out: 'Забагато невдалих спроб: обліковий запис тимчасово заблоковано.',
    rate_limited: 'Забагато спроб входу з цієї адреси. Спробуйте за хвилину.',
    account_left: 'Цей обліковий запис належить працівникові, який звільнився; увійти ним не можна.',
    session_invalid: 'Сеанс завершився. Увійдіть знову.',
    unauthenticated: 'Увійдіть, будь ласка.',
    csrf_token_invalid: 'Сторінка застаріла. Оновіть її і спробуйте ще раз.',
    role_denied: 'Ваша роль за політикою школи цього не дозволяє: зверніться до колеги, чия роль це може.',
    school_mismatch: 'Ваш обліковий запис належить іншій школі.',
    mfa_required: 'Спершу налаштуйте другий фактор.',
    password_change_required: 'Спершу змініть пароль.',
  },
};

const ru: ConsoleMessages = {
  product: 'Dovira',
  none: '—',
  title: 'Dovira — консоль сотрудников',
  consoleNav: 'Разделы консоли',
  nav: { queue: 'Запросы', newRequest: 'Новый запрос', subjects: 'Субъекты', audit: 'Журнал аудита', consents: 'Согласия', staff: 'Сотрудники', account: 'Учётная запись', notice: 'Уведомление об обработке данных' },
  signedInAs: (name, role) => `Вы вошли как ${name} (${role})`,
  signOut: 'Выйти',
  loading: 'Загрузка…',
  loadError: 'Не удалось загрузить.',
  required: '(обязательно)',
  saved: 'Сохранено.',
  yes: 'да',
  no: 'нет',
  schoolTime: (tz) => `Время указано в часовом поясе школы, ${tz}.`,

  signInTitle: 'Вход для сотрудников',
  signInIntro: 'Консоль сотрудников школы и ответственного лица: запросы и их сроки, журнал аудита, согласия и учётные записи сотрудников.',
  school: 'Школа',
  email: 'Адрес электронной почты',
  password: 'Пароль',
  totp: 'Код из приложения-аутентификатора',
  totpHint: 'Только если для этой учётной записи настроено приложение: 6 цифр.',
  signIn: 'Войти',
  signedOut: 'Вы вышли из консоли.',
  sessionEnded: 'Сеанс завершён. Войдите снова.',
  changeTitle: 'Выберите новый пароль',
  changeIntro: 'Выданный вам пароль нужно сменить, прежде чем работать в консоли.',
  currentPassword: 'Текущий пароль',
  newPassword: 'Новый пароль',
  repeatPassword: 'Новый пароль ещё раз',
  passwordMismatch: 'Новые пароли не совпадают.',
  changePassword: 'Сменить пароль',
  passwordChanged: 'Пароль изменён.',
  totpTitle: 'Настройте второй фактор',
  totpIntro: 'Вашей роли нужен второй фактор. Добавьте этот ключ в приложение-аутентификатор (или откройте ссылку на телефоне с приложением) и введите 6-значный код, который оно показывает.',
  totpSecret: 'Ключ',
  totpLink: 'Открыть в приложении-аутентификаторе',
  totpCode: 'Код из приложения',
  confirm: 'Подтвердить',
  accountTitle: 'Учётная запись',
  sessionUntil: (at) => `Сеанс действует до ${at}.`,

  queueTitle: 'Очередь запросов',
  dashboardTitle: 'Обязательства',
  open: 'Открытые',
  overdue: 'Просроченные',
  dueWeek: 'Срок в ближайшие 7 дней',
  closed: 'Закрытые',
  closedLate: 'Закрытые с опозданием',
  chartTitle: 'Открытые запросы по неделям срока',
  chartIntro: 'Сколько открытых запросов истекает в каждую из ближайших недель и сколько уже просрочено.',
  chartPeriod: 'Срок',
  chartCount: 'Запросов',
  chartOverdue: 'Просроченные',
  chartLater: 'Позже',
  chartThisWeek: 'Ближайшие 7 дней',
  chartEmpty: 'Открытых запросов нет.',
  filtersTitle: 'Фильтры',
  fType: 'Тип',
  fState: 'Состояние',
  fScope: 'Показать',
  scopeOpen: 'Открытые запросы',
  scopeOverdue: 'Только просроченные',
  scopeAll: 'Все запросы',
  filterAssignee: 'Исполнитель',
  anyone: 'Любой',
  me: 'Я',
  anyType: 'Все типы',
  anyState: 'Все состояния',
  apply: 'Применить',
  reset: 'Сбросить',
  colDue: 'Срок',
  colLeft: 'Осталось',
  colType: 'Тип',
  colState: 'Состояние',
  colSubject: 'Субъект',
  colReceived: 'Получено',
  colAssignee: 'Исполнитель',
  colChannel: 'Канал',
  queueCaption: (n) => `Запросы по сроку (${n} на этой странице)`,
  empty: 'Нет запросов по этим фильтрам.',
  nextPage: 'Следующая страница',
  prevPage: 'Предыдущая страница',
  firstPage: 'Первая страница',
  pageNav: 'Страницы',
  badgeOverdue: 'Просрочено',
  badgeUrgent: 'Прошло 4/5 срока',
  badgeWarning: 'Прошла половина срока',
  daysLeft: (n) => plural('ru', n, { one: 'остался {n} день', few: 'осталось {n} дня', many: 'осталось {n} дней', other: 'осталось {n} дня' }),
  dueToday: 'Срок сегодня',
  daysOverdue: (n) => plural('ru', n, { one: 'просрочено на {n} день', few: 'просрочено на {n} дня', many: 'просрочено на {n} дней', other: 'просрочено на {n} дня' }),
  closedOn: (date) => `Закрыт ${date}`,
  lateBy: (n) => plural('ru', n, { one: 'с опозданием на {n} день', few: 'с опозданием на {n} дня', many: 'с опозданием на {n} дней', other: 'с опозданием на {n} дня' }),
  open_: 'открыт',

  requestTitle: (type) => `Запрос: ${type}`,
  back: 'К очереди',
  factsTitle: 'Запрос',
  fId: 'Номер',
  fRight: 'Право',
  fSubject: 'Субъект',
  fChannel: 'Канал',
  fFiledBy: 'Кто подал',
  fReceived: 'Получено',
  fFiled: 'Зарегистрировано',
  fDue: 'Срок',
  fDueSource: 'Откуда срок',
  fTerm: 'Срок исполнения',
  fIdentity: 'Личность',
  fAssignee: 'Исполнитель',
  fOutcome: 'Результат',
  fFee: 'Возможна плата',
  fFields: 'Поля',
  fPurposes: 'Цели',
  fConsents: 'Согласия',
  fGround: 'Основание',
  fReason: 'Причина отказа',
  fDecision: 'Решение',
  fBlocked: 'Заблокированные поля (только хранение)',
  fRestricted: 'Ограниченные поля',
  fRestrictAll: 'Остановлено всё, кроме хранения',
  fObjectionPending: 'Возражение рассматривается по',
  fObjectionUpheld: 'Возражение удовлетворено по',
  fKept: 'Сохранено',
  fReplyEmail: 'Адрес для ответа',
  fStatement: 'Заявление',
  fExtensions: 'Продления',
  fWarnings: 'Предупреждения о сроке',
  fClosed: 'Закрыт',
  fClause: 'Пункт политики',
  extensionLine: (from, to, reason, basis) => `${from} → ${to}: ${reason} (основание: ${basis})`,
  dueSources: { policy: 'политика школы', default: 'срок по умолчанию (политика своего не устанавливает)', awaiting_evidence: 'срок по умолчанию до поступления доказательств; затем' },
  triggers: {
    request_received: 'от получения запроса',
    evidence_supplied: 'со дня предоставления доказательств',
    withdrawal_received: 'от получения отзыва',
    claim_received: 'от получения претензии',
    detected: 'от обнаружения',
    action_performed: 'от выполнения действия',
  },
  identity: { not_required: 'проверка не нужна', required: 'нужно подтвердить', verified: 'подтверждена' },
  tasksTitle: 'Хранилища и получатели',
  tasksIntro: 'Запрос выполнен, только когда каждое хранилище и каждый получатель подтвердили свою часть.',
  colTarget: 'Хранилище или получатель',
  colAction: 'Действие',
  colAt: 'Когда',
  colNote: 'Примечание',
  taskConfirm: 'Подтвердить выполнение',
  taskFail: 'Сообщить о сбое',
  taskNote: 'Примечание',
  taskStates: { pending: 'ожидает', done: 'выполнено', failed: 'сбой' },
  timelineTitle: 'Хронология',
  timelineKinds: {
    filed: 'Зарегистрирован',
    verified: 'Личность подтверждена',
    evidence: 'Поступили доказательства',
    extended: 'Срок продлён',
    assigned: 'Назначен исполнитель',
    comment: 'Комментарий',
    closed: 'Закрыт',
    task_done: 'Часть подтверждена',
    task_failed: 'Сбой части',
    warning: 'Предупреждение о сроке',
    overdue: 'Просрочен',
  },
  messagesTitle: 'Сообщения',
  noMessages: 'Сообщений по этому запросу нет.',
  colKind: 'Сообщение',
  colAttempts: 'Попыток',
  colCreated: 'Создано',
  colSent: 'Отправлено',
  colError: 'Последняя ошибка',
  messageKinds: {
    received: 'Подтверждение получения',
    identity_code: 'Код подтверждения личности',
    answer: 'Ответ',
    no_data: 'Данных нет',
    rejected: 'Отказ',
    action_notice: 'Уведомление о действии',
    restriction_lifted: 'Ограничение снято',
    objection_decided: 'Решение по возражению',
    erasure_offer: 'Предложение удаления',
    warning: 'Предупреждение о сроке',
    overdue: 'Оповещение о просрочке',
    transfer: 'Передача получателю',
  },
  messageStates: { pending: 'ожидает отправки', sent: 'отправлено', failed: 'не отправлено' },
  actionsTitle: 'Шаги',
  closedNote: 'Запрос закрыт; шагов не осталось.',
  packageLink: 'Скачать пакет данных (JSON)',
  verifyTitle: 'Подтвердить личность заявителя',
  verifyMethod: 'Способ',
  verifyMethods: { document: 'Проверен документ', email_code: 'Код, отправленный письмом' },
  verifyEvidence: 'Какой документ проверен',
  verifyCode: 'Код',
  verifyBtn: 'Подтвердить личность',
  evidenceTitle: 'Зафиксировать доказательства',
  evidenceAt: 'Когда поступили (время школы)',
  evidenceAtHint: 'Пусто — сейчас. Срок начнётся с этого момента.',
  evidenceNote: 'Что предоставлено',
  evidenceBtn: 'Зафиксировать доказательства',
  completeTitle: 'Выполнить запрос',
  changesFor: (field) => `Исправленное значение «${field}»`,
  decision: 'Решение',
  decisions: { overriding_grounds: 'Есть преобладающие законные основания: обработка продолжается', no_overriding_grounds: 'Преобладающих оснований нет: возражение удовлетворено' },
  justification: 'Обоснование',
  answer: 'Письменный ответ заявителю',
  storageNeeded: 'Данные нужно хранить (только хранение)',
  storageBasis: 'Правовое основание хранения',
  erasureWarning: 'Ключ субъекта будет уничтожен, а его данные удалены навсегда, в том числе в резервных копиях.',
  confirmErase: 'Я понимаю, что это необратимо',
  note: 'Примечание',
  completeBtn: 'Выполнить',
  rejectTitle: 'Отказать',
  rejectReason: 'Причина (отправляется заявителю вместе с правом на жалобу)',
  rejectBtn: 'Отказать в запросе',
  extendTitle: 'Продлить срок',
  extendTerm: 'Новый срок от получения',
  extendTermHint: 'Например, «30 calendar days» или «10 working days».',
  extendReason: 'Причина',
  extendBasis: 'Правовое основание',
  extendBtn: 'Продлить',
  assignTitle: 'Назначить',
  assignStaff: 'Сотрудник',
  assignBtn: 'Назначить',
  commentTitle: 'Комментарий',
  commentText: 'Комментарий',
  commentBtn: 'Добавить комментарий',

  newTitle: 'Зарегистрировать запрос',
  newIntro: 'Запрос, полученный по любому каналу. Срок считается с момента получения.',
  filedForColleagues: 'Запрос подан. Дальше его рассматривают коллеги, которые принимают решения по запросам; срок считается с момента получения.',
  nType: 'Тип',
  nTypeOption: (name, term, source) => `${name} — ${termIn('ru', term)}${source === 'default' ? ' (по умолчанию)' : ''}`,
  nSubject: 'Идентификатор субъекта',
  nSubjectHint: 'Или укажите адрес заявителя: субъект будет найден по нему.',
  nEmail: 'Адрес заявителя',
  nReplyEmail: 'Адрес для ответа',
  nChannel: 'Канал получения',
  channels: { email: 'Электронная почта', support: 'Служба поддержки', written: 'Письмо', phone: 'Телефон', personal_account: 'Личный кабинет', web: 'Веб-форма' },
  nFiledBy: 'Кто подал',
  filedBy: { subject: 'Сам субъект', representative: 'Представитель', staff: 'Сотрудник школы' },
  nReceived: 'Получено (время школы)',
  nReceivedHint: 'Пусто — сейчас.',
  nLang: 'Язык ответов',
  nFields: 'Поля (исправление, ограничение)',
  nPurposes: 'Цели (возражение, отзыв)',
  nGround: 'Основание (удаление, ограничение)',
  nStatement: 'Заявление (что написал заявитель)',
  nDestination: 'Передать в (перенос данных)',
  nDestinationHint: 'Адрес системы другого владельца, которая получит данные напрямую.',
  nAck: 'Заявитель предупреждён о последствиях отзыва согласия',
  nEvidence: 'Доказательства приложены к запросу',
  nOptional: 'Подробнее',
  fileBtn: 'Зарегистрировать запрос',

  auditTitle: 'Журнал аудита',
  auditIntro: 'Каждое действие с персональными данными, сцепленное хешами. Субъекты названы только псевдонимами.',
  verifyChain: 'Проверить цепочку',
  chainOk: (entries, checkpoints) => `Цепочка цела: записей — ${entries}, подписанных контрольных точек — ${checkpoints}.`,
  chainBroken: (seq, problem) => `Цепочка нарушена${seq === null ? '' : ` на записи ${seq}`}: ${problem}`,
  checkpoint: 'Подписать контрольную точку',
  checkpointDone: 'Голова цепочки подписана.',
  colSeq: '№',
  colTime: 'Время',
  colActor: 'Кто',
  colRole: 'Роль',
  colAuditAction: 'Действие',
  colPseudonym: 'Субъект (псевдоним)',
  colPurpose: 'Цель',
  colOutcome: 'Результат',
  colReason: 'Причина',
  auditRange: (from, to) => `Записи ${from}–${to}`,
  newest: 'Новейшие',
  older: 'Старше',
  newer: 'Новее',
  oldest: 'Самые старые',

  subjectsTitle: 'Поиск субъекта',
  subjectsIntro: 'Найдите человека по адресу электронной почты или номеру телефона для указанной цели. Решение принимает проверка цели: вы видите только поля, которые разрешают эта цель и ваша роль, или причину отказа.',
  sPurpose: 'Цель этого поиска',
  sPurposeHint: 'Зачем вам сейчас нужны данные. Политика школы определяет, какие цели может использовать ваша роль.',
  sRolePurposes: 'Цели вашей роли',
  sOtherPurposes: 'Другие цели (для вашей роли проверка их отклоняет)',
  sBy: 'Искать по',
  sByEmail: 'Адрес электронной почты',
  sByPhone: 'Номер телефона',
  sValue: 'Адрес электронной почты или номер телефона',
  sSearch: 'Искать',
  sLogged: 'Каждый поиск записывается в журнал аудита с целью, вашим именем и ответом проверки — независимо от того, найден ли кто-то.',
  sResultTitle: 'Результат',
  sAllowed: (purpose) => `Выдано для цели «${purpose}»: только поля, которые разрешают эта цель и ваша роль.`,
  sRecorded: (decision) => `Это чтение записано в журнал аудита (решение ${decision}).`,
  sNoFields: 'Цель не открывает ни одного поля, которое есть у этого субъекта.',
  sField: 'Поле',
  sFieldValue: 'Значение',
  sRefused: (status) => `Проверка отказала (${status})`,
  sRefusals: {
    role_denied: 'Ваша роль не может использовать эту цель. Выберите цель своей роли.',
    purpose_disabled: 'Эта цель отключена в политике школы.',
    briefing_required: 'Ваш инструктаж по защите данных ещё не записан; попросите привилегированного коллегу записать его.',
    subject_unknown: 'Никого с таким адресом электронной почты или номером телефона не найдено.',
    subject_kind_excluded: 'Эта цель не касается такой категории лиц.',
    no_consent: 'Нет согласия: эта цель основана на согласии, а субъект его не дал.',
    consent_not_yet_given: 'Нет согласия: согласие субъекта начинает действовать позже.',
    consent_withdrawn: 'Нет согласия: субъект отозвал согласие, нужное для этой цели.',
    consent_expired: 'Нет согласия: срок согласия субъекта истёк.',
    minor: 'Субъект несовершеннолетний, а эта цель для несовершеннолетних не разрешена.',
    subject_closing: 'Субъект не согласился с политикой: разрешено только хранение.',
    blocked: 'Данные ограничены: поле заблокировано, пока рассматривается исправление.',
    restricted: 'Данные ограничены: обработка ограничена, разрешено только хранение.',
    objection_pending: 'Данные ограничены: субъект возразил против этой цели, решение ещё не принято.',
    objection_upheld: 'Возражение субъекта против этой цели удовлетворено.',
    retention_ended: 'Срок хранения для этой цели в отношении субъекта истёк.',
    field_not_in_role: 'Поле вне категорий, которые может видеть ваша роль.',
  },
  sSubject: 'Субъект',
  sFileRequest: 'Зарегистрировать запрос по этому субъекту',
  sOpenRequests: 'Запросы этого субъекта',
  queueOfSubject: (id) => `Запросы субъекта ${id}`,
  showAllRequests: 'Показать все запросы',

  consentsTitle: 'Согласия по целям',
  consentsIntro: 'Для каждой цели, основанной на согласии: скольких субъектов она касается, сколько дали согласие и сколько из этих согласий действуют, отозваны или истекли. Без персональных данных.',
  colEligible: 'Касается субъектов',
  colGiven: 'Дали согласие',
  colActive: 'Действуют',
  colWithdrawn: 'Отозваны',
  colExpired: 'Истекли',
  colRate: 'Действуют среди тех, кого касается',
  consentsAsOf: (at, subjects) => `По состоянию на ${at}; всего субъектов: ${subjects}.`,
  noConsentPurposes: 'В политике нет целей, основанных на согласии.',

  staffTitle: 'Сотрудники',
  colName: 'Имя',
  colEmail: 'Почта',
  colStaffRole: 'Роль',
  colTotp: 'Второй фактор',
  colBriefing: 'Инструктаж',
  colStatus: 'Статус',
  colActions: 'Действия',
  working: 'работает',
  leftOn: (date) => `уволен ${date}`,
  notBriefed: 'ещё нет',
  brief: 'Зафиксировать инструктаж',
  leave: 'Увольнение',
  leaveConfirm: (name) => `Немедленно отозвать все сеансы и ключи ${name}? Это необратимо.`,
  leaveDone: (name) => `${name}: сеансы и ключи отозваны.`,
  briefDone: (name) => `Инструктаж ${name} зафиксирован.`,
  inviteTitle: 'Добавить сотрудника',
  inviteName: 'Имя и фамилия',
  inviteEmail: 'Адрес электронной почты',
  inviteRole: 'Роль',
  inviteBtn: 'Создать учётную запись',
  credentialsTitle: 'Данные для первого входа',
  credentialsIntro: 'Пароль показан только один раз. Передайте его отдельным каналом и попросите сменить при первом входе.',
  privilegedNote: 'Роль привилегированная: при первом входе сотрудник также настроит приложение-аутентификатор.',
  copy: 'Копировать',
  copied: 'Скопировано.',

  term: (c) => termIn('ru', c),
  types: {
    access: 'Доступ к данным',
    confirmation: 'Подтверждение обработки',
    information: 'Информация об обработке',
    transfer_info: 'Информация о передаче',
    rectification: 'Исправление данных',
    erasure: 'Удаление данных',
    restriction: 'Ограничение обработки',
    suspend: 'Приостановление обработки',
    objection: 'Возражение против обработки',
    marketing_objection: 'Отказ от маркетинга',
    object_direct_marketing: 'Отказ от прямого маркетинга',
    portability: 'Перенос данных',
    withdrawal: 'Отзыв согласия',
    automated_decision_review: 'Пересмотр автоматизированного решения',
    contest_segment: 'Оспаривание сегмента',
    no_automated_decisions: 'Отказ от автоматизированных решений',
    complaint: 'Жалоба',
    claim: 'Претензия',
    unlawful_processing: 'Неправомерная обработка',
  },
  states: {
    received: 'Получен',
    awaiting_identity: 'Ожидает подтверждения личности',
    awaiting_evidence: 'Ожидает доказательств',
    in_progress: 'В работе',
    done: 'Выполнен',
    partly_done: 'Выполнен частично',
    rejected: 'Отказано',
  },
  outcomes: {
    answered: 'дан ответ',
    no_data: 'данных нет',
    rectified: 'исправлено',
    erased: 'удалено',
    kept_for_storage: 'сохранено только для хранения',
    lifted: 'ограничение снято',
    overriding_grounds: 'есть преобладающие основания',
    no_overriding_grounds: 'возражение удовлетворено',
    rejected: 'отказано',
    done: 'выполнено',
    withdrawn: 'согласие отозвано',
    effective: 'вступило в силу',
  },
  actors: { subject: 'субъект', public: 'заявитель без учётной записи', 'system:deadlines': 'проверка сроков', 'system:outbox': 'отправка сообщений' },
  errors: {
    network: 'Сервер недоступен. Проверьте соединение и попробуйте ещё раз.',
    invalid_credentials: 'Неверный адрес, пароль или код.',
    locked_out: 'Слишком много неудачных попыток: учётная запись временно заблокирована.',
    rate_limited: 'Слишком много попыток входа с этого адреса. Попробуйте через минуту.',
    account_left: 'Эта учётная запись принадлежит уволенному сотруднику; войти с ней нельзя.',
    session_invalid: 'Сеанс завершён. Войдите снова.',
    unauthenticated: 'Пожалуйста, войдите.',
    csrf_token_invalid: 'Страница устарела. Обновите её и попробуйте ещё раз.',
    role_denied: 'Ваша роль по политике школы этого не позволяет: обратитесь к коллеге, чья роль это может.',
    school_mismatch: 'Ваша учётная запись принадлежит другой школе.',
    mfa_required: 'Сначала настройте второй фактор.',
    password_change_required: 'Сначала смените пароль.',
  },
};

export const M: Record<Lang, ConsoleMessages> = { uk, ru, en };
