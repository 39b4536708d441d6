from django.urls import path

from . import views

app_name = "orgs"
urlpatterns = [
    path("", views.tree, name="tree"),
    path("<str:code>/", views.unit_detail, name="unit"),
    path("<str:code>/add-child/", views.unit_add_child, name="add_child"),
    path("<str:code>/add-org/", views.unit_add_org, name="add_org"),
    path("<str:code>/assign-cadre/", views.unit_assign_cadre, name="assign_cadre"),
]
