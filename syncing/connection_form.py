"""The connection form of the admin: one write-only field per secret the provider reads,
the base URL prefilled with the provider's documented public origin, and the provider fixed
once chosen (its fields depend on it)."""

from __future__ import annotations

from dataclasses import dataclass

from django import forms
from unfold.widgets import (
    UnfoldAdminIntegerFieldWidget,
    UnfoldAdminPasswordWidget,
    UnfoldBooleanSwitchWidget,
)

from syncing.models import Connection
from syncing.schedules import (
    ScheduleSlot,
    connection_schedule_set,
    connection_schedules,
    schedule_every_minutes,
    schedule_name,
    schedule_slots,
)

Provider = Connection.Provider
# A schedule runs at least once a week.
MAX_EVERY_MINUTES = 7 * 24 * 60


@dataclass(frozen=True)
class SecretField:
    key: str  # its name in the stored (encrypted) credentials
    label: str
    help_text: str


@dataclass(frozen=True)
class ProviderSetup:
    secrets: tuple[SecretField, ...]
    # The provider's documented public API origin ("" where it publishes none).
    public_origin: str = ""
    base_url_label: str = "Base URL"
    base_url_help: str = "The API's origin, without a path."


_API_KEY = SecretField("api_key", "API key", "The workspace's API key.")

SETUP: dict[str, ProviderSetup] = {
    Provider.ROOMS_PLATFORM: ProviderSetup(
        secrets=(
            SecretField("api_key", "API key", "The Flowla API key (sent as x-flowla-api-key)."),
        ),
        public_origin="https://api.flowla.com",
    ),
    Provider.WEBINAR_PLATFORM: ProviderSetup(
        secrets=(
            SecretField("api_key", "API secret", "The FLOW API secret (sent as api-secret)."),
        ),
        base_url_help="The webinar platform's origin (FLOW publishes none; ask your account).",
    ),
    Provider.VIDEO_PLATFORM: ProviderSetup(
        secrets=(
            SecretField(
                "api_key", "API key", "A workspace API key (lnx_…), sent as a Bearer token."
            ),
            SecretField(
                "webhook_secret",
                "Webhook secret",
                "The webhook's signing secret (whsec_…); without it every delivery is refused.",
            ),
        ),
        base_url_help="The platform's origin, without /api. Options: workspace_id (required).",
    ),
    Provider.HUBSPOT: ProviderSetup(
        secrets=(
            SecretField(
                "api_key",
                "Private app access token",
                "A private app's token (pat-…). Leave blank when you use OAuth (Connect with "
                "HubSpot, or the three fields below).",
            ),
            SecretField("client_id", "App client id", "OAuth: the app's client id."),
            SecretField(
                "client_secret",
                "App client secret",
                "The app's client secret: OAuth token refreshes and the signature HubSpot puts "
                "on webhooks (X-HubSpot-Signature-v3).",
            ),
            SecretField("refresh_token", "OAuth refresh token", "Filled by Connect with HubSpot."),
        ),
        public_origin="https://api.hubapi.com",
    ),
    Provider.SALESFORCE: ProviderSetup(
        secrets=(
            SecretField("client_id", "Consumer key", "The connected app's consumer key."),
            SecretField("client_secret", "Consumer secret", "The connected app's consumer secret."),
            SecretField(
                "refresh_token",
                "Refresh token",
                "Filled by Connect with Salesforce (or paste one).",
            ),
        ),
        public_origin="https://login.salesforce.com",
        base_url_label="Login host",
        base_url_help="Where you log in, not your instance: https://login.salesforce.com, "
        "https://test.salesforce.com for a sandbox, or your My Domain login host. flowsync "
        "learns the instance URL from the token.",
    ),
    Provider.ATTIO: ProviderSetup(
        secrets=(
            SecretField(
                "api_key",
                "Access token",
                "An Attio access token with record_permission:read-write, "
                "object_configuration:read-write and user_management:read.",
            ),
            SecretField(
                "webhook_secret",
                "Webhook secret",
                "Shown by Attio when you create the webhook; without it every delivery is refused.",
            ),
        ),
        public_origin="https://api.attio.com",
        base_url_help="Attio's API origin, without /v2.",
    ),
}


def setup_of(provider: str) -> ProviderSetup:
    return SETUP.get(provider) or ProviderSetup(secrets=(_API_KEY,))


def _secret_field(secret: SecretField) -> forms.CharField:
    return forms.CharField(
        label=secret.label,
        required=False,
        strip=True,
        widget=UnfoldAdminPasswordWidget(attrs={"autocomplete": "new-password"}),
        help_text=secret.help_text,
    )


