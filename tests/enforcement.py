"""Helpers for the Article 12–14 tests: fixed moments in Asia/Shanghai and a case at a given stage."""

from datetime import datetime
from zoneinfo import ZoneInfo

import time_machine

from evaluations import services

SHANGHAI = ZoneInfo("Asia/Shanghai")


def at(year, month, day, hour=10, minute=0):
    return datetime(year, month, day, hour, minute, tzinfo=SHANGHAI)


def travel(moment):
    return time_machine.travel(moment, tick=False)


def warned_case(*, provider, officer, ground=2, finding="服务团队未按合同进驻企业", contract=None):
    case = services.rectification_open(provider=provider, ground=ground, finding=finding, by=officer, contract=contract)
    return services.rectification_warn(case=case, by=officer)


def state_case(case, statement="已知悉，接受整改"):
    """The provider states its case, which lets the officer order rectification before the period ends."""
    from tangshan_portal.roles import Role
    from tests.factories import UserFactory

    staff = UserFactory(role=Role.PROVIDER, organisation=case.provider.organisation)
    return services.rectification_reply(case=case, by=staff, statement=statement)


def ordered_case(*, provider, officer, deadline=None, **kwargs):
    case = state_case(warned_case(provider=provider, officer=officer, **kwargs))
    return services.rectification_order(case=case, by=officer, deadline=deadline)
