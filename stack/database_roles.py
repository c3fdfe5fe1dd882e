"""Least privilege in PostgreSQL: which role may do what, in which database.

No service connects as the superuser. On a server the platform manages (the
embedded one, or the one ``DATABASE_SERVER_URL`` names) each run, named by
its ``DATABASE_NAME_PREFIX``, gets roles of its own:

* ``<prefix>platform_owner`` owns the write databases and every table in
  them. Only ``migrate`` logs in as it (``DATABASE_MIGRATION_USER``): a
  schema change is the one job that needs the owner.
* ``<prefix>customer_writer`` and ``<prefix>order_writer``: what each
  service's processes connect to its write database as. Rows only (SELECT,
  INSERT, UPDATE, DELETE), and on ``event_store`` only SELECT and INSERT.
  Both work in ``platform_shared``: sharing it is approach 1's flaw.
* ``<prefix>analytics_writer``: the analytics service's, a service that
  joins later (``JOINING_SERVICES``); it opens its own database only.
* ``<prefix>customer_projector`` and ``<prefix>order_projector`` own their
  service's read database (a rebuild swaps whole tables, which only an owner
  may) and cannot even connect to a write database.

What a learner should notice:

* The event store is append-only twice over. The writer was never granted
  UPDATE, DELETE or TRUNCATE on it, so PostgreSQL refuses the statement
  before it touches a row; the trigger (migration 0002) stays behind that
  and stops even the owner's UPDATE and DELETE.
* Grants for tables that do not exist yet: ``ALTER DEFAULT PRIVILEGES`` gives
  the writer the rows of every table the owner creates later, so a new
  migration needs no grant of its own; migration 0005 takes back from
  ``event_store`` what the default privileges gave it.
* CONNECT is taken from PUBLIC: a writer cannot open a read database, a
  projector cannot open a write database, neither can open another run's.
* The bound is on what the services' connections can do, and so on what a
  bug or an SQL injection through them can do. Locally each process is also
  given ``DATABASE_SERVER_URL`` (the superuser) to create databases; in
  production a service is given its own credentials only.

Passwords come from the environment (``CUSTOMER_DATABASE_PASSWORD`` and the
rest of :data:`ROLE_PASSWORD_SECRETS`); locally they are generated once into
``var/platform.env``, like the other local secrets. Role names carry the
prefix, so two runs on one server never share a role, and a role is dropped
with the last database it serves (``stack.postgres.drop_databases``).
"""

from __future__ import annotations

import sys
from collections.abc import Mapping
from dataclasses import dataclass, field

from psycopg2 import sql

from shared_events.configuration import (
    JOINING_DATABASE_NAMES,
    JOINING_SERVICES,
    READ_DATABASE_NAMES,
    SERVICE_DATABASE_NAMES,
    SERVICES,
    SHARED_DATABASE_NAME,
    ConfigurationError,
)
from stack.connections import open_connection
from stack.postgres import PLATFORM_ROLE_COMMENT

# Every process of a platform runs this at start (several at once under
# manage.py up), and PostgreSQL answers two concurrent GRANTs on one object
# with "tuple concurrently updated": one advisory lock takes them in turn.
ROLES_LOCK = 7_310_015
# PostgreSQL cuts longer names to 63 bytes, silently: two prefixes could
# then name one role.
MAX_NAME_LENGTH = 63

# The variables a process reads each role from: <VARIABLES>_USER and
# <VARIABLES>_PASSWORD (service_kit/settings/databases.py).
MIGRATION_VARIABLES = "DATABASE_MIGRATION"


def write_variables(service: str) -> str:
    return f"{service.upper()}_DATABASE"


def read_variables(service: str) -> str:
    return f"{service.upper()}_READ_DATABASE"


