"""Route table of the tracking endpoints (mounted under api/ and ajax-api/)."""

from django.urls import URLPattern

urlpatterns: list[URLPattern] = []
