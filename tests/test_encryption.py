"""Encryption at rest (issue 8, item 3; Art 10(1) "encrypted storage"): tangshan_portal/crypto.py, fields.py,
storage.py and `manage.py rotate_encryption_keys`.

Controls guarded, each by a test that fails when the control is removed:
* every sensitive column is stored as SM4-GCM ciphertext (a raw SQL read shows no plaintext) and read back by the
  ORM; the list of encrypted columns is fixed here, so a column that loses its encryption fails;
* a ciphertext is bound to its column and a file to its name (associated data): moved elsewhere it fails;
* a value under an unknown key, or altered, raises DecryptionError — never returned as text;
* lookups other than isnull are refused (the ciphertext is randomised);
* production without keys fails the system check (portal.E020) and encrypts nothing; DEBUG alone derives a
  development key;
* stored files are encrypted on disk, read back as the original bytes, and /media/ serves nothing;
* key rotation: after `rotate_encryption_keys` everything is under the new key and the old key can go;
* the migrations encrypt the values already stored, and their reverse decrypts them.
"""

import base64
import hashlib
import io
import os
import re
from pathlib import Path

import pytest
from cryptography.hazmat.primitives.ciphers import Cipher, algorithms
from django.apps import apps
from django.conf import settings
from django.core.exceptions import FieldError
from django.core.files.base import ContentFile
from django.core.files.storage import default_storage
from django.core.management import call_command
from django.core.management.base import CommandError
from django.db import connection
from django.db.migrations.executor import MigrationExecutor
from django.test import Client

from enterprises.models import DossierSurvey, PilotEnterprise
from providers.models import Provider
from tangshan_portal import crypto
from tangshan_portal.crypto import MAGIC, DecryptionError, KeyConfigurationError, SM4GCMBackend
from tangshan_portal.fields import encrypted_fields
from tangshan_portal.jobs import job_start
from tangshan_portal.models import AuditEvent, BackgroundJob, User
from tangshan_portal.services import attachment_store
from tangshan_portal.storage import EncryptedFileSystemStorage
from tests.factories import PilotEnterpriseFactory, ProviderFactory, UserFactory
from tests.factories_contracts import pdf
from tests.factories_matrix import issued_document
from tests.factories_outreach import DiagnosisFindingFactory, DiagnosisReportFactory, DossierSurveyFactory
from tests.factories_providers import submit_application
from tests.test_deploy_check import run_deploy_check

PHONE = "13912345678"
SECRET = "热处理炉温曲线与淬火介质配比为企业核心工艺秘密"
# A document body with a recognisable plaintext marker.
BODY = b"%PDF-1.4\n% confidential-marker: " + "企业商业秘密".encode() + b"\n1 0 obj\n<< >>\nendobj\n%%EOF\n"


def _key():
    return base64.b64encode(os.urandom(16)).decode()


def _names(obj, field_name):
    quote = connection.ops.quote_name
    meta = obj._meta
    return quote(meta.db_table), quote(meta.get_field(field_name).column), quote(meta.pk.column)


def _raw(obj, field_name):
    """The column as the database holds it, read with SQL (no ORM field in between)."""
    table, column, pk = _names(obj, field_name)
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT {column} FROM {table} WHERE {pk} = %s", [obj.pk])  # noqa: S608 (names from the model)
        return cursor.fetchone()[0]


def _write_raw(obj, field_name, value):
    table, column, pk = _names(obj, field_name)
    with connection.cursor() as cursor:
        cursor.execute(f"UPDATE {table} SET {column} = %s WHERE {pk} = %s", [value, obj.pk])  # noqa: S608 (names from the model)


# --- Every sensitive column -------------------------------------------------------------------------------------

