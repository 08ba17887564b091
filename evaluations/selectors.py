"""Reads for Articles 12–14 that span relations or depend on who is asking."""

from django.db.models import Prefetch

from enterprises.models import ContractStatus, Milestone, ServiceContract
from tangshan_portal.roles import Role

from .models import BlacklistEntry, Evidence, RectificationCase, RevocationCase

# Appeals live in a later app (complaints) that depends on this one. It registers a function here that
# answers "is this object under a pending appeal?", so that approvals can be blocked without this app
# importing that one.
_APPEAL_CHECKS = []


def register_appeal_check(check):
    """check(content_type_id, object_ids) -> set of object ids under a pending appeal."""
    _APPEAL_CHECKS.append(check)


def evidence_under_appeal(revocation):
    """True while an appeal against any evidence of this proposal (or the provider's standing) is pending."""
    if not _APPEAL_CHECKS:
        return False
    by_type = {}
    for content_type_id, object_id in Evidence.objects.filter(revocation_case=revocation).values_list(
        "content_type_id", "object_id"
    ):
        by_type.setdefault(content_type_id, set()).add(object_id)
    return any(check(ct, ids) for check in _APPEAL_CHECKS for ct, ids in by_type.items())


def planned_progress(contract, milestones, today):
    """Time-proportional plan: each milestone is expected to progress linearly from the contract's start
    to its planned date. Returns the weighted expected share (0–1)."""
    total = sum(m.weight for m in milestones)
    if not total:
        return 0.0
    expected = 0.0
    for m in milestones:
        span = (m.planned_on - contract.start_on).days
        elapsed = (today - contract.start_on).days
        share = 1.0 if span <= 0 else min(1.0, max(0.0, elapsed / span))
        expected += m.weight * share
    return expected / total


def reported_progress(milestones):
    total = sum(m.weight for m in milestones)
    if not total:
        return 0.0
    return sum(m.weight * m.reported_progress / 100 for m in milestones) / total


def schedule_lag(contract, milestones, today):
    return planned_progress(contract, milestones, today) - reported_progress(milestones)


def lagging_contracts(*, today, providers, threshold=None):
    """Contracts in progress whose reported progress lags the plan by more than SCHEDULE_LAG_THRESHOLD.
    Two queries whatever the number of contracts."""
    from django.conf import settings

    threshold = settings.SCHEDULE_LAG_THRESHOLD if threshold is None else threshold
    contracts = (
        ServiceContract.objects.filter(status=ContractStatus.IN_PROGRESS, provider__in=providers)
        # `status` too: the FSM field is read when each instance is built, one query per contract without it.
        .only("id", "number", "provider_id", "start_on", "status")
        .prefetch_related(
            Prefetch(
                "milestones",
                queryset=Milestone.objects.only("contract_id", "planned_on", "weight", "reported_progress"),
            )
        )
    )
    for contract in contracts.iterator(chunk_size=2000):
        milestones = list(contract.milestones.all())
        if not milestones:
            continue
        lag = schedule_lag(contract, milestones, today)
        if lag > threshold:
            yield contract, lag


def _scope(user, queryset, provider_path="provider"):
    """Bureau staff see all; county staff the providers' cases on their county's contracts or providers;
    a provider only its own. Anything else sees nothing (fail closed)."""
    if user.is_superuser or (user.has_perm("evaluations.view_rectificationcase") and not user.has_role(Role.COUNTY)):
        return queryset
    org = user.organisation
    if org is None:
        return queryset.none()
    if user.has_role(Role.COUNTY) or org.kind == org.Kind.COUNTY_BUREAU:
        county = user.county
        if county is None:
            return queryset.none()
        return queryset.filter(**{f"{provider_path}__contracts__enterprise__county": county}).distinct()
    if org.kind == org.Kind.PROVIDER:
        return queryset.filter(**{f"{provider_path}__organisation": org})
    return queryset.none()


def rectification_cases_visible_to(user, queryset=None):
    queryset = RectificationCase.objects.all() if queryset is None else queryset
    visible = _scope(user, queryset)
    org = user.organisation
    if org is not None and org.kind == org.Kind.PROVIDER and not user.is_staff:
        # A draft is the bureau's working paper: the provider sees a case from its warning on.
        visible = visible.filter(warned_at__isnull=False)
    return visible


def revocation_cases_visible_to(user, queryset=None):
    queryset = RevocationCase.objects.all() if queryset is None else queryset
    return _scope(user, queryset)


def blacklist_public():
    """What the public blacklist shows: published entries and those under appeal, newest first."""
    return BlacklistEntry.objects.exclude(status=BlacklistEntry.Status.REMOVED).order_by("-decided_on", "-id")


def satisfaction_by_provider(ratings):
    """Per provider: ratings, counted "dissatisfied" ratings (Art 13(2)) and the mean questionnaire score.
    One grouped query for the counts and one for the scores, whatever the number of providers."""
    from django.db.models import Avg, Count, Q

    from .models import SatisfactionRating, SurveyAnswer

    counts = (
        ratings.values("contract__provider_id", "contract__provider__name")
        .annotate(
            total=Count("id"),
            counted_dissatisfied=Count("id", filter=Q(overall=SatisfactionRating.Overall.DISSATISFIED, voided=False)),
        )
        .order_by("-counted_dissatisfied", "contract__provider__name")
    )
    means = dict(
        SurveyAnswer.objects.filter(rating__in=ratings.values("pk"))
        .values("rating__contract__provider_id")
        .annotate(mean=Avg("score"))
        .values_list("rating__contract__provider_id", "mean")
    )
    return [
        {
            "provider_id": row["contract__provider_id"],
            "provider": row["contract__provider__name"],
            "total": row["total"],
            "counted_dissatisfied": row["counted_dissatisfied"],
            "mean_score": means.get(row["contract__provider_id"]),
        }
        for row in counts
    ]
