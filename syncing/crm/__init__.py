"""CRM sync shared by HubSpot, Salesforce and Attio: deals, auto-created rooms, write-back and
webhooks. Provider specifics live in syncing/providers/<provider>/."""
