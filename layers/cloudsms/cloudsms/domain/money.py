"""Amounts of money: kept as integer micro-dollars (1 USD = 1,000,000 micro-USD), so that
counters add them atomically and exactly; read and written by people and the API as
decimal strings of US dollars ("0.0035")."""

from decimal import Decimal

MICROS_PER_USD = 1_000_000


def micros(usd: Decimal) -> int:
    return int(usd * MICROS_PER_USD)


def usd(amount_micros: int) -> str:
    return f"{Decimal(amount_micros) / MICROS_PER_USD:f}"
