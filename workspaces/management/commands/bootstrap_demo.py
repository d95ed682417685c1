from django.conf import settings
from django.core.management.base import BaseCommand

from workspaces.services import demo_bootstrap


class Command(BaseCommand):
    help = "Create (once) the quick-start admin user, demo workspace and API key, and print them."

    def add_arguments(self, parser):
        parser.add_argument("--email", default="admin@example.com")

    def handle(self, *args, email: str, **options):
        result = demo_bootstrap(email=email)
        lines = [
            f"Admin:     {settings.PUBLIC_BASE_URL}/admin/",
            f"Login:     {result.user.email}",
            f"Password:  {result.password}"
            if result.password
            else "Password:  (set at first start; change it with manage.py changepassword)",
            f"Workspace: {result.workspace.slug} (id {result.workspace.pk})",
            f"API key:   {result.issued_key.plaintext}"
            if result.issued_key
            else "API key:   (shown at first start; make one with manage.py create_api_key demo)",
            f"API docs:  {settings.PUBLIC_BASE_URL}/api/docs",
        ]
        self.stdout.write("\n".join(["", *lines, ""]))
