//===- frontend/onnx/TensorData.h - Decoding ONNX tensors -------*- C++ -*-===//
//
// Turns an ONNX TensorProto (an initializer or a Constant's value) into a
// ConstTensor. Data may sit in `raw_data` (little endian), in a typed field
// (float_data, int32_data, int64_data, double_data) or in an external file
// (data_location = EXTERNAL). Float data in raw_data, float_data and external
// files is referenced in place, never copied: external files are memory-mapped
// once per import and the mapping lives as long as any weight that uses it.
// Every size and offset is checked before data is read.
//
//===----------------------------------------------------------------------===//
#pragma once

#include "support/Hash.h"
#include "support/InputFile.h"
#include "frontend/onnx/ImportContext.h"

#include <map>
#include <memory>
#include <string>

namespace gma::frontend {

using support::MappedFile;
using support::mapInputFile;

/// Read-only memory mappings of the external-data files of one model.
class ExternalDataFiles {
public:
  /// `modelDir` is the folder that external-data locations are relative to.
  explicit ExternalDataFiles(std::string modelDir) : modelDir_(std::move(modelDir)) {}

  /// The bytes [offset, offset + length) of `location`, mapped into memory, or
  /// an error. `length` < 0 means "to the end of the file". The returned
  /// owner keeps the mapping alive.
  struct Slice {
    std::shared_ptr<const void> owner;
    const char *data = nullptr;
    size_t size = 0;
  };
  Expected<Slice> map(const std::string &location, int64_t offset, int64_t length);

  /// Feeds every mapped file, in a fixed order, to `h`: its location as
  /// written in the model, its size and all of its bytes.
  void digest(support::Hasher &h) const;

private:
  /// One mapped file, keyed in `files_` by its path under the model folder.
  struct Mapping {
    std::string location; ///< As written in the model.
    std::shared_ptr<const MappedFile> file;
  };
  std::string modelDir_;
  std::map<std::string, Mapping> files_;
};

/// Decodes `t`. `owner` keeps `t` alive (float data may point into it).
/// Unsupported element types give OnnxUnsupportedType; inconsistent sizes give
/// OnnxMalformed. Errors carry no location; the caller adds it.
Expected<ConstTensor> decodeTensor(const onnx::TensorProto &t,
                                   const std::shared_ptr<const void> &owner,
                                   ExternalDataFiles &external);

/// OnnxNonFinite if a float tensor holds a NaN or an infinity; no location.
Status checkFinite(const ConstTensor &c);

/// The ONNX name of an element type ("float32", "int64", "float16", ...).
std::string onnxTypeName(int elemType);

} // namespace gma::frontend