#: The local secrets ``stack.environment.ensure_local_secrets`` generates.
ROLE_PASSWORD_SECRETS = (
    f"{MIGRATION_VARIABLES}_PASSWORD",
    *(f"{write_variables(service)}_PASSWORD" for service in SERVICES),
    *(f"{read_variables(service)}_PASSWORD" for service in SERVICES),
    *(f"{write_variables(service)}_PASSWORD" for service in JOINING_SERVICES),
)


@dataclass(frozen=True)
class Role:
    """A login role, and the variables a process finds its credentials in."""

    name: str
    password: str = field(repr=False)  # kept out of logs and test reports
    variables: str

    def environment(self) -> dict[str, str]:
        return {
            f"{self.variables}_USER": self.name,
            f"{self.variables}_PASSWORD": self.password,
        }


@dataclass(frozen=True)
class DatabaseAccess:
    """Who owns one database, and who may read and write its rows."""

    owner: Role
    writers: tuple[Role, ...] = ()


@dataclass(frozen=True)
class PlatformRoles:
    """The roles of one run (one ``DATABASE_NAME_PREFIX``)."""

    prefix: str
    owner: Role
    writers: Mapping[str, Role]
    projectors: Mapping[str, Role]

    def write_access(self, service: str) -> DatabaseAccess:
        return DatabaseAccess(owner=self.owner, writers=(self.writers[service],))

    def read_access(self, service: str) -> DatabaseAccess:
        return DatabaseAccess(owner=self.projectors[service])

    def databases(self) -> dict[str, DatabaseAccess]:
        """Every database of the run (``all_database_names``), with its access."""
        shared = DatabaseAccess(
            owner=self.owner, writers=tuple(self.writers[s] for s in SERVICES)
        )
        return {
            self.prefix + SHARED_DATABASE_NAME: shared,
            **{
                self.prefix + SERVICE_DATABASE_NAMES[service]: self.write_access(
                    service
                )
                for service in SERVICES
            },
            **{
                self.prefix + READ_DATABASE_NAMES[service]: self.read_access(service)
                for service in SERVICES
            },
            # A joining service's writer opens its own database only.
            **{
                self.prefix + JOINING_DATABASE_NAMES[service]: self.write_access(
                    service
                )
                for service in JOINING_SERVICES
            },
        }

    def environment(self) -> dict[str, str]:
        """The variables the services' settings read their credentials from."""
        environment: dict[str, str] = {}
        for role in (self.owner, *self.writers.values(), *self.projectors.values()):
            environment |= role.environment()
        return environment


def platform_roles(*, prefix: str, env: Mapping[str, str]) -> PlatformRoles:
    """The roles of the run ``prefix``, their passwords read from ``env``."""

    def role(name: str, variables: str) -> Role:
        name = prefix + name
        if len(name.encode()) > MAX_NAME_LENGTH:
            raise ConfigurationError(
                f"DATABASE_NAME_PREFIX {prefix!r} is too long: role {name} would "
                f"pass PostgreSQL's {MAX_NAME_LENGTH}-byte limit"
            )
        password = env.get(f"{variables}_PASSWORD", "")
        if not password:
            raise ConfigurationError(
                f"no password for the database role {name}: set "
                f"{variables}_PASSWORD (locally, stack.environment."
                "ensure_local_secrets generates it into var/platform.env)"
            )
        return Role(name=name, password=password, variables=variables)

    return PlatformRoles(
        prefix=prefix,
        owner=role("platform_owner", MIGRATION_VARIABLES),
        writers={
            s: role(f"{s}_writer", write_variables(s))
            for s in (*SERVICES, *JOINING_SERVICES)
        },
        projectors={s: role(f"{s}_projector", read_variables(s)) for s in SERVICES},
    )


