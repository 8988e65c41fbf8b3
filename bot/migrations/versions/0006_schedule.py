"""The bookable schedule and its bookings: visit types, weekly hours, exceptions, the schedule's
settings, the clinic calendar feed's state and busy times, bookings and the seats they claim.

UNIQUE(cell_starts, seat) on `booking_seats` is what keeps bookings within capacity
(bot/schedule/models.py). Nothing existing is touched.

Revision ID: 0006_schedule
Revises: 0005_rasa_events_index
"""
import sqlalchemy as sa
from alembic import op

revision = "0006_schedule"
down_revision = "0005_rasa_events_index"
branch_labels = None
depends_on = None

BOOKING_STATUSES = ("held", "requested", "proposed", "confirmed", "declined", "released", "lapsed")


def _stamp(name: str, nullable: bool = False) -> sa.Column:
    return sa.Column(name, sa.DateTime(timezone=True), nullable=nullable)


def upgrade() -> None:
    op.create_table(
        "visit_types",
        sa.Column("id", sa.Integer(), primary_key=True, autoincrement=True),
        sa.Column("name", sa.String(100), nullable=False),
        sa.Column("minutes", sa.Integer(), nullable=False),
        sa.Column("position", sa.Integer(), nullable=False),
        sa.Column("offered_in_chat", sa.Boolean(), nullable=False),
        sa.Column("active", sa.Boolean(), nullable=False),
        sa.CheckConstraint("minutes >= 15 AND minutes <= 480 AND minutes % 15 = 0", name="ck_visit_types_minutes"),
    )
    op.create_table(
        "weekly_hours",
        sa.Column("id", sa.Integer(), primary_key=True, autoincrement=True),
        sa.Column("weekday", sa.Integer(), nullable=False),
        sa.Column("starts", sa.Time(), nullable=False),
        sa.Column("ends", sa.Time(), nullable=False),
        sa.CheckConstraint("weekday >= 0 AND weekday <= 6", name="ck_weekly_hours_weekday"),
        sa.CheckConstraint("ends > starts", name="ck_weekly_hours_ends_after_starts"),
    )
    op.create_table(
        "schedule_exceptions",
        sa.Column("id", sa.Integer(), primary_key=True, autoincrement=True),
        sa.Column("day", sa.Date(), nullable=False),
        sa.Column("closed", sa.Boolean(), nullable=False),
        sa.Column("starts", sa.Time(), nullable=True),
        sa.Column("ends", sa.Time(), nullable=True),
        sa.Column("note", sa.String(200), nullable=False),
        sa.CheckConstraint(
            "closed OR (starts IS NOT NULL AND ends IS NOT NULL AND ends > starts)",
            name="ck_schedule_exceptions_hours",
        ),
    )
    op.create_index("ix_schedule_exceptions_day", "schedule_exceptions", ["day"])
    op.create_table(
        "schedule_settings",
        sa.Column("id", sa.Integer(), primary_key=True, autoincrement=False),
        sa.Column("capacity", sa.Integer(), nullable=False),
        sa.Column("calendar_feed_url", sa.Text(), nullable=True),
        sa.Column("visits_feed_token", sa.String(64), nullable=False),
        _stamp("updated_at"),
        sa.CheckConstraint("id = 1", name="ck_schedule_settings_single_row"),
        sa.CheckConstraint("capacity >= 1", name="ck_schedule_settings_capacity"),
    )
    op.create_table(
        "calendar_feed_state",
        sa.Column("id", sa.Integer(), primary_key=True, autoincrement=False),
        sa.Column("last_good_ics", sa.Text(), nullable=True),
        _stamp("last_good_at", nullable=True),
        _stamp("last_tried_at", nullable=True),
        sa.Column("last_error", sa.String(300), nullable=True),
        _stamp("last_error_at", nullable=True),
        sa.CheckConstraint("id = 1", name="ck_calendar_feed_state_single_row"),
    )
    op.create_table(
        "busy_times",
        sa.Column("id", sa.Integer(), primary_key=True, autoincrement=True),
        _stamp("starts"),
        _stamp("ends"),
    )
    op.create_index("ix_busy_times_starts", "busy_times", ["starts"])
    op.create_table(
        "bookings",
        sa.Column("id", sa.Integer(), primary_key=True, autoincrement=True),
        _stamp("starts"),
        _stamp("ends"),
        sa.Column(
            "visit_type_id",
            sa.Integer(),
            sa.ForeignKey("visit_types.id", ondelete="SET NULL", name="fk_bookings_visit_type"),
            nullable=True,
        ),
        sa.Column("visit_name", sa.String(100), nullable=False),
        sa.Column(
            "status",
            sa.Enum(*BOOKING_STATUSES, name="booking_status", native_enum=False, create_constraint=True, length=20),
            nullable=False,
        ),
        sa.Column("conversation_id", sa.String(255), nullable=False),
        sa.Column(
            "lead_id",
            sa.Integer(),
            sa.ForeignKey("leads.id", ondelete="CASCADE", name="fk_bookings_lead"),
            nullable=True,
        ),
        _stamp("expires_at", nullable=True),
        _stamp("created_at"),
        _stamp("updated_at"),
        sa.CheckConstraint("ends > starts", name="ck_bookings_ends_after_starts"),
    )
    op.create_index("ix_bookings_starts", "bookings", ["starts"])
    op.create_index("ix_bookings_status_expires_at", "bookings", ["status", "expires_at"])
    op.create_index("ix_bookings_conversation_id", "bookings", ["conversation_id"])
    op.create_index("ix_bookings_lead_id", "bookings", ["lead_id"])
    op.create_table(
        "booking_seats",
        sa.Column(
            "booking_id",
            sa.Integer(),
            sa.ForeignKey("bookings.id", ondelete="CASCADE", name="fk_booking_seats_booking"),
            primary_key=True,
        ),
        sa.Column("cell_starts", sa.DateTime(timezone=True), primary_key=True),
        sa.Column("seat", sa.Integer(), nullable=False),
        sa.UniqueConstraint("cell_starts", "seat", name="uq_booking_seats_cell_seat"),
        sa.CheckConstraint("seat >= 0", name="ck_booking_seats_seat"),
    )


def downgrade() -> None:
    for table in ("booking_seats", "bookings", "busy_times", "calendar_feed_state", "schedule_settings",
                  "schedule_exceptions", "weekly_hours", "visit_types"):
        op.drop_table(table)
