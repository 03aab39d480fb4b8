"""The roles' admin permissions exist once (`sopgate.roles.ROLE_PERMISSIONS`); the migrations that grant them on a
deployed database give exactly that set, and an engineer with them can do the ramp's work in the admin."""

import importlib

import pytest
from django.contrib.auth.models import Group
from django.db import connection
from django.db.migrations.loader import MigrationLoader
from django.urls import reverse

from sopgate.roles import ENGINEERS, LAUNCH_MANAGERS, role_permission_codenames

ROLE_MIGRATIONS = [
    ("sopgate.migrations.0009_roles", "create_roles"),
    ("validation.migrations.0008_handover_item_files_roles", "grant"),
    ("sopgate.migrations.0015_roles_ramp_calendars_and_evidence", "grant"),
]


@pytest.mark.django_db
def test_the_migrations_grant_the_roles_exactly_role_permissions():
    Group.objects.filter(name__in=[ENGINEERS, LAUNCH_MANAGERS]).delete()
    # The migrations' functions run on the migrated models, as `migrate` runs them (they set `models_module` on
    # the app configs they are given, which must not be the project's own).
    state_apps = MigrationLoader(connection).project_state().apps
    for module, function in ROLE_MIGRATIONS:
        getattr(importlib.import_module(module), function)(state_apps, None)
    for name in (ENGINEERS, LAUNCH_MANAGERS):
        granted = {
            (perm.content_type.app_label, perm.codename)
            for perm in Group.objects.get(name=name).permissions.select_related("content_type")
        }
        assert granted == role_permission_codenames(), name


@pytest.mark.django_db
def test_an_engineer_of_the_group_edits_calendars_and_capacity_plans_in_the_admin(client):
    from sopgate.demo.load import engineers_group
    from tests.factories import PartFactory, UserFactory, WorkCalendarFactory

    user = UserFactory(username="gina", is_staff=True)
    user.groups.add(engineers_group())
    client.force_login(user)
    calendar = WorkCalendarFactory(code="DE-BW")
    part = PartFactory()
    assert client.get(reverse("admin:sopgate_workcalendar_change", args=[calendar.pk])).status_code == 200
    assert client.get(reverse("admin:sopgate_workcalendar_add")).status_code == 200
    page = client.get(reverse("admin:parts_part_change", args=[part.pk])).content.decode()
    assert 'id="capacity_lines-group"' in page and 'name="capacity_lines-0-capacity_per_week"' in page
    assert 'id="files-group"' in page and 'name="files-__prefix__-file"' in page  # an engineer may attach a file
    # Read only: the gate's own records.
    assert client.get(reverse("admin:sopgate_alert_changelist")).status_code == 200
    assert client.get(reverse("admin:sopgate_alert_add")).status_code == 403
