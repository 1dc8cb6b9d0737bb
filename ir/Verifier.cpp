//===- ir/Verifier.cpp ---===//
#include "ir/Verifier.h"
