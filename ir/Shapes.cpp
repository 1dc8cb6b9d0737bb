//===- ir/Shapes.cpp ---===//
#include "ir/Shapes.h"
