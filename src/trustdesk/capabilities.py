"""The manifest: every capability and everything it contributes, in one place.

A capability is a folder plus one `Capability(...)` entry below (and a migration when it adds
tables). The app mounts its routers, the CLI its command groups, the web shell its pages and menu
entries, Alembic imports its models, `access.roles` grants its permissions, and `wire` connects its
cross-cutting contributions (trust signals, access-export sections, erasure steps) to the
registries their consumers own in their `public.py`. Nothing registers itself on import.

Contributions are named by import path (`"package.module:attribute"`) and imported when used, so
this module imports no capability (it is core) and the result does not depend on which modules
happen to be imported first: the order is always the manifest's.
"""

from __future__ import annotations

import importlib
from collections.abc import Callable, Sequence
from contextlib import AbstractContextManager
from dataclasses import dataclass
from typing import Any, Protocol, TypeVar

__all__ = [
    "CAPABILITIES",
    "ERASER_REGISTRY",
    "EXPORT_REGISTRY",
    "RETENTION_REGISTRY",
    "SIGNAL_REGISTRY",
    "Capability",
    "Command",
    "DemoEcho",
    "DemoStep",
    "ExportSection",
    "Job",
    "Permission",
    "installed",
    "resolve",
    "wire",
]

T = TypeVar("T")

# Where each kind of cross-cutting contribution goes: a registry owned by its consumer.
SIGNAL_REGISTRY = "trustdesk.trust.public:register_signal"
EXPORT_REGISTRY = "trustdesk.privacy.public:register_exporter"
# Erasure steps go to customers, not privacy: erasing a customer is destroying their key plus
# these steps, and customers' own `erase` command and route run it without depending on privacy.
ERASER_REGISTRY = "trustdesk.customers.public:register_eraser"
# Retention targets go to privacy: the data map's rules say what happens to each system's records.
RETENTION_REGISTRY = "trustdesk.privacy.public:register_retention"


@dataclass(frozen=True)
class Permission:
    """A permission the capability's routes, commands and pages check, and the roles holding it
    (the admin role holds every permission)."""

    name: str
    description: str
    roles: tuple[str, ...] = ()


@dataclass(frozen=True)
class Command:
    """A Typer app mounted as `trustdesk <name> …`, imported only when that group is invoked.

    `help` is what `trustdesk --help` lists for the group without importing it (keep it the
    Typer app's own help line; a test compares them).
    """

    name: str
    app: str
    help: str = ""


@dataclass(frozen=True)
class ExportSection:
    """A section of a customer's access export, written as `<name>.json`."""

    name: str
    exporter: str


class DemoEcho(Protocol):
    """What a demo loader reports through: `echo(line)` prints a line; `echo.progress(what,
    total)` shows a progress bar while a long part runs (the context gives a function taking the
    number done so far)."""

    def __call__(self, line: str) -> None: ...

    def progress(
        self, description: str, total: int | None = None
    ) -> AbstractContextManager[Callable[[int], None]]: ...


@dataclass(frozen=True)
class DemoStep:
    """A loader `(platform, echo: DemoEcho) -> None` run by `trustdesk demo`, lowest `order`
    first (a capability may have several steps, e.g. before and after another's)."""

    loader: str
    order: int


@dataclass(frozen=True)
class Job:
    """A unit of background work run by the one job system (`trustdesk.jobs`).

    `run` is `"module:function"`, a function `(trustdesk.jobs.public.JobContext) -> str | None`
    (a one-line summary for the runs table) that opens its own transactions. `every_s` makes it
    scheduled (one run per due time, due times aligned to multiples of `every_s` since the Unix
    epoch, so every worker agrees on them); `triggered_by` names the events
    (`trustdesk.jobs.public.changed(session, event)`) that make it due at once (coalesced: many
    events before a run start give one run). A failed run is retried `max_attempts - 1` times,
    waits doubling from `retry_s`.
    """

    name: str
    run: str
    description: str = ""
    every_s: int | None = None
    triggered_by: tuple[str, ...] = ()
    max_attempts: int = 3
    retry_s: int = 30
    lease_s: int = 600  # a run not finished by then counts as lost and the job is claimable


