from django.core.management.base import BaseCommand

from syncing.services import credentials_reencrypt_all


class Command(BaseCommand):
    help = (
        "Re-encrypt every connection's credentials with the first FIELD_ENCRYPTION_KEY. Run it "
        "after putting a new key first, before removing the old one."
    )

    def handle(self, *args, **options):
        count = credentials_reencrypt_all()
        self.stdout.write(f"Re-encrypted the credentials of {count} connection(s).")
