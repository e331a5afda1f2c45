from django.contrib import admin
from django.urls import include, path

from . import accounts, views
from .api import api

urlpatterns = [
    path("", include("monsters.urls")),
    path("", include("analytics.urls")),
    path("", include("ml.urls")),
    path("ops/", views.ops, name="ops"),
    path("ops/jobs/<uuid:pk>/", views.job_detail, name="job"),
    path("ops/jobs/<uuid:pk>/status", views.job_status, name="job-status"),
    path("accounts/signup/", accounts.signup, name="signup"),
    path("accounts/", include("django.contrib.auth.urls")),
    path("admin/", admin.site.urls),
    path("api/", api.urls),
]
