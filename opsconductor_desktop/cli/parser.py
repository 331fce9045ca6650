"""The argument parser and ``main``: run one sub-command, turn failures into exit codes."""

from __future__ import annotations

import argparse
import asyncio
import logging
import sys
from collections.abc import Callable, Coroutine, Sequence
from typing import Any

from opsconductor_desktop import __version__, logs
from opsconductor_desktop.cli.alerts import (
    cmd_alerts_ack,
    cmd_alerts_list,
    cmd_alerts_resolve,
    cmd_alerts_show,
    cmd_alerts_unack,
    cmd_silences_add,
    cmd_silences_list,
    cmd_silences_rm,
)
from opsconductor_desktop.cli.common import EXIT_FAILED, EXIT_UNEXPECTED
from opsconductor_desktop.cli.connectors import (
    cmd_connectors_add,
    cmd_connectors_enable,
    cmd_connectors_list,
    cmd_connectors_manifests,
    cmd_connectors_poll,
    cmd_connectors_rm,
    cmd_connectors_set,
    cmd_connectors_show,
    cmd_connectors_test,
)
from opsconductor_desktop.cli.db import cmd_db_current, cmd_db_upgrade, cmd_demo
from opsconductor_desktop.cli.inventory import (
    cmd_creds_add,
    cmd_creds_list,
    cmd_creds_rm,
    cmd_groups_add,
    cmd_groups_add_members,
    cmd_groups_list,
    cmd_groups_rm,
    cmd_groups_rm_members,
    cmd_groups_set_rule,
    cmd_groups_show,
    cmd_targets_add,
    cmd_targets_edit,
    cmd_targets_export,
    cmd_targets_import,
    cmd_targets_list,
    cmd_targets_rm,
    cmd_targets_show,
)
from opsconductor_desktop.cli.jobs import (
    cmd_exec,
    cmd_jobs_import,
    cmd_jobs_list,
    cmd_jobs_rm,
    cmd_jobs_runs,
    cmd_jobs_show,
    cmd_run,
    cmd_snmp,
)
from opsconductor_desktop.cli.monitoring import (
    cmd_agent,
    cmd_monitors_import,
    cmd_monitors_list,
    cmd_monitors_rm,
    cmd_monitors_status,
    cmd_poll,
    cmd_rules_import,
    cmd_rules_list,
    cmd_rules_rm,
    cmd_silences_import,
)
from opsconductor_desktop.domain.errors import OpsError
from opsconductor_desktop.paths import AppPaths
from opsconductor_desktop.services.app import Core, open_core

log = logging.getLogger("opsconductor.cli")

Handler = Callable[[Core, argparse.Namespace], Coroutine[Any, Any, int]]


def _add_format(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--format",
        choices=("table", "json"),
        default="table",
        help="output format (default: table)",
    )