@dataclass(frozen=True)
class Capability:
    """What one capability contributes. Every reference is `"module:attribute"`."""

    name: str
    routers: tuple[str, ...] = ()  # APIRouters under /api/v1, in this order
    first_routers: tuple[str, ...] = ()  # mounted before every other router (busiest routes)
    commands: tuple[Command, ...] = ()
    pages: tuple[str, ...] = ()  # web.nav.Section objects: page routes and menu entries
    models: tuple[str, ...] = ()  # modules declaring ORM models (Alembic, drift test)
    permissions: tuple[Permission, ...] = ()
    signals: tuple[str, ...] = ()  # trust signals (trust.public.Signal)
    exports: tuple[ExportSection, ...] = ()  # access-export sections (privacy.public.Exporter)
    erasers: tuple[str, ...] = ()  # erasure steps (customers.public.Eraser)
    retention: tuple[str, ...] = ()  # retention targets (privacy.public.RetentionTarget)
    demo: tuple[DemoStep, ...] = ()
    # `(app, platform, settings) -> (() -> context manager)`: called when the app is built; a new
    # context is made and entered each time the server starts, left when it stops (in-process
    # services, caches).
    server_hooks: tuple[str, ...] = ()
    jobs: tuple[Job, ...] = ()  # scheduled and triggered background work (trustdesk.jobs)