def secure_platform(
    *, server_url: str, prefix: str, env: Mapping[str, str]
) -> PlatformRoles | None:
    """Roles and grants for every database of the run ``prefix``; its roles.

    None when the server's user is no superuser: then the platform may not
    make roles, and the services connect as that user, as they did before.
    """
    roles = platform_roles(prefix=prefix, env=env)
    if not secure_databases(server_url=server_url, databases=roles.databases()):
        print(
            "note: the user of DATABASE_SERVER_URL is no superuser, so the "
            "platform makes no roles: the services connect as that user",
            file=sys.stderr,
        )
        return None
    return roles


def secure_databases(
    *, server_url: str, databases: Mapping[str, DatabaseAccess]
) -> bool:
    """Make the roles, then hand each database to its owner with its grants.

    The one function the platform and the tests both use: ``prepare`` calls
    it for a run's databases, a test for the test database pytest-django
    made. False (and nothing done) when the server's user is no superuser.

    Cheap when done before: a database already owned by its owner role was
    secured then, and default privileges cover the tables made since; only
    the roles' passwords are set again, in case they changed.
    """
    roles = {
        role.name: role
        for access in databases.values()
        for role in (access.owner, *access.writers)
    }
    with (
        open_connection(
            server_url, autocommit=True, dbname="postgres", connect_timeout=10
        ) as admin,
        admin.cursor() as cursor,
    ):
        cursor.execute("SELECT rolsuper FROM pg_roles WHERE rolname = current_user")
        if not cursor.fetchone()[0]:
            return False
        # Held until this connection closes.
        cursor.execute("SELECT pg_advisory_lock(%s)", [ROLES_LOCK])
        for role in roles.values():
            _ensure_role(cursor, role)
        cursor.execute(
            "SELECT datname, pg_get_userbyid(datdba) FROM pg_database"
            " WHERE datname = ANY(%s)",
            (list(databases),),
        )
        owners = dict(cursor.fetchall())
        for name, access in databases.items():
            if name not in owners:
                raise ConfigurationError(f"database {name} does not exist")
            if owners[name] == access.owner.name:
                continue
            _grant_in_database(server_url, name, access)
            _hand_over_database(cursor, name, access)
    return True


def _ensure_role(cursor, role: Role) -> None:
    """Create the role, or set its password again; never touch another's role."""
    cursor.execute(
        "SELECT shobj_description(oid, 'pg_authid') FROM pg_roles WHERE rolname = %s",
        [role.name],
    )
    found = cursor.fetchone()
    name, password = sql.Identifier(role.name), sql.Literal(role.password)
    if found is None:
        # Not a superuser, no CREATEDB, no CREATEROLE: PostgreSQL's defaults.
        cursor.execute(
            sql.SQL("CREATE ROLE {} LOGIN PASSWORD {}").format(name, password)
        )
        cursor.execute(
            sql.SQL("COMMENT ON ROLE {} IS {}").format(
                name, sql.Literal(PLATFORM_ROLE_COMMENT)
            )
        )
    elif found[0] != PLATFORM_ROLE_COMMENT:
        raise ConfigurationError(
            f"the server already has a role {role.name} that the platform did not "
            "make: choose another DATABASE_NAME_PREFIX"
        )
    else:
        cursor.execute(
            sql.SQL("ALTER ROLE {} LOGIN PASSWORD {}").format(name, password)
        )


