from django.urls import path

from . import views

app_name = "workdays"
urlpatterns = [
    path("", views.calendar_page, name="calendar"),
    path("<int:year>/clear/", views.calendar_clear, name="clear"),
]
