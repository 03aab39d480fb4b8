from html import escape, unescape

from sopgate.dashboard.selectors import readiness_percent
from sopgate.dashboard.tables import escape_all, escape_text, percent_text


def test_escape_text_escapes_and_writes_characters_outside_ascii_as_references():
    for text in ['Part <b>"x"</b>', "Tom & Jerry's", "", "plain", "× 8 per vehicle — Müller"]:
        assert escape_text(text).isascii()
        assert unescape(escape_text(text)) == text
        assert escape_text(text) == escape(text).replace("×", "&#215;").replace("—", "&#8212;").replace("ü", "&#252;")


def test_escape_all_escapes_each_text_as_escape_text_does():
    texts = ['Part <b>"x"</b>', "Tom & Jerry's", "", "plain", "× 8 per vehicle"]
    assert escape_all(texts) == [escape_text(text) for text in texts]
    assert escape_all([]) == []


def test_escape_all_copes_with_its_separator_in_a_text():
    texts = ["a\0<b>", "c"]
    assert escape_all(texts) == [escape_text(text) for text in texts]


def test_percent_text_is_readiness_percent_written_out():
    for total in range(260):
        for done in range(total + 1):
            assert percent_text(done, total) == str(readiness_percent(done, total)), (done, total)
