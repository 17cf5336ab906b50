"""Chebyshev series for csrc/lowering/special_function_series.h.

Each special function the lowering evaluates natively is split into a few
intervals; on each, a smooth part of it (the function with its logarithmic or
exponential behaviour taken out) is expanded in Chebyshev polynomials of a
variable t in [-1, 1]. The coefficients are computed here from mpmath's
arbitrary-precision values at Chebyshev nodes, and the series is cut where
the terms fall below double precision.

    .venv/bin/python tools/special_function_series.py > csrc/lowering/special_function_series.h
"""
import mpmath as mp

mp.mp.dps = 60
NODES = 120
CUTOFF = mp.mpf("1e-18")


def chebyshev_coefficients(f):
    values = []
    for k in range(NODES):
        theta = mp.pi * (k + mp.mpf(1) / 2) / NODES
        values.append((theta, f(mp.cos(theta))))
    coefficients = []
    for j in range(NODES):
        c = 2 * mp.fsum(v * mp.cos(j * theta) for theta, v in values) / NODES
        coefficients.append(c)
    coefficients[0] /= 2
    scale = max(abs(c) for c in coefficients[:4])
    last = max(j for j, c in enumerate(coefficients) if abs(c) > CUTOFF * scale)
    if last > NODES - 10:
        raise ValueError("series does not converge")
    return coefficients[: last + 1]


def log2(x):
    return mp.log(x / 2)


def besselj_pq(order, x):
    # J = sqrt(2/(pi x)) (P cos(chi) - Q sin(chi)), Y = sqrt(2/(pi x)) (P sin(chi) + Q cos(chi))
    chi = x - (2 * order + 1) * mp.pi / 4
    j, y = mp.besselj(order, x), mp.bessely(order, x)
    scale = mp.sqrt(mp.pi * x / 2)
    return scale * (j * mp.cos(chi) + y * mp.sin(chi)), scale * (y * mp.cos(chi) - j * mp.sin(chi))


def ndtri_far(r):
    # -ndtri(exp(-r^2)): 1 - 2p needs as many digits as p is small
    with mp.workdps(400):
        return +(-mp.sqrt(2) * mp.erfinv(2 * mp.exp(-r * r) - 1))


def airy_negative_fg(x):
    # Ai(-x) = A (sin(z + pi/4) f - cos(z + pi/4) g), Bi(-x) = A (cos(..) f + sin(..) g)
    z = 2 * x ** mp.mpf(1.5) / 3
    a = x ** mp.mpf(-0.25) / mp.sqrt(mp.pi)
    ai, bi = mp.airyai(-x), mp.airybi(-x)
    s, c = mp.sin(z + mp.pi / 4), mp.cos(z + mp.pi / 4)
    return (ai * s + bi * c) / a, (bi * s - ai * c) / a


