from django.db import migrations


def forwards(apps, schema_editor):
    from tangshan_portal.reference import load_counties, load_scenarios

    load_counties(apps)
    load_scenarios(apps)


class Migration(migrations.Migration):
    dependencies = [("portal", "0001_initial")]

    operations = [migrations.RunPython(forwards, migrations.RunPython.noop)]
