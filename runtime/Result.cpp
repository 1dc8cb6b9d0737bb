//===- runtime/Result.cpp - Verification results as text and JSON ---------===//
#include "runtime/Result.h"

#include <cerrno>
#include <cmath>
#include <cstdio>
#include <cstring>
#include <fmt/format.h>
#include <sys/stat.h>
#include <unistd.h>

namespace gma::runtime {
namespace {

/// The exact value of an f32, as the shortest decimal of the equal double.
std::string exact(float f) {
  if (std::isnan(f))
    return "NaN";
  if (std::isinf(f))
    return f > 0 ? "Infinity" : "-Infinity";
  return fmt::format("{}", static_cast<double>(f));
}

std::string jsonList(const std::vector<float> &v) {
  std::string s = "[";
  for (size_t i = 0; i < v.size(); ++i)
    s += (i ? ", " : "") + exact(v[i]);
  return s + "]";
}

std::string jsonString(const std::string &s) {
  std::string out = "\"";
  for (char c : s) {
    switch (c) {
    case '"':
      out += "\\\"";
      break;
    case '\\':
      out += "\\\\";
      break;
    case '\n':
      out += "\\n";
      break;
    default:
      if (static_cast<unsigned char>(c) < 0x20)
        out += fmt::format("\\u{:04x}", c);
      else
        out += c;
    }
  }
  return out + "\"";
}

} // namespace

std::string resultText(const BabResult &r) {
  std::string s = verdictName(r.verdict);
  s += "\n";
  if (r.verdict != Verdict::Sat || !r.counterexample)
    return s;
  const Counterexample &c = *r.counterexample;
  std::string body;
  for (size_t i = 0; i < c.x.size(); ++i)
    body += fmt::format("{}(X_{} {})", body.empty() ? "(" : "\n ", i, exact(c.x[i]));
  for (size_t j = 0; j < c.y.size(); ++j)
    body += fmt::format("{}(Y_{} {})", body.empty() ? "(" : "\n ", j, exact(c.y[j]));
  return s + body + ")\n";
}

std::string resultJson(const BabResult &r) {
  const BabStats &st = r.stats;
  std::string s = fmt::format(
      "{{\"verdict\": \"{}\", \"time_s\": {:.6g}, \"domains\": {}, \"bound_calls\": {}, "
      "\"refuted\": {}, \"unresolved\": {}, \"max_queue\": {}, \"rounds\": {}, "
      "\"falsify_s\": {:.6g}, \"attack_s\": {:.6g}, \"cancelled\": {}",
      verdictName(r.verdict), st.seconds, st.domains, st.boundCalls, st.refuted, st.unresolved,
      st.maxQueue, st.rounds, st.falsifySeconds, st.attackSeconds, r.cancelled ? "true" : "false");
  if (!r.reason.empty())
    s += ", \"reason\": " + jsonString(r.reason);
  if (r.verdict == Verdict::Sat && r.counterexample)
    s += fmt::format(", \"counterexample\": {{\"case\": {}, \"disjunct\": {}, \"x\": {}, \"y\": {}}}",
                     r.counterexample->caseIndex, r.counterexample->disjunct,
                     jsonList(r.counterexample->x), jsonList(r.counterexample->y));
  else
    s += ", \"counterexample\": null";
  return s + "}";
}

Status writeResultFile(const std::string &path, const std::string &text) {
  auto fail = [&](const std::string &why) {
    Location loc;
    loc.file = path;
    return Status(Error(ErrorCode::FileWrite, "cannot write the result: " + why, loc));
  };
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
