from django.db import models
from django.utils.translation import gettext_lazy as _

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
