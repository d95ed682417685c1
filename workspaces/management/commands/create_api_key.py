from django.core.management.base import BaseCommand

from workspaces.services import api_key_create, workspace_get_or_create


class Command(BaseCommand):
    help = (
        "Create an API key for a workspace (created too if it does not exist) and print only "
        "the key on stdout. The key is not stored and cannot be shown again."
    )

    def add_arguments(self, parser):
        parser.add_argument("workspace_slug")
        parser.add_argument("--name", default="default", help="A label for the key.")

    def handle(self, *args, workspace_slug: str, name: str, **options):
        workspace = workspace_get_or_create(slug=workspace_slug)
        issued = api_key_create(workspace=workspace, name=name)
        self.stdout.write(issued.plaintext)
