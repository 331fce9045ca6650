"""A realistic, deterministic demo estate for screenshots, GUI work and trying the product.

``populate(core)`` fills an *empty* database with five data centres and two branch offices:
routers, switches, firewalls, load balancers, storage, servers, UPS, PDUs, cameras and
access points, wired into a parent tree (distribution switches and firewalls under the core
router, access switches under distribution switches, servers, cameras and access points
under access switches, PDUs under UPS), with SNMP and SSH profiles, tags, vars, dynamic
groups and static groups with group vars; then a NOC shift's worth of alerts through the
alert service (``demo_alerts``).

What the devices *are* (sites, models, roles, credentials, groups) is the catalogue
``resources/demo/estate.toml``; how the estate is *shaped* and grows to N targets is here.
The same ``targets`` and ``seed`` always give the same estate (names, addresses, fields,
memberships); only UUIDs and timestamps differ. Targets go through the bulk import path
(one transaction), so ten thousand demo targets take seconds.

Running it on a database that already has targets or groups is refused with
``DatabaseNotEmptyError`` before anything is written: the demo never mixes with real data.
Credentials are created only when the OS keyring is usable; their secrets are obviously
fake. Without a keyring the targets keep their SNMP versions and SSH usernames but
reference no credential, and the summary says why.
"""

from __future__ import annotations

import random
import time
import tomllib
from collections import Counter
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

from opsconductor_desktop import paths
from opsconductor_desktop.domain import rules as rule_lang
from opsconductor_desktop.domain.credentials import Secret, parse_credential_kind
from opsconductor_desktop.domain.errors import OpsError, SecretStoreError, ValidationError
from opsconductor_desktop.domain.groups import GroupSpec
from opsconductor_desktop.domain.jobs import parse_job
from opsconductor_desktop.domain.rules import Rule
from opsconductor_desktop.domain.targets import (
    SnmpProfile,
    SshProfile,
    TargetKind,
    TargetSpec,
    parse_kind,
    parse_snmp_version,
)
from opsconductor_desktop.services.app import Core
from opsconductor_desktop.services.demo_alerts import DemoAlerts, populate_alerts
from opsconductor_desktop.services.demo_metrics import populate_metrics
from opsconductor_desktop.services.demo_monitoring import populate_monitoring
from opsconductor_desktop.services.inventory_formats import ImportBatch, ImportRow

MAX_TARGETS = 50_000
DEFAULT_TARGETS = 240
DEFAULT_SEED = 7


class DatabaseNotEmptyError(OpsError):
    """The demo estate is only ever written into an empty database."""


class DemoCatalogueError(OpsError):
    """``resources/demo/estate.toml`` is missing or malformed (a broken installation)."""


@dataclass(frozen=True, slots=True)
class DemoSummary:
    """What ``populate`` wrote."""

    targets: int
    disabled: int
    sites: tuple[str, ...]
    kinds: tuple[tuple[str, int], ...]  # (kind, count), by kind name
    groups: int
    dynamic_groups: int
    static_groups: int
    static_memberships: int
    credentials: int
    credentials_skipped: str | None = None  # why no credentials were made (no keyring)
    jobs: int = 0
    seconds: float = 0.0
    alerts: DemoAlerts | None = None

    def lines(self) -> list[str]:
        """A short report for people (the CLI prints it)."""
        kinds = ", ".join(f"{count} {kind}" for kind, count in self.kinds)
        creds = (
            f"none ({self.credentials_skipped})"
            if self.credentials_skipped
            else f"{self.credentials} (fake secrets, in the keyring)"
        )
        return [
            f"demo estate: {self.targets} targets ({self.disabled} disabled) in "
            f"{len(self.sites)} sites: {', '.join(self.sites)}",
            f"kinds: {kinds}",
            f"groups: {self.groups} ({self.dynamic_groups} dynamic, {self.static_groups} "
            f"static with {self.static_memberships} memberships)",
            f"credentials: {creds}",
            f"jobs: {self.jobs}",
            *([self.alerts.line()] if self.alerts else []),
            f"written in {self.seconds:.1f} s",
        ]


