//===- test/unit/frontend/ShapeFoldingTest.cpp - Integer shape folding ----===//
//
// The import-time evaluation of integer shape operators against values worked
// out by hand from the ONNX operator specifications.
//
//===----------------------------------------------------------------------===//
#include "frontend/onnx/ShapeFolding.h"

#include <gtest/gtest.h>
#include <limits>

namespace gma::frontend {
namespace {

using Ints = std::vector<int64_t>;
constexpr int64_t kMax = std::numeric_limits<int64_t>::max();

ConstTensor ints(ir::Shape shape, Ints data) { return ConstTensor::ofInts(shape, data); }

TEST(ShapeFolding, Gather) {
  // data [[1,2,3],[4,5,6]], axis 1, indices [2, -3] -> [[3,1],[6,4]]
  auto r = gatherInts(ints({2, 3}, {1, 2, 3, 4, 5, 6}), ints({2}, {2, -3}), 1);
  ASSERT_TRUE(static_cast<bool>(r));
  EXPECT_EQ(r->shape, (ir::Shape{2, 2}));
  EXPECT_EQ(r->ints, (Ints{3, 1, 6, 4}));
  // A scalar index drops the axis: Shape(x)[0].
  auto s = gatherInts(ints({3}, {7, 8, 9}), ints({}, {0}), 0);
  ASSERT_TRUE(static_cast<bool>(s));
  EXPECT_EQ(s->shape, (ir::Shape{}));
  EXPECT_EQ(s->ints, (Ints{7}));
  EXPECT_FALSE(static_cast<bool>(gatherInts(ints({3}, {7, 8, 9}), ints({}, {3}), 0)));
}

TEST(ShapeFolding, Concat) {
  ConstTensor a = ints({1}, {5}), b = ints({2}, {-1, 7});
  auto r = concatInts({&a, &b}, 0);
  ASSERT_TRUE(static_cast<bool>(r));
  EXPECT_EQ(r->ints, (Ints{5, -1, 7}));
  ConstTensor m = ints({2, 1}, {1, 2}), n = ints({2, 2}, {3, 4, 5, 6});
  auto r2 = concatInts({&m, &n}, -1); // [[1,3,4],[2,5,6]]
  ASSERT_TRUE(static_cast<bool>(r2));
  EXPECT_EQ(r2->shape, (ir::Shape{2, 3}));
  EXPECT_EQ(r2->ints, (Ints{1, 3, 4, 2, 5, 6}));
}

TEST(ShapeFolding, SliceClampsAndSteps) {
  ConstTensor s = ints({4}, {10, 11, 12, 13});
  auto tail = sliceInts(s, {1}, {kMax}, {}, {});
  ASSERT_TRUE(static_cast<bool>(tail));
  EXPECT_EQ(tail->ints, (Ints{11, 12, 13}));
  auto rev = sliceInts(s, {-1}, {-kMax}, {0}, {-2}); // 13, 11
  ASSERT_TRUE(static_cast<bool>(rev));
  EXPECT_EQ(rev->ints, (Ints{13, 11}));
  auto empty = sliceInts(s, {3}, {1}, {}, {});
  ASSERT_TRUE(static_cast<bool>(empty));
  EXPECT_EQ(empty->shape, (ir::Shape{0}));
  EXPECT_FALSE(static_cast<bool>(sliceInts(s, {0}, {1}, {}, {0})));
}

TEST(ShapeFolding, BinaryBroadcastAndDivision) {
  auto r = binaryInts(IntOp::Mul, ints({2}, {3, 4}), ints({}, {2}));
  ASSERT_TRUE(static_cast<bool>(r));
  EXPECT_EQ(r->ints, (Ints{6, 8}));
  auto d = binaryInts(IntOp::Div, ints({2}, {7, -7}), ints({}, {2}));
  ASSERT_TRUE(static_cast<bool>(d));
  EXPECT_EQ(d->ints, (Ints{3, -3})); // Truncation toward zero.
  EXPECT_FALSE(static_cast<bool>(binaryInts(IntOp::Div, ints({1}, {1}), ints({1}, {0}))));
  EXPECT_FALSE(static_cast<bool>(binaryInts(IntOp::Add, ints({2}, {1, 2}), ints({3}, {1, 2, 3}))));
}

TEST(ShapeFolding, Where) {
  auto r = whereInts(ints({2}, {1, 0}), ints({}, {-1}), ints({2}, {3, 4}));
  ASSERT_TRUE(static_cast<bool>(r));
  EXPECT_EQ(r->ints, (Ints{-1, 4}));
}

TEST(ShapeFolding, ViewShapes) {
  EXPECT_EQ(*flattenShape({2, 3, 4}, 1), (ir::Shape{2, 12}));
  EXPECT_EQ(*flattenShape({2, 3, 4}, 0), (ir::Shape{1, 24}));
  EXPECT_EQ(*flattenShape({2, 3, 4}, -1), (ir::Shape{6, 4}));
  EXPECT_EQ(*reshapeShape({2, 3, 4}, {0, -1}, false), (ir::Shape{2, 12}));
  EXPECT_EQ(*reshapeShape({2, 0}, {0, 5}, true), (ir::Shape{0, 5}));
  EXPECT_FALSE(static_cast<bool>(reshapeShape({2, 3}, {-1, -1}, false)));
  EXPECT_FALSE(static_cast<bool>(reshapeShape({2, 3}, {4, -1}, false)));
  EXPECT_EQ(*squeezeShape({1, 3, 1}, std::nullopt), (ir::Shape{3}));
  EXPECT_EQ(*unsqueezeShape({3}, {0, 2}), (ir::Shape{1, 3, 1}));
  EXPECT_FALSE(static_cast<bool>(unsqueezeShape({3}, {0, 0})));
  EXPECT_EQ(*transposePerm(3, std::nullopt), (Ints{2, 1, 0}));
  EXPECT_FALSE(static_cast<bool>(transposePerm(2, Ints{0, 0})));
}

TEST(ShapeFolding, TransposeInts) {
  ConstTensor t = transposeInts(ints({2, 3}, {1, 2, 3, 4, 5, 6}), {1, 0});
  EXPECT_EQ(t.shape, (ir::Shape{3, 2}));
  EXPECT_EQ(t.ints, (Ints{1, 4, 2, 5, 3, 6}));
}

} // namespace
} // namespace gma::frontend
