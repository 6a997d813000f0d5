#include "services/request_texts.h"

#include <array>
#include <utility>

namespace dovira::services {
namespace {

struct Entry {
  const char* kind;
  std::array<const char*, 3> subject;  // uk, ru, en
  std::array<const char*, 3> body;
};

// clang-format off
constexpr Entry kMessages[] = {
  {"received",
   {"Ваш запит отримано: {type}", "Ваш запрос получен: {type}", "Your request was received: {type}"},
   {"Ми отримали ваш запит ({type}) {received}. Номер запиту: {id}.\nВідповідь буде надано не пізніше {due}.",
    "Мы получили ваш запрос ({type}) {received}. Номер запроса: {id}.\nОтвет будет дан не позднее {due}.",
    "We received your request ({type}) on {received}. Request number: {id}.\nWe will answer by {due}."}},
  {"identity_code",
   {"Код підтвердження запиту", "Код подтверждения запроса", "Your request confirmation code"},
   {"Щоб підтвердити, що запит {id} ({type}) подали ви, введіть код: {code}\nКод діє {minutes} хвилин. Якщо ви не подавали запит, проігноруйте цей лист.",
    "Чтобы подтвердить, что запрос {id} ({type}) подали вы, введите код: {code}\nКод действует {minutes} минут. Если вы не подавали запрос, проигнорируйте это письмо.",
    "To confirm that you filed request {id} ({type}), enter this code: {code}\nIt is valid for {minutes} minutes. If you did not file a request, ignore this message."}},
  {"sign_in_code",
   {"Код для входу в особистий кабінет", "Код для входа в личный кабинет", "Your personal account sign-in code"},
   {"Код для входу в особистий кабінет {school}: {code}\nКод діє {minutes} хвилин. Якщо ви не намагалися увійти, проігноруйте цей лист.",
    "Код для входа в личный кабинет {school}: {code}\nКод действует {minutes} минут. Если вы не пытались войти, проигнорируйте это письмо.",
    "Your sign-in code for the {school} personal account: {code}\nIt is valid for {minutes} minutes. If you did not try to sign in, ignore this message."}},
  {"reconsent_required",
   {"Підтвердіть свою згоду", "Подтвердите своё согласие", "Please confirm your consent"},
   {"Вітаємо з повноліттям! Згоду на обробку ваших персональних даних у {school} дав ваш законний представник. Відтепер ви вирішуєте самі: увійдіть в особистий кабінет з цією адресою та підтвердьте або відкличте згоду. Доки ви не відповіли, ми не обробляємо ваші дані на підставі згоди.",
    "Поздравляем с совершеннолетием! Согласие на обработку ваших персональных данных в {school} дал ваш законный представитель. Теперь вы решаете сами: войдите в личный кабинет с этим адресом и подтвердите или отзовите согласие. Пока вы не ответили, мы не обрабатываем ваши данные на основании согласия.",
    "Congratulations on coming of age! Your legal representative gave consent to the processing of your personal data at {school}. From now on it is your decision: sign in to the personal account with this address and confirm or withdraw your consent. Until you answer, we do not process your data on the basis of consent."}},
  {"answer",
   {"Ваш запит виконано: {type}", "Ваш запрос выполнен: {type}", "Your request is complete: {type}"},
   {"Запит {id} ({type}) виконано {closed}.\n{extra}",
    "Запрос {id} ({type}) выполнен {closed}.\n{extra}",
    "Request {id} ({type}) was completed on {closed}.\n{extra}"}},
  {"no_data",
   {"Відповідь на ваш запит", "Ответ на ваш запрос", "The answer to your request"},
   {"Відповідь на запит {id}: ми не обробляємо персональних даних, пов’язаних з адресою, з якої надійшов запит.",
    "Ответ на запрос {id}: мы не обрабатываем персональных данных, связанных с адресом, с которого поступил запрос.",
    "Answer to request {id}: we do not process any personal data linked to the address the request came from."}},
  {"rejected",
   {"Ваш запит відхилено: {type}", "Ваш запрос отклонён: {type}", "Your request was refused: {type}"},
   {"Запит {id} ({type}) відхилено. Причина: {reason}\n\n{complaint}",
    "Запрос {id} ({type}) отклонён. Причина: {reason}\n\n{complaint}",
    "Request {id} ({type}) was refused. Reason: {reason}\n\n{complaint}"}},
  {"action_notice",
   {"Зміни у ваших персональних даних", "Изменения в ваших персональных данных", "A change to your personal data"},
   {"Повідомляємо: {action} {performed}. Поля: {fields}.",
    "Сообщаем: {action} {performed}. Поля: {fields}.",
    "We inform you: {action} on {performed}. Fields: {fields}."}},
  {"restriction_lifted",
   {"Обмеження обробки знято", "Ограничение обработки снято", "The restriction of processing was lifted"},
   {"Обмеження обробки ваших даних за запитом {id} знято {closed}.",
    "Ограничение обработки ваших данных по запросу {id} снято {closed}.",
    "The restriction of processing of your data under request {id} was lifted on {closed}."}},
  {"objection_decided",
   {"Рішення щодо вашого заперечення", "Решение по вашему возражению", "The decision on your objection"},
   {"Рішення щодо заперечення {id} (мета: {purposes}): {decision}.\n{extra}",
    "Решение по возражению {id} (цель: {purposes}): {decision}.\n{extra}",
    "Decision on objection {id} (purpose: {purposes}): {decision}.\n{extra}"}},
  {"segment_decided",
   {"Рішення щодо вашого оскарження сегменту", "Решение по вашему оспариванию сегмента", "The decision on your contest of a segment"},
   {"Наш працівник розглянув ваше оскарження віднесення до сегменту «{segment}» (запит {id}) і вирішив: {decision}.\n{extra}",
    "Наш сотрудник рассмотрел ваше оспаривание отнесения к сегменту «{segment}» (запрос {id}) и решил: {decision}.\n{extra}",
    "A member of our staff reviewed your contest of your placement in the segment \"{segment}\" (request {id}) and decided: {decision}.\n{extra}"}},
  {"erasure_offer",
   {"Ви можете вимагати видалення даних", "Вы можете потребовать удаления данных", "You may ask us to erase your data"},
   {"Оскільки переважних законних підстав для обробки ({purposes}) немає, ви можете вимагати видалення відповідних даних, подавши запит на видалення.",
    "Поскольку преобладающих законных оснований для обработки ({purposes}) нет, вы можете потребовать удаления соответствующих данных, подав запрос на удаление.",
    "As there are no overriding legitimate grounds for the processing ({purposes}), you may ask us to erase the data concerned by filing an erasure request."}},
  {"warning",
   {"Строк запиту спливає: {id}", "Срок запроса истекает: {id}", "A request term is running out: {id}"},
   {"Минуло {share} строку запиту {id} ({type}). Строк: {due}.",
    "Прошло {share} срока запроса {id} ({type}). Срок: {due}.",
    "{share} of the term of request {id} ({type}) has passed. Due: {due}."}},
  {"overdue",
   {"Запит прострочено: {id}", "Запрос просрочен: {id}", "Request overdue: {id}"},
   {"Запит {id} ({type}) мав бути виконаний до {due} і досі відкритий.",
    "Запрос {id} ({type}) должен был быть выполнен до {due} и всё ещё открыт.",
    "Request {id} ({type}) was due by {due} and is still open."}},
  // R50: the lines of an erasure or withdrawal answer that name what a legal hold keeps, and the
  // message when the hold has ended and the kept data are erased.
  {"legal_hold_erased",
   {"", "", ""},
   {"Знищено: {fields}.", "Уничтожено: {fields}.", "Erased: {fields}."}},
  {"legal_hold_kept",
   {"", "", ""},
   {"Збережено з доступом, обмеженим лише зберіганням, бо цього вимагає або це дозволяє закон: {fields}. Причина: {reason}. Правова підстава: {basis}. Строк зберігання: до {until} включно; після нього ці дані буде знищено.",
    "Сохранено с доступом, ограниченным только хранением, поскольку этого требует или это разрешает закон: {fields}. Причина: {reason}. Правовое основание: {basis}. Срок хранения: до {until} включительно; после него эти данные будут уничтожены.",
    "Kept with access restricted to storage only, because the law requires or permits it: {fields}. Reason: {reason}. Legal basis: {basis}. Kept until {until} inclusive; after that these data will be erased."}},
  {"legal_hold_ended",
   {"Збережені за законом дані знищено", "Сохранённые по закону данные уничтожены", "The data kept under the law were erased"},
   {"Строк зберігання даних, які ми зберігали після вашого запиту {id} ({type}), закінчився. Причина зберігання: {reason}. Правова підстава: {basis}. Строк: до {until}.\nДані знищено {performed}: {fields}.{extra}",
    "Срок хранения данных, которые мы хранили после вашего запроса {id} ({type}), истёк. Причина хранения: {reason}. Правовое основание: {basis}. Срок: до {until}.\nДанные уничтожены {performed}: {fields}.{extra}",
    "The data we kept after your request {id} ({type}) are no longer held. Reason they were kept: {reason}. Legal basis: {basis}. Kept until: {until}.\nThe data were erased on {performed}: {fields}.{extra}"}},
  {"recipient_notice",
   {"Зміна персональних даних, які ми вам передали", "Изменение персональных данных, которые мы вам передали", "A change to personal data we disclosed to you"},
   {"{school} повідомляє одержувача «{recipient}»: {event} {performed} (суб’єкт {subject}, запит {id}).\nПоля, які ми вам передавали: {fields}.\n{values}Просимо внести відповідні зміни у ваші дані.",
    "{school} сообщает получателю «{recipient}»: {event} {performed} (субъект {subject}, запрос {id}).\nПоля, которые мы вам передавали: {fields}.\n{values}Просим внести соответствующие изменения в ваши данные.",
    "{school} informs the recipient \"{recipient}\": {event} on {performed} (subject {subject}, request {id}).\nFields we disclosed to you: {fields}.\n{values}Please make the same change to the data you hold."}},
};

constexpr std::pair<const char*, std::array<const char*, 3>> kTypeNames[] = {
  {"access", {"доступ до даних", "доступ к данным", "access to data"}},
  {"confirmation", {"підтвердження обробки", "подтверждение обработки", "confirmation of processing"}},
  {"information", {"інформація про обробку", "информация об обработке", "information on processing"}},
  {"transfer_info", {"інформація про передачу", "информация о передаче", "information on transfers"}},
  {"rectification", {"виправлення даних", "исправление данных", "rectification"}},
  {"erasure", {"видалення даних", "удаление данных", "erasure"}},
  {"restriction", {"обмеження обробки", "ограничение обработки", "restriction of processing"}},
  {"suspend", {"зупинення обробки", "приостановление обработки", "suspension of processing"}},
  {"objection", {"заперечення проти обробки", "возражение против обработки", "objection"}},
  {"marketing_objection", {"відмова від маркетингу", "отказ от маркетинга", "objection to marketing"}},
  {"object_direct_marketing", {"відмова від маркетингу", "отказ от маркетинга", "objection to marketing"}},
  {"portability", {"перенесення даних", "перенос данных", "data portability"}},
  {"withdrawal", {"відкликання згоди", "отзыв согласия", "withdrawal of consent"}},
  {"automated_decision_review", {"перегляд автоматизованого рішення", "пересмотр автоматизированного решения", "review of an automated decision"}},
  {"contest_segment", {"оскарження сегменту", "оспаривание сегмента", "contesting a segment"}},
  {"no_automated_decisions", {"відмова від автоматизованих рішень", "отказ от автоматизированных решений", "opt-out of automated decisions"}},
  {"complaint", {"скарга", "жалоба", "complaint"}},
  {"claim", {"претензія", "претензия", "claim"}},
  {"unlawful_processing", {"неправомірна обробка", "неправомерная обработка", "unlawful processing"}},
};
// clang-format on

size_t LangIndex(const std::string& lang) {
  if (lang == "ru") return 1;
  if (lang == "en") return 2;
  return 0;
}

std::string Fill(std::string text, const std::map<std::string, std::string>& vars) {
  std::string out;
  out.reserve(text.size() + 64);
  for (size_t i = 0; i < text.size();) {
    if (text[i] == '{') {
      size_t end = text.find('}', i);
      if (end != std::string::npos) {
        auto it = vars.find(text.substr(i + 1, end - i - 1));
        if (it != vars.end()) {
          out += it->second;
          i = end + 1;
          continue;
        }
      }
    }
    out += text[i++];
  }
  return out;
}

}  // namespace

std::string MessageLang(const std::string& lang) {
  return lang == "ru" || lang == "en" ? lang : "uk";
}

MessageText RenderMessage(const std::string& kind, const std::string& lang,
                          const std::map<std::string, std::string>& vars) {
  const size_t l = LangIndex(lang);
  for (const Entry& e : kMessages) {
    if (kind == e.kind) return MessageText{Fill(e.subject[l], vars), Fill(e.body[l], vars)};
  }
  return MessageText{kind, ""};
}

std::string RecipientEventText(const std::string& event, const std::string& lang) {
  static const std::pair<const char*, std::array<const char*, 3>> kEvents[] = {
      {"rectification", {"дані виправлено", "данные исправлены", "the data were corrected"}},
      {"erasure", {"дані знищено", "данные уничтожены", "the data were erased"}},
      {"restriction", {"обробку обмежено", "обработка ограничена", "processing was restricted"}},
  };
  const size_t l = LangIndex(lang);
  for (const auto& [id, names] : kEvents) {
    if (event == id) return names[l];
  }
  return event;
}

std::string ErasureCompleteText(const std::string& lang) {
  static const std::array<const char*, 3> kText = {
      " Ваших персональних даних у нас більше немає.",
      " Ваших персональных данных у нас больше нет.",
      " We no longer hold any personal data of yours."};
  return kText[LangIndex(lang)];
}

std::string CorrectedValuesHeading(const std::string& lang) {
  static const std::array<const char*, 3> kHeading = {"Нові значення:", "Новые значения:",
                                                      "The corrected values:"};
  return kHeading[LangIndex(lang)];
}

std::string RequestTypeName(const std::string& type, const std::string& lang) {
  const size_t l = LangIndex(lang);
  for (const auto& [id, names] : kTypeNames) {
    if (type == id) return names[l];
  }
  return type;
}

}  // namespace dovira::services
