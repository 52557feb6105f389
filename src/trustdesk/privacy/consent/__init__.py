"""Consent: the policy, the hash-chained ledger and its projection, checks, proof and the signed
preference-centre links."""
