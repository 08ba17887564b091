"""Unified Social Credit Code (统一社会信用代码, GB 32100-2015) handling, built on python-stdnum."""

import unicodedata

from django.core.exceptions import ValidationError
from django.utils.translation import gettext_lazy as _
from stdnum import exceptions as stdnum_exceptions
from stdnum.cn import uscc

# The same alphabet the check digit is computed over; used for the database CHECK constraint.
USCC_DB_REGEX = r"^[0-9]{8}[0-9A-HJ-NPQRTUWXY]{10}$"


def normalize_uscc(value):
    """Fold full-width characters (common when codes are typed with a Chinese IME), spaces and case."""
    if value is None:
        return value
    folded = unicodedata.normalize("NFKC", str(value))
    return "".join(folded.split()).replace("-", "").upper()


def validate_uscc(value):
    try:
        uscc.validate(normalize_uscc(value))
    except stdnum_exceptions.InvalidLength:
        raise ValidationError(_("A Unified Social Credit Code has 18 characters."), code="uscc_length") from None
    except stdnum_exceptions.InvalidChecksum:
        raise ValidationError(
            _("The check digit of this Unified Social Credit Code is wrong; please check the code."),
            code="uscc_checksum",
        ) from None
    except stdnum_exceptions.ValidationError:
        raise ValidationError(
            _(
                "This is not a valid Unified Social Credit Code: eight digits, then nine digits or capital "
                "letters (not I, O, S, V, Z), then a check character."
            ),
            code="uscc_format",
        ) from None
