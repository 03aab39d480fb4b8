"""The admin badge stylesheet survives collectstatic and is served by WhiteNoise as in production."""

from django.core.management import call_command
from django.http import HttpResponse
from django.test import RequestFactory
from whitenoise.middleware import WhiteNoiseMiddleware


def test_badge_stylesheet_is_collected_and_served(tmp_path, settings):
    settings.STATIC_ROOT = tmp_path
    call_command("collectstatic", interactive=False, verbosity=0)
    assert (tmp_path / "admin" / "sopgate.css").exists()
    assert (tmp_path / "admin" / "css" / "base.css").exists()  # Django's own admin files sit beside it

    middleware = WhiteNoiseMiddleware(lambda request: HttpResponse(status=404))
    response = middleware(RequestFactory().get("/static/admin/sopgate.css"))
    assert response.status_code == 200
    assert response["Content-Type"].startswith("text/css")
    assert b".sg-badge.badge-bad" in b"".join(response.streaming_content)

    gzipped = middleware(RequestFactory().get("/static/admin/sopgate.css", HTTP_ACCEPT_ENCODING="gzip"))
    assert gzipped["Content-Encoding"] == "gzip"  # compressed by the CompressedStaticFilesStorage at collect time
