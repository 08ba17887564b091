from django.core.exceptions import ImproperlyConfigured
from django.core.management.base import BaseCommand, CommandError
from django.utils import timezone

from tangshan_portal.audit import purge_expired_events


class Command(BaseCommand):
    help = (
        "Delete audit events older than AUDIT_RETENTION_DAYS (PORTAL_AUDIT_RETENTION_DAYS, at least six months) "
        "from the start of the hash chain, after recording a checkpoint and the purge itself, so that "
        "verify_audit still verifies what remains. Safe to run again after an interruption."
    )

    def add_arguments(self, parser):
        parser.add_argument("--dry-run", action="store_true", help="Only say what would be deleted.")
        parser.add_argument("--batch-size", type=int, default=5000, help="Events deleted per transaction.")

    def handle(self, *args, **options):
        try:
            result = purge_expired_events(
                batch_size=options["batch_size"], dry_run=options["dry_run"], source="manage.py purge_audit"
            )
        except ImproperlyConfigured as exc:
            raise CommandError(str(exc)) from exc
        cutoff = timezone.localtime(result.cutoff)
        kept = f"events from {cutoff:%Y-%m-%d %H:%M:%S %Z} on are kept ({result.retention_days} days)"
        if options["dry_run"]:
            if result.up_to_sequence is None:
                self.stdout.write(f"Nothing to purge: {kept}.")
            else:
                self.stdout.write(
                    f"Would delete {result.planned} event(s) up to sequence {result.up_to_sequence}; {kept}."
                )
            return
        if result.checkpoint is None:
            message = f"Nothing new to purge; {kept}."
            if result.deleted:
                message += f" Finished an interrupted purge: {result.deleted} event(s) deleted."
            self.stdout.write(message)
            return
        self.stdout.write(
            self.style.SUCCESS(
                f"Deleted {result.deleted} event(s) up to sequence {result.up_to_sequence} "
                f"(checkpoint {result.checkpoint.pk}); {kept}."
            )
        )
