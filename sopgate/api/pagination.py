from rest_framework.exceptions import NotFound
from rest_framework.pagination import PageNumberPagination


class Pagination(PageNumberPagination):
    """`?page=` and `?page_size=` (up to 1,000); a bad value is a 404/400 naming the parameter, never a 500."""

    page_size = 50
    page_size_query_param = "page_size"
    max_page_size = 1000
    invalid_page_message = "There is no page {page_number}: {message}."

    def get_page_size(self, request):
        raw = request.query_params.get(self.page_size_query_param)
        if raw is None:
            return self.page_size
        try:
            value = int(raw)
        except (TypeError, ValueError):
            value = 0
        if value < 1 or value > self.max_page_size:
            from rest_framework.exceptions import ValidationError

            raise ValidationError({"page_size": [f"Must be a whole number from 1 to {self.max_page_size}."]})
        return value

    def paginate_queryset(self, queryset, request, view=None):
        raw = request.query_params.get(self.page_query_param)
        # ASCII digits only: `isdigit` also holds for "²" or "①", which `int` refuses.
        if raw is not None and raw != "last" and not (raw.isascii() and raw.isdigit() and int(raw) >= 1):
            raise NotFound({"page": ["Must be a positive whole number."]})
        try:
            return super().paginate_queryset(queryset, request, view)
        except NotFound as exc:  # past the last page: `invalid_page_message`, under the parameter's name
            raise NotFound({"page": [str(exc.detail)]}) from None
