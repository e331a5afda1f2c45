from django.contrib import admin
from django.urls import include, path

from .api import api

admin.site.site_header = "Bandersnatch administration"
admin.site.site_title = "Bandersnatch admin"

urlpatterns = [
    path("", include("monsters.urls")),
    path("", include("analytics.urls")),
    path("", include("ml.urls")),
    path("accounts/", include("django.contrib.auth.urls")),
    path("admin/", admin.site.urls),
    path("api/", api.urls),
]
