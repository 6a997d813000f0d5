// Who is acting and on which request: passed into every service call so that every action can be
// audited with its actor, role and request id.
//
// Thread-safety: plain values.
#pragma once

#include <chrono>
#include <string>
#include <string_view>
#include <vector>

#include "common/clock.h"
#include "ports/crypto.h"
#include "ports/keys.h"
#include "ports/store.h"

namespace dovira::services {

struct Actor {
  enum class Kind { kPublic, kSubject, kStaff, kApiKey, kSystem };
  Kind kind = Kind::kPublic;
  std::string id;    // staff id, api key id, subject id or job name
  std::string role;  // a policy role id for staff and API keys; "" otherwise
  std::vector<std::string> purposes;  // API keys: the only purposes they may state
  bool briefed = true;  // staff: briefing recorded (R87); PD reads need it
  // Staff of an outside organisation (R86): its name. Under a role the policy gives to an
  // affiliate or a contractor, the person reaches only the subjects assigned to it.
  std::string organisation;
  // kSubject only: set when a guardian acts for the linked minor `id` under this guardianship
  // (B06); the audit then names the actor "guardian:<guardianship>".
  std::string guardianship;

  // "staff:<id>", "api_key:<id>", "subject", "guardian:<guardianship>", "system:<job>", "public".
  std::string AuditName() const;
  static Actor Public() { return Actor{}; }
  static Actor System(std::string job) { return Actor{Kind::kSystem, std::move(job), "", {}, true}; }
};

struct RequestContext {
  std::string request_id;
  std::string ip;          // as received; stored only truncated (/24, /48) or hashed
  std::string user_agent;  // stored only hashed
};

// The outside world the services use, injected (style.md habit 4).
struct Deps {
  ports::Store& store;
  ports::Crypto& crypto;
  ports::KeyProvider& keys;
  const Clock& clock;
};

// `text` as a JSON string literal, quotes included, with quotes, backslashes and control
// characters escaped: audit details are built from ids that may come from a request.
std::string JsonQuote(const std::string& text);

// "a,b,c": field, purpose and grant lists as the audit stores them.
std::string JoinIds(const std::vector<std::string>& ids);
// Microseconds since the epoch (the unit of the gate's consent windows).
inline int64_t MicrosOf(Timestamp t) { return t.time_since_epoch().count(); }

// Secrets as the services keep them: `bytes` random bytes as hex (tokens), the hex hash of a
// secret (what is stored instead of it), and a six-digit code for an e-mail (100000-999999).
std::string RandomHex(ports::Crypto& crypto, size_t bytes);
std::string HashHex(ports::Crypto& crypto, std::string_view secret);
std::string OneTimeCode(ports::Crypto& crypto);
// Such a code stops working after this many wrong tries and this long after it was sent: the
// cabinet's sign-in code and a public request's identity code alike (R37).
inline constexpr int kMaxCodeAttempts = 5;
inline constexpr std::chrono::minutes kCodeLifetime{15};

// The IP truncated to its /24 (IPv4) or /48 (IPv6) network, "" when not an address: evidence
// without identifying the person (R101).
std::string TruncateIp(const std::string& ip);

}  // namespace dovira::services