#: A few everyday jobs, so that the Jobs pane has something to show and run.
DEMO_JOBS: tuple[dict[str, Any], ...] = (
    {
        "name": "show-version",
        "description": "Collect software versions from the core network",
        "select": {"groups": ["core-network"]},
        "concurrency": 10,
        "steps": [
            {
                "type": "ssh.command",
                "name": "version",
                "command": "show version",
                "timeout": 30,
                "capture": r"Version (?P<version>\S+)",
            }
        ],
    },
    {
        "name": "snmp-system",
        "description": "System group over SNMP: description, uptime, name, location",
        "select": {"rule": "kind:switch or kind:router"},
        "failure_policy": "continue",
        "steps": [
            {
                "type": "snmp.get",
                "name": "system",
                "oids": [
                    "1.3.6.1.2.1.1.1.0",
                    "1.3.6.1.2.1.1.3.0",
                    "1.3.6.1.2.1.1.5.0",
                    "1.3.6.1.2.1.1.6.0",
                ],
            }
        ],
    },
    {
        "name": "reachability",
        "description": "Ping and SSH port check across a site",
        "select": {"groups": ["site-ams1"]},
        "failure_policy": "continue",
        "concurrency": 50,
        "steps": [
            {"type": "ping", "name": "ping", "count": 2},
            {"type": "tcp.check", "name": "ssh-port", "port": 22, "timeout": 3},
        ],
    },
)


# ---- the catalogue -----------------------------------------------------------------------

Model = tuple[str, str, str]  # vendor, model, os_version


@dataclass(frozen=True, slots=True)
class Role:
    """What the targets of one role look like (``[roles.NAME]`` of the catalogue)."""

    name: str
    kind: TargetKind
    block: int
    what: str
    tags: tuple[str, ...]
    snmp: SnmpProfile
    ssh: SshProfile
    models: tuple[Model, ...]
    random_model: bool = False
    legacy: Model | None = None


@dataclass(frozen=True, slots=True)
class Site:
    """A data centre or branch office (``[[sites]]``)."""

    code: str
    city: str
    net: str
    branch: bool = False
    pci: bool = False
    load_balancer: bool = False
    dns_servers: bool = False
    ipv6: str = ""
    models: Mapping[str, Model] = field(default_factory=dict)

    @property
    def prefix(self) -> str:
        return self.code.lower()


@dataclass(frozen=True, slots=True)
class DemoGroup:
    """A group: dynamic with ``rule``, else static with members picked by ``members``."""

    name: str
    description: str
    vars: Mapping[str, Any]
    rule: Rule | None = None
    members: Rule | None = None


@dataclass(frozen=True, slots=True)
class Catalogue:
    roles: Mapping[str, Role]
    sites: tuple[Site, ...]
    credentials: tuple[Mapping[str, Any], ...]
    groups: tuple[DemoGroup, ...]


def _model(raw: Any) -> Model:
    vendor, model, os_version = (str(v) for v in raw)
    return vendor, model, os_version


def _role(name: str, raw: Mapping[str, Any]) -> Role:
    snmp_version, snmp_cred = raw["snmp"]
    ssh_user, ssh_cred = raw["ssh"]
    return Role(
        name=name,
        kind=parse_kind(raw["kind"]),
        block=int(raw["block"]),
        what=str(raw["what"]),
        tags=tuple(raw["tags"]),
        snmp=SnmpProfile(parse_snmp_version(snmp_version), credential=snmp_cred or None),
        ssh=SshProfile(username=ssh_user or None, credential=ssh_cred or None),
        models=tuple(_model(m) for m in raw["models"]),
        random_model=bool(raw.get("random_model", False)),
        legacy=_model(raw["legacy"]) if "legacy" in raw else None,
    )


def _group(raw: Mapping[str, Any]) -> DemoGroup:
    rule, members = raw.get("rule"), raw.get("members")
    return DemoGroup(
        name=str(raw["name"]),
        description=str(raw.get("description", "")),
        vars=dict(raw.get("vars", {})),
        rule=rule_lang.parse(rule) if rule else None,
        members=rule_lang.parse(members) if members else None,
    )


