from django.contrib import admin
from django.urls import include, path
from drf_spectacular.views import SpectacularAPIView, SpectacularSwaggerSplitView

from helpdesk.health import healthz
from helpdesk.security import csp_extended
from helpdesk.tickets.views import attachment_download

admin.site.site_header = "Support desk"
admin.site.site_title = "Support desk admin"

urlpatterns = [
    path("", include("frontend.urls")),
    path("widget/v1/", include("chat.urls")),
    path("widget/v1/surveys/", include("surveys.widget_urls")),
    path("survey/", include("surveys.urls")),
    path("healthz", healthz, name="healthz"),
    path("attachments/<int:attachment_id>/", attachment_download, name="attachment"),
    path("attachments/<int:attachment_id>/<path:name>", attachment_download, name="attachment-named"),
    path("admin/", admin.site.urls),
    path("api/v1/", include("helpdesk.api_urls")),
    path("api/schema/", SpectacularAPIView.as_view(permission_classes=[]), name="api-schema"),
    # The split view serves Swagger UI's start-up script as a file (?script), not inline;
    # the page's own small <style> stays inline.
    path(
        "api/docs/",
        csp_extended(style_src=["'unsafe-inline'"])(
            SpectacularSwaggerSplitView.as_view(url_name="api-schema", permission_classes=[])
        ),
        name="api-docs",
    ),
]
