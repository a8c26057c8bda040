"""Population figures (printed, not asserted): generating and storing a large world, and lookups.

    .venv/bin/python benchmarks/bench_population.py [households] [professionals]

Goal (issue 3): 100,000 patients and 20,000 professionals generated and stored in under 60 s on
a 2-core machine; lookup of a patient by traits or matricule under 1 ms.
"""

from __future__ import annotations

import sys
import tempfile
import time
from pathlib import Path

from mocks.kernel import Sandbox
from mocks.testing import make_config


def main() -> None:
    households = int(sys.argv[1]) if len(sys.argv) > 1 else 60000
    professionals = int(sys.argv[2]) if len(sys.argv) > 2 else 20000
    with tempfile.TemporaryDirectory() as tmp:
        config = make_config(
            Path(tmp),
            population_households=households,
            population_professionals=professionals,
            population_structures=2000,
        )
        started = time.perf_counter()
        pop = Sandbox(config).population
        pop.ensure()
        built = time.perf_counter() - started
        patients = pop.patients()
        started = time.perf_counter()
        again = Sandbox(config).population
        again.ensure()
        read = time.perf_counter() - started
        sample = patients[:: max(1, len(patients) // 2000)]
        started = time.perf_counter()
        for p in sample:
            again.by_traits(p.nom, p.sexe, p.date_naissance)
            again.by_matricule(p.matricule)
        lookup = (time.perf_counter() - started) / (2 * len(sample))
    print(
        f"world: {len(patients):,} patients, {len(pop.professionals()):,} professionals, {len(pop.structures()):,} structures"
    )
    print(
        f"generated and stored in {built:.1f} s   (goal < 60 s for 100,000 patients and 20,000 professionals)"
    )
    print(f"read back by another process's start in {read:.1f} s")
    print(f"lookup by traits or matricule: {lookup * 1e6:.1f} µs   (goal < 1 ms)")


if __name__ == "__main__":
    main()
