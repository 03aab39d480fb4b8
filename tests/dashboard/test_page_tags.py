"""`sopgate_pages`: the kept URLs, static paths and dates give what Django's own tags and filters give."""

from datetime import date, datetime
from zoneinfo import ZoneInfo

from django.template import Context, Template
from django.templatetags.static import static
from django.urls import reverse, set_script_prefix
from django.utils import timezone


def _render(source: str, **context) -> str:
    return Template("{% load sopgate_pages %}" + source).render(Context(context))


def test_page_url_is_reverse_with_the_same_arguments_and_follows_the_script_prefix():
    assert _render("{% page_url 'dashboard:index' %}") == reverse("dashboard:index")
    assert _render("{% page_url 'dashboard:report_csv' code %}", code="SU7") == reverse(
        "dashboard:report_csv", args=["SU7"]
    )
    assert _render("{% page_url 'dashboard:program' code %}", code="A&B") == Template(
        "{% url 'dashboard:program' code %}"
    ).render(Context({"code": "A&B"}))  # quoted and escaped alike
    set_script_prefix("/sopgate/")
    try:
        assert _render("{% page_url 'dashboard:index' %}") == "/sopgate/"
    finally:
        set_script_prefix("/")
    assert _render("{% page_url 'dashboard:index' %}") == "/"


def test_page_static_is_static():
    assert _render("{% page_static 'dashboard/dashboard.css' %}") == static("dashboard/dashboard.css")


def test_iso_filters_write_what_the_date_filter_wrote():
    day = date(2027, 3, 1)
    moment = datetime(2027, 3, 1, 23, 30, tzinfo=ZoneInfo("UTC"))
    with timezone.override("Asia/Shanghai"):
        assert _render("{{ d|iso_date }}", d=day) == _render('{{ d|date:"Y-m-d" }}', d=day) == "2027-03-01"
        assert _render("{{ m|iso_minute }}", m=moment) == _render('{{ m|date:"Y-m-d H:i" }}', m=moment)
        assert _render("{{ m|iso_minute }}", m=moment) == "2027-03-02 07:30"
    assert _render("{{ d|iso_date }}{{ d|iso_minute }}", d=None) == ""


def test_iso_filters_answer_empty_where_the_date_filter_does_and_follow_the_time_zone():
    """A missing variable or a wrong type writes nothing, as `|date` does, instead of failing the page."""
    for value in ("", "2027-03-01", 7):
        assert _render("{{ v|iso_date }}|{{ v|iso_minute }}", v=value) == "|"
    assert _render("{{ missing|iso_date }}|{{ missing|iso_minute }}") == "|"
    moment = datetime(2027, 3, 1, 23, 30, tzinfo=ZoneInfo("UTC"))
    with timezone.override("Asia/Shanghai"):  # a datetime's local date, as `|date:"Y-m-d"` gives it
        assert _render("{{ m|iso_date }}", m=moment) == _render('{{ m|date:"Y-m-d" }}', m=moment) == "2027-03-02"


def test_kept_urls_are_forgotten_when_the_urlconf_setting_changes(settings):
    before = _render("{% page_url 'dashboard:index' %}")
    settings.FORCE_SCRIPT_NAME = "/elsewhere/"  # fires setting_changed, as override_settings does
    from sopgate.templatetags.sopgate_pages import _reversed

    assert _reversed.cache_info().currsize == 0
    assert _render("{% page_url 'dashboard:index' %}") == before  # the script prefix itself comes per request
