"""The demo's fixed cast and its stable ids.

Everything a request path takes gets a predictable id so the documentation can name it:
UUIDs of the form ``<kind>0000000-0000-4000-8000-<numbers>`` (kind 1 rooms, 2 sections,
3 pages, 4 action items, 5 companies, 6 statuses, 7 labels), readable session tokens, and
integer ids from 101 for the team's users, operators and surveys (see docs/demo.md).
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass

ROOM, SECTION, PAGE, ACTION, COMPANY, STATUS, LABEL = range(1, 8)
SELLER = "Brightwave Software"
SELLER_DOMAIN = "brightwave.example"
DAYS = 90
SEED = 20260505


def demo_uuid(kind: int, *numbers: int) -> uuid.UUID:
    """``demo_uuid(ROOM, 1)`` = 10000000-0000-4000-8000-000000000001; each further number
    takes four digits: ``demo_uuid(PAGE, 1, 2, 3)`` = 30000000-0000-4000-8000-000100020003."""
    tail = "".join(f"{number:04d}" for number in numbers).rjust(12, "0")
    return uuid.UUID(f"{kind}0000000-0000-4000-8000-{tail}")


@dataclass(frozen=True)
class Person:
    email: str
    name: str
    job_title: str = ""

    @property
    def first_name(self) -> str:
        return self.name.split(" ")[0]

    @property
    def last_name(self) -> str:
        return self.name.partition(" ")[2]


# The seller's team (workspace members who own rooms and run webinars), user ids from 101.
TEAM_IDS_FROM = 101
TEAM = [
    Person(f"{first.lower()}@{SELLER_DOMAIN}", f"{first} {last}", title)
    for first, last, title in (
        ("Jordan", "Avery", "Account Executive"),
        ("Priya", "Raman", "Account Executive"),
        ("Marcus", "Lindqvist", "Solutions Engineer"),
        ("Elena", "Costa", "Sales Manager"),
        ("Tomas", "Herrera", "Customer Success Manager"),
    )
]

COMPANIES = [
    ("Northwind Logistics", "northwind.example", "#1F6FEB"),
    ("Contoso Health", "contoso-health.example", "#0E9F6E"),
    ("Fabrikam Retail", "fabrikam.example", "#D97706"),
    ("Tailspin Aerospace", "tailspin.example", "#7C3AED"),
    ("Wingtip Media", "wingtip.example", "#DB2777"),
    ("Adatum Finance", "adatum.example", "#2563EB"),
    ("Litware Labs", "litware.example", "#059669"),
    ("Proseware Insurance", "proseware.example", "#DC2626"),
    ("Woodgrove Bank", "woodgrove.example", "#0891B2"),
    ("Fourth Coffee", "fourthcoffee.example", "#92400E"),
    ("Alpine Ski House", "alpineski.example", "#4F46E5"),
    ("Blue Yonder Airlines", "blueyonder.example", "#0284C7"),
    ("Coho Winery", "cohowinery.example", "#9D174D"),
    ("Graphic Design Institute", "gdi.example", "#EA580C"),
    ("Humongous Insurance", "humongous.example", "#16A34A"),
    ("Lucerne Publishing", "lucerne.example", "#CA8A04"),
    ("Margie's Travel", "margiestravel.example", "#0D9488"),
    ("Relecloud", "relecloud.example", "#6D28D9"),
    ("Southridge Video", "southridge.example", "#BE123C"),
    ("Trey Research", "treyresearch.example", "#1D4ED8"),
    ("VanArsdel Foods", "vanarsdel.example", "#65A30D"),
    ("Wide World Importers", "wideworld.example", "#B45309"),
    ("Datum Robotics", "datum-robotics.example", "#475569"),
    ("City Power & Light", "citypower.example", "#F59E0B"),
    ("School of Fine Art", "finearts.example", "#A21CAF"),
    ("Consolidated Messenger", "consolidated.example", "#0369A1"),
    ("Nod Publishers", "nodpublishers.example", "#15803D"),
    ("Bellows College", "bellows.example", "#7F1D1D"),
]

STATUSES = ["Discovery", "Evaluation", "Proposal", "Negotiation", "Closed won", "Closed lost"]
LABELS = [("Enterprise", "#1F2937"), ("Mid-market", "#2563EB"), ("Expansion", "#16A34A")]

FIRST_NAMES = [
    "Ava",
    "Liam",
    "Noah",
    "Mia",
    "Olivia",
    "Ethan",
    "Sofia",
    "Lucas",
    "Amara",
    "Kenji",
    "Leila",
    "Mateo",
    "Chloe",
    "Ravi",
    "Ingrid",
    "Omar",
    "Hana",
    "Felix",
    "Zoe",
    "Diego",
    "Nora",
    "Arjun",
    "Lena",
    "Kofi",
    "Yara",
    "Samuel",
    "Freya",
    "Hugo",
    "Aisha",
    "Jonas",
]
LAST_NAMES = [
    "Fischer",
    "Nakamura",
    "Okoye",
    "Johansson",
    "Moreau",
    "Patel",
    "Rossi",
    "Kowalski",
    "Silva",
    "Haddad",
    "Novak",
    "Brennan",
    "Tanaka",
    "Dubois",
    "Mensah",
    "Larsen",
    "Schmidt",
    "Ortega",
    "Byrne",
    "Varga",
    "Khan",
    "Andersen",
    "Ferreira",
    "Lee",
]
BUYER_TITLES = (
    "VP Operations",
    "Head of IT",
    "Procurement Lead",
    "CFO",
    "Security Officer",
    "Director of Sales Ops",
    "Project Manager",
    "CTO",
)

# A room's structure: sections, each with its pages and its action items (title, internal).
ROOM_PLAN = [
    ("Welcome", ["Why we're here", "Meet the team"], []),
    ("Our proposal", ["Solution overview", "Pricing", "ROI model"], []),
    (
        "Mutual action plan",
        ["Timeline"],
        [
            ("Kick-off call", False),
            ("Technical deep dive", False),
            ("Share security questionnaire", False),
            ("Legal review of the MSA", False),
            ("Prepare order form", True),
            ("Sign the order form", False),
        ],
    ),
    ("Security & legal", ["Security overview", "Data processing agreement"], []),
    ("Next steps", ["Onboarding plan"], [("Book onboarding workshop", False)]),
]
DEAL_TOPICS = (
    "Platform rollout",
    "Pilot",
    "Renewal",
    "Analytics add-on",
    "Enterprise plan",
    "Regional launch",
)


def fixed_ids(model, first: int, count: int) -> list[int | None]:
    """``count`` ids from ``first`` when none is taken (a fresh install), else None each so the
    database numbers the rows (the demo then still works, with other ids)."""
    wanted = list(range(first, first + count))
    if model.objects.filter(pk__in=wanted).exists():
        return [None] * count
    return wanted


def sequences_reset(*models) -> None:
    """Rows inserted with explicit ids leave PostgreSQL's sequences behind: move them past the
    highest id (a no-op on SQLite, whose AUTOINCREMENT follows by itself)."""
    from django.core.management.color import no_style
    from django.db import connection

    with connection.cursor() as cursor:
        for statement in connection.ops.sequence_reset_sql(no_style(), models):
            cursor.execute(statement)
