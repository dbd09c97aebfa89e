"""Deterministic corpus for the redact transform: lines with planted (fake) values and hard negatives.

``positives(detector, n, seed)`` gives lines that each carry one value of that
detector in a realistic context (key=value logging, JSON, URL query, SQL,
traceback, HTTP header); ``Case.planted`` records what must be redacted.
``negatives(n, seed)`` gives ML-service log lines full of look-alikes that must
stay: timestamps, UUIDs, git SHAs and hex digests, version strings such as
1.4.2.10, Luhn-invalid 16-digit order ids, loopback addresses, port numbers.
``mixed(n, seed, pii_share)`` interleaves both, for recall/false-positive
reports and the benchmark. Every value is fake (example domains, test-range
numbers, random keys); the same seed always yields the same lines.
"""

from __future__ import annotations

import base64
import datetime as dt
import hashlib
import json
import random
import string
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from urllib.parse import quote

import phonenumbers

from logferry.transforms.redact.validators import IBAN_LENGTHS, luhn_ok


@dataclass
class Case:
    line: str
    planted: list[tuple[str, str]] = field(default_factory=list)  # (detector, value that must disappear)


FIRST = ["Ada", "Grace", "Alan", "Katherine", "Linus", "Margaret", "Dennis", "Barbara", "Ken", "Frances",
         "José", "Zoë", "Jean-Luc", "Mary Ann", "Émile"]
LAST = ["Lovelace", "Hopper", "Turing", "Johnson", "Torvalds", "Hamilton", "Ritchie", "Liskov", "Thompson",
        "Allen", "García", "O'Neil", "Müller", "Smith-Jones"]
DOMAINS = ["example.com", "example.org", "example.net", "corp.example.com", "users.example.co.uk"]
MODELS = ["fraud-v3", "churn-xgb", "reco-two-tower", "llm-summarizer-7b", "embed-minilm"]
ALNUM = string.ascii_letters + string.digits


