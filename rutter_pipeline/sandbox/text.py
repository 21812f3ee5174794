"""Human-looking text for generated objects, including the awkward characters real platforms send."""

from __future__ import annotations

import random

FIRST_NAMES = (
    "Ada",
    "Bruno",
    "Chloé",
    "Dmitri",
    "Émilie",
    "Farah",
    "Günther",
    "Hana",
    "Ingrid",
    "José",
    "Kenji",
    "Léa",
    "Mateus",
    "Nadia",
    "Olúwaseun",
    "Priya",
    "Quentin",
    "Rosa",
    "Søren",
    "Tomás",
    "李雷",
    "Zoë",
)
LAST_NAMES = (
    "Adeyemi",
    "Björk",
    "Castillo",
    "Dubois",
    "Eriksen",
    "Fernández",
    "García",
    "Hernández",
    "Ito",
    "Jäger",
    "Kowalski",
    "López",
    "Müller",
    "Nguyễn",
    "O'Brien",
    "Petrović",
    "Quinn",
    "Rossi",
    "Schmidt",
    "Tanaka",
    "Ülker",
    "王",
)
COMPANY_WORDS = (
    "Acme",
    "Northwind",
    "Globex",
    "Initech",
    "Umbrella",
    "Stark",
    "Wayne",
    "Cyberdyne",
    "Soylent",
    "Tyrell",
    "Hooli",
    "Pied Piper",
    "Café Crème",
    "Bäckerei Groß",
    "Žluťoučký Kůň",
)
COMPANY_SUFFIXES = ("Ltd", "LLC", "Inc.", "GmbH", "& Co.", "S.A.")
WORDS = (
    "alpha",
    "bravo",
    "charlie",
    "delta",
    "echo",
    "foxtrot",
    "golf",
    "hotel",
    "india",
    "juliett",
    "kilo",
    "lima",
    "mike",
    "november",
    "oscar",
    "papa",
)
CITIES = ("Springfield", "München", "São Paulo", "Kraków", "Zürich", "Austin", "Lyon", "Osaka")
PRODUCTS = (
    "T-Shirt",
    "Mug",
    "Poster",
    "Hoodie",
    "Sticker pack",
    "Notebook",
    "Tote bag",
    "Cap",
    "Socks",
    "Café blend 250g",
    "Ünïcödé lamp 💡",
)

#: Text with a NUL character: some platforms let it through and PostgreSQL text columns reject it.
NUL_TEXT = "Gift note:\u0000 handle with care"


def word(rng: random.Random) -> str:
    """A plain lowercase word."""
    return rng.choice(WORDS)


def person(rng: random.Random) -> tuple[str, str]:
    """A first and a last name."""
    return rng.choice(FIRST_NAMES), rng.choice(LAST_NAMES)


def company(rng: random.Random) -> str:
    """A company name."""
    return f"{rng.choice(COMPANY_WORDS)} {rng.choice(COMPANY_SUFFIXES)}"


def person_or_company(rng: random.Random) -> str:
    """A person's full name or a company name."""
    if rng.random() < 0.5:
        return company(rng)
    first, last = person(rng)
    return f"{first} {last}"


def email(rng: random.Random) -> str:
    """An ASCII e-mail address at example.com."""
    return f"{rng.choice(WORDS)}.{rng.choice(WORDS)}{rng.randint(1, 9999)}@example.com"


def phone(rng: random.Random) -> str:
    """A fictional North American phone number."""
    return f"+1-555-01{rng.randint(0, 99):02d}"


def address_part(name: str, rng: random.Random) -> str:
    """One component of a postal address, by field name."""
    if name == "city":
        return rng.choice(CITIES)
    if name == "region":
        return rng.choice(("CA", "NY", "TX", "BY", "SP"))
    if name == "postal_code":
        return f"{rng.randint(10000, 99999)}"
    return f"{rng.randint(1, 999)} {rng.choice(LAST_NAMES)} Street"
