"""Population figures (printed, not asserted): generating and storing a large world (the issue's
target: 100,000 patients and 20,000 professionals in under 60 s on a 2-core machine), reading it
back on a restart, and the lookups the services make per request (by traits, by matricule, by
Carte Vitale, professional by idNat_PS).

    python benchmarks/bench_population.py                      # ~100k patients / 20k professionals
    python benchmarks/bench_population.py --households 2000    # quicker

Households carry about 1.35 patients each (an adult and the children on their Carte Vitale), so
the default household count aims at 100,000 patients.
"""

from __future__ import annotations

import argparse
import random
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

from mocks.kernel import Sandbox
from mocks.testing import make_config


def per_call_us(fn: Callable[[int], object], n: int) -> float:
    started = time.perf_counter()
    for i in range(n):
        fn(i)
    return (time.perf_counter() - started) / n * 1e6


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--households", type=int, default=74000)
    parser.add_argument("--professionals", type=int, default=20000)
    parser.add_argument("--structures", type=int, default=1000)
    parser.add_argument("--lookups", type=int, default=20000)
    args = parser.parse_args()
    sizes = {
        "population_households": args.households,
        "population_professionals": args.professionals,
        "population_structures": args.structures,
    }
    with tempfile.TemporaryDirectory() as tmp:
        sandbox = Sandbox(make_config(Path(tmp), **sizes))
        started = time.perf_counter()
        world = sandbox.population.ensure()
        first = time.perf_counter() - started
        print(
            f"first start: generated and stored {len(world.patients):,} patients, "
            f"{len(world.professionals):,} professionals, {len(world.structures):,} structures, "
            f"{len(world.cards):,} cards in {first:.1f} s"
        )
        db = Path(tmp) / "sandbox.db"
        print(f"database: {db.stat().st_size / 1e6:.1f} MB")

        restarted = Sandbox(make_config(Path(tmp), **sizes))  # same configuration: read, not regenerated
        started = time.perf_counter()
        restarted.population.ensure()
        print(f"restart (read back, indexed): {time.perf_counter() - started:.1f} s")

        pop = restarted.population
        rng = random.Random(0)
        patients = pop.patients()
        sample = [patients[rng.randrange(len(patients))] for _ in range(args.lookups)]
        pros = pop.professionals()
        pro_ids = [pros[rng.randrange(len(pros))].id_nat for _ in range(args.lookups)]
        cards = [c.nir_od for c in pop.cards()]
        card_ids = [cards[rng.randrange(len(cards))] for _ in range(args.lookups)]
        n = args.lookups
        traits = per_call_us(
            lambda i: pop.by_traits(sample[i].nom, sample[i].sexe, sample[i].date_naissance), n
        )
        print(f"by_traits:     {traits:8.2f} us per lookup")
        matricule = per_call_us(lambda i: pop.by_matricule(sample[i].ins), n)
        print(f"by_matricule:  {matricule:8.2f} us per lookup")
        card = per_call_us(lambda i: pop.card(card_ids[i]), n)
        print(f"card:          {card:8.2f} us per lookup")
        pro = per_call_us(lambda i: pop.professional(pro_ids[i]), n)
        print(f"professional:  {pro:8.2f} us per lookup")
        search = per_call_us(lambda i: pop.search(sample[i].nom, limit=10), 20)
        print(f"search (scan): {search / 1000:8.2f} ms per search")
        for sb in (sandbox, restarted):
            sb.store.close()


if __name__ == "__main__":
    main()
