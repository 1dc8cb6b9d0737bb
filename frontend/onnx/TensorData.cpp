//===- frontend/onnx/TensorData.cpp - Decoding ONNX tensors ---------------===//
//
// Decodes TensorProto contents into ConstTensors. The rules:
//
// 1. The element count comes from `dims`; every dim must be >= 0 and the
//    product must not overflow.
// 2. Data comes from `raw_data` when present, from the external file when
//    data_location = EXTERNAL, and from the typed field otherwise. Its size
//    must be exactly the element count (times the element size for bytes).
// 3. float32 data is referenced in place. The protobuf or the file mapping is
//    the owner, so a 2 GB weight costs no copy. Misaligned bytes (possible
//    only at odd offsets in raw or external data) are copied, since reading a
//    float through a misaligned pointer is undefined behaviour.
// 4. float64 data is rounded to float32 (a copy); integer and bool data
//    becomes int64 shape data. Other element types are rejected.
//
//===----------------------------------------------------------------------===//
#include "frontend/onnx/TensorData.h"

#include "support/InputFile.h"

#include <onnx/onnx_pb.h>

#include <bit>
#include <charconv>
#include <cstring>
#include <algorithm>
#include <cmath>
#include <filesystem>
#include <fmt/format.h>
#include <limits>

static_assert(std::endian::native == std::endian::little,
              "ONNX raw_data is little endian; decoding assumes a little-endian host");

