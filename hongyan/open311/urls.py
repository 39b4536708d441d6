from django.urls import path, re_path

from hongyan.needs import open311 as views

FMT = r"(?:\.(?P<fmt>xml|json))?$"

app_name = "open311"
urlpatterns = [
    re_path(r"^discovery" + FMT, views.discovery, name="discovery"),
    re_path(r"^services" + FMT, views.services, name="services"),
    re_path(r"^services/(?P<code>[-\w]+?)" + FMT, views.service_definition, name="service"),
    re_path(r"^requests" + FMT, views.requests, name="requests"),
    re_path(r"^requests/(?P<request_id>[-\w]+?)" + FMT, views.request_detail, name="request"),
    re_path(r"^tokens/(?P<token>[-\w]+?)" + FMT, views.token_detail, name="token"),
    path("", views.discovery),
]
