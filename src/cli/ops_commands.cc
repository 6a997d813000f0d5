// The deployment commands: serve, admin create, audit verify, keys rotate, backup.
#include <signal.h>

#include <filesystem>
#include <istream>
#include <ostream>

#include "app/app.h"
#include "cli/commands.h"
#include "cli/open_app.h"
#include "services/audit_log.h"
#include "services/schools.h"
#include "services/staff.h"
#include "services/subjects.h"

namespace dovira::cli {

namespace {

Result<std::unique_ptr<app::App>> Open(const DataArgs& d, const std::string& fake_clock,
                                       const ServeArgs* serve, const std::string& exclusive_for) {
  app::AppOptions o;
  o.exclusive_for = exclusive_for;
  if (serve != nullptr) {
    o.gate_capacity = serve->gate_cache;
    o.shared_store = true;
    o.smtp_url = serve->smtp_url;
    o.mail_dir = serve->mail_dir;
    if (!serve->mail_from.empty()) o.mail_from = serve->mail_from;
    o.public_url = serve->public_url;
    while (!o.public_url.empty() && o.public_url.back() == '/') o.public_url.pop_back();
  }
  o.data_dir = d.data;
  o.store = d.store;
  o.keys_store = d.keys_store;
  o.store_schema = d.store_schema;
  o.policy_files = d.policies;
  if (!fake_clock.empty()) {
    Timestamp t;
    std::string err;
    if (!ParseTimestamp(fake_clock, &t, &err)) return Error::Invalid("--fake-clock: " + err);
    o.fake_clock = t;
  }
  return app::App::Open(std::move(o));
}

}  // namespace

Result<std::unique_ptr<app::App>> OpenApp(const DataArgs& d, const std::string& fake_clock,
                                          const ServeArgs* serve,
                                          const std::string& exclusive_for) {
  return Open(d, fake_clock, serve, exclusive_for);
}

Result<SchoolId> PickSchool(app::App& a, const std::string& school) {
  auto list = a.schools().List();
  if (school.empty()) {
    if (list.size() == 1) return list.front();
    return Error::Invalid("more than one school is served here: name one with --school");
  }
  auto rt = a.schools().Get(SchoolId(school));
  if (!rt.ok()) return rt.error();
  return SchoolId(school);
}

namespace {

std::string FirstPrivilegedRole(app::App& a, const SchoolId& school) {
  auto rt = a.schools().Get(school);
  if (!rt.ok()) return "";
  for (const auto& [id, r] : (*rt)->policy()->policy().roles) {
    if (r.privileged) return id;
  }
  return "";
}

}  // namespace

int Serve(const ServeArgs& args, std::ostream& out, std::ostream& err) {
  // Block the stop signals before any thread starts, so only sigwait below receives them.
  sigset_t stop;
  sigemptyset(&stop);
  sigaddset(&stop, SIGINT);
  sigaddset(&stop, SIGTERM);
  pthread_sigmask(SIG_BLOCK, &stop, nullptr);

  if (!args.smtp_url.empty() && !args.mail_dir.empty()) {
    err << "dovira serve: --smtp-url and --mail-dir are alternatives: give one of them "
           "(send the outbox's e-mail to an SMTP server, or write it into a directory)\n";
    return 2;
  }
  if (!args.web_root.empty()) {
    std::error_code ec;
    if (!std::filesystem::is_directory(args.web_root, ec)) {
      err << "dovira serve: --web-root " << args.web_root
          << ": not a directory (build the web pages first: make web)\n";
      return 1;
    }
  }
  auto app = OpenApp(args.data, args.fake_clock, &args, "start another server on it");
  if (!app.ok()) {
    err << "dovira serve: " << app.error().message << "\n";
    return 1;
  }
  app::ServeOptions so;
  so.address = args.address;
  so.port = static_cast<uint16_t>(args.port);
  so.io_threads = args.io_threads;
  so.worker_threads = args.worker_threads;
  so.secure_cookies = !args.insecure_cookies;
  so.access_log = !args.quiet;
  so.web_root = args.web_root;
  std::string bootstrap_note;
  if (!args.bootstrap_admin.empty()) {
    for (const auto& school : (*app)->schools().List()) {
      auto staff = (*app)->staff().List(school);
      if (!staff.ok() || !staff->empty()) continue;
      std::string role = FirstPrivilegedRole(**app, school);
      std::string password = (*app)->staff().GeneratePassword();
      auto created = (*app)->staff().Create(school, "Administrator", args.bootstrap_admin, role,
                                            password, services::Actor::System("bootstrap"), {});
      if (!created.ok()) {
        err << "dovira serve: cannot create the first account: " << created.error().message
            << "\n";
        return 1;
      }
      (void)(*app)->staff().RecordBriefing(school, created->id,
                                           services::Actor::System("bootstrap"), {});
      bootstrap_note += "  school " + school.value() + ": sign in as " + args.bootstrap_admin +
                        " (role " + role + ") with the one-time password " + password + "\n";
      bootstrap_note +=
          "    (printed once: the first sign-in sets a new password and, for this privileged "
          "role, a second factor from a TOTP authenticator app)\n";
    }
  }
  Status st = (*app)->Serve(so);
  if (!st.ok()) {
    err << "dovira serve: " << st.error().message << "\n";
    return 1;
  }
  const std::string host = args.address == "0.0.0.0" ? "127.0.0.1" : args.address;
  out << "Dovira is listening on http://" << host << ":" << (*app)->port() << "/\n";
  for (const auto& school : (*app)->schools().List()) {
    out << "  school " << school.value() << ": notice http://" << host << ":" << (*app)->port()
        << "/policy?school=" << school.value() << "&lang=uk\n";
  }
  if (!args.web_root.empty()) {
    const std::string base = "http://" + host + ":" + std::to_string((*app)->port());
    out << "  staff console: " << base << "/console.html\n"
        << "  personal cabinet: " << base << "/cabinet.html\n"
        << "  demo school page: " << base << "/demo-school.html\n";
  }
  if (!args.mail_dir.empty()) {
    out << "  e-mail is written into " << args.mail_dir << " (one .eml file per message)\n";
  }
  out << bootstrap_note;
  out.flush();
  int sig = 0;
  sigwait(&stop, &sig);
  out << "stopping\n";
  (*app)->Stop();
  return 0;
}

int AdminCreate(const AdminArgs& args, std::istream& in, std::ostream& out, std::ostream& err) {
  auto app = OpenApp(args.data);
  if (!app.ok()) {
    err << "dovira admin create: " << app.error().message << "\n";
    return 1;
  }
  auto school = PickSchool(**app, args.school);
  if (!school.ok()) {
    err << "dovira admin create: " << school.error().message << "\n";
    return 2;
  }
  std::string role = args.role.empty() ? FirstPrivilegedRole(**app, *school) : args.role;
  std::string password;
  if (args.password_stdin) {
    std::getline(in, password);
  } else {
    password = (*app)->staff().GeneratePassword();
  }
  // A password typed on stdin is the holder's own; a generated one is one-time.
  using Initial = services::StaffService::InitialPassword;
  auto created = (*app)->staff().Create(
      *school, args.name, args.email, role, password, services::Actor::System("admin-create"), {},
      args.password_stdin ? Initial::kChosenByHolder : Initial::kOneTime);
  if (!created.ok()) {
    err << "dovira admin create: " << created.error().message << "\n";
    return 1;
  }
  if (!args.password_stdin) {
    out << "created " << args.email << " (" << role << ") in " << school->value()
        << "; one-time password: " << password << "\n";
  } else {
    out << "created " << args.email << " (" << role << ") in " << school->value() << "\n";
  }
  return 0;
}

int ApiKeyCreate(const DataArgs& data, const std::string& school_id, const std::string& name,
                 const std::string& role, const std::vector<std::string>& purposes,
                 std::ostream& out, std::ostream& err) {
  auto app = OpenApp(data);
  if (!app.ok()) {
    err << "dovira apikey create: " << app.error().message << "\n";
    return 1;
  }
  auto school = PickSchool(**app, school_id);
  if (!school.ok()) {
    err << "dovira apikey create: " << school.error().message << "\n";
    return 2;
  }
  auto key = (*app)->staff().CreateApiKey(*school, name, role, purposes,
                                          services::Actor::System("apikey-create"), {});
  if (!key.ok()) {
    err << "dovira apikey create: " << key.error().message << "\n";
    return 1;
  }
  out << key->key << "\n";
  return 0;
}

int AuditVerify(const DataArgs& data, const std::string& school_id, std::ostream& out,
                std::ostream& err) {
  auto app = OpenApp(data);
  if (!app.ok()) {
    err << "dovira audit verify: " << app.error().message << "\n";
    return 1;
  }
  auto school = PickSchool(**app, school_id);
  if (!school.ok()) {
    err << "dovira audit verify: " << school.error().message << "\n";
    return 2;
  }
  auto v = (*app)->audit().Verify(*school);
  if (!v.ok()) {
    err << "dovira audit verify: " << v.error().message << "\n";
    return 1;
  }
  if (!v->ok) {
    out << "BROKEN at entry " << *v->first_broken << ": " << v->problem << " (" << v->entries
        << " entries read)\n";
    return 1;
  }
  out << "ok: " << v->entries << " entries, " << v->checkpoints << " signed checkpoints\n";
  return 0;
}

int KeysRotate(const DataArgs& data, const std::string& school_id, std::ostream& out,
               std::ostream& err) {
  // A running server keeps the school's key-encryption key in memory: rewrapping every subject
  // key under a new one beside it would leave the server wrapping new keys under the retired one.
  auto app = OpenApp(data, "", nullptr,
                     "rotate the keys (a running server keeps the current key-encryption key in "
                     "memory)");
  if (!app.ok()) {
    err << "dovira keys rotate: " << app.error().message << "\n";
    return 1;
  }
  auto school = PickSchool(**app, school_id);
  if (!school.ok()) {
    err << "dovira keys rotate: " << school.error().message << "\n";
    return 2;
  }
  auto r = (*app)->subjects().RotateKeys(*school, services::Actor::System("keys-rotate"), {});
  if (!r.ok()) {
    err << "dovira keys rotate: " << r.error().message << "\n";
    return 1;
  }
  out << "new key " << r->new_kek << "; " << r->rewrapped << " subject keys rewrapped; retired:";
  for (const auto& id : r->retired) out << " " << id;
  out << "\n";
  return 0;
}

int Backup(const DataArgs& data, const std::string& out_path, const std::string& keys_out,
           std::ostream& out, std::ostream& err) {
  auto app = OpenApp(data);
  if (!app.ok()) {
    err << "dovira backup: " << app.error().message << "\n";
    return 1;
  }
  Status st = (*app)->store().Backup(out_path);
  if (!st.ok()) {
    err << "dovira backup: " << st.error().message << "\n";
    return 1;
  }
  out << "data backup written to " << out_path << " (no subject keys: they stay in the key vault)\n";
  if (!keys_out.empty()) {
    st = (*app)->store().BackupKeyVault(keys_out);
    if (!st.ok()) {
      err << "dovira backup: " << st.error().message << "\n";
      return 1;
    }
    out << "key vault backup written to " << keys_out << " (keep it apart from data backups)\n";
  }
  return 0;
}

}  // namespace dovira::cli
