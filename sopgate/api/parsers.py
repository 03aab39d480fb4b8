"""The API's parsers. Imported by DRF's settings, so nothing here may import DRF's views."""

from rest_framework import parsers
from rest_framework.exceptions import ParseError


class JSONParser(parsers.JSONParser):
    """DRF's JSON parser, answering a body nested deeper than Python's parser goes (about a thousand levels,
    in a body of 2 KB) with a parse error, as any other malformed JSON, rather than a 500."""

    def parse(self, stream, media_type=None, parser_context=None):
        try:
            return super().parse(stream, media_type, parser_context)
        except RecursionError:
            raise ParseError("JSON parse error - the body is nested too deeply.") from None
