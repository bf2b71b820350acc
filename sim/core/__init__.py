"""numba kernels: pure functions over numpy arrays, nothing else.

A kernel takes arrays and scalars, touches no globals, does no I/O and raises nothing.
Public wrappers elsewhere validate inputs, convert dtypes and allocate outputs.
"""
