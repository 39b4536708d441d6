from django.urls import path

from . import views

app_name = "care"
urlpatterns = [
    path("", views.visits, name="visits"),
    path("recipients/", views.recipient_list, name="list"),
    path("groups/", views.groups, name="groups"),
    path("recipients/new/", views.recipient_new, name="new"),
    path("recipients/<int:pk>/", views.recipient_detail, name="detail"),
    path("recipients/<int:pk>/edit/", views.recipient_edit, name="edit"),
    path("recipients/<int:pk>/reveal/", views.recipient_reveal, name="reveal"),
    path("recipients/<int:pk>/visit/", views.visit_new, name="log"),
    path("visits/<int:pk>/", views.visit_detail, name="visit"),
    path("visits/<int:pk>/need/", views.visit_need, name="need"),
]
