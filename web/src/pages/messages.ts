import type { Lang } from '../common/i18n';

// Every text of the public pages, in the three languages of the notices.
export const M = {
  uk: {
    product: 'Dovira',
    tagline: 'Персональні дані онлайн-школи під контролем її власної політики',
    langNav: 'Мова',
    skip: 'Перейти до змісту',
    homeTitle: 'Dovira — публічні сторінки школи',
    homeIntro:
      'Тут школа публікує повідомлення про обробку персональних даних. Формою реєстрації та банером cookie школа користується на власному сайті.',
    noticeLink: 'Повідомлення про обробку персональних даних',
    demoLink: 'Демонстраційна сторінка школи (форма та банер cookie)',
    cabinetLink: 'Мої персональні дані (особистий кабінет)',
    consoleLink: 'Консоль персоналу школи (вхід для працівників)',
    noticeTitle: 'Повідомлення про обробку персональних даних',
    versions: 'Версії політики',
    current: 'чинна',
    effective: 'набирає чинності',
    oldVersionNote:
      'Це попередня версія політики у вигляді файлу, як її було опубліковано. Чинну версію показано за посиланням вище.',
    loading: 'Завантаження…',
    loadError: 'Не вдалося завантажити сторінку. Спробуйте ще раз пізніше.',
    noSchool: 'Не вказано школу (параметр school).',
    demoTitle: 'Школа «Включи життя» — демонстраційна сторінка',
    demoIntro:
      'Так виглядає сайт школи, що вбудовує форму Dovira та банер cookie. Форма надсилає дані просто до Dovira; банер зберігає ваш вибір як доказ.',
    demoForm: 'Підписка на розсилку',
    demoCookies: 'Налаштування cookie',
    statsOff: 'Статистика вимкнена: скрипт статистики не запускався.',
    statsOn: 'Статистика увімкнена вашим вибором: скрипт статистики запущено.',
  },
  ru: {
    product: 'Dovira',
    tagline: 'Персональные данные онлайн-школы под контролем её собственной политики',
    langNav: 'Язык',
    skip: 'Перейти к содержанию',
    homeTitle: 'Dovira — публичные страницы школы',
    homeIntro:
      'Здесь школа публикует уведомление об обработке персональных данных. Формой регистрации и баннером cookie школа пользуется на собственном сайте.',
    noticeLink: 'Уведомление об обработке персональных данных',
    demoLink: 'Демонстрационная страница школы (форма и баннер cookie)',
    cabinetLink: 'Мои персональные данные (личный кабинет)',
    consoleLink: 'Консоль сотрудников школы (вход для сотрудников)',
    noticeTitle: 'Уведомление об обработке персональных данных',
    versions: 'Версии политики',
    current: 'действующая',
    effective: 'вступает в силу',
    oldVersionNote:
      'Это предыдущая версия политики в виде файла, как она была опубликована. Действующая версия доступна по ссылке выше.',
    loading: 'Загрузка…',
    loadError: 'Не удалось загрузить страницу. Попробуйте ещё раз позже.',
    noSchool: 'Не указана школа (параметр school).',
    demoTitle: 'Школа «Включи жизнь» — демонстрационная страница',
    demoIntro:
      'Так выглядит сайт школы, который встраивает форму Dovira и баннер cookie. Форма отправляет данные прямо в Dovira; баннер сохраняет ваш выбор как доказательство.',
    demoForm: 'Подписка на рассылку',
    demoCookies: 'Настройки cookie',
    statsOff: 'Статистика выключена: скрипт статистики не запускался.',
    statsOn: 'Статистика включена вашим выбором: скрипт статистики запущен.',
  },
  en: {
    product: 'Dovira',
    tagline: "An online school's personal data, governed by its own policy",
    langNav: 'Language',
    skip: 'Skip to content',
    homeTitle: "Dovira — the school's public pages",
    homeIntro:
      'This is where the school publishes its personal data notice. The sign-up form and the cookie banner are used on the school’s own site.',
    noticeLink: 'Personal data notice',
    demoLink: 'Demo school page (form and cookie banner)',
    cabinetLink: 'My personal data (personal account)',
    consoleLink: 'Staff console (sign-in for the school’s staff)',
    noticeTitle: 'Personal data notice',
    versions: 'Policy versions',
    current: 'in force',
    effective: 'effective',
    oldVersionNote:
      'This is an earlier version of the policy, as the file was published. The version in force is linked above.',
    loading: 'Loading…',
    loadError: 'The page could not be loaded. Please try again later.',
    noSchool: 'No school given (the school parameter).',
    demoTitle: 'Vkluchi Zhizn school — demo page',
    demoIntro:
      'This is how a school’s site looks when it embeds the Dovira form and cookie banner. The form sends its data straight to Dovira; the banner keeps your choice as proof.',
    demoForm: 'Mailing subscription',
    demoCookies: 'Cookie settings',
    statsOff: 'Statistics are off: the statistics script has not run.',
    statsOn: 'Statistics are on by your choice: the statistics script has run.',
  },
} satisfies Record<Lang, Record<string, string>>;

export type Messages = (typeof M)['en'];
