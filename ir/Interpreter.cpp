//===- ir/Interpreter.cpp ---===//
#include "ir/Interpreter.h"