def load_catalogue(path: Path | None = None) -> Catalogue:
    """Read the demo catalogue (default: ``resources/demo/estate.toml``)."""
    try:
        path = path or paths.resources_dir() / "demo" / "estate.toml"
        data = tomllib.loads(path.read_text(encoding="utf-8"))
        sites = tuple(
            Site(**{k: v for k, v in raw.items() if k != "models"},
                 models={r: _model(m) for r, m in raw.get("models", {}).items()})
            for raw in data["sites"]
        )  # fmt: skip
        return Catalogue(
            roles={name: _role(name, raw) for name, raw in data["roles"].items()},
            sites=sites,
            credentials=tuple(data["credentials"]),
            groups=tuple(_group(raw) for raw in data["groups"]),
        )
    except (OSError, tomllib.TOMLDecodeError, KeyError, TypeError, ValueError) as exc:
        where = path or "resources/demo/estate.toml"
        raise DemoCatalogueError(f"the demo catalogue {where} is unusable: {exc!r}") from exc


# ---- generating targets --------------------------------------------------------------------


@dataclass
class _Builder:
    """Makes target specs in parent-first order, so any prefix of the stream is valid."""

    catalogue: Catalogue
    rng: random.Random
    creds: frozenset[str]
    counters: Counter[tuple[str, str]] = field(default_factory=Counter)

    def next_number(self, site: Site, key: str) -> int:
        self.counters[(site.code, key)] += 1
        return self.counters[(site.code, key)]

    def address(self, site: Site, role: Role) -> str:
        # Data centres: a /24 block per role; branches: one small block per role.
        base = 4 * list(self.catalogue.roles).index(role.name) if site.branch else role.block
        index = self.next_number(site, f"address:{base}") - 1
        return f"{site.net}.{base + index // 240}.{10 + index % 240}"

    def make(
        self,
        site: Site,
        role_name: str,
        *,
        parent: str | None = None,
        tags: tuple[str, ...] = (),
        model: Model | None = None,
        **fields: Any,
    ) -> TargetSpec:
        role = self.catalogue.roles[role_name]
        if model is None:
            model = site.models.get(role.name) or (
                self.rng.choice(role.models) if role.random_model else role.models[0]
            )
        n = self.next_number(site, role.name)
        row = "ABCDEFGH"[self.rng.randrange(2 if site.branch else 8)]
        rack = f"{row}{self.rng.randrange(1, 25):02d}"
        where = f"comms room, rack {rack}" if site.branch else f"hall 1, row {row}, rack {rack}"
        site_tag = "branch" if site.branch else f"dc:{site.prefix}"
        snmp_cred, ssh_cred = (
            c if c in self.creds else None for c in (role.snmp.credential, role.ssh.credential)
        )
        values: dict[str, Any] = {
            "name": f"{site.prefix}-{role.name}-{n:02d}",
            "kind": role.kind,
            "vendor": model[0],
            "model": model[1],
            "site": site.code,
            "description": f"{role.what}, {site.city}, {where}",
            "tags": (*role.tags, *tags, site_tag),
            "parent": parent,
            "snmp": SnmpProfile(role.snmp.version, credential=snmp_cred),
            "ssh": SshProfile(username=role.ssh.username, credential=ssh_cred),
            "vars": {"rack": rack, "row": row, "os_version": model[2]},
        }
        values |= fields
        if not values.get("address"):
            values["address"] = self.address(site, role)
        return TargetSpec(**values).validated()

    def backbone(self, site: Site) -> list[TargetSpec]:
        """The fixed part of a site: built before anything that hangs below it."""
        if site.branch:
            rtr = self.make(site, "edge-rtr")
            fw = self.make(site, "fw", parent=rtr.name)
            return [rtr, fw, self.access_switch(site, fw.name), self.make(site, "ups")]
        out = [self.make(site, "core-rtr") for _ in range(2)]
        core = out[0].name
        pci = ("pci",) if site.pci else ()
        out += [self.make(site, "dist-sw", parent=core) for _ in range(2)]
        out += [self.make(site, "edge-fw", parent=core, tags=pci) for _ in range(2)]
        if site.load_balancer:
            dns = f"{site.prefix}-lb-01.mgmt.example.net"
            out.append(self.make(site, "lb", parent=out[2].name, address=dns))
        out.append(self.make(site, "nas", parent=out[2].name))
        out += [self.make(site, "ups") for _ in range(2)]
        return out

    def access_switch(self, site: Site, parent: str) -> TargetSpec:
        role = self.catalogue.roles["acc-sw"]
        if site.branch or role.legacy is None or self.rng.random() >= 0.12:
            return self.make(site, "acc-sw", parent=parent)
        enabled = self.rng.random() >= 0.5  # half the legacy switches are already unplugged
        return self.make(
            site, "acc-sw", parent=parent, tags=("legacy",), model=role.legacy, enabled=enabled
        )

    def server(self, site: Site, parent: str) -> TargetSpec:
        n = self.counters[(site.code, "srv")] + 1
        tags: tuple[str, ...] = ()
        if n == 1:
            tags = ("monitoring",)
        elif site.pci and self.rng.random() < 0.2:
            tags = ("pci",)
        elif site.code == "FRA2" and self.rng.random() < 0.3:
            tags = ("lab",)
        fields: dict[str, Any] = {"enabled": self.rng.random() >= 0.03}
        if site.ipv6:
            fields["address"] = f"{site.ipv6}:{0x100 + (n - 1) // 240:x}::{10 + (n - 1) % 240:x}"
        elif site.dns_servers and n % 9 == 0:
            fields["address"] = f"{site.prefix}-srv-{n:02d}.example.net"
        return self.make(site, "srv", parent=parent, tags=tags, **fields)

    def camera(self, site: Site, parent: str) -> TargetSpec:
        spec = self.make(site, "cam", parent=parent, enabled=self.rng.random() >= 0.07)
        if spec.vendor == "Hikvision":  # these ship with SNMP off
            spec = replace(spec, snmp=SnmpProfile())
        return spec

    def round(self, site: Site, backbone: list[TargetSpec], turn: int) -> Iterator[TargetSpec]:
        """One access switch and what hangs below it (a branch: an AP, sometimes a camera)."""
        if site.branch:
            branch_switch = next(s.name for s in backbone if "-acc-sw-" in s.name)
            yield self.make(site, "ap", parent=branch_switch)
            if turn % 4 == 0:
                yield self.camera(site, branch_switch)
            return
        dists = [s.name for s in backbone if "-dist-sw-" in s.name]
        ups = [s.name for s in backbone if s.kind is TargetKind.UPS]
        switch = self.access_switch(site, dists[turn % len(dists)])
        yield switch
        yield from (self.server(site, switch.name) for _ in range(3))
        yield self.camera(site, switch.name)
        yield self.make(site, "ap", parent=switch.name)
        yield self.make(site, "pdu", parent=ups[turn % len(ups)])


