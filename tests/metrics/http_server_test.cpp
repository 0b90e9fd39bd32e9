// The metrics HTTP server against real sockets on loopback: what it answers, and
// that bad requests, slow clients and too many connections never stop it serving.
#include "metrics/http_server.h"

#include <gtest/gtest.h>

#include <memory>
#include <mutex>
#include <stdexcept>
#include <thread>

#include "tests/metrics/raw_http_client.h"

namespace geosteer::metrics {
namespace {

using geosteer::testing::RawHttpClient;
using namespace std::chrono_literals;

constexpr auto kGenerous = 10s;  // for anything that should take milliseconds

std::string get(const std::string& target, const std::string& extra_headers = "") {
  return "GET " + target + " HTTP/1.1\r\nHost: localhost\r\n" + extra_headers + "\r\n";
}

class HttpServerTest : public ::testing::Test {
 protected:
  void start(HttpServerOptions options = {}) {
    options.address = *IpAddress::parse("127.0.0.1");
    options.port = 0;
    server_ = std::make_unique<HttpServer>(io_, options, [this](std::string_view path) {
      return handle(path);
    });
    runner_ = std::thread([this] { io_.run(); });
  }

  void TearDown() override {
    work_.reset();
    io_.stop();
    if (runner_.joinable()) runner_.join();
    server_.reset();  // the io_context no longer runs: safe from this thread
  }

  HttpResponse handle(std::string_view path) {
    {
      std::lock_guard lock(mutex_);
      paths_.emplace_back(path);
    }
    if (path == "/metrics") return {200, "text/plain; version=0.0.4; charset=utf-8", "up 1\n"};
    if (path == "/healthz") return {200, "text/plain; charset=utf-8", "ok\n"};
    if (path == "/boom") throw std::runtime_error("handler failed");
    return {404, "text/plain; charset=utf-8", "not found\n"};
  }

  std::vector<std::string> paths() {
    std::lock_guard lock(mutex_);
    return paths_;
  }

  // True once a fresh connection gets /metrics answered.
  bool serves_a_new_client() {
    RawHttpClient client(port());
    client.send(get("/metrics"));
    auto response = client.read_response();
    return response && response->status == 200 && response->body == "up 1\n";
  }

  uint16_t port() const { return server_->port(); }

  void stop_on_io_thread() {
    boost::asio::post(io_, [this] { server_->stop(); });
  }

