// `dovira retention preview --data DIR --until DATE`: what the retention job will end up to a day
// and why (R70-R72), from the same plan the job follows, so that an officer can check it ahead.
#include <CLI/CLI.hpp>
#include <iostream>

#include "calendar/date.h"
#include "cli/commands.h"
#include "cli/data_options.h"
#include "cli/open_app.h"
#include "services/retention.h"
#include "services/schools.h"

namespace dovira::cli {

int RetentionPreview(const DataArgs& data, const std::string& school_id, const std::string& until,
                     const std::string& lang, std::ostream& out, std::ostream& err) {
  if (!calendar::ParseDate(until).ok()) {
    err << "dovira retention preview: --until must be a date YYYY-MM-DD, not \"" << until
        << "\"\n";
    return 2;
  }
  auto app = OpenApp(data);
  if (!app.ok()) {
    err << "dovira retention preview: " << app.error().message << "\n";
    return 1;
  }
  auto school = PickSchool(**app, school_id);
  if (!school.ok()) {
    err << "dovira retention preview: " << school.error().message << "\n";
    return 2;
  }
  auto items = (*app)->retention().Upcoming(*school, until);
  if (!items.ok()) {
    err << "dovira retention preview: " << items.error().message << "\n";
    return 1;
  }
  auto rt = (*app)->schools().Get(*school);
  if (!rt.ok()) {
    err << "dovira retention preview: " << rt.error().message << "\n";
    return 1;
  }
  auto cp = (*rt)->policy();
  // One tab-separated line per field: day, subject, field, purpose, trigger, action, sentence.
  for (const auto& item : *items) {
    out << item.due_date << '\t' << item.subject.value() << '\t' << item.field << '\t'
        << item.purpose << '\t' << item.trigger << '\t' << item.action << '\t'
        << services::ExplainRetention(*cp, item, lang) << '\n';
  }
  err << items->size() << " field(s) up to " << until << "\n";
  return 0;
}

void AddRetentionCommands(CLI::App& app, int& exit_code) {
  auto* retention = app.add_subcommand("retention", "Purpose retention terms (R70-R72)");
  retention->require_subcommand(1);
  static DataArgs data;
  static std::string school, until, lang = "en";
  auto* preview = retention->add_subcommand(
      "preview", "What the retention job will end up to a day, and why (one line per field)");
  AddDataOptions(preview, data);
  preview->add_option("--school", school, "School id");
  preview->add_option("--until", until, "The last day, YYYY-MM-DD")->required();
  preview->add_option("--lang", lang, "Language of the sentences: uk, ru or en")
      ->capture_default_str();
  preview->callback([&exit_code] {
    exit_code = RetentionPreview(data, school, until, lang, std::cout, std::cerr);
  });
}

}  // namespace dovira::cli
