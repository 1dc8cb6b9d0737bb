//===- abi/KernelAbiTable.h - The kernel ABI table for C++ -------*- C++ -*-===//
//
// abi/KernelAbi.def as C++ data, for the code generator: the fields of the
// descriptor with their LLVM kinds (the LLVM struct type and the order of its
// initialisers come from here), and the C declarations as text for generated
// headers. The runtime's C view of the same table is abi/KernelAbi.h.
//
//===----------------------------------------------------------------------===//
#pragma once

#include "abi/KernelAbi.h"

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

namespace gma::abi {

/// The LLVM type of a descriptor field.
enum class FieldKind { I32, I64, Ptr };

struct Field {
  std::string_view name;
  FieldKind kind;
  std::string_view ctype; ///< its C type, as written in the table
  std::string_view doc;
};

/// A kernel: `void <prefix>_<name> params`, typedef gamma_<name>_fn.
struct Kernel {
  std::string_view name;
  std::string_view params; ///< "(const float *x, ...)"
  std::string_view doc;
};

inline constexpr Kernel kKernels[] = {
#define GAMMA_ABI_FN(name, params, doc) {#name, #params, doc},
#include "abi/KernelAbi.def"
};

/// The descriptor's fields, in struct order.
inline constexpr Field kFields[] = {
#define GAMMA_ABI_FIELD(type, name, kind, doc) {#name, FieldKind::kind, #type, doc},
#include "abi/KernelAbi.def"
};
inline constexpr size_t kFieldCount = sizeof(kFields) / sizeof(kFields[0]);

/// The C compiler's offset of each field (the layout LLVM must reproduce).
inline constexpr size_t kFieldOffsets[] = {
#define GAMMA_ABI_FIELD(type, name, kind, doc) offsetof(gamma_kernel_info, name),
#include "abi/KernelAbi.def"
};

/// Index of the field `name` in kFields, or kFieldCount.
constexpr size_t fieldIndex(std::string_view name) {
  for (size_t i = 0; i < kFieldCount; ++i)
    if (kFields[i].name == name)
      return i;
  return kFieldCount;
}

/// `text` as a C comment, wrapped at 96 columns, each line led by `indent`.
inline std::string cComment(std::string_view text, const std::string &indent = "") {
  std::string out = indent + "/*", line;
  size_t pos = 0;
  while (pos < text.size()) {
    size_t sp = text.find(' ', pos);
    std::string_view word = text.substr(pos, sp == std::string_view::npos ? sp : sp - pos);
    if (!line.empty() && indent.size() + 3 + line.size() + 1 + word.size() > 96) {
      out += line + "\n" + indent + " *";
      line.clear();
    }
    line += " ";
    line += word;
    pos = sp == std::string_view::npos ? text.size() : sp + 1;
  }
  return out + line + " */\n";
}

/// The declarations of abi/KernelAbi.h as C text, under the same include
/// guard, for a generated header that must stand alone.
inline std::string cDeclarations() {
  std::string t = "#ifndef GAMMA_KERNEL_ABI_H\n#define GAMMA_KERNEL_ABI_H\n";
#define GAMMA_ABI_VERSION(n)                                                                       \
  t += "enum { GAMMA_KERNEL_ABI_VERSION_VALUE = " #n " };\n"                                      \
       "#define GAMMA_KERNEL_ABI_VERSION ((uint32_t)GAMMA_KERNEL_ABI_VERSION_VALUE)\n";
#define GAMMA_ABI_FN(name, params, doc)                                                            \
  t += cComment(doc) + "typedef void (*gamma_" #name "_fn)" #params ";\n";
#include "abi/KernelAbi.def"
  t += "typedef struct gamma_kernel_info {\n";
  for (const Field &f : kFields)
    t += cComment(f.doc, "  ") + "  " + std::string(f.ctype) + " " + std::string(f.name) + ";\n";
  t += "} gamma_kernel_info;\n";
#define GAMMA_ABI_CODE(...) t += #__VA_ARGS__ "\n";
#include "abi/KernelAbi.def"
  t += "#endif /* GAMMA_KERNEL_ABI_H */\n";
  return t;
}

} // namespace gma::abi
