"""Forms of the consent pages. They check input only; dossiers.services decides what the enterprise may give."""

from datetime import timedelta

from django import forms
from django.conf import settings
from django.utils import timezone
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from .models import ConsentScope
from .services import consent_grantees, consent_latest_day

# What the form proposes as the consent's last day; the enterprise chooses, up to PORTAL_CONSENT_MAX_DAYS.
DEFAULT_CONSENT_DAYS = 90


class DateInput(forms.DateInput):
    input_type = "date"

    def __init__(self, attrs=None):
        super().__init__(attrs, format="%Y-%m-%d")


class ProviderChoiceField(forms.ModelChoiceField):
    def label_from_instance(self, obj):
        return f"{obj.name}（{obj.uscc}）"


class ConsentForm(forms.Form):
    grantee = ProviderChoiceField(
        label=_("Provider"),
        queryset=None,
        empty_label=_("Choose a provider in the resource pool"),
        help_text=_("The provider that may read the parts of your dossier you choose below."),
    )
    purpose = forms.CharField(
        label=_("Purpose"),
        max_length=1000,
        widget=forms.Textarea(attrs={"rows": 3}),
        help_text=_(
            "What the provider may use your information for, e.g. preparing a service offer agreed at a "
            "matchmaking event. It may use it for nothing else (Art 10(1))."
        ),
    )
    scope = forms.MultipleChoiceField(
        label=_("Parts of the dossier shared"),
        choices=ConsentScope.choices,
        widget=forms.CheckboxSelectMultiple,
        help_text=_(
            "Your contracts with other providers, your cooperation intentions and complaints are never shared."
        ),
    )
    valid_until = forms.DateField(label=_("Valid until"), widget=DateInput())

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["grantee"].queryset = consent_grantees()
        today = timezone.localdate()
        latest = consent_latest_day(today)
        self.fields["valid_until"].initial = min(today + timedelta(days=DEFAULT_CONSENT_DAYS), latest)
        self.fields["valid_until"].widget.attrs.update({"min": today.isoformat(), "max": latest.isoformat()})
        # Built per request: in the user's language and with the policy as it is now.
        self.fields["valid_until"].help_text = gettext(
            "The last day the provider may read the shared parts; at most %(days)s days from today. You can revoke "
            "the consent earlier at any time."
        ) % {"days": settings.PORTAL_CONSENT_MAX_DAYS}
