"""Bring every encrypted value and every stored file under the current encryption key (tangshan_portal.crypto).

Key rotation: put the new key first in PORTAL_ENCRYPTION_KEYS and keep the old ones after it, restart the
portal, run this command, then remove the old keys. Values and files already under the first key are left
alone, so an interrupted run is finished by running it again. Files stored before the storage encrypted are
encrypted too (also files no row points at any more). Every run that writes is recorded in the audit log.
"""

from django.apps import apps
from django.core.files.storage import default_storage
from django.core.management.base import BaseCommand, CommandError
from django.db import DEFAULT_DB_ALIAS

from tangshan_portal.audit import record_event
from tangshan_portal.crypto import DecryptionError, EncryptionError, generate_key, key_ring, needs_rotation
from tangshan_portal.fields import encrypted_fields, reencrypt_column
from tangshan_portal.models import AuditEvent
from tangshan_portal.storage import EncryptedFileSystemStorage

SOURCE = "manage.py rotate_encryption_keys"


class Command(BaseCommand):
    help = (
        "Re-encrypt every encrypted database value and stored file that is not under the first key of "
        "PORTAL_ENCRYPTION_KEYS (and encrypt files stored before encryption), in batches. Safe to run again."
    )

    def add_arguments(self, parser):
        parser.add_argument("--batch-size", type=int, default=500, help="Rows per transaction (default 500).")
        parser.add_argument("--dry-run", action="store_true", help="Only count what would be re-encrypted.")
        parser.add_argument("--database", default=DEFAULT_DB_ALIAS, help="The database to work on.")
        parser.add_argument("--skip-files", action="store_true", help="Leave the stored files alone.")
        parser.add_argument(
            "--generate-key",
            action="store_true",
            help="Print a new random key for PORTAL_ENCRYPTION_KEYS and do nothing else.",
        )

    def handle(self, *args, **options):
        if options["generate_key"]:
            self.stdout.write(generate_key())
            return
        if options["batch_size"] < 1:
            raise CommandError("--batch-size must be at least 1.")
        try:
            ring = key_ring()
        except EncryptionError as exc:
            raise CommandError(str(exc)) from exc
        dry_run = options["dry_run"]
        self.stdout.write(
            f"Current key: {ring.current_key_id}; keys that decrypt: {', '.join(ring.key_ids)}"
            + (" (development key derived from SECRET_KEY)" if ring.development else "")
        )
        values = self._columns(options["database"], options["batch_size"], dry_run)
        files = {"encrypted": 0, "reencrypted": 0, "unchanged": 0, "failed": 0}
        failed_files = []
        if not options["skip_files"]:
            failed_files = self._files(files, dry_run)
        verb = "would change" if dry_run else "changed"
        self.stdout.write(
            f"Values {verb}: {values['encrypted']} encrypted from plaintext, {values['reencrypted']} re-encrypted "
            f"({values['columns']} columns)."
        )
        if not options["skip_files"]:
            self.stdout.write(
                f"Files {verb}: {files['encrypted']} encrypted from plaintext, {files['reencrypted']} re-encrypted, "
                f"{files['unchanged']} already under {ring.current_key_id}, {files['failed']} failed."
            )
        if not dry_run:
            record_event(
                AuditEvent.Action.ENCRYPTION_ROTATED,
                success=not failed_files,
                key_id=ring.current_key_id,
                key_ids=ring.key_ids,
                values=values,
                files=files,
                source=SOURCE,
            )
        if failed_files:
            raise CommandError(
                "These files could not be decrypted (and were left as they are): " + ", ".join(failed_files[:20])
            )
        if not dry_run:
            self.stdout.write(
                self.style.SUCCESS(
                    f"Everything is under {ring.current_key_id}"
                    + (
                        ": the other keys may now be removed from PORTAL_ENCRYPTION_KEYS."
                        if len(ring.keys) > 1
                        else "."
                    )
                )
            )

    def _columns(self, database, batch_size, dry_run):
        totals = {"encrypted": 0, "reencrypted": 0, "columns": 0}
        for model in apps.get_models():
            if model._meta.proxy or not model._meta.managed:
                continue
            for field in encrypted_fields(model):
                try:
                    counts = reencrypt_column(model, field.name, using=database, batch_size=batch_size, dry_run=dry_run)
                except DecryptionError as exc:
                    raise CommandError(f"{model._meta.label}.{field.name}: {exc}") from exc
                totals["columns"] += 1
                totals["encrypted"] += counts["encrypted"]
                totals["reencrypted"] += counts["reencrypted"]
                if counts["encrypted"] or counts["reencrypted"]:
                    self.stdout.write(
                        f"  {model._meta.label}.{field.name}: {counts['encrypted']} encrypted, "
                        f"{counts['reencrypted']} re-encrypted"
                    )
        return totals

    def _files(self, counts, dry_run):
        storage = default_storage
        if not isinstance(storage, EncryptedFileSystemStorage):
            raise CommandError("STORAGES['default'] is not tangshan_portal.storage.EncryptedFileSystemStorage.")
        failed = []
        for name in storage.stored_names():
            try:
                if dry_run:
                    header = storage.stored_header(name)
                    outcome = None
                    if needs_rotation(header):
                        storage.read_plaintext(name)  # an undecryptable file fails now rather than in the real run
                        outcome = "encrypted" if header is None else "reencrypted"
                else:
                    outcome = storage.reencrypt(name)
            except DecryptionError as exc:
                self.stderr.write(f"  {name}: {exc}")
                counts["failed"] += 1
                failed.append(name)
                continue
            counts[outcome or "unchanged"] += 1
        return failed
