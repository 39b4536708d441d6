from django.urls import include, path

from hongyan.core.api import api

urlpatterns = [
    path("api/v1/", api.urls),
    path("i18n/", include("django.conf.urls.i18n")),
    path("", include("hongyan.core.urls")),
    path("units/", include("hongyan.orgs.urls")),
    path("members/", include("hongyan.members.urls")),
]
