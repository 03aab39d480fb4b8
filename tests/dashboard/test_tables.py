from html import escape

from sopgate.dashboard.selectors import readiness_percent
from sopgate.dashboard.tables import escape_all, percent_text


def test_escape_all_escapes_each_text_as_escape_does():
    texts = ['Part <b>"x"</b>', "Tom & Jerry's", "", "plain", "× 8 per vehicle"]
    assert escape_all(texts) == [escape(text) for text in texts]
    assert escape_all([]) == []


def test_escape_all_copes_with_its_separator_in_a_text():
    texts = ["a\0<b>", "c"]
    assert escape_all(texts) == [escape(text) for text in texts]


def test_percent_text_is_readiness_percent_written_out():
    for total in range(1, 260):
        for done in range(total + 1):
            assert percent_text(done, total) == str(readiness_percent(done, total)), (done, total)
