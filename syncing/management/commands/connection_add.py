import json
import os
import sys
from getpass import getpass

from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand, CommandError

from syncing.models import Connection
from syncing.services import connection_create
from workspaces.models import Workspace


def _credentials(text: str) -> dict:
    """A JSON object of secrets, or one bare API key."""
    text = text.strip()
    if not text:
        raise CommandError("No credentials given (standard input or --credentials-env).")
    if text.startswith("{"):
        try:
            value = json.loads(text)
        except ValueError as error:
            raise CommandError(f"The credentials are not valid JSON: {error}") from None
        if not all(isinstance(secret, str) for secret in value.values()):
            raise CommandError("Each credential must be a text.")
        return value
    return {"api_key": text}


class Command(BaseCommand):
    help = (
        "Add an upstream connection to a workspace and print its id. The credentials are read "
        'from standard input (one API key, or a JSON object such as {"client_id": ..., '
        '"client_secret": ..., "refresh_token": ...}) or from the environment variable named '
        "by --credentials-env, never from the command line, which other users can read."
    )

    def add_arguments(self, parser):
        parser.add_argument("--workspace", required=True, help="The workspace's slug.")
        parser.add_argument("--provider", required=True, choices=Connection.Provider.values)
        parser.add_argument("--name", required=True)
        parser.add_argument("--base-url", required=True)
        parser.add_argument("--credentials-env", help="Read the credentials from this variable.")
        parser.add_argument("--disabled", action="store_true", help="Add it switched off.")

    def handle(self, *args, **options):
        workspace = Workspace.objects.filter(slug=options["workspace"]).first()
        if workspace is None:
            raise CommandError(f"No workspace with slug {options['workspace']!r}.")
        try:
            connection = connection_create(
                workspace=workspace,
                provider=options["provider"],
                name=options["name"],
                base_url=options["base_url"],
                credentials=_credentials(self._read_secret(options["credentials_env"])),
                enabled=not options["disabled"],
            )
        except ValidationError as error:
            raise CommandError("; ".join(error.messages)) from None
        self.stdout.write(str(connection.pk))

    def _read_secret(self, variable: str | None) -> str:
        if variable:
            if variable not in os.environ:
                raise CommandError(f"The environment variable {variable} is not set.")
            return os.environ[variable]
        if sys.stdin.isatty():
            return getpass("API key (or JSON credentials): ")
        return sys.stdin.read()
