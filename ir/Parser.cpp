//===- ir/Parser.cpp ---===//
#include "ir/Parser.h"
