"""The rules in garage.domain (and plain presenters): no Flask, no database."""