class Gen:
    """Fake values of every kind, from one seeded RNG."""

    def __init__(self, seed: int) -> None:
        self.r = random.Random(seed)
        self.t = dt.datetime(2026, 11, 20, 9, 0, 0, tzinfo=dt.UTC)

    def s(self, n: int, alphabet: str = ALNUM) -> str:
        return "".join(self.r.choice(alphabet) for _ in range(n))

    def ts(self) -> str:
        self.t += dt.timedelta(milliseconds=self.r.randrange(1, 900))
        return f"{self.t:%Y-%m-%d %H:%M:%S},{self.t.microsecond // 1000:03d}"

    def iso(self) -> str:
        return f"{self.t:%Y-%m-%dT%H:%M:%S}.{self.t.microsecond // 1000:03d}Z"

    def uuid(self) -> str:
        return str(uuid.UUID(int=self.r.getrandbits(128), version=4))

    def sha1(self) -> str:
        return hashlib.sha1(self.s(12).encode()).hexdigest()

    def sha256(self) -> str:
        return hashlib.sha256(self.s(12).encode()).hexdigest()

    def version(self) -> str:
        r = self.r
        return r.choice([f"{r.randrange(1, 9)}.{r.randrange(10)}.{r.randrange(10)}.{r.randrange(1, 40)}",
                         f"{r.randrange(10)}.{r.randrange(30)}.{r.randrange(20)}", "1.4.2.10"])

    def order_id(self) -> str:
        while True:
            d = str(self.r.randrange(10 ** 15, 10 ** 16))
            if not luhn_ok(d):
                return d

    # --- personal data ---------------------------------------------------------------------

    def name(self) -> str:
        return f"{self.r.choice(FIRST)} {self.r.choice(LAST)}"

    def email(self) -> str:
        first, last = self.r.choice(FIRST).split()[0], self.r.choice(LAST)
        local = self.r.choice([f"{first}.{last}", f"{first[0]}{last}{self.r.randrange(99)}", f"{first}+ml"])
        local = "".join(c for c in local if c.isascii() and (c.isalnum() or c in ".+")).lower()
        return f"{local}@{self.r.choice(DOMAINS)}"

    def card(self) -> str:
        r = self.r
        prefix, length = r.choice([("4", 16), ("4", 13), ("4", 19), (str(r.randrange(51, 56)), 16),
                                   (str(r.randrange(2221, 2721)), 16), ("34", 15), ("37", 15), ("6011", 16),
                                   ("65", 16), ("3530", 16), ("36", 14), ("62", 16), ("6759", 19)])
        digits = [int(c) for c in prefix] + [r.randrange(10) for _ in range(length - len(prefix) - 1)]
        for check in range(10):
            if luhn_ok("".join(map(str, digits + [check]))):
                break
        num = "".join(map(str, digits + [check]))
        sep = r.choice(["", " ", "-"])
        if not sep:
            return num
        groups = [num[:4], num[4:10], num[10:]] if length == 15 else [num[i:i + 4] for i in range(0, length, 4)]
        return sep.join(groups)

    def iban(self) -> str:
        r = self.r
        cc = r.choice(["DE", "GB", "FR", "NL", "ES", "IT", "CH", "BE", "PL", "NO"])
        n = IBAN_LENGTHS[cc] - 4
        bban = (self.s(4, string.ascii_uppercase) if cc in ("GB", "NL") else "") + self.s(n, string.digits)
        bban = bban[:n]
        num = int("".join(str(int(c, 36)) for c in bban + cc + "00"))
        compact = f"{cc}{98 - num % 97:02d}{bban}"
        return compact if r.random() < 0.5 else " ".join(compact[i:i + 4] for i in range(0, len(compact), 4))

    def ssn_digits(self) -> str:
        r = self.r
        area = r.choice([a for a in range(1, 900) if a != 666])
        return f"{area:03d}{r.randrange(1, 100):02d}{r.randrange(1, 10000):04d}"

    def phone(self) -> str:
        r = self.r
        while True:
            region, fmt = r.choice([("US", phonenumbers.PhoneNumberFormat.INTERNATIONAL),
                                    ("US", phonenumbers.PhoneNumberFormat.NATIONAL),
                                    ("GB", phonenumbers.PhoneNumberFormat.INTERNATIONAL),
                                    ("GB", phonenumbers.PhoneNumberFormat.NATIONAL),
                                    ("DE", phonenumbers.PhoneNumberFormat.INTERNATIONAL),
                                    ("FR", phonenumbers.PhoneNumberFormat.NATIONAL),
                                    ("US", phonenumbers.PhoneNumberFormat.E164)])
            example = phonenumbers.example_number_for_type(region, phonenumbers.PhoneNumberType.FIXED_LINE)
            assert example is not None
            nsn = str(example.national_number)
            nsn = nsn[:-4] + f"{r.randrange(10000):04d}"
            num = phonenumbers.parse(nsn, region)
            if phonenumbers.is_valid_number(num):
                text = phonenumbers.format_number(num, fmt)
                if region == "US" and fmt == phonenumbers.PhoneNumberFormat.NATIONAL and r.random() < 0.5:
                    text = text.replace("(", "").replace(") ", "-")
                return text

    def ipv4(self) -> str:
        r = self.r
        return r.choice([f"10.{r.randrange(256)}.{r.randrange(256)}.{r.randrange(1, 255)}",
                         f"192.168.{r.randrange(256)}.{r.randrange(1, 255)}",
                         f"{r.choice([34, 52, 81, 151, 185, 203])}.{r.randrange(256)}.{r.randrange(256)}.{r.randrange(1, 255)}"])

    def ipv6(self) -> str:
        r = self.r
        groups = [f"{r.randrange(1, 0xffff):x}" for _ in range(4)]
        return r.choice([f"2001:db8::{groups[0]}:{groups[1]}", f"2001:db8:{groups[0]}:{groups[1]}:{groups[2]}:0:0:{groups[3]}",
                         f"fe80::{groups[0]}:{groups[1]}:{groups[2]}", f"2a00:1450:4001:81{r.randrange(10)}::200e"])

    def mac(self) -> str:
        octets = [f"{self.r.randrange(256):02x}" for _ in range(6)]
        octets[0] = "02"  # locally administered: never a real vendor's
        kind = self.r.randrange(3)
        if kind == 2:
            h = "".join(octets)
            return f"{h[:4]}.{h[4:8]}.{h[8:]}"
        return ([":", "-"][kind]).join(octets).upper() if self.r.random() < 0.5 else ([":", "-"][kind]).join(octets)

    def aws_key_id(self) -> str:
        return self.r.choice(["AKIA", "ASIA"]) + self.s(16, string.ascii_uppercase + "234567")

    def aws_secret(self) -> str:
        return self.s(20) + "/" + self.s(9) + "+" + self.s(9)

    def jwt(self) -> str:
        def b64(obj: object) -> str:
            return base64.urlsafe_b64encode(json.dumps(obj).encode()).decode().rstrip("=")
        return f"{b64({'alg': 'HS256', 'typ': 'JWT'})}.{b64({'sub': self.s(8), 'iat': 1760000000})}.{self.s(43, ALNUM + '-_')}"

    def api_token(self) -> str:
        r = self.r
        return r.choice([f"ghp_{self.s(36)}", f"github_pat_{self.s(22)}_{self.s(59)}", f"xoxb-{self.s(11, string.digits)}-{self.s(24)}",
                         f"sk_live_{self.s(24)}", f"rk_test_{self.s(24)}", f"sk-proj-{self.s(48)}", f"sk-{self.s(48)}",
                         f"hf_{self.s(34)}", f"AIza{self.s(35, ALNUM + '-_')}"])

    def secret(self) -> str:
        return self.s(self.r.randrange(16, 40), ALNUM + "-_")

    def password(self) -> str:
        return self.r.choice([self.s(10, ALNUM + "!#$%*"), "correct horse battery", "Tr0ub4dor&3x", self.s(14)])

    def pem(self, escaped: bool) -> str:
        nl = "\\n" if escaped else "\n"
        kind = self.r.choice(["RSA PRIVATE KEY", "PRIVATE KEY", "EC PRIVATE KEY", "OPENSSH PRIVATE KEY"])
        body = nl.join(self.s(64, ALNUM + "+/") for _ in range(3))
        return f"-----BEGIN {kind}-----{nl}{body}{nl}-----END {kind}-----"


