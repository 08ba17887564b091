import sys
import time

from django.core.management.base import BaseCommand, CommandError
from django.db import DatabaseError

from providers.models import Provider
from tangshan_portal.scale import DEFAULTS, Sizes, seed_scale


class Command(BaseCommand):
    help = (
        "Load bulk test data at national scale (providers, pilot enterprises, contracts, survey answers, "
        "rectification cases, the blacklist) for benchmarks: COPY on PostgreSQL, batched INSERTs elsewhere, "
        "in one transaction. Deterministic for a given --seed and day. Refuses a database that already holds "
        "providers unless --append is given. Never run it on a production database."
    )

    def add_arguments(self, parser):
        for name, default in DEFAULTS.items():
            parser.add_argument(
                f"--{name}", type=int, default=None, help=f"how many {name} to create (default {default:,} × --scale)"
            )
        parser.add_argument("--scale", type=float, default=1.0, help="multiply every default size (default 1)")
        parser.add_argument("--seed", type=int, default=1, help="seed of the random data (default 1)")
        parser.add_argument("--append", action="store_true", help="add to a database that already has providers")
        parser.add_argument("--no-progress", action="store_true", help="no progress bars")

    def handle(self, *args, scale, seed, append, no_progress, **options):
        if scale < 0:
            raise CommandError("--scale cannot be negative.")
        sizes = Sizes.from_options(scale=scale, **{name: options[name] for name in DEFAULTS})
        problems = sizes.problems()
        if problems:
            raise CommandError("; ".join(problems) + ".")
        if not append and Provider.objects.exists():
            raise CommandError(
                f"The database already holds {Provider.objects.count():,} providers. seed_scale is meant for an "
                "empty (freshly migrated) database; run it with --append to add to the data anyway."
            )
        progress = not no_progress and sys.stderr.isatty()
        self.stdout.write(
            "Seeding " + ", ".join(f"{name} {value:,}" for name, value in vars(sizes).items()) + f" (seed {seed}) …"
        )
        started = time.perf_counter()
        try:
            result = seed_scale(sizes=sizes, seed=seed, progress=progress, stream=sys.stderr)
        except DatabaseError as exc:
            raise CommandError(f"Nothing was written: the database refused the data ({exc}).") from exc
        seconds = time.perf_counter() - started
        width = max(len(label) for label in [*result.counts, *result.seconds])
        for label, count in result.counts.items():
            took = result.seconds.get(label)
            self.stdout.write(f"  {label:<{width}}  {count:>10,}" + (f"  {took:7.2f} s" if took is not None else ""))
        for label, took in result.seconds.items():
            if label not in result.counts:
                self.stdout.write(f"  {label:<{width}}  {'':>10}  {took:7.2f} s")
        self.stdout.write(self.style.SUCCESS(f"Created in {seconds:.1f} s."))
