"""Backup and restore of the database and the stored files (bin/backup, bin/restore; docs/operations.md).

A backup is one directory `portal-<UTC time>` under PORTAL_BACKUP_DIR holding
  database.dump     PostgreSQL: `pg_dump --format=custom` of DATABASE_URL (a consistent snapshot)
  database.sqlite3  SQLite: a copy made with SQLite's online backup API (consistent while the portal runs)
  media.tar         every file under MEDIA_ROOT, as stored: encrypted
  manifest.json     SHA-256 and size of each part, the applied migrations, the audit chain's head, the code's
                    commit, the time, and the ids (never the values) of the encryption keys the data needs.
It is built under a `.partial-` name and renamed when complete, so a directory named `portal-…` is a whole backup.

The encryption keys (PORTAL_ENCRYPTION_KEYS) are NOT in the backup, by design: a stolen backup without the keys
reveals no encrypted field and no file. Without the keys, a restored backup is unreadable. Keep them separately.

Ordering: the audit head and the migration state are read first, then the database is dumped, then the files are
copied. Every event of the head is in the dump (the dump's snapshot is later), and every file a dumped row names
was written before its row was committed, so it is in the copy; a file uploaded during the backup may be in the
copy without a row, which is harmless.
"""

import hashlib
import json
import os
import shutil
import sqlite3
import subprocess
import sys
import tarfile
from datetime import UTC, datetime
from pathlib import Path

KEYS_WARNING = (
    "*** The encryption keys (PORTAL_ENCRYPTION_KEYS) are NOT in this backup. Without the keys with the ids {ids} "
    "the encrypted fields and every stored file of this backup cannot be read. Keep the keys separately, in the "
    "secret store, never next to the backup (docs/operations.md). ***"
)
MANIFEST = "manifest.json"
FORMAT = 1


class BackupError(Exception):
    """A backup or restore that must stop; the message says why, for the operator."""


def sha256_of(path):
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        for chunk in iter(lambda: handle.read(1024 * 1024), b""):
            digest.update(chunk)
    return digest.hexdigest()


def _database():
    from django.conf import settings

    return settings.DATABASES["default"]


def _engine():
    engine = _database()["ENGINE"]
    if engine == "django.db.backends.postgresql":
        return "postgresql"
    if engine == "django.db.backends.sqlite3":
        return "sqlite"
    raise BackupError(f"No backup for the database engine {engine}.")


def _pg_environ():
    """libpq's variables for pg_dump and pg_restore: the password never appears on a command line."""
    db = _database()
    env = dict(os.environ)
    for variable, key in (("PGHOST", "HOST"), ("PGPORT", "PORT"), ("PGUSER", "USER"), ("PGPASSWORD", "PASSWORD")):
        value = db.get(key)
        if value:
            env[variable] = str(value)
        else:
            env.pop(variable, None)
    env["PGDATABASE"] = db["NAME"]
    return env


def _pg_tool(name):
    return shutil.which(name) or f"/usr/bin/{name}"


def _commit():
    from django.conf import settings

    if os.environ.get("PORTAL_COMMIT"):
        return os.environ["PORTAL_COMMIT"]
    try:
        result = subprocess.run(  # noqa: S603 (fixed arguments)
            ["git", "-C", str(settings.BASE_DIR), "rev-parse", "HEAD"],  # noqa: S607 (git from PATH)
            capture_output=True,
            text=True,
            timeout=10,
            check=True,
        )
        return result.stdout.strip()
    except (OSError, subprocess.SubprocessError):
        return "unknown"


def applied_migrations():
    from django.db import connection
    from django.db.migrations.recorder import MigrationRecorder

    return sorted(f"{app}.{name}" for app, name in MigrationRecorder(connection).applied_migrations())


def code_migrations():
    from django.db import connection
    from django.db.migrations.loader import MigrationLoader

    return sorted(
        f"{app}.{name}" for app, name in MigrationLoader(connection, ignore_no_migrations=True).disk_migrations
    )


def audit_head():
    from .models import AuditEvent

    last = AuditEvent.objects.order_by("-sequence").values("sequence", "chain_hash").first()
    return f"{last['sequence']}:{last['chain_hash']}" if last else None


def key_ids():
    from .crypto import key_ring

    return key_ring().key_ids


def _add_media(tar_path, media_root):
    count = 0
    with tarfile.open(tar_path, "w") as tar:
        if media_root.is_dir():
            for path in sorted(media_root.rglob("*")):
                if path.is_file() and not path.is_symlink():
                    tar.add(path, arcname=str(path.relative_to(media_root)), recursive=False)
                    count += 1
    return count