namespace gma::frontend {

namespace {

/// A bound on element counts that keeps byte counts far from overflow.
constexpr int64_t kMaxElements = int64_t(1) << 40;

Error malformed(std::string msg) { return Error(ErrorCode::OnnxMalformed, std::move(msg)); }

/// Reads a decimal integer from an external_data value.
std::optional<int64_t> parseInt(const std::string &s) {
  int64_t v = 0;
  auto [end, ec] = std::from_chars(s.data(), s.data() + s.size(), v);
  if (ec != std::errc() || end != s.data() + s.size() || v < 0)
    return std::nullopt;
  return v;
}

/// Bytes per element of the element types read from raw bytes.
size_t elemSize(int type) {
  switch (type) {
  case onnx::TensorProto::FLOAT:
  case onnx::TensorProto::INT32:
    return 4;
  case onnx::TensorProto::DOUBLE:
  case onnx::TensorProto::INT64:
    return 8;
  case onnx::TensorProto::BOOL:
    return 1;
  default:
    return 0;
  }
}

/// Converts little-endian raw bytes of an integer or bool type to int64.
std::vector<int64_t> intsFromBytes(const char *p, int64_t n, int type) {
  std::vector<int64_t> out(n);
  for (int64_t i = 0; i < n; ++i) {
    if (type == onnx::TensorProto::INT64) {
      std::memcpy(&out[i], p + 8 * i, 8);
    } else if (type == onnx::TensorProto::INT32) {
      int32_t v;
      std::memcpy(&v, p + 4 * i, 4);
      out[i] = v;
    } else {
      out[i] = p[i] != 0;
    }
  }
  return out;
}

/// Float elements from bytes: in place when aligned, else a copy.
ConstTensor floatsFromBytes(ir::Shape shape, const char *p, int64_t n,
                            std::shared_ptr<const void> owner) {
  if (reinterpret_cast<uintptr_t>(p) % alignof(float) == 0)
    return ConstTensor::ofFloatView(std::move(shape), std::move(owner),
                                    reinterpret_cast<const float *>(p));
  std::vector<float> copy(n);
  std::memcpy(copy.data(), p, n * sizeof(float));
  return ConstTensor::ofFloats(std::move(shape), std::move(copy));
}

std::vector<float> floatsFromDoubleBytes(const char *p, int64_t n) {
  std::vector<float> out(n);
  for (int64_t i = 0; i < n; ++i) {
    double d;
    std::memcpy(&d, p + 8 * i, 8);
    out[i] = static_cast<float>(d);
  }
  return out;
}

/// Decodes `n` elements from a byte buffer of the right size.
ConstTensor fromBytes(int type, ir::Shape shape, const char *p, int64_t n,
                      std::shared_ptr<const void> owner) {
  if (type == onnx::TensorProto::FLOAT)
    return floatsFromBytes(std::move(shape), p, n, std::move(owner));
  if (type == onnx::TensorProto::DOUBLE)
    return ConstTensor::ofFloats(std::move(shape), floatsFromDoubleBytes(p, n));
  return ConstTensor::ofInts(std::move(shape), intsFromBytes(p, n, type));
}

/// Checks a typed field's element count against the dims.
Status checkCount(int64_t have, int64_t want, const char *field) {
  if (have != want)
    return malformed(fmt::format("{} holds {} elements but the dims need {}", field, have, want));
  return Status::ok();
}

} // namespace

std::string onnxTypeName(int elemType) {
  switch (elemType) {
  case onnx::TensorProto::FLOAT:
    return "float32";
  case onnx::TensorProto::UINT8:
    return "uint8";
  case onnx::TensorProto::INT8:
    return "int8";
  case onnx::TensorProto::UINT16:
    return "uint16";
  case onnx::TensorProto::INT16:
    return "int16";
  case onnx::TensorProto::INT32:
    return "int32";
  case onnx::TensorProto::INT64:
    return "int64";
  case onnx::TensorProto::STRING:
    return "string";
  case onnx::TensorProto::BOOL:
    return "bool";
  case onnx::TensorProto::FLOAT16:
    return "float16";
  case onnx::TensorProto::DOUBLE:
    return "float64";
  case onnx::TensorProto::UINT32:
    return "uint32";
  case onnx::TensorProto::UINT64:
    return "uint64";
  case onnx::TensorProto::COMPLEX64:
    return "complex64";
  case onnx::TensorProto::COMPLEX128:
    return "complex128";
  case onnx::TensorProto::BFLOAT16:
    return "bfloat16";
  default:
    return fmt::format("type #{}", elemType);
  }
}

void ExternalDataFiles::digest(support::Hasher &h) const {
  h.field(static_cast<uint64_t>(files_.size()));
  for (const auto &[path, m] : files_) { // std::map: sorted by path
    h.field(m.location);
    h.field(static_cast<uint64_t>(m.file->size()));
    h.bytes(m.file->data(), m.file->size());
  }
}

Expected<ExternalDataFiles::Slice> ExternalDataFiles::map(const std::string &location,
                                                          int64_t offset, int64_t length) {
  namespace fs = std::filesystem;
  // A NUL would cut the path short when passed to open(): refuse it, rather
  // than open a file other than the one named.
  if (location.find('\0') != std::string::npos)
    return malformed("external data location contains a NUL byte");
  fs::path rel(location);
  if (location.empty() || rel.is_absolute())
    return malformed(fmt::format("external data location '{}' must be a relative path", location));
  for (const fs::path &part : rel)
    if (part == "..")
      return malformed(
          fmt::format("external data location '{}' leaves the model's folder", location));
  std::string path = (fs::path(modelDir_) / rel).string();

  auto it = files_.find(path);
  if (it == files_.end()) {
    // Symbolic links may point anywhere: the file they resolve to must lie
    // inside the model's folder too (ONNX's own checker requires the same).
    std::error_code ec;
    fs::path dir = fs::canonical(modelDir_, ec);
    fs::path target = ec ? fs::path() : fs::canonical(path, ec);
    if (ec)
      return Error(ErrorCode::FileNotFound,
                   fmt::format("cannot open external data file '{}': {}", path, ec.message()));
    auto [d, t] = std::mismatch(dir.begin(), dir.end(), target.begin(), target.end());
    if (d != dir.end() || t == target.end())
      return malformed(fmt::format("external data location '{}' resolves to '{}', outside the "
                                   "model's folder",
                                   location, target.string()));
    auto file = mapInputFile(target.string(), std::numeric_limits<uint64_t>::max(),
                             ErrorCode::OnnxMalformed, "external data file");
    if (!file)
      return withLocation(file.takeError(), Location{path, {}, {}});
    it = files_.emplace(path, Mapping{location, std::move(*file)}).first;
  }

  const MappedFile &m = *it->second.file;
  uint64_t size = m.size();
  if (static_cast<uint64_t>(offset) > size ||
      (length >= 0 && static_cast<uint64_t>(length) > size - static_cast<uint64_t>(offset)))
    return malformed(fmt::format("external data [{}, +{}) lies outside '{}' ({} bytes)", offset,
                                 length, path, size));
  Slice s;
  s.owner = it->second.file;
  s.data = m.data() + offset;
  s.size = length >= 0 ? static_cast<size_t>(length) : size - offset;
  return s;
}

Status checkFinite(const ConstTensor &c) {
  if (!c.isFloat())
    return Status::ok();
  int64_t n = c.numel();
  for (int64_t i = 0; i < n; ++i)
    if (!std::isfinite(c.floats[i]))
      return Error(ErrorCode::OnnxNonFinite,
                   fmt::format("element {} is {} (as float32); no sound bound passes through a "
                               "non-finite weight",
                               i, c.floats[i]));
  return Status::ok();
}

namespace {
Expected<ConstTensor> decodeTensorData(const onnx::TensorProto &t,
                                       const std::shared_ptr<const void> &owner,
                                       ExternalDataFiles &external);
} // namespace

Expected<ConstTensor> decodeTensor(const onnx::TensorProto &t,
                                   const std::shared_ptr<const void> &owner,
                                   ExternalDataFiles &external) {
  auto c = decodeTensorData(t, owner, external);
  if (c)
    if (Status s = checkFinite(*c); !s)
      return s.takeError();
  return c;
}

namespace {
Expected<ConstTensor> decodeTensorData(const onnx::TensorProto &t,
                                       const std::shared_ptr<const void> &owner,
                                       ExternalDataFiles &external) {
  int type = t.data_type();
  if (type != onnx::TensorProto::FLOAT && type != onnx::TensorProto::DOUBLE &&
      type != onnx::TensorProto::INT64 && type != onnx::TensorProto::INT32 &&
      type != onnx::TensorProto::BOOL)
    return Error(ErrorCode::OnnxUnsupportedType,
                 fmt::format("element type {} is not supported (gamma computes in float32 and "
                             "accepts int64/int32/bool only as shape data)",
                             onnxTypeName(type)));
  if (t.has_segment())
    return malformed("segmented tensors are not supported");

  ir::Shape shape;
  int64_t n = 1;
  for (int64_t d : t.dims()) {
    if (d < 0)
      return malformed(fmt::format("negative dimension {}", d));
    if (d > 0 && n > kMaxElements / d)
      return malformed("tensor has more than 2^40 elements");
    shape.push_back(d);
    n *= d;
  }
  size_t bytes = static_cast<size_t>(n) * elemSize(type);

  if (t.data_location() == onnx::TensorProto::EXTERNAL) {
    std::string location;
    int64_t offset = 0, length = -1;
    for (const auto &kv : t.external_data()) {
      if (kv.key() == "location") {
        location = kv.value();
      } else if (kv.key() == "offset" || kv.key() == "length") {
        std::optional<int64_t> v = parseInt(kv.value());
        if (!v)
          return malformed(
              fmt::format("external data {} '{}' is not a byte count", kv.key(), kv.value()));
        (kv.key() == "offset" ? offset : length) = *v;
      }
    }
    auto slice = external.map(location, offset, length);
    if (!slice)
      return slice.takeError();
    if (slice->size != bytes)
      return malformed(
          fmt::format("external data holds {} bytes but the dims need {}", slice->size, bytes));
    return fromBytes(type, std::move(shape), slice->data, n, slice->owner);
  }

  if (t.has_raw_data()) {
    const std::string &raw = t.raw_data();
    if (raw.size() != bytes)
      return malformed(
          fmt::format("raw_data holds {} bytes but the dims need {}", raw.size(), bytes));
    return fromBytes(type, std::move(shape), raw.data(), n, owner);
  }

  switch (type) {
  case onnx::TensorProto::FLOAT: {
    if (Status s = checkCount(t.float_data_size(), n, "float_data"); !s)
      return s.takeError();
    return ConstTensor::ofFloatView(std::move(shape), owner, t.float_data().data());
  }
  case onnx::TensorProto::DOUBLE: {
    if (Status s = checkCount(t.double_data_size(), n, "double_data"); !s)
      return s.takeError();
    return ConstTensor::ofFloats(
        std::move(shape), std::vector<float>(t.double_data().begin(), t.double_data().end()));
  }
  case onnx::TensorProto::INT64: {
    if (Status s = checkCount(t.int64_data_size(), n, "int64_data"); !s)
      return s.takeError();
    return ConstTensor::ofInts(std::move(shape),
                               std::vector<int64_t>(t.int64_data().begin(), t.int64_data().end()));
  }
  default: { // INT32 and BOOL share int32_data.
    if (Status s = checkCount(t.int32_data_size(), n, "int32_data"); !s)
      return s.takeError();
    std::vector<int64_t> ints(t.int32_data().begin(), t.int32_data().end());
    if (type == onnx::TensorProto::BOOL)
      for (int64_t &v : ints)
        v = v != 0;
    return ConstTensor::ofInts(std::move(shape), std::move(ints));
  }
  }
}

} // namespace

} // namespace gma::frontend
