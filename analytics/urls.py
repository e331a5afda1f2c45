from django.urls import path

from . import views

app_name = "analytics"
urlpatterns = [
    path("view/", views.view, name="view"),
    path("view/figure", views.view_figure, name="figure"),
    path("analytics/", views.statistics_page, name="statistics"),
]
