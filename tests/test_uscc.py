import pytest
from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction

from providers.models import Provider, ProviderType
from tangshan_portal.validators import normalize_uscc, validate_uscc

VALID = ["914403001922038216", "91350100M000100Y43"]


@pytest.mark.parametrize("code", VALID)
def test_valid_codes_pass(code):
    validate_uscc(code)


@pytest.mark.parametrize(
    ("code", "fragment"),
    [
        ("91350100M000100Y4Z", "不是有效的统一社会信用代码"),
        ("91350100M000100Y44", "校验位"),
        ("9135010", "18"),
    ],
)
def test_invalid_codes_are_refused_in_chinese(code, fragment):
    with pytest.raises(ValidationError) as excinfo:
        validate_uscc(code)
    assert fragment in " ".join(excinfo.value.messages)


def test_full_width_lower_case_and_spaces_are_normalised():
    assert normalize_uscc("９１３５０１００ｍ０００１００ｙ４３") == "91350100M000100Y43"
    assert normalize_uscc(" 91350100-m000100y43 ") == "91350100M000100Y43"
    validate_uscc("９１３５０１００ｍ０００１００ｙ４３")


def _provider(**kwargs):
    values = {
        "name": "测试服务商",
        "uscc": "91350100M000100Y43",
        "legal_representative": "张三",
        "address": "路南区",
        "provider_type": ProviderType.INTEGRATED,
    }
    values.update(kwargs)
    return Provider(**values)


@pytest.mark.django_db
def test_full_clean_refuses_an_invalid_code_with_a_chinese_message():
    provider = _provider(uscc="91350100M000100Y4Z")
    with pytest.raises(ValidationError) as excinfo:
        provider.full_clean()
    assert "统一社会信用代码" in " ".join(excinfo.value.message_dict["uscc"])


@pytest.mark.django_db
def test_full_clean_stores_the_normalised_code():
    provider = _provider(uscc="９１３５０１００ｍ０００１００ｙ４３")
    provider.full_clean()
    provider.save()
    assert Provider.objects.get().uscc == "91350100M000100Y43"


@pytest.mark.django_db
def test_duplicate_code_is_refused_by_the_database():
    _provider().save()
    with pytest.raises(IntegrityError), transaction.atomic():
        # Written in another spelling: normalisation must make the database see the duplicate.
        _provider(name="另一家", uscc="91350100m000100y43").save()


@pytest.mark.django_db
def test_malformed_code_is_refused_by_the_database_even_without_validation():
    with pytest.raises(IntegrityError), transaction.atomic():
        Provider.objects.bulk_create([_provider(uscc="91350100M000100Y4Z")])