# --- contexts ---------------------------------------------------------------------------------
# Each template gets {ts} {iso} {rid} {m} {ip} and the value as {v} (plus {k} for the key when given).

LOG = "{ts} INFO [serve.handlers] "
CONTEXTS: dict[str, list[str]] = {
    "kv": [LOG + "request_id={rid} model={m} {k}={v} latency_ms=23", LOG + "lookup user {k}={v} status=200"],
    "json": ['{{"@timestamp": "{iso}", "level": "info", "request_id": "{rid}", "{k}": "{v}", "latency_ms": 41}}',
             '{{"event": "feedback", "payload": {{"{k}": "{v}", "rating": 4}}, "trace_id": "{rid}"}}'],
    "url": ['127.0.0.1 - - [20/Nov/2026:09:00:01 +0000] "GET /v1/feedback?request_id={rid}&{k}={qv}&page=2 HTTP/1.1" 200 512',
            "{ts} DEBUG [httpx] HTTP Request: POST https://api.example.com/v1/users?{k}={qv} \"HTTP/1.1 200 OK\""],
    "sql": ["{ts} DEBUG [sqlalchemy.engine] INSERT INTO customers ({k}, created_at) VALUES ('{v}', '{iso}')",
            "{ts} DEBUG [sqlalchemy.engine] SELECT id FROM users WHERE {k} = '{v}' LIMIT 1"],
    "traceback": ["ValueError: invalid {k} '{v}' for request {rid}",
                  '  File "/srv/app/serve/handlers.py", line 88, in predict: KeyError: \'{v}\''],
    "header": ["{ts} DEBUG [http.client] header: X-User-{K}: {v}", "{ts} WARNING [serve.auth] rejected {k} {v} from upstream"],
}

