"""Privacy: consent (`consent/`), data-subject requests (`requests/`), the access export
(`export/`), the data map and the privacy notice made from it (`datamap/`), and the customer's
preference centre (`preferences/`). Other capabilities use `public.py` only."""
