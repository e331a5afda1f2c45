from django.urls import path

from . import views

app_name = "analytics"
urlpatterns = [
    path("view/", views.view, name="view"),
    path("view/figure", views.view_figure, name="figure"),
    path("analytics/", views.statistics_page, name="statistics"),
    path("datasets/", views.datasets, name="datasets"),
    path("datasets/<slug:slug>/", views.dataset_table, name="dataset"),
    path("datasets/<slug:slug>/rows/<int:pk>/", views.dataset_row, name="dataset-row"),
]
