"""A real DNS server on 127.0.0.1 (dnslib, UDP and TCP, random port) serving a small test zone."""

from dnslib import PTR, QTYPE, RCODE, RR, A, AAAA
from dnslib.server import BaseResolver, DNSLogger, DNSServer

ZONE = {
    ("www.example.test.", "A"): A("192.0.2.10"),
    ("www.example.test.", "AAAA"): AAAA("2001:db8::10"),
    ("10.2.0.192.in-addr.arpa.", "PTR"): PTR("www.example.test."),
    ("11.2.0.192.in-addr.arpa.", "PTR"): PTR("mail.example.test."),
}


class Zone(BaseResolver):
    def __init__(self):
        self.queries = 0

    def resolve(self, request, handler):
        self.queries += 1
        reply = request.reply()
        q = request.q
        rdata = ZONE.get((str(q.qname), QTYPE[q.qtype]))
        if rdata is None:
            reply.header.rcode = RCODE.NXDOMAIN
        else:
            reply.add_answer(RR(q.qname, q.qtype, rdata=rdata, ttl=300))
        return reply


def serve():
    zone = Zone()
    quiet = DNSLogger(logf=lambda _: None)
    udp = DNSServer(zone, address="127.0.0.1", port=0, logger=quiet)
    port = udp.server.server_address[1]
    tcp = DNSServer(zone, address="127.0.0.1", port=port, tcp=True, logger=quiet)
    udp.start_thread()
    tcp.start_thread()
    return f"127.0.0.1:{port}", zone, (udp, tcp)
