"""App storage: SQLAlchemy 2 engine from DATABASE_URL, typed models, Alembic migrations."""
