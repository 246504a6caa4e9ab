"""Fits the polynomial of CnnGen.Kernels.Transcendentals.ExpPolynomial (session 53) and prints its float constants.

e^r on |r| <= ½ ln 2 (a little past it: the reduction rounds) is written 1 + r + r²·q(r). Cephes' expf gives q degree 5,
which fits to 5e-11, far below a float's rounding; degree 4 fits to 3e-9 and, evaluated in float as the kernel does
(Estrin's scheme, fused multiply-adds), is as accurate as Cephes' (about 7e-8 relative, 1 ulp). Least squares on Chebyshev
points, reweighted toward the largest relative error (a cheap route to near-minimax), as fit_normal_cdf.py.

Run with Debian's /usr/bin/python3 (numpy): /usr/bin/python3 benchmarks/KernelBench/fit_exp.py
"""
import numpy as np

HALF_LN2, DEGREE, POINTS, ROUNDS = 0.3466, 4, 4000, 30
CEPHES = [1.9875691500e-4, 1.3981999507e-3, 8.3334519073e-3, 4.1665795894e-2, 1.6666665459e-1, 5.0000001201e-1]


def fit(degree):
    k = np.arange(POINTS)
    r = HALF_LN2 * np.cos(np.pi * (k + 0.5) / POINTS)
    target = (np.exp(r) - 1 - r) / (r * r)
    powers = np.vander(r, degree + 1, increasing=True)
    weight = np.ones(POINTS)
    for _ in range(ROUNDS):
        scale = weight * r * r / np.exp(r)
        coefficients, *_ = np.linalg.lstsq(powers * scale[:, None], target * scale, rcond=None)
        error = (1 + r + r * r * (powers @ coefficients) - np.exp(r)) / np.exp(r)
        weight *= np.sqrt(np.abs(error) / np.abs(error).max() + 1e-3)
        weight /= weight.max()
    return coefficients, np.abs(error).max()


def fused(a, b, c):  # one rounding: the product of two floats is exact in double
    return np.float32(np.float64(a) * np.float64(b) + np.float64(c))


def float_error(highest_first):
    """Largest relative error of 1 + r + r²·q(r) in float, q by Estrin's scheme in pairs of coefficients."""
    p = [np.float32(c) for c in highest_first]
    r = np.linspace(-1.02 * HALF_LN2, 1.02 * HALF_LN2, 200001).astype(np.float32)
    z = np.float32(r * r)
    pairs = [fused(p[i], r, p[i + 1]) for i in range(len(p) % 2, len(p), 2)]
    q = p[0] if len(p) % 2 else pairs.pop(0)
    for pair in pairs:
        q = fused(q, z, pair)
    e = np.float32(fused(q, z, r) + np.float32(1))
    exact = np.exp(r.astype(np.float64))
    return (np.abs(e.astype(np.float64) - exact) / exact).max()


if __name__ == "__main__":
    coefficients, fit_error = fit(DEGREE)
    highest_first = coefficients[::-1].astype(np.float32)
    for i, c in enumerate(highest_first):
        print(f"P{i} = {float(c):.10e}f")
    print(f"fit: {fit_error:.2e} relative; in float: {float_error(highest_first):.2e}; Cephes' degree 5 in float: {float_error(CEPHES):.2e}")
