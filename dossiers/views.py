"""The one-enterprise-one-dossier page (Art 6(2)): one page that gathers an enterprise's profile, digital-level
history, diagnoses, deep surveys, contracts, matchmaking and training.

Who may see how much is decided by dossiers.selectors.dossier_access; everyone else gets 404. The dossier
holds trade secrets (Art 10(1)), so every view by someone other than the enterprise itself is audited and the
page is never cached."""

from django.contrib.auth.decorators import login_required
from django.http import Http404
from django.shortcuts import get_object_or_404, render
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET

from enterprises.access import enterprise_staff_required
from enterprises.models import PilotEnterprise
from providers.models import Provider
from tangshan_portal.audit import record_event
from tangshan_portal.models import AuditEvent, Organisation

from .selectors import DOSSIER_CONTRACTS, dossier_access, dossier_build, dossier_is_own

AUDIT_ACTION = AuditEvent.Action.DOSSIER_VIEW

# The regulation's own wording, quoted where the page rests on it.
ART_6_1_TARGET = "确保系统能够正常运行并达到二级及以上标准。"
ART_6_2_DOSSIER = "整合生产流程、供应链数据、知识产权等核心信息，形成“一企一档”，为政府决策与企业转型提供数据支撑。"
ART_10_1_PROTECTION = (
    "收集数据遵循最小必要原则，经授权后进行，存储加密并设访问权限，"
    "按约定用途使用，共享需书面同意，结束服务及时安全销毁。"
)
ART_14_FEES = "服务商被清退或未通过验收的，不予支付服务费用，试点企业有权追回该项目预付款项。"


def _render(request, enterprise, access):
    own = dossier_is_own(request.user, enterprise)
    if not own:
        record_event(AUDIT_ACTION, request=request, obj=enterprise, access=access)
    provider = None
    if access == DOSSIER_CONTRACTS:
        provider = Provider.objects.filter(
            organisation_id=request.user.organisation_id, organisation__kind=Organisation.Kind.PROVIDER
        ).first()
    return render(
        request,
        "dossiers/detail.html",
        {
            "enterprise": enterprise,
            "dossier": dossier_build(request.user, enterprise, access),
            "own": own,
            "provider": provider,
            "art_6_1_target": ART_6_1_TARGET,
            "art_6_2_dossier": ART_6_2_DOSSIER,
            "art_10_1_protection": ART_10_1_PROTECTION,
            "art_14_fees": ART_14_FEES,
        },
    )


@never_cache
@require_GET
@login_required
def detail(request, pk):
    enterprise = get_object_or_404(PilotEnterprise.objects.select_related("county"), pk=pk)
    access = dossier_access(request.user, enterprise)
    if access is None:
        raise Http404
    return _render(request, enterprise, access)


@never_cache
@require_GET
@enterprise_staff_required
def own_dossier(request, enterprise):
    access = dossier_access(request.user, enterprise)
    if access is None:
        raise Http404
    return _render(request, enterprise, access)
