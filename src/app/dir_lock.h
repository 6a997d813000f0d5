// Who uses a data directory. `dovira serve` holds an exclusive lock on DIR/serve.lock for its
// whole life, so a second server on the same directory is refused (each would keep its own gate
// state: a withdrawal acknowledged by one would not stop the other). Operator commands that must
// not run beside a server (keys rotate: the server keeps the key-encryption key in memory) take the
// same lock and are refused while a server holds it; the others (audit verify, backup, admin and
// apikey create) take none and work beside a running server through SQLite's own locking.
//
// The lock is flock(2) on a file of its own, never on a database file: flock belongs to the open
// file description, so no other descriptor's close can drop it, and it does not touch the POSIX
// locks SQLite keeps on data.db and keys.db.
//
// Thread-safety: one DirLock per process and directory; it is released when destroyed.
#pragma once

#include <memory>
#include <string>

#include "common/result.h"

namespace dovira::app {

class DirLock {
 public:
  // Takes the lock of `dir` (created if missing) without waiting. Refused with kFailedPrecondition
  // naming the holder's process id when another process holds it; `purpose` completes the
  // message ("serve", "rotate the keys", ...).
  static Result<std::unique_ptr<DirLock>> Acquire(const std::string& dir,
                                                  const std::string& purpose);
  ~DirLock();
  DirLock(const DirLock&) = delete;
  DirLock& operator=(const DirLock&) = delete;

 private:
  explicit DirLock(int fd) : fd_(fd) {}
  int fd_;
};

}  // namespace dovira::app
