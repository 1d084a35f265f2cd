//===- LowerHwacc.cpp - hwacc.matmul -> the instruction level -------------===//
//
//   hwacc.matmul ins(A, B) outs(C) tile [tm, tn, tk]
//     -> loops over tiles { mvin A/B blocks; preload; compute; mvout C }
//
//===----------------------------------------------------------------------===//
#include "hatc/Lowering/Passes.h"

using namespace mlir;

namespace hatc {
#define GEN_PASS_DEF_LOWERHWACC
#include "hatc/Lowering/Passes.h.inc"
} // namespace hatc

namespace hatc {
namespace {

/// Index arithmetic with a builder and a location.
struct Ix {
  OpBuilder &b;
  Location loc;
  Value c(int64_t v) { return b.create<arith::ConstantIndexOp>(loc, v); }
  Value add(Value x, Value y) { return b.create<arith::AddIOp>(loc, x, y); }
  Value sub(Value x, Value y) { return b.create<arith::SubIOp>(loc, x, y); }
  Value mul(Value x, Value y) { return b.create<arith::MulIOp>(loc, x, y); }
  Value mul(Value x, int64_t y) { return mul(x, c(y)); }
  Value min(Value x, Value y) { return b.create<arith::MinSIOp>(loc, x, y); }
  /// x >= 0 here, so (x + y - 1) / y; arith.ceildivsi would need
  /// arith-expand, which also rewrites the host's float max/min.
  Value ceilDiv(Value x, int64_t y) {
    return b.create<arith::DivUIOp>(loc, add(x, c(y - 1)), c(y));
  }
  Value eq(Value x, Value y) {
    return b.create<arith::CmpIOp>(loc, arith::CmpIPredicate::eq, x, y);
  }
  /// for (iv = lb; iv < ub; iv += step) body(iv)
  void loop(Value lb, Value ub, Value step,
            llvm::function_ref<void(Value)> body) {
    auto forOp = b.create<scf::ForOp>(loc, lb, ub, step);
    OpBuilder::InsertionGuard guard(b);
    b.setInsertionPointToStart(forOp.getBody());
    body(forOp.getInductionVar());
  }
  void loop(Value ub, llvm::function_ref<void(Value)> body) {
    loop(c(0), ub, c(1), body);
  }
};

void expandMatmul(hwacc::MatmulOp op, int64_t dim) {
  OpBuilder b(op);
  Location loc = op.getLoc();
  Ix ix{b, loc};
  Value A = op.getA(), B = op.getB(), C = op.getC();
  int64_t tm = op.getTile()[0], tn = op.getTile()[1], tk = op.getTile()[2];
  bool ws = op.getDataflow() == "ws";
  bool accumulate = op.getAccumulate();
  int64_t buffers = op.getDoubleBuffer() ? 2 : 1;
  int64_t aRows = tm * tk / dim, bRows = tk * tn / dim;
  int64_t tkBlocks = tk / dim, tnBlocks = tn / dim;

  Type elem = cast<MemRefType>(A.getType()).getElementType();
  Type out = cast<MemRefType>(C.getType()).getElementType();
  b.create<hwacc::ConfigOp>(loc, op.getDataflowAttr(), TypeAttr::get(elem),
                            TypeAttr::get(out), b.getF32FloatAttr(1.0f),
                            b.getBoolAttr(false));
  Value M = b.create<memref::DimOp>(loc, A, 0);
  Value K = b.create<memref::DimOp>(loc, A, 1);
  Value N = b.create<memref::DimOp>(loc, B, 1);
  Value cDim = ix.c(dim), zero = ix.c(0);

  // Rows of the accumulator that hold C block (bi, bn) of the current tile.
  auto cAddr = [&](Value bi, Value bn) {
    return ix.mul(ix.add(ix.mul(bi, tnBlocks), bn), dim);
  };
  // Row or column count of block `blk` of a tile extent `extent`.
  auto blockSize = [&](Value extent, Value blk) {
    return ix.min(cDim, ix.sub(extent, ix.mul(blk, dim)));
  };

  auto tileBody = [&](Value m0, Value n0) {
    Value mt = ix.min(ix.c(tm), ix.sub(M, m0));
    Value nt = ix.min(ix.c(tn), ix.sub(N, n0));
    Value mb = ix.ceilDiv(mt, dim), nb = ix.ceilDiv(nt, dim);
    if (accumulate)
      ix.loop(mb, [&](Value bi) {
        ix.loop(nb, [&](Value bn) {
          b.create<hwacc::MvinOp>(
              loc, C, ix.add(m0, ix.mul(bi, dim)), ix.add(n0, ix.mul(bn, dim)),
              cAddr(bi, bn), blockSize(mt, bi), blockSize(nt, bn),
              /*acc=*/true);
        });
      });
    ix.loop(zero, K, ix.c(tk), [&](Value k0) {
      Value kt = ix.min(ix.c(tk), ix.sub(K, k0));
      Value kb = ix.ceilDiv(kt, dim);
      Value buf = buffers == 2
                      ? b.create<arith::RemUIOp>(
                            loc, b.create<arith::DivUIOp>(loc, k0, ix.c(tk)),
                            ix.c(2))
                            .getResult()
                      : zero;
      Value aBase = ix.mul(buf, aRows);
      Value bBase = ix.add(ix.c(buffers * aRows), ix.mul(buf, bRows));
      auto aAddr = [&](Value bi, Value bk) {
        return ix.add(aBase, ix.mul(ix.add(ix.mul(bi, tkBlocks), bk), dim));
      };
      auto bAddr = [&](Value bk, Value bn) {
        return ix.add(bBase, ix.mul(ix.add(ix.mul(bk, tnBlocks), bn), dim));
      };
      ix.loop(mb, [&](Value bi) {
        ix.loop(kb, [&](Value bk) {
          b.create<hwacc::MvinOp>(
              loc, A, ix.add(m0, ix.mul(bi, dim)), ix.add(k0, ix.mul(bk, dim)),
              aAddr(bi, bk), blockSize(mt, bi), blockSize(kt, bk),
              /*acc=*/false);
        });
      });
      ix.loop(kb, [&](Value bk) {
        ix.loop(nb, [&](Value bn) {
          b.create<hwacc::MvinOp>(
              loc, B, ix.add(k0, ix.mul(bk, dim)), ix.add(n0, ix.mul(bn, dim)),
              bAddr(bk, bn), blockSize(kt, bk), blockSize(nt, bn),
              /*acc=*/false);
        });
      });
      // The first partial product of a C block overwrites it, unless the op
      // accumulates onto C's old value.
      Value firstK = ix.eq(k0, zero);
      auto accumulateFlag = [&](Value bk) -> Value {
        if (accumulate)
          return b.create<arith::ConstantIntOp>(loc, 1, 1);
        Value first = b.create<arith::AndIOp>(loc, firstK, ix.eq(bk, zero));
        Value one = b.create<arith::ConstantIntOp>(loc, 1, 1);
        return b.create<arith::XOrIOp>(loc, first, one);
      };
      auto step = [&](Value bi, Value bk, Value bn, Value weights) {
        b.create<hwacc::PreloadOp>(loc, weights, cAddr(bi, bn),
                                   blockSize(kt, bk), blockSize(nt, bn),
                                   accumulateFlag(bk));
        b.create<hwacc::ComputeOp>(loc, aAddr(bi, bk), blockSize(mt, bi),
                                   blockSize(kt, bk));
      };
      if (ws) {
        // Weight-stationary: each B block is latched once and every A block
        // of the tile streams past it.
        ix.loop(nb, [&](Value bn) {
          ix.loop(kb, [&](Value bk) {
            // Re-preloading the latched block only names the new
            // destination: the device does not shift the weights in again.
            ix.loop(mb, [&](Value bi) { step(bi, bk, bn, bAddr(bk, bn)); });
          });
        });
      } else {
        // Output-stationary: each C block stays in the array over its k
        // blocks.
        ix.loop(mb, [&](Value bi) {
          ix.loop(nb, [&](Value bn) {
            ix.loop(kb, [&](Value bk) { step(bi, bk, bn, bAddr(bk, bn)); });
          });
        });
      }
    });
    ix.loop(mb, [&](Value bi) {
      ix.loop(nb, [&](Value bn) {
        b.create<hwacc::MvoutOp>(loc, C, ix.add(m0, ix.mul(bi, dim)),
                                 ix.add(n0, ix.mul(bn, dim)), cAddr(bi, bn),
                                 blockSize(mt, bi), blockSize(nt, bn));
      });
    });
  };

  if (op.getLoopOrder() == "nmk")
    ix.loop(zero, N, ix.c(tn), [&](Value n0) {
      ix.loop(zero, M, ix.c(tm), [&](Value m0) { tileBody(m0, n0); });
    });
  else
    ix.loop(zero, M, ix.c(tm), [&](Value m0) {
      ix.loop(zero, N, ix.c(tn), [&](Value n0) { tileBody(m0, n0); });
    });
  b.create<hwacc::FenceOp>(loc);
  op.erase();
}

class LowerHwaccPass : public impl::LowerHwaccBase<LowerHwaccPass> {
public:
  void runOnOperation() override {
    SmallVector<hwacc::MatmulOp> matmuls;
    getOperation().walk([&](hwacc::MatmulOp op) { matmuls.push_back(op); });
    for (hwacc::MatmulOp op : matmuls) {
      hwacc::TargetAttr target = hwacc::lookupTarget(op);
      if (!target) {
        op.emitOpError("needs a hwacc.target on an enclosing module to be "
                       "lowered");
        return signalPassFailure();
      }
      expandMatmul(op, target.getDim());
    }
  }
};

} // namespace
} // namespace hatc
