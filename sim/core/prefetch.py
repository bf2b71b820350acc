"""A cache prefetch hint for the numba kernels.

``prefetch(a, i)`` asks the CPU to start loading the cache line of ``a[i]`` (LLVM's
``llvm.prefetch`` intrinsic: a read, high locality). It has no effect on any value the
program computes: the hardware may ignore it, and it never faults, even for an index
out of range, because it does not dereference anything itself.

Why: the vehicle kernel (:mod:`sim.core.queue`) reads, for each vehicle that leaves a
link, a few fields of that vehicle in fleet columns of a million rows. The vehicles in
one queue are far apart in those columns, so each read is a cache miss, and the CPU
cannot start the next vehicle's miss early because the loop body between them is long.
Asking for the lines of the vehicles waiting behind the head, while the head is being
processed, overlaps those misses.

numba's on-disk cache keys a kernel on its own file only: after changing this module,
touch the modules that use it (sim/core/queue.py) so their kernels recompile.
"""

from __future__ import annotations

from llvmlite import ir
from numba import config, types
from numba.core import cgutils
from numba.extending import intrinsic

__all__ = ["prefetch"]


@intrinsic
def prefetch(typingctx, arr, idx):
    """Hint: load the cache line of ``arr[idx]`` (1-D array, integer index); no result."""
    if not (isinstance(arr, types.Array) and arr.ndim == 1 and isinstance(idx, types.Integer)):
        return None
    sig = types.void(arr, idx)

    def codegen(context, builder, signature, args):
        aryty, _ = signature.args
        ary = context.make_array(aryty)(context, builder, args[0])
        # the address of arr[idx] without bounds or wraparound handling: a prefetch of
        # any address is harmless (no load is performed, no fault is raised)
        ptr = builder.gep(ary.data, [args[1]])
        i8p = ir.IntType(8).as_pointer()
        i32 = ir.IntType(32)
        fnty = ir.FunctionType(ir.VoidType(), [i8p, i32, i32, i32])
        fn = cgutils.get_or_insert_function(builder.module, fnty, "llvm.prefetch.p0i8")
        # rw = 0 (read), locality = 3 (keep in all cache levels), cache type = 1 (data)
        builder.call(fn, [builder.bitcast(ptr, i8p), ir.Constant(i32, 0), ir.Constant(i32, 3),
                          ir.Constant(i32, 1)])
        return context.get_dummy_value()

    return sig, codegen


if config.DISABLE_JIT:  # NUMBA_DISABLE_JIT=1: the kernels run as Python, a hint is nothing

    def prefetch(arr, idx):  # noqa: F811 - the pure-Python stand-in
        """No-op: without the JIT there is no cache line to ask for."""
