from django.urls import path

from . import views

app_name = "monsters"
urlpatterns = [
    path("", views.home, name="home"),
    path("data/", views.data, name="data"),
    path("data/export.csv", views.export_csv, name="export"),
    path("data/names", views.names, name="names"),
    path("monsters/<int:pk>/", views.detail, name="detail"),
    path("ops/reset/", views.reset, name="reset"),
    path("ops/import/", views.import_csv, name="import"),
]