def _target_options(p: argparse.ArgumentParser, *, editing: bool) -> None:
    p.add_argument("--kind", help="router, switch, firewall, server, ups, camera, ...")
    for opt in ("vendor", "model", "site", "description", "parent"):
        p.add_argument(f"--{opt}")
    p.add_argument("--tags", help="comma- or semicolon-separated tags (replaces the tags)")
    p.add_argument("--enable", dest="enabled", action="store_const", const=True, default=None)
    p.add_argument("--disable", dest="enabled", action="store_const", const=False)
    p.add_argument("--snmp-version", help="v1, v2c or v3 ('' removes the SNMP profile)")
    p.add_argument("--snmp-port", type=int)
    p.add_argument("--snmp-credential")
    p.add_argument("--ssh-port", type=int)
    p.add_argument("--ssh-username")
    p.add_argument("--ssh-credential")
    p.add_argument("--var", action="append", metavar="KEY=VALUE", help="set a target variable")
    if editing:
        p.add_argument("--name", dest="new_name", help="rename the target")
        p.add_argument("--address")
        p.add_argument("--add-tags")
        p.add_argument("--remove-tags")


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="opsconductor", description="OpsConductor Desktop: operations console for NOC staff."
    )
    parser.add_argument("--version", action="version", version=f"opsconductor {__version__}")
    parser.add_argument(
        "--db",
        metavar="URL",
        help="database URL (sqlite:///FILE or "
        "postgresql://USER@HOST/DB); default from settings or the embedded SQLite",
    )
    parser.add_argument(
        "--home", metavar="DIR", help="keep config, data, logs and known-hosts under DIR"
    )
    parser.add_argument("-v", "--verbose", action="store_true", help="log INFO to the console")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")

    gui = sub.add_parser("gui", help="open the console (the default)")
    gui.add_argument("--screenshot", metavar="DIR", help="render every pane to DIR and exit")

    db = sub.add_parser("db", help="database schema").add_subparsers(dest="sub", required=True)
    db.add_parser("upgrade", help="upgrade the schema to this version").set_defaults(
        handler=cmd_db_upgrade
    )
    cur = db.add_parser("current", help="print the schema revision and database")
    _add_format(cur)
    cur.set_defaults(handler=cmd_db_current)

    targets = sub.add_parser("targets", help="the inventory of targets").add_subparsers(
        dest="sub", required=True
    )
    p = targets.add_parser("list", help="list targets")
    p.add_argument("--filter", help="rule, e.g. 'tag:core and vendor:cisco'")
    p.add_argument("--limit", type=int)
    _add_format(p)
    p.set_defaults(handler=cmd_targets_list)
    p = targets.add_parser("show", help="one target with its effective variables")
    p.add_argument("name")
    _add_format(p)
    p.set_defaults(handler=cmd_targets_show)
    p = targets.add_parser("add", help="add a target")
    p.add_argument("name")
    p.add_argument("address")
    p.add_argument("--groups", help="static groups to join (comma-separated)")
    _target_options(p, editing=False)
    p.set_defaults(handler=cmd_targets_add)
    p = targets.add_parser("edit", help="change a target's fields")
    p.add_argument("name")
    _target_options(p, editing=True)
    p.set_defaults(handler=cmd_targets_edit)
    p = targets.add_parser("rm", help="delete targets")
    p.add_argument("names", nargs="+")
    p.set_defaults(handler=cmd_targets_rm)
    p = targets.add_parser("import", help="import CSV, JSON or Ansible inventory (INI/YAML)")
    p.add_argument("file", help="file to read, or - for stdin")
    p.add_argument("--input-format", choices=("csv", "json", "ansible-ini", "ansible-yaml"))
    p.add_argument("--update", action="store_true", help="overwrite targets that differ")
    p.add_argument("--skip-invalid", action="store_true", help="write the good rows anyway")
    p.add_argument("--dry-run", action="store_true", help="check only, write nothing")
    _add_format(p)
    p.set_defaults(handler=cmd_targets_import)
    p = targets.add_parser("export", help="export targets to CSV or JSON")
    p.add_argument("-o", "--output", help="file to write (default: stdout)")
    p.add_argument("--to", choices=("csv", "json"), help="default: from the file name, else csv")
    p.set_defaults(handler=cmd_targets_export)

    groups = sub.add_parser("groups", help="groups of targets").add_subparsers(
        dest="sub", required=True
    )
    p = groups.add_parser("list", help="list groups with member counts")
    _add_format(p)
    p.set_defaults(handler=cmd_groups_list)
    p = groups.add_parser("show", help="a group and its effective members")
    p.add_argument("name")
    _add_format(p)
    p.set_defaults(handler=cmd_groups_show)
    p = groups.add_parser("add", help="create a group")
    p.add_argument("name")
    p.add_argument("--description")
    p.add_argument("--rule", help="dynamic rule, e.g. 'site:ams* and kind:switch'")
    p.add_argument("--members", help="static members (comma-separated target names)")
    p.set_defaults(handler=cmd_groups_add)
    p = groups.add_parser("rm", help="delete groups (their targets stay)")
    p.add_argument("names", nargs="+")
    p.set_defaults(handler=cmd_groups_rm)
    for verb, handler in (
        ("add-members", cmd_groups_add_members),
        ("rm-members", cmd_groups_rm_members),
    ):
        p = groups.add_parser(verb, help=f"{verb.split('-')[0]} static members")
        p.add_argument("group")
        p.add_argument("targets", nargs="+")
        p.set_defaults(handler=handler)
    p = groups.add_parser("set-rule", help="set or clear a group's dynamic rule")
    p.add_argument("group")
    p.add_argument("rule", nargs="?")
    p.add_argument("--clear", action="store_true", help="remove the rule")
    p.set_defaults(handler=cmd_groups_set_rule)

    creds = sub.add_parser("creds", help="credentials (secrets live in the OS keyring)")
    creds_sub = creds.add_subparsers(dest="sub", required=True)
    p = creds_sub.add_parser("list", help="list credentials (never their secrets)")
    _add_format(p)
    p.set_defaults(handler=cmd_creds_list)
    p = creds_sub.add_parser(
        "add",
        help="add a credential; the secret is prompted or read "
        "from stdin, never from the command line",
    )
    p.add_argument("name")
    p.add_argument(
        "--kind", required=True, help="ssh-password, ssh-key, snmp-community, snmpv3 or token"
    )
    p.add_argument("--username")
    p.add_argument("--auth-protocol", help="snmpv3: md5, sha, sha224, sha256, sha384, sha512")
    p.add_argument("--priv-protocol", help="snmpv3: des, 3des, aes, aes192, aes256")
    p.set_defaults(handler=cmd_creds_add)
    p = creds_sub.add_parser("rm", help="delete credentials and their keyring entries")
    p.add_argument("names", nargs="+")
    p.set_defaults(handler=cmd_creds_rm)
    jobs = sub.add_parser("jobs", help="job definitions and run history").add_subparsers(
        dest="sub", required=True
    )
    p = jobs.add_parser("list", help="list job definitions")
    _add_format(p)
    p.set_defaults(handler=cmd_jobs_list)
    p = jobs.add_parser("show", help="a job definition")
    p.add_argument("name")
    _add_format(p)
    p.set_defaults(handler=cmd_jobs_show)
    p = jobs.add_parser("import", help="store a job definition (YAML or JSON file)")
    p.add_argument("file", help="file to read, or - for stdin")
    p.set_defaults(handler=cmd_jobs_import)
    p = jobs.add_parser("rm", help="delete job definitions (their run history stays)")
    p.add_argument("names", nargs="+")
    p.set_defaults(handler=cmd_jobs_rm)
    p = jobs.add_parser("runs", help="run history, newest first")
    p.add_argument("--job", help="only runs of this job")
    p.add_argument("--limit", type=int, default=20)
    _add_format(p)
    p.set_defaults(handler=cmd_jobs_runs)

    alerts = sub.add_parser("alerts", help="alerts: list, show, acknowledge, resolve")
    alerts_sub = alerts.add_subparsers(dest="sub", required=True)
    p = alerts_sub.add_parser("list", help="alerts, most recent first")
    p.add_argument("--status", help="open, active, acknowledged, suppressed or resolved")
    p.add_argument("--severity", help="this severity or above (info ... critical)")
    p.add_argument("--target")
    p.add_argument("--source")
    p.add_argument("--text", help="text in the summary, key or target")
    p.add_argument("--limit", type=int, default=500)
    _add_format(p)
    p.set_defaults(handler=cmd_alerts_list)
    p = alerts_sub.add_parser("show", help="one alert and its history")
    p.add_argument("id", help="alert id (or its first 8 hex digits)")
    _add_format(p)
    p.set_defaults(handler=cmd_alerts_show)
    p = alerts_sub.add_parser("ack", help="acknowledge alerts")
    p.add_argument("ids", nargs="+")
    p.add_argument("--comment")
    p.add_argument("--expires", metavar="DURATION", help="e.g. 2h or 30m")
    p.set_defaults(handler=cmd_alerts_ack)
    p = alerts_sub.add_parser("unack", help="remove acknowledgements")
    p.add_argument("ids", nargs="+")
    p.add_argument("--comment")
    p.set_defaults(handler=cmd_alerts_unack)
    p = alerts_sub.add_parser("resolve", help="resolve alerts by hand")
    p.add_argument("ids", nargs="+")
    p.add_argument("--comment")
    p.set_defaults(handler=cmd_alerts_resolve)

    silences = sub.add_parser("silences", help="silences and maintenance windows")
    silences_sub = silences.add_subparsers(dest="sub", required=True)
    p = silences_sub.add_parser("list", help="current and future silences")
    p.add_argument("--all", action="store_true", help="include ended silences")
    _add_format(p)
    p.set_defaults(handler=cmd_silences_list)
    p = silences_sub.add_parser("add", help="silence matching alerts for a time")
    for opt in ("target", "group", "tag", "source"):
        p.add_argument(f"--{opt}")
    p.add_argument("--severity", help="this severity or above")
    p.add_argument("--key-regex")
    p.add_argument("--summary-regex")
    p.add_argument("--start", default="now", help="ISO 8601 time (local unless given) or now")
    p.add_argument("--end", help="ISO 8601 time")
    p.add_argument("--duration", help="e.g. 2h (instead of --end)")
    p.add_argument("--weekly", help="recurring window in UTC within the span, e.g. 'tue 22:00 3h'")
    p.add_argument("--comment", required=True)
    p.set_defaults(handler=cmd_silences_add)
    p = silences_sub.add_parser("import", help="add the silences of a YAML file")
    p.add_argument("file", help="YAML file (sections monitors/rules/silences), - for stdin")
    p.set_defaults(handler=cmd_silences_import)
    p = silences_sub.add_parser("rm", help="remove silences")
    p.add_argument("ids", nargs="+")
    p.set_defaults(handler=cmd_silences_rm)

    monitors = sub.add_parser("monitors", help="monitor definitions and their state")
    monitors_sub = monitors.add_subparsers(dest="sub", required=True)
    p = monitors_sub.add_parser("list", help="monitor definitions")
    _add_format(p)
    p.set_defaults(handler=cmd_monitors_list)
    p = monitors_sub.add_parser("import", help="store the monitors of a YAML file")
    p.add_argument("file", help="YAML file (sections monitors/rules/silences), - for stdin")
    p.set_defaults(handler=cmd_monitors_import)
    p = monitors_sub.add_parser("rm", help="delete monitors (their samples stay)")
    p.add_argument("names", nargs="+")
    p.set_defaults(handler=cmd_monitors_rm)
    p = monitors_sub.add_parser("status", help="where each monitor stands on each target")
    p.add_argument("--target")
    p.add_argument("--monitor")
    p.add_argument("--failing", action="store_true", help="only failing checks")
    _add_format(p)
    p.set_defaults(handler=cmd_monitors_status)

    rules = sub.add_parser("rules", help="threshold alert rules")
    rules_sub = rules.add_subparsers(dest="sub", required=True)
    p = rules_sub.add_parser("list", help="alert rules")
    _add_format(p)
    p.set_defaults(handler=cmd_rules_list)
    p = rules_sub.add_parser("import", help="store the rules of a YAML file")
    p.add_argument("file", help="YAML file (sections monitors/rules/silences), - for stdin")
    p.set_defaults(handler=cmd_rules_import)
    p = rules_sub.add_parser("rm", help="delete rules")
    p.add_argument("names", nargs="+")
    p.set_defaults(handler=cmd_rules_rm)

    connectors = sub.add_parser(
        "connectors", help="alert sources: Alertmanager, PRTG, Zabbix, JSON, webhook, traps"
    )
    conn_sub = connectors.add_subparsers(dest="sub", required=True)
    p = conn_sub.add_parser("list", help="connectors with their state and open alerts")
    _add_format(p)
    p.set_defaults(handler=cmd_connectors_list)
    p = conn_sub.add_parser("manifests", help="the bundled manifests (ids for `add`)")
    _add_format(p)
    p.set_defaults(handler=cmd_connectors_manifests)
    p = conn_sub.add_parser("show", help="one connector: settings, health, counters")
    p.add_argument("name")
    _add_format(p)
    p.set_defaults(handler=cmd_connectors_show)
    p = conn_sub.add_parser("add", help="add a connector from a manifest file or bundled id")
    p.add_argument("manifest", metavar="MANIFEST", help="a manifest file, or a bundled id")
    p.add_argument("--name", help="the connector's name (default: the manifest's id)")
    p.add_argument(
        "--set",
        action="append",
        metavar="KEY=VALUE",
        help="a setting (KEY=- prompts: secrets go to the keyring)",
    )
    p.add_argument("--enable", dest="enabled", action="store_const", const=True, default=None)
    p.add_argument("--disable", dest="enabled", action="store_const", const=False)
    p.set_defaults(handler=cmd_connectors_add)
    p = conn_sub.add_parser("set", help="change settings (KEY= unsets; KEY=- prompts)")
    p.add_argument("name")
    p.add_argument("pairs", nargs="+", metavar="KEY=VALUE")
    p.set_defaults(handler=cmd_connectors_set)
    for verb in ("enable", "disable"):
        p = conn_sub.add_parser(verb, help=f"{verb} connectors")
        p.add_argument("names", nargs="+")
        p.set_defaults(handler=cmd_connectors_enable)
    p = conn_sub.add_parser("rm", help="remove connectors (their open alerts are resolved)")
    p.add_argument("names", nargs="+")
    p.set_defaults(handler=cmd_connectors_rm)
    p = conn_sub.add_parser("test", help="poll once and show the alerts; store nothing")
    p.add_argument("name")
    _add_format(p)
    p.set_defaults(handler=cmd_connectors_test)
    p = conn_sub.add_parser("poll", help="poll once and store the alerts; exit 1 on failure")
    p.add_argument("name")
    p.add_argument(
        "--force", action="store_true", help="poll even if disabled or its breaker is open"
    )
    _add_format(p)
    p.set_defaults(handler=cmd_connectors_poll)

    p = sub.add_parser("poll", help="one round of monitor checks, then exit")
    p.add_argument("--once", action="store_true", required=True, help="one round (the only mode)")
    p.add_argument("--all", action="store_true", help="every check, not only the due ones")
    _add_format(p)
    p.set_defaults(handler=cmd_poll)

    p = sub.add_parser("agent", help="run the dispatcher headless until SIGINT/SIGTERM")
    p.add_argument(
        "--drain",
        type=float,
        default=8.0,
        metavar="SECONDS",
        help="grace for in-flight checks at stop (default 8; exit within 10 s)",
    )
    p.add_argument(
        "--status-every",
        type=float,
        default=60.0,
        metavar="SECONDS",
        help="print a status line this often (0: never)",
    )
    p.set_defaults(handler=cmd_agent)

    p = sub.add_parser("run", help="run a stored job; exit 1 when any target failed")
    p.add_argument("job")
    p.add_argument("--targets", help="targets (comma-separated), instead of the job's selection")
    p.add_argument("--groups", help="groups (comma-separated)")
    p.add_argument("--rule", help="rule, e.g. 'site:ams1 and kind:switch'")
    _add_format(p)
    p.set_defaults(handler=cmd_run)

    p = sub.add_parser("exec", help="ad-hoc command, SNMP get or ping across targets")
    what = p.add_mutually_exclusive_group(required=True)
    what.add_argument("--ssh", metavar="CMD", help="run CMD over SSH")
    what.add_argument("--snmp-get", metavar="OID[,OID]", help="SNMP GET of numeric OIDs")
    what.add_argument("--ping", action="store_true", help="reachability (ICMP, else TCP)")
    p.add_argument("--targets", help="targets (comma-separated)")
    p.add_argument("--groups", help="groups (comma-separated)")
    p.add_argument("--timeout", type=float, metavar="SECONDS", help="per-target step timeout")
    _add_format(p)
    p.set_defaults(handler=cmd_exec)

    p = sub.add_parser(
        "demo", help="fill an empty database with a realistic demo estate (fake credentials)"
    )
    p.add_argument(
        "--targets",
        type=int,
        default=240,
        metavar="N",
        help="number of targets, 1-10000 (default: 240)",
    )
    p.add_argument(
        "--seed",
        type=int,
        default=7,
        metavar="S",
        help="the same N and S give the same estate (default: 7)",
    )
    p.set_defaults(handler=cmd_demo)

    snmp = sub.add_parser("snmp", help="one SNMP request to one target").add_subparsers(
        dest="sub", required=True
    )
    for verb, helptext in (
        ("get", "GET one or more OIDs"),
        ("walk", "walk a subtree"),
        ("set", "SET an OID: OID TYPE VALUE (types i u g c t a o s x)"),
    ):
        p = snmp.add_parser(verb, help=helptext)
        p.add_argument("target")
        p.add_argument("oid", nargs="+", metavar="OID" if verb != "set" else "OID TYPE VALUE")
        p.add_argument("--timeout", type=float, default=10.0)
        _add_format(p)
        p.set_defaults(handler=cmd_snmp)
    return parser


