"""The portal's language: Django's LocaleMiddleware (the browser's Accept-Language, or the language cookie the
switch sets), on the portal's own paths only. Everywhere else the language stays LANGUAGE_CODE: the API's error
messages are part of its contract (API.md), and the admin's and the dashboard's own texts are not translated, so a
German browser would get a page half in German."""

from django.conf import settings
from django.middleware.locale import LocaleMiddleware
from django.utils import translation

PORTAL_PREFIX = "/supplier/"


class PortalLocaleMiddleware(LocaleMiddleware):
    def process_request(self, request):
        if request.path_info.startswith(PORTAL_PREFIX):
            return super().process_request(request)
        translation.activate(settings.LANGUAGE_CODE)
        request.LANGUAGE_CODE = translation.get_language()
        return None

    def process_response(self, request, response):
        if request.path_info.startswith(PORTAL_PREFIX):
            return super().process_response(request, response)
        return response
