"""console at hall scale: indexes for a compartment's events and the parcel number search

Measured by bench/bench_console.py (100,000 audit records, 20,000 parcels on PostgreSQL): a compartment's
page asks for the newest records with its label as subject, which without an index reads the whole audit
log backwards (35 ms at 100,000 records, growing with it); the parcel search matches a case or receipt
number by prefix, which PostgreSQL can take from an index only with the pattern operator class when the
database's collation is not C.

Revision ID: 0009
Revises: 0008
"""
from alembic import op

revision = "0009"
down_revision = "0008"
branch_labels = None
depends_on = None
additive = True  # indexes only: the previous release reads and writes this schema unchanged


def upgrade() -> None:
    op.create_index("ix_audit_log_subject_seq", "audit_log", ["subject", "seq"])
    op.create_index("ix_parcels_case_number", "parcels", ["case_number"],
                    postgresql_ops={"case_number": "varchar_pattern_ops"})
    op.create_index("ix_parcels_receipt_prefix", "parcels", ["receipt_number"],
                    postgresql_ops={"receipt_number": "varchar_pattern_ops"})


def downgrade() -> None:
    op.drop_index("ix_parcels_receipt_prefix", table_name="parcels")
    op.drop_index("ix_parcels_case_number", table_name="parcels")
    op.drop_index("ix_audit_log_subject_seq", table_name="audit_log")
