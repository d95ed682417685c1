from django.conf import settings
from django.core.management.base import BaseCommand, CommandError

from workspaces.models import User
from workspaces.services import user_password_reset


class Command(BaseCommand):
    help = "Give the admin user (or --email) a new random password and print it."

    def add_arguments(self, parser):
        parser.add_argument("--email", default="admin@example.com")

    def handle(self, *args, email: str, **options):
        try:
            password = user_password_reset(email=email)
        except User.DoesNotExist:
            raise CommandError(
                f"No user {email}: bin/flowsync start creates admin@example.com; "
                "or name another with --email."
            ) from None
        self.stdout.write(
            f"Admin:     {settings.PUBLIC_BASE_URL}/admin/\n"
            f"Login:     {email}\nPassword:  {password}\n"
        )
