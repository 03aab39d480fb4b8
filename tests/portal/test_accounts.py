"""The portal's doors: its own login (counted by django-axes, refusing inactive suppliers), logout, password reset
for suppliers' logins, and `create_supplier_user ... --invite` emailing a link to set the password."""

import re
from io import StringIO

import pytest
from django.contrib.auth import get_user_model
from django.core import mail
from django.core.management import call_command

from tests.factories import SupplierFactory

from .conftest import PASSWORD

pytestmark = pytest.mark.django_db


def _link(message) -> str:
    return re.search(r"https?://[^/\s]+(/supplier/password-reset/[^\s]+/)", message.body).group(1)


def test_a_supplier_logs_in_and_out_at_the_portal(client, portal):
    response = client.post("/supplier/login/", {"username": "alice", "password": PASSWORD})
    assert response.status_code == 302 and response["Location"] == "/supplier/"
    assert "BM-100" in client.get("/supplier/").content.decode()
    assert client.post("/supplier/logout/")["Location"] == "/supplier/login/"
    assert client.get("/supplier/").status_code == 302


def test_wrong_passwords_lock_the_login_out_through_axes(client, portal, settings):
    for _ in range(settings.AXES_FAILURE_LIMIT - 1):
        refused = client.post("/supplier/login/", {"username": "alice", "password": "wrong"})
        assert refused.status_code == 200 and "Please enter a correct username and password" in refused.content.decode()
    assert client.post("/supplier/login/", {"username": "alice", "password": "wrong"}).status_code == 429
    locked = client.post("/supplier/login/", {"username": "alice", "password": PASSWORD})
    assert locked.status_code == 429
    assert client.get("/supplier/").status_code == 302  # not logged in


def test_the_login_of_an_inactive_supplier_is_refused(client, portal):
    portal.acme.is_active = False
    portal.acme.save()
    refused = client.post("/supplier/login/", {"username": "alice", "password": PASSWORD})
    assert refused.status_code == 200 and client.get("/supplier/").status_code == 302


def test_the_invite_emails_a_link_that_sets_the_password_then_the_supplier_logs_in(client, db, settings):
    settings.SITE_URL = "https://sopgate.example"
    SupplierFactory(code="CATL-NB", name="CATL Ningbo")
    out = StringIO()
    call_command("create_supplier_user", "CATL-NB", "wang", "--email", "wang@catl.example", "--invite", stdout=out)
    assert "Emailed wang@catl.example a link to set the password" in out.getvalue()
    user = get_user_model().objects.get(username="wang")
    assert not user.has_usable_password()
    (message,) = mail.outbox
    assert message.to == ["wang@catl.example"]
    assert message.subject == "Your login to the SOPGate supplier portal (CATL-NB)"
    assert "CATL Ningbo" in message.body and "Your username: wang" in message.body
    assert "https://sopgate.example/supplier/password-reset/" in message.body
    assert "https://sopgate.example/supplier/login/" in message.body

    form = client.get(_link(message), follow=True)
    assert "Set your password" in form.content.decode()
    set_url = form.redirect_chain[-1][0]
    done = client.post(set_url, {"new_password1": "Ningbo-cells-2027", "new_password2": "Ningbo-cells-2027"})
    assert done.status_code == 302 and done["Location"] == "/supplier/password-reset/done/"
    assert client.post("/supplier/login/", {"username": "wang", "password": "Ningbo-cells-2027"}).status_code == 302
    # The link is used up.
    client.logout()
    assert "no longer valid" in client.get(_link(message), follow=True).content.decode()


def test_the_invite_in_chinese_and_without_an_email_address(db):
    SupplierFactory(code="CATL-NB")
    call_command(
        "create_supplier_user",
        "CATL-NB",
        "li",
        "--email",
        "li@catl.example",
        "--invite",
        "--language",
        "zh-hans",
        stdout=StringIO(),
    )
    assert mail.outbox[0].subject == "您的 SOPGate 供应商门户账号（CATL-NB）"
    from django.core.management import CommandError

    with pytest.raises(CommandError, match="--invite: zhang has no email address; give one with --email."):
        call_command("create_supplier_user", "CATL-NB", "zhang", "--invite", stdout=StringIO())


def test_password_reset_sends_a_link_to_suppliers_logins_only(client, portal):
    portal.engineer.email = "eng@oem.example"
    portal.engineer.save()
    for email in ("alice@acme.example", "eng@oem.example", "nobody@example.com"):
        response = client.post("/supplier/password-reset/", {"email": email})
        assert response["Location"] == "/supplier/password-reset/sent/"
    (message,) = mail.outbox
    assert message.to == ["alice@acme.example"] and "/supplier/password-reset/" in message.body
