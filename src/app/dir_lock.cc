#include "app/dir_lock.h"

#include <fcntl.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <string>

namespace dovira::app {
namespace {

constexpr char kLockFile[] = "/serve.lock";

std::string ReadPid(int fd) {
  char buf[32] = {};
  ssize_t n = ::pread(fd, buf, sizeof buf - 1, 0);
  if (n <= 0) return {};
  std::string s(buf, static_cast<size_t>(n));
  while (!s.empty() && (s.back() == '\n' || s.back() == ' ')) s.pop_back();
  return s;
}

}  // namespace

Result<std::unique_ptr<DirLock>> DirLock::Acquire(const std::string& dir,
                                                  const std::string& purpose) {
  if (::mkdir(dir.c_str(), 0700) != 0 && errno != EEXIST) {
    return Error::Unavailable("cannot create the data directory " + dir + ": " +
                              std::strerror(errno));
  }
  const std::string path = dir + kLockFile;
  int fd = ::open(path.c_str(), O_RDWR | O_CREAT | O_CLOEXEC | O_NOFOLLOW, 0600);
  if (fd < 0) {
    return Error::Unavailable("cannot open " + path + ": " + std::strerror(errno));
  }
  if (::flock(fd, LOCK_EX | LOCK_NB) != 0) {
    const int saved = errno;
    std::string pid = ReadPid(fd);
    ::close(fd);
    if (saved != EWOULDBLOCK) {
      return Error::Unavailable("cannot lock " + path + ": " + std::strerror(saved));
    }
    return Error{ErrorCode::kFailedPrecondition,
                 "a server" + (pid.empty() ? std::string() : " (process " + pid + ")") +
                     " is serving " + dir + ": stop it before you " + purpose,
                 {}, "directory_in_use"};
  }
  const std::string pid = std::to_string(::getpid()) + "\n";
  if (::ftruncate(fd, 0) != 0 ||
      ::pwrite(fd, pid.data(), pid.size(), 0) != static_cast<ssize_t>(pid.size())) {
    const int saved = errno;
    ::close(fd);
    return Error::Unavailable("cannot write " + path + ": " + std::strerror(saved));
  }
  return std::unique_ptr<DirLock>(new DirLock(fd));
}

DirLock::~DirLock() {
  // The file stays: removing it would let a waiting process lock a file that a third one then
  // recreates under the same name. Closing the descriptor releases the lock.
  ::close(fd_);
}

}  // namespace dovira::app
