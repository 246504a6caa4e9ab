"""Fits the polynomial of CnnGen.Kernels.Transcendentals.NormalCdf (session 44) and prints its float constants.

Φ(x) = ½·erfc(z) for x ≤ 0, z = |x|/√2, is written ½·t·P(t)·e^(−z²) with t = 1/(1 + p·z): P(t) = erfcx(z)/t, where
erfcx(z) = erfc(z)·e^(z²), runs smoothly from p/√π at t = 0 to 1 at t = 1. A degree-8 polynomial is fitted to it on
z in [0, 9.4] (Φ underflows past |x| = 13.3) by least squares on Chebyshev points in t, reweighted toward the largest
relative error (a cheap route to near-minimax). The constants are printed halved (the kernel's ½ folded in), then the
largest relative error of t·P(t) evaluated as the kernel does in float (Horner's scheme since session 53, fused multiply-adds).

Run with Debian's /usr/bin/python3 (numpy and mpmath): /usr/bin/python3 benchmarks/KernelBench/fit_normal_cdf.py
"""
import mpmath as mp
import numpy as np

mp.mp.dps = 30
P_SCALE, DEGREE, Z_MAX, POINTS, ROUNDS = 0.37, 8, 9.4, 4000, 25


def erfcx(z):
    return float(mp.erfc(z) * mp.exp(z * z))


def fit():
    t_min = 1 / (1 + P_SCALE * Z_MAX)
    k = np.arange(POINTS)
    t = (1 + t_min) / 2 + (1 - t_min) / 2 * np.cos(np.pi * (k + 0.5) / POINTS)
    target = np.array([erfcx(z) for z in (1 / t - 1) / P_SCALE]) / t
    powers = np.vander(t, DEGREE + 1, increasing=True)
    weight = np.ones(POINTS)
    for _ in range(ROUNDS):
        scale = weight / np.abs(target)
        coefficients, *_ = np.linalg.lstsq(powers * scale[:, None], target * scale, rcond=None)
        error = (powers @ coefficients - target) / target
        weight *= np.sqrt(np.abs(error) / np.abs(error).max() + 1e-3)
        weight /= weight.max()
    return coefficients, np.abs(error).max()


def fused(a, b, c):  # one rounding: the product of two floats is exact in double
    return np.float32(np.float64(a) * np.float64(b) + np.float64(c))


def float_error(q, scale):
    worst = 0.0
    for x in np.linspace(-13.19, 0, 30001).astype(np.float32):
        t = np.float32(np.float32(1) / fused(abs(x), scale, np.float32(1)))
        p = q[8]
        for k in range(7, -1, -1):
            p = fused(p, t, q[k])
        half_tail = np.float32(t * p)
        exact = erfcx(float(abs(x)) / np.sqrt(2))
        worst = max(worst, abs(2 * float(half_tail) - exact) / exact)
    return worst


if __name__ == "__main__":
    coefficients, fit_error = fit()
    halved = (coefficients / 2).astype(np.float32)
    scale = np.float32(P_SCALE / np.sqrt(2))
    print(f"TailScale = {float(scale):.9e}f  // p/√2, p = {P_SCALE}")
    for i, q in enumerate(halved):
        print(f"Q{i} = {float(q):.9e}f")
    print(f"fit: {fit_error:.2e} relative; in float: {float_error(halved, scale):.2e}")
