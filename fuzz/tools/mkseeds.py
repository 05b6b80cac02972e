#!/usr/bin/env python3
"""Regenerate the seed corpora under fuzz/corpus/<target>/ (a maintainer tool; the seeds are
committed, CI never runs this).

Seeds come from spec/vectors/*.json (so unit tests, the conformance runner and the fuzzers
share the same values, STYLE.md) plus hand-written inputs for each target's framing. Each
seed file is named by the SHA-1 of its content, as libFuzzer names its own corpus entries, so
rerunning this is idempotent. Existing files (for example inputs merged from long runs with
`ci/fuzz.sh long` and FUZZ_MERGE=1) are kept.

    python3 fuzz/tools/mkseeds.py
"""
import hashlib
import json
import os
import struct

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
VEC = os.path.join(ROOT, "spec", "vectors")
OUT = os.path.join(ROOT, "fuzz", "corpus")


def vec(name):
    with open(os.path.join(VEC, name), encoding="utf-8") as f:
        return json.load(f)


def raw(case):
    """A vector's string: 's' as UTF-8, or 'hex' as raw bytes."""
    if "hex" in case:
        return bytes.fromhex(case["hex"])
    return case["s"].encode("utf-8", "surrogatepass")


seeds = {}


def add(target, data):
    if isinstance(data, str):
        data = data.encode("utf-8")
    seeds.setdefault(target, set()).add(bytes(data))


b64 = vec("base64.json")
names = vec("names.json")
utf16 = vec("utf16.json")
auth = vec("auth.json")
crypto = vec("crypto.json")
sigs = vec("signed_strings.json")

# ---- b64: option byte, then the string ------------------------------------------------
for c in b64["canonical"]:
    add("b64", bytes([0 if c.get("n") is None else c["n"] & 0xFF]) + raw(c))
for key in ("lenient", "box_pub_ok"):
    for c in b64[key]:
        if "s" in c:
            add("b64", b"\x01" + raw(c))
for m in crypto["room_messages"] + crypto["dms"]:
    for k in ("ciphertext", "nonce", "sender_eph_pub"):
        if k in m:
            add("b64", b"\x00" + m[k].encode())
for i in crypto["identities"]:
    add("b64", b"\x20" + i["sign_pub"].encode())
    add("b64", b"\x21" + i["box_pub"].encode())

# ---- utf16: n, then the bytes --------------------------------------------------------
for c in utf16["utf8_valid"]:
    add("utf16", b"\x05" + raw(c))
for c in utf16["u16_len"]:
    add("utf16", bytes([c["units"] & 0xFF]) + raw(c))
for c in utf16["truncate"]:
    add("utf16", bytes([c["n"] & 0xFF]) + raw(c))

# ---- valid: now(8) ts(8), then the string ---------------------------------------------
now = 1767225600000
for key in ("room_id", "handle_strict", "handle_loose", "reserved", "presence_name", "nonce",
            "reply_to"):
    for c in names[key]:
        add("valid", struct.pack(">qq", now, now + 60000) + raw(c))
add("valid", struct.pack(">qq", now, now + 60001) + b"alice")
add("valid", struct.pack(">qq", -(2**63), 2**63 - 1) + b"x")

# ---- auth: the header value -----------------------------------------------------------
for c in auth["cases"]:
    add("auth", c["value"].encode("utf-8", "surrogatepass"))

# ---- num: dflt(4), then the value ---------------------------------------------------------
for v in ["", "0", "12abc", "1e3", " -7", "-0", "+5", "90", "91", "500", "501", "60000",
          "300001", "9007199254740993", "-9007199254740993", "\u00a012", "\ufeff3", "NaN",
          "99999999999999999999999", "\t\n\v\f\r 42", "- 1", "--1", "0x10"]:
    add("num", struct.pack(">I", 60000) + v.encode())

# ---- query: plus flag, then the query string ----------------------------------------------
for q in ["after=5&timeout=30", "after=1&after=2", "name=a+b&name=c", "box_pub=%2B%2F%3D",
          "k=%zz&v=%41", "a=%00b", "=x&&y=", "limit=500&ttl_ms=120000&last_event_id=9",
          "name=%E2%82%AC", "name=%C0%80", "x=" + "%41" * 40, "&".join("k%d=v" % i for i in range(70))]:
    add("query", b"\x01" + q.encode())
    add("query", b"\x00" + q.encode())

# ---- json: option byte, then the text -------------------------------------------------------
docs = [
    '{}', '[]', '{"a":1,"a":2}', '"\\u0000"', '"\\ud83d\\ude00"', '"\\ud83d"', '1e3', '-0',
    '9007199254740993', '[' * 32 + ']' * 32, '[' * 33 + ']' * 33, '{"k":[true,false,null]}',
    '  {"x" : "y" }  ', '{"a":"\u00e9\u20ac\U0001f600"}', '[1,]', '{"a"}', '\ufeff{}',
    '"\\/\\b\\f\\n\\r\\t\\"\\\\"', '{"sender":"\\u0001\\u001f"}',
]
for m in crypto["room_messages"]:
    docs.append(json.dumps({"ciphertext": m["ciphertext"], "nonce": m["nonce"], "sender": "b"}))