CAPABILITIES: tuple[Capability, ...] = (
    Capability(
        name="platform",
        permissions=(
            Permission("config:read", "See the effective configuration (secrets masked)"),
            Permission(
                "metrics:read", "Scrape the Prometheus metrics at /metrics", roles=("monitor",)
            ),
        ),
    ),
    Capability(
        name="auth",
        routers=("trustdesk.auth.api:router",),
        commands=(
            Command("users", "trustdesk.auth.cli:users", "Staff users."),
            Command(
                "tokens", "trustdesk.auth.cli:tokens", "API tokens (shown once, stored hashed)."
            ),
        ),
        pages=(
            "trustdesk.auth.home:section",
            "trustdesk.auth.pages:section",
            "trustdesk.auth.admin_pages:section",
        ),
        models=("trustdesk.auth.models",),
        permissions=(
            Permission("users:manage", "Create and disable staff users"),
            Permission("tokens:manage", "Create and revoke API tokens"),
        ),
    ),
    Capability(
        name="audit",
        routers=("trustdesk.auditing.api:router",),
        commands=(Command("audit", "trustdesk.auditing.cli:app", "The hash-chained audit trail."),),
        pages=("trustdesk.auditing.pages:section",),
        models=("trustdesk.audit.chain",),
        permissions=(
            Permission(
                "audit:read", "Read and verify the audit trail", ("privacy_officer", "analyst")
            ),
        ),
    ),
    Capability(
        name="customers",
        routers=("trustdesk.customers.api:router",),
        commands=(
            Command(
                "customers",
                "trustdesk.customers.cli:app",
                "Customers and their encrypted personal data.",
            ),
        ),
        pages=("trustdesk.customers.import_pages:section", "trustdesk.customers.pages:section"),
        models=("trustdesk.customers.models",),
        permissions=(
            Permission(
                "customers:read",
                "List and view customers (personal data masked)",
                ("privacy_officer", "agent", "analyst", "viewer"),
            ),
            Permission(
                "customers:read_personal",
                "See customers' decrypted personal data",
                ("privacy_officer", "agent"),
            ),
            Permission("customers:write", "Create, import and edit customers", ("agent",)),
            Permission(
                "customers:erase",
                "Destroy a customer's data key (crypto-shred their personal data)",
                ("privacy_officer",),
            ),
        ),
        jobs=(
            Job(
                "customers.uploads",
                "trustdesk.customers.uploads:import_uploads",
                "Import customer files uploaded on the web page (progress on the upload's page).",
                every_s=60,  # also claims an upload whose run died, once its lease expired
                triggered_by=("customers.uploaded",),
                lease_s=300,
            ),
        ),
        demo=(DemoStep("trustdesk.customers.demo:load_demo_customers", 10),),
    ),
    Capability(
        name="privacy",
        routers=(
            "trustdesk.privacy.consent.api:router",
            "trustdesk.privacy.requests.api:router",
            "trustdesk.privacy.datamap.api:router",
        ),
        commands=(
            Command(
                "consent",
                "trustdesk.privacy.consent.cli:app",
                "Customers' consent: record, check, prove.",
            ),
            Command(
                "privacy",
                "trustdesk.privacy.requests.cli:app",
                "Data-subject requests, exports, erasure, the data map and the notice.",
            ),
            Command(
                "retention",
                "trustdesk.privacy.retention.cli:app",
                "Retention from the data map: what is past its period, deleted or anonymised.",
            ),
        ),
        pages=(
            "trustdesk.privacy.consent.pages:section",
            "trustdesk.privacy.preferences.pages:section",
            "trustdesk.privacy.requests.pages:section",
            "trustdesk.privacy.datamap.notice_pages:section",
            "trustdesk.privacy.datamap.pages:section",
        ),
        models=("trustdesk.privacy.models",),
        permissions=(
            Permission(
                "consent:read",
                "Check customers' consent, see their preferences and export consent proof",
                ("privacy_officer", "agent", "analyst"),
            ),
            Permission(
                "consent:write",
                "Record consent changes and issue preference-centre links",
                ("privacy_officer", "agent"),
            ),
            Permission(
                "privacy:requests",
                "Handle data-subject requests: queue, identity check, export, erasure",
                ("privacy_officer",),
            ),
            Permission(
                "privacy:datamap",
                "Edit the data map the privacy notice is generated from",
                ("privacy_officer",),
            ),
        ),
        exports=(
            ExportSection("customer", "trustdesk.privacy.export.sections:customer"),
            ExportSection("consents", "trustdesk.privacy.export.sections:consents"),
            ExportSection("consent_history", "trustdesk.privacy.export.sections:consent_history"),
            ExportSection("requests", "trustdesk.privacy.export.sections:requests"),
        ),
        retention=("trustdesk.privacy.requests.retention:REQUEST_RETENTION",),
        demo=(DemoStep("trustdesk.privacy.retention.demo:pause_retention_for_demo", 5),),
        # The OpenAPI document lists this server's consent purposes and channels as enums.
        server_hooks=("trustdesk.privacy.consent.openapi:declare_policy_keys",),
        jobs=(
            Job(
                "privacy.retention",
                "trustdesk.privacy.retention.jobs:enforce",
                "Delete or anonymise records past their data-map retention period.",
                every_s=86_400,
            ),
        ),
    ),
    Capability(
        name="feedback",
        routers=("trustdesk.feedback.api:router",),
        commands=(
            Command(
                "feedback",
                "trustdesk.feedback.cli:app",
                "Customer feedback: import, analyse, list.",
            ),
            Command(
                "model",
                "trustdesk.feedback.cli:model_app",
                "Offline text models: train, predict, build the defaults.",
            ),
        ),
        pages=("trustdesk.feedback.import_pages:section", "trustdesk.feedback.pages:section"),
        models=("trustdesk.feedback.models",),
        permissions=(
            Permission(
                "feedback:read",
                "List and view feedback with its text and analysis",
                ("privacy_officer", "agent", "analyst", "viewer"),
            ),
            Permission("feedback:write", "Send and import feedback", ("agent", "analyst")),
        ),
        exports=(ExportSection("feedback", "trustdesk.feedback.privacy_export:feedback_items"),),
        erasers=("trustdesk.feedback.erasure:FEEDBACK_ERASER",),
        retention=("trustdesk.feedback.retention:FEEDBACK_RETENTION",),
        demo=(DemoStep("trustdesk.feedback.demo:load_demo_feedback", 20),),
        jobs=(
            Job(
                "feedback.uploads",
                "trustdesk.feedback.uploads:import_uploads",
                "Import and analyse feedback files uploaded on the web page (progress on the "
                "upload's page).",
                every_s=60,  # also claims an upload whose run died, once its lease expired
                triggered_by=("feedback.uploaded",),
                lease_s=300,
            ),
        ),
    ),
    Capability(
        name="trust",
        routers=("trustdesk.trust.api:router", "trustdesk.trust.api:alerts_router"),
        commands=(
            Command(
                "trust",
                "trustdesk.trust.cli:app",
                "The trust index, its drivers and explanations.",
            ),
            Command(
                "alerts", "trustdesk.trust.cli:alerts_app", "Trust drops and negative-topic surges."
            ),
        ),
        pages=("trustdesk.trust.pages:section", "trustdesk.trust.export_pages:section"),
        models=("trustdesk.trust.models",),
        permissions=(
            Permission(
                "trust:read",
                "See the trust index, its drivers, explanations and alerts",
                ("privacy_officer", "agent", "analyst", "viewer"),
            ),
            Permission(
                "alerts:manage",
                "Acknowledge trust alerts and recompute the trust index",
                ("analyst",),
            ),
        ),
        # Feedback's signal is read by trust through feedback's facade: trust's pages show a
        # customer's feedback, so feedback cannot depend on trust without a cycle.
        signals=("trustdesk.trust.feedback_signal:FEEDBACK_SIGNAL",),
        exports=(ExportSection("trust", "trustdesk.trust.privacy_export:trust_index"),),
        # Once before the payments (their decisions weigh each customer's trust), once after
        # (false declines among them lower trust).
        demo=(
            DemoStep("trustdesk.trust.demo:recompute_for_demo", 25),
            DemoStep("trustdesk.trust.demo:recompute_for_demo", 40),
        ),
        jobs=(
            Job(
                "trust.recompute",
                "trustdesk.trust.jobs:recompute",
                "Fold new feedback and payments into the trust index; evaluate alerts.",
                every_s=300,
                triggered_by=("feedback.analysed", "surveys.answered"),
            ),
        ),
    ),
    Capability(
        name="fraud",
        first_routers=("trustdesk.fraud.api:router",),
        routers=("trustdesk.fraud.api:fraud_router",),
        commands=(
            Command(
                "fraud", "trustdesk.fraud.cli:app", "Fraud risk: intake, rules, models, backtests."
            ),
        ),
        pages=("trustdesk.fraud.pages:section",),
        models=("trustdesk.fraud.models",),
        permissions=(
            Permission(
                "fraud:read",
                "See scored payments, their decisions, the review queue and fraud monitoring",
                ("analyst", "viewer"),
            ),
            Permission("fraud:score", "Send payments to be scored and stored", ("agent",)),
            Permission("fraud:review", "Decide review cases and record fraud labels", ("analyst",)),
            Permission("fraud:admin", "Load fraud rules and train or activate fraud models"),
        ),
        signals=("trustdesk.fraud.trust_signal:FRAUD_SIGNAL",),
        exports=(ExportSection("payments", "trustdesk.fraud.privacy_export:payments"),),
        retention=("trustdesk.fraud.retention:PAYMENT_RETENTION",),
        demo=(DemoStep("trustdesk.fraud.demo:load_demo_step", 30),),
        server_hooks=("trustdesk.fraud.serving:attach_scorer",),
    ),
    Capability(
        name="incidents",
        routers=("trustdesk.incidents.api:router",),
        commands=(
            Command("incidents", "trustdesk.incidents.cli:app", "Incidents and breach response."),
        ),
        pages=("trustdesk.incidents.pages:section",),
        models=("trustdesk.incidents.models",),
        demo=(DemoStep("trustdesk.incidents.demo:load_demo_incident", 35),),
        signals=("trustdesk.incidents.trust_signal:BREACH_SIGNAL",),
        permissions=(
            Permission(
                "incidents:read",
                "See incidents, affected-customer counts, legal obligations and their clocks",
                ("incident_manager", "privacy_officer", "analyst"),
            ),
            Permission(
                "incidents:manage",
                "Open and work incidents: status, tasks, timeline, decisions, affected customers",
                ("incident_manager", "privacy_officer"),
            ),
            Permission(
                "incidents:approve",
                "Approve breach notices before they are sent",
                ("privacy_officer",),
            ),
        ),
        jobs=(
            Job(
                "incidents.clocks",
                "trustdesk.incidents.jobs:evaluate",
                "Legal clocks of open incidents: amber, red and overdue obligations raise alerts.",
                every_s=300,
            ),
        ),
    ),
    Capability(
        name="cases",
        routers=("trustdesk.cases.api:router",),
        commands=(
            Command(
                "cases",
                "trustdesk.cases.cli:app",
                "Complaint cases: intake, routing, SLA clocks.",
            ),
        ),
        pages=("trustdesk.cases.pages:section", "trustdesk.cases.public_pages:section"),
        models=("trustdesk.cases.models",),
        permissions=(
            Permission(
                "cases:read",
                "See the case inbox, cases (text masked), SLA states and case figures",
                ("agent", "analyst", "privacy_officer", "viewer"),
            ),
            Permission(
                "cases:read_personal", "Read complaints' subject, body and notes", ("agent",)
            ),
            Permission(
                "cases:write",
                "Open cases and work them: status, assignment, notes, replies, links, merges",
                ("agent",),
            ),
        ),
        exports=(ExportSection("cases", "trustdesk.cases.privacy_export:cases"),),
        erasers=("trustdesk.cases.erasure:CASES_ERASER",),
        signals=("trustdesk.cases.trust_signal:CASES_SIGNAL",),
        demo=(DemoStep("trustdesk.cases.demo:load_demo_cases", 50),),
        jobs=(
            Job(
                "cases.sla",
                "trustdesk.cases.jobs:evaluate",
                "SLA clocks of open cases: amber at 80%, breaches escalated once.",
                every_s=300,
            ),
            Job(
                "cases.csat",
                "trustdesk.cases.jobs:send_csat",
                '"Did we fix it?" surveys after resolutions, where consent allows.',
                every_s=300,
            ),
            Job(
                "cases.from_alerts",
                "trustdesk.cases.jobs:from_alerts",
                "A case for each trust-index drop alert (once per alert).",
                every_s=300,
            ),
        ),
    ),
    Capability(
        name="surveys",
        routers=("trustdesk.surveys.api:router",),
        commands=(
            Command(
                "surveys",
                "trustdesk.surveys.cli:app",
                "Trust surveys: validated items, responses, the leaders' trust gap.",
            ),
        ),
        pages=("trustdesk.surveys.respond_pages:section", "trustdesk.surveys.pages:section"),
        models=("trustdesk.surveys.models",),
        permissions=(
            Permission(
                "surveys:read",
                "See surveys, their results and the leaders' trust gap",
                ("analyst", "viewer", "privacy_officer"),
            ),
            Permission(
                "surveys:write", "Build surveys, distribute them and import responses", ("analyst",)
            ),
        ),
        signals=("trustdesk.surveys.trust_signal:SURVEY_SIGNAL",),
        # After the first trust recompute (the simulated answers follow each customer's index),
        # before the second (which folds the answers in).
        demo=(DemoStep("trustdesk.surveys.demo:load_demo_survey", 36),),
        jobs=(
            Job(
                "surveys.deliver",
                "trustdesk.surveys.jobs:deliver",
                "Email due survey invitations and reminders (never in quiet hours).",
                every_s=300,
                triggered_by=("surveys.invited",),
            ),
        ),
    ),
    Capability(
        name="trustcentre",
        routers=("trustdesk.trustcentre.api:router", "trustdesk.trustcentre.api:risks_router"),
        commands=(
            Command(
                "trustcentre",
                "trustdesk.trustcentre.cli:app",
                "The public trust centre: statements, promises with live proof, practice sections.",
            ),
            Command(
                "risks",
                "trustdesk.trustcentre.cli:risks_app",
                "The risk register: likelihood x impact, owners, reviews, linked events.",
            ),
        ),
        pages=(
            "trustdesk.trustcentre.pages:public_section",
            "trustdesk.trustcentre.staff_pages:section",
            "trustdesk.trustcentre.pages:section",
        ),
        models=("trustdesk.trustcentre.models",),
        permissions=(
            Permission(
                "trustcentre:read",
                "See the trust centre's statements and promise figures through the API",
                ("privacy_officer", "analyst", "incident_manager", "viewer"),
            ),
            Permission(
                "trustcentre:publish",
                "Publish public statements and edit the trust centre's sections",
                ("privacy_officer",),
            ),
            Permission(
                "risks:read",
                "See the risk register, its heat map and linked events",
                ("privacy_officer", "analyst", "incident_manager"),
            ),
            Permission(
                "risks:manage",
                "Add, rate, review and close risks; link events to them",
                ("privacy_officer", "incident_manager"),
            ),
        ),
        erasers=("trustdesk.trustcentre.erasure:TRUSTCENTRE_ERASER",),
        demo=(DemoStep("trustdesk.trustcentre.demo:load_demo_trust_centre", 60),),
        jobs=(
            Job(
                "trustcentre.updates",
                "trustdesk.trustcentre.jobs:mail_updates",
                "Mail new statements, incidents' public statements and new recipients of personal "
                "data to confirmed subscribers whom the consent ledger allows.",
                every_s=3600,
                triggered_by=("trustcentre.updated", "incidents.statement_published"),
            ),
            Job(
                "risks.reviews",
                "trustdesk.trustcentre.jobs:remind_reviews",
                "Risks past their review date: one reminder each, flagged overdue.",
                every_s=3600,
            ),
        ),
    ),
    Capability(
        # Shared: every capability's outgoing email, webhooks and postal letters (docs/outbox.md).
        name="outbox",
        routers=("trustdesk.outbox.api:router",),
        commands=(
            Command(
                "outbox",
                "trustdesk.outbox.cli:app",
                "The outbox: every email, webhook and postal letter TrustDesk sends.",
            ),
            Command(
                "mailbox",
                "trustdesk.outbox.cli:mailbox_app",
                "A local mailbox (SMTP server) that keeps what it receives: "
                "for the demo and tests.",
            ),
        ),
        models=("trustdesk.outbox.models",),
        permissions=(
            Permission(
                "outbox:read",
                "See outgoing messages, their delivery status and log (never their content)",
                ("privacy_officer", "analyst"),
            ),
            Permission("outbox:manage", "Retry messages that failed or bounced", ()),
        ),
        exports=(ExportSection("messages", "trustdesk.outbox.privacy_export:messages"),),
        jobs=(
            Job(
                "outbox.deliver",
                "trustdesk.outbox.jobs:deliver",
                "Send due email and signed webhooks; retry failures; recover stale claims.",
                every_s=60,
                triggered_by=("outbox.enqueued",),
            ),
        ),
    ),
    Capability(
        name="notifications",
        routers=("trustdesk.notifications.api:router",),
        commands=(
            Command(
                "notifications",
                "trustdesk.notifications.cli:app",
                "Staff notifications: trust alerts, overdue privacy requests, fraud queue, "
                "job failures, incident clocks, case SLA breaches.",
            ),
        ),
        pages=("trustdesk.notifications.pages:section",),
        models=("trustdesk.notifications.models",),
        permissions=(
            Permission(
                "notifications:manage",
                "Subscribe staff to alerts by email or signed webhook",
                ("privacy_officer", "analyst"),
            ),
        ),
        jobs=(
            Job(
                "notifications.notify",
                "trustdesk.notifications.jobs:notify",
                "Turn trust alerts, overdue requests, a long fraud queue, job failures, incident "
                "clock alerts and case SLA breaches into email and webhooks for the subscribers.",
                every_s=60,
                triggered_by=("job.failed", "incidents.clock_alerts", "cases.breached"),
            ),
        ),
    ),
    Capability(
        name="jobs",
        routers=("trustdesk.jobs.api:router",),
        commands=(
            Command(
                "jobs", "trustdesk.jobs.cli:app", "Background jobs: schedules, runs, failures."
            ),
            Command(
                "worker",
                "trustdesk.jobs.cli:worker_app",
                "Run due background jobs until stopped (Ctrl-C).",
            ),
        ),
        pages=("trustdesk.jobs.pages:section",),
        models=("trustdesk.jobs.models",),
        permissions=(
            Permission(
                "jobs:read",
                "See background jobs, their runs, failures and durations",
                ("privacy_officer", "analyst", "monitor"),
            ),
            Permission("jobs:run", "Make a background job run now"),
        ),
        # Last: the capabilities' own in-process services are up before the first job runs.
        server_hooks=("trustdesk.jobs.serving:attach_runner",),
    ),
)
"""Every capability, in the order their contributions are mounted, listed and registered."""