# "app_label.Model.field" -> a function making a record whose field holds the value.
ENCRYPTED_COLUMNS = {
    "portal.User.phone": lambda value: UserFactory(phone=value),
    "providers.Provider.contact_phone": lambda value: ProviderFactory(contact_phone=value),
    "providers.ProviderApplication.contact_phone": lambda value: submit_application(contact_phone=value),
    "enterprises.PilotEnterprise.contact_phone": lambda value: PilotEnterpriseFactory(contact_phone=value),
    "enterprises.DiagnosisReport.summary": lambda value: DiagnosisReportFactory(summary=value),
    "enterprises.DiagnosisFinding.current_state": lambda value: DiagnosisFindingFactory(current_state=value),
    "enterprises.DiagnosisFinding.recommendation": lambda value: DiagnosisFindingFactory(recommendation=value),
    "enterprises.DossierSurvey.production_process": lambda value: DossierSurveyFactory(production_process=value),
    "enterprises.DossierSurvey.supply_chain": lambda value: DossierSurveyFactory(supply_chain=value),
    "enterprises.DossierSurvey.intellectual_property": lambda value: DossierSurveyFactory(intellectual_property=value),
    "enterprises.DossierSurvey.other_core_information": lambda value: DossierSurveyFactory(
        other_core_information=value
    ),
}


def _make(label, value):
    obj = ENCRYPTED_COLUMNS[label](value)
    return obj, label.rsplit(".", 1)[1]


def test_the_encrypted_columns_are_exactly_the_sensitive_ones():
    """A column that loses its encryption, or gains one without a test above, fails here. There is no ID-card
    number anywhere (minimum collection, Art 10(1)): none may be added without being encrypted and listed."""
    found = {
        f"{model._meta.label}.{field.name}"
        for model in apps.get_models()
        if not model._meta.proxy
        for field in encrypted_fields(model)
    }
    assert found == set(ENCRYPTED_COLUMNS)
    for model in apps.get_models():
        for field in model._meta.concrete_fields:
            assert not re.search(r"id_?card|身份证|id_?number|identity_?(card|number|no)", field.name, re.I), field


@pytest.mark.django_db
@pytest.mark.parametrize("label", sorted(ENCRYPTED_COLUMNS))
def test_a_raw_read_of_an_encrypted_column_shows_no_plaintext(label):
    value = PHONE if label.endswith("phone") else SECRET
    obj, field_name = _make(label, value)
    raw = _raw(obj, field_name)
    assert value not in raw and PHONE[-4:] not in raw
    assert raw.startswith("enc1:SM4-GCM:test1:")
    # The ORM reads the plaintext back, for the instance and for values_list alike.
    model = type(obj)
    assert getattr(model.objects.get(pk=obj.pk), field_name) == value
    assert model.objects.filter(pk=obj.pk).values_list(field_name, flat=True).get() == value


@pytest.mark.django_db
def test_the_same_value_is_stored_differently_each_time():
    """A random nonce per value: equal phone numbers cannot be told apart (or counted) in the database."""
    first, second = UserFactory(phone=PHONE), UserFactory(phone=PHONE)
    assert _raw(first, "phone") != _raw(second, "phone")


@pytest.mark.django_db
def test_empty_and_missing_values_stay_empty():
    user = UserFactory(phone="")
    assert _raw(user, "phone") == ""
    assert User.objects.get(pk=user.pk).phone == ""


def test_max_length_still_limits_the_plaintext():
    field = User._meta.get_field("phone")
    assert field.max_length == 30
    assert field.formfield().max_length == 30
    assert field.db_parameters(connection)["type"] == connection.data_types["TextField"]


@pytest.mark.django_db
def test_a_ciphertext_moved_to_another_column_does_not_decrypt():
    survey = DossierSurveyFactory(production_process=SECRET)
    other_survey = DossierSurveyFactory()
    provider = ProviderFactory(contact_phone="0315-7654321")
    user = UserFactory(phone=PHONE)
    # Another field of another row of the same table, and another table's column.
    _write_raw(other_survey, "supply_chain", _raw(survey, "production_process"))
    _write_raw(provider, "contact_phone", _raw(user, "phone"))
    with pytest.raises(DecryptionError, match="failed authentication"):
        DossierSurvey.objects.get(pk=other_survey.pk)
    with pytest.raises(DecryptionError, match="failed authentication"):
        Provider.objects.get(pk=provider.pk)


