from django.urls import path

from . import views

app_name = "volunteers"
urlpatterns = [
    path("", views.index, name="index"),
    path("services/new/", views.service_new, name="service_new"),
    path("services/<int:pk>/", views.service_detail, name="service"),
    path("services/<int:pk>/do/<slug:step>/", views.service_step, name="step"),
    path("services/<int:pk>/entry/", views.service_entry, name="entry"),
    path("teams/", views.team_list, name="teams"),
    path("teams/new/", views.team_new, name="team_new"),
    path("teams/<int:pk>/", views.team_detail, name="team"),
    path("teams/<int:pk>/status/", views.team_status, name="team_status"),
    path("teams/<int:pk>/join/", views.team_join, name="team_join"),
    path("me/", views.my_record, name="me"),
    path("people/new/", views.volunteer_new, name="volunteer_new"),
    path("people/<int:pk>/", views.record, name="record"),
    path("people/<int:pk>/withdraw/", views.volunteer_withdraw, name="withdraw"),
    path("people/<int:pk>/certificate/", views.certificate_issue, name="certificate_issue"),
    path("certificates/<str:code>.pdf", views.certificate_pdf, name="certificate_pdf"),
]
