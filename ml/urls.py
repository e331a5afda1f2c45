from django.urls import path

from . import views

app_name = "ml"
urlpatterns = [
    path("model/", views.predict, name="predict"),
    path("model/monitoring/", views.monitoring, name="monitoring"),
    path("model/versions/", views.version_list, name="versions"),
    path("model/versions/compare/", views.version_compare, name="compare"),
    path("model/versions/<int:number>/", views.version_detail, name="version"),
    path("model/versions/<int:number>/activate/", views.activate, name="activate"),
    path("model/versions/<int:number>/download", views.download, name="download-version"),
    path("model/versions/<int:number>/card.json", views.card, name="card"),
    path("model/download", views.download, name="download"),
    path("model/rollback/", views.rollback, name="rollback"),
    path("ops/train/", views.train, name="train"),
    path("datasets/<slug:slug>/model/", views.dataset_predict, name="dataset-predict"),
    path("datasets/<slug:slug>/feedback-rows/", views.feedback_rows, name="feedback-rows"),
    path("model/predictions/<uuid:prediction_id>/feedback/", views.feedback_page, name="feedback"),
    path("datasets/<slug:slug>/train/", views.dataset_train, name="dataset-train"),
]