def backup(target_dir, keep=0, out=print):
    """Write one backup under `target_dir`; keep the newest `keep` backups there (0: all). Returns its path."""
    from django.conf import settings

    engine = _engine()
    target_dir = Path(target_dir)
    target_dir.mkdir(parents=True, exist_ok=True)
    now = datetime.now(UTC)
    name = f"portal-{now:%Y%m%dT%H%M%S}Z"
    final = target_dir / name
    if final.exists():
        raise BackupError(f"{final} exists already.")
    partial = target_dir / f".partial-{name}"
    shutil.rmtree(partial, ignore_errors=True)
    # The dump holds every plain column and the audit log: readable by the backup's owner only.
    umask = os.umask(0o077)
    partial.mkdir()
    try:
        manifest = {
            "format": FORMAT,
            "created_at": now.isoformat(),
            "commit": _commit(),
            "engine": engine,
            "migrations": applied_migrations(),
            "audit_head": audit_head(),
            "encryption_key_ids": key_ids(),
            "encryption_keys_included": False,
            "parts": {},
        }
        if engine == "postgresql":
            dump = partial / "database.dump"
            result = subprocess.run(  # noqa: S603 (fixed arguments; the connection comes from the environment)
                [_pg_tool("pg_dump"), "--format=custom", "--file", str(dump)],
                env=_pg_environ(),
                capture_output=True,
                text=True,
            )
            if result.returncode != 0:
                raise BackupError(f"pg_dump failed: {result.stderr.strip()}")
        else:
            dump = partial / "database.sqlite3"
            source = sqlite3.connect(_database()["NAME"])
            copy = sqlite3.connect(dump)
            try:
                with copy:
                    source.backup(copy)
            finally:
                copy.close()
                source.close()
        media_tar = partial / "media.tar"
        manifest["media_files"] = _add_media(media_tar, Path(settings.MEDIA_ROOT))
        for part in (dump, media_tar):
            manifest["parts"][part.name] = {"sha256": sha256_of(part), "bytes": part.stat().st_size}
        (partial / MANIFEST).write_text(json.dumps(manifest, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
        partial.rename(final)
    except BaseException:
        shutil.rmtree(partial, ignore_errors=True)
        raise
    finally:
        os.umask(umask)
    out(f"Backup written: {final}")
    out(f"  database ({engine}), {manifest['media_files']} stored file(s), audit head {manifest['audit_head']}")
    out(KEYS_WARNING.format(ids=", ".join(manifest["encryption_key_ids"])))
    if keep > 0:
        for old in prune(target_dir, keep):
            out(f"Removed old backup (keeping {keep}): {old}")
    return final


def backups_in(target_dir):
    """The complete backups in `target_dir`, oldest first."""
    return sorted(
        path
        for path in Path(target_dir).glob("portal-*")
        if path.is_dir() and (path / MANIFEST).is_file()  # only whole backups, never a partial one
    )


def prune(target_dir, keep):
    old = backups_in(target_dir)[:-keep]
    for path in old:
        shutil.rmtree(path)
    return old


def verify(backup_dir):
    """The manifest, after checking that every part it lists is there, unchanged; BackupError otherwise."""
    backup_dir = Path(backup_dir)
    try:
        manifest = json.loads((backup_dir / MANIFEST).read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        raise BackupError(f"{backup_dir} is not a readable backup (its {MANIFEST}: {exc}).") from exc
    if manifest.get("format") != FORMAT or not manifest.get("parts"):
        raise BackupError(f"{backup_dir}: unknown backup format.")
    expected = {"postgresql": "database.dump", "sqlite": "database.sqlite3"}.get(manifest.get("engine"))
    if expected not in manifest["parts"] or "media.tar" not in manifest["parts"]:
        raise BackupError(f"{backup_dir}: the manifest does not list the database and the media parts.")
    for name, part in manifest["parts"].items():
        path = backup_dir / name
        if Path(name).name != name or not path.is_file():
            raise BackupError(f"{backup_dir}: part {name} is missing.")
        if path.stat().st_size != part["bytes"] or sha256_of(path) != part["sha256"]:
            raise BackupError(f"{backup_dir}: part {name} does not match its SHA-256 in the manifest: refused.")
    return manifest


def _database_is_empty():
    from django.db import connection

    return not connection.introspection.table_names()


def _media_is_empty(media_root):
    return not media_root.exists() or not any(path.is_file() for path in media_root.rglob("*"))


def restore(backup_dir, force=False, out=print):
    """Verify the backup, restore it into DATABASE_URL and MEDIA_ROOT, then verify the audit chain against the
    head the backup recorded. Refuses a database with tables, or files in MEDIA_ROOT, unless `force`."""
    from django.conf import settings
    from django.core.management import call_command
    from django.db import connection

    manifest = verify(backup_dir)
    backup_dir = Path(backup_dir)
    out(f"Checksums verified: {', '.join(sorted(manifest['parts']))}.")
    engine = _engine()
    if manifest["engine"] != engine:
        raise BackupError(f"A {manifest['engine']} backup cannot be restored into a {engine} database.")
    media_root = Path(settings.MEDIA_ROOT)
    if not force:
        if not _database_is_empty():
            raise BackupError(
                f"The database {_database()['NAME']} is not empty: refused (restore into a new database, or pass "
                "--force to replace what the backup contains)."
            )
        if not _media_is_empty(media_root):
            raise BackupError(f"MEDIA_ROOT {media_root} holds files: refused (pass --force to restore over them).")
    missing_keys = sorted(set(manifest["encryption_key_ids"]) - set(key_ids()))
    connection.close()
    if engine == "postgresql":
        result = subprocess.run(  # noqa: S603 (fixed arguments; the connection comes from the environment)
            [
                _pg_tool("pg_restore"),
                "--clean",
                "--if-exists",
                "--no-owner",
                "--exit-on-error",
                "--single-transaction",
                "--dbname",
                _database()["NAME"],
                str(backup_dir / "database.dump"),
            ],
            env=_pg_environ(),
            capture_output=True,
            text=True,
        )
        if result.returncode != 0:
            raise BackupError(f"pg_restore failed (nothing was restored): {result.stderr.strip()}")
    else:
        source = sqlite3.connect(backup_dir / "database.sqlite3")
        target = sqlite3.connect(_database()["NAME"])
        try:
            with target:
                source.backup(target)
        finally:
            target.close()
            source.close()
    out(f"Database restored into {_database()['NAME']}.")
    media_root.mkdir(parents=True, exist_ok=True)
    with tarfile.open(backup_dir / "media.tar") as tar:
        # The "data" filter refuses absolute names, "..", links out of the folder and device files.
        tar.extractall(media_root, filter="data")
    out(f"{manifest['media_files']} stored file(s) restored into {media_root}.")

    anchor = ["--anchor", manifest["audit_head"]] if manifest["audit_head"] else []
    call_command("verify_audit", *anchor, stdout=sys.stdout, stderr=sys.stderr)

    unknown = sorted(set(manifest["migrations"]) - set(code_migrations()))
    newer = sorted(set(code_migrations()) - set(manifest["migrations"]))
    if unknown:
        out(
            f"WARNING: the backup has migrations this code does not know ({', '.join(unknown)}): it comes from a "
            "newer version; deploy that version (its commit is in the manifest) before serving."
        )
    elif newer:
        out(f"This code has {len(newer)} migration(s) the backup predates: run `manage.py migrate` before serving.")
    out(KEYS_WARNING.format(ids=", ".join(manifest["encryption_key_ids"])))
    if missing_keys:
        out(
            f"WARNING: PORTAL_ENCRYPTION_KEYS here lacks the key id(s) {', '.join(missing_keys)}: the restored "
            "encrypted data cannot be read until they are configured."
        )
    return manifest


def main(action, argv):
    """bin/backup and bin/restore: set Django up and run `action` with the parsed arguments."""
    import argparse

    base_dir = Path(__file__).resolve().parent.parent
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "tangshan_portal.settings")
    parser = argparse.ArgumentParser(prog=f"bin/{action}", description=__doc__.split("\n\n")[0])
    if action == "backup":
        parser.add_argument(
            "--dir",
            default=os.environ.get("PORTAL_BACKUP_DIR") or str(base_dir / "var" / "backups"),
            help="Folder of the backups (default: PORTAL_BACKUP_DIR, else var/backups).",
        )
        parser.add_argument(
            "--keep",
            type=int,
            default=int(os.environ.get("PORTAL_BACKUP_KEEP") or 0),
            help="Keep only the newest N backups in the folder after this one (default PORTAL_BACKUP_KEEP; 0: all).",
        )
    else:
        parser.add_argument("backup", help="The backup directory (portal-<time>) that bin/backup wrote.")
        parser.add_argument(
            "--force", action="store_true", help="Restore into a database with tables and over existing files."
        )
    args = parser.parse_args(argv)

    import django

    django.setup()
    from django.core.management.base import CommandError

    try:
        if action == "backup":
            backup(args.dir, keep=args.keep)
        else:
            restore(args.backup, force=args.force)
    except (BackupError, CommandError) as exc:
        print(f"bin/{action}: {exc}", file=sys.stderr)
        return 1
    return 0
