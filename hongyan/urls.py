from django.urls import include, path

from hongyan.core.api import api
from hongyan.volunteers import views as volunteer_views

# a lost database answers 503 with Retry-After (core.middleware), not a bare 500
handler500 = "hongyan.core.middleware.server_error"

urlpatterns = [
    path("api/v1/", api.urls),
    path("i18n/", include("django.conf.urls.i18n")),
    path("", include("hongyan.core.urls")),
    path("units/", include("hongyan.orgs.urls")),
    path("members/", include("hongyan.members.urls")),
    path("exports/", include("hongyan.exports.urls")),
    path("workdays/", include("hongyan.workdays.urls")),
    path("open311/v2/", include("hongyan.open311.urls")),
    path("care/", include("hongyan.care.urls")),
    path("", include("hongyan.needs.urls")),
    path("volunteers/", include("hongyan.volunteers.urls")),
    # public: anyone checks a volunteer certificate's code (no account)
    path(
        "certificates/verify/<str:code>",
        volunteer_views.certificate_verify,
        name="certificate_verify",
    ),
]
