"""Loading the SU7 demo (`seed_demo`): deterministic, and a second load changes nothing."""

import random
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta

from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group, Permission
from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone

from parts.choices import Criticality, PPAPStatus, ToolingStage
from parts.models import CapacityLine, Part, Supplier, SupplierUser
from validation.choices import TestPhase, TestStatus
from validation.models import HandoverChecklist, HandoverItem, ValidationTest
from validation.services import item_save

from ..models import Program, RampStep, WorkCalendar
from ..roles import ENGINEERS as ENGINEERS_GROUP
from ..roles import LAUNCH_MANAGERS, role_permission_codenames
from .story import CRITICAL, ENGINEERS, FAMILIES, HANDOVER, QTY, SAFETY, SUPPLIERS, TEST_FAMILIES

DEMO_PASSWORD = "sopgate-demo"  # noqa: S105 - a documented demo login, printed by seed_demo


@dataclass
class DemoResult:
    program: Program
    engineer_username: str
    supplier_username: str
    supplier_code: str
    created: bool


def _month_add(day: date, months: int) -> date:
    index = day.year * 12 + day.month - 1 + months
    return date(index // 12, index % 12 + 1, 1)


def _save_if_changed(model, lookup: dict, values: dict):
    """Create or update one row, saving only when a value differs: every save writes a history row, and
    loading the demo twice must not invent changes nobody made."""
    obj = model.objects.filter(**lookup).first()
    if obj is None:
        return model.objects.create(**lookup, **values), True
    if any(getattr(obj, name) != value for name, value in values.items()):
        for name, value in values.items():
            setattr(obj, name, value)
        obj.save()
    return obj, False


def _user(username: str, first: str, last: str, *, staff: bool, group: Group | None = None):
    user, _ = get_user_model().objects.get_or_create(
        username=username,
        defaults={"first_name": first, "last_name": last, "email": f"{username}@su7.example", "is_staff": staff},
    )
    # A new user has an empty password, which Django counts as "usable"; the demo logins must work.
    if not user.password or not user.has_usable_password():
        user.set_password(DEMO_PASSWORD)
        user.save(update_fields=["password"])
    if group is not None:
        user.groups.add(group)
    return user


def engineers_group() -> Group:
    """The `engineers` group with the permissions the migrations give it (`sopgate.roles.ROLE_PERMISSIONS`), made
    again if a test flushed it."""
    group, _ = Group.objects.get_or_create(name=ENGINEERS_GROUP)
    wanted = role_permission_codenames()
    perms = Permission.objects.filter(content_type__app_label__in={app for app, _ in wanted})
    group.permissions.add(
        *(
            perm
            for perm in perms.select_related("content_type")
            if (perm.content_type.app_label, perm.codename) in wanted
        )
    )
    return group


def existing_demo(*, code: str = "SU7") -> DemoResult | None:
    """The demo as an earlier run loaded it, untouched, or None when it is not there."""
    program = Program.objects.filter(code=code).first()
    supplier_user = get_user_model().objects.filter(username="supplier").first()
    if program is None or supplier_user is None:
        return None
    return DemoResult(program, "engineer", supplier_user.username, "CATL-NB", created=False)


@transaction.atomic
def load_demo(*, today: date | None = None, code: str = "SU7") -> DemoResult:
    today = today or timezone.localdate()
    rng = random.Random(7)
    group = engineers_group()
    people = {
        username: _user(username, first, last, staff=True, group=group) for username, first, last, _role in ENGINEERS
    }
    launch, sq, buyer, validation, production = (
        people[n] for n in ["li.wei", "anna.schmidt", "marco.rossi", "priya.nair", "tomas.novak"]
    )
    # The roles (sopgate.roles): li.wei manages the launch (waivers, withdrawn sign-offs); she owns the R&D side of
    # every checklist and tomas.novak the production side, so only they sign them; `engineer` owns nothing.
    launch.groups.add(Group.objects.get_or_create(name=LAUNCH_MANAGERS)[0])

    sop = today + timedelta(days=60)
    first_month = sop.replace(day=1)  # the ramp starts in the SOP's month
    plant, german = _calendars(sop, first_month)
    program, created = _save_if_changed(
        Program, {"code": code}, {"name": "SU7 electric sedan", "sop_date": sop, "owner": launch, "calendar": plant}
    )
    ramp = [2000, 4000, 6000, 8000, 9000, 10000]
    RampStep.objects.filter(program=program).exclude(month__in=[_month_add(first_month, i) for i in range(6)]).delete()
    for offset, vehicles in enumerate(ramp):
        _save_if_changed(
            RampStep, {"program": program, "month": _month_add(first_month, offset)}, {"planned_vehicles": vehicles}
        )
    peak_days = 31  # capacities below are set generously against the peak month, whatever its length

    suppliers = {}
    for scode, name, country in SUPPLIERS:
        suppliers[scode], _ = _save_if_changed(
            Supplier,
            {"code": scode},
            {
                "name": name,
                "country": country,
                "alert_emails": [f"quality@{scode.lower()}.example"],
                "is_active": True,
                "calendar": german if country == "DE" else None,
            },
        )

    now = timezone.make_aware(datetime.combine(today, time(9, 0)))
    default_need = sop - timedelta(days=program.part_lead_days)
    silent = "DRAXL-LZ"  # stopped answering four weeks ago
    owners = [sq, buyer, sq, buyer, launch]
    part_rows = []
    prefixes: set[str] = set()
    for scode, family, count in FAMILIES:
        prefix = base = "".join(word[0] for word in family.replace("/", " ").split()[:3]).upper()
        while prefix in prefixes:
            prefix = f"{base}{len(prefixes) % 10}{prefix[-1] if prefix != base else ''}"
        prefixes.add(prefix)
        for n in range(1, count + 1):
            number = f"{prefix}-{100 + n * 7 if count > 1 else 100}"
            need = None if rng.random() < 0.8 else default_need - timedelta(days=rng.randint(5, 25))
            eff_need = need or default_need
            qty = QTY.get(family, 1)
            peak_weekly = -(-10000 * qty * 7 // peak_days)
            part = {
                "name": family if count == 1 else f"{family} {n}",
                "supplier": suppliers.get(scode),
                "owner": owners[(n + len(family)) % len(owners)],
                "criticality": Criticality.SAFETY
                if family in SAFETY
                else Criticality.CRITICAL
                if family in CRITICAL
                else Criticality.STANDARD,
                "qty_per_vehicle": qty,
                "need_date": need,
                "promised_date": eff_need - timedelta(days=rng.randint(8, 30)),
                "received_on": None,
                "ppap_status": rng.choice(
                    [PPAPStatus.APPROVED] * 5 + [PPAPStatus.SUBMITTED] * 2 + [PPAPStatus.INTERIM_APPROVED]
                ),
                "ppap_level": 3,
                "ppap_due_date": None,
                "interim_expires_on": sop + timedelta(days=180),
                "tooling_stage": rng.choice([ToolingStage.PRODUCTION_TOOL, ToolingStage.OFF_TOOL_SAMPLES]),
                "capacity_per_week": int(peak_weekly * rng.uniform(1.15, 1.6)),
                "last_supplier_update_at": now - timedelta(days=rng.randint(0, 9), hours=rng.randint(0, 8)),
            }
            if part["ppap_status"] != PPAPStatus.INTERIM_APPROVED:
                part["interim_expires_on"] = None
            if part["ppap_status"] == PPAPStatus.APPROVED and rng.random() < 0.3:
                part["received_on"] = today - timedelta(days=rng.randint(1, 20))
            if scode == silent:
                part["last_supplier_update_at"] = now - timedelta(days=29)
                part["received_on"] = None
            if scode is None:
                part.update(
                    promised_date=None,
                    capacity_per_week=None,
                    last_supplier_update_at=None,
                    ppap_status=PPAPStatus.NOT_SUBMITTED,
                    tooling_stage=ToolingStage.NOT_STARTED,
                )
            part_rows.append((number, part))

    open_part = {"received_on": None}  # a story part has not arrived, whatever the dice said above
    story = {
        # Late parts: the supplier's promise lands after the need date (SOP - part lead days).
        "BM-107": {
            **open_part,
            "need_date": None,
            "promised_date": default_need + timedelta(days=20),
            "ppap_status": PPAPStatus.SUBMITTED,
        },
        "BM-114": {
            **open_part,
            "need_date": None,
            "promised_date": default_need + timedelta(days=9),
            "ppap_status": PPAPStatus.SUBMITTED,
        },
        "WH-121": {**open_part, "need_date": None, "promised_date": default_need + timedelta(days=12)},
        # Needed in five days and no promise at all.
        "HPM-107": {**open_part, "promised_date": None, "need_date": today + timedelta(days=5)},
        # Capacity shortfall: the battery module line makes 250 packs' worth a week until its second line starts
        # in the ramp's third month (`_capacity_plans`), and it ran at rate at only 1,800 packs' worth a week.
        "BM-121": {
            **open_part,
            "capacity_per_week": 250 * 8,
            "ppap_status": PPAPStatus.APPROVED,
            "run_at_rate_on": today - timedelta(days=10),
            "run_at_rate_per_week": 1800 * 8,
        },
        # PPAP overdue and rejected.
        "SPM-107": {**open_part, "ppap_status": PPAPStatus.SUBMITTED, "ppap_due_date": today - timedelta(days=6)},
        "DL-114": {**open_part, "ppap_status": PPAPStatus.REJECTED},
        # Capacity not yet confirmed.
        "CF-107": {"capacity_per_week": None},
    }
    existing = {p.part_number: p for p in Part.objects.filter(program=program)}
    for number, values in part_rows:
        values.update(story.get(number, {}))
        if values["ppap_status"] != PPAPStatus.INTERIM_APPROVED:
            values["interim_expires_on"] = None
        part = existing.get(number)
        if part is None:
            Part.objects.create(program=program, part_number=number, revision="A", **values)
            continue
        if any(getattr(part, k) != v for k, v in values.items()):
            for k, v in values.items():
                setattr(part, k, v)
            part.save()

    _capacity_plans(program, today, first_month)
    _load_tests(program, today, sop, rng, validation, people)
    _load_handover(program, today, sop, rng, launch, production, people)

    supplier_code = "CATL-NB"
    supplier_user = _user("supplier", "Sam", "Supplier", staff=False)
    SupplierUser.objects.update_or_create(user=supplier_user, defaults={"supplier": suppliers[supplier_code]})
    return DemoResult(program, "engineer", supplier_user.username, supplier_code, created)


def _calendars(sop: date, first_month: date) -> tuple[WorkCalendar, WorkCalendar]:
    """The plant's calendar with a Spring Festival shutdown in the week after the SOP week, as at an SU7-like SOP
    (dates relative to the demo's today, like the rest of the story), and a German supplier calendar with the
    country's fixed holidays."""
    shutdown = sop - timedelta(days=sop.weekday()) + timedelta(days=7)  # the Monday after the SOP week
    plant, _ = _save_if_changed(
        WorkCalendar,
        {"code": "SU7-PLANT"},
        {
            "name": "SU7 plant, Spring Festival shutdown",
            "working_weekdays": [1, 2, 3, 4, 5],
            "closed_dates": [(shutdown + timedelta(days=n)).isoformat() for n in range(5)],
        },
    )
    years = (first_month.year, first_month.year + 1)
    fixed = ((1, 1), (1, 6), (5, 1), (10, 3), (11, 1), (12, 24), (12, 25), (12, 26), (12, 31))
    german, _ = _save_if_changed(
        WorkCalendar,
        {"code": "DE-BW"},
        {
            "name": "Baden-Württemberg suppliers",
            "working_weekdays": [1, 2, 3, 4, 5],
            "closed_dates": [date(year, month, day).isoformat() for year in years for month, day in fixed],
        },
    )
    return plant, german


def _capacity_plans(program, today: date, first_month: date) -> None:
    """Some suppliers ramp their capacity: a line now and a bigger one later, so the achievable ramp climbs."""
    ramps = {
        "BM-121": [(today, 250 * 8), (_month_add(first_month, 2), 3000 * 8)],
        "BM-107": [(today, 2000 * 8), (_month_add(first_month, 3), 3200 * 8)],
        "WH-121": [(today, 2600), (_month_add(first_month, 1), 3600)],
    }
    parts = dict(Part.objects.filter(program=program, part_number__in=ramps).values_list("part_number", "pk"))
    for number, lines in ramps.items():
        for effective_from, per_week in lines:
            CapacityLine.objects.update_or_create(
                part_id=parts[number],
                effective_from=effective_from,
                defaults={"capacity_per_week": per_week, "reported_by_username": "demo"},
            )


def _load_tests(program, today, sop, rng, owner, people):
    existing = {t.code: t for t in ValidationTest.objects.filter(program=program)}
    for phase, prefix, _family, names in TEST_FAMILIES:
        for n, name in enumerate(names, start=1):
            code = f"{prefix}-{n:02d}"
            if phase == TestPhase.DV:
                start, end, status = (
                    today - timedelta(days=200 - n * 3),
                    today - timedelta(days=90 - n * 2),
                    TestStatus.PASSED,
                )
            elif phase == TestPhase.PV:
                start = today - timedelta(days=40 - n)
                end = today + timedelta(days=rng.randint(5, 35))
                status = TestStatus.PASSED if n % 3 == 0 else TestStatus.IN_PROGRESS
            else:
                start, end = today + timedelta(days=rng.randint(0, 10)), sop - timedelta(days=rng.randint(5, 15))
                status = TestStatus.PLANNED
            values = {
                "name": name,
                "phase": phase,
                "owner": owner,
                "planned_start": start,
                "planned_end": end,
                "status": status,
                "required_for_sop": True,
                "result_note": "",
                "completed_on": min(end, today) if status == TestStatus.PASSED else None,  # not in the future
            }
            if code == "PV-CRASH-01":
                values.update(
                    status=TestStatus.FAILED,
                    end=None,
                    result_note="A-pillar intrusion 42 mm over target; B-pillar reinforcement redesign in progress",
                    completed_on=today - timedelta(days=3),
                )
                values.pop("end")
                values["planned_end"] = today - timedelta(days=3)
            if code == "HOM-10":
                values.update(planned_end=sop + timedelta(days=12))
            test = existing.get(code)
            if test is None:
                ValidationTest.objects.create(program=program, code=code, **values)
            elif any(getattr(test, k) != v for k, v in values.items()):
                for k, v in values.items():
                    setattr(test, k, v)
                test.save()
    extra = ValidationTest.objects.filter(program=program).count()
    # Top up to about 120 tests with passed DV component tests.
    for n in range(1, max(0, 120 - extra) + 1):
        ValidationTest.objects.get_or_create(
            program=program,
            code=f"DV-COMP-{n:03d}",
            defaults={
                "name": f"Component DV test {n}",
                "phase": TestPhase.DV,
                "owner": owner,
                "planned_start": today - timedelta(days=150),
                "planned_end": today - timedelta(days=60),
                "status": TestStatus.PASSED,
                "completed_on": today - timedelta(days=60),
            },
        )


def _load_handover(program, today, sop, rng, rd_owner, production_owner, people):
    responsible = [people["tomas.novak"], people["priya.nair"], people["li.wei"], people["anna.schmidt"]]
    for area_index, (area, titles) in enumerate(HANDOVER.items()):
        checklist, _ = HandoverChecklist.objects.get_or_create(
            program=program, area=area, defaults={"rd_owner": rd_owner, "production_owner": production_owner}
        )
        existing = {i.title: i for i in checklist.items.all()}
        for n, title in enumerate(titles):
            due = today + timedelta(days=(n - 4) * 6)
            done = due <= today + timedelta(days=6) and not (area == "Battery pack" and n in (1, 3))
            values = {
                "responsible": responsible[(n + area_index) % len(responsible)],
                "due_date": due,
                "required": n != 8,
            }
            if area == "Battery pack" and n == 1:
                values["due_date"] = today - timedelta(days=4)  # overdue
            item = existing.get(title)
            if item is None:
                item = HandoverItem(checklist=checklist, title=title, **values)
                if done:
                    item.done_at = timezone.make_aware(datetime.combine(min(due, today), time(12)))
                    item.done_by = values["responsible"]
                    item.evidence = f"Report {area[:3].upper()}-{n:03d}"
            elif any(getattr(item, k) != v for k, v in values.items()):
                for k, v in values.items():
                    setattr(item, k, v)
            else:
                continue
            try:  # through the service: a checklist someone signed off since the last run keeps its sign-off
                item_save(item=item, actor=None)
            except ValidationError:
                continue