for d in docs:
    for opt in (0x03, 0x02, 0x01 | (4 << 2)):
        add("json", bytes([opt]) + d.encode("utf-8", "surrogatepass"))

# ---- message: ws flag, then the body -------------------------------------------------------
rm = crypto["room_messages"][0]
bodies = [
    {"ciphertext": rm["ciphertext"], "nonce": rm["nonce"]},
    {"ciphertext": "AAAA", "nonce": rm["nonce"], "sender": "", "reply_to": "abcdefgh", "ttl_ms": 30000},
    {"ciphertext": rm["ciphertext"], "nonce": rm["nonce"], "ttl_ms": 30000.5, "signed_only": True},
    {"ciphertext": rm["ciphertext"], "nonce": rm["nonce"], "sender_handle": "alice",
     "sender_sig": "x", "sender_ts": now, "sender_nonce": "wMHCw8TFxsfIycrLzM3Oz9DR"},
    {"ciphertext": "AB==", "nonce": rm["nonce"]},
    {"ciphertext": rm["ciphertext"], "nonce": rm["nonce"], "sender": "a\u0000b"},
    {"ciphertext": rm["ciphertext"], "nonce": rm["nonce"], "ttl_ms": 31622400001},
    {"ciphertext": rm["ciphertext"], "nonce": rm["nonce"], "sender": "\U0001f600" * 32},
]
for b in bodies:
    for ws in (0, 1):
        add("message", bytes([ws]) + json.dumps(b, ensure_ascii=False).encode("utf-8", "surrogatepass"))

# ---- clientip: cap, peer \n cf \n xff... ---------------------------------------------------
for peer, cf, xff in [
    ("127.0.0.1", "", ["1.1.1.1, 2.2.2.2"]), ("127.0.0.1", "", ["1.1.1.1, 127.0.0.5"]),
    ("127.0.0.1", "", []), ("9.9.9.9", "", ["1.1.1.1"]), ("::ffff:127.0.0.1", "", ["3.3.3.3"]),
    ("127.0.0.1", " 5.6.7.8 ", ["1.2.3.4", "4.3.2.1"]), ("::1", "", [" , ,::1,"]),
    ("127.0.0.1", "", ["localhost", "127.1"]), ("", "", ["[::1]"]),
]:
    add("clientip", bytes([200]) + "\n".join([peer, cf] + xff).encode())
    add("clientip", bytes([7]) + "\n".join([peer, cf] + xff).encode())

# ---- accesslog: cap, now(8), method ' ' path ------------------------------------------------
for path in ["/api/rooms/SECRET/ws", "/room/abcd", "/api/dm/alice/inbox/wait", "/api/identity/register",
             "/@alice", "/api/health", "/x\x1b[31m\n", "/\x7f\x00", "/api/roomsX", "/" + "a" * 300]:
    add("accesslog", bytes([60]) + struct.pack(">Q", now) + b"GET " + path.encode())
add("accesslog", bytes([3]) + struct.pack(">Q", now) + b"P\tOST /api/rooms/x/messages")

# ---- router: method \n path ---------------------------------------------------------------------
routes = ["/", "/api/health", "/api/status", "/api/openapi.json", "/metrics", "/api/metrics",
          "/api/report", "/api/rooms/ROOM2345/messages", "/api/rooms/ROOM2345/events",
          "/api/rooms/ROOM2345/ws", "/api/rooms/ROOM2345/status", "/api/rooms/ROOM2345/transcript",
          "/api/rooms/ROOM2345/wait", "/api/rooms/ROOM2345/listening", "/api/rooms/ROOM2345/claim",
          "/api/rooms/ROOM2345/ack", "/api/identity/register", "/api/identity/@alice",
          "/api/dm/bob", "/api/dm/bob/inbox/wait", "/api/dm/bob/inbox/abc-123",
          "/api/rooms/%41BCD/status", "/api/rooms/%zz/status", "/api/rooms//status",
          "/api/health/", "/API/health"]
for r in routes:
    for m in ("GET", "POST", "DELETE", "HEAD", "OPTIONS"):
        add("router", (m + "\n" + r).encode())

# ---- sse: max, cuts(4), stream ---------------------------------------------------------------------
streams = [
    'id: 1795615604052\ndata: {"type":"message","seq":1795615604052}\n\n',
    'data: {"type":"ready","roomId":"ROOM2345","size":1,"last_seq":0,"participants":[]}\n\n',
    ': keepalive\n\n', '\ufeffdata: x\r\n\r\n', 'data\n\n', 'data:a\rdata:b\r\r', 'id: a\x00b\ndata: c\n\n',
    'event: x\nretry: 5\ndata: y\n\n', 'data: ' + 'z' * 5000 + '\n\n', 'id\n:c\n\n',
]
for s in streams:
    add("sse", bytes([4]) + struct.pack(">I", 0x12345678) + s.encode("utf-8", "surrogatepass"))

