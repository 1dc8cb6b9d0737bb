//===- ir/Printer.cpp ---===//
#include "ir/Printer.h"
