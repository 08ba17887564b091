"""Forms of the provider's self-service pages. They check input only; the services decide what the case allows."""

from django import forms
from django.core.exceptions import ValidationError
from django.template.defaultfilters import filesizeformat
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from tangshan_portal.forms import MultipleFileField
from tangshan_portal.services import MAX_UPLOAD_BYTES, upload_check

MAX_REPORT_FILES = 10
MAX_TEXT_LENGTH = 10000


class StatementForm(forms.Form):
    """The provider states its case against a warning or a proposed revocation."""

    statement = forms.CharField(
        label=_("Your statement"),
        max_length=MAX_TEXT_LENGTH,
        widget=forms.Textarea(attrs={"rows": 6}),
        help_text=_("Explain the facts and, where you disagree with the finding, why."),
    )


class RectificationReportForm(forms.Form):
    report = forms.CharField(
        label=_("Rectification report"),
        max_length=MAX_TEXT_LENGTH,
        widget=forms.Textarea(attrs={"rows": 8}),
        help_text=_("Describe what was rectified, how and when."),
    )
    files = MultipleFileField(
        label=_("Attachments"),
        required=False,
    )

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        # Built per request so that it is in the user's language and follows the upload policy.
        self.fields["files"].help_text = gettext(
            "Optional, up to %(count)s files: PDF, PNG or JPEG images, or Office documents, each at most %(size)s."
        ) % {"count": MAX_REPORT_FILES, "size": filesizeformat(MAX_UPLOAD_BYTES)}

    def clean_files(self):
        files = self.cleaned_data.get("files") or []
        if len(files) > MAX_REPORT_FILES:
            raise ValidationError(
                gettext("Attach at most %(count)s files.") % {"count": MAX_REPORT_FILES}, code="too_many_files"
            )
        errors = []
        for uploaded in files:
            try:
                upload_check(uploaded)
            except ValidationError as exc:
                errors.extend(exc.error_list)
        if errors:
            raise ValidationError(errors)
        return files
