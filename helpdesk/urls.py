from django.contrib import admin
from django.urls import include, path
from drf_spectacular.views import SpectacularAPIView, SpectacularSwaggerView

from helpdesk.health import healthz

admin.site.site_header = "Support desk"
admin.site.site_title = "Support desk admin"

urlpatterns = [
    path("", include("frontend.urls")),
    path("widget/v1/", include("chat.urls")),
    path("healthz", healthz, name="healthz"),
    path("admin/", admin.site.urls),
    path("api/v1/", include("helpdesk.api_urls")),
    path("api/schema/", SpectacularAPIView.as_view(permission_classes=[]), name="api-schema"),
    path(
        "api/docs/",
        SpectacularSwaggerView.as_view(url_name="api-schema", permission_classes=[]),
        name="api-docs",
    ),
]