SERIES = {
    # exp(-x) I0(x), x in [0, 8], t = x / 4 - 1
    "kI0eSmall": lambda t: (lambda x: mp.exp(-x) * mp.besseli(0, x))(4 * (t + 1)),
    # sqrt(x) exp(-x) I0(x), x >= 8, t = 16 / x - 1
    "kI0eLarge": lambda t: (lambda x: mp.sqrt(x) * mp.exp(-x) * mp.besseli(0, x))(16 / (t + 1)),
    # exp(-x) I1(x) / x, x in [0, 8]
    "kI1eSmall": lambda t: (lambda x: mp.exp(-x) * mp.besseli(1, x) / x)(4 * (t + 1)),
    "kI1eLarge": lambda t: (lambda x: mp.sqrt(x) * mp.exp(-x) * mp.besseli(1, x))(16 / (t + 1)),
    # K0(x) + log(x/2) I0(x), x in (0, 2], t = x^2 / 2 - 1
    "kK0Small": lambda t: (lambda x: mp.besselk(0, x) + log2(x) * mp.besseli(0, x))(
        mp.sqrt(2 * (t + 1))),
    # sqrt(x) exp(x) K0(x), x >= 2, t = 4 / x - 1
    "kK0eLarge": lambda t: (lambda x: mp.sqrt(x) * mp.exp(x) * mp.besselk(0, x))(4 / (t + 1)),
    # x K1(x) - x log(x/2) I1(x), x in (0, 2]
    "kK1Small": lambda t: (lambda x: x * mp.besselk(1, x) - x * log2(x) * mp.besseli(1, x))(
        mp.sqrt(2 * (t + 1))),
    "kK1eLarge": lambda t: (lambda x: mp.sqrt(x) * mp.exp(x) * mp.besselk(1, x))(4 / (t + 1)),
    # J0(x), x in [0, 8], t = x^2 / 32 - 1
    "kJ0Small": lambda t: mp.besselj(0, mp.sqrt(32 * (t + 1))),
    # J1(x) / x
    "kJ1Small": lambda t: (lambda x: mp.besselj(1, x) / x)(mp.sqrt(32 * (t + 1))),
    # Y0(x) - (2/pi) log(x/2) J0(x)
    "kY0Small": lambda t: (lambda x: mp.bessely(0, x) - 2 / mp.pi * log2(x) * mp.besselj(0, x))(
        mp.sqrt(32 * (t + 1))),
    # (Y1(x) - (2/pi) (log(x/2) J1(x) - 1/x)) / x
    "kY1Small": lambda t: (lambda x: (mp.bessely(1, x) - 2 / mp.pi * (log2(x) * mp.besselj(1, x)
                                                                        - 1 / x)) / x)(
        mp.sqrt(32 * (t + 1))),
    # the asymptotic amplitudes P and x Q for x >= 8, t = 128 / x^2 - 1
    "kP0": lambda t: besselj_pq(0, mp.sqrt(128 / (t + 1)))[0],
    "kQ0": lambda t: (lambda x: x * besselj_pq(0, x)[1])(mp.sqrt(128 / (t + 1))),
    "kP1": lambda t: besselj_pq(1, mp.sqrt(128 / (t + 1)))[0],
    "kQ1": lambda t: (lambda x: x * besselj_pq(1, x)[1])(mp.sqrt(128 / (t + 1))),
    # erfcx(x), x in [0, 2], t = x - 1
    "kErfcxSmall": lambda t: (lambda x: mp.exp(x * x) * mp.erfc(x))(t + 1),
    # erfcx(x), x in [2, 10], t = (x - 6) / 4
    "kErfcxMiddle": lambda t: (lambda x: mp.exp(x * x) * mp.erfc(x))(4 * t + 6),
    # ndtri(1/2 + q) / q, q^2 in [0, 0.180625], t = 2 q^2 / 0.180625 - 1
    "kNdtriCentral": lambda t: (lambda q: mp.sqrt(2) * mp.erfinv(2 * q) / q)(
        mp.sqrt((t + 1) * mp.mpf("0.180625") / 2)),
    # -ndtri(p) for r = sqrt(-log p) in [sqrt(-log 0.075), 5], t linear in r
    "kNdtriTailNear": lambda t: (lambda r: -mp.sqrt(2) * mp.erfinv(2 * mp.exp(-r * r) - 1))(
        NEAR_LOW + (t + 1) * (5 - NEAR_LOW) / 2),
    # r in [5, 27.5]
    "kNdtriTailFar": lambda t: ndtri_far(5 + (t + 1) * mp.mpf("22.5") / 2),
    # Ai(x), x in [-8, 3], t = (2 x + 5) / 11
    "kAiryMiddle": lambda t: mp.airyai((11 * t - 5) / 2),
    # Ai(x) 2 sqrt(pi) x^(1/4) exp(z), z = 2/3 x^(3/2), x >= 3, t = 2 z(3) / z - 1
    "kAiryPositive": lambda t: (lambda z: (lambda x: mp.airyai(x) * 2 * mp.sqrt(mp.pi)
                                           * x ** mp.mpf(0.25) * mp.exp(z))(
        (mp.mpf(3) * z / 2) ** (mp.mpf(2) / 3)))(2 * AIRY_Z3 / (t + 1)),
    # f and z g of Ai(-x) for x >= 8, t = 2 z(8) / z - 1
    "kAiryNegativeF": lambda t: (lambda z: airy_negative_fg((3 * z / 2) ** (mp.mpf(2) / 3))[0])(
        2 * AIRY_Z8 / (t + 1)),
    "kAiryNegativeG": lambda t: (lambda z: z * airy_negative_fg((3 * z / 2) ** (mp.mpf(2) / 3))[1])(
        2 * AIRY_Z8 / (t + 1)),
}
NEAR_LOW = mp.sqrt(-mp.log(mp.mpf("0.075")))
AIRY_Z3 = 2 * mp.mpf(3) ** mp.mpf(1.5) / 3
AIRY_Z8 = 2 * mp.mpf(8) ** mp.mpf(1.5) / 3


def main():
    import sys
    names = sys.argv[1:] or list(SERIES)
    print("// Generated by tools/special_function_series.py: Chebyshev coefficients")
    print("// c_0, c_1, ... of sum c_j T_j(t); see the script for each function and t.")
    print("#pragma once\n\n#include <array>\n\nnamespace torch_pjrt::lowering::series {\n")
    for name in names:
        c = chebyshev_coefficients(SERIES[name])
        body = ",\n".join("    %s" % mp.nstr(v, 20, min_fixed=0, max_fixed=0) for v in c)
        print("inline constexpr std::array<double, %d> %s = {\n%s};\n" % (len(c), name, body))
    print("}  // namespace torch_pjrt::lowering::series")


if __name__ == "__main__":
    main()
