"""fh.dns.resolve / fh.dns.reverse and rdns=True against a real DNS server (dnslib) on 127.0.0.1.
Never the system resolver."""

import pandas as pd
import pytest

dnslib = pytest.importorskip("dnslib")
from dns_server import serve  # noqa: E402

import flowhound as fh  # noqa: E402

@pytest.fixture(scope="module")
def server():
    ns, zone, servers = serve()
    yield ns, zone
    for s in servers:
        s.stop()


def test_resolve(server):
    ns, _ = server
    rows = fh.dns.resolve(["www.example.test", "nope.example.test"], nameserver=ns, progress=False)
    assert rows[0]["query"] == "www.example.test" and rows[0]["status"] == "ok"
    assert [a["data"] for a in rows[0]["answers"]] == ["192.0.2.10"]
    assert rows[1]["status"] == "nxdomain"
    six = fh.dns.resolve("www.example.test", type="AAAA", nameserver=ns, progress=False)
    assert [a["data"] for a in six[0]["answers"]] == ["2001:db8::10"]


def test_reverse(server):
    ns, _ = server
    rows = fh.dns.reverse(["192.0.2.10", "192.0.2.99"], nameserver=ns, progress=False)
    assert rows[0]["type"] == "PTR" and rows[0]["answers"][0]["data"] == "www.example.test."
    assert rows[1]["status"] == "nxdomain"


def test_enrich_with_names(server):
    ns, zone = server
    df = pd.DataFrame({
        "timestamp": [1_772_409_600, 1_772_409_660, 1_772_409_720],
        "src_ip": ["192.168.105.7"] * 3, "dst_ip": ["192.0.2.10", "192.0.2.11", "192.0.2.10"],
        "proto": ["tcp"] * 3, "port": [443, 25, 443], "up_bytes": [10, 20, 30], "down_bytes": [1, 2, 3],
    })
    before = zone.queries
    out = fh.enrich(df, rdns=True, nameserver=ns, progress=False)
    assert out.dst_name.tolist() == ["www.example.test.", "mail.example.test.", "www.example.test."]
    # Distinct addresses once: 192.168.105.7, 192.0.2.10, 192.0.2.11.
    assert zone.queries - before <= 3


def test_bad_nameserver_is_a_config_error():
    with pytest.raises(fh.ConfigError, match="not-an-address"):
        fh.dns.resolve("www.example.test", nameserver="not-an-address", progress=False)
