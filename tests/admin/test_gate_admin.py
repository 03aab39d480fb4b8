"""The gate's admin (sopgate/admin.py): accounts are deactivated, never deleted."""

import pytest
from django.contrib.auth import get_user_model
from django.contrib.messages import get_messages
from django.test import Client
from django.urls import reverse

from tests.factories import EngineerFactory, UserFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def admin_client_(db):
    client = Client()
    client.force_login(UserFactory(username="root", is_staff=True, is_superuser=True))
    return client


def test_the_user_admin_offers_no_delete(admin_client_):
    user = EngineerFactory()
    changelist = admin_client_.get(reverse("admin:auth_user_changelist"))
    actions = [value for value, label in changelist.context["action_form"].fields["action"].choices]
    assert "delete_selected" not in actions and "deactivate" in actions
    response = admin_client_.post(reverse("admin:auth_user_delete", args=[user.pk]), {"post": "yes"})
    assert response.status_code == 403
    assert get_user_model().objects.filter(pk=user.pk).exists()


def test_deactivating_users_says_how_many_and_they_can_be_reactivated(admin_client_):
    active, other, already_inactive = EngineerFactory(), EngineerFactory(), EngineerFactory(is_active=False)
    response = admin_client_.post(
        reverse("admin:auth_user_changelist"),
        {"action": "deactivate", "_selected_action": [active.pk, other.pk, already_inactive.pk]},
        follow=True,
    )
    assert [str(m) for m in get_messages(response.wsgi_request)] == ["2 users deactivated."]
    assert not get_user_model().objects.filter(pk__in=[active.pk, other.pk], is_active=True).exists()

    # Reactivating is ticking "active" again on the user's form.
    url = reverse("admin:auth_user_change", args=[active.pk])
    data = {
        "username": active.username,
        "email": active.email,
        "is_active": "on",
        "is_staff": "on",
        "date_joined_0": active.date_joined.date().isoformat(),
        "date_joined_1": active.date_joined.time().strftime("%H:%M:%S"),
    }
    assert admin_client_.post(url, data).status_code == 302
    active.refresh_from_db()
    assert active.is_active


def test_programs_are_archived_and_unarchived_by_admin_actions(at_today, admin_client_):
    from sopgate.models import Program
    from tests.factories import ProgramFactory

    first, second = ProgramFactory(), ProgramFactory()
    changelist = reverse("admin:sopgate_program_changelist")

    response = admin_client_.post(
        changelist, {"action": "archive", "_selected_action": [first.pk, second.pk]}, follow=True
    )
    assert [str(m) for m in get_messages(response.wsgi_request)] == ["2 programs archived."]
    assert Program.objects.active().count() == 0
    assert first.history.first().history_username == "root"

    response = admin_client_.post(changelist, {"action": "unarchive", "_selected_action": [first.pk]}, follow=True)
    assert [str(m) for m in get_messages(response.wsgi_request)] == ["1 program unarchived."]
    assert list(Program.objects.active()) == [first]
