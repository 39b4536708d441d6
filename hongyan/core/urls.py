from django.urls import path

from . import account_views, views

app_name = "core"
urlpatterns = [
    path("", views.home, name="home"),
    path("login/", views.login_view, name="login"),
    path("login/verify/", account_views.login_verify, name="login_verify"),
    path("account/totp/", account_views.totp_view, name="totp"),
    path("account/recovery-codes/", account_views.recovery_codes, name="recovery_codes"),
    path("account/step-up/", account_views.step_up_view, name="step_up"),
    path("accounts/", account_views.account_list, name="accounts"),
    path("accounts/new/", account_views.account_new, name="account_new"),
    path("accounts/detail/", account_views.account_detail, name="account"),
    path("logout/", views.logout_view, name="logout"),
    path("password/", views.password_change_view, name="password_change"),
    path("audit/", views.audit_log, name="audit_log"),
    path("audit/export.csv", views.audit_export, name="audit_export"),
]
