"""numpy's default random generator in pure Python, for the scalar engine without numpy.

`Generator(seed).uniform(low, high, n)` returns, bit for bit, what
`numpy.random.default_rng(seed).uniform(low, high, n)` returns: the same `SeedSequence`
hashing, the same PCG64 (XSL-RR) bit generator, the same 53-bit doubles. So `MLP(...,
seed=0)` starts from the same weights with numpy or without it (in the browser, say), and
the numbers the guide shows hold in both. A test compares the two streams.
"""

from __future__ import annotations

import numbers
import secrets

_MASK32 = 0xFFFF_FFFF
_MASK64 = 0xFFFF_FFFF_FFFF_FFFF
_MASK128 = (1 << 128) - 1

# numpy/random/bit_generator.pyx: SeedSequence's hash constants (32-bit arithmetic).
_INIT_A = 0x43B0D7E5
_MULT_A = 0x931E8875
_INIT_B = 0x8B51F9DD
_MULT_B = 0x58F38DED
_MIX_MULT_L = 0xCA01F9DD
_MIX_MULT_R = 0x4973F715
_XSHIFT = 16
_POOL_SIZE = 4

# numpy/random/src/pcg64: the 128-bit LCG multiplier.
_PCG_MULT = 0x2360ED051FC65DA44385DF649FCCF645


def _words(n: int) -> list[int]:
    """A non-negative int as 32-bit words, least significant first (`[0]` for 0)."""
    words = []
    while True:
        words.append(n & _MASK32)
        n >>= 32
        if n == 0:
            return words


def _seed_state(entropy: int) -> list[int]:
    """`SeedSequence(entropy).generate_state(4, np.uint64)` as Python ints."""
    hash_const = _INIT_A

    def hashmix(value: int) -> int:
        nonlocal hash_const
        value ^= hash_const
        hash_const = (hash_const * _MULT_A) & _MASK32
        value = (value * hash_const) & _MASK32
        return value ^ (value >> _XSHIFT)

    def mix(x: int, y: int) -> int:
        result = (x * _MIX_MULT_L - y * _MIX_MULT_R) & _MASK32
        return result ^ (result >> _XSHIFT)

    entropy_words = _words(entropy)
    pool = [hashmix(entropy_words[i] if i < len(entropy_words) else 0) for i in range(_POOL_SIZE)]
    for src in range(_POOL_SIZE):
        for dst in range(_POOL_SIZE):
            if src != dst:
                pool[dst] = mix(pool[dst], hashmix(pool[src]))
    for word in entropy_words[_POOL_SIZE:]:
        for dst in range(_POOL_SIZE):
            pool[dst] = mix(pool[dst], hashmix(word))

    hash_const = _INIT_B
    state32 = []
    for i in range(8):  # 4 uint64 words = 8 uint32 words, drawn cyclically from the pool
        value = pool[i % _POOL_SIZE] ^ hash_const
        hash_const = (hash_const * _MULT_B) & _MASK32
        value = (value * hash_const) & _MASK32
        state32.append(value ^ (value >> _XSHIFT))
    return [state32[2 * i] | (state32[2 * i + 1] << 32) for i in range(4)]  # little-endian


class Generator:
    """A seeded stream of uniform numbers, equal to `numpy.random.default_rng(seed)`'s.

    Args:
        seed: A non-negative int, or `None` for fresh entropy from the operating system.

    Raises:
        TypeError: `seed` is not an int (or is a bool).
        ValueError: `seed` is negative.
    """

    def __init__(self, seed: int | None = None) -> None:
        if seed is None:
            seed = secrets.randbits(128)  # numpy also draws 128 bits of entropy
        if isinstance(seed, bool) or not isinstance(seed, numbers.Integral):
            raise TypeError(f"seed must be an int or None, got {type(seed).__name__}")
        if seed < 0:
            raise ValueError(f"seed must be non-negative, got {seed}")
        s0, s1, i0, i1 = _seed_state(int(seed))
        initstate = (s0 << 64) | s1
        initseq = (i0 << 64) | i1
        self._inc = ((initseq << 1) | 1) & _MASK128
        self._state = 0
        self._step()
        self._state = (self._state + initstate) & _MASK128
        self._step()

    def _step(self) -> None:
        self._state = (self._state * _PCG_MULT + self._inc) & _MASK128

    def _next_uint64(self) -> int:
        self._step()
        state = self._state
        value = ((state >> 64) ^ state) & _MASK64
        rot = state >> 122
        return ((value >> rot) | (value << (-rot & 63))) & _MASK64

    def random(self) -> float:
        """One number uniform in `[0, 1)`, with 53 random bits."""
        return (self._next_uint64() >> 11) * (1.0 / 9007199254740992.0)

    def uniform(self, low: float, high: float, n: int) -> list[float]:
        """`n` numbers uniform in `[low, high)`, as numpy makes them: `low + (high-low)*u`."""
        width = float(high) - float(low)
        return [float(low) + width * self.random() for _ in range(n)]
