"""Engine and sessions. One engine per process (per Settings.database_url), created by the composition root."""
from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import sqlalchemy as sa
from sqlalchemy.engine import make_url
from sqlmodel import Session

MIGRATIONS_DIR = Path(__file__).resolve().parent / "migrations"


READ_ONLY = "apg_read_only"  # execution option of the engine that read-only sessions use


def create_db_engine(url: str, *, pool_size: int = 10, max_overflow: int = 20, pool_timeout: float = 30) -> sa.Engine:
    """An engine for `url` with a pool of `pool_size` (+ `max_overflow` under load) connections.

    SQLite: the parent directory is created, foreign keys are enforced, WAL journal and a busy timeout let
    the web process and the in-process runner work side by side. A transaction opens with BEGIN IMMEDIATE
    (it takes SQLite's one write lock up front), unless its connection comes from the read-only engine
    (`read_only_engine`): then a plain BEGIN, which in WAL mode reads a snapshot without any lock, and
    PRAGMA query_only, so a write there fails at once instead of upgrading a stale snapshot."""
    u = make_url(url)
    pool = {"pool_size": pool_size, "max_overflow": max_overflow, "pool_timeout": pool_timeout}
    if u.get_backend_name() == "sqlite":
        memory = not u.database or u.database == ":memory:"
        if not memory:
            Path(u.database).parent.mkdir(parents=True, exist_ok=True)
        engine = sa.create_engine(url, connect_args={"check_same_thread": False, "timeout": 30},
                                  **({} if memory else pool))

        @sa.event.listens_for(engine, "connect")
        def _sqlite_pragmas(dbapi_conn, _record):
            # pysqlite's own transaction handling issues BEGIN late and lets a SAVEPOINT's RELEASE commit
            # everything; SQLAlchemy's documented fix: switch it off and emit BEGIN ourselves.
            dbapi_conn.isolation_level = None
            cur = dbapi_conn.cursor()
            cur.execute("PRAGMA foreign_keys=ON")
            cur.execute("PRAGMA journal_mode=WAL")
            cur.execute("PRAGMA busy_timeout=30000")
            cur.close()

        @sa.event.listens_for(engine, "begin")
        def _sqlite_begin(conn):
            # Writers: IMMEDIATE takes the write lock before the first read, so concurrent writers queue
            # (busy_timeout) and none writes from a stale snapshot (a deferred transaction that read and then
            # writes after another commit fails with SQLITE_BUSY_SNAPSHOT, and busy_timeout cannot help it).
            # Readers: a deferred BEGIN; query_only makes any write in it an error, never a stale write.
            # Keep transactions short (never across a render).
            read_only = bool(conn.get_execution_options().get(READ_ONLY))
            info = conn.connection.info
            if info.get("query_only", False) != read_only:
                conn.exec_driver_sql(f"PRAGMA query_only={int(read_only)}")
                info["query_only"] = read_only
            conn.exec_driver_sql("BEGIN" if read_only else "BEGIN IMMEDIATE")

        return engine
    return sa.create_engine(url, pool_pre_ping=True, **pool)


def read_only_engine(engine: sa.Engine) -> sa.Engine:
    """The same engine and pool, for transactions that only read: SQLite begins them without the write lock
    (see create_db_engine); Postgres begins them READ ONLY. Either way a write in one is refused."""
    options = {READ_ONLY: True}
    if engine.dialect.name == "postgresql":
        options["postgresql_readonly"] = True
    return engine.execution_options(**options)


def alembic_config(engine: sa.Engine):
    from alembic.config import Config

    cfg = Config()
    cfg.set_main_option("script_location", str(MIGRATIONS_DIR))
    cfg.set_main_option("sqlalchemy.url", engine.url.render_as_string(hide_password=False))
    cfg.attributes["engine"] = engine
    return cfg


def upgrade_to_head(engine: sa.Engine) -> None:
    """Bring the schema to the newest migration (the app does this on start)."""
    from alembic import command

    command.upgrade(alembic_config(engine), "head")


def holds_connection(session: Session) -> bool:
    """Whether the session's transaction has taken a connection (closing it then means a rollback: I/O)."""
    transaction = session.get_transaction()
    return transaction is not None and bool(transaction.connections)


class Database:
    """The engine plus a session factory. Sessions never expire loaded objects on commit, so core can
    return rows that the caller formats after the transaction."""

    def __init__(self, engine: sa.Engine):
        self.engine = engine
        self.read_engine = read_only_engine(engine)

    @classmethod
    def from_url(cls, url: str, **pool) -> "Database":
        """pool: pool_size, max_overflow, pool_timeout (create_db_engine)."""
        return cls(create_db_engine(url, **pool))

    @property
    def dialect(self) -> str:
        return self.engine.dialect.name

    def session(self, *, write: bool = True) -> Session:
        """A session; it takes a connection at its first query, not before. write=False: every transaction
        of it only reads (no SQLite write lock; a write raises), for work known to read only."""
        return Session(self.engine if write else self.read_engine, expire_on_commit=False)

    def writable(self, session: Session) -> Session:
        """Let a read-only session write (a GET that records an event), before it has taken a connection."""
        if holds_connection(session):
            raise RuntimeError("a session can only be made writable before its first query")
        session.bind = self.engine
        return session

    @contextmanager
    def transaction(self) -> Iterator[Session]:
        """A session whose work commits at the end of the block, or rolls back on any error."""
        with self.session() as s:
            try:
                yield s
                s.commit()
            except BaseException:
                s.rollback()
                raise

    def upgrade(self) -> None:
        upgrade_to_head(self.engine)

    def dispose(self) -> None:
        self.engine.dispose()