async def _run(args: argparse.Namespace) -> int:
    upgrade = args.command != "db"
    core = await open_core(home=args.home, db_url=args.db, upgrade=upgrade)
    try:
        handler: Handler = args.handler
        return await handler(core, args)
    finally:
        await core.close()


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    if args.command in (None, "gui"):
        from opsconductor_desktop.gui.app import main as gui_main

        return gui_main(args)
    try:
        paths = AppPaths.resolve(args.home).ensure()
        log_file = logs.setup_logging(
            paths.log_dir, console_level="INFO" if args.verbose else "WARNING"
        )
    except OSError as exc:
        print(f"error: cannot create OpsConductor's folders: {exc}", file=sys.stderr)
        return EXIT_FAILED
    with logs.operation(f"cli {args.command} {getattr(args, 'sub', '')}"):
        try:
            return asyncio.run(_run(args))
        except OpsError as exc:
            log.info("command failed: %s", exc, exc_info=True)
            print(f"error: {exc}", file=sys.stderr)
            return EXIT_FAILED
        except KeyboardInterrupt:
            print("interrupted", file=sys.stderr)
            return 130
        except Exception:  # the last line of defence: log it, print one line, exit
            log.exception("unexpected failure in %s", args.command)
            print(f"error: unexpected failure; details in {log_file}", file=sys.stderr)
            return EXIT_UNEXPECTED
