"""Production entry point: gunicorn -c gunicorn.conf.py wsgi:app"""
from garage import create_app

app = create_app()