def _every_name(slot: ScheduleSlot) -> str:
    return f"schedule_{slot.key.replace(':', '_')}_every"


def _on_name(slot: ScheduleSlot) -> str:
    return f"schedule_{slot.key.replace(':', '_')}_on"


def schedule_field_names(provider: str) -> list[tuple[str, str]]:
    """Admin fieldset rows: (every N minutes, on) per schedule."""
    return [(_every_name(slot), _on_name(slot)) for slot in schedule_slots(provider)]


class ConnectionForm(forms.ModelForm):
    """Built per provider by ``connection_form_for``: secrets are write-only (blank keeps
    what is stored) and never rendered back; each schedule is "every N minutes" and on/off."""

    setup: ProviderSetup = ProviderSetup(secrets=())
    provider_value: str = ""

    class Meta:
        model = Connection
        fields = [
            "workspace",
            "provider",
            "name",
            "base_url",
            "enabled",
            "default_owner",
            "options",
        ]

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        if "provider" in self.fields:
            self.fields["provider"].widget = forms.HiddenInput()
            self.fields["provider"].initial = self.provider_value
        if "base_url" in self.fields:
            self.fields["base_url"].label = self.setup.base_url_label
            self.fields["base_url"].help_text = self.setup.base_url_help
            if not self.instance.pk and self.setup.public_origin:
                self.fields["base_url"].initial = self.setup.public_origin
        stored = self.instance.credentials if self.instance.has_credentials else {}
        for secret in self.setup.secrets:
            if stored.get(secret.key) and secret.key in self.fields:
                self.fields[secret.key].help_text += " Stored (encrypted); leave blank to keep it."
        self._schedule_initial()

    def _schedule_initial(self) -> None:
        tasks = (
            {task.name: task for task in connection_schedules(self.instance)}
            if self.instance.pk
            else {}
        )
        for slot in schedule_slots(self.provider_value):
            every, on = self.fields.get(_every_name(slot)), self.fields.get(_on_name(slot))
            if every is None or on is None:
                continue
            task = tasks.get(schedule_name(self.instance, slot.key)) if self.instance.pk else None
            if task is None:
                every.initial, on.initial = int(slot.every.total_seconds()) // 60, True
            else:
                every.initial, on.initial = schedule_every_minutes(task), task.enabled
                if every.initial is None:
                    every.help_text = f"Now: {task.schedule}. Minutes entered here replace it."

    def clean_provider(self):
        provider = self.cleaned_data.get("provider")
        if provider != self.provider_value:
            raise forms.ValidationError("Choose the provider from the Add connection page.")
        return provider

    def secret_changes(self) -> dict[str, str]:
        """The secrets entered on this form (blank ones keep what is stored)."""
        return {
            secret.key: self.cleaned_data[secret.key]
            for secret in self.setup.secrets
            if self.cleaned_data.get(secret.key)
        }

    def clean(self):
        cleaned = super().clean()
        if not self.instance.has_credentials and self.setup.secrets and not self.secret_changes():
            first = self.setup.secrets[0]
            self.add_error(first.key, f"A new connection needs its {first.label.lower()}.")
        owner, workspace = cleaned.get("default_owner"), cleaned.get("workspace")
        if owner and workspace and not workspace.memberships.filter(user=owner).exists():
            self.add_error("default_owner", "The default owner must be a member of the workspace.")
        return cleaned

    def save_schedules(self, connection: Connection) -> None:
        """Apply the schedule fields staff changed (after the schedules exist)."""
        for slot in schedule_slots(connection.provider):
            every, on = _every_name(slot), _on_name(slot)
            if every not in self.changed_data and on not in self.changed_data:
                continue
            connection_schedule_set(
                connection=connection,
                slot_key=slot.key,
                every_minutes=self.cleaned_data.get(every),
                enabled=bool(self.cleaned_data.get(on)),
            )


def connection_form_for(provider: str) -> type[ConnectionForm]:
    attrs: dict[str, object] = {"setup": setup_of(provider), "provider_value": provider}
    for secret in setup_of(provider).secrets:
        attrs[secret.key] = _secret_field(secret)
    for slot in schedule_slots(provider):
        attrs[_every_name(slot)] = forms.IntegerField(
            label=f"{slot.label}: every",
            required=False,
            min_value=1,
            max_value=MAX_EVERY_MINUTES,
            help_text="minutes",
            widget=UnfoldAdminIntegerFieldWidget,
        )
        attrs[_on_name(slot)] = forms.BooleanField(
            label="on", required=False, widget=UnfoldBooleanSwitchWidget
        )
    return type(f"{provider.title().replace('_', '')}ConnectionForm", (ConnectionForm,), attrs)
