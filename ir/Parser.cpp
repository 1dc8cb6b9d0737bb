//===- ir/Parser.cpp - Parse the textual IR -------------------------------===//
//
// A hand-written lexer and recursive-descent parser for the format of
// ir/Printer.h. Each error carries the line and column of the offending token.
// Types printed on op lines are checked against ir/Shapes.h, so a hand-written
// test graph with a wrong shape is rejected with a precise message.
//
//===----------------------------------------------------------------------===//
#include "ir/Parser.h"

#include "ir/Shapes.h"

#include <cctype>
#include <cmath>
#include <cstdlib>
#include <fmt/format.h>
#include <limits>
#include <map>
#include <optional>

namespace gma::ir {
namespace {

/// The largest element count of a tensor type.
constexpr int64_t kMaxElements = int64_t(1) << 40;

enum class Tok { Eof, Percent, At, Ident, String, Number, Punct, Arrow };

struct Token {
  Tok kind = Tok::Eof;
  std::string text; ///< Name (without sigil/quotes), number text, or punctuation.
  bool quoted = false; ///< %"0" and %0 are different values.
  int line = 1, col = 1;
};

class Lexer {
public:
  Lexer(std::string_view s) : s_(s) {}

  Expected<Token> next() {
    skipSpace();
    Token t;
    t.line = line_;
    t.col = col_;
    if (pos_ >= s_.size())
      return t;
    char c = s_[pos_];
    if (c == '%' || c == '@') {
      advance();
      t.kind = c == '%' ? Tok::Percent : Tok::At;
      if (pos_ < s_.size() && s_[pos_] == '"') {
        auto str = lexString(t);
        if (!str)
          return str.takeError();
        t.text = *str;
        t.quoted = true;
      } else {
        t.text = lexWord();
        if (t.text.empty())
          return err(t, fmt::format("expected a name after '{}'", c));
      }
      return t;
    }
    if (c == '"') {
      auto str = lexString(t);
      if (!str)
        return str.takeError();
      t.kind = Tok::String;
      t.text = *str;
      return t;
    }
    if (c == '-' && pos_ + 1 < s_.size() && s_[pos_ + 1] == '>') {
      advance();
      advance();
      t.kind = Tok::Arrow;
      t.text = "->";
      return t;
    }
    if (std::isdigit(static_cast<unsigned char>(c)) || c == '-' || c == '+' || c == '.') {
      size_t start = pos_;
      advance();
      while (pos_ < s_.size() && (std::isalnum(static_cast<unsigned char>(s_[pos_])) ||
                                  s_[pos_] == '.' ||
                                  ((s_[pos_] == '-' || s_[pos_] == '+') &&
                                   (s_[pos_ - 1] == 'e' || s_[pos_ - 1] == 'E'))))
        advance();
      t.kind = Tok::Number;
      t.text = std::string(s_.substr(start, pos_ - start));
      return t;
    }
    if (std::isalpha(static_cast<unsigned char>(c)) || c == '_') {
      t.kind = Tok::Ident;
      t.text = lexWord();
      return t;
    }
    if (std::string_view("(){}[]<>:,=").find(c) != std::string_view::npos) {
      advance();
      t.kind = Tok::Punct;
      t.text = std::string(1, c);
      return t;
    }
    return err(t, fmt::format("unexpected character '{}'", c));
  }

  static Error err(const Token &t, std::string msg) {
    Location loc;
    loc.line = t.line;
    loc.column = t.col;
    return Error(ErrorCode::IrSyntax, std::move(msg), loc);
  }

private:
  void advance() {
    if (s_[pos_] == '\n') {
      ++line_;
      col_ = 1;
    } else {
      ++col_;
    }
    ++pos_;
  }

  void skipSpace() {
    while (pos_ < s_.size()) {
      if (std::isspace(static_cast<unsigned char>(s_[pos_]))) {
        advance();
      } else if (s_.substr(pos_, 2) == "//") {
        while (pos_ < s_.size() && s_[pos_] != '\n')
          advance();
      } else {
        break;
      }
    }
  }

  std::string lexWord() {
    size_t start = pos_;
    while (pos_ < s_.size() &&
           (std::isalnum(static_cast<unsigned char>(s_[pos_])) || s_[pos_] == '_' || s_[pos_] == '.'))
      advance();
    return std::string(s_.substr(start, pos_ - start));
  }

  Expected<std::string> lexString(const Token &at) {
    advance(); // opening quote
    std::string r;
    while (pos_ < s_.size() && s_[pos_] != '"') {
      if (s_[pos_] == '\n')
        return err(at, "unterminated string");
      if (s_[pos_] == '\\' && pos_ + 1 < s_.size())
        advance();
      r += s_[pos_];
      advance();
    }
    if (pos_ >= s_.size())
      return err(at, "unterminated string");
    advance(); // closing quote
    return r;
  }