@pytest.mark.django_db
def test_an_altered_ciphertext_raises_instead_of_returning_text():
    user = UserFactory(phone=PHONE)
    token = _raw(user, "phone")
    head, body = token.rsplit(":", 1)
    sealed = bytearray(base64.b64decode(body))
    sealed[-1] ^= 1
    _write_raw(user, "phone", f"{head}:{base64.b64encode(bytes(sealed)).decode()}")
    with pytest.raises(DecryptionError):
        User.objects.get(pk=user.pk)
    # Plaintext in an encrypted column (written around the field) is refused too, not passed through.
    _write_raw(user, "phone", PHONE)
    with pytest.raises(DecryptionError, match="not encrypted"):
        User.objects.get(pk=user.pk)


@pytest.mark.django_db
def test_a_value_under_an_unknown_key_fails_clearly(settings):
    user = UserFactory(phone=PHONE)
    settings.PORTAL_ENCRYPTION_KEYS = f"other:{_key()}"
    with pytest.raises(DecryptionError) as caught:
        User.objects.get(pk=user.pk)
    message = str(caught.value)
    assert "'test1'" in message and "not in PORTAL_ENCRYPTION_KEYS" in message
    assert _raw(user, "phone") not in message and PHONE not in message
    with pytest.raises(CommandError, match=r"portal\.User\.phone"):
        call_command("rotate_encryption_keys", skip_files=True, stdout=io.StringIO())


@pytest.mark.django_db
def test_lookups_other_than_isnull_are_refused():
    user = UserFactory(phone=PHONE)
    for lookup in ({"phone": PHONE}, {"phone__icontains": "139"}, {"phone__in": [PHONE]}, {"phone__startswith": "1"}):
        with pytest.raises(FieldError, match="encrypted"):
            list(User.objects.filter(**lookup))
    with pytest.raises(FieldError, match="encrypted"):
        list(PilotEnterprise.objects.filter(contact_phone__lower="x"))
    assert User.objects.filter(pk=user.pk, phone__isnull=False).exists()


# --- Keys, backend and the production check -----------------------------------------------------------------


def test_sm4_gcm_matches_the_rfc_8998_test_vector():
    """The default backend is SM4-GCM (GB/T 32907 in GCM), checked against RFC 8998 appendix A.2."""
    backend = SM4GCMBackend()
    key = bytes.fromhex("0123456789ABCDEFFEDCBA9876543210")
    nonce = bytes.fromhex("00001234567800000000ABCD")
    aad = bytes.fromhex("FEEDFACEDEADBEEFFEEDFACEDEADBEEFABADDAD2")
    plaintext = bytes.fromhex("".join(c * 16 for c in "ABCDEFEA"))
    ciphertext = bytes.fromhex(
        "17F399F08C67D5EE19D0DC9969C4BB7D5FD46FD3756489069157B282BB200735"
        "D82710CA5C22F0CCFA7CBF93D496AC15A56834CBCF98C397B4024A2691233B8D"
    )
    tag = bytes.fromhex("83DE3541E4C2B58177E065A9BF7B62EC")
    assert backend.unseal(key, nonce + ciphertext + tag, aad) == plaintext
    assert crypto.key_ring().backend.algorithm == "SM4-GCM"


class AESGCMBackend(SM4GCMBackend):
    """Another backend of the same interface, to show that PORTAL_ENCRYPTION_BACKEND is honoured."""

    algorithm = "AES-128-GCM"

    def _cipher(self, key, mode):
        return Cipher(algorithms.AES(key), mode)


@pytest.mark.django_db
def test_the_backend_is_pluggable_and_a_value_names_its_algorithm(settings):
    settings.PORTAL_ENCRYPTION_BACKEND = "tests.test_encryption.AESGCMBackend"
    user = UserFactory(phone=PHONE)
    assert _raw(user, "phone").startswith("enc1:AES-128-GCM:test1:")
    assert User.objects.get(pk=user.pk).phone == PHONE
    settings.PORTAL_ENCRYPTION_BACKEND = crypto.DEFAULT_BACKEND
    with pytest.raises(DecryptionError, match="AES-128-GCM"):
        User.objects.get(pk=user.pk)


@pytest.mark.django_db
def test_production_without_keys_fails_the_check_and_encrypts_nothing(settings):
    settings.DEBUG = False
    settings.PORTAL_ENCRYPTION_KEYS = ""
    assert [error.id for error in crypto.check_encryption_keys()] == ["portal.E020"]
    # Fails closed: a phone number is refused rather than stored in plaintext.
    with pytest.raises(KeyConfigurationError):
        UserFactory(phone=PHONE)


