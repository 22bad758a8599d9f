"""A small real web app (Flask + SQLAlchemy under gunicorn) with a planted N+1 and slow pattern."""
