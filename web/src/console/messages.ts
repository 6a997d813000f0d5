import type { Lang } from '../common/i18n';

// The texts of the console's sign-in, first password change, TOTP enrolment and account view, in
// the three languages of the notices. Every other text of the console is in i18n/console/*.json.

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

const en: ConsoleMessages = {
  signInTitle: 'Staff sign-in',
  signInIntro: 'The console of the school’s staff and data-protection officer: requests against their deadlines, the audit log, consents and staff accounts.',
  school: 'School',
  email: 'E-mail address',
  password: 'Password',
  totp: 'Code from the authenticator app',
  totpHint: 'Only if you have set up an authenticator app for this account: 6 digits.',
  signIn: 'Sign in',
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
  colName: 'Name',
  colEmail: 'E-mail',
  colStaffRole: 'Role',
};

const uk: ConsoleMessages = {
  signInTitle: 'Вхід для персоналу',
  signInIntro: 'Консоль персоналу школи та відповідальної особи: запити та їхні строки, журнал аудиту, згоди й облікові записи персоналу.',
  school: 'Школа',
  email: 'Адреса електронної пошти',
  password: 'Пароль',
  totp: 'Код із застосунку автентифікації',
  totpHint: 'Лише якщо для цього облікового запису налаштовано застосунок: 6 цифр.',
  signIn: 'Увійти',
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
  colName: 'Ім’я',
  colEmail: 'Пошта',
  colStaffRole: 'Роль',
};

const ru: ConsoleMessages = {
  signInTitle: 'Вход для сотрудников',
  signInIntro: 'Консоль сотрудников школы и ответственного лица: запросы и их сроки, журнал аудита, согласия и учётные записи сотрудников.',
  school: 'Школа',
  email: 'Адрес электронной почты',
  password: 'Пароль',
  totp: 'Код из приложения-аутентификатора',
  totpHint: 'Только если для этой учётной записи настроено приложение: 6 цифр.',
  signIn: 'Войти',
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
  colName: 'Имя',
  colEmail: 'Почта',
  colStaffRole: 'Роль',
};

export const M: Record<Lang, ConsoleMessages> = { uk, ru, en };