  boost::asio::io_context io_;
  // Keeps run() going while the server has nothing to do.
  std::optional<boost::asio::executor_work_guard<boost::asio::io_context::executor_type>> work_{
      io_.get_executor()};
  std::unique_ptr<HttpServer> server_;
  std::thread runner_;
  std::mutex mutex_;
  std::vector<std::string> paths_;
};

TEST_F(HttpServerTest, BindsAFreePortWhenAskedForPortZero) {
  start();
  EXPECT_NE(port(), 0);
}

TEST_F(HttpServerTest, ServesTheHandlersResponseWithItsHeaders) {
  start();
  RawHttpClient client(port());
  client.send(get("/metrics"));
  auto response = client.read_response();
  ASSERT_TRUE(response);
  EXPECT_EQ(response->status, 200u);
  EXPECT_EQ(response->body, "up 1\n");
  EXPECT_EQ(response->header("content-type"), "text/plain; version=0.0.4; charset=utf-8");
  EXPECT_EQ(response->header("content-length"), "5");
  EXPECT_EQ(response->header("cache-control"), "no-store");
}

TEST_F(HttpServerTest, PassesThePathWithoutTheQueryString) {
  start();
  RawHttpClient client(port());
  client.send(get("/metrics?name[]=x&y=1"));
  auto response = client.read_response();
  ASSERT_TRUE(response);
  EXPECT_EQ(response->status, 200u);
  EXPECT_EQ(paths(), std::vector<std::string>{"/metrics"});
}

TEST_F(HttpServerTest, AnswersTheHandlers404) {
  start();
  RawHttpClient client(port());
  client.send(get("/nowhere"));
  auto response = client.read_response();
  ASSERT_TRUE(response);
  EXPECT_EQ(response->status, 404u);
  EXPECT_EQ(response->body, "not found\n");
}

TEST_F(HttpServerTest, HeadGetsTheHeadersOfGetWithoutTheBody) {
  start();
  RawHttpClient client(port());
  client.send("HEAD /metrics HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n");
  auto response = client.read_response(/*head=*/true);
  ASSERT_TRUE(response);
  EXPECT_EQ(response->status, 200u);
  EXPECT_EQ(response->header("content-length"), "5");  // what GET would send
  ASSERT_TRUE(client.closed_within(kGenerous));
  EXPECT_EQ(client.pending(), "");  // no body followed the headers
}

TEST_F(HttpServerTest, RefusesOtherMethodsWith405AndAllow) {
  start();
  RawHttpClient client(port());
  client.send("POST /metrics HTTP/1.1\r\nHost: localhost\r\nContent-Length: 2\r\n\r\nhi");
  auto response = client.read_response();
  ASSERT_TRUE(response);
  EXPECT_EQ(response->status, 405u);
  EXPECT_EQ(response->header("allow"), "GET, HEAD");
  EXPECT_TRUE(paths().empty());
}

TEST_F(HttpServerTest, AnswersAMalformedRequestWith400AndKeepsServing) {
  start();
  RawHttpClient client(port());
  client.send("this is not http\r\n\r\n");
  auto response = client.read_response();
  ASSERT_TRUE(response);
  EXPECT_EQ(response->status, 400u);
  EXPECT_TRUE(client.closed_within(kGenerous));
  EXPECT_TRUE(serves_a_new_client());
}

TEST_F(HttpServerTest, AnswersAnOversizedHeaderWith431AndKeepsServing) {
  start();
  RawHttpClient client(port());
  client.send(get("/metrics", "X-Padding: " + std::string(64 * 1024, 'a') + "\r\n"));
  auto response = client.read_response();
  ASSERT_TRUE(response);
  EXPECT_EQ(response->status, 431u);
  EXPECT_TRUE(client.closed_within(kGenerous));
  EXPECT_TRUE(serves_a_new_client());
}

TEST_F(HttpServerTest, AnswersAnOversizedBodyWith413) {
  start();
  RawHttpClient client(port());
  client.send(get("/metrics", "Content-Length: 100000\r\n") + std::string(20000, 'b'));
  auto response = client.read_response();
  ASSERT_TRUE(response);
  EXPECT_EQ(response->status, 413u);
  EXPECT_TRUE(paths().empty());
}

TEST_F(HttpServerTest, IgnoresASmallBodyOnGet) {
  start();
  RawHttpClient client(port());
  client.send(get("/metrics", "Content-Length: 5\r\n") + "hello");
  auto response = client.read_response();
  ASSERT_TRUE(response);
  EXPECT_EQ(response->status, 200u);
  EXPECT_EQ(response->body, "up 1\n");
}

TEST_F(HttpServerTest, AnswersAThrowingHandlerWith500AndKeepsServing) {
  start();
  RawHttpClient client(port());
  client.send(get("/boom"));
  auto response = client.read_response();
  ASSERT_TRUE(response);
  EXPECT_EQ(response->status, 500u);
  EXPECT_TRUE(serves_a_new_client());
}

TEST_F(HttpServerTest, ServesSeveralRequestsOnOneKeptAliveConnection) {
  start();
  RawHttpClient client(port());
  client.send(get("/metrics"));
  auto first = client.read_response();
  client.send(get("/nowhere"));
  auto second = client.read_response();
  ASSERT_TRUE(first && second);
  EXPECT_EQ(first->status, 200u);
  EXPECT_EQ(second->status, 404u);
  EXPECT_EQ(paths(), (std::vector<std::string>{"/metrics", "/nowhere"}));
}

TEST_F(HttpServerTest, ClosesAfterTheResponseWhenTheClientAsksTo) {
  start();
  RawHttpClient client(port());
  client.send(get("/metrics", "Connection: close\r\n"));
  auto response = client.read_response();
  ASSERT_TRUE(response);
  EXPECT_EQ(response->status, 200u);
  EXPECT_TRUE(client.closed_within(kGenerous));
}

TEST_F(HttpServerTest, DisconnectsASlowClientAfterTheTimeoutWhileServingOthers) {
  HttpServerOptions options;
  options.request_timeout = 500ms;
  start(options);
  RawHttpClient slow(port());
  ASSERT_TRUE(slow.send("GET /metrics HTTP/1.1\r\nHost: loc"));  // and nothing more

  EXPECT_TRUE(serves_a_new_client());

  EXPECT_TRUE(slow.closed_within(kGenerous));
  EXPECT_EQ(slow.pending(), "");  // closed without an answer
  EXPECT_TRUE(paths() == std::vector<std::string>{"/metrics"}) << "only the other client's";
  // Trickling bytes does not buy more time: the deadline is for the whole request.
  RawHttpClient trickling(port());
  auto trickle_start = std::chrono::steady_clock::now();
  bool still_open = true;
  while (still_open && std::chrono::steady_clock::now() - trickle_start < kGenerous) {
    still_open = trickling.send("X") && !trickling.closed_within(100ms);
  }
  EXPECT_FALSE(still_open);
}

TEST_F(HttpServerTest, FullSlotsCloseTheMostIdleConnectionForANewOne) {
  HttpServerOptions options;
  options.max_connections = 2;
  start(options);
  RawHttpClient first(port()), second(port());
  // first is served after second connected: second is now the most idle.
  first.send(get("/metrics"));
  ASSERT_TRUE(first.read_response());

  RawHttpClient third(port());
  EXPECT_TRUE(second.closed_within(kGenerous));
  third.send(get("/metrics"));
  auto response = third.read_response();
  ASSERT_TRUE(response);
  EXPECT_EQ(response->status, 200u);
  first.send(get("/metrics"));
  EXPECT_TRUE(first.read_response()) << "the least idle connection keeps its slot";
}

// The trial that found the problem: idle connections locked a load balancer out.
TEST_F(HttpServerTest, HealthzAnswersWithinASecondAfter200IdleConnections) {
  start();  // 64 slots
  std::vector<std::unique_ptr<RawHttpClient>> idle;
  for (int i = 0; i < 200; ++i) idle.push_back(std::make_unique<RawHttpClient>(port()));

  auto begin = std::chrono::steady_clock::now();
  RawHttpClient check(port());
  check.send(get("/healthz"));
  auto response = check.read_response(false, 1s);
  ASSERT_TRUE(response);
  EXPECT_EQ(response->status, 200u);
  EXPECT_LT(std::chrono::steady_clock::now() - begin, 1s);
}

TEST_F(HttpServerTest, SilentConnectionIsClosedAfterTheIdleTimeout) {
  HttpServerOptions options;
  options.idle_timeout = 300ms;
  start(options);
  auto begin = std::chrono::steady_clock::now();
  RawHttpClient silent(port());
  EXPECT_TRUE(silent.closed_within(kGenerous));
  EXPECT_GE(std::chrono::steady_clock::now() - begin, 250ms);
  EXPECT_TRUE(serves_a_new_client());
}

TEST_F(HttpServerTest, KeptAliveConnectionIsClosedAfterTheIdleTimeoutBetweenRequests) {
  HttpServerOptions options;
  options.idle_timeout = 300ms;
  start(options);
  RawHttpClient client(port());
  client.send(get("/metrics"));
  ASSERT_TRUE(client.read_response());
  EXPECT_TRUE(client.closed_within(kGenerous));
}

TEST_F(HttpServerTest, RequestInProgressGetsTheRequestTimeoutNotTheIdleTimeout) {
  HttpServerOptions options;
  options.idle_timeout = 200ms;
  options.request_timeout = 2s;
  start(options);
  RawHttpClient client(port());
  client.send("GET /metrics HTTP/1.1\r\n");
  EXPECT_FALSE(client.closed_within(600ms));
  client.send("Host: localhost\r\n\r\n");
  auto response = client.read_response();
  ASSERT_TRUE(response);
  EXPECT_EQ(response->status, 200u);
}

TEST_F(HttpServerTest, AnswersPipelinedRequestsInOrder) {
  start();
  RawHttpClient client(port());
  client.send(get("/metrics") + get("/nowhere"));
  auto first = client.read_response();
  auto second = client.read_response();
  ASSERT_TRUE(first && second);
  EXPECT_EQ(first->status, 200u);
  EXPECT_EQ(second->status, 404u);
}

TEST_F(HttpServerTest, StopClosesOpenConnectionsAndTheListeningSocket) {
  start();
  RawHttpClient idle(port());
  uint16_t stopped_port = port();
  // Make sure the connection is accepted before stopping.
  idle.send(get("/metrics"));
  ASSERT_TRUE(idle.read_response());

  stop_on_io_thread();
  EXPECT_TRUE(idle.closed_within(kGenerous));
  auto deadline = std::chrono::steady_clock::now() + kGenerous;
  bool refused = false;
  while (!refused && std::chrono::steady_clock::now() < deadline) {
    try {
      RawHttpClient late(stopped_port);
      std::this_thread::sleep_for(20ms);
    } catch (const std::runtime_error&) {
      refused = true;
    }
  }
  EXPECT_TRUE(refused);
}

TEST_F(HttpServerTest, ThrowsNamingTheAddressWhenThePortIsTaken) {
  start();
  HttpServerOptions options;
  options.address = *IpAddress::parse("127.0.0.1");
  options.port = port();
  try {
    HttpServer second(io_, options, [](std::string_view) { return HttpResponse{}; });
    FAIL() << "bound a port already in use";
  } catch (const std::system_error& e) {
    EXPECT_NE(std::string(e.what()).find("127.0.0.1:" + std::to_string(port())),
              std::string::npos)
        << e.what();
  }
}

TEST(HttpServerBinding, ServesOnTheIpv6Loopback) {
  boost::asio::io_context io;
  HttpServerOptions v6;
  v6.address = *IpAddress::parse("::1");
  v6.port = 0;
  HttpServer server(io, v6, [](std::string_view) { return HttpResponse{200, "text/plain", "six\n"}; });
  std::thread runner([&io] { io.run_for(std::chrono::seconds(10)); });
  std::string command = "curl -sg --max-time 5 http://[::1]:" + std::to_string(server.port()) + "/";
  std::string body;
  if (FILE* pipe = popen(command.c_str(), "r")) {
    char buffer[64];
    while (size_t n = fread(buffer, 1, sizeof buffer, pipe)) body.append(buffer, n);
    pclose(pipe);
  }
  boost::asio::post(io, [&] { server.stop(); io.stop(); });
  runner.join();
  EXPECT_EQ(body, "six\n");
}

}  // namespace
}  // namespace geosteer::metrics
