"""Filter backends shared by every API viewset."""

from rest_framework import filters
from rest_framework.exceptions import ValidationError


class SearchFilter(filters.SearchFilter):
    """`?search=` that refuses text the database cannot compare (NUL), naming the parameter, instead of a 500."""

    def get_search_terms(self, request):
        raw = request.query_params.get(self.search_param, "")
        if "\x00" in raw:
            raise ValidationError({self.search_param: ["Null characters are not allowed."]})
        return super().get_search_terms(request)
