from django.db import migrations

DEFAULT_ITEMS = [
    "服务响应及时性",
    "服务人员专业能力",
    "解决方案与企业需求的契合度",
    "项目实施质量与进度",
    "沟通协调与问题处理",
]


def forwards(apps, schema_editor):
    from tangshan_portal.roles import sync_role_groups

    sync_role_groups(apps)
    SurveyItem = apps.get_model("evaluations", "SurveyItem")
    if not SurveyItem.objects.exists():
        SurveyItem.objects.bulk_create(
            SurveyItem(text=text, sort_order=order) for order, text in enumerate(DEFAULT_ITEMS, start=1)
        )


class Migration(migrations.Migration):
    # The role groups receive the complaint, appeal and inspection permissions; the survey starts with the
    # questions the bureau can then edit in the admin.
    dependencies = [
        ("complaints", "0001_initial"),
        ("evaluations", "0003_inspection_surveyanswer_surveyitem_and_more"),
        ("portal", "0007_workcalendarday"),
    ]

    operations = [migrations.RunPython(forwards, migrations.RunPython.noop)]
