"""Form pieces every app's pages and admin use."""

from django import forms
from django.contrib.admin.widgets import AutocompleteSelect


class MultipleFileInput(forms.FileInput):
    allow_multiple_selected = True


class MultipleFileField(forms.FileField):
    """Several files in one input; cleans to a list (empty when none was chosen)."""

    def __init__(self, *args, **kwargs):
        kwargs.setdefault("widget", MultipleFileInput())
        super().__init__(*args, **kwargs)

    def clean(self, data, initial=None):
        single_clean = super().clean
        if isinstance(data, list | tuple):
            return [single_clean(item, initial) for item in data if item]
        cleaned = single_clean(data, initial)
        return [cleaned] if cleaned else []


class ChoiceListAutocompleteSelect(AutocompleteSelect):
    """The admin's autocomplete, rendered with every choice as an ordinary option: with JavaScript it is the
    usual search box, without it a plain drop-down that still works."""

    def optgroups(self, name, value, attr=None):
        return forms.Select.optgroups(self, name, value, attr)


def put_service_errors(form, error):
    """A service's ValidationError onto the form: on the field it names when the form has it, else on top."""
    if hasattr(error, "error_dict"):
        for field, errors in error.error_dict.items():
            form.add_error(field if field in form.fields else None, errors)
    else:
        form.add_error(None, error)
