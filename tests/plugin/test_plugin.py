"""The pytest plugin, run by pytest's own `pytester` in subprocesses, as an LGC suite would."""

from __future__ import annotations

import pytest

pytest_plugins = ["pytester"]

LGC_TESTS = """
import httpx

def test_clock_is_per_tenant(segur_tenant, segur_sandbox):
    assert segur_tenant.clock.freeze("2027-06-01T12:00:00Z") == "2027-06-01T12:00:00Z"
    assert segur_tenant.clock.advance(60) == "2027-06-01T12:01:00Z"
    other = segur_sandbox.new_tenant()
    try:
        assert segur_sandbox.tenant(other.id).call("GET", "/clock")["mode"] == "real"
    finally:
        other.delete()

def test_fault_rule_is_removed_on_exit(segur_tenant, segur_sandbox):
    catalogue = segur_sandbox.call("GET", "/faults/catalogue")
    service = next(name for name, errors in catalogue.items() if errors)
    error = next(iter(catalogue[service]))
    with segur_tenant.fault(service=service, error=error) as rule:
        assert [r["id"] for r in segur_tenant.call("GET", "/faults")] == [rule["id"]]
    assert segur_tenant.call("GET", "/faults") == []

def test_wait_for_times_out_with_a_clear_message(segur_tenant):
    import pytest
    from mocks.client import SandboxError
    with pytest.raises(SandboxError, match="within 0.2 s") as raised:
        segur_tenant.wait_for(timeout=0.2, service="insi")
    assert "journal of tenant" in str(raised.value) and "empty" in str(raised.value)
    segur_tenant.assert_not_called(service="insi")

def test_wait_for_time_out_shows_what_the_journal_received(segur_tenant, segur_urls):
    import httpx, pytest
    from mocks.client import SandboxError
    crl = segur_urls["pki"] + "/CRL/ACI-EL-ORG-TEST.crl"
    assert httpx.get(crl, headers=segur_tenant.headers).status_code == 200
    with pytest.raises(SandboxError) as raised:
        segur_tenant.wait_for(timeout=0.2, service="insi")
    message = str(raised.value)
    assert "last 1 exchange(s) of tenant " + segur_tenant.id in message
    assert "pki crl -> 200 ACI-EL-ORG-TEST" in message, message
"""


FAILING_TEST = """
import httpx

def test_lgc_expects_an_insi_call_that_never_came(segur_tenant, segur_urls):
    httpx.get(segur_urls["pki"] + "/CRL/ACI-EL-ORG-TEST.crl", headers=segur_tenant.headers)
    assert segur_tenant.count(service="insi") == 1
"""


def test_embedded_mode(pytester: pytest.Pytester) -> None:
    pytester.makepyfile(LGC_TESTS)
    result = pytester.runpytest_subprocess("-q", "-p", "no:cacheprovider")
    result.assert_outcomes(passed=4)


def test_attach_mode(pytester: pytest.Pytester, running_sandbox) -> None:  # type: ignore[no-untyped-def]
    pytester.makepyfile(LGC_TESTS)
    url = running_sandbox.url("console")
    result = pytester.runpytest_subprocess("-q", "-p", "no:cacheprovider", f"--segur-sandbox-url={url}")
    result.assert_outcomes(passed=4)


def test_a_failed_test_report_carries_the_tenants_journal(pytester: pytest.Pytester, running_sandbox) -> None:  # type: ignore[no-untyped-def]
    pytester.makepyfile(FAILING_TEST)
    url = running_sandbox.url("console")
    result = pytester.runpytest_subprocess("-q", "-p", "no:cacheprovider", f"--segur-sandbox-url={url}")
    result.assert_outcomes(failed=1)
    result.stdout.fnmatch_lines(["*- Ségur Sandbox journal -*", "*#* pki crl -> 200 ACI-EL-ORG-TEST*"])


ISOLATION_TESTS = """
import pytest

@pytest.mark.parametrize("n", range(6))
def test_each_test_has_its_own_tenant(segur_tenant, segur_sandbox, n):
    at = f"20{30 + n}-01-01T00:00:00Z"
    segur_tenant.clock.freeze(at)
    tenants = [t["id"] for t in segur_sandbox.call("GET", "/tenants")]
    assert segur_tenant.id in tenants
    import time; time.sleep(0.2)
    assert segur_tenant.clock.now() == at
"""


def test_tenant_isolation_under_xdist(pytester: pytest.Pytester, running_sandbox) -> None:  # type: ignore[no-untyped-def]
    pytester.makepyfile(ISOLATION_TESTS)
    url = running_sandbox.url("console")
    result = pytester.runpytest_subprocess(
        "-q", "-p", "no:cacheprovider", "-n", "2", f"--segur-sandbox-url={url}"
    )
    result.assert_outcomes(passed=6)