  std::string_view s_;
  size_t pos_ = 0;
  int line_ = 1, col_ = 1;
};

class Parser {
public:
  Parser(std::string_view text, std::string fileName) : lex_(text), file_(std::move(fileName)) {}

  Expected<Graph> parse() {
    if (auto s = bump(); !s)
      return fail(s.takeError());
    if (auto s = parseGraphHeader(); !s)
      return fail(s.takeError());
    if (auto s = parseBody(); !s)
      return fail(s.takeError());
    if (tok_.kind == Tok::Ident && tok_.text == "weights")
      if (auto s = parseWeights(); !s)
        return fail(s.takeError());
    if (tok_.kind != Tok::Eof)
      return fail(error("expected end of input"));
    if (auto s = resolveWeights(); !s)
      return fail(s.takeError());
    g_.updateDefs();
    return std::move(g_);
  }

private:
  Error fail(Error e) {
    if (e.location().file.empty())
      e.location().file = file_;
    return e;
  }

  Error error(std::string msg, ErrorCode code = ErrorCode::IrSyntax) const {
    Location loc;
    loc.file = file_;
    loc.line = tok_.line;
    loc.column = tok_.col;
    return Error(code, std::move(msg), loc);
  }

  Status bump() {
    auto t = lex_.next();
    if (!t)
      return t.takeError();
    tok_ = *t;
    return Status::ok();
  }

  /// The symbol-table key of a value token: quoted and bare names differ.
  static std::string valueKey(const Token &t) { return (t.quoted ? "\"" : "") + t.text; }

  bool isPunct(char c) const { return tok_.kind == Tok::Punct && tok_.text[0] == c; }
  bool isIdent(const char *s) const { return tok_.kind == Tok::Ident && tok_.text == s; }

  Status expectPunct(char c) {
    if (!isPunct(c))
      return error(fmt::format("expected '{}'", c));
    return bump();
  }

  Status expectIdent(const char *s) {
    if (!isIdent(s))
      return error(fmt::format("expected '{}'", s));
    return bump();
  }

  /// Parses `item (',' item)* close` up to and including `close` (the opening
  /// bracket is already consumed); the list may be empty.
  template <typename F> Status parseList(char close, F &&item) {
    while (!isPunct(close)) {
      if (Status s = item(); !s)
        return s;
      if (isPunct(','))
        if (auto s = bump(); !s)
          return s;
    }
    return bump();
  }

  /// `dense<[f, f, ...]>`.
  Expected<std::vector<float>> parseDense() {
    if (auto s = expectIdent("dense"); !s)
      return s.takeError();
    if (auto s = expectPunct('<'); !s)
      return s.takeError();
    if (auto s = expectPunct('['); !s)
      return s.takeError();
    std::vector<float> data;
    Status s = parseList(']', [&]() -> Status {
      auto f = parseFloat();
      if (!f)
        return f.takeError();
      data.push_back(*f);
      return Status::ok();
    });
    if (!s)
      return s.takeError();
    if (auto s2 = expectPunct('>'); !s2)
      return s2.takeError();
    return data;
  }

  Expected<int64_t> parseInt() {
    if (tok_.kind != Tok::Number)
      return error("expected an integer");
    char *end = nullptr;
    errno = 0;
    long long v = std::strtoll(tok_.text.c_str(), &end, 10);
    if (*end != '\0' || errno)
      return error(fmt::format("'{}' is not an integer", tok_.text));
    if (auto s = bump(); !s)
      return s.takeError();
    return static_cast<int64_t>(v);
  }

  Expected<float> parseFloat() {
    std::string text;
    if (tok_.kind == Tok::Ident && (tok_.text == "inf" || tok_.text == "nan")) {
      text = tok_.text;
    } else if (tok_.kind == Tok::Number) {
      text = tok_.text;
      if (text == "-" || text == "+") { // "-inf"
        if (auto s = bump(); !s)
          return s.takeError();
        if (!isIdent("inf"))
          return error("expected a number");
        text += "inf";
      }
    } else {
      return error("expected a number");
    }
    float v;
    if (text == "inf" || text == "+inf")
      v = std::numeric_limits<float>::infinity();
    else if (text == "-inf")
      v = -std::numeric_limits<float>::infinity();
    else if (text == "nan")
      v = std::numeric_limits<float>::quiet_NaN();
    else {
      char *end = nullptr;
      v = std::strtof(text.c_str(), &end);
      if (*end != '\0')
        return error(fmt::format("'{}' is not a number", text));
    }
    if (auto s = bump(); !s)
      return s.takeError();
    return v;
  }