def _stream(builder: _Builder) -> Iterator[TargetSpec]:
    sites = builder.catalogue.sites
    backbones = {site.code: builder.backbone(site) for site in sites}
    for site in sites:
        yield from backbones[site.code]
    turn = 0
    while True:
        for site in sites:
            if not site.branch or turn % 2 == 0:
                yield from builder.round(site, backbones[site.code], turn)
        turn += 1


def generate(
    targets: int = DEFAULT_TARGETS,
    seed: int = DEFAULT_SEED,
    *,
    credentials: frozenset[str] = frozenset(),
    catalogue: Catalogue | None = None,
) -> list[TargetSpec]:
    """The demo targets, parents first; pure (no database). Credentials not in
    ``credentials`` are left out of the targets' profiles."""
    if not 1 <= targets <= MAX_TARGETS:
        raise ValidationError(f"demo targets must be 1-{MAX_TARGETS}, got {targets}")
    builder = _Builder(catalogue or load_catalogue(), random.Random(seed), credentials)
    specs: list[TargetSpec] = []
    for spec in _stream(builder):
        if len(specs) == targets:
            break
        specs.append(spec)
    return specs


def static_groups(spec: TargetSpec, catalogue: Catalogue) -> tuple[str, ...]:
    """The static groups a demo target joins (those whose ``members`` rule it matches)."""
    return tuple(g.name for g in catalogue.groups if g.members and g.members.matches(spec))


# ---- writing -------------------------------------------------------------------------------


async def _check_empty(core: Core) -> None:
    estate = await core.inventory.estate()
    targets, groups = len(estate.target_rows), len(estate.group_rows)
    if targets or groups:
        raise DatabaseNotEmptyError(
            f"database already has {targets} targets and {groups} groups; the demo estate "
            "needs an empty database (use --home DIR or --db sqlite:///demo.db)"
        )


