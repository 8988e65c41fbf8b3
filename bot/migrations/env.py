"""Alembic environment: runs migrations on the engine handed over by `bot.db`."""

from alembic import context

# Each import registers its tables on Base.metadata.
import bot.audit  # noqa: F401
import bot.insights.models  # noqa: F401
import bot.leads.models  # noqa: F401
import bot.notify.models  # noqa: F401
import bot.schedule.models  # noqa: F401
import bot.staff.models  # noqa: F401
from bot.db import Base, make_engine
from bot.settings import Settings

config = context.config
target_metadata = Base.metadata


def include_object(obj, name, type_, reflected, compare_to):
    # Rasa's tracker store may share the database (its `events` table): not ours to manage.
    if type_ == "table" and reflected and compare_to is None:
        return False
    return True


def run_migrations() -> None:
    engine = config.attributes.get("engine")
    if engine is None:
        engine = make_engine(Settings.from_env())
    with engine.connect() as connection:
        sqlite = connection.dialect.name == "sqlite"
        if sqlite:
            # SQLite alters a table by copying and dropping it; with foreign keys on, the
            # drop would cascade into child tables (the outbox). The pragma only takes
            # effect outside a transaction, hence before `begin`.
            connection.exec_driver_sql("PRAGMA foreign_keys=OFF")
            connection.commit()
        try:
            context.configure(
                connection=connection,
                target_metadata=target_metadata,
                render_as_batch=sqlite,
                include_object=include_object,
            )
            with context.begin_transaction():
                context.run_migrations()
            connection.commit()
        finally:
            if sqlite:
                connection.exec_driver_sql("PRAGMA foreign_keys=ON")
                connection.commit()


run_migrations()
