"""The public pages' search forms (GET, no login) and the staff forms for announcements and excellent batches."""

from django import forms
from django.utils.translation import get_language
from django.utils.translation import gettext_lazy as _

from evaluations.models import BlacklistEntry, ExcellentBatch, ExcellentEntry
from providers.models import Provider, ProviderType
from tangshan_portal.grounds import ART13_WORDING, CHINESE_NUMERALS, Art13Ground
from tangshan_portal.models import Announcement, County, Scenario, ScenarioFamily

from .selectors import BLACKLIST_SORTS

SEARCH_MAX_LENGTH = 100


def art13_ground_choices():
    """The regulation's own wording in Chinese (it is the legal text); the portal's short label otherwise."""
    if (get_language() or "").startswith("zh"):
        return [(g.value, f"第（{CHINESE_NUMERALS[g.value - 1]}）项：{ART13_WORDING[g.value]}") for g in Art13Ground]
    return list(Art13Ground.choices)


class SearchForm(forms.Form):
    q = forms.CharField(label=_("Name or Unified Social Credit Code"), required=False, max_length=SEARCH_MAX_LENGTH)

    def clean_q(self):
        return " ".join(self.cleaned_data["q"].split())

    def filters(self):
        """The valid filters only: a bad value is reported next to its field and the others still apply."""
        self.is_valid()
        return {name: value for name, value in getattr(self, "cleaned_data", {}).items() if value not in (None, "")}


class BlacklistSearchForm(SearchForm):
    ground = forms.TypedChoiceField(label=_("Ground (Art 13)"), required=False, coerce=int, empty_value=None)
    year = forms.TypedChoiceField(label=_("Decision year"), required=False, coerce=int, empty_value=None)
    status = forms.ChoiceField(
        label=_("Status"),
        required=False,
        choices=[
            ("", _("Any status")),
            (BlacklistEntry.Status.PUBLISHED, BlacklistEntry.Status.PUBLISHED.label),
            (BlacklistEntry.Status.UNDER_APPEAL, BlacklistEntry.Status.UNDER_APPEAL.label),
        ],
    )
    sort = forms.ChoiceField(
        label=_("Sort by"),
        required=False,
        choices=[
            ("-decided_on", _("Decision date, newest first")),
            ("decided_on", _("Decision date, oldest first")),
            ("provider_name", _("Name, A to Z")),
            ("-provider_name", _("Name, Z to A")),
        ],
    )

    def __init__(self, *args, years=(), **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["ground"].choices = [("", _("Any ground")), *art13_ground_choices()]
        self.fields["year"].choices = [("", _("Any year")), *((y, str(y)) for y in years)]

    def clean_sort(self):
        return self.cleaned_data["sort"] if self.cleaned_data["sort"] in BLACKLIST_SORTS else ""


class ProviderSearchForm(SearchForm):
    q = forms.CharField(
        label=_("Name, Unified Social Credit Code or product"), required=False, max_length=SEARCH_MAX_LENGTH
    )
    provider_type = forms.ChoiceField(
        label=_("Provider type"), required=False, choices=[("", _("Any type")), *ProviderType.choices]
    )
    scenario = forms.ChoiceField(label=_("Service scenario"), required=False)
    county = forms.ChoiceField(label=_("County served"), required=False)

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        families = dict(ScenarioFamily.choices)
        grouped = {}
        for scenario in Scenario.objects.order_by("sort_order", "code"):
            grouped.setdefault(scenario.family, []).append((scenario.code, scenario.name))
        self.fields["scenario"].choices = [
            ("", _("Any scenario")),
            *((families.get(family, family), options) for family, options in grouped.items()),
        ]
        self.fields["county"].choices = [
            ("", _("Any county")),
            *County.objects.order_by("code").values_list("code", "name"),
        ]


class AnnouncementFilterForm(forms.Form):
    category = forms.ChoiceField(
        label=_("Category"), required=False, choices=[("", _("All")), *Announcement.Category.choices]
    )

    def filters(self):
        self.is_valid()
        return {k: v for k, v in getattr(self, "cleaned_data", {}).items() if v}


# --- Staff (admin) ------------------------------------------------------------------------------------------


class AnnouncementForm(forms.ModelForm):
    class Meta:
        model = Announcement
        fields = ["title", "category", "body"]
        widgets = {"body": forms.Textarea(attrs={"rows": 14})}
        help_texts = {
            "body": _(
                "Plain text; an empty line starts a new paragraph. A path of this portal such as /blacklist/12/ "
                "becomes a link on the public page."
            )
        }


class ConfirmForm(forms.Form):
    """Nothing to fill in: the button is the confirmation."""


class WithdrawForm(forms.Form):
    reason = forms.CharField(
        label=_("Reason for withdrawal"),
        widget=forms.Textarea(attrs={"rows": 4}),
        max_length=2000,
        help_text=_("Shown on the public page in place of the announcement."),
    )


class ExcellentBatchForm(forms.ModelForm):
    class Meta:
        model = ExcellentBatch
        fields = ["name", "period_start", "period_end", "document_number"]

    def clean(self):
        cleaned = super().clean()
        start, end = cleaned.get("period_start"), cleaned.get("period_end")
        if start and end and end < start:
            self.add_error("period_end", _("The period cannot end before it starts."))
        return cleaned


class ExcellentEntryForm(forms.ModelForm):
    class Meta:
        model = ExcellentEntry
        fields = ["rank", "provider", "score", "citation"]
        widgets = {"citation": forms.Textarea(attrs={"rows": 2, "cols": 50})}

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        # Only a member of the resource pool can be selected as excellent (Art 15).
        self.fields["provider"].queryset = Provider.objects.in_pool().order_by("name")
