"""Monitoring: monitor and rule validation, counter rates, thresholds, reachability, rollups."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from opsconductor_desktop.domain.alerts import Severity
from opsconductor_desktop.domain.errors import ValidationError
from opsconductor_desktop.domain.metrics import (
    MetricType,
    NoRate,
    RateCalculator,
    Reading,
    bucket_start,
    counter_rate,
    derive,
    rollup,
)
from opsconductor_desktop.domain.monitors import (
    MonitorKind,
    ProbeMethod,
    SnmpMetric,
    SshMetric,
    parse_monitor,
)
from opsconductor_desktop.domain.thresholds import (
    AlertRule,
    ReachabilityState,
    RuleState,
    evaluate,
    evaluate_reachability,
    parse_rule,
)

T0 = datetime(2026, 11, 22, 12, 0, tzinfo=UTC)


def at(seconds: float) -> datetime:
    return T0 + timedelta(seconds=seconds)


# --- monitors --------------------------------------------------------------------------

SNMP: dict[str, Any] = {
    "name": "interface-traffic",
    "kind": "snmp",
    "interval": 60,
    "select": {"groups": ["core"], "rule": "site:ams1"},
    "metrics": [
        {"name": "sysUpTime", "oid": "1.3.6.1.2.1.1.3.0"},
        {
            "name": "ifHCInOctets",
            "oid": ".1.3.6.1.2.1.31.1.1.1.6",
            "walk": True,
            "type": "counter",
            "bits": 64,
            "scale": 8,
        },
    ],
}


def test_snmp_monitor_parses_scalars_and_walked_columns() -> None:
    monitor = parse_monitor(SNMP)
    assert monitor.kind is MonitorKind.SNMP
    assert monitor.select.groups == ("core",)
    assert monitor.select.rule == "site:ams1"
    uptime, octets = monitor.metrics
    assert isinstance(octets, SnmpMetric)
    assert octets.oid == "1.3.6.1.2.1.31.1.1.1.6"
    assert octets.type is MetricType.COUNTER
    assert octets.bits == 64
    assert octets.index_of("1.3.6.1.2.1.31.1.1.1.6.3") == "3"
    assert octets.index_of("1.3.6.1.2.1.31.1.1.1.60.3") is None
    assert octets.series("3") == "ifHCInOctets.3"
    assert octets.scale == 8
    assert uptime.series() == "sysUpTime"
    assert monitor.timeout == 10.0
    assert monitor.retries == 1


def test_reachability_monitor_tcp_needs_port_icmp_refuses_it() -> None:
    tcp = parse_monitor({"name": "ssh-up", "kind": "reachability", "method": "tcp", "port": 22})
    assert (tcp.method, tcp.port, tcp.down_after) == (ProbeMethod.TCP, 22, 3)
    icmp = parse_monitor({"name": "ping", "kind": "reachability", "down_after": 2})
    assert (icmp.method, icmp.port, icmp.down_after) == (ProbeMethod.ICMP, None, 2)
    with pytest.raises(ValidationError, match=r"^port: a tcp probe needs a port"):
        parse_monitor({"name": "x", "kind": "reachability", "method": "tcp"})
    with pytest.raises(ValidationError, match=r"^port: only a tcp probe"):
        parse_monitor({"name": "x", "kind": "reachability", "port": 22})


def test_ssh_metric_extracts_number_by_single_named_or_numbered_group() -> None:
    monitor = parse_monitor(
        {
            "name": "load",
            "kind": "ssh",
            "metrics": [
                {"name": "load1", "command": "cat /proc/loadavg", "regex": r"^(\S+)"},
                {
                    "name": "mem_free",
                    "command": "free -b",
                    "regex": r"Mem:\s+(?P<total>\d+)\s+(?P<used>\d+)",
                    "group": "used",
                },
                {"name": "conns", "command": "ss -s", "regex": r"(TCP):\s+(\d+)", "group": 2},
            ],
        }
    )
    load, mem, conns = monitor.metrics
    assert isinstance(load, SshMetric)
    assert isinstance(mem, SshMetric)
    assert isinstance(conns, SshMetric)
    assert load.extract("0.52 0.40 0.33 1/200 999") == 0.52
    assert mem.extract("Mem:   1000  250  750") == 250
    assert conns.extract("TCP:   42 (estab 3)") == 42
    assert load.extract("") is None
    assert conns.extract("TCP: x") is None


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"metrics": [{"name": "a", "oid": "1.3.6.1.2.1.1.3.0"}, {"name": "b", "oid": "sysDescr"}]},
         r"^metrics\[1\]\.oid: invalid OID"),
        ({"metrics": [{"name": "a", "oid": "1.3.6.1", "type": "rate"}]},
         r"^metrics\[0\]\.type: 'rate' is not one of counter, gauge"),
        ({"metrics": [{"name": "a", "oid": "1.3.6.1", "bits": 16}]},
         r"^metrics\[0\]\.bits: must be 32 or 64"),
        ({"metrics": [{"name": "a b", "oid": "1.3.6.1"}]}, r"^metrics\[0\]\.name: invalid"),
        ({"metrics": [{"name": "a", "oid": "1.3.6.1", "scale": 0}]},
         r"^metrics\[0\]\.scale: must not be 0"),
        ({"metrics": [{"name": "a", "oid": "1.3.6.1", "walk": "yes"}]},
         r"^metrics\[0\]\.walk: must be true or false"),
        ({"metrics": [{"name": "a", "oid": "1.3.6.1"}, {"name": "a", "oid": "1.3.6.2"}]},
         r"^metrics\[1\]\.name: metric 'a' is defined twice"),
        ({"metrics": [{"name": "a", "oid": "1.3.6.1", "walkk": True}]},
         r"^metrics\[0\]: unknown key\(s\) walkk"),
        ({"metrics": []}, r"^metrics: a snmp monitor needs"),
        ({"interval": 1}, r"^interval: must be between 5"),
        ({"timeout": 40, "retries": 1}, r"^timeout: 40s x 2 tries does not fit"),
        ({"kind": "http"}, r"^kind: 'http' is not one of"),
        ({"select": {"groups": ["core"], "rule": "tag:"}}, r"^select\.rule:"),
        ({"select": {"tags": ["x"]}}, r"^select: unknown key\(s\) tags"),
        ({"port": 22}, r"^monitor: unknown key\(s\) port"),
    ],
)  # fmt: skip
def test_monitor_validation_errors_name_the_field(change: dict[str, Any], message: str) -> None:
    with pytest.raises(ValidationError, match=message):
        parse_monitor({**SNMP, **change})


@pytest.mark.parametrize(
    ("metric", "message"),
    [
        ({"name": "a", "command": "x", "regex": r"\d+"}, r"^metrics\[0\]\.regex: needs exactly"),
        ({"name": "a", "command": "x", "regex": r"(\d+"}, r"^metrics\[0\]\.regex: invalid regex"),
        ({"name": "a", "command": "x", "regex": r"(\d+)", "group": "v"},
         r"^metrics\[0\]\.group: regex has no group named 'v'"),
        ({"name": "a", "command": "x", "regex": r"(\d+)", "group": 2},
         r"^metrics\[0\]\.group: regex has no group 2"),
        ({"name": "a", "command": "{{ target.colour }}", "regex": r"(\d+)"},
         r"^metrics\[0\]\.command: target has no field"),
    ],
)  # fmt: skip
def test_ssh_metric_validation(metric: dict[str, Any], message: str) -> None:
    with pytest.raises(ValidationError, match=message):
        parse_monitor({"name": "s", "kind": "ssh", "metrics": [metric]})


# --- counter rates ---------------------------------------------------------------------


def test_first_sample_is_only_a_baseline() -> None:
    first = Reading(1000, at(0), uptime=100)
    result = counter_rate(None, first)
    assert result.value is None
    assert result.reason is NoRate.FIRST_SAMPLE
    assert result.baseline == first


def test_plain_rate_per_second() -> None:
    result = counter_rate(Reading(1000, at(0)), Reading(7000, at(60)))
    assert result.value == 100.0
    assert result.reason is None
    assert not result.wrapped


def test_32_bit_wrap_adds_2_pow_32() -> None:
    prev = Reading(2**32 - 1000, at(0), uptime=0)
    cur = Reading(5000, at(60), uptime=6000)
    result = counter_rate(prev, cur, bits=32)
    assert result.value == pytest.approx(6000 / 60)
    assert result.wrapped


def test_64_bit_wrap_adds_2_pow_64() -> None:
    prev = Reading(2**64 - 600, at(0))
    cur = Reading(600, at(60))
    result = counter_rate(prev, cur, bits=64)
    assert result.value == pytest.approx(20.0)
    assert result.wrapped


def test_implausible_wrap_is_a_counter_reset_not_a_spike() -> None:
    # a 64-bit counter at 5 million cannot have gone round 2**64 in a minute
    result = counter_rate(Reading(5_000_000, at(0)), Reading(1_000, at(60)), bits=64)
    assert result.value is None
    assert result.reason is NoRate.COUNTER_RESET
    assert result.baseline.value == 1_000
    # same for a 32-bit counter that dropped from the middle of its range
    result = counter_rate(Reading(2**31 - 10, at(0)), Reading(10, at(60)), bits=32)
    assert result.reason is NoRate.COUNTER_RESET


def test_reboot_resets_baseline_without_false_spike() -> None:
    prev = Reading(9_000_000, at(0), uptime=500_000)
    rebooted = Reading(1_200, at(60), uptime=3_000)
    result = counter_rate(prev, rebooted, bits=32)
    assert result.value is None
    assert result.reason is NoRate.REBOOT
    assert result.baseline == rebooted
    after = counter_rate(result.baseline, Reading(7_200, at(120), uptime=9_000), bits=32)
    assert after.value == pytest.approx(100.0)


def test_timeticks_wrap_after_497_days_is_not_a_reboot() -> None:
    prev = Reading(1000, at(0), uptime=2**32 - 3000)  # 30 s before the wrap
    cur = Reading(7000, at(60), uptime=3000)  # 30 s after
    result = counter_rate(prev, cur)
    assert result.value == pytest.approx(100.0)


def test_uptime_gives_elapsed_time_when_console_clock_jumps() -> None:
    prev = Reading(1000, at(0), uptime=10_000)
    cur = Reading(7000, at(-3600), uptime=16_000)  # console clock stepped back an hour
    assert counter_rate(prev, cur).value == pytest.approx(100.0)


def test_clock_jump_backwards_gives_no_rate_and_rebaselines() -> None:
    prev = Reading(1000, at(0))
    cur = Reading(7000, at(-30))
    result = counter_rate(prev, cur)
    assert result.value is None
    assert result.reason is NoRate.CLOCK_BACKWARDS
    assert result.baseline == cur
    same_time = counter_rate(prev, Reading(2000, at(0)))
    assert same_time.reason is NoRate.CLOCK_BACKWARDS


def test_clock_jump_forwards_gives_no_rate() -> None:
    result = counter_rate(Reading(1000, at(0)), Reading(7000, at(7200)))
    assert result.value is None
    assert result.reason is NoRate.GAP
    short = counter_rate(Reading(1000, at(0)), Reading(7000, at(7200)), max_elapsed=10_000)
    assert short.value == pytest.approx(6000 / 7200)


def test_gauge_passes_through_and_nan_is_refused() -> None:
    result = derive(MetricType.GAUGE, None, Reading(42.5, at(0)))
    assert result.value == 42.5
    nan = derive(MetricType.GAUGE, None, Reading(float("nan"), at(0)))
    assert nan.reason is NoRate.NOT_A_NUMBER
    good = Reading(10, at(0))
    assert counter_rate(good, Reading(float("inf"), at(60))).baseline == good


def test_bad_width_is_a_bug() -> None:
    with pytest.raises(ValueError, match="32 or 64"):
        counter_rate(None, Reading(1, at(0)), bits=16)


def test_rate_calculator_keeps_bounded_baselines_per_series() -> None:
    calc = RateCalculator(max_series=2)
    key = ("r1", "ifHCInOctets.3")
    assert calc.update(key, MetricType.COUNTER, Reading(0, at(0))).reason is NoRate.FIRST_SAMPLE
    assert calc.update(key, MetricType.COUNTER, Reading(600, at(60))).value == 10.0
    calc.update(("r1", "b"), MetricType.COUNTER, Reading(0, at(0)))
    calc.update(("r1", "c"), MetricType.COUNTER, Reading(0, at(0)))
    assert len(calc) == 2
    # the least recently used series was dropped: it starts again from a baseline
    assert calc.update(key, MetricType.COUNTER, Reading(1200, at(120))).value is None
    calc.forget(key)
    assert len(calc) == 1


# --- threshold rules -------------------------------------------------------------------

CPU: dict[str, Any] = {
    "name": "cpu-high",
    "metric": "cpu.*",
    "op": ">",
    "threshold": 90,
    "clear": 80,
    "severity": "major",
    "summary": "{target} {metric} is {value:.1f} (> {threshold})",
}


def run(rule: AlertRule, values: list[float], step: float = 60) -> list[str]:
    """Feed samples one `step` apart; return 'P', 'C' or '.' per sample."""
    state = RuleState()
    out = []
    for i, value in enumerate(values):
        state, alert = evaluate(rule, state, value, at(i * step), target="r1", metric="cpu.total")
        out.append("." if alert is None else "C" if alert.clear else "P")
    return out


def test_rule_parses() -> None:
    rule = parse_rule({**CPU, "scope": {"groups": ["core"], "tags": ["prod", "edge"]}})
    assert rule.severity is Severity.MAJOR
    assert rule.clear_threshold == 80
    assert rule.scope.groups == ("core",)
    assert rule.scope.rule == "tag:prod or tag:edge"
    assert rule.applies_to("cpu.total")
    assert not rule.applies_to("mem.used")


def test_problem_alert_carries_rendered_summary_and_fingerprint_key() -> None:
    rule = parse_rule(CPU)
    state, alert = evaluate(rule, RuleState(), 95.25, at(0), target="r1", metric="cpu.total")
    assert state.firing
    assert alert is not None
    assert alert.summary == "r1 cpu.total is 95.2 (> 90.0)"
    assert alert.severity is Severity.MAJOR
    assert (alert.source, alert.key, alert.target) == ("rule", "cpu-high:cpu.total", "r1")
    assert alert.details["value"] == 95.25
    state, clear = evaluate(rule, state, 10, at(60), target="r1", metric="cpu.total")
    assert clear is not None
    assert clear.clear
    assert clear.severity is Severity.CLEAR
    assert clear.fingerprint == alert.fingerprint


def test_hysteresis_holds_between_clear_and_raise_thresholds() -> None:
    rule = parse_rule(CPU)
    #                  raise  hold hold clear  stay  raise  hold
    assert run(rule, [95, 85, 91, 79, 85, 92, 80]) == ["P", ".", ".", "C", ".", "P", "."]


def test_without_clear_threshold_clears_when_condition_false() -> None:
    rule = parse_rule({**CPU, "clear": None})
    assert run(rule, [95, 85, 95]) == ["P", "C", "P"]


def test_for_checks_needs_consecutive_breaches() -> None:
    rule = parse_rule({**CPU, "for_checks": 3})
    # a single noisy sample, then two, then three in a row
    assert run(rule, [95, 50, 95, 95, 50, 95, 95, 95, 95]) == [
        ".", ".", ".", ".", ".", ".", ".", "P", ".",
    ]  # fmt: skip


def test_for_duration_needs_the_condition_held_that_long() -> None:
    rule = parse_rule({**CPU, "for": 300})
    # samples every 60 s: breaching from t=0 fires at t=300 (the sixth sample)
    assert run(rule, [95] * 7) == [".", ".", ".", ".", ".", "P", "."]
    # a dip restarts the clock
    assert run(rule, [95, 95, 95, 50, 95, 95, 95, 95, 95, 95]) == ["."] * 9 + ["P"]
    # sparse samples: two breaches 300 s apart are enough for a duration rule
    assert run(rule, [95, 95], step=300) == [".", "P"]


def test_clear_checks_stop_a_single_good_sample_from_clearing() -> None:
    rule = parse_rule({**CPU, "clear_checks": 2})
    assert run(rule, [95, 70, 85, 70, 70, 95]) == ["P", ".", ".", ".", "C", "P"]


def test_below_threshold_rule_with_hysteresis() -> None:
    rule = parse_rule({**CPU, "op": "<", "threshold": 10, "clear": 20, "summary": "{value}"})
    assert run(rule, [5, 15, 21, 15, 9]) == ["P", ".", "C", ".", "P"]


def test_repeated_and_non_finite_samples_change_nothing() -> None:
    rule = parse_rule(CPU)
    state, _ = evaluate(rule, RuleState(), 50, at(60), target="r1", metric="cpu.total")
    for when, value in ((at(60), 99.0), (at(120), float("nan"))):
        again, alert = evaluate(rule, state, value, when, target="r1", metric="cpu.total")
        assert again == state
        assert alert is None


def test_clock_stepped_back_restarts_the_for_duration() -> None:
    rule = parse_rule({**CPU, "for": 120})
    state = RuleState()
    for t in (0, 60):
        state, _ = evaluate(rule, state, 95, at(t), target="r1", metric="cpu.total")
    # clock stepped back an hour: the sample counts but the 120 s start again from it
    state, alert = evaluate(rule, state, 95, at(-3600), target="r1", metric="cpu.total")
    assert alert is None
    assert state.since == at(-3600)
    state, alert = evaluate(rule, state, 95, at(-3540), target="r1", metric="cpu.total")
    assert alert is None
    state, alert = evaluate(rule, state, 95, at(-3480), target="r1", metric="cpu.total")
    assert alert is not None


def test_seeded_firing_state_still_sends_a_clear_after_restart() -> None:
    rule = parse_rule(CPU)
    _, alert = evaluate(rule, RuleState(firing=True), 10, at(0), target="r1", metric="cpu.total")
    assert alert is not None
    assert alert.clear


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"op": "=>"}, r"^op: '=>' is not one of"),
        ({"threshold": "high"}, r"^threshold: must be a number"),
        ({"clear": 95}, r"^clear: must not be above the threshold 90"),
        ({"op": "<", "threshold": 10, "clear": 5}, r"^clear: must not be below"),
        ({"op": "==", "clear": 5}, r"^clear: a separate clear threshold needs"),
        ({"for": 60, "for_checks": 3}, r"^for: give either"),
        ({"for_checks": 0}, r"^for_checks: must be between 1"),
        ({"severity": "urgent"}, r"^severity: unknown severity 'urgent'"),
        ({"severity": "clear"}, r"^severity: a rule cannot raise"),
        ({"summary": "{host} down"}, r"^summary: unknown field \{host\}"),
        ({"summary": "{value.real}"}, r"^summary: unknown field"),
        ({"summary": "{}"}, r"^summary: unknown field"),
        ({"summary": "{target:.1f}"}, r"^summary: bad template"),
        ({"summary": "{value"}, r"^summary: bad template"),
        ({"metric": "cpu total"}, r"^metric: invalid metric name"),
        ({"scope": {"tags": "a,b", "vendors": ["x"]}}, r"^scope: unknown key\(s\) vendors"),
        ({"scope": {"rule": "site:ams1 and ("}}, r"^scope\.rule:"),
        ({"threshhold": 1}, r"^rule: unknown key\(s\) threshhold"),
    ],
)
def test_rule_validation_errors_name_the_field(change: dict[str, Any], message: str) -> None:
    with pytest.raises(ValidationError, match=message) as info:
        parse_rule({**CPU, **change})
    assert info.value.field == message.lstrip("^").split(":")[0].replace("\\", "")


# --- reachability ----------------------------------------------------------------------


def test_down_after_n_failures_then_up_on_first_success() -> None:
    state = ReachabilityState()
    outcomes = []
    checks = [False, True, False, False, False, False, True, True]
    for i, ok in enumerate(checks):
        state, alert = evaluate_reachability(
            state, ok, at(i * 60), target="r1", monitor="ping", down_after=3, error="timeout"
        )
        outcomes.append("." if alert is None else "C" if alert.clear else "D")
    # one failure, recovered; then three in a row go down; one more says nothing; up again
    assert outcomes == [".", ".", ".", ".", "D", ".", "C", "."]


def test_down_alert_is_a_reachability_alert() -> None:
    state = ReachabilityState(failures=1, since=at(0), last_at=at(0))
    state, alert = evaluate_reachability(
        state, False, at(60), target="r1", monitor="ping", down_after=2, error="timeout"
    )
    assert state.down
    assert alert is not None
    assert alert.reachability
    assert alert.severity is Severity.CRITICAL
    assert (alert.source, alert.key) == ("reachability", "ping")
    assert alert.summary == "r1 is down (2 failed checks by ping): timeout"
    assert alert.details["since"] == at(0).isoformat()
    repeated, none = evaluate_reachability(
        state, True, at(60), target="r1", monitor="ping", down_after=2
    )
    assert (repeated, none) == (state, None)


# --- rollups ---------------------------------------------------------------------------


def test_rollup_buckets_are_aligned_five_minute_min_avg_max_count() -> None:
    samples = [(at(0), 1.0), (at(60), 3.0), (at(299), 5.0), (at(300), 10.0), (at(1000), 7.0)]
    samples.append((at(120), float("nan")))
    buckets = rollup(reversed(samples))
    assert [(b.start, b.minimum, b.average, b.maximum, b.count) for b in buckets] == [
        (at(0), 1.0, 3.0, 5.0, 3),
        (at(300), 10.0, 10.0, 10.0, 1),
        (at(900), 7.0, 7.0, 7.0, 1),
    ]
    assert buckets[0].end == at(300)
    assert rollup([]) == []


def test_bucket_start_aligns_on_utc_and_refuses_naive() -> None:
    assert bucket_start(at(437)) == at(300)
    with pytest.raises(ValueError, match="naive"):
        bucket_start(datetime(2026, 1, 1))
