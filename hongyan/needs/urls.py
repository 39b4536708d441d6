from django.urls import path

from . import views

app_name = "needs"
urlpatterns = [
    # staff and residents with an account
    path("needs/", views.queue, name="queue"),
    path("needs/new/", views.need_new, name="new"),
    path("needs/mine/", views.my_needs, name="mine"),
    path("needs/mine/new/", views.my_need_new, name="mine_new"),
    path("needs/<int:pk>/", views.need_detail, name="detail"),
    path("needs/<int:pk>/do/<slug:step>/", views.need_step, name="step"),
    path("needs/<int:pk>/photos/<int:photo_id>/", views.need_photo, name="photo"),
    path("needs/<int:pk>/reveal/", views.need_reveal, name="reveal"),
    path("needs/notices/", views.notices, name="notices"),
    path("needs/rates/<str:code>/", views.rates_panel, name="rates_panel"),
    path("needs/categories/", views.categories, name="categories"),
    path("needs/categories/new/", views.category_edit, name="category_new"),
    path("needs/categories/<slug:code>/", views.category_edit, name="category_edit"),
    path("needs/notices/<int:pk>/read/", views.notice_read, name="notice_read"),
    # the public pages: no account
    path("report/", views.public_report, name="report"),
    path("report/places/<slug:level>/", views.public_places, name="places"),
    path("report/similar/", views.public_similar, name="similar"),
    path("report/join/", views.public_join, name="join"),
    path("follow/<str:token>/", views.follow, name="follow"),
    path("follow/<str:token>/rate/", views.follow_rate, name="follow_rate"),
    path("follow/<str:token>/photos/<int:photo_id>/", views.follow_photo, name="follow_photo"),
]