def installed() -> tuple[Capability, ...]:
    """The manifest in force (read at call time, so a test may extend it)."""
    return CAPABILITIES


def resolve(ref: str, kind: type[T] | None = None) -> Any:
    """The object `ref` ("package.module:attribute") names, checked to be a `kind` if given."""
    module_name, sep, attribute = ref.partition(":")
    if not sep or not attribute:
        raise ValueError(f"{ref!r}: expected 'package.module:attribute'")
    found = getattr(importlib.import_module(module_name), attribute)
    if kind is not None and not isinstance(found, kind):
        raise TypeError(f"{ref!r} is a {type(found).__name__}, expected a {kind.__name__}")
    return found


def wire(capabilities: Sequence[Capability] | None = None) -> None:
    """Connect every declared signal, export section, erasure step and retention target to its
    consumer's registry.

    Idempotent (registering the same object again changes nothing); the consumers call it before
    reading their registry, so what they see never depends on import order.
    """
    capabilities = installed() if capabilities is None else capabilities
    register_signal: Callable[[Any], None] = resolve(SIGNAL_REGISTRY)
    register_exporter: Callable[[str, Any], None] = resolve(EXPORT_REGISTRY)
    register_eraser: Callable[[Any], None] = resolve(ERASER_REGISTRY)
    register_retention: Callable[[Any], None] = resolve(RETENTION_REGISTRY)
    for capability in capabilities:
        for ref in capability.signals:
            register_signal(resolve(ref))
        for section in capability.exports:
            register_exporter(section.name, resolve(section.exporter))
        for ref in capability.erasers:
            register_eraser(resolve(ref))
        for ref in capability.retention:
            register_retention(resolve(ref))