@pytest.mark.parametrize(
    "keys",
    [
        "k1",  # no key
        "k1:" + base64.b64encode(b"short").decode(),  # wrong length
        "k1:not base64!",
        f"k1:{base64.b64encode(b'0' * 16).decode()},k1:{base64.b64encode(b'1' * 16).decode()}",  # an id twice
        f"bad id:{base64.b64encode(b'0' * 16).decode()}",
    ],
)
def test_malformed_keys_fail_the_check_without_showing_the_key(settings, keys):
    settings.PORTAL_ENCRYPTION_KEYS = keys
    errors = crypto.check_encryption_keys()
    assert [error.id for error in errors] == ["portal.E021"]
    secret = keys.partition(":")[2]
    assert not secret or secret not in errors[0].msg


def test_debug_without_keys_derives_a_development_key_from_the_secret_key(settings):
    settings.DEBUG = True
    settings.PORTAL_ENCRYPTION_KEYS = ""
    ring = crypto.key_ring()
    assert ring.development and ring.key_ids == ["dev"]
    assert crypto.check_encryption_keys() == []
    first = ring.keys[0][1]
    settings.SECRET_KEY = settings.SECRET_KEY + "-other"
    assert crypto.key_ring().keys[0][1] != first


def test_check_deploy_fails_in_production_without_keys(tmp_path):
    result = run_deploy_check(tmp_path, PORTAL_ENCRYPTION_KEYS="")
    assert result.returncode != 0
    assert "portal.E020" in result.stdout + result.stderr


def test_generate_key_prints_a_usable_key(settings):
    out = io.StringIO()
    call_command("rotate_encryption_keys", generate_key=True, stdout=out)
    key = out.getvalue().strip()
    assert len(base64.b64decode(key)) == 16
    settings.PORTAL_ENCRYPTION_KEYS = f"fresh:{key}"
    assert crypto.decrypt_value(crypto.encrypt_value("x", context="c"), context="c") == "x"


# --- Files -------------------------------------------------------------------------------------------------------


def _disk(name):
    return Path(settings.MEDIA_ROOT, name)


@pytest.mark.django_db
def test_an_uploaded_file_is_encrypted_on_disk_and_read_back_whole():
    assert isinstance(default_storage, EncryptedFileSystemStorage)
    survey = DossierSurveyFactory()
    attachment = attachment_store(target=survey, uploaded=pdf("工艺说明.pdf", BODY), by=UserFactory())
    stored = _disk(attachment.file.name).read_bytes()
    assert stored.startswith(MAGIC)
    assert b"confidential-marker" not in stored and "企业商业秘密".encode() not in stored
    with attachment.file.open("rb") as handle:
        assert handle.read() == BODY
    assert attachment.sha256 == hashlib.sha256(BODY).hexdigest()
    assert default_storage.size(attachment.file.name) == len(BODY) == attachment.size


@pytest.mark.django_db
def test_an_issued_document_is_encrypted_and_its_sha256_is_of_the_plaintext(client):
    doc = issued_document(target=ProviderFactory())
    stored = _disk(doc.file.name).read_bytes()
    assert stored.startswith(MAGIC) and b"%PDF" not in stored
    with doc.file.open("rb") as handle:
        plain = handle.read()
    assert hashlib.sha256(plain).hexdigest() == doc.sha256 != hashlib.sha256(stored).hexdigest()


@pytest.mark.django_db
def test_an_import_upload_is_encrypted_while_it_waits_for_its_job():
    job = job_start(
        kind=BackgroundJob.Kind.IMPORT, by=UserFactory(), input_file=ContentFile(b"PK\x03\x04" + BODY, name="a.xlsx")
    )
    assert b"confidential-marker" not in _disk(job.input_file.name).read_bytes()
    with BackgroundJob.objects.get(pk=job.pk).input_file.open("rb") as handle:
        assert handle.read() == b"PK\x03\x04" + BODY


