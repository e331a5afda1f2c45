from django.contrib import admin
from django.contrib.auth import views as auth_views
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
    path("ops/jobs/<uuid:pk>/cancel/", views.job_cancel_page, name="job-cancel"),
    # Django's account views, beside sign-up and the account page of ours.
    path("accounts/", accounts.account, name="account"),
    path("accounts/tokens/<int:pk>/revoke/", accounts.api_token_revoke, name="api-token-revoke"),
    path("accounts/signup/", accounts.signup, name="signup"),
    path("accounts/login/", accounts.sign_in, name="login"),
    path("accounts/logout/", auth_views.LogoutView.as_view(), name="logout"),
    path("accounts/password_change/", auth_views.PasswordChangeView.as_view(), name="password_change"),
    path(
        "accounts/password_change/done/",
        auth_views.PasswordChangeDoneView.as_view(),
        name="password_change_done",
    ),
    path("accounts/password_reset/", accounts.password_reset, name="password_reset"),
    path(
        "accounts/password_reset/done/",
        auth_views.PasswordResetDoneView.as_view(),
        name="password_reset_done",
    ),
    path(
        "accounts/reset/<uidb64>/<token>/",
        auth_views.PasswordResetConfirmView.as_view(),
        name="password_reset_confirm",
    ),
    path(
        "accounts/reset/done/",
        auth_views.PasswordResetCompleteView.as_view(),
        name="password_reset_complete",
    ),
    path("admin/", admin.site.urls),
    path("api/", api.urls),
    path("metrics", views.metrics, name="metrics"),  # Prometheus's usual address, no slash
]

# Also answers 503 while the database cannot be reached (see the view).
handler500 = "bandersnatch.views.server_error"
