"""One module per chapter: pure experiment functions (config in, dataclass of arrays out).

Each module registers its claim checks with :func:`dsmlib.claims.register`; the ledger
imports every module here to collect them.
"""
