"""The application shell: configuration and the operator commands (flask --app garage ...)."""
