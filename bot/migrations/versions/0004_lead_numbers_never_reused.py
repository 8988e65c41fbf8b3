"""Lead numbers are never given twice on SQLite: the `leads` table rebuilt with AUTOINCREMENT.

Without it, SQLite gives a new row the highest number in use plus one, so after the newest lead is
deleted its number goes to the next lead, and a link to it in an earlier staff notice opens another
person's lead. PostgreSQL's sequence never hands a number out twice, so nothing changes there.
The rebuild keeps every row, index and constraint (env.py turns foreign keys off around
migrations, so the notes and notices that point at leads are kept too).

Revision ID: 0004_lead_numbers_never_reused
Revises: 0003_unknown_sign_ins
"""
from alembic import op

revision = "0004_lead_numbers_never_reused"
down_revision = "0003_unknown_sign_ins"
branch_labels = None
depends_on = None


def upgrade() -> None:
    if op.get_bind().dialect.name != "sqlite":
        return
    with op.batch_alter_table("leads", recreate="always", table_kwargs={"sqlite_autoincrement": True}):
        pass


def downgrade() -> None:
    if op.get_bind().dialect.name != "sqlite":
        return
    with op.batch_alter_table("leads", recreate="always", table_kwargs={"sqlite_autoincrement": False}):
        pass
