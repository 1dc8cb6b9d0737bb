//===- runtime/Result.cpp - Verification results as text and JSON ---------===//
#include "runtime/Result.h"

#include "support/Files.h"

#include <cerrno>
#include <cmath>
#include <cstdio>
#include <cstring>
#include <fmt/format.h>
#include <nlohmann/json.hpp>
#include <sys/stat.h>
#include <unistd.h>

namespace gma::runtime {
namespace {

/// The exact value of a double (an f32 converts exactly), as the shortest
/// decimal that reads back as it.
std::string exact(double f) {
  if (std::isnan(f))
    return "NaN";
  if (std::isinf(f))
    return f > 0 ? "Infinity" : "-Infinity";
  return fmt::format("{}", f);
}

} // namespace

std::string resultText(const BabResult &r) {
  std::string s = verdictName(r.verdict);
  s += "\n";
  if (r.verdict != Verdict::Sat || !r.counterexample)
    return s;
  const Counterexample &c = *r.counterexample;
  std::string body;
  // The point the independent check confirmed (x where no input is pinned
  // to a non-f32 decimal), else the f32 point.
  for (size_t i = 0; i < c.x.size(); ++i)
    body += fmt::format("{}(X_{} {})", body.empty() ? "(" : "\n ", i,
                        c.xReference.empty() ? exact(c.x[i]) : exact(c.xReference[i]));
  for (size_t j = 0; j < c.y.size(); ++j)
    body += fmt::format("{}(Y_{} {})", body.empty() ? "(" : "\n ", j, exact(c.y[j]));
  return s + body + ")\n";
}

nlohmann::ordered_json resultJsonObject(const BabResult &r) {
  const BabStats &st = r.stats;
  nlohmann::ordered_json j;
  j["verdict"] = verdictName(r.verdict);
  j["time_s"] = st.seconds;
  j["domains"] = st.domains;
  j["bound_calls"] = st.boundCalls;
  j["refuted"] = st.refuted;
  j["unresolved"] = st.unresolved;
  j["max_queue"] = st.maxQueue;
  j["rounds"] = st.rounds;
  j["falsify_s"] = st.falsifySeconds;
  j["attack_s"] = st.attackSeconds;
  j["cancelled"] = r.cancelled;
  if (!r.reason.empty())
    j["reason"] = r.reason;
  if (r.verdict == Verdict::Sat && r.counterexample) {
    const Counterexample &c = *r.counterexample;
    // Each f32 as the equal double, which nlohmann prints exactly.
    std::vector<double> x(c.x.begin(), c.x.end()), y(c.y.begin(), c.y.end());
    j["counterexample"] = {{"case", c.caseIndex}, {"disjunct", c.disjunct}, {"x", x}, {"y", y}};
    if (!c.xReference.empty())
      j["counterexample"]["x_f64"] = c.xReference;
    if (!c.yReference.empty())
      j["counterexample"]["y_f64"] = c.yReference;
  } else {
    j["counterexample"] = nullptr;
  }
  return j;
}

std::string resultJson(const BabResult &r) { return resultJsonObject(r).dump(); }

Status writeResultFile(const std::string &path, const std::string &text) {
  auto fail = [&](const std::string &why) {
    Location loc;
    loc.file = path;
    return Status(Error(ErrorCode::FileWrite, "cannot write the result: " + why, loc));
  };
  // Never rename over a link, device or FIFO (the tools also check this
  // before the search, so that the verdict is not computed in vain).
  if (std::string why = support::checkOutputTarget(path, {}); !why.empty())
    return Error(ErrorCode::OutputTarget, "cannot write the result: " + why,
                 [&] { Location l; l.file = path; return l; }());
  std::string tmp = path + ".tmp-XXXXXX";
  int fd = mkstemp(tmp.data());
  if (fd < 0)
    return fail(std::strerror(errno));
  const char *p = text.data();
  size_t left = text.size();
  while (left > 0) {
    ssize_t w = ::write(fd, p, left);
    if (w < 0) {
      if (errno == EINTR)
        continue;
      std::string why = std::strerror(errno);
      ::close(fd);
      ::unlink(tmp.c_str());
      return fail(why);
    }
    p += w;
    left -= static_cast<size_t>(w);
  }
  // mkstemp creates the file 0600; a result file is an ordinary file.
  ::fchmod(fd, 0644);
  if (::close(fd) != 0 || std::rename(tmp.c_str(), path.c_str()) != 0) {
    std::string why = std::strerror(errno);
    ::unlink(tmp.c_str());
    return fail(why);
  }
  return Status::ok();
}

} // namespace gma::runtime
