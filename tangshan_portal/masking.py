"""Masking of personal data in lists and exports (issue 8, item 3; Art 10(1) "least privilege").

Phone numbers, contact persons' names and e-mail addresses are shown in admin change lists and written to XLSX
exports only to users holding `portal.view_personal_data` (granted by role in roles.py, to those who contact
people as part of their work); everyone else sees a masked value that still tells rows apart ("138****5678").
A staff member who may edit a record keeps the real value on its change form, since a form cannot be corrected
blind; a view-only change form is masked like the list.

Masking is for display only: the stored value is untouched, and nothing here filters or searches by a masked
field (phone fields are encrypted at rest and cannot be searched anyway).
"""

from django.contrib import admin

PERSONAL_DATA_PERMISSION = "portal.view_personal_data"
MASK = "*"


def may_see_personal_data(user):
    """Whether this user sees personal data unmasked in lists and exports."""
    return bool(
        user is not None and user.is_authenticated and user.is_active and user.has_perm(PERSONAL_DATA_PERMISSION)
    )


def mask_phone(value):
    """A phone number with its middle masked: "13812345678" -> "138****5678". The first three and the last four
    digits stay, every digit between them is masked and separators are kept ("0315-2345678" -> "031*-***5678");
    a number of fewer than eight digits keeps only its last two."""
    text = "" if value is None else str(value).strip()
    digits = [i for i, char in enumerate(text) if char.isdigit()]
    if not digits:
        return MASK * len(text)
    keep_head, keep_tail = (3, 4) if len(digits) >= 8 else (0, 2)
    visible = set(digits[:keep_head]) | set(digits[len(digits) - keep_tail :])
    return "".join(char if (not char.isdigit() or i in visible) else MASK for i, char in enumerate(text))


def mask_name(value):
    """A person's name: the first character stays, every other letter is masked ("王小明" -> "王**", "John Smith"
    -> "J*** *****"); spaces and punctuation are kept so the length of each part still shows."""
    text = "" if value is None else str(value).strip()
    if not text:
        return ""
    return text[0] + "".join(MASK if char.isalnum() else char for char in text[1:])


def mask_email(value):
    """An e-mail address with its local part masked: "zhang.san@example.com" -> "z***@example.com". The domain
    stays: it names the organisation, not the person."""
    text = "" if value is None else str(value).strip()
    if not text:
        return ""
    local, at, domain = text.rpartition("@")
    if not at:
        return mask_name(text)
    return f"{local[:1]}{MASK * 3}@{domain}"


# The personal fields of the registry models and how each is masked.
CONTACT_FIELDS = {"contact_name": mask_name, "contact_phone": mask_phone, "contact_email": mask_email}


def _masked_display(field_name, masker, label):
    def masked(obj):
        return masker(getattr(obj, field_name, "")) or "—"

    masked.__name__ = f"{field_name}_masked"
    return admin.display(description=label)(masked)


class PersonalDataAdminMixin:
    """Masks personal data for users without PERSONAL_DATA_PERMISSION: in the change list, in XLSX exports (the
    resource masks, see PersonalDataResourceMixin) and, unless `mask_view_only_forms` is off, on the change form
    of a record the user may only view. Whoever may edit the record sees the real value on its form.

    `personal_data_fields` maps model fields to their masking function (each gets a "<field>_masked" display);
    `personal_data_displays` maps the admin's own display methods that show personal data to masked twins the
    admin defines. Place the mixin before the import/export mixin and ModelAdmin in the bases."""

    personal_data_fields = {}
    personal_data_displays = {}
    mask_view_only_forms = True

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        # "<field>_masked": what the list and a view-only form show instead of the field.
        for name, masker in self.personal_data_fields.items():
            label = self.model._meta.get_field(name).verbose_name
            setattr(self, f"{name}_masked", _masked_display(name, masker, label))

    def _masked_names(self):
        return {
            **{name: f"{name}_masked" for name in self.personal_data_fields},
            **self.personal_data_displays,
        }

    def _swap(self, names):
        masked = self._masked_names()
        swapped = []
        for entry in names:
            if isinstance(entry, (list, tuple)):
                swapped.append(tuple(self._swap(entry)))
            else:
                swapped.append(masked.get(entry, entry) if isinstance(entry, str) else entry)
        return swapped

    def get_list_display(self, request):
        names = super().get_list_display(request)
        return names if may_see_personal_data(request.user) else self._swap(names)

    def get_list_display_links(self, request, list_display):
        links = super().get_list_display_links(request, list_display)
        return links if links is None or may_see_personal_data(request.user) else self._swap(links)

    def _masks_form(self, request, obj):
        return (
            self.mask_view_only_forms
            and obj is not None
            and not may_see_personal_data(request.user)
            and not self.has_change_permission(request, obj)
        )

    def get_fieldsets(self, request, obj=None):
        fieldsets = super().get_fieldsets(request, obj)
        if not self._masks_form(request, obj):
            return fieldsets
        # Without declared fieldsets Django lists the read-only fields again at the end: each name once.
        seen = set()

        def once(names):
            kept = []
            for name in self._swap(names):
                if isinstance(name, tuple):
                    name = tuple(n for n in name if n not in seen)
                    seen.update(name)
                    if name:
                        kept.append(name)
                elif name not in seen:
                    seen.add(name)
                    kept.append(name)
            return kept

        return [(title, {**options, "fields": once(options.get("fields", ()))}) for title, options in fieldsets]

    def get_readonly_fields(self, request, obj=None):
        fields = list(super().get_readonly_fields(request, obj))
        if self._masks_form(request, obj):
            fields += [name for name in self._masked_names().values() if name not in fields]
        return fields

    def get_export_resource_kwargs(self, request, **kwargs):
        kwargs = super().get_export_resource_kwargs(request, **kwargs)
        kwargs["mask_personal_data"] = not may_see_personal_data(request.user)
        return kwargs


class PersonalDataResourceMixin:
    """An export resource that masks `personal_data_fields` (field name -> masking function) unless it was made
    with `mask_personal_data=False` (PersonalDataAdminMixin passes it for users holding the permission). Masking
    is the default: an export made without saying who asked is masked. Imports are not affected."""

    personal_data_fields = {}

    def __init__(self, **kwargs):
        self.mask_personal_data = kwargs.pop("mask_personal_data", True)
        super().__init__(**kwargs)

    def import_field(self, field, instance, row, is_m2m=False, **kwargs):
        # A masked export read back in (someone edited another column and imported the file) must not overwrite
        # the real value with its mask: a cell equal to the mask of the stored value keeps the stored value.
        masker = self.personal_data_fields.get(field.attribute)
        if masker is not None and field.column_name in row:
            stored = getattr(instance, field.attribute, "") or ""
            cell = row[field.column_name]
            if stored and cell is not None and str(cell).strip() == masker(stored) != stored:
                return None
        return super().import_field(field, instance, row, is_m2m=is_m2m, **kwargs)

    def export_resource(self, instance, selected_fields=None, **kwargs):
        values = super().export_resource(instance, selected_fields=selected_fields, **kwargs)
        if not self.mask_personal_data:
            return values
        fields = self.get_export_fields(selected_fields)
        return [
            self.personal_data_fields[field.attribute](value) if field.attribute in self.personal_data_fields else value
            for field, value in zip(fields, values, strict=True)
        ]


__all__ = [
    "CONTACT_FIELDS",
    "PERSONAL_DATA_PERMISSION",
    "PersonalDataAdminMixin",
    "PersonalDataResourceMixin",
    "mask_email",
    "mask_name",
    "mask_phone",
    "may_see_personal_data",
]
