from django.urls import path

from . import views

app_name = "members"
urlpatterns = [
    path("", views.member_list, name="list"),
    path("new/", views.member_create, name="create"),
    path("import/", views.member_import, name="import"),
    path("import/commit/", views.member_import_commit, name="import_commit"),
    path("import/progress/", views.member_import_progress, name="import_progress"),
    path("import/report.xlsx", views.member_import_report, name="import_report"),
    path("import/template.xlsx", views.member_import_template, name="import_template"),
    path("export.xlsx", views.member_export, name="export"),
    path("dual/", views.dual, name="dual"),
    path("dual/register/", views.dual_register, name="dual_register"),
    path("dual/confirm/", views.dual_confirm, name="dual_confirm"),
    path("dual/<str:code>/pairing/", views.dual_pairing, name="dual_pairing"),
    path("units/<str:code>/network/", views.unit_network, name="network"),
    path("<int:member_id>/", views.member_detail, name="detail"),
    path("<int:member_id>/edit/", views.member_edit, name="edit"),
    path("<int:member_id>/reveal/", views.member_reveal, name="reveal"),
    path("<int:member_id>/transfer/", views.member_transfer, name="transfer"),
    path("<int:member_id>/remove/", views.member_remove, name="remove"),
]
