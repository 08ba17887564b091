"""The service contracts as an Open Contracting Data Standard 1.1 release package.

One release per contract that left the draft stage, describing the contract as it stands now:

- ocid = settings.OCDS_OCID_PREFIX + the contract number, percent-encoded where it is not URL-safe (injective,
  so two contract numbers never share an ocid); release id = ocid + "-" + the revision (the latest change of the
  contract, its milestones' reported progress or an agreed change request, in UTC).
- tag: "contractTermination" once the contract has closed, else "contractAmendment" when the enterprise agreed a
  change request, else "contract"; initiationType "tender" (the only value of the codelist).
- parties: the provider (supplier) and the pilot enterprise (buyer), identified by their Unified Social Credit
  Code under the org-id.guide scheme CN-SAIC, the registration agency's code in that list; the bureau as funder
  when the contract has a subsidy.
- contract status (OCDS contractStatus: pending, active, cancelled, terminated): signed, in progress and
  internally accepted are "active" (signed by both parties and in force; internal acceptance still waits for the
  evaluation acceptance of Art 9); accepted, failed and terminated are "terminated" (closed, by completion or
  early). "pending" and "cancelled" describe contracts not yet or never signed: those are drafts, which are not
  published.
- award: one "active" award per contract, to the provider, with the same value.
- items: the procurement list (Art 12(3)), with quantity and unit price in CNY.
- milestones: type "delivery", due on the planned date; status (milestoneStatus) "met" at 100 % progress, else
  "scheduled" before the due date and "partiallyMet"/"notMet" after it. Progress counts once the enterprise
  acknowledged it (Art 6(3)).
- amendments: the agreed change requests, with what they changed (end date, amount); their free-text reasons are
  not published.

No personal data: no contact persons, no users, no free-text statements.
"""

import json
from datetime import UTC, datetime, time
from urllib.parse import quote

from django.conf import settings
from django.db.models import Prefetch
from django.utils import timezone
from django.utils.translation import gettext as _

from enterprises.models import ChangeRequest, ContractStatus, Milestone, ProcurementItem, ServiceContract

OCDS_VERSION = "1.1"
CURRENCY = "CNY"
ORG_ID_SCHEME = "CN-SAIC"

CONTRACT_STATUS = {
    ContractStatus.SIGNED: "active",
    ContractStatus.IN_PROGRESS: "active",
    ContractStatus.INTERNALLY_ACCEPTED: "active",
    ContractStatus.ACCEPTED: "terminated",
    ContractStatus.FAILED: "terminated",
    ContractStatus.TERMINATED: "terminated",
}

# The codelists this module writes, for the structural tests.
RELEASE_TAGS = {"contract", "contractAmendment", "contractTermination"}
CONTRACT_STATUSES = {"pending", "active", "cancelled", "terminated"}
MILESTONE_STATUSES = {"scheduled", "met", "notMet", "partiallyMet"}
PARTY_ROLES = {"buyer", "supplier", "funder"}

CHUNK = 200


def contracts():
    """The published contracts: every one that left the draft stage, with what the releases show."""
    return (
        ServiceContract.objects.exclude(status=ContractStatus.DRAFT)
        .select_related("provider", "enterprise")
        .prefetch_related(
            Prefetch("procurement_items", queryset=ProcurementItem.objects.order_by("id")),
            Prefetch("milestones", queryset=Milestone.objects.order_by("planned_on", "id")),
            Prefetch(
                "change_requests",
                queryset=ChangeRequest.objects.filter(status=ChangeRequest.Status.AGREED).order_by("decided_at", "id"),
                to_attr="agreed_changes",
            ),
        )
        .order_by("id")
    )


def ocid(contract):
    return settings.OCDS_OCID_PREFIX + quote(contract.number, safe="-._~")


def _datetime(moment):
    return timezone.localtime(moment).isoformat(timespec="seconds")


def _start_of(day):
    return _datetime(timezone.make_aware(datetime.combine(day, time.min)))


def _end_of(day):
    return _datetime(timezone.make_aware(datetime.combine(day, time(23, 59, 59))))


def _value(amount):
    return {"amount": float(amount), "currency": CURRENCY}


def _organisation(org, role):
    party_id = f"{ORG_ID_SCHEME}-{org.uscc}"
    return {
        "id": party_id,
        "name": org.name,
        "identifier": {"scheme": ORG_ID_SCHEME, "id": org.uscc, "legalName": org.name},
        "roles": [role],
    }


