"""Times linear_collapse.collapse from Python: the seed case and the CIFAR case (median of 20 runs).

    python python/benches/bench.py
"""

import statistics
import time
from pathlib import Path

import numpy as np

import linear_collapse as lc


def median_ms(f, runs=20):
    f()  # warm-up
    times = []
    for _ in range(runs):
        t0 = time.perf_counter()
        f()
        times.append(time.perf_counter() - t0)
    return statistics.median(times) * 1e3


def main():
    seed = Path(__file__).resolve().parent.parent.parent / "tests" / "data" / "seed_conv_fc"
    from safetensors.numpy import load_file

    t = load_file(str(seed / "weights.safetensors"))
    layers = [lc.Conv2d(t["0.weight"], t["0.bias"], stride=2), lc.Flatten(), lc.Linear(t["2.weight"], t["2.bias"])]
    print(f"seed  (5x13x13, Conv2d(5,50,5,s2), Linear(1250,100)):  collapse {median_ms(lambda: lc.collapse(layers, (5, 13, 13))):.3f} ms")

    rng = np.random.default_rng(0)
    conv = lc.Conv2d(rng.standard_normal((64, 3, 3, 3), dtype=np.float32), rng.standard_normal(64, dtype=np.float32), padding=1)
    fc = lc.Linear(rng.standard_normal((10, 65536), dtype=np.float32), rng.standard_normal(10, dtype=np.float32))
    cifar = [conv, lc.Flatten(), fc]
    print(f"cifar (3x32x32, Conv2d(3,64,3,p1), Linear(65536,10)):  collapse {median_ms(lambda: lc.collapse(cifar, (3, 32, 32))):.3f} ms")
    print(f"cifar, accumulate='f64':                               collapse {median_ms(lambda: lc.collapse(cifar, (3, 32, 32), accumulate='f64')):.3f} ms")


if __name__ == "__main__":
    main()