# ---- chunked: cuts(4), body ----------------------------------------------------------------------
for body in ["5\r\nhello\r\n0\r\n\r\n", "a;ext=1\r\n0123456789\r\n0\r\nX-T: 1\r\n\r\n",
             "1\r\nx\r\n0\r\n\r\nNEXT", "fffffffffffffff\r\n", "5\nhello\r\n", "g\r\n",
             "2\r\nab\n\n", "0\r\n\r\n"]:
    add("chunked", struct.pack(">I", 0x9E3779B9) + body.encode())

# ---- request: METHOD \n TARGET \n headers \n\n body ------------------------------------------------
J = "Content-Type: application/json"
msg = json.dumps({"ciphertext": rm["ciphertext"], "nonce": rm["nonce"], "sender": "b"})
reqs = [
    ("GET", "/", [], ""), ("GET", "/api/health", [], ""), ("GET", "/api/status", [], ""),
    ("GET", "/api/openapi.json", [], ""), ("GET", "/metrics", ["Authorization: Bearer fuzz"], ""),
    ("GET", "/api/metrics", ["Authorization: Bearer nope"], ""),
    ("POST", "/api/rooms/ROOM2345/messages", [J], msg),
    ("POST", "/api/rooms/ROOM2345/messages", [J, "X-Forwarded-For: 1.2.3.4"], msg),
    ("POST", "/api/rooms/ROOM2345/messages", ["Content-Type: text/plain"], msg),
    ("POST", "/api/rooms/ROOM2345/messages", [J], "[" * 40),
    ("POST", "/api/rooms/ROOM2345/messages", [J], json.dumps(bodies[3])),
    ("GET", "/api/rooms/ROOM2345/status", [], ""),
    ("GET", "/api/rooms/ROOM2345/transcript?after=0&limit=5", [], ""),
    ("POST", "/api/rooms/ROOM2345/listening", [J],
     json.dumps({"name": "alice", "box_pub": crypto["identities"][0]["box_pub"]})),
    ("POST", "/api/rooms/ROOM2345/ack", [J], json.dumps({"handle": "alice", "claim_id": "x", "seq": 1})),
    ("POST", "/api/identity/register", [J], json.dumps({"handle": "alice",
     "box_pub": crypto["identities"][0]["box_pub"], "sign_pub": crypto["identities"][0]["sign_pub"],
     "register_ts": now, "register_sig": sigs["register"][0]["register_sig"]})),
    ("GET", "/api/identity/@alice", [], ""),
    ("POST", "/api/dm/bob", [J], json.dumps({k: crypto["dms"][0][k] for k in ("ciphertext", "nonce", "sender_eph_pub")})),
    ("DELETE", "/api/dm/bob/inbox/abc", ["Authorization: SafeBot ts=1,n=0NHS09TV1tfY2drb3N3e3-Dh,sig=AA"], ""),
    ("POST", "/api/report", [J], json.dumps({"what": "it broke", "severity": "high"})),
    ("OPTIONS", "/api/health", [], ""), ("GET", "/api/rooms/ROOM2345/ws", [], ""),
    ("GET", "/nope?x=1", [], ""), ("PUT", "/api/report", [], "x"),
]
for m, t, h, b in reqs:
    add("request", ("\n".join([m, t] + h) + "\n\n" + b).encode("utf-8", "surrogatepass"))


# ---- idload: the identities.json file ---------------------------------------------------------
ids = crypto["identities"]
good = {"identities": {i["handle"]: {"handle": i["handle"], "box_pub": i["box_pub"],
        "sign_pub": i["sign_pub"], "registered_at": now, "meta": {"bio": "hi"}, "inbox_seq": now + 5}
        for i in ids}}
files = [
    json.dumps(good), json.dumps({"identities": {}}), "{}", "[]", "", "{\"identities\":[]}",
    json.dumps({"identities": {"alice": dict(good["identities"]["alice"], handle="bob")}}),
    json.dumps({"identities": {"Alice": dict(good["identities"]["alice"], handle="Alice")}}),
    json.dumps({"identities": {"alice": dict(good["identities"]["alice"], box_pub="AB==")}}),
    json.dumps({"identities": {"alice": dict(good["identities"]["alice"], registered_at="x",
                inbox_seq=-4, meta={"bio": "\u00e9" * 300})}}),
    json.dumps({"identities": {"alice": dict(good["identities"]["alice"], meta=[1, 2])}}),
    '{"identities":{"alice":' + json.dumps(good["identities"]["alice"]) + ',"alice":' +
    json.dumps(dict(good["identities"]["alice"], registered_at=1)) + '}}',
]
for f in files:
    add("idload", f.encode("utf-8", "surrogatepass"))


def main():
    total = 0
    for target, items in sorted(seeds.items()):
        d = os.path.join(OUT, target)
        os.makedirs(d, exist_ok=True)
        for data in sorted(items):
            name = hashlib.sha1(data).hexdigest()
            path = os.path.join(d, name)
            if not os.path.exists(path):
                with open(path, "wb") as f:
                    f.write(data)
                total += 1
        print("%-10s %4d seeds" % (target, len(os.listdir(d))))
    print("new files: %d" % total)


if __name__ == "__main__":
    main()
