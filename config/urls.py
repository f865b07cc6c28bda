"""The URL table: every app's MLflow operations under both api/ and ajax-api/."""

from django.contrib import admin
from django.urls import include, path

from config import observability, views
from registry.urls import artifact_ui_routes as registry_ui_routes
from tracking.urls import artifact_ui_routes

API_ROUTE_MODULES = ["workspaces.urls", "tracking.urls", "registry.urls", "permissions.urls"]

api_patterns = [path("", include(module)) for module in API_ROUTE_MODULES]

urlpatterns = [
    path("health", views.health),
    path("version", views.version),
    path("metrics", observability.metrics),  # Prometheus text format
    path("admin/", admin.site.urls),
    path("api/", include(api_patterns)),
    path("ajax-api/", include(api_patterns)),
    # The UI's artifact downloads, outside /api/ (tracking.md §7.3).
    path("", include(artifact_ui_routes)),
    path("", include(registry_ui_routes)),
]

handler404 = "config.errors.handler404"
handler500 = "config.errors.handler500"
