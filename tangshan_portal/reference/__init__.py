"""Reference data loaded into the database: the city's counties (from settings) and the Art 5 scenarios."""

import json
from pathlib import Path

SCENARIOS_FILE = Path(__file__).with_name("scenarios.json")


def load_counties(apps=None):
    """Create or rename the counties listed in settings.PORTAL_COUNTIES; never deletes one in use."""
    from django.conf import settings

    County = _model(apps, "portal", "County")
    for code, name in settings.PORTAL_COUNTIES:
        County.objects.update_or_create(code=code, defaults={"name": name})


def load_scenarios(apps=None):
    Scenario = _model(apps, "portal", "Scenario")
    rows = json.loads(SCENARIOS_FILE.read_text(encoding="utf-8"))
    for order, row in enumerate(rows, start=1):
        Scenario.objects.update_or_create(
            code=row["code"], defaults={"family": row["family"], "name": row["name"], "sort_order": order}
        )


def _model(apps, app_label, name):
    if apps is None:
        from django.apps import apps as global_apps

        apps = global_apps
    return apps.get_model(app_label, name)
