# This file is part of lk.  The COPYRIGHT file at the top level of
# this repository contains the full copyright notices and license terms.
"Helpers for the scenarios of lk modules (proteus)"
from proteus import Model
from proteus.config import get_config

__all__ = ['load_russian', 'create_organization', 'create_staff']


def load_russian(config=None):
    "Make Russian translatable, load its translations and use it"
    Lang = Model.get('ir.lang', config=config)
    User = Model.get('res.user', config=config)
    russian, = Lang.find([('code', '=', 'ru')])
    russian.click('load_translations')
    if not config:
        config = get_config()
    admin = User(config.user)
    admin.language = russian
    admin.save()
    config._context = User.get_preferences(True, {})
    return russian


def create_organization(name, short_name=None, parent=None, config=None):
    "Create an organization in rubles, under parent if given"
    Party = Model.get('party.party', config=config)
    Company = Model.get('company.company', config=config)
    Currency = Model.get('currency.currency', config=config)
    rubles = Currency.find([('code', '=', 'RUB')])
    if rubles:
        ruble, = rubles
    else:
        ruble = Currency(
            name="Российский рубль", code='RUB', symbol='₽', digits=2)
        ruble.save()
    party = Party(name=name)
    party.save()
    organization = Company(
        party=party, currency=ruble, short_name=short_name, parent=parent)
    organization.save()
    return organization


def create_staff(login, organization, rights, config=None):
    "Create a staff user of the organization with the lk_base rights named"
    User = Model.get('res.user', config=config)
    Group = Model.get('res.group', config=config)
    ModelData = Model.get('ir.model.data', config=config)
    Company = Model.get('company.company', config=config)
    user = User(login=login, name=login)
    user.companies.append(Company(organization.id))
    user.company = Company(organization.id)
    for right in rights:
        user.groups.append(Group(ModelData.get_id('lk_base', right, {})))
    user.save()
    return user