  Expected<TensorType> parseType() {
    if (!isIdent("f32"))
      return error("expected a tensor type 'f32[...]'");
    if (auto s = bump(); !s)
      return s.takeError();
    if (auto s = expectPunct('['); !s)
      return s.takeError();
    TensorType t;
    Status s = parseList(']', [&]() -> Status {
      auto d = parseInt();
      if (!d)
        return d.takeError();
      if (*d < 0)
        return error("negative dimension");
      t.shape.push_back(*d);
      return Status::ok();
    });
    if (!s)
      return s.takeError();
    // Element counts are int64 everywhere (TensorType::numel): a type whose
    // product overflows is refused here, as the ONNX importer refuses tensors
    // of more than 2^40 elements.
    int64_t n = 1;
    for (int64_t d : t.shape)
      if (__builtin_mul_overflow(n, d, &n) || n > kMaxElements)
        return error(fmt::format("tensor type {} has more than 2^40 elements", t.str()));
    return t;
  }

  Status parseAttrs(Attrs &attrs) {
    if (auto s = expectPunct('{'); !s)
      return s;
    while (!isPunct('}')) {
      if (tok_.kind != Tok::Ident)
        return error("expected an attribute name");
      std::string name = tok_.text;
      if (auto s = bump(); !s)
        return s;
      if (auto s = expectPunct('='); !s)
        return s;
      Attribute a;
      if (isPunct('[')) {
        a.isList = true;
        if (auto s = bump(); !s)
          return s;
        Status s = parseList(']', [&]() -> Status {
          auto v = parseInt();
          if (!v)
            return v.takeError();
          a.ints.push_back(*v);
          return Status::ok();
        });
        if (!s)
          return s;
      } else {
        auto v = parseInt();
        if (!v)
          return v.takeError();
        a.ints.push_back(*v);
      }
      attrs[name] = a;
      if (isPunct(','))
        if (auto s = bump(); !s)
          return s;
    }
    return bump();
  }

  Status parseGraphHeader() {
    if (auto s = expectIdent("graph"); !s)
      return s;
    if (tok_.kind != Tok::At)
      return error("expected the graph name '@name'");
    g_.name = tok_.text;
    if (auto s = bump(); !s)
      return s;
    if (auto s = expectPunct('('); !s)
      return s;
    while (!isPunct(')')) {
      if (tok_.kind != Tok::Percent)
        return error("expected an input '%name: type'");
      std::string name = tok_.text, key = valueKey(tok_);
      if (values_.count(key))
        return error(fmt::format("input %{} is defined twice", name), ErrorCode::IrRedefinition);
      if (auto s = bump(); !s)
        return s;
      if (auto s = expectPunct(':'); !s)
        return s;
      auto t = parseType();
      if (!t)
        return t.takeError();
      values_[key] = g_.addInput(name, *t);
      if (isPunct(','))
        if (auto s = bump(); !s)
          return s;
    }
    if (auto s = bump(); !s)
      return s;
    if (tok_.kind != Tok::Arrow)
      return error("expected '->' and the output types");
    if (auto s = bump(); !s)
      return s;
    if (auto s = expectPunct('('); !s)
      return s;
    Status outs = parseList(')', [&]() -> Status {
      auto t = parseType();
      if (!t)
        return t.takeError();
      outputTypes_.push_back(*t);
      return Status::ok();
    });
    if (!outs)
      return outs;
    if (isIdent("attributes")) {
      if (auto s = bump(); !s)
        return s;
      if (auto s = parseAttrs(g_.attrs); !s)
        return s;
    }
    return expectPunct('{');
  }

  Expected<ValueId> parseUse() {
    if (tok_.kind != Tok::Percent)
      return error("expected a value '%name'");
    auto it = values_.find(valueKey(tok_));
    if (it == values_.end())
      return error(fmt::format("use of undefined value %{}", tok_.text),
                   ErrorCode::IrUndefinedValue);
    if (auto s = bump(); !s)
      return s.takeError();
    return it->second;
  }