@pytest.mark.django_db
def test_a_file_copied_under_another_name_or_altered_does_not_decrypt():
    name = default_storage.save("attachments/a/original", ContentFile(BODY))
    other = "attachments/b/other"
    _disk(other).parent.mkdir(parents=True, exist_ok=True)
    _disk(other).write_bytes(_disk(name).read_bytes())
    with pytest.raises(DecryptionError):
        default_storage.open(other)
    altered = bytearray(_disk(name).read_bytes())
    altered[-20] ^= 1
    _disk(name).write_bytes(bytes(altered))
    with pytest.raises(DecryptionError):
        default_storage.open(name)


def test_a_file_stored_before_encryption_is_still_read():
    _disk("legacy/old.pdf").parent.mkdir(parents=True, exist_ok=True)
    _disk("legacy/old.pdf").write_bytes(BODY)
    with default_storage.open("legacy/old.pdf") as handle:
        assert handle.read() == BODY
    assert default_storage.size("legacy/old.pdf") == len(BODY)


def test_the_storage_is_never_opened_for_writing_and_a_lost_name_race_is_sealed_for_the_new_name():
    name = default_storage.save("race/a.bin", ContentFile(b"first"))
    with pytest.raises(ValueError, match="save"):
        default_storage.open(name, "wb")
    # _save() under a name that is taken meanwhile: the file lands under the next free name, sealed for it.
    other = default_storage._save(name, ContentFile(b"second"))
    assert other != name
    with default_storage.open(other) as handle:
        assert handle.read() == b"second"
    with default_storage.open(name) as handle:
        assert handle.read() == b"first"
    # A reopened file is decrypted again, not read from a path on disk.
    handle = default_storage.open(other)
    handle.close()
    with handle.open() as reopened:
        assert reopened.read() == b"second"


@pytest.mark.django_db
def test_media_files_are_not_served_by_any_url():
    attachment = attachment_store(target=ProviderFactory(), uploaded=pdf("a.pdf", BODY), by=UserFactory())
    client = Client()
    client.force_login(UserFactory(is_superuser=True, is_staff=True))
    assert client.get(settings.MEDIA_URL + attachment.file.name).status_code == 404


def test_no_code_reads_a_stored_file_by_its_path():
    """FieldFile.path gives the ciphertext: the portal reads stored files through open() only."""
    offenders = []
    for app in ("tangshan_portal", "providers", "enterprises", "evaluations", "complaints", "dossiers", "opendata"):
        for path in Path(settings.BASE_DIR, app).rglob("*.py"):
            text = path.read_text(encoding="utf-8")
            if re.search(r"\b(file|input_file|document)\.path\b", text):
                offenders.append(str(path))
    assert offenders == []


# --- Rotation ------------------------------------------------------------------------------------------------


def _kid(token):
    return crypto.value_header(token).key_id


@pytest.mark.django_db
def test_rotation_moves_everything_to_the_new_key_and_the_old_key_can_go(settings):
    old, new = _key(), _key()
    settings.PORTAL_ENCRYPTION_KEYS = f"old:{old}"
    user = UserFactory(phone=PHONE)
    survey = DossierSurveyFactory(production_process=SECRET)
    attachment = attachment_store(target=survey, uploaded=pdf("工艺.pdf", BODY), by=user)
    # Left from before encryption: a plaintext value and a plaintext file.
    provider = ProviderFactory()
    _write_raw(provider, "contact_phone", "0315-2222333")
    _disk("legacy/old.pdf").parent.mkdir(parents=True, exist_ok=True)
    _disk("legacy/old.pdf").write_bytes(BODY)

    settings.PORTAL_ENCRYPTION_KEYS = f"new:{new},old:{old}"
    assert User.objects.get(pk=user.pk).phone == PHONE  # the old key still decrypts
    assert _kid(_raw(UserFactory(phone=PHONE), "phone")) == "new"  # the new key encrypts
    out = io.StringIO()
    call_command("rotate_encryption_keys", batch_size=2, stdout=out)
    assert _kid(_raw(user, "phone")) == _kid(_raw(survey, "production_process")) == "new"
    assert _kid(_raw(provider, "contact_phone")) == "new"
    for name in (attachment.file.name, "legacy/old.pdf"):
        assert default_storage.stored_header(name).key_id == "new"
    assert "0 failed" in out.getvalue()
    event = AuditEvent.objects.filter(action=AuditEvent.Action.ENCRYPTION_ROTATED).latest("sequence")
    assert event.detail["key_id"] == "new" and event.detail["values"]["encrypted"] == 1
    assert event.detail["values"]["reencrypted"] >= 3 and event.detail["files"]["encrypted"] == 1

    # Running it again changes nothing.
    call_command("rotate_encryption_keys", stdout=io.StringIO())
    again = AuditEvent.objects.filter(action=AuditEvent.Action.ENCRYPTION_ROTATED).latest("sequence")
    assert again.detail["values"] == {"encrypted": 0, "reencrypted": 0, "columns": len(ENCRYPTED_COLUMNS)}
    assert again.detail["files"]["encrypted"] == again.detail["files"]["reencrypted"] == 0

    settings.PORTAL_ENCRYPTION_KEYS = f"new:{new}"  # the old key removed
    assert User.objects.get(pk=user.pk).phone == PHONE
    assert DossierSurvey.objects.get(pk=survey.pk).production_process == SECRET
    assert Provider.objects.get(pk=provider.pk).contact_phone == "0315-2222333"
    with attachment.file.open("rb") as handle:
        assert handle.read() == BODY
    with default_storage.open("legacy/old.pdf") as handle:
        assert handle.read() == BODY


