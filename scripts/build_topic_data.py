"""Build the topic training set shipped in the package from ../shared (run by developers).

Real labelled texts, their labels mapped to TrustDesk's trust topics (the table is in
docs/feedback-analysis.md): airline complaint reasons, Banking77 intents and CFPB complaint issues.
Breach descriptions (Privacy Rights Clearinghouse, Information is Beautiful) are privacy & security.
Airline tweets in the sentiment validation fifth are left out so no reported figure is inflated.
Output: src/trustdesk/data/topic_training.csv.gz with columns text, topics (`;`-separated, empty =
no trust topic), origin; and the held-out evaluation set benchmarks/data/topic_eval.csv.gz (same
columns): the airline validation fifth's tweets and, of every other source, the texts with
`int(sha1("topic-eval:" + text), 16) % 5 == 0`, none of which is in the training file.
"""

from __future__ import annotations

import csv
import gzip
import hashlib
import io
from collections import Counter
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
SHARED = next(p / "shared" / "data" for p in ROOT.parents if (p / "shared" / "data").is_dir())
OUT = ROOT / "src" / "trustdesk" / "data" / "topic_training.csv.gz"
EVAL = ROOT / "benchmarks" / "data" / "topic_eval.csv.gz"
BREACH_CHARS = 400  # breach descriptions are cut to about a long complaint's length

AIRLINE = {
    "Customer Service Issue": "service_care",
    "Flight Attendant Complaints": "service_care",
    "Late Flight": "reliability_delivery",
    "Cancelled Flight": "reliability_delivery",
    "longlines": "reliability_delivery",
    "Lost Luggage": "reliability_delivery",
    "Flight Booking Problems": "reliability_delivery",
    "Damaged Luggage": "product_quality",
    "Bad Flight": "product_quality",
}
NEUTRAL_TWEETS = 1500  # neutral tweets kept as examples of "no trust topic"

BANKING77 = {
    "privacy_security": [
        "compromised_card",
        "lost_or_stolen_card",
        "lost_or_stolen_phone",
        "card_payment_not_recognised",
        "cash_withdrawal_not_recognised",
        "direct_debit_payment_not_recognised",
        "why_verify_identity",
        "unable_to_verify_identity",
        "verify_my_identity",
        "verify_source_of_funds",
        "passcode_forgotten",
        "pin_blocked",
    ],
    "billing_honesty": [
        "extra_charge_on_statement",
        "card_payment_fee_charged",
        "transfer_fee_charged",
        "cash_withdrawal_charge",
        "wrong_amount_of_cash_received",
        "transaction_charged_twice",
        "card_payment_wrong_exchange_rate",
        "wrong_exchange_rate_for_cash_withdrawal",
        "Refund_not_showing_up",
        "request_refund",
        "top_up_by_card_charge",
        "top_up_by_bank_transfer_charge",
        "exchange_charge",
    ],
    "reliability_delivery": [
        "pending_cash_withdrawal",
        "pending_top_up",
        "pending_card_payment",
        "pending_transfer",
        "transfer_not_received_by_recipient",
        "declined_card_payment",
        "declined_transfer",
        "declined_cash_withdrawal",
        "failed_transfer",
        "top_up_failed",
        "top_up_reverted",
        "reverted_card_payment?",
        "balance_not_updated_after_bank_transfer",
        "balance_not_updated_after_cheque_or_cash_deposit",
        "card_arrival",
        "card_swallowed",
    ],
    "product_quality": ["card_not_working", "contactless_not_working", "virtual_card_not_working"],
}
BANKING77_TOPIC = {intent: topic for topic, intents in BANKING77.items() for intent in intents}

# CFPB `Issue`, or `Issue / Sub-issue` where the issue alone is too broad. Unlisted: left out.
CFPB = {
    "Written notification about debt": "communication_transparency",
    "Advertising and marketing, including promotional offers": "communication_transparency",
    "Confusing or missing disclosures": "communication_transparency",
    "Problem with a credit reporting company's investigation into an existing problem / "
    "Was not notified of investigation status or results": "communication_transparency",
    "Problem with a credit reporting company's investigation into an existing problem / "
    "Difficulty submitting a dispute or getting information about a dispute over the phone": (
        "communication_transparency"
    ),
    "Dealing with your lender or servicer / Received bad information about your loan": (
        "communication_transparency"
    ),
    "Dealing with your lender or servicer / Need information about your loan balance or loan "
    "terms": "communication_transparency",
    "Communication tactics": "service_care",
    "Took or threatened to take negative or legal action": "service_care",
    "Dealing with your lender or servicer / Problem with customer service": "service_care",
    "Problem with a credit reporting company's investigation into an existing problem / "
    "Their investigation did not fix an error on your report": "service_care",
    "Attempts to collect debt not owed": "billing_honesty",
    "Attempts to collect debt not owed / Debt was result of identity theft": "privacy_security",
    "Cont'd attempts collect debt not owed": "billing_honesty",
    "False statements or representation": "billing_honesty",
    "Fees or interest": "billing_honesty",
    "Charged fees or interest you didn't expect": "billing_honesty",
    "Unexpected or other fees": "billing_honesty",
    "Problem with a purchase shown on your statement": "billing_honesty",
    "Problem with a lender or other company charging your account": "billing_honesty",
    "Managing an account / Fee problem": "billing_honesty",
    "Dealing with your lender or servicer / Don't agree with the fees charged": "billing_honesty",
    "Improper use of your report": "privacy_security",
    # someone else's accounts on my file (mostly identity theft / mixed files), my personal data
    # wrong: the data-care side of credit reports (the rest of "Incorrect information" is left out)
    "Incorrect information on your report / Information belongs to someone else": (
        "privacy_security"
    ),
    "Incorrect information on your report / Personal information incorrect": "privacy_security",
    "Problem with fraud alerts or security freezes": "privacy_security",
    "Credit monitoring or identity theft protection services": "privacy_security",
    "Fraud or scam": "privacy_security",
    "Unauthorized transactions or other transaction problem": "privacy_security",
    "Threatened to contact someone or share information improperly": "privacy_security",
    "Improper contact or sharing of info": "privacy_security",
    "Trouble during payment process": "reliability_delivery",
    "Problem when making payments": "reliability_delivery",
    "Money was not available when promised": "reliability_delivery",
    "Other transaction problem": "reliability_delivery",
    "Unable to get your credit report or credit score": "reliability_delivery",
    "Managing an account / Deposits and withdrawals": "reliability_delivery",
    "Managing an account / Banking errors": "reliability_delivery",
    "Managing an account / Funds not handled or disbursed as instructed": "reliability_delivery",
    "Managing an account / Problem accessing account": "reliability_delivery",
    "Managing an account / Problem making or receiving payments": "reliability_delivery",
    "Dealing with your lender or servicer / Trouble with how payments are being handled": (
        "reliability_delivery"
    ),
    "Problem with a credit reporting company's investigation into an existing problem / "
    "Investigation took more than 30 days": "reliability_delivery",
    "Trouble using your card": "product_quality",
    "Managing an account / Problem using a debit or ATM card": "product_quality",
}


