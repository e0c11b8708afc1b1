# This file is part of lk.  The COPYRIGHT file at the top level of
# this repository contains the full copyright notices and license terms.
from trytond.i18n import gettext
from trytond.pool import Pool, PoolMeta
from trytond.transaction import Transaction, without_check_access

from .exceptions import PreferencesCompanyError


class User(metaclass=PoolMeta):
    __name__ = 'res.user'

    @classmethod
    def get_companies(cls):
        """Extend the company list with the sub-organizations.

        The company record rules of every model test `company in companies`,
        so staff of an organization see its sub-organizations' records and
        the service operator sees every organization's."""
        pool = Pool()
        Company = pool.get('company.company')
        ModelData = pool.get('ir.model.data')
        transaction = Transaction()
        user_id = transaction.user
        if '_companies' in transaction.context:
            return transaction.context['_companies']
        companies = cls._get_companies_cache.get(user_id)
        if companies is not None:
            return companies
        companies = super().get_companies()
        with without_check_access():
            everywhere = {
                ModelData.get_id('lk_base', 'group_operator'),
                # the portal's rules are keyed to the subscriber user
                ModelData.get_id('lk_base', 'group_portal'),
                }
            if user_id and everywhere & set(cls.get_groups()):
                subtree = Company.search([], order=[('id', 'ASC')])
            elif companies:
                subtree = Company.search(
                    [('parent', 'child_of', companies)],
                    order=[('id', 'ASC')])
            else:
                subtree = []
        companies = tuple(companies) + tuple(
            c.id for c in subtree if c.id not in companies)
        return cls._get_companies_cache.set(user_id, companies)

    @classmethod
    def lk_operator(cls):
        """Whether the user acts for the whole service: code running as root
        or the service operator"""
        if not Transaction().user:
            return True
        return cls._lk_in_group('group_operator')

    @classmethod
    def lk_portal(cls):
        """Whether the user is the portal's, acting for the subscriber user
        of the context"""
        if not Transaction().user:
            return False
        return cls._lk_in_group('group_portal')

    @classmethod
    def _lk_in_group(cls, group):
        "Whether the user is in the lk_base group of the XML id"
        pool = Pool()
        ModelData = pool.get('ir.model.data')
        with without_check_access():
            group_id = ModelData.get_id('lk_base', group)
        return group_id in cls.get_groups()

    @classmethod
    def lk_user_companies(cls):
        """The ids of the organizations the user may work for: their
        companies with the sub-organizations, every one for the operator"""
        pool = Pool()
        Company = pool.get('company.company')
        with without_check_access():
            if cls.lk_operator():
                domain = []
            else:
                user = cls(Transaction().user)
                domain = [('parent', 'child_of', [
                            c.id for c in user.companies])]
            return {c.id for c in Company.search(domain)}

    @classmethod
    def set_preferences(cls, values):
        asked = []
        if values.get('company') is not None:
            asked.append(values['company'])
        if values.get('companies') is not None:
            companies = values['companies']
            asked.extend(
                companies if isinstance(companies, list) else [companies])
        if asked:
            allowed = cls.lk_user_companies()
            refused = [
                c for c in asked
                if not isinstance(c, int) or isinstance(c, bool)
                or c not in allowed]
            if refused:
                # only the ids: another organization's name is not theirs
                # to read
                raise PreferencesCompanyError(gettext(
                        'lk_base.msg_preferences_company',
                        companies=', '.join(str(c)[:20] for c in refused)))
        super().set_preferences(values)
