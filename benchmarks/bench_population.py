"""Population figures (printed, not asserted): generating and storing a large world, restarting
on it, and lookups.

    .venv/bin/python benchmarks/bench_population.py [households] [professionals]

Goals: issue 3, 100,000 patients and 20,000 professionals generated and stored in under 60 s on
a 2-core machine, a patient looked up by traits or matricule under 1 ms; issue 11, a restart on
that world (another process reading it back) no slower than the cold build and within its memory.
The build and the restart each run in a fresh process, so that each one's peak memory is its own.
"""

from __future__ import annotations

import json
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from mocks.kernel import Sandbox
from mocks.testing import make_config


def _sandbox(data: Path, households: int, professionals: int) -> Sandbox:
    config = make_config(
        data,
        population_households=households,
        population_professionals=professionals,
        population_structures=2000,
    )
    return Sandbox(config)


def phase(data: Path, households: int, professionals: int) -> None:
    """One start on the data folder (a build if it holds no world): its figures as JSON."""
    started = time.perf_counter()
    pop = _sandbox(data, households, professionals).population
    world = pop.ensure()
    elapsed = time.perf_counter() - started
    figures = {
        "seconds": elapsed,
        "generated": pop.generated_in > 0,
        "max_rss_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
        "patients": len(world.patients),
        "professionals": len(world.professionals),
        "structures": len(world.structures),
    }
    if not figures["generated"]:
        sample = list(world.patients.values())[:: max(1, len(world.patients) // 2000)]
        t0 = time.perf_counter()
        for p in sample:
            pop.by_traits(p.nom, p.sexe, p.date_naissance)
            pop.by_matricule(p.matricule)
        figures["lookup_us"] = (time.perf_counter() - t0) / (2 * len(sample)) * 1e6
    print(json.dumps(figures))


def _run(data: Path, households: int, professionals: int) -> dict[str, float]:
    out = subprocess.run(
        [sys.executable, __file__, "--phase", str(data), str(households), str(professionals)],
        capture_output=True,
        text=True,
        check=True,
    )
    return dict(json.loads(out.stdout.strip().splitlines()[-1]))


def main() -> None:
    if sys.argv[1:2] == ["--phase"]:
        phase(Path(sys.argv[2]), int(sys.argv[3]), int(sys.argv[4]))
        return
    households = int(sys.argv[1]) if len(sys.argv) > 1 else 60000
    professionals = int(sys.argv[2]) if len(sys.argv) > 2 else 20000
    with tempfile.TemporaryDirectory() as tmp:
        built = _run(Path(tmp), households, professionals)
        read = _run(Path(tmp), households, professionals)
    print(
        f"world: {built['patients']:,} patients, {built['professionals']:,} professionals, "
        f"{built['structures']:,} structures"
    )
    print(
        f"generated and stored in {built['seconds']:.1f} s, peak memory {built['max_rss_mb']:.0f} MB"
        "   (goal < 60 s for 100,000 patients and 20,000 professionals)"
    )
    print(
        f"restart (another process reads it back) in {read['seconds']:.1f} s, peak memory "
        f"{read['max_rss_mb']:.0f} MB   (goal: no slower than the build, within its memory)"
    )
    print(f"lookup by traits or matricule: {read['lookup_us']:.1f} µs   (goal < 1 ms)")


if __name__ == "__main__":
    main()
