# This file is part of lk.  The COPYRIGHT file at the top level of
# this repository contains the full copyright notices and license terms.
from trytond.pool import Pool, PoolMeta
from trytond.transaction import Transaction, without_check_access


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
