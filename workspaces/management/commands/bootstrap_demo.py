from django.conf import settings
from django.core.management.base import BaseCommand

from demo import demo_populate
from workspaces.services import demo_bootstrap


class Command(BaseCommand):
    help = (
        "Create (once) the quick-start admin user, demo workspace and API key, fill the "
        "workspace with demo data (unless --no-demo), and print the login details."
    )

    def add_arguments(self, parser):
        parser.add_argument("--email", default="admin@example.com")
        parser.add_argument(
            "--no-demo", action="store_true", help="Leave the demo workspace empty."
        )

    def handle(self, *args, email: str, no_demo: bool, **options):
        result = demo_bootstrap(email=email)
        summary = None if no_demo else demo_populate(workspace=result.workspace)
        if summary:
            self.stdout.write(
                f"Demo data:  {summary.rooms} rooms, {summary.activity_events} room events, "
                f"{summary.registrants} webinar registrants, {summary.chat_items} chatbot "
                f"items, {summary.deals} CRM deals (see docs/demo.md)"
            )
        lines = [
            f"Admin:     {settings.PUBLIC_BASE_URL}/admin/",
            f"Login:     {result.user.email}",
            f"Password:  {result.password}"
            if result.password
            else "Password:  (set at first start; reset it with bin/flowsync admin-password)",
            f"Workspace: {result.workspace.slug} (id {result.workspace.pk})",
            f"API key:   {result.issued_key.plaintext}"
            if result.issued_key
            else "API key:   (shown at first start; make one with "
            "bin/flowsync manage create_api_key demo)",
            f"API docs:  {settings.PUBLIC_BASE_URL}/api/docs",
        ]
        self.stdout.write("\n".join(["", *lines, ""]))