# detector -> (value maker, keys used in key contexts, contexts it appears in)
Maker = Callable[[Gen], str]
SPECS: dict[str, tuple[Maker, list[str], list[str]]] = {
    "email": (Gen.email, ["email", "user", "contact"], ["kv", "json", "url", "sql", "traceback", "header"]),
    "phone": (Gen.phone, ["phone", "contact_number", "callback"], ["kv", "json", "sql", "traceback", "header"]),
    "credit_card": (Gen.card, ["card", "pan", "cc"], ["kv", "json", "url", "sql", "traceback"]),
    "iban": (Gen.iban, ["iban", "account"], ["kv", "json", "sql", "traceback"]),
    "ssn": (lambda g: (lambda d: g.r.choice([f"{d[:3]}-{d[3:5]}-{d[5:]}", f"{d[:3]} {d[3:5]} {d[5:]}"]))(g.ssn_digits()),
            ["ssn_value", "tax_ref", "ssn"], ["kv", "json", "sql", "traceback"]),
    "ipv4": (Gen.ipv4, ["client_ip", "remote_addr", "peer"], ["kv", "json", "url", "sql", "header"]),
    "ipv6": (Gen.ipv6, ["client_ip", "remote_addr"], ["kv", "json", "sql", "header"]),
    "mac": (Gen.mac, ["mac", "hw_addr", "device"], ["kv", "json", "sql", "traceback"]),
    "aws_access_key": (Gen.aws_key_id, ["aws_access_key_id", "key_id"], ["kv", "json", "url", "traceback"]),
    "jwt": (Gen.jwt, ["id_jwt", "session"], ["kv", "json", "url", "traceback"]),
    "api_token": (Gen.api_token, ["credential", "auth"], ["kv", "json", "url", "traceback", "header"]),
}


def _fill(g: Gen, template: str, key: str, value: str, qvalue: str | None = None) -> str:
    return template.format(ts=g.ts(), iso=g.iso(), rid=g.uuid(), m=g.r.choice(MODELS), k=key, K=key.title(),
                           v=value, qv=qvalue if qvalue is not None else quote(value, safe="@:"))


def _special(detector: str, g: Gen) -> Case:
    """Detectors whose value only exists with a key or a scheme around it."""
    r = g.r
    if detector == "ssn_key":
        d = g.ssn_digits()
        k = r.choice(["ssn", "social_security_number", "SSN"])
        line = r.choice([f'{{"customer_id": 42, "{k}": "{d}"}}', f"{g.ts()} INFO [kyc] verified {k}={d} ok"])
        return Case(line, [("ssn", d)])
    if detector == "aws_secret_key":
        v = g.aws_secret()
        k = r.choice(["aws_secret_access_key", "AWS_SECRET_ACCESS_KEY", "SecretAccessKey"])
        line = r.choice([f"{g.ts()} DEBUG [boto] loaded {k}={v} from env", f'{{"AccessKeyId": "{g.aws_key_id()}", "{k}": "{v}"}}'])
        planted = [("aws_secret_key", v)]
        if "AccessKeyId" in line:
            planted.append(("aws_access_key", line.split('"AccessKeyId": "')[1][:20]))
        return Case(line, planted)
    if detector == "bearer_token":
        v = g.secret()
        return Case(r.choice([f"{g.ts()} DEBUG [http] Authorization: Bearer {v}",
                              f'{{"headers": {{"authorization": "Bearer {v}"}}, "path": "/v1/embed"}}']), [("bearer_token", v)])
    if detector == "basic_auth":
        v = base64.b64encode(f"svc-{g.s(5).lower()}:{g.password()}".encode()).decode()
        return Case(f"{g.ts()} DEBUG [http] > Authorization: Basic {v}", [("basic_auth", v)])
    if detector == "api_token_generic":
        v = g.secret()
        k = r.choice(["api_key", "apiKey", "token", "client_secret", "access_token", "X-Api-Key"])
        line = r.choice([f"{g.ts()} INFO [client] using {k}={v} for upstream", f'{{"{k}": "{v}", "region": "eu-west-1"}}',
                         f"{g.ts()} DEBUG [http] {k}: {v}"])
        return Case(line, [("api_token", v)])
    if detector == "url_password":
        pw = g.password().replace(" ", "") .replace("/", "")
        pw = "".join(c for c in pw if c not in "@#?")
        scheme = r.choice(["postgres", "mysql", "redis", "amqp", "https", "mongodb+srv"])
        return Case(f"{g.ts()} INFO [db] connecting to {scheme}://svc_{g.s(4).lower()}:{pw}@db-{r.randrange(9)}.internal.example.com:5432/app",
                    [("url_password", pw)])
    if detector == "password":
        pw = g.password()
        k = r.choice(["password", "passwd", "pwd", "PASSWORD"])
        line = r.choice([f'{{"username": "svc", "{k}": "{pw}"}}', f"{g.ts()} DEBUG [cfg] {k}='{pw}' loaded",
                         f'{g.ts()} ERROR [api] bad body {{\\"{k}\\": \\"{pw}\\"}}'])
        if " " not in pw:
            line = r.choice([line, f"{g.ts()} DEBUG [cli] login {k}={pw} host=db1"])
        return Case(line, [("password", pw)])
    if detector == "private_key":
        escaped = r.random() < 0.5
        pem = g.pem(escaped)
        return Case(r.choice([f'{{"secret_name": "tls", "key": "{pem}"}}' if escaped else f"loaded key:\n{pem}\n",
                              f"{g.ts()} ERROR [tls] bad key material {pem} (len=1679)"]), [("private_key", pem)])
    if detector == "person_name":
        n = g.name()
        k = r.choice(["name", "full_name", "customer_name", "first_name", "cardholder", "lastName"])
        if k in ("first_name",):
            n = n.split()[0]
        line = r.choice([f'{{"order_id": "{g.order_id()}", "{k}": "{n}", "amount": 12.5}}',
                         f"{g.ts()} INFO [crm] update {k}=\"{n}\" ok", f"{g.ts()} INFO [crm] {k}: {n!r}"])
        return Case(line, [("person_name", n)])
    raise KeyError(detector)