def _revision(contract):
    moments = [contract.updated_at]
    moments += [m.reported_at for m in contract.milestones.all() if m.reported_at]
    moments += [c.decided_at for c in contract.agreed_changes if c.decided_at]
    return max(moments)


def _tags(contract):
    if CONTRACT_STATUS[contract.status] == "terminated":
        return ["contractTermination"]
    if contract.agreed_changes:
        return ["contractAmendment"]
    return ["contract"]


def _milestone(milestone, today):
    if milestone.reported_progress >= 100:
        status = "met"
    elif milestone.planned_on >= today:
        status = "scheduled"
    elif milestone.reported_progress > 0:
        status = "partiallyMet"
    else:
        status = "notMet"
    data = {
        "id": str(milestone.pk),
        "title": milestone.name,
        "type": "delivery",
        "description": _("Weight %(weight)s%%, progress %(progress)s%%")
        % {"weight": milestone.weight, "progress": milestone.reported_progress},
        "dueDate": _end_of(milestone.planned_on),
        "status": status,
    }
    if status == "met" and milestone.reported_at:
        data["dateMet"] = _datetime(milestone.reported_at)
    if milestone.reported_at:
        data["dateModified"] = _datetime(milestone.reported_at)
    return data


def _amendment(change):
    parts = []
    if change.new_end_on is not None:
        parts.append(
            _("end date %(old)s → %(new)s")
            % {"old": change.previous_end_on.isoformat() if change.previous_end_on else "?", "new": change.new_end_on}
        )
    if change.new_amount is not None:
        parts.append(
            _("amount %(old)s → %(new)s CNY")
            % {"old": change.previous_amount if change.previous_amount is not None else "?", "new": change.new_amount}
        )
    return {
        "id": str(change.pk),
        "date": _datetime(change.decided_at),
        "description": "；".join(parts) or _("Change of the service content agreed by the enterprise"),
    }


def release(contract, today):
    the_ocid = ocid(contract)
    revision = _revision(contract)
    supplier = _organisation(contract.provider, "supplier")
    buyer = _organisation(contract.enterprise, "buyer")
    parties = [supplier, buyer]
    if contract.subsidy > 0:
        parties.append({"id": "funder", "name": settings.PORTAL_AUTHORITY_NAME, "roles": ["funder"]})
    award_id = f"{the_ocid}-award"
    period = {"startDate": _start_of(contract.start_on), "endDate": _end_of(contract.end_on)}
    items = [
        {
            "id": str(item.pk),
            "description": item.name,
            "quantity": float(item.quantity),
            "unit": {"name": item.unit, "value": _value(item.unit_price)},
        }
        for item in contract.procurement_items.all()
    ]
    award = {
        "id": award_id,
        "title": contract.title,
        "status": "active",
        "value": _value(contract.amount),
        "suppliers": [{"id": supplier["id"], "name": supplier["name"]}],
        "contractPeriod": period,
    }
    signed = {
        "id": contract.number,
        "awardID": award_id,
        "title": contract.title,
        "status": CONTRACT_STATUS[contract.status],
        "period": period,
        "value": _value(contract.amount),
        "items": items,
        "milestones": [_milestone(m, today) for m in contract.milestones.all()],
    }
    if contract.signed_on:
        award["date"] = _start_of(contract.signed_on)
        signed["dateSigned"] = _start_of(contract.signed_on)
    if contract.agreed_changes:
        signed["amendments"] = [_amendment(c) for c in contract.agreed_changes]
    return {
        "ocid": the_ocid,
        "id": f"{the_ocid}-{revision.astimezone(UTC):%Y%m%dT%H%M%SZ}",
        "date": _datetime(revision),
        "language": "zh",
        "tag": _tags(contract),
        "initiationType": "tender",
        "parties": parties,
        "buyer": {"id": buyer["id"], "name": buyer["name"]},
        "awards": [award],
        "contracts": [signed],
    }


def package_chunks(*, uri, policy_uri, published):
    """The package as JSON text in chunks, one contract after another, so that the whole package is never held
    in memory. Written in the portal's default language: the descriptions are Chinese like the data."""
    head = {
        "uri": uri,
        "version": OCDS_VERSION,
        "publishedDate": _datetime(published),
        "publisher": {"name": settings.PORTAL_AUTHORITY_NAME},
        "publicationPolicy": policy_uri,
    }
    today = timezone.localdate(published)
    yield json.dumps(head, ensure_ascii=False)[:-1] + ', "releases": ['
    first = True
    for contract in contracts().iterator(chunk_size=CHUNK):
        yield ("" if first else ",") + json.dumps(release(contract, today), ensure_ascii=False)
        first = False
    yield "]}"