async def _credentials(core: Core, catalogue: Catalogue) -> tuple[frozenset[str], str | None]:
    """Create the fake demo credentials: (names usable, why skipped or None)."""
    wanted = {str(raw["name"]) for raw in catalogue.credentials}
    try:
        _ = core.ctx.secrets.backend  # no keyring: skip before writing anything
        existing = {c.name for c in await core.credentials.list()}
        for raw in catalogue.credentials:
            if raw["name"] in existing:
                continue
            await core.credentials.create(
                raw["name"],
                parse_credential_kind(raw["kind"]),
                Secret(dict(raw["secret"])),
                username=raw.get("username"),
                auth_protocol=raw.get("auth_protocol"),
                priv_protocol=raw.get("priv_protocol"),
            )
    except SecretStoreError as exc:
        made = {c.name for c in await core.credentials.list()}
        return frozenset(made & wanted), str(exc)
    return frozenset(wanted), None


DEMO_CONNECTORS = (
    # (manifest id, name, settings): disabled, since the demo's addresses are fictional
    ("alertmanager", "prod-alertmanager", {"url": "http://alertmanager.ams1.example:9093"}),
    ("zabbix", "legacy-zabbix", {"url": "https://zabbix.fra2.example"}),
    ("snmp-trap", "traps", {"address": "0.0.0.0", "port": "1162"}),
    ("syslog", "syslog", {"address": "0.0.0.0", "port": "5514"}),
)


async def _connectors(core: Core) -> None:
    """A few alert sources to look at in the Connectors pane (none enabled)."""
    for manifest, name, settings in DEMO_CONNECTORS:
        await core.connectors.add(manifest, name=name, settings=settings, enabled=False)


async def populate(
    core: Core, *, targets: int = DEFAULT_TARGETS, seed: int = DEFAULT_SEED
) -> DemoSummary:
    """Fill an empty database with the demo estate (see the module docstring).

    Raises ``DatabaseNotEmptyError`` if the database has targets or groups (nothing is
    written), ``ValidationError`` if ``targets`` is out of 1-``MAX_TARGETS``. Credentials
    are skipped, and the reason reported in the summary, when the keyring is unusable.
    """
    started = time.monotonic()
    if not 1 <= targets <= MAX_TARGETS:
        raise ValidationError(f"demo targets must be 1-{MAX_TARGETS}, got {targets}")
    catalogue = load_catalogue()
    await _check_empty(core)
    creds, skipped = await _credentials(core, catalogue)
    specs = generate(targets, seed, credentials=creds, catalogue=catalogue)
    # Every group first, while the estate is empty and each is cheap to create; the
    # static memberships then go in with the targets, through the bulk import.
    for group in catalogue.groups:
        await core.inventory.create_group(
            GroupSpec(group.name, group.description, group.rule, group.vars)
        )
    rows = tuple(
        ImportRow(line, spec, static_groups(spec, catalogue))
        for line, spec in enumerate(specs, start=1)
    )
    report = await core.importer.run(ImportBatch(f"demo(seed={seed})", "demo", rows, (), ()))
    if not report.ok or not report.written:
        first = "; ".join(f"{e.name}: {e.message}" for e in report.errors[:3])
        raise ValidationError(f"the demo estate was refused by the import check: {first}")
    for document in DEMO_JOBS:
        await core.jobs.save(parse_job(document))
    await populate_metrics(core, seed=seed)  # graphs and sparklines for a few backbone devices
    await populate_monitoring(core)  # more monitors and the threshold rules
    alerts = await populate_alerts(core, specs)  # through the alert service, as real ones
    await _connectors(core)
    return DemoSummary(
        targets=len(specs),
        disabled=sum(not s.enabled for s in specs),
        sites=tuple(sorted({s.site for s in specs})),
        kinds=tuple(sorted(Counter(str(s.kind) for s in specs).items())),
        groups=len(catalogue.groups),
        dynamic_groups=sum(g.rule is not None for g in catalogue.groups),
        static_groups=sum(g.rule is None for g in catalogue.groups),
        static_memberships=sum(len(r.groups) for r in rows),
        credentials=len(creds),
        credentials_skipped=skipped,
        jobs=len(DEMO_JOBS),
        seconds=time.monotonic() - started,
        alerts=alerts,
    )
