"""The one-dimensional Winograd (Toom-Cook) matrices LineWinogradConvolution uses, in exact arithmetic.

For F(m, r), the correlation y_i = sum_k g_k d_(i+k), i < m, from n = m + r - 1 points (n - 1 finite and infinity):
Y = At [(G g) * (Bt d)], where At (m x n) evaluates an output polynomial at the points, G (n x r) the filter, and
Bt (n x n) is the transposed inverse of the n x n evaluation matrix. Each row of Bt is scaled to small integers and the
row of G divided by the same factor. Each set is checked on random integers against the definition.

    python3 benchmarks/KernelBench/toom_cook.py
"""
from fractions import Fraction
import math
import random


def evaluation(points, size):
    # Rows [p^0 .. p^(size-1)] for each finite point, then infinity's [0 .. 0 1].
    return [[Fraction(p) ** k for k in range(size)] for p in points] + [[Fraction(0)] * (size - 1) + [Fraction(1)]]


def inverse(matrix):
    n = len(matrix)
    rows = [row[:] + [Fraction(int(i == j)) for j in range(n)] for i, row in enumerate(matrix)]
    for column in range(n):
        pivot = next(i for i in range(column, n) if rows[i][column] != 0)
        rows[column], rows[pivot] = rows[pivot], rows[column]
        rows[column] = [x / rows[column][column] for x in rows[column]]
        for i in range(n):
            if i != column and rows[i][column] != 0:
                factor = rows[i][column]
                rows[i] = [a - factor * b for a, b in zip(rows[i], rows[column])]
    return [row[n:] for row in rows]


def matrices(m, r, points):
    n = m + r - 1
    assert len(points) == n - 1
    c = inverse(evaluation(points, n))
    bt = [[c[k][j] for k in range(n)] for j in range(n)]
    g = evaluation(points, r)
    at = [[Fraction(p) ** i for p in points] + [Fraction(int(i == m - 1))] for i in range(m)]
    for j in range(n):
        denominator = 1
        for x in bt[j]:
            denominator = denominator * x.denominator // math.gcd(denominator, x.denominator)
        numerator = 0
        for x in bt[j]:
            numerator = math.gcd(numerator, (x * denominator).numerator)
        scale = Fraction(denominator, numerator or 1)
        bt[j] = [x * scale for x in bt[j]]
        g[j] = [x / scale for x in g[j]]
    return bt, g, at


def check(m, r, points, trials=100):
    bt, g, at = matrices(m, r, points)
    n = m + r - 1
    for _ in range(trials):
        taps = [Fraction(random.randint(-9, 9)) for _ in range(r)]
        cells = [Fraction(random.randint(-9, 9)) for _ in range(n)]
        u = [sum(g[j][k] * taps[k] for k in range(r)) for j in range(n)]
        v = [sum(bt[j][k] * cells[k] for k in range(n)) for j in range(n)]
        y = [sum(at[i][j] * u[j] * v[j] for j in range(n)) for i in range(m)]
        assert y == [sum(taps[k] * cells[i + k] for k in range(r)) for i in range(m)]
    return bt, g, at


if __name__ == "__main__":
    six = [0, 1, -1, 2, -2]
    eight = [0, 1, -1, 2, -2, Fraction(1, 2), Fraction(-1, 2)]
    ten = eight + [Fraction(3, 2), Fraction(-3, 2)]
    for m, r, points in [(4, 3, six), (4, 5, eight), (4, 7, ten)]:
        bt, g, at = check(m, r, points)
        print(f"F({m}, {r}), points {[str(p) for p in points]} and infinity")
        for name, matrix in (("Bt", bt), ("G", g), ("At", at)):
            print(f"  {name}:")
            for row in matrix:
                print("    " + " ".join(f"{str(x):>7}" for x in row))