SPECIAL = ("ssn_key", "aws_secret_key", "bearer_token", "basic_auth", "api_token_generic", "url_password",
           "password", "private_key", "person_name")
#: every kind of positive, by the name tests and reports use
KINDS: tuple[str, ...] = tuple(SPECS) + SPECIAL


def positives(kind: str, n: int, seed: int = 1) -> list[Case]:
    """``n`` lines each carrying one planted value of ``kind`` (a detector, or ssn_key/api_token_generic)."""
    g = Gen(seed * 7919 + sum(map(ord, kind)))
    out: list[Case] = []
    if kind in SPECIAL:
        return [_special(kind, g) for _ in range(n)]
    maker, keys, contexts = SPECS[kind]
    for i in range(n):
        v = maker(g)
        ctx = contexts[i % len(contexts)]
        template = g.r.choice(CONTEXTS[ctx])
        key = g.r.choice(keys)
        if kind == "email" and ctx == "url" and g.r.random() < 0.5:
            qv = quote(v, safe="")  # user%40example.com: must be found URL-encoded
            out.append(Case(_fill(g, template, key, v, qv), [(kind, qv)]))
            continue
        if kind in ("ipv4", "ipv6") and g.r.random() < 0.3:
            port = g.r.randrange(1024, 65535)
            shown = f"[{v}]:{port}" if kind == "ipv6" else f"{v}:{port}"
            out.append(Case(_fill(g, template, key, shown, shown), [(kind, v)]))
            continue
        line = _fill(g, template, key, v, v if ctx == "url" else None)
        out.append(Case(line, [(kind, v)]))
    return out


# --- hard negatives and filler -------------------------------------------------------------------

NEGATIVE_TEMPLATES = [
    "{ts} INFO [serve.app] request_id={uuid} model={m} version={ver} latency_ms={n3} status=200",
    "{ts} INFO [uvicorn.access] 127.0.0.1:{port} - \"POST /v1/models/{m}:predict HTTP/1.1\" 200 OK",
    "{ts} INFO [serve.model_registry] loaded {m} weights sha256={sha256} commit={sha1} from /models/{m}/{ver}",
    "{ts} WARNING [serve.batcher] queue depth high depth={n3} max=256 listen=0.0.0.0:{port} upstream=localhost:{port}",
    "{ts} INFO [orders] order_id={order} amount={n3}.{n2} currency=EUR trace={uuid}",
    '{{"@timestamp": "{iso}", "level": "info", "msg": "checkpoint saved", "step": {n5}, "sha": "{sha1}", "epoch": {n2}}}',
    "{ts} INFO [train.loop] epoch={n2} step={n5}/50000 loss=0.{n5} lr=3e-04 grad_norm=1.{n3} tokens_per_s={n5}",
    "{ts} DEBUG [pip] Successfully installed torch-{ver} transformers-4.46.{n2} numpy=={ver} agent/{ver}",
    "Epoch {n2}/50 | step {n5} | loss 0.{n3} | acc 0.9{n2} | eta 00:{n2}:{n2} | {n3} it/s",
    "{ts} INFO [serve.cache] evicted key=emb:{sha256} size_bytes={n5} ttl_s=3600 node=[::1]:{port}",
    "{ts} INFO [ddp] rank 3 connected to tcp://127.0.0.1:{port} (world_size=8) ts={epoch} nccl=2.18.{n2}",
    '  File "/opt/venv/lib/python3.11/site-packages/torch/nn/modules/module.py", line {n3}, in _call_impl',
    "{ts} ERROR [serve.handlers] prediction failed request_id={uuid} error=\"CUDA out of memory. Tried to allocate 2.{n2} GiB\"",
    "{ts} INFO [k8s] pod fraud-v3-{hex5}-{hex5} ready on node ip-10-0-{n2}-{n2}.ec2.internal image={m}:{ver}@sha256:{sha256}",
    "{ts} INFO [metrics] p50_ms={n3} p99_ms={n3} qps={n3}.{n2} gpu_util=0.{n2} mem_used_bytes={n11} uptime_s={n5}",
    "{ts} DEBUG [serve.auth] token cache hit tokens=4096 max_tokens=8192 token_type=bearer name=resnet50 user.name=svc",
    "{ts} DEBUG [http] < User-Agent: Mozilla/5.0 AppleWebKit/537.36 Chrome/120.0.0.0 Safari/537.36 Content-Length: {n5}",
    "{ts} INFO [serve.auth] Bearer token expired for client {uuid}; Basic auth disabled; password: ******** (hidden)",
    '{{"name": "resnet50", "host.name": "gpu-node-{n2}", "password": null, "api_key": "${{API_KEY}}", "took": "00:00:{n2}.{n3}"}}',
    "{ts} INFO [cron] next run 2026-12-01 00:00:00 (in 10:23:45.{n3}) job_id={n5} ticket=INC-{n5} call=123-456-7890",
]


