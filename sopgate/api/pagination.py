from rest_framework.exceptions import NotFound
from rest_framework.pagination import PageNumberPagination


class Pagination(PageNumberPagination):
    """`?page=` and `?page_size=` (up to 1,000); a bad value is a 404/400 naming the parameter, never a 500."""

    page_size = 50
    page_size_query_param = "page_size"
    max_page_size = 1000

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
        if raw is not None and (not raw.isdigit() or int(raw) < 1) and raw != "last":
            raise NotFound({"page": ["Must be a positive whole number."]})
        return super().paginate_queryset(queryset, request, view)
