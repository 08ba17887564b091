"""The password policy (issue 8, classified protection level 3: identity authentication).

Django's own validators cover the length, common passwords and similarity to the account's details; the two
here add what the level-3 scheme asks beyond them: a mix of character kinds, and no reuse of recent passwords.
The numbers come from the PORTAL_PASSWORD_* settings, so each city sets its own policy.

Every password set through `User.set_password` and saved reaches `password_changed` below (Django calls it for
each configured validator after the save): that is where the history is written and the age restarts, whatever
form or command changed it.
"""

from datetime import UTC, datetime, timedelta

from django.conf import settings
from django.contrib.auth.hashers import check_password
from django.core.exceptions import ValidationError
from django.utils import timezone
from django.utils.translation import ngettext

# What counts as a "symbol": anything that is not an ASCII letter or digit, so a Chinese character or a space
# counts too. The scheme asks for variety, and refusing characters would only push people to weaker passwords.
CHARACTER_CLASSES = (
    ("upper", lambda c: "A" <= c <= "Z"),
    ("lower", lambda c: "a" <= c <= "z"),
    ("digit", lambda c: "0" <= c <= "9"),
    ("symbol", lambda c: not ("A" <= c <= "Z" or "a" <= c <= "z" or "0" <= c <= "9")),
)


def character_classes(password):
    """The kinds of characters in the password: a subset of upper, lower, digit, symbol."""
    return {name for name, test in CHARACTER_CLASSES if any(test(c) for c in password)}


class CharacterClassesValidator:
    """At least `min_classes` of the four kinds: upper-case letters, lower-case letters, digits, symbols."""

    def __init__(self, min_classes=3):
        self.min_classes = min_classes

    def validate(self, password, user=None):
        if len(character_classes(password)) < self.min_classes:
            raise ValidationError(
                ngettext(
                    "This password must mix at least %(min_classes)d kind of characters: upper-case letters, "
                    "lower-case letters, digits and symbols.",
                    "This password must mix at least %(min_classes)d of these kinds of characters: upper-case "
                    "letters, lower-case letters, digits and symbols.",
                    self.min_classes,
                ),
                code="password_too_uniform",
                params={"min_classes": self.min_classes},
            )

    def get_help_text(self):
        return ngettext(
            "Your password must contain at least %(min_classes)d kind of characters: upper-case letters, "
            "lower-case letters, digits and symbols.",
            "Your password must contain at least %(min_classes)d of these kinds of characters: upper-case "
            "letters, lower-case letters, digits and symbols.",
            self.min_classes,
        ) % {"min_classes": self.min_classes}


def recent_password_hashes(user, count):
    """The hashes of the user's last `count` passwords, newest first, the current one included."""
    if count <= 0 or user is None:
        return []
    from .models import PasswordHistory

    # The current password first: an account created before the history existed has no row for it.
    hashes = [user.password] if user.password else []
    if user.pk is not None:
        for stored in PasswordHistory.objects.filter(user_id=user.pk).values_list("password", flat=True)[:count]:
            if stored not in hashes:
                hashes.append(stored)
    return hashes[:count]


def password_history_record(*, user, keep):
    """Write the user's (new) current password hash to the history, keep the newest `keep` rows and restart the
    password's age. The history holds hashes only, and no more of them than the policy needs."""
    from .models import PasswordHistory

    now = timezone.now()
    # An update, not user.save(): this runs inside the user's save (Django's password_changed hook).
    type(user).objects.filter(pk=user.pk).update(password_changed_at=now)
    user.password_changed_at = now
    if keep <= 0:
        PasswordHistory.objects.filter(user_id=user.pk).delete()
        return
    PasswordHistory.objects.create(user_id=user.pk, password=user.password, created_at=now)
    stale = PasswordHistory.objects.filter(user_id=user.pk).values_list("pk", flat=True)[keep:]
    PasswordHistory.objects.filter(pk__in=list(stale)).delete()


class PasswordHistoryValidator:
    """None of the user's last `history` passwords (the current one included) may be chosen again.

    The comparison runs the stored hashes through check_password: the history never holds a password in any
    form that could be read back."""

    def __init__(self, history=5):
        self.history = history

    def validate(self, password, user=None):
        if user is None or self.history <= 0:
            return
        for encoded in recent_password_hashes(user, self.history):
            if check_password(password, encoded):
                raise ValidationError(
                    ngettext(
                        "This password was used recently: it must differ from your last password.",
                        "This password was used recently: it must differ from your last %(count)d passwords.",
                        self.history,
                    ),
                    code="password_reused",
                    params={"count": self.history},
                )

    def password_changed(self, password, user=None):
        if user is not None and user.pk is not None:
            password_history_record(user=user, keep=self.history)

    def get_help_text(self):
        return ngettext(
            "Your password cannot be the same as your last password.",
            "Your password cannot be any of your last %(count)d passwords.",
            self.history,
        ) % {"count": self.history}


# The password_changed_at of a password someone else set: an administrator's reset, or a new account's first
# password (UserAdmin). Whoever set it knows it, so it has expired already, whatever the age policy; the user
# chooses their own before any other page opens. A date no real change can have.
PASSWORD_SET_BY_ADMINISTRATOR = datetime(1970, 1, 1, tzinfo=UTC)


def password_set_by_administrator(user):
    return user.password_changed_at == PASSWORD_SET_BY_ADMINISTRATOR


def password_expires_at(user):
    """When the user's password must be changed, or None when passwords do not expire."""
    if password_set_by_administrator(user):
        return PASSWORD_SET_BY_ADMINISTRATOR
    days = settings.PORTAL_PASSWORD_MAX_AGE_DAYS
    if days <= 0 or user.password_changed_at is None:
        return None
    return user.password_changed_at + timedelta(days=days)


def password_expired(user, now=None):
    expires_at = password_expires_at(user)
    return expires_at is not None and (now or timezone.now()) >= expires_at