def _is_validation(tweet_id: str) -> bool:
    return int(hashlib.sha1(tweet_id.encode()).hexdigest(), 16) % 5 == 0  # noqa: S324


def _held_out(text: str) -> bool:
    """The topic evaluation fifth of the non-airline sources (never in the training file)."""
    digest = hashlib.sha1(f"topic-eval:{text}".encode()).hexdigest()  # noqa: S324
    return int(digest, 16) % 5 == 0


def _cut(text: str) -> str:
    text = " ".join(text.replace("\xa0", " ").split())
    if len(text) <= BREACH_CHARS:
        return text
    return text[:BREACH_CHARS].rsplit(" ", 1)[0]


def _write(path: Path, rows: list[tuple[str, str, str]]) -> None:
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow(["text", "topics", "origin"])
    writer.writerows(rows)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(gzip.compress(buffer.getvalue().encode("utf-8"), mtime=0))


def _cfpb_topic(issue: str, sub_issue: str) -> str | None:
    return CFPB.get(f"{issue} / {sub_issue}") or CFPB.get(issue)


def main() -> None:
    rows: list[tuple[str, str, str]] = []
    held: list[tuple[str, str, str]] = []
    with (SHARED / "airline-tweets" / "tweets.csv").open(encoding="utf-8", newline="") as fh:
        neutral = 0
        for r in csv.DictReader(fh):
            target = held if _is_validation(r["tweet_id"]) else rows
            if r["airline_sentiment"] == "negative" and r["negativereason"] in AIRLINE:
                target.append((r["text"], AIRLINE[r["negativereason"]], "airline"))
            elif r["airline_sentiment"] == "neutral" and (
                target is held or neutral < NEUTRAL_TWEETS
            ):
                target.append((r["text"], "", "airline"))
                neutral += target is rows
    other: list[tuple[str, str, str]] = []
    with (SHARED / "banking77" / "train.csv").open(encoding="utf-8", newline="") as fh:
        for r in csv.DictReader(fh):
            other.append((r["text"], BANKING77_TOPIC.get(r["category"], ""), "banking77"))
    with (SHARED / "cfpb-complaints" / "complaints_sample.csv").open(
        encoding="utf-8", newline=""
    ) as fh:
        for r in csv.DictReader(fh):
            text = " ".join(r["Consumer complaint narrative"].split())
            topic = _cfpb_topic(r["Issue"], r["Sub-issue"])
            if text and topic:
                other.append((text, topic, "cfpb"))
    prc = SHARED / "breaches-prc" / "Privacy_Rights_Clearinghouse-Data-Breaches-Export.csv"
    with prc.open(encoding="utf-8", errors="replace", newline="") as fh:
        for r in csv.DictReader(fh):
            text = _cut(r["Description of incident"])
            if len(text) >= 40:
                other.append((text, "privacy_security", "breach-prc"))
    with (SHARED / "breaches-iib" / "breaches.csv").open(
        encoding="utf-8", errors="replace", newline=""
    ) as fh:
        for r in csv.DictReader(fh):
            text = _cut(r["story"])
            if len(text) >= 40:
                other.append((text, "privacy_security", "breach-iib"))
    for row in other:
        (held if _held_out(row[0]) else rows).append(row)
    seen: set[str] = set()
    unique = [r for r in rows if not (r[0] in seen or seen.add(r[0]))]  # type: ignore[func-returns-value]
    evaluation = [r for r in held if not (r[0] in seen or seen.add(r[0]))]  # type: ignore[func-returns-value]
    _write(OUT, unique)
    _write(EVAL, evaluation)
    for name, data in (("training", unique), ("evaluation", evaluation)):
        counts = Counter((origin, topic or "(none)") for _, topic, origin in data)
        print(f"-- {name}")
        for (origin, topic), n in sorted(counts.items()):
            print(f"{origin:10} {topic:28} {n:6}")
    for path, data in ((OUT, unique), (EVAL, evaluation)):
        print(f"{len(data)} rows -> {path.relative_to(ROOT)} ({path.stat().st_size:,} bytes)")


if __name__ == "__main__":
    main()
