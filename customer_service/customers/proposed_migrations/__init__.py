"""Migrations a team has written but not shipped: the lab rehearses them.

Each module holds one Django ``Migration``, exactly as ``makemigrations``
would write it into ``customers/migrations/``. Kept out of that folder so
that ``migrate`` never applies them for good; ``manage.py --service customer
rehearse_migration <name>`` applies one to the database and reverts it, as a
release and its rollback would (the lab's ``schema-change`` scenario).
"""