  Status parseBody() {
    while (!isIdent("return")) {
      if (tok_.kind == Tok::Eof || isPunct('}'))
        return error("expected 'return' before the end of the graph");
      if (auto s = parseOp(); !s)
        return s;
    }
    if (auto s = bump(); !s)
      return s;
    while (!isPunct('}')) {
      auto v = parseUse();
      if (!v)
        return v.takeError();
      if (isIdent("name")) {
        if (auto s = bump(); !s)
          return s;
        if (auto s = expectPunct('('); !s)
          return s;
        if (tok_.kind != Tok::String)
          return error("expected a quoted output name");
        if (g_.values[*v].name.empty())
          g_.values[*v].name = tok_.text;
        if (auto s = bump(); !s)
          return s;
        if (auto s = expectPunct(')'); !s)
          return s;
      }
      g_.outputs.push_back(*v);
      if (isPunct(','))
        if (auto s = bump(); !s)
          return s;
    }
    if (g_.outputs.size() != outputTypes_.size())
      return error(fmt::format("the graph declares {} outputs but returns {}",
                               outputTypes_.size(), g_.outputs.size()));
    for (size_t i = 0; i < g_.outputs.size(); ++i)
      if (g_.type(g_.outputs[i]) != outputTypes_[i])
        return error(fmt::format("output {} has type {} but the graph declares {}", i,
                                 g_.type(g_.outputs[i]).str(), outputTypes_[i].str()),
                     ErrorCode::IrVerify);
    return bump();
  }

  Status parseOp() {
    if (tok_.kind != Tok::Percent)
      return error("expected an op '%name = ...' or 'return'");
    std::string resultName = valueKey(tok_);
    Token resultTok = tok_;
    if (values_.count(resultName))
      return error(fmt::format("value %{} is defined twice", resultName),
                   ErrorCode::IrRedefinition);
    if (auto s = bump(); !s)
      return s;
    if (auto s = expectPunct('='); !s)
      return s;
    if (tok_.kind != Tok::Ident)
      return error("expected an op name");
    Token opTok = tok_;
    auto kind = opKindFromMnemonic(tok_.text);
    if (!kind)
      return error(fmt::format("unknown op '{}'", tok_.text), ErrorCode::IrUnknownOp);
    if (auto s = bump(); !s)
      return s;

    // const: either dense<[...]> or @weight.
    std::optional<std::vector<float>> dense;
    std::string weightRef;
    Token weightTok = tok_;
    if (*kind == OpKind::Const) {
      if (isIdent("dense")) {
        auto d = parseDense();
        if (!d)
          return d.takeError();
        dense = std::move(*d);
      } else if (tok_.kind == Tok::At) {
        weightRef = tok_.text;
        if (auto s = bump(); !s)
          return s;
      } else {
        return error("const expects dense<[...]> or a weight '@name'");
      }
    }

    std::vector<ValueId> operands;
    while (tok_.kind == Tok::Percent) {
      auto v = parseUse();
      if (!v)
        return v.takeError();
      operands.push_back(*v);
      if (isPunct(','))
        if (auto s = bump(); !s)
          return s;
    }
    Attrs attrs;
    if (isPunct('{'))
      if (auto s = parseAttrs(attrs); !s)
        return s;
    if (auto s = expectPunct(':'); !s)
      return s;
    auto type = parseType();
    if (!type)
      return type.takeError();
    std::string loc;
    if (isIdent("loc")) {
      if (auto s = bump(); !s)
        return s;
      if (auto s = expectPunct('('); !s)
        return s;
      if (tok_.kind != Tok::String)
        return error("expected a quoted location");
      loc = tok_.text;
      if (auto s = bump(); !s)
        return s;
      if (auto s = expectPunct(')'); !s)
        return s;
    }

    std::vector<TensorType> operandTypes;
    for (ValueId v : operands)
      operandTypes.push_back(g_.type(v));
    auto inferred = inferResultType(*kind, operandTypes, attrs, &*type);
    if (!inferred) {
      Error e = inferred.takeError();
      Location l;
      l.file = file_;
      l.line = opTok.line;
      l.column = opTok.col;
      return Error(ErrorCode::IrVerify, e.message(), l);
    }
    if (*inferred != *type) {
      Location l;
      l.file = file_;
      l.line = resultTok.line;
      l.column = resultTok.col;
      return Error(ErrorCode::IrVerify,
                   fmt::format("'{}' produces {} but the result is declared {}",
                               mnemonic(*kind), inferred->str(), type->str()),
                   l);
    }

    ValueId r;
    if (*kind == OpKind::Const) {
      if (dense) {
        if (static_cast<int64_t>(dense->size()) != type->numel()) {
          Location l;
          l.file = file_;
          l.line = weightTok.line;
          l.column = weightTok.col;
          return Error(ErrorCode::IrVerify,
                       fmt::format("dense constant has {} elements but type {} needs {}",
                                   dense->size(), type->str(), type->numel()),
                       l);
        }
        r = g_.addOp(OpKind::Const, {}, *type, {}, loc);
        pendingInline_.push_back({g_.ops.size() - 1, std::move(*dense)});
      } else {
        r = g_.addOp(OpKind::Const, {}, *type, {}, loc);
        pendingRefs_.push_back({g_.ops.size() - 1, weightRef, weightTok});
      }
      g_.ops.back().attrs = attrs;
    } else {
      r = g_.addOp(*kind, operands, *type, attrs, loc);
    }
    values_[resultName] = r;
    return Status::ok();
  }

