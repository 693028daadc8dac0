"""A DNS server that answers every query NXDOMAIN, for scripts/test-openapi.sh.

`POST /v1/domains/{id}/verify` looks up a TXT record through
`--dns-resolver`; pointed here, the lookup is fast, needs no network, and
always finds nothing, so the operation answers 422 `verification_failed`
(never 502 from an unreachable resolver). Prints the port it listens on.
"""

import socket
import sys


def main() -> None:
    sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    sock.bind(("127.0.0.1", 0))
    print(sock.getsockname()[1], flush=True)
    while True:
        query, peer = sock.recvfrom(4096)
        if len(query) < 12:
            continue
        # Same id and question; QR=1, opcode and RD copied, RA=1, RCODE=3
        # (NXDOMAIN); no answers. The question ends at the first zero-length
        # label, followed by QTYPE and QCLASS; any EDNS record is dropped.
        end = 12
        while end < len(query) and query[end] != 0:
            end += query[end] + 1
        question = query[12 : end + 5]
        flags = 0x8000 | (query[2] & 0x79) << 8 | 0x0080 | 3
        counts = b"\x00\x01\x00\x00\x00\x00\x00\x00"  # one question, no records
        reply = query[:2] + flags.to_bytes(2, "big") + counts + question
        sock.sendto(reply, peer)


if __name__ == "__main__":
    try:
        main()
    except KeyboardInterrupt:
        sys.exit(0)
