// dovira_http_empty: the HTTP adapter with nothing behind it. Answers {"ok":true} to every request,
// so a load generator (wrk) measures the adapter's own ceiling on this machine.
//
// Usage: dovira_http_empty [--threads N] [--port P]
// Prints "listening on <port>" once serving; stops cleanly on SIGINT or SIGTERM.
#include <pthread.h>
#include <signal.h>

#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <string_view>
#include <utility>

#include "adapters/http/http_server.h"

namespace {

// Parses a whole decimal number in [min, max].
bool ParseNumber(const char* text, long min, long max, long* out) {
  if (text == nullptr || *text == '\0') return false;
  char* end = nullptr;
  errno = 0;
  long value = std::strtol(text, &end, 10);
  if (errno != 0 || *end != '\0' || value < min || value > max) return false;
  *out = value;
  return true;
}

int Usage(const char* program) {
  std::fprintf(stderr, "usage: %s [--threads N] [--port P]\n", program);
  return 2;
}

}  // namespace

int main(int argc, char** argv) {
  dovira::http::HttpServerOptions options;
  for (int i = 1; i < argc; ++i) {
    std::string_view flag = argv[i];
    long value = 0;
    if (flag == "--threads" && i + 1 < argc && ParseNumber(argv[i + 1], 1, 256, &value)) {
      options.threads = static_cast<int>(value);
      ++i;
    } else if (flag == "--port" && i + 1 < argc && ParseNumber(argv[i + 1], 0, 65535, &value)) {
      options.port = static_cast<uint16_t>(value);
      ++i;
    } else {
      return Usage(argv[0]);
    }
  }

  // Block the stop signals before any thread starts, so only sigwait() below receives them.
  sigset_t stop_signals;
  sigemptyset(&stop_signals);
  sigaddset(&stop_signals, SIGINT);
  sigaddset(&stop_signals, SIGTERM);
  pthread_sigmask(SIG_BLOCK, &stop_signals, nullptr);

  auto server = dovira::http::HttpServer::Start(
      options, [](dovira::ports::HttpRequest&&, const dovira::ports::HttpResponder& respond) {
        dovira::ports::HttpResponse response;
        response.Header("Content-Type", "application/json");
        response.body = "{\"ok\":true}";
        respond(std::move(response));
      });
  if (!server.ok()) {
    std::fprintf(stderr, "dovira_http_empty: %s\n", server.error().message.c_str());
    return 1;
  }
  std::printf("listening on %u\n", static_cast<unsigned>((*server)->port()));
  std::fflush(stdout);

  int received = 0;
  sigwait(&stop_signals, &received);
  (*server)->Stop();
  return 0;
}
