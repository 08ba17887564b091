"""The one write path for contracts' state and their Art 14 fee consequences."""

from decimal import Decimal

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from .models import ACTIVE_CONTRACT_STATUSES, FeeConsequence, ServiceContract


def _consequence(contract, *, cause, decision_reference, now):
    consequence, _created = FeeConsequence.objects.get_or_create(
        contract=contract,
        cause=cause,
        decision_reference=decision_reference,
        defaults={
            "fee_withheld": True,
            "advance_recoverable": contract.advance_payment or Decimal("0"),
            "decided_at": now,
        },
    )
    return consequence


@transaction.atomic
def contracts_terminate_for_revocation(*, provider, by, decision_reference, reason):
    """Art 14 for a revoked provider: every active contract is terminated, its unpaid fee withheld and its
    advance payment recoverable. Returns the contracts that were terminated."""
    now = timezone.now()
    contracts = list(
        ServiceContract.objects.select_for_update().filter(provider=provider, status__in=ACTIVE_CONTRACT_STATUSES)
    )
    for contract in contracts:
        contract.terminate(by=by, description=reason)
        contract.save()
        _consequence(contract, cause=FeeConsequence.Cause.REVOCATION, decision_reference=decision_reference, now=now)
    return contracts


@transaction.atomic
def contract_fail_acceptance(*, contract, by, reason, decision_reference=""):
    """Art 9/14: a project that fails acceptance gets the same fee consequences as a revocation."""
    contract = ServiceContract.objects.select_for_update().get(pk=contract.pk)
    contract.fail_acceptance(by=by, description=reason)
    contract.save()
    return _consequence(
        contract,
        cause=FeeConsequence.Cause.FAILED_ACCEPTANCE,
        decision_reference=decision_reference or _("acceptance of %(number)s") % {"number": contract.number},
        now=timezone.now(),
    )


@transaction.atomic
def fee_consequences_lift(*, decision_reference, reason):
    """Undo the Art 14 consequences of one decision (an upheld appeal); the records stay, marked lifted."""
    return FeeConsequence.objects.filter(decision_reference=decision_reference, lifted_at__isnull=True).update(
        lifted_at=timezone.now(), lift_reason=reason
    )
