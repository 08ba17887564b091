"""Forms of the provider's pages on complaints and appeals. They check input only; the services decide what the
complaint or the disputed record allows."""

from django import forms
from django.core.exceptions import ValidationError
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from .models import AppealType

MAX_TEXT_LENGTH = 10000


class ComplaintResponseForm(forms.Form):
    response = forms.CharField(
        label=_("Your response"),
        max_length=MAX_TEXT_LENGTH,
        widget=forms.Textarea(attrs={"rows": 6}),
        help_text=_("State the facts as you see them. The bureau reads your response before it concludes."),
    )


class AppealForm(forms.Form):
    """Grounds for every type; a requested new deadline only for a missed deadline (Art 16(1))."""

    grounds = forms.CharField(
        label=_("Grounds of the appeal"),
        max_length=MAX_TEXT_LENGTH,
        widget=forms.Textarea(attrs={"rows": 8}),
        help_text=_("Explain which facts or grounds of the decision you dispute and why; name your evidence."),
    )
    requested_deadline = forms.DateField(
        label=_("Requested new deadline"),
        widget=forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d"),
        help_text=_("The deadline you ask for, as YYYY-MM-DD."),
    )

    def __init__(self, *args, appeal_type, **kwargs):
        super().__init__(*args, **kwargs)
        self.appeal_type = appeal_type
        if appeal_type != AppealType.DIAGNOSIS_DELAYED:
            del self.fields["requested_deadline"]

    def clean_requested_deadline(self):
        deadline = self.cleaned_data["requested_deadline"]
        if deadline <= timezone.localdate():
            raise ValidationError(_("Ask for a deadline after today."), code="deadline_past")
        return deadline
