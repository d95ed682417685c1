"""The console's date-time format (settings.FORMAT_MODULE_PATH): every time the admin renders
through Django's formats (list columns, read-only fields) carries its zone's abbreviation
("6 Dec 2026, 08:30 JST"); console.middleware picks the zone."""

DATETIME_FORMAT = "j M Y, H:i T"
