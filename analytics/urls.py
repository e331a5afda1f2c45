from django.urls import path

from . import views

app_name = "analytics"
urlpatterns = [
    path("view/", views.view, name="view"),
    path("view/figure", views.view_figure, name="figure"),
    path("analytics/", views.statistics_page, name="statistics"),
    path("datasets/", views.datasets, name="datasets"),
    path("datasets/new/", views.dataset_new, name="dataset-new"),
    path("datasets/new/<str:token>/", views.dataset_preview_page, name="dataset-preview"),
    path("datasets/<slug:slug>/", views.dataset_table, name="dataset"),
    path("datasets/<slug:slug>/rows/<int:pk>/", views.dataset_row, name="dataset-row"),
    path("datasets/<slug:slug>/suggestions", views.dataset_suggestions, name="dataset-suggestions"),
    path("datasets/<slug:slug>/view/", views.dataset_view, name="dataset-view"),
    path("datasets/<slug:slug>/view/figure", views.dataset_view_figure, name="dataset-figure"),
    path("datasets/<slug:slug>/export.csv", views.dataset_export, name="dataset-export"),
    path("datasets/<slug:slug>/analytics/", views.dataset_statistics, name="dataset-statistics"),
    path("datasets/<slug:slug>/delete/", views.dataset_delete_page, name="dataset-delete"),
    path("datasets/<slug:slug>/replace/", views.dataset_replace_page, name="dataset-replace"),
]
