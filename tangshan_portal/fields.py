from django.core.exceptions import FieldError
from django.db import models, transaction
from django.utils.translation import gettext_lazy as _

from .crypto import decrypt_value, encrypt_value, needs_rotation, value_header
from .validators import normalize_uscc, validate_uscc


class USCCField(models.CharField):
    """A Unified Social Credit Code, stored normalised so that uniqueness holds for full-width input too."""

    default_validators = [validate_uscc]
    description = _("Unified Social Credit Code")

    def __init__(self, *args, **kwargs):
        kwargs.setdefault("max_length", 18)
        kwargs.setdefault("verbose_name", _("Unified Social Credit Code"))
        super().__init__(*args, **kwargs)

    def deconstruct(self):
        name, path, args, kwargs = super().deconstruct()
        if kwargs.get("max_length") == 18:
            del kwargs["max_length"]
        return name, path, args, kwargs

    def to_python(self, value):
        return normalize_uscc(super().to_python(value))

    def get_prep_value(self, value):
        return normalize_uscc(super().get_prep_value(value))

    def formfield(self, **kwargs):
        # The form must accept the 18 characters plus spaces or full-width input before normalising.
        kwargs.setdefault("max_length", 40)
        return super().formfield(**kwargs)


# --- Encrypted columns (Art 10(1); tangshan_portal.crypto) -----------------------------------------------------


class EncryptedFieldMixin:
    """Stores the value encrypted (tangshan_portal.crypto) in a text column and decrypts it when read.

    The ciphertext is randomised (a new nonce per save), so the database cannot compare values: every lookup
    except isnull is refused with FieldError instead of silently matching nothing; search, filter and sort in
    Python after reading, or keep a separate non-secret column for it. An empty string is stored as it is (that
    a phone number is missing is not itself confidential), None as NULL.

    The associated data is "field:<app_label>.<model>.<field>": renaming the model or the field makes stored
    values undecryptable, so a rename needs a migration that decrypts under the old name and encrypts again."""

    encrypted = True

    def get_internal_type(self):
        # A text column whatever max_length says: the ciphertext is longer than the text, and max_length keeps
        # checking the plaintext in forms and full_clean().
        return "TextField"

    @property
    def encryption_context(self):
        return f"field:{self.model._meta.label_lower}.{self.name}"

    def from_db_value(self, value, expression, connection):
        if value is None or value == "":
            return value
        return decrypt_value(value, context=self.encryption_context)

    def get_db_prep_value(self, value, connection, prepared=False):
        value = super().get_db_prep_value(value, connection, prepared)
        if value is None or value == "":
            return value
        return encrypt_value(str(value), context=self.encryption_context)

    def get_lookup(self, lookup_name):
        if lookup_name == "isnull":
            return super().get_lookup(lookup_name)
        raise FieldError(
            f"{self.model._meta.label}.{self.name} is encrypted: the database cannot compare its values, so the "
            f"lookup {lookup_name!r} is not supported (only isnull)."
        )

    def get_transform(self, lookup_name):
        raise FieldError(
            f"{self.model._meta.label}.{self.name} is encrypted: the database cannot transform its values "
            f"({lookup_name!r})."
        )


class EncryptedCharField(EncryptedFieldMixin, models.CharField):
    """A short text (a phone number), encrypted at rest; max_length limits the plaintext."""

    description = _("Encrypted text (up to %(max_length)s characters)")


class EncryptedTextField(EncryptedFieldMixin, models.TextField):
    """A long text (a diagnosis, a survey answer), encrypted at rest."""

    description = _("Encrypted text")


def encrypted_fields(model):
    return [field for field in model._meta.concrete_fields if getattr(field, "encrypted", False)]


def _raw(field_name):
    # The column as stored: read through a plain text field, so nothing is decrypted.
    return models.ExpressionWrapper(models.F(field_name), output_field=models.TextField())


def _stored(text):
    # Written as it is: a plain text value bypasses the encrypted field's own encryption.
    return models.Value(text, output_field=models.TextField())


def reencrypt_column(model, field_name, *, using="default", batch_size=500, decrypt=False, dry_run=False):
    """Bring every value of one encrypted column under the current key, in batches of `batch_size` rows.

    Plaintext left from before the column was encrypted is encrypted; values under an older key are decrypted
    and encrypted again; values already under the current key are left alone, so running it again changes
    nothing. With decrypt=True every value is written back as plaintext (a migration's reverse); with dry_run=True
    nothing is written, only counted. Works on the historical models of migrations too. Returns
    {"encrypted": n, "reencrypted": n, "decrypted": n}: the values changed (or to change)."""
    field = model._meta.get_field(field_name)
    context = f"field:{model._meta.label_lower}.{field.name}"
    counts = {"encrypted": 0, "reencrypted": 0, "decrypted": 0}
    manager = model._base_manager.db_manager(using)
    last_pk = None
    while True:
        rows = manager.annotate(_stored_value=_raw(field.attname)).exclude(**{f"{field.attname}__isnull": True})
        if last_pk is not None:
            rows = rows.filter(pk__gt=last_pk)
        batch = list(rows.order_by("pk").values_list("pk", "_stored_value")[:batch_size])
        if not batch:
            return counts
        last_pk = batch[-1][0]
        with transaction.atomic(using=using):
            for pk, stored in batch:
                if stored == "":
                    continue
                header = value_header(stored)
                if decrypt:
                    if header is None:
                        continue
                    new, kind = decrypt_value(stored, context=context), "decrypted"
                elif header is None:
                    new, kind = encrypt_value(stored, context=context), "encrypted"
                elif needs_rotation(header):
                    plain = decrypt_value(stored, context=context)
                    new, kind = encrypt_value(plain, context=context), "reencrypted"
                else:
                    continue
                if dry_run:
                    counts[kind] += 1
                    continue
                # Only if the row still holds what was read: a save in between wins and is not overwritten.
                updated = (
                    manager.filter(pk=pk)
                    .annotate(_stored_value=_raw(field.attname))
                    .filter(_stored_value=stored)
                    .update(**{field.attname: _stored(new)})
                )
                counts[kind] += updated


def encrypt_columns_migration(*labels):
    """RunPython callables (forwards, backwards) for a migration that makes columns encrypted: forwards encrypts
    the plaintext already in them, backwards decrypts it again. `labels` are "app_label.Model.field" names."""

    def _run(apps, schema_editor, decrypt):
        for label in labels:
            app_label, model_name, field_name = label.split(".")
            model = apps.get_model(app_label, model_name)
            reencrypt_column(model, field_name, using=schema_editor.connection.alias, decrypt=decrypt)

    def forwards(apps, schema_editor):
        _run(apps, schema_editor, decrypt=False)

    def backwards(apps, schema_editor):
        _run(apps, schema_editor, decrypt=True)

    return forwards, backwards
