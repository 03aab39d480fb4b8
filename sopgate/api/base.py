"""The base every API viewset builds on: the filter backends, and answers that show SQL-computed fields."""

from django.db import transaction
from django_filters.rest_framework import DjangoFilterBackend
from rest_framework import status, viewsets
from rest_framework.response import Response

from .filters import OrderingFilter, SearchFilter
from .parsers import JSONParser

FILTER_BACKENDS = [DjangoFilterBackend, SearchFilter, OrderingFilter]
# The API speaks JSON only (API.md); form encodings would only widen what can go wrong.
PARSERS = [JSONParser]


class ModelViewSet(viewsets.ModelViewSet):
    """A model viewset without PUT (partial updates only) whose write answers are read back through
    `get_queryset()`, so annotated fields (`late`, `open_blockers`, ...) appear in them too."""

    filter_backends = FILTER_BACKENDS
    parser_classes = PARSERS
    http_method_names = ["get", "post", "patch", "delete", "head", "options"]

    def perform_create(self, serializer):
        # A write and whatever it triggers (history row, re-scan request) commit together or not at all.
        with transaction.atomic():
            serializer.save()

    def perform_update(self, serializer):
        with transaction.atomic():
            serializer.save()

    def unsaved(self, serializer):
        """The object a write describes, not saved yet: the instance (or a new one of the serializer's model) with
        the validated fields set, for the service that checks the domain's rules and saves it (STYLE §15)."""
        instance = serializer.instance or serializer.Meta.model()
        for name, value in serializer.validated_data.items():
            setattr(instance, name, value)
        return instance

    def reloaded(self, instance):
        return self.get_queryset().get(pk=instance.pk)

    def answer(self, instance) -> dict:
        """What a write answers: the object read back as a read shows it."""
        return self.get_serializer(self.reloaded(instance)).data

    def create(self, request, *args, **kwargs):
        serializer = self.get_serializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        self.perform_create(serializer)
        answer = self.answer(serializer.instance)
        headers = self.get_success_headers(answer)
        return Response(answer, status=status.HTTP_201_CREATED, headers=headers)

    def update(self, request, *args, **kwargs):
        kwargs["partial"] = True
        serializer = self.get_serializer(self.get_object(), data=request.data, partial=True)
        serializer.is_valid(raise_exception=True)
        self.perform_update(serializer)
        return Response(self.answer(serializer.instance))
