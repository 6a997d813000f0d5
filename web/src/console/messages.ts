import { LANGS, type Lang, fill } from '../common/i18n';
import uk from '../../../i18n/account/uk.json';
import ru from '../../../i18n/account/ru.json';
import en from '../../../i18n/account/en.json';

// The texts of the console's sign-in, first password change, TOTP enrolment and account view, as
// the typed object those views use, read from i18n/account/*.json (the rest of the console reads
// i18n/console/*.json through t()).

export interface ConsoleMessages {
  signInTitle: string;
  signInIntro: string;
  school: string;
  email: string;
  password: string;
  totp: string;
  totpHint: string;
  signIn: string;
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
  colName: string;
  colEmail: string;
  colStaffRole: string;
}

const CATALOGUES: Record<Lang, Record<string, string>> = { uk, ru, en };

function messages(lang: Lang): ConsoleMessages {
  const text = (key: string): string => CATALOGUES[lang][key] ?? CATALOGUES.en[key] ?? key;
  return {
    signInTitle: text('signInTitle'),
    signInIntro: text('signInIntro'),
    school: text('school'),
    email: text('email'),
    password: text('password'),
    totp: text('totp'),
    totpHint: text('totpHint'),
    signIn: text('signIn'),
    changeTitle: text('changeTitle'),
    changeIntro: text('changeIntro'),
    currentPassword: text('currentPassword'),
    newPassword: text('newPassword'),
    repeatPassword: text('repeatPassword'),
    passwordMismatch: text('passwordMismatch'),
    changePassword: text('changePassword'),
    passwordChanged: text('passwordChanged'),
    totpTitle: text('totpTitle'),
    totpIntro: text('totpIntro'),
    totpSecret: text('totpSecret'),
    totpLink: text('totpLink'),
    totpCode: text('totpCode'),
    confirm: text('confirm'),
    accountTitle: text('accountTitle'),
    sessionUntil: (at) => fill(text('sessionUntil'), { at }),
    colName: text('colName'),
    colEmail: text('colEmail'),
    colStaffRole: text('colStaffRole'),
  };
}

export const M = Object.fromEntries(LANGS.map((l) => [l, messages(l)])) as Record<Lang, ConsoleMessages>;
