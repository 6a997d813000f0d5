#include "services/outbox.h"

#include <algorithm>
#include <nlohmann/json.hpp>

#include "domain/requests.h"
#include "services/request_texts.h"

namespace dovira::services {
namespace {

using Json = nlohmann::json;

std::string Aad(const SchoolId& school, const std::string& id) {
  return "outbox|" + school.value() + "|" + id;
}

std::chrono::microseconds Backoff(int attempts) {
  // 1, 4, 16, 64, 256 minutes, then 6 hours.
  int64_t minutes = 1;
  for (int i = 1; i < attempts && minutes < 360; ++i) minutes *= 4;
  return std::chrono::minutes(std::min<int64_t>(minutes, 360));
}

}  // namespace

Outbox::Outbox(Deps deps, ports::Mailer* mailer, ports::WebhookSender* webhooks,
               std::string fallback_from, const Schools& schools)
    : deps_(deps),
      mailer_(mailer),
      webhooks_(webhooks),
      fallback_from_(std::move(fallback_from)),
      schools_(schools) {}

OutMessage Letter(const std::string& kind, const std::string& lang, const std::string& to,
                  const std::map<std::string, std::string>& vars) {
  MessageText text = RenderMessage(kind, lang, vars);
  OutMessage m;
  m.kind = kind;
  m.lang = lang;
  m.to = {to};
  m.subject = std::move(text.subject);
  m.text = std::move(text.body);
  return m;
}

Result<std::string> Outbox::Add(ports::WriteBatch& batch, const SchoolId& school,
                                const OutMessage& m) {
  if (m.channel == "email" && m.to.empty()) return Error::Invalid("an e-mail needs a recipient", "to");
  if (m.channel == "webhook" && m.url.empty()) return Error::Invalid("a webhook needs a URL", "url");
  if (m.channel != "email" && m.channel != "webhook") {
    return Error::Invalid("channel must be email or webhook", "channel");
  }
  const std::string id = deps_.crypto.NewId();
  Json content = {{"to", m.to},     {"url", m.url},   {"subject", m.subject},
                  {"text", m.text}, {"from", ""},     {"attachments", Json::array()}};
  if (m.channel == "email") {
    // R36: one sender for every letter of the school, which signs it.
    auto rt = schools_.Get(school);
    if (!rt.ok()) return rt.error();
    const LetterSender sender = SenderOf((*rt)->policy()->policy(), m.lang, fallback_from_);
    content["from"] = sender.address;
    content["from_name"] = sender.name;
    content["text"] = m.text + "\n\n" + sender.signature;
  }
  for (const auto& a : m.attachments) {
    content["attachments"].push_back(
        {{"filename", a.filename}, {"content_type", a.content_type}, {"data", a.data}});
  }
  auto sealed = deps_.keys.SealSecret(
      school, content.dump(-1, ' ', false, Json::error_handler_t::replace), Aad(school, id));
  if (!sealed.ok()) return sealed.error();
  Json body = {{"kind", m.kind}, {"lang", m.lang}};
  if (m.due) body["due_us"] = MicrosOf(*m.due);
  const Timestamp now = deps_.clock.Now();
  ports::OutboxRow row;
  row.school = school;
  row.id = id;
  row.request = m.request;
  row.channel = m.channel;
  row.state = "pending";
  row.created_at = now;
  row.next_attempt_at = now;
  row.body = body.dump();
  row.sealed = std::move(*sealed);
  batch.outbox.push_back(std::move(row));
  return id;
}

void Outbox::SetSettledHook(SettledHook hook) {
  std::lock_guard<std::mutex> lock(deliver_mu_);
  settled_ = std::move(hook);
}

Result<Outbox::Report> Outbox::DeliverDue() {
  std::lock_guard<std::mutex> lock(deliver_mu_);
  Report report;
  const Timestamp now = deps_.clock.Now();
  auto due = deps_.store.DueOutbox(now, 200);
  if (!due.ok()) return due.error();
  for (ports::OutboxRow& row : *due) {
    Status outcome = Status::Ok();
    std::string content;
    auto opened = deps_.keys.OpenSecret(row.school, row.sealed, Aad(row.school, row.id));
    if (!opened.ok()) {
      outcome = opened.error();
    } else {
      Json c = Json::parse(*opened, nullptr, false);
      if (c.is_discarded()) {
        outcome = Error{ErrorCode::kInternal, "sealed message is not JSON", "", "outbox_corrupt"};
      } else if (row.channel == "email") {
        content = c.value("text", "");
        if (mailer_ == nullptr) continue;  // no SMTP configured: stays pending
        ports::MailMessage mail;
        mail.from = c.value("from", "").empty() ? fallback_from_ : c.value("from", "");
        mail.from_name = c.value("from_name", "");
        mail.to = c.value("to", std::vector<std::string>{});
        mail.subject = c.value("subject", "");
        mail.text = c.value("text", "");
        for (const auto& a : c["attachments"]) {
          mail.attachments.push_back(ports::MailAttachment{
              a.value("filename", ""), a.value("content_type", ""), a.value("data", "")});
        }
        mail.message_id = "<" + row.id + "@dovira>";
        outcome = mailer_->Send(mail);
      } else {
        if (webhooks_ == nullptr) continue;
        content = c.value("text", "");
        ports::WebhookCall call{c.value("url", ""), c.value("text", ""),
                                {{"X-Dovira-Message", row.id}}};
        auto posted = webhooks_->Post(call);
        if (!posted.ok()) outcome = posted.error();
      }
    }
    ++row.attempts;
    if (outcome.ok()) {
      row.state = "sent";
      row.sent_at = deps_.clock.Now();
      row.sealed.clear();
      row.last_error.clear();
      RecordLateness(row);
      ++report.sent;
    } else if (outcome.error().code == ErrorCode::kUnavailable && row.attempts < kMaxAttempts) {
      row.next_attempt_at = now + Backoff(row.attempts);
      row.last_error = outcome.error().message;
      ++report.retried;
    } else {
      row.state = "failed";
      row.last_error = outcome.error().message;
      ++report.failed;
    }
    ports::WriteBatch batch;
    batch.outbox.push_back(row);
    if (row.state != "pending" && settled_) {
      Json body = Json::parse(row.body, nullptr, false);
      Settled s{row.school,   row.id,    row.request,     row.channel,
                body.is_object() ? body.value("kind", "") : std::string(),
                row.state,    row.last_error, std::move(content)};
      if (Status st = settled_(s, batch); !st.ok()) return st.error();
    }
    if (batch.empty()) continue;  // the hook committed it with its own rows
    Status st = deps_.store.Commit(std::move(batch));
    if (!st.ok()) return st.error();
  }
  return report;
}

void Outbox::RecordLateness(ports::OutboxRow& row) const {
  Json body = Json::parse(row.body, nullptr, false);
  if (body.is_discarded() || !body.contains("due_us") || !row.sent_at) return;
  auto rt = schools_.Get(row.school);
  if (!rt.ok()) return;
  const Timestamp due(std::chrono::microseconds(body["due_us"].get<int64_t>()));
  const int64_t late = domain::LateByDays((*rt)->policy()->calendar(), due, *row.sent_at);
  if (late <= 0) return;
  body["late_by_days"] = late;
  row.body = body.dump();
}

Result<int> Outbox::MarkOverdue(const SchoolId& school, Timestamp now,
                                const std::function<Status(ports::OutboxRow marked)>& commit) {
  std::lock_guard<std::mutex> lock(deliver_mu_);
  auto unsent = deps_.store.UnsentOutbox(school);
  if (!unsent.ok()) return unsent.error();
  int marked = 0;
  for (ports::OutboxRow& row : *unsent) {
    Json body = Json::parse(row.body, nullptr, false);
    if (body.is_discarded() || !body.contains("due_us") || body.contains("overdue_at_us")) continue;
    if (now <= Timestamp(std::chrono::microseconds(body["due_us"].get<int64_t>()))) continue;
    body["overdue_at_us"] = MicrosOf(now);
    row.body = body.dump();
    if (Status st = commit(std::move(row)); !st.ok()) return st.error();
    ++marked;
  }
  return marked;
}

Result<std::vector<OutboxEntry>> Outbox::ForRequest(const SchoolId& school,
                                                    const std::string& request) {
  auto rows = deps_.store.RequestOutbox(school, request);
  if (!rows.ok()) return rows.error();
  std::vector<OutboxEntry> out;
  for (const auto& r : *rows) {
    OutboxEntry e;
    e.id = r.id;
    e.request = r.request;
    e.channel = r.channel;
    e.state = r.state;
    e.attempts = r.attempts;
    e.created_at = r.created_at;
    e.sent_at = r.sent_at;
    e.last_error = r.last_error;
    Json body = Json::parse(r.body, nullptr, false);
    if (!body.is_discarded()) {
      e.kind = body.value("kind", "");
      if (body.contains("due_us")) {
        e.due = Timestamp(std::chrono::microseconds(body["due_us"].get<int64_t>()));
      }
      if (body.contains("overdue_at_us")) {
        e.overdue_at = Timestamp(std::chrono::microseconds(body["overdue_at_us"].get<int64_t>()));
      }
      e.late_by_days = body.value("late_by_days", int64_t{0});
    }
    out.push_back(std::move(e));
  }
  return out;
}

}  // namespace dovira::services