# Objects in the database's own schemas not owned by the owner yet: those
# made before the roles existed (an older platform's data, or what
# pytest-django made as the superuser). A sequence that belongs to a column
# moves with its table; an extension's objects stay the extension's.
_FOREIGN_OWNED = """
SELECT kind, object FROM (
    SELECT CASE c.relkind WHEN 'v' THEN 'VIEW' WHEN 'm' THEN 'MATERIALIZED VIEW'
               WHEN 'S' THEN 'SEQUENCE' WHEN 'f' THEN 'FOREIGN TABLE'
               ELSE 'TABLE' END AS kind,
           c.oid::regclass::text AS object, c.relowner AS owner, n.nspname,
           c.oid AS oid, 'pg_class'::regclass AS catalog
    FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
    WHERE c.relkind IN ('r', 'p', 'v', 'm', 'S', 'f')
    UNION ALL
    SELECT 'ROUTINE', p.oid::regprocedure::text, p.proowner, n.nspname,
           p.oid, 'pg_proc'::regclass
    FROM pg_proc p JOIN pg_namespace n ON n.oid = p.pronamespace
    UNION ALL
    SELECT 'SCHEMA', quote_ident(n.nspname), n.nspowner, n.nspname,
           n.oid, 'pg_namespace'::regclass
    FROM pg_namespace n
) AS candidate
WHERE nspname !~ '^pg_' AND nspname <> 'information_schema'
  AND owner <> {owner}::regrole
  AND NOT EXISTS (
      SELECT 1 FROM pg_depend d
      WHERE d.classid = candidate.catalog AND d.objid = candidate.oid
        AND d.deptype IN ('a', 'i', 'e'))
ORDER BY kind = 'SCHEMA' DESC
"""


def _grant_in_database(server_url: str, name: str, access: DatabaseAccess) -> None:
    """Inside one database: the owner owns everything, the writers get rows."""
    owner = sql.Identifier(access.owner.name)
    with (
        open_connection(server_url, dbname=name, connect_timeout=10) as connection,
        connection.cursor() as cursor,
    ):
        cursor.execute(
            sql.SQL(_FOREIGN_OWNED).format(owner=sql.Literal(access.owner.name))
        )
        for kind, target in cursor.fetchall():
            cursor.execute(
                sql.SQL("ALTER {} {} OWNER TO {}").format(
                    sql.SQL(kind), sql.SQL(target), owner
                )
            )
        # Until PostgreSQL 15 every role could create tables in public.
        cursor.execute("REVOKE ALL ON SCHEMA public FROM PUBLIC")
        for writer in access.writers:
            _grant_rows(cursor, owner=owner, writer=sql.Identifier(writer.name))
        connection.commit()


def _grant_rows(cursor, *, owner: sql.Identifier, writer: sql.Identifier) -> None:
    """Rows of every table, now and later; of the event store, add and read only."""
    statements = [
        "GRANT USAGE ON SCHEMA public TO {writer}",
        "ALTER DEFAULT PRIVILEGES FOR ROLE {owner} IN SCHEMA public"
        " GRANT SELECT, INSERT, UPDATE, DELETE ON TABLES TO {writer}",
        "ALTER DEFAULT PRIVILEGES FOR ROLE {owner} IN SCHEMA public"
        " GRANT USAGE, SELECT ON SEQUENCES TO {writer}",
        "GRANT SELECT, INSERT, UPDATE, DELETE ON ALL TABLES IN SCHEMA public"
        " TO {writer}",
        "GRANT USAGE, SELECT ON ALL SEQUENCES IN SCHEMA public TO {writer}",
    ]
    for statement in statements:
        cursor.execute(sql.SQL(statement).format(owner=owner, writer=writer))
    # A table made later gets this from migration 0005 (the event store's).
    cursor.execute("SELECT to_regclass('public.event_store') IS NOT NULL")
    if cursor.fetchone()[0]:
        cursor.execute(
            sql.SQL(
                "REVOKE UPDATE, DELETE, TRUNCATE ON public.event_store FROM {}"
            ).format(writer)
        )


def _hand_over_database(cursor, name: str, access: DatabaseAccess) -> None:
    """Last, because a database owned by its owner counts as secured."""
    database = sql.Identifier(name)
    cursor.execute(sql.SQL("REVOKE ALL ON DATABASE {} FROM PUBLIC").format(database))
    for writer in access.writers:
        cursor.execute(
            sql.SQL("GRANT CONNECT ON DATABASE {} TO {}").format(
                database, sql.Identifier(writer.name)
            )
        )
    cursor.execute(
        sql.SQL("ALTER DATABASE {} OWNER TO {}").format(
            database, sql.Identifier(access.owner.name)
        )
    )