  Status parseWeights() {
    if (auto s = bump(); !s)
      return s;
    if (auto s = expectPunct('{'); !s)
      return s;
    while (!isPunct('}')) {
      if (tok_.kind != Tok::At)
        return error("expected a weight '@name = dense<[...]> : type'");
      std::string name = tok_.text;
      if (weightData_.count(name))
        return error(fmt::format("weight @{} is defined twice", name), ErrorCode::IrRedefinition);
      if (auto s = bump(); !s)
        return s;
      if (auto s = expectPunct('='); !s)
        return s;
      auto dense = parseDense();
      if (!dense)
        return dense.takeError();
      std::vector<float> data = std::move(*dense);
      if (auto s = expectPunct(':'); !s)
        return s;
      auto t = parseType();
      if (!t)
        return t.takeError();
      if (static_cast<int64_t>(data.size()) != t->numel())
        return error(fmt::format("weight @{} has {} elements but type {} needs {}", name,
                                 data.size(), t->str(), t->numel()),
                     ErrorCode::IrVerify);
      weightData_[name] = {*t, std::move(data)};
    }
    return bump();
  }

  /// Adds weights once the whole text is read: referenced weights first, under
  /// their printed names, then inline constants under fresh names, so a
  /// printed reference never collides with an inline constant's name.
  Status resolveWeights() {
    std::map<std::string, WeightId> added;
    for (const PendingRef &ref : pendingRefs_) {
      Location l;
      l.file = file_;
      l.line = ref.tok.line;
      l.column = ref.tok.col;
      auto it = weightData_.find(ref.name);
      if (it == weightData_.end())
        return Error(ErrorCode::IrUndefinedValue,
                     fmt::format("weight @{} has no data (add a weights section)", ref.name), l);
      Op &op = g_.ops[ref.opIndex];
      if (it->second.first != g_.type(op.result))
        return Error(ErrorCode::IrVerify,
                     fmt::format("weight @{} is {} but const declares {}", ref.name,
                                 it->second.first.str(), g_.type(op.result).str()),
                     l);
      auto a = added.find(ref.name);
      if (a == added.end())
        a = added.emplace(ref.name, g_.weights.add(ref.name, it->second.first, it->second.second))
                .first;
      op.weight = a->second;
    }
    for (PendingInline &c : pendingInline_) {
      Op &op = g_.ops[c.opIndex];
      std::string name;
      do
        name = fmt::format("__cst{}", inlineCount_++);
      while (g_.weights.find(name) >= 0);
      op.weight = g_.weights.add(name, g_.type(op.result), std::move(c.data));
    }
    return Status::ok();
  }

  struct PendingInline {
    size_t opIndex;
    std::vector<float> data;
  };
  std::vector<PendingInline> pendingInline_;

  struct PendingRef {
    size_t opIndex;
    std::string name;
    Token tok;
  };

  int inlineCount_ = 0;
  Lexer lex_;
  std::string file_;
  Token tok_;
  Graph g_;
  std::map<std::string, ValueId> values_;
  std::vector<TensorType> outputTypes_;
  std::vector<PendingRef> pendingRefs_;
  std::map<std::string, std::pair<TensorType, std::vector<float>>> weightData_;
};

} // namespace

Expected<Graph> parseGraph(std::string_view text, const std::string &fileName) {
  return Parser(text, fileName).parse();
}

std::vector<std::string> splitInputFile(std::string_view text) {
  std::vector<std::string> chunks(1);
  size_t pos = 0;
  while (pos <= text.size()) {
    size_t eol = text.find('\n', pos);
    std::string_view line = text.substr(pos, eol == std::string_view::npos ? text.npos : eol - pos);
    std::string_view trimmed = line;
    while (!trimmed.empty() && std::isspace(static_cast<unsigned char>(trimmed.back())))
      trimmed.remove_suffix(1);
    if (trimmed == "// -----")
      chunks.emplace_back();
    else
      chunks.back().append(line).append("\n");
    if (eol == std::string_view::npos)
      break;
    pos = eol + 1;
  }
  return chunks;
}

} // namespace gma::ir
