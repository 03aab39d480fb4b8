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


class OrderingFilter(filters.OrderingFilter):
    """`?ordering=` that refuses a field it cannot sort by, naming the parameter and the choices, where DRF drops
    the term and answers in another order than asked."""

    def remove_invalid_fields(self, queryset, fields, view, request):
        fields = [term for term in fields if term]  # "need_date," has an empty last term: no term at all
        valid = super().remove_invalid_fields(queryset, fields, view, request)
        if len(valid) != len(fields):
            choices = sorted(name for name, _ in self.get_valid_fields(queryset, view, {"request": request}))
            unknown = ", ".join(term for term in fields if term not in valid)
            raise ValidationError(
                {
                    self.ordering_param: [
                        f"Cannot sort by {unknown}; choose from {', '.join(choices)} (- for descending)."
                    ]
                }
            )
        return valid