@pytest.mark.django_db
def test_a_dry_run_changes_nothing(settings):
    old = _key()
    settings.PORTAL_ENCRYPTION_KEYS = f"old:{old}"
    user = UserFactory(phone=PHONE)
    settings.PORTAL_ENCRYPTION_KEYS = f"new:{_key()},old:{old}"
    out = io.StringIO()
    call_command("rotate_encryption_keys", dry_run=True, stdout=out)
    assert "would change" in out.getvalue()
    assert _kid(_raw(user, "phone")) == "old"
    assert not AuditEvent.objects.filter(action=AuditEvent.Action.ENCRYPTION_ROTATED).exists()


# --- Migrations ----------------------------------------------------------------------------------------------

ENCRYPTING_APPS = ("portal", "providers", "enterprises")


def _encrypting_migrations():
    """The migrations that make a column encrypted, by app."""
    from django.db.migrations.loader import MigrationLoader

    loader = MigrationLoader(None, ignore_no_migrations=True)
    found = {}
    for (app_label, _name), migration in sorted(loader.disk_migrations.items()):
        if any("Encrypted" in type(getattr(op, "field", None)).__name__ for op in migration.operations):
            found.setdefault(app_label, []).append(migration)
    return found


def _before_encryption():
    """For each app, the migration its first encrypting migration depends on."""
    targets = []
    for app_label, migrations in _encrypting_migrations().items():
        first = migrations[0]
        targets.append(next((app, name) for app, name in first.dependencies if app == app_label))
    return targets


@pytest.mark.django_db(transaction=True)
def test_the_migrations_encrypt_stored_values_and_their_reverse_decrypts():
    user = UserFactory(phone=PHONE)
    enterprise = PilotEnterpriseFactory(contact_phone="0315-1111222")
    survey = DossierSurveyFactory(production_process=SECRET)
    executor = MigrationExecutor(connection)
    executor.migrate(_before_encryption())
    try:
        assert _raw(user, "phone") == PHONE
        assert _raw(enterprise, "contact_phone") == "0315-1111222"
        assert _raw(survey, "production_process") == SECRET
    finally:
        executor = MigrationExecutor(connection)
        executor.migrate(executor.loader.graph.leaf_nodes())
    assert _raw(user, "phone").startswith("enc1:") and _raw(survey, "production_process").startswith("enc1:")
    assert User.objects.get(pk=user.pk).phone == PHONE
    assert PilotEnterprise.objects.get(pk=enterprise.pk).contact_phone == "0315-1111222"
    assert DossierSurvey.objects.get(pk=survey.pk).production_process == SECRET


def test_the_migrations_declare_the_encryption_of_existing_rows():
    """Each migration that makes a column encrypted also encrypts what the column already holds."""
    from django.db.migrations import RunPython

    found = _encrypting_migrations()
    assert set(found) == set(ENCRYPTING_APPS)
    for migrations in found.values():
        for migration in migrations:
            assert isinstance(migration.operations[-1], RunPython), migration.name
            assert migration.operations[-1].reversible
