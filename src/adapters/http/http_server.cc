#include "adapters/http/http_server.h"

#include "adapters/http/beast_request.h"

// clang-format off
// Boost 1.74 with GCC 12 in C++20 mode fails to build unless <utility> precedes Asio and Beast.
#include <utility>
// clang-format on

#include <pthread.h>

#include <algorithm>
#include <atomic>
#include <boost/asio/basic_socket_acceptor.hpp>
#include <boost/asio/basic_stream_socket.hpp>
#include <boost/asio/basic_waitable_timer.hpp>
#include <boost/asio/executor_work_guard.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/write.hpp>
#include <boost/beast/core/basic_stream.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/core/string.hpp>
#include <boost/beast/http/chunk_encode.hpp>
#include <boost/beast/http/empty_body.hpp>
#include <boost/beast/http/message.hpp>
#include <boost/beast/http/parser.hpp>
#include <boost/beast/http/read.hpp>
#include <boost/beast/http/serializer.hpp>
#include <boost/beast/http/string_body.hpp>
#include <boost/beast/http/write.hpp>
#include <condition_variable>
#include <cstdint>
#include <mutex>
#include <optional>
#include <string_view>
#include <thread>
#include <unordered_map>
#include <vector>

namespace dovira::http {
namespace {

namespace net = boost::asio;
namespace beast = boost::beast;
namespace bhttp = boost::beast::http;
using tcp = net::ip::tcp;
using error_code = boost::system::error_code;

// Every I/O object is bound to one loop's io_context; the concrete executor avoids type erasure.
using Executor = net::io_context::executor_type;
using Socket = tcp::socket::rebind_executor<Executor>::other;
using Acceptor = tcp::acceptor::rebind_executor<Executor>::other;
using Timer = net::basic_waitable_timer<std::chrono::steady_clock,
                                        net::wait_traits<std::chrono::steady_clock>, Executor>;
using Stream = beast::basic_stream<tcp, Executor, beast::unlimited_rate_policy>;
using Parser = internal::Parser;
using Response = bhttp::response<bhttp::string_body>;
using StreamHead = bhttp::response<bhttp::empty_body>;
using StreamHeadSerializer = bhttp::response_serializer<bhttp::empty_body>;

// After a response that closes the connection, unread request bytes are drained for at most this
// long so the client sees the response instead of a reset.
constexpr std::chrono::seconds kLingerLimit{2};
// Back-off after an accept failure that is not the client's doing (e.g. out of file descriptors).
constexpr std::chrono::milliseconds kAcceptRetry{50};
constexpr std::string_view kContinue = "HTTP/1.1 100 Continue\r\n\r\n";
// A streamed body's producer waits while this much is queued for its connection unsent.
constexpr size_t kStreamQueueBytes = size_t{256} * 1024;

// True on the event loops' own threads: a streamed response handed over there is produced into
// memory, since a producer waiting for its connection to drain would wait for its own thread.
thread_local bool tls_on_loop = false;

// ---------------------------------------------------------------------------------------------
// Values

using internal::EqualsNoCase;
using internal::NewRequestId;
using internal::RequestIdFrom;
using internal::ToString;

ports::HttpResponse InternalError() {
  return RefusalResponse({500, "internal", "The server could not complete the request."});
}

bool IsTokenChar(char c) {
  if ((c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9')) return true;
  return std::string_view("!#$%&'*+-.^_`|~").find(c) != std::string_view::npos;
}

// Response headers a handler may set: well-formed, and not ones the adapter owns (framing,
// connection management, Server, X-Request-Id).
bool HandlerHeaderAllowed(std::string_view name, std::string_view value) {
  if (name.empty() || !std::all_of(name.begin(), name.end(), IsTokenChar)) return false;
  if (value.find_first_of(std::string_view("\r\n\0", 3)) != std::string_view::npos) return false;
  for (std::string_view owned : {"content-length", "transfer-encoding", "connection", "keep-alive",
                                 "server", "x-request-id"}) {
    if (EqualsNoCase(name, owned)) return false;
  }
  return true;
}

std::string RemoteAddress(const Socket& socket) {
  error_code ec;
  tcp::endpoint peer = socket.remote_endpoint(ec);
  if (ec) return {};
  net::ip::address address = peer.address();
  if (address.is_v6() && address.to_v6().is_v4_mapped()) {
    address = net::ip::make_address_v4(net::ip::v4_mapped, address.to_v6());
  }
  return address.to_string();
}

std::string DescribeEndpoint(const net::ip::address& address, uint16_t port) {
  std::string host = address.to_string();
  if (address.is_v6()) host = "[" + host + "]";
  return host + ":" + std::to_string(port);
}

// ---------------------------------------------------------------------------------------------
// Loops and connections

// What every loop shares: the options, the handler and the count of open connections that Stop()
// waits on.
struct Shared {
  HttpServerOptions options;
  ports::HttpHandler handler;
  std::atomic<int> live_sessions{0};
  std::mutex mu;
  std::condition_variable idle;  // notified when live_sessions drops to zero
};

// Lets other threads post work to a loop for as long as the loop exists. Responders hold one and
// may outlive the server; after Close() their posts are dropped.
class LoopGate {
 public:
  explicit LoopGate(net::io_context* ioc) : ioc_(ioc) {}

  // False when the loop is gone and `f` was dropped.
  template <typename F>
  bool Post(F&& f) {
    std::lock_guard<std::mutex> lock(mu_);
    if (ioc_ == nullptr) return false;
    net::post(*ioc_, std::forward<F>(f));
    return true;
  }
  void Close() {
    std::lock_guard<std::mutex> lock(mu_);
    ioc_ = nullptr;
  }

 private:
  std::mutex mu_;
  net::io_context* ioc_;
};

class Session;

// A streamed body between its producer (a worker thread) and its connection (the loop): the bytes
// produced and not yet taken by the loop, bounded by kStreamQueueBytes.
class BodyChannel : public ports::HttpBodyWriter {
 public:
  BodyChannel(std::shared_ptr<LoopGate> gate, std::weak_ptr<Session> session)
      : gate_(std::move(gate)), session_(std::move(session)) {}

  bool Write(std::string chunk) override {
    std::unique_lock<std::mutex> lock(mu_);
    space_.wait(lock, [this] { return gone_ || queued_.size() < kStreamQueueBytes; });
    if (gone_) return false;
    if (chunk.empty()) return true;
    queued_.append(chunk);
    const bool kick = std::exchange(loop_waiting_, false);
    lock.unlock();
    if (kick) Kick();
    return true;
  }

  // The producer is done; `ok` false ends the response abnormally.
  void Finish(bool ok) {
    std::unique_lock<std::mutex> lock(mu_);
    finished_ = true;
    failed_ = !ok;
    const bool kick = std::exchange(loop_waiting_, false);
    lock.unlock();
    if (kick) Kick();
  }

  // The connection is gone (or never took the stream): Write returns false from now on.
  void Gone() {
    {
      std::lock_guard<std::mutex> lock(mu_);
      gone_ = true;
    }
    space_.notify_all();
  }

  // Loop side. Takes what is queued; when nothing is and the producer is not done, remembers that
  // the loop waits, so the next Write or Finish posts a pump.
  struct Taken {
    std::string data;
    bool finished = false;
    bool failed = false;
  };
  Taken Take() {
    Taken t;
    {
      std::lock_guard<std::mutex> lock(mu_);
      t.data.swap(queued_);
      t.finished = finished_;
      t.failed = failed_;
      if (t.data.empty() && !t.finished) loop_waiting_ = true;
    }
    space_.notify_all();
    return t;
  }

 private:
  void Kick();

  std::shared_ptr<LoopGate> gate_;
  std::weak_ptr<Session> session_;
  std::mutex mu_;
  std::condition_variable space_;
  std::string queued_;
  bool finished_ = false;
  bool failed_ = false;
  bool gone_ = false;
  bool loop_waiting_ = false;
};

// A body written into memory: a streamed response handed over on an event loop.
class MemoryBodyWriter : public ports::HttpBodyWriter {
 public:
  bool Write(std::string chunk) override {
    body.append(chunk);
    return true;
  }
  std::string body;
};

// One event loop and its thread. `stopping` and `sessions` are touched only on the loop's thread
// (or after it has been joined). The registry owns the connections; a responder holds only a weak
// reference, so nothing outside the loop keeps a socket alive.
struct Loop {
  Loop(Shared* s, int i)
      : shared(s),
        index(i),
        ioc(BOOST_ASIO_CONCURRENCY_HINT_1),
        work(ioc.get_executor()),
        gate(std::make_shared<LoopGate>(&ioc)) {}

  void Add(Socket socket, std::string remote);
  void Remove(Session* session);
  void BeginShutdown();

  Shared* shared;
  int index;
  net::io_context ioc;
  std::optional<net::executor_work_guard<Executor>> work;
  std::shared_ptr<LoopGate> gate;
  bool stopping = false;
  std::unordered_map<Session*, std::shared_ptr<Session>> sessions;
  std::thread thread;
};

// One connection. All members are used on the owning loop's thread only.
class Session : public std::enable_shared_from_this<Session> {
 public:
  enum class State { kReading, kHandling, kWriting, kLingering, kClosed };

  Session(Loop* loop, Socket socket, std::string remote)
      : loop_(loop),
        options_(loop->shared->options),
        stream_(std::move(socket)),
        remote_(std::move(remote)) {}

  void Start() { ReadRequest(); }
  State state() const { return state_; }

  ~Session() {
    if (channel_) channel_->Gone();
  }

  // The handler's answer, delivered on this loop (see PendingResponse).
  void OnResponse(ports::HttpResponse&& response) {
    if (state_ != State::kHandling) return;  // closed by Stop() meanwhile
    SendResponse(std::move(response));
  }

  // A streamed answer: the status and headers now, then the body as its producer hands it over.
  // HTTP/1.1 gets chunked transfer encoding; HTTP/1.0 gets the bare bytes and the end of the body
  // is the end of the connection.
  void OnStreamResponse(ports::HttpResponse&& response, std::shared_ptr<BodyChannel> channel) {
    if (state_ != State::kHandling || response.status < 200 || response.status > 599 ||
        response.status == 204 || response.status == 304) {
      channel->Gone();
      if (state_ == State::kHandling) SendResponse(InternalError());
      return;
    }
    state_ = State::kWriting;
    channel_ = std::move(channel);
    chunked_ = version_ == 11;
    stream_close_ = !keep_alive_ || loop_->stopping || !chunked_;
    stream_head_.emplace();
    stream_head_->version(version_);
    stream_head_->result(static_cast<unsigned>(response.status));
    stream_head_->set(bhttp::field::server, "dovira");
    for (const auto& [name, value] : response.headers) {
      if (HandlerHeaderAllowed(name, value)) stream_head_->insert(name, value);
    }
    stream_head_->set("X-Request-Id", request_id_);
    if (chunked_) stream_head_->chunked(true);
    stream_head_->keep_alive(!stream_close_);
    head_serializer_.emplace(*stream_head_);
    stream_.expires_after(options_.read_timeout);
    bhttp::async_write_header(stream_, *head_serializer_,
                              [self = shared_from_this()](error_code ec, size_t) {
                                if (self->state_ == State::kClosed) return;
                                if (ec) {
                                  self->Close();
                                  return;
                                }
                                if (self->head_) {  // HEAD: the headers only
                                  self->EndStream();
                                  self->OnWrite(ec, self->stream_close_);
                                  return;
                                }
                                self->PumpStream();
                              });
  }

  // Writes what the producer has handed over, then waits for more (BodyChannel::Kick).
  void PumpStream() {
    if (state_ != State::kWriting || !channel_ || chunk_in_flight_) return;
    BodyChannel::Taken t = channel_->Take();
    if (!t.data.empty()) {
      chunk_ = std::move(t.data);
      chunk_in_flight_ = true;
      stream_.expires_after(options_.read_timeout);
      auto done = [self = shared_from_this()](error_code ec, size_t) {
        self->chunk_in_flight_ = false;
        if (self->state_ == State::kClosed) return;
        if (ec) {
          self->Close();
          return;
        }
        self->PumpStream();
      };
      if (chunked_) {
        net::async_write(stream_, bhttp::make_chunk(net::buffer(chunk_)), std::move(done));
      } else {
        net::async_write(stream_, net::buffer(chunk_), std::move(done));
      }
      return;
    }
    if (!t.finished) return;
    if (t.failed) {  // no end of body: the client sees the response as incomplete
      Close();
      return;
    }
    EndStream();
    if (!chunked_) {
      OnWrite({}, true);
      return;
    }
    stream_.expires_after(options_.read_timeout);
    const bool close = stream_close_;
    net::async_write(
        stream_, bhttp::make_chunk_last(),
        [self = shared_from_this(), close](error_code ec, size_t) { self->OnWrite(ec, close); });
  }

  // Closes the socket at once and leaves the registry. Pending operations complete with
  // operation_aborted and find the session closed.
  void Close() {
    if (state_ == State::kClosed) return;
    state_ = State::kClosed;
    auto self = shared_from_this();  // the registry may hold the last reference
    if (channel_) {  // a streamed body's producer stops; buffers in flight stay until destruction
      channel_->Gone();
      channel_.reset();
    }
    stream_.close();
    loop_->Remove(this);
  }

 private:
  void ReadRequest() {
    if (loop_->stopping) {
      Close();
      return;
    }
    state_ = State::kReading;
    parser_.emplace();
    internal::ApplyLimits(*parser_, {options_.max_body_bytes, options_.max_header_bytes});
    // One deadline for the whole request, headers and body; it also ends an idle keep-alive wait.
    stream_.expires_after(options_.read_timeout);
    bhttp::async_read_header(
        stream_, buffer_, *parser_,
        [self = shared_from_this()](error_code ec, size_t) { self->OnHeader(ec); });
  }

  void OnHeader(error_code ec) {
    if (state_ == State::kClosed) return;
    if (ec) {
      OnReadError(ec);
      return;
    }
    if (auto refused = internal::CheckHead(parser_->get())) {
      FailRequest(*refused);
      return;
    }
    if (parser_->is_done()) {
      Dispatch();
      return;
    }
    const auto& request = parser_->get();
    if (request.version() >= 11 && beast::iequals(request[bhttp::field::expect], "100-continue")) {
      net::async_write(stream_, net::buffer(kContinue.data(), kContinue.size()),
                       [self = shared_from_this()](error_code write_ec, size_t) {
                         if (self->state_ == State::kClosed) return;
                         if (write_ec) {
                           self->Close();
                           return;
                         }
                         self->ReadBody();
                       });
      return;
    }
    ReadBody();
  }

  void ReadBody() {
    bhttp::async_read(stream_, buffer_, *parser_,
                      [self = shared_from_this()](error_code ec, size_t) {
                        if (self->state_ == State::kClosed) return;
                        if (ec) {
                          self->OnReadError(ec);
                          return;
                        }
                        self->Dispatch();
                      });
  }

  void OnReadError(error_code ec) {
    if (auto refused = internal::RefusalForReadError(ec)) {
      FailRequest(*refused);
    } else {
      // The client went away, the deadline passed, or the server is stopping.
      Close();
    }
  }

  // Answers a request the adapter cannot pass on, then closes the connection.
  void FailRequest(const RequestRefusal& refusal) {
    keep_alive_ = false;
    head_ = false;
    version_ = 11;
    request_id_.clear();
    if (parser_ && parser_->is_header_done()) {
      const auto& request = parser_->get();
      version_ = request.version() == 10 ? 10 : 11;
      request_id_ = RequestIdFrom(ToString(request["X-Request-Id"]));
    }
    if (request_id_.empty()) request_id_ = NewRequestId();
    SendResponse(RefusalResponse(refusal));
  }

  void Dispatch() {
    state_ = State::kHandling;
    bhttp::request<bhttp::string_body> message = parser_->release();
    parser_.reset();
    version_ = message.version() == 10 ? 10 : 11;
    keep_alive_ = message.keep_alive();
    head_ = message.method() == bhttp::verb::head;

    ports::HttpRequest request;
    std::optional<RequestRefusal> refused =
        internal::ToHttpRequest(std::move(message), remote_, &request);
    request_id_ = request.request_id;
    if (refused) {
      SendResponse(RefusalResponse(*refused));
      return;
    }

    auto pending = std::make_shared<PendingResponse>(loop_->gate, weak_from_this());
    ports::HttpResponder responder = [pending = std::move(pending)](ports::HttpResponse&& r) {
      pending->Deliver(std::move(r));
    };
    try {
      loop_->shared->handler(std::move(request), std::move(responder));
    } catch (...) {
      // A throwing handler is answered like one that dropped its responder: 500, once the last
      // copy of the responder is gone.
    }
  }

  void SendResponse(ports::HttpResponse&& response) {
    state_ = State::kWriting;
    if (response.status < 200 || response.status > 599) response = InternalError();
    res_ = Response();
    res_.version(version_);
    res_.result(static_cast<unsigned>(response.status));
    res_.set(bhttp::field::server, "dovira");
    for (const auto& [name, value] : response.headers) {
      if (HandlerHeaderAllowed(name, value)) res_.insert(name, value);
    }
    res_.set("X-Request-Id", request_id_);
    bool bodiless = response.status == 204 || response.status == 304;
    if (!bodiless) {
      res_.content_length(response.body.size());
      if (!head_) res_.body() = std::move(response.body);
    }
    bool close = !keep_alive_ || loop_->stopping;
    res_.keep_alive(!close);
    stream_.expires_after(options_.read_timeout);
    bhttp::async_write(stream_, res_, [self = shared_from_this(), close](error_code ec, size_t) {
      self->OnWrite(ec, close);
    });
  }

  // Lets go of a streamed response; its producer, if still running, finds the connection gone.
  void EndStream() {
    if (channel_) channel_->Gone();
    channel_.reset();
    head_serializer_.reset();
    stream_head_.reset();
    chunk_.clear();
    chunk_.shrink_to_fit();
  }

  void OnWrite(error_code ec, bool close) {
    if (state_ == State::kClosed) return;
    if (ec) {
      Close();
    } else if (close) {
      Linger();
    } else {
      ReadRequest();
    }
  }

  // Half-closes, then reads and discards until the client closes too (or a short deadline), so a
  // client still sending a refused body gets the response rather than a connection reset.
  void Linger() {
    if (loop_->stopping) {
      Close();
      return;
    }
    state_ = State::kLingering;
    error_code ignored;
    stream_.socket().shutdown(tcp::socket::shutdown_send, ignored);
    stream_.expires_after(
        std::min<std::chrono::steady_clock::duration>(options_.read_timeout, kLingerLimit));
    Drain();
  }

  void Drain() {
    buffer_.clear();
    stream_.async_read_some(buffer_.prepare(size_t{16} * 1024),
                            [self = shared_from_this()](error_code ec, size_t) {
                              if (self->state_ == State::kClosed) return;
                              if (ec) {
                                self->Close();
                                return;
                              }
                              self->Drain();
                            });
  }

  // The handler's side of one request: delivers the response to the connection's loop, exactly
  // once. Dropped unanswered, it answers 500.
  class PendingResponse {
   public:
    PendingResponse(std::shared_ptr<LoopGate> gate, std::weak_ptr<Session> session)
        : gate_(std::move(gate)), session_(std::move(session)) {}
    PendingResponse(const PendingResponse&) = delete;
    PendingResponse& operator=(const PendingResponse&) = delete;
    ~PendingResponse() {
      if (answered_.load(std::memory_order_acquire)) return;
      try {
        Deliver(InternalError());
      } catch (...) {
        // Out of memory: nothing is written; Stop() closes the connection.
      }
    }

    void Deliver(ports::HttpResponse&& response) {
      if (answered_.exchange(true, std::memory_order_acq_rel)) return;
      if (response.stream && tls_on_loop) {
        MemoryBodyWriter memory;
        bool ok = false;
        try {
          ok = response.stream(memory).ok();
        } catch (...) {
        }
        response.stream = nullptr;
        if (ok) {
          response.body = std::move(memory.body);
        } else {
          response = InternalError();
        }
      }
      if (!response.stream) {
        gate_->Post([session = session_, response = std::move(response)]() mutable {
          if (auto s = session.lock()) s->OnResponse(std::move(response));
        });
        return;
      }
      ports::HttpBodyProducer producer = std::move(response.stream);
      response.stream = nullptr;
      response.body.clear();
      auto channel = std::make_shared<BodyChannel>(gate_, session_);
      // Dropped without reaching its session (the loop is gone, or the connection closed): the
      // producer finds the connection gone instead of waiting for it.
      struct GoneIfDropped {
        std::shared_ptr<BodyChannel> channel;
        bool taken = false;
        ~GoneIfDropped() {
          if (!taken && channel) channel->Gone();
        }
      };
      auto guard = std::make_shared<GoneIfDropped>();
      guard->channel = channel;
      if (!gate_->Post([session = session_, response = std::move(response), guard]() mutable {
            auto s = session.lock();
            if (!s) return;
            guard->taken = true;
            s->OnStreamResponse(std::move(response), guard->channel);
          })) {
        channel->Gone();
      }
      guard.reset();
      bool ok = false;
      try {
        ok = producer(*channel).ok();
      } catch (...) {
        // A throwing producer ends the response like a failing one.
      }
      channel->Finish(ok);
    }

   private:
    std::shared_ptr<LoopGate> gate_;
    std::weak_ptr<Session> session_;
    std::atomic<bool> answered_{false};
  };

  Loop* loop_;
  const HttpServerOptions& options_;
  Stream stream_;
  beast::flat_buffer buffer_;
  std::optional<Parser> parser_;
  Response res_;
  // A streamed response (OnStreamResponse): its head, the chunk being written, its producer.
  std::optional<StreamHead> stream_head_;
  std::optional<StreamHeadSerializer> head_serializer_;
  std::shared_ptr<BodyChannel> channel_;
  std::string chunk_;
  bool chunk_in_flight_ = false;
  bool chunked_ = true;
  bool stream_close_ = false;
  std::string remote_;
  std::string request_id_;
  State state_ = State::kReading;
  bool keep_alive_ = false;
  bool head_ = false;
  unsigned version_ = 11;
};

void BodyChannel::Kick() {
  if (!gate_->Post([session = session_] {
        if (auto s = session.lock()) s->PumpStream();
      })) {
    Gone();
  }
}

void Loop::Add(Socket socket, std::string remote) {
  if (stopping) {
    error_code ignored;
    socket.close(ignored);
    return;
  }
  auto session = std::make_shared<Session>(this, std::move(socket), std::move(remote));
  sessions.emplace(session.get(), session);
  shared->live_sessions.fetch_add(1, std::memory_order_relaxed);
  session->Start();
}

void Loop::Remove(Session* session) {
  if (sessions.erase(session) == 0) return;
  if (shared->live_sessions.fetch_sub(1, std::memory_order_acq_rel) == 1) {
    std::lock_guard<std::mutex> lock(shared->mu);
    shared->idle.notify_all();
  }
}

// Stops reading new requests: connections waiting for one are closed now; those with a request
// in flight close once it is answered.
void Loop::BeginShutdown() {
  stopping = true;
  std::vector<std::shared_ptr<Session>> all;
  all.reserve(sessions.size());
  for (const auto& entry : sessions) all.push_back(entry.second);
  for (const auto& session : all) {
    if (session->state() == Session::State::kReading ||
        session->state() == Session::State::kLingering) {
      session->Close();
    }
  }
}

}  // namespace

// ---------------------------------------------------------------------------------------------
// The server

class HttpServer::Impl {
 public:
  Impl(HttpServerOptions options, ports::HttpHandler handler) {
    shared_.options = std::move(options);
    shared_.handler = std::move(handler);
    for (int i = 0; i < shared_.options.threads; ++i) {
      loops_.push_back(std::make_unique<Loop>(&shared_, i));
    }
  }
  Impl(const Impl&) = delete;
  Impl& operator=(const Impl&) = delete;
  ~Impl() { Stop(); }

  Status Listen() {
    const HttpServerOptions& options = shared_.options;
    error_code ec;
    net::ip::address address = net::ip::make_address(options.address, ec);
    if (ec) return Error::Invalid("\"" + options.address + "\" is not an IP address", "address");
    std::string where = DescribeEndpoint(address, options.port);
    auto fail = [&](const error_code& e) {
      return Error::Unavailable("cannot listen on " + where + ": " + e.message());
    };
    tcp::endpoint endpoint(address, options.port);
    acceptor_.emplace(loops_[0]->ioc);
    if (acceptor_->open(endpoint.protocol(), ec)) return fail(ec);
    if (acceptor_->set_option(net::socket_base::reuse_address(true), ec)) return fail(ec);
    if (acceptor_->bind(endpoint, ec)) return fail(ec);
    if (acceptor_->listen(options.backlog, ec)) return fail(ec);
    tcp::endpoint bound = acceptor_->local_endpoint(ec);
    if (ec) return fail(ec);
    port_ = bound.port();
    retry_timer_.emplace(loops_[0]->ioc);
    return Status::Ok();
  }

  void Run() {
    net::post(loops_[0]->ioc, [this] { Accept(); });
    for (auto& loop : loops_) {
      Loop* l = loop.get();
      l->thread = std::thread([l] {
        tls_on_loop = true;
        std::string name = "dovira-http-" + std::to_string(l->index);
        pthread_setname_np(pthread_self(), name.substr(0, 15).c_str());
        for (;;) {
          try {
            l->ioc.run();
            return;
          } catch (...) {
            // Handlers catch their own failures; keep serving whatever escaped (bad_alloc).
          }
        }
      });
    }
  }

  uint16_t port() const { return port_; }

  void Stop() {
    std::lock_guard<std::mutex> stop_lock(stop_mu_);
    if (stopped_) return;
    stopped_ = true;

    // Stop accepting and reading new requests; in-flight requests may still be answered.
    net::post(loops_[0]->ioc, [this] {
      error_code ignored;
      if (acceptor_) acceptor_->close(ignored);
      if (retry_timer_) retry_timer_->cancel();
    });
    for (auto& loop : loops_) {
      net::post(loop->ioc, [l = loop.get()] { l->BeginShutdown(); });
    }
    {
      std::unique_lock<std::mutex> lock(shared_.mu);
      shared_.idle.wait_for(lock, shared_.options.stop_grace, [this] {
        return shared_.live_sessions.load(std::memory_order_acquire) == 0;
      });
    }
    for (auto& loop : loops_) {
      loop->work.reset();
      loop->ioc.stop();
    }
    for (auto& loop : loops_) {
      if (loop->thread.joinable()) loop->thread.join();
    }
    // The loops are idle from here on: late responders find their gate closed, and what is left is
    // torn down on this thread.
    for (auto& loop : loops_) loop->gate->Close();
    error_code ignored;
    if (acceptor_) acceptor_->close(ignored);
    for (auto& loop : loops_) loop->sessions.clear();
  }

 private:
  void Accept() {
    Loop* target = loops_[next_loop_].get();
    next_loop_ = (next_loop_ + 1) % loops_.size();
    acceptor_->async_accept(target->ioc, [this, target](error_code ec, Socket socket) {
      OnAccept(ec, std::move(socket), target);
    });
  }

  void OnAccept(error_code ec, Socket socket, Loop* target) {
    if (!acceptor_->is_open() || ec == net::error::operation_aborted) return;
    if (ec) {
      if (ec == net::error::connection_aborted) {
        Accept();  // that client gave up; not our problem
        return;
      }
      // Out of descriptors or memory: back off instead of spinning.
      retry_timer_->expires_after(kAcceptRetry);
      retry_timer_->async_wait([this](error_code timer_ec) {
        if (!timer_ec && acceptor_->is_open()) Accept();
      });
      return;
    }
    error_code ignored;
    socket.set_option(tcp::no_delay(true), ignored);
    std::string remote = RemoteAddress(socket);
    net::post(target->ioc,
              [target, socket = std::move(socket), remote = std::move(remote)]() mutable {
                target->Add(std::move(socket), std::move(remote));
              });
    Accept();
  }

  Shared shared_;
  std::vector<std::unique_ptr<Loop>> loops_;
  // Used on loop 0 only. Declared after loops_ so they go before the io_context they use.
  std::optional<Acceptor> acceptor_;
  std::optional<Timer> retry_timer_;
  size_t next_loop_ = 0;
  uint16_t port_ = 0;
  std::mutex stop_mu_;
  bool stopped_ = false;
};

Result<std::unique_ptr<HttpServer>> HttpServer::Start(HttpServerOptions options,
                                                      ports::HttpHandler handler) {
  if (!handler) return Error::Invalid("the HTTP server needs a request handler", "handler");
  if (options.threads < 1) return Error::Invalid("threads must be at least 1", "threads");
  if (options.backlog < 1) return Error::Invalid("backlog must be at least 1", "backlog");
  if (options.read_timeout.count() <= 0) {
    return Error::Invalid("read_timeout must be positive", "read_timeout");
  }
  auto impl = std::make_unique<Impl>(std::move(options), std::move(handler));
  Status listening = impl->Listen();
  if (!listening.ok()) return listening.error();
  impl->Run();
  return std::unique_ptr<HttpServer>(new HttpServer(std::move(impl)));
}

HttpServer::HttpServer(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}

HttpServer::~HttpServer() { Stop(); }

uint16_t HttpServer::port() const { return impl_->port(); }

void HttpServer::Stop() { impl_->Stop(); }

}  // namespace dovira::http
