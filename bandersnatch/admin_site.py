"""The Django admin, with the site's access rule: signed in without staff rights gives 403.

Django's own admin sends such users back to its sign-in form, which reads as
if they had not signed in at all.
"""

from functools import update_wrapper

from django.contrib import admin
from django.contrib.admin.apps import AdminConfig
from django.core.exceptions import PermissionDenied


class AdminSite(admin.AdminSite):
    site_header = "Bandersnatch administration"
    site_title = "Bandersnatch admin"

    def admin_view(self, view, cacheable=False):
        guarded_view = super().admin_view(view, cacheable)

        def inner(request, *args, **kwargs):
            if request.user.is_authenticated and not request.user.is_staff:
                raise PermissionDenied("Staff only.")
            return guarded_view(request, *args, **kwargs)

        return update_wrapper(inner, guarded_view)


class BandersnatchAdminConfig(AdminConfig):
    default_site = "bandersnatch.admin_site.AdminSite"
