"""factory_boy factories for the few models tests build by hand.

Units below the official divisions are made through `hongyan.orgs.services`, so that
their codes and paths come out the way the application makes them."""

import factory
from factory.django import DjangoModelFactory, Password

from hongyan.core.models import Grant, User
from hongyan.orgs.models import OrgKind, PartyOrganization

PASSWORD = "Hongyan-Test-2026"


class UserFactory(DjangoModelFactory):
    class Meta:
        model = User
        django_get_or_create = ("username",)

    username = factory.Sequence(lambda n: f"user{n}")
    display_name = factory.LazyAttribute(lambda o: f"测试账号 {o.username}")
    password = Password(PASSWORD)


class GrantFactory(DjangoModelFactory):
    class Meta:
        model = Grant

    user = factory.SubFactory(UserFactory)
    role = "street_admin"
    unit = None


class PartyOrganizationFactory(DjangoModelFactory):
    class Meta:
        model = PartyOrganization

    kind = OrgKind.BRANCH
    name = factory.LazyAttribute(lambda o: f"{o.unit.name}党支部")
    members_count = 5
