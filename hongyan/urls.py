from django.urls import include, path

from hongyan.core.api import api

urlpatterns = [
    path("api/v1/", api.urls),
    path("", include("hongyan.core.urls")),
    path("units/", include("hongyan.orgs.urls")),
]
