#include "adapters/crypto/key_ring.h"

#include <fcntl.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstdio>
#include <optional>
#include <system_error>

namespace dovira::crypto {
namespace {

constexpr size_t kSigningSecretBytes = 64;
constexpr size_t kSigningPublicOffset = 32;
constexpr size_t kMaxKekIdChars = 32;
constexpr off_t kMaxKeyFileBytes = 1 << 20;
constexpr std::string_view kSubjectKeyAadPrefix = "dovira-subject-key|";

void Wipe(std::string& s) {
  if (!s.empty()) explicit_bzero(s.data(), s.size());
}

std::string SystemError(int error_number) {
  return std::error_code(error_number, std::generic_category()).message();
}

Error FileError(const std::string& what, const std::string& path, int error_number) {
  return Error::Unavailable(what + " " + path + ": " + SystemError(error_number));
}

Error LineError(size_t line, const std::string& problem) {
  return Error::Invalid("key ring line " + std::to_string(line) + ": " + problem);
}

bool IsValidKekId(std::string_view id) {
  if (id.empty() || id.size() > kMaxKekIdChars) return false;
  for (char c : id) {
    const bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
                    c == '-' || c == '_';
    if (!ok) return false;
  }
  return true;
}

// Decodes exactly `bytes` bytes of hex; nullopt otherwise. Never reports which digit was bad.
std::optional<std::string> DecodeHex(std::string_view hex, size_t bytes) {
  if (hex.size() != bytes * 2) return std::nullopt;
  auto decoded = ports::FromHex(hex);
  if (!decoded.ok()) return std::nullopt;
  return std::move(decoded).value();
}

std::vector<std::string_view> Tokens(std::string_view line) {
  std::vector<std::string_view> tokens;
  constexpr std::string_view kSpace = " \t\r\v\f";
  size_t pos = 0;
  while (true) {
    pos = line.find_first_not_of(kSpace, pos);
    if (pos == std::string_view::npos) break;
    size_t end = line.find_first_of(kSpace, pos);
    if (end == std::string_view::npos) end = line.size();
    tokens.push_back(line.substr(pos, end - pos));
    pos = end;
  }
  return tokens;
}

// The KEK number of an id of the form "k<n>" (n up to 9 digits), or -1.
long KekNumber(std::string_view id) {
  if (id.size() < 2 || id.size() > 10 || id[0] != 'k') return -1;
  long n = 0;
  for (char c : id.substr(1)) {
    if (c < '0' || c > '9') return -1;
    n = n * 10 + (c - '0');
  }
  return n;
}

std::string DirName(const std::string& path) {
  const size_t slash = path.find_last_of('/');
  if (slash == std::string::npos) return ".";
  if (slash == 0) return "/";
  return path.substr(0, slash);
}

Status WriteAll(int fd, std::string_view data) {
  while (!data.empty()) {
    const ssize_t n = ::write(fd, data.data(), data.size());
    if (n < 0) {
      if (errno == EINTR) continue;
      return Error{ErrorCode::kUnavailable, SystemError(errno), {}};
    }
    data.remove_prefix(static_cast<size_t>(n));
  }
  return Status::Ok();
}

// Writes `text` to the open file, then fsyncs and closes it (the descriptor is closed either way).
Status WriteSyncClose(int fd, std::string_view text, const std::string& path) {
  Status written = WriteAll(fd, text);
  if (!written.ok()) {
    ::close(fd);
    return Error::Unavailable("cannot write " + path + ": " + written.error().message);
  }
  if (::fsync(fd) != 0) {
    const int e = errno;
    ::close(fd);
    return FileError("cannot fsync", path, e);
  }
  if (::close(fd) != 0) return FileError("cannot close", path, errno);
  return Status::Ok();
}

// Makes a just-created or renamed directory entry durable.
Status SyncDirectory(const std::string& path) {
  const std::string dir = DirName(path);
  const int fd = ::open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (fd < 0) return FileError("cannot open directory", dir, errno);
  int rc = ::fsync(fd);
  const int e = errno;
  ::close(fd);
  // Some file systems do not support fsync on a directory; the data itself is already synced.
  if (rc != 0 && e != EINVAL) return FileError("cannot fsync directory", dir, e);
  return Status::Ok();
}

// Reads the whole file behind `fd` after checking that it is a private regular file. Closes fd.
Result<std::string> ReadPrivateFile(int fd, const std::string& path) {
  struct stat st;
  if (::fstat(fd, &st) != 0) {
    const int e = errno;
    ::close(fd);
    return FileError("cannot stat", path, e);
  }
  if (!S_ISREG(st.st_mode)) {
    ::close(fd);
    return Error::Invalid("key file " + path + " is not a regular file");
  }
  const mode_t exposed = st.st_mode & (S_IRGRP | S_IWGRP | S_IROTH | S_IWOTH);
  if (exposed != 0) {
    ::close(fd);
    char mode[8];
    std::snprintf(mode, sizeof mode, "%04o", static_cast<unsigned>(st.st_mode & 07777));
    std::string message = "key file " + path + " has mode " + mode;
    message += ", so group or others may read or write it; refusing to use it. Fix: chmod 600 ";
    message += path + " (and consider rotating the keys if others could read it)";
    return Error{ErrorCode::kFailedPrecondition, std::move(message), {}};
  }
  if (st.st_size > kMaxKeyFileBytes) {
    ::close(fd);
    return Error::Invalid("key file " + path + " is too large to be a key file");
  }
  std::string text;
  char buffer[4096];
  while (true) {
    const ssize_t n = ::read(fd, buffer, sizeof buffer);
    if (n < 0) {
      if (errno == EINTR) continue;
      const int e = errno;
      explicit_bzero(buffer, sizeof buffer);
      Wipe(text);
      ::close(fd);
      return FileError("cannot read", path, e);
    }
    if (n == 0) break;
    text.append(buffer, static_cast<size_t>(n));
    if (text.size() > static_cast<size_t>(kMaxKeyFileBytes)) {
      explicit_bzero(buffer, sizeof buffer);
      Wipe(text);
      ::close(fd);
      return Error::Invalid("key file " + path + " is too large to be a key file");
    }
  }
  explicit_bzero(buffer, sizeof buffer);
  ::close(fd);
  return text;
}

// Creates `path` exclusively with mode 0600 and writes `text`. Sets *exists (and returns an
// error) if the file appeared in the meantime. Removes a partly written file.
Status CreatePrivateFile(const std::string& path, std::string_view text, bool* exists) {
  *exists = false;
  const int fd = ::open(path.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
  if (fd < 0) {
    const int e = errno;
    *exists = e == EEXIST;
    return FileError("cannot create key file", path, e);
  }
  // The umask may have cleared owner bits; the mode must be exactly 0600.
  if (::fchmod(fd, 0600) != 0) {
    const int e = errno;
    ::close(fd);
    ::unlink(path.c_str());
    return FileError("cannot set the mode of", path, e);
  }
  Status written = WriteSyncClose(fd, text, path);
  if (!written.ok()) {
    ::unlink(path.c_str());
    return written;
  }
  return SyncDirectory(path);
}

std::string SubjectKeyAad(std::string_view school, std::string_view subject) {
  std::string aad(kSubjectKeyAadPrefix);
  aad.append(school);
  aad.push_back('|');
  aad.append(subject);
  return aad;
}

}  // namespace

KeyRing::~KeyRing() { Wipe(signing_key_.secret_key); }

Result<KeyRing> KeyRing::LoadOrCreate(const std::string& path, ports::Crypto& crypto) {
  // Two rounds: if another process creates the file between our open and our create, read its.
  for (int round = 0; round < 2; ++round) {
    const int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
    if (fd >= 0) {
      auto text = ReadPrivateFile(fd, path);
      if (!text.ok()) return text.error();
      auto ring = Parse(*text, crypto);
      Wipe(*text);
      if (!ring.ok()) {
        Error error = ring.error();
        error.message = "key file " + path + ": " + error.message;
        return error;
      }
      return ring;
    }
    if (errno != ENOENT) return FileError("cannot open key file", path, errno);

    KeyRing ring = Generate(crypto);
    std::string text = ring.Serialize();
    bool exists = false;
    Status created = CreatePrivateFile(path, text, &exists);
    Wipe(text);
    if (created.ok()) return ring;
    if (!exists) return created.error();
  }
  return Error::Unavailable("key file " + path +
                            " keeps appearing and disappearing; is another process replacing it?");
}

Result<KeyRing> KeyRing::Parse(std::string_view text, ports::Crypto& crypto) {
  KeyRing ring;
  std::vector<size_t> kek_lines;
  size_t active_line = 0, pseudonym_line = 0, signing_line = 0;

  size_t line_number = 0;
  size_t start = 0;
  while (start <= text.size()) {
    size_t end = text.find('\n', start);
    if (end == std::string_view::npos) end = text.size();
    std::string_view line = text.substr(start, end - start);
    start = end + 1;
    ++line_number;
    if (const size_t hash = line.find('#'); hash != std::string_view::npos) {
      line = line.substr(0, hash);
    }
    const std::vector<std::string_view> tokens = Tokens(line);
    if (tokens.empty()) continue;
    const std::string_view item = tokens[0];

    if (item == "kek") {
      if (tokens.size() != 3) return LineError(line_number, "expected 'kek <id> <64 hex digits>'");
      if (!IsValidKekId(tokens[1])) {
        return LineError(line_number, "a kek id must be 1 to 32 letters, digits, '-' or '_'");
      }
      const std::string id(tokens[1]);
      for (size_t i = 0; i < ring.keks_.size(); ++i) {
        if (ring.keks_[i].first == id) {
          return LineError(line_number, "duplicate kek id (first defined on line " +
                                            std::to_string(kek_lines[i]) + ")");
        }
      }
      auto raw = DecodeHex(tokens[2], ports::kKeyBytes);
      if (!raw) return LineError(line_number, "the kek key must be exactly 64 hex digits");
      ring.keks_.emplace_back(id, ports::SecretKey(*raw));
      Wipe(*raw);
      kek_lines.push_back(line_number);
    } else if (item == "active-kek") {
      if (tokens.size() != 2) return LineError(line_number, "expected 'active-kek <id>'");
      if (active_line != 0) {
        return LineError(line_number, "a second active-kek line (the first is on line " +
                                          std::to_string(active_line) + ")");
      }
      ring.active_kek_id_ = std::string(tokens[1]);
      active_line = line_number;
    } else if (item == "pseudonym") {
      if (tokens.size() != 2) return LineError(line_number, "expected 'pseudonym <64 hex digits>'");
      if (pseudonym_line != 0) {
        return LineError(line_number, "a second pseudonym line (the first is on line " +
                                          std::to_string(pseudonym_line) + ")");
      }
      auto raw = DecodeHex(tokens[1], ports::kKeyBytes);
      if (!raw) return LineError(line_number, "the pseudonym key must be exactly 64 hex digits");
      ring.pseudonym_key_ = ports::SecretKey(*raw);
      Wipe(*raw);
      pseudonym_line = line_number;
    } else if (item == "signing") {
      if (tokens.size() != 2) return LineError(line_number, "expected 'signing <128 hex digits>'");
      if (signing_line != 0) {
        return LineError(line_number, "a second signing line (the first is on line " +
                                          std::to_string(signing_line) + ")");
      }
      auto raw = DecodeHex(tokens[1], kSigningSecretBytes);
      if (!raw) return LineError(line_number, "the signing key must be exactly 128 hex digits");
      ring.signing_key_.public_key = raw->substr(kSigningPublicOffset);
      ring.signing_key_.secret_key = std::move(*raw);
      // The public half is derived from the secret key's layout (seed || public key); a sign and
      // verify round trip proves that the halves belong together.
      static constexpr std::string_view kProbe = "dovira key ring self-check";
      const std::string signature = crypto.Sign(ring.signing_key_, kProbe);
      if (!crypto.Verify(ring.signing_key_.public_key, kProbe, signature)) {
        return LineError(line_number,
                         "the signing key is inconsistent (its public half does not match its "
                         "seed); the line is damaged");
      }
      signing_line = line_number;
    } else {
      return LineError(line_number,
                       "unknown item (expected kek, active-kek, pseudonym or signing)");
    }
  }

  if (active_line == 0) return Error::Invalid("key ring: missing 'active-kek <id>' line");
  if (ring.Kek(ring.active_kek_id_) == nullptr) {
    return LineError(active_line, "active-kek names a kek id that no kek line defines");
  }
  if (pseudonym_line == 0) return Error::Invalid("key ring: missing 'pseudonym <hex>' line");
  if (signing_line == 0) return Error::Invalid("key ring: missing 'signing <hex>' line");
  return ring;
}

KeyRing KeyRing::Generate(ports::Crypto& crypto) {
  KeyRing ring;
  ring.keks_.emplace_back("k1", crypto.NewKey());
  ring.active_kek_id_ = "k1";
  ring.pseudonym_key_ = crypto.NewKey();
  ring.signing_key_ = crypto.NewSigningKey();
  return ring;
}

std::string KeyRing::Serialize() const {
  // Reserved up front so that no reallocation leaves copies of key digits behind; each hex
  // temporary is wiped after use.
  std::string out;
  out.reserve(512 + keks_.size() * (ports::kKeyBytes * 2 + kMaxKekIdChars + 8) +
              kSigningSecretBytes * 2);
  out.append(
      "# Dovira key ring. Secret: keep this file mode 0600 and back it up safely; without it the\n"
      "# encrypted personal data cannot be read.\n");
  auto append_key_line = [&out](std::string_view head, std::string_view raw) {
    std::string hex = ports::ToHex(raw);
    out.append(head).append(" ").append(hex).append("\n");
    Wipe(hex);
  };
  for (const auto& [id, key] : keks_) append_key_line("kek " + id, key.view());
  out.append("active-kek ").append(active_kek_id_).append("\n");
  append_key_line("pseudonym", pseudonym_key_.view());
  append_key_line("signing", signing_key_.secret_key);
  return out;
}

Status KeyRing::Save(const std::string& path) const {
  std::string temp = path + ".tmp.XXXXXX";
  const int fd = ::mkostemp(temp.data(), O_CLOEXEC);
  if (fd < 0) return FileError("cannot create a temporary file next to", path, errno);
  if (::fchmod(fd, 0600) != 0) {
    const int e = errno;
    ::close(fd);
    ::unlink(temp.c_str());
    return FileError("cannot set the mode of", temp, e);
  }
  std::string text = Serialize();
  Status written = WriteSyncClose(fd, text, temp);
  Wipe(text);
  if (!written.ok()) {
    ::unlink(temp.c_str());
    return written;
  }
  if (::rename(temp.c_str(), path.c_str()) != 0) {
    const int e = errno;
    ::unlink(temp.c_str());
    return FileError("cannot rename the temporary file over", path, e);
  }
  return SyncDirectory(path);
}

const ports::SecretKey* KeyRing::Kek(const std::string& id) const {
  for (const auto& [kek_id, key] : keks_) {
    if (kek_id == id) return &key;
  }
  return nullptr;
}

std::vector<std::string> KeyRing::kek_ids() const {
  std::vector<std::string> ids;
  ids.reserve(keks_.size());
  for (const auto& entry : keks_) ids.push_back(entry.first);
  return ids;
}

std::string KeyRing::AddKek(ports::Crypto& crypto) {
  long highest = 0;
  for (const auto& entry : keks_) highest = std::max(highest, KekNumber(entry.first));
  std::string id = "k" + std::to_string(highest + 1);
  while (Kek(id) != nullptr) id = "k" + std::to_string(++highest + 1);
  keks_.emplace_back(id, crypto.NewKey());
  active_kek_id_ = id;
  return id;
}

Status KeyRing::RetireKek(const std::string& id) {
  if (id == active_kek_id_) {
    return Error{ErrorCode::kFailedPrecondition,
                 "kek " + id + " is the active kek; add a new kek before retiring this one", "kek"};
  }
  for (auto it = keks_.begin(); it != keks_.end(); ++it) {
    if (it->first == id) {
      keks_.erase(it);
      return Status::Ok();
    }
  }
  return Error::NotFound("no kek with id " + id, "kek");
}

std::string WrapSubjectKey(ports::Crypto& crypto, const ports::SecretKey& kek,
                           const ports::SecretKey& subject_key, std::string_view school,
                           std::string_view subject) {
  return crypto.Seal(kek, subject_key.view(), SubjectKeyAad(school, subject));
}

Result<ports::SecretKey> UnwrapSubjectKey(ports::Crypto& crypto, const ports::SecretKey& kek,
                                          std::string_view wrapped, std::string_view school,
                                          std::string_view subject) {
  auto opened = crypto.Open(kek, wrapped, SubjectKeyAad(school, subject));
  if (!opened.ok()) return opened.error();
  std::string& raw = *opened;
  if (raw.size() != ports::kKeyBytes) {
    Wipe(raw);
    return Error{ErrorCode::kPermissionDenied, "cannot decrypt", {}};
  }
  ports::SecretKey key(raw);
  Wipe(raw);
  return key;
}

}  // namespace dovira::crypto
