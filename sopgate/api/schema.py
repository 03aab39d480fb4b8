"""The API's OpenAPI description for integrators (drf-spectacular's public extension points): a summary per
operation, and the error answers every operation can give, each with the shape of SOPGate's error bodies."""

from drf_spectacular.openapi import AutoSchema as SpectacularAutoSchema

_SUMMARIES = {
    "list": "List {plural}",
    "retrieve": "Read one {name}",
    "create": "Create {article} {name}",
    "partial_update": "Change {article} {name}",
    "update": "Change {article} {name}",
    "destroy": "Delete {article} {name}",
}


class AutoSchema(SpectacularAutoSchema):
    def get_summary(self):
        """ "List parts", "Change a handover item", ...: from the action and the model's verbose names."""
        action = getattr(self.view, "action", None)
        try:
            model = self.view.get_queryset().model  # lazy: builds the queryset, runs no query
        except Exception:  # a view whose queryset needs what a schema request does not have (a path's part)
            model = getattr(getattr(self.view.get_serializer_class(), "Meta", None), "model", None)
        if action not in _SUMMARIES or model is None:
            return super().get_summary()
        name, plural = str(model._meta.verbose_name), str(model._meta.verbose_name_plural)
        article = "an" if name[:1].lower() in "aeiou" else "a"
        return _SUMMARIES[action].format(name=name, plural=plural, article=article)


ERROR = {
    "description": "An object whose keys name a field (or `detail`, `non_field_errors`) and whose values list the "
    "reasons; for a list body, a list of such objects by item index. A 429 for the daily limit also carries `limit`, "
    "`stored_today` and `requested`.",
    "oneOf": [{"type": "object"}, {"type": "array", "items": {"type": "object"}}],
    "example": {"promised_date": ["Date has wrong format. Use one of these formats instead: YYYY-MM-DD."]},
}
_ERRORS = {
    "400": "Bad input: the body names each field and the reason; nothing was changed.",
    "401": "No token, or a token that is unknown, expired, or whose user or supplier is inactive.",
    "403": "Your role may not do this; the body names who may.",
    "404": "No such object, or one that is not yours (another supplier's answers exactly like a missing one).",
    "409": "Refused because of what refers to the object (e.g. a part with supplier updates is kept).",
    "413": "The body is larger than the limit it names.",
    "429": "Too many requests (the API throttle, or a supplier's daily update limit); wait `Retry-After` seconds.",
}


def add_error_responses(result, generator, request, public):
    """A postprocessing hook: every operation documents the error answers it can give, with the error body's shape,
    unless its view declared one itself."""
    result.setdefault("components", {}).setdefault("schemas", {})["Error"] = ERROR
    reference = {"application/json": {"schema": {"$ref": "#/components/schemas/Error"}}}
    for path, operations in result.get("paths", {}).items():
        for method, operation in operations.items():
            if method not in ("get", "post", "patch", "put", "delete"):
                continue
            codes = ["401", "403", "429"]
            if "{" in path:
                codes.append("404")
            if method in ("post", "patch", "put"):
                codes += ["400", "413"]
            if method == "delete":
                codes.append("409")
            if path.startswith("/api/schema") or path.startswith("/api/docs"):
                continue
            responses = operation.setdefault("responses", {})
            for code in codes:
                responses.setdefault(code, {"description": _ERRORS[code], "content": reference})
    return result