def negatives(n: int, seed: int = 2) -> list[Case]:
    """Lines with no personal data or secret, dense in look-alikes that must be left alone."""
    g = Gen(seed)
    r = g.r
    out = []
    for i in range(n):
        t = NEGATIVE_TEMPLATES[i % len(NEGATIVE_TEMPLATES)]
        out.append(Case(t.format(ts=g.ts(), iso=g.iso(), uuid=g.uuid(), m=r.choice(MODELS), ver=g.version(),
                                 n2=r.randrange(10, 99), n3=r.randrange(100, 999), n5=r.randrange(10000, 99999),
                                 n11=r.randrange(10 ** 10, 10 ** 11), port=r.randrange(1024, 65535),
                                 sha1=g.sha1(), sha256=g.sha256(), order=g.order_id(), hex5=g.s(5, "0123456789abcdef"),
                                 epoch=r.randrange(1_700_000_000_000, 1_800_000_000_000))))
    return out


def mixed(n: int, seed: int = 3, pii_share: float = 0.2) -> list[Case]:
    """About ``pii_share`` of lines carry a planted value (every kind in turn); the rest are hard negatives."""
    n_pos = int(n * pii_share)
    per_kind = n_pos // len(KINDS) + 1
    pos = [c for k in KINDS for c in positives(k, per_kind, seed)][:n_pos]
    neg = negatives(n - len(pos), seed + 1)
    out = pos + neg
    random.Random(seed).shuffle(out)
    return out


# --- scoring --------------------------------------------------------------------------------------


@dataclass
class Score:
    planted: int = 0
    found: int = 0
    false_positives: int = 0

    @property
    def recall(self) -> float:
        return self.found / self.planted if self.planted else 1.0


def score(cases: list[Case], find: Callable[[str], list[tuple[int, int, str]]]) -> tuple[dict[str, Score], list[str]]:
    """Recall and false positives per detector; also the lines with a miss or a false positive.

    A planted value counts as found when one finding of its detector covers it;
    a finding that covers no planted value of its detector is a false positive.
    """
    scores: dict[str, Score] = {}
    bad: list[str] = []
    for c in cases:
        findings = find(c.line)
        spans = []
        for det, value in c.planted:
            at = c.line.find(value)
            spans.append((det, at, at + len(value)))
            sc = scores.setdefault(det, Score())
            sc.planted += 1
            if any(fd == det and fs <= at and fe >= at + len(value) for fs, fe, fd in findings):
                sc.found += 1
            else:
                bad.append(f"MISS {det}: {c.line!r}")
        for fs, fe, fd in findings:
            if not any(d == fd and a < fe and fs < b for d, a, b in spans):
                scores.setdefault(fd, Score()).false_positives += 1
                bad.append(f"FP {fd} {c.line[fs:fe]!r}: {c.line!r}")
    return scores, bad
