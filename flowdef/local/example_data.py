"""A deterministic smart-claims data set for the example jobs (standard library only).

It writes the landing volume the ingestion job reads (``/Volumes/<catalog>/00_landing/sql_server/``):
``claims.csv``, ``claims_02.csv``, ``customers.csv``, ``policies.csv``, shaped like the lesson's files
(``null`` literals, float ids as text, quoted ``"Last, First"`` names, ``dd-MM-yyyy`` dates), with the anomalies
the lesson relies on planted on purpose — and it returns a :class:`Manifest` of the counts those anomalies
imply, so tests assert exact numbers derived from the construction, not numbers read back from a run:

1. one claim repeated as ``identical_copies`` identical rows in ``claims.csv`` -> dedup removes copies - 1;
2. ``resent`` claims of ``claims.csv`` sent again in ``claims_02.csv`` with a later ``claim_date`` -> dedup
   removes them and keeps the later date;
3. ``orphans`` claims in ``claims_02.csv`` whose policy does not exist -> the inner join drops them;
4. one ``POLICY_NO`` twice in ``policies.csv`` (different PRODUCT/PREMIUM), referenced by exactly one claim ->
   ``claims_enriched`` has one more row than unique claims;
5. trailing blank lines at the end of ``claims_02.csv``; ``null`` literals in ``collision_type``,
   ``MODEL_YEAR``, ``date_of_birth``.

``python -m flowdef.local.example_data [--target local] [--claims N] [--seed S]`` writes it into a target's
local workspace.
"""

from __future__ import annotations

import argparse
import csv
import datetime as dt
import io
import random
import uuid
from dataclasses import asdict, dataclass
from pathlib import Path

CLAIM_COLUMNS = [
    "claim_no", "policy_no", "claim_date", "months_as_customer", "injury", "property", "vehicle", "total",
    "collision_type", "number_of_vehicles_involved", "age", "insured_relationship", "license_issue_date", "date",
    "hour", "type", "severity", "number_of_witnesses", "suspicious_activity",
]
POLICY_COLUMNS = [
    "POLICY_NO", "CUST_ID", "POLICYTYPE", "POL_ISSUE_DATE", "POL_EFF_DATE", "POL_EXPIRY_DATE", "MAKE", "MODEL",
    "MODEL_YEAR", "CHASSIS_NO", "USE_OF_VEHICLE", "PRODUCT", "SUM_INSURED", "PREMIUM", "DEDUCTABLE",
]
CUSTOMER_COLUMNS = ["customer_id", "date_of_birth", "borough", "neighborhood", "zip_code", "name"]

_BOROUGHS = {"MANHATTAN": ["Harlem", "Chelsea", "Tribeca"], "BROOKLYN": ["Bushwick", "Flatbush"],
             "QUEENS": ["Astoria", "Flushing"], "BRONX": ["Fordham", "Riverdale"]}
_LAST = ["Silva", "Santos", "Oliveira", "Souza", "Lima", "Pereira", "Costa", "Almeida", "Smith", "Johnson"]
_FIRST = ["Ana", "Bruno", "Carla", "Diego", "Elisa", "Fabio", "Gabriela", "Hugo", "Iris", "Joao"]
_MAKES = {"Toyota": ["Corolla", "Yaris"], "Honda": ["Civic", "Fit"], "Ford": ["Focus", "Ka"], "VW": ["Gol", "Polo"]}
_TYPES = ["Multi-vehicle Collision", "Single Vehicle Collision", "Vehicle Theft", "Parked Car"]
_SEVERITY = ["Minor Damage", "Total Loss", "Major Damage", "Trivial Damage"]
_COLLISION = ["Front Collision", "Rear Collision", "Side Collision"]
_RELATION = ["husband", "wife", "own-child", "unmarried", "other-relative", "not-in-family"]


@dataclass(frozen=True)
class Manifest:
    """What the generated files contain, by construction."""

    base_claims: int  # distinct claims in claims.csv, each with an existing policy
    identical_copies: int  # rows of the one claim repeated identically
    resent: int  # claims of claims.csv sent again in claims_02.csv with a later claim_date
    orphans: int  # new claims in claims_02.csv whose policy does not exist
    customers: int
    policies: int  # rows of policies.csv (one POLICY_NO appears twice)
    duplicated_policy: str
    claims_on_duplicated_policy: int
    repeated_claim: str
    resent_claims: dict[str, tuple[str, str]]  # claim_no -> (first claim_date, later claim_date)
    orphan_claims: tuple[str, ...]

    @property
    def bronze_claims(self) -> int:
        return self.base_claims + (self.identical_copies - 1) + self.resent + self.orphans

    @property
    def unique_claims(self) -> int:
        return self.base_claims + self.orphans

    @property
    def duplicate_rows_removed(self) -> int:
        return (self.identical_copies - 1) + self.resent

    @property
    def enriched_rows(self) -> int:
        return self.base_claims + self.claims_on_duplicated_policy

    @property
    def enriched_unique_claims(self) -> int:
        return self.base_claims

    def to_dict(self) -> dict[str, object]:
        data = asdict(self)
        for name in ("bronze_claims", "unique_claims", "duplicate_rows_removed", "enriched_rows",
                     "enriched_unique_claims"):
            data[name] = getattr(self, name)
        return data


def _date(rng: random.Random, start: dt.date, days: int) -> dt.date:
    return start + dt.timedelta(days=rng.randrange(days))


def _csv(rows: list[list[str]], header: list[str]) -> str:
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n", quoting=csv.QUOTE_MINIMAL)
    writer.writerow(header)
    writer.writerows(rows)
    return out.getvalue()


def generate(folder: str | Path, *, claims: int = 2000, seed: int = 20251205, identical_copies: int = 12,
             resent: int = 5, orphans: int = 7) -> Manifest:
    """Write the four CSV files into ``folder`` (created); return what they contain."""
    if claims < 10:
        raise ValueError("claims must be at least 10")
    rng = random.Random(seed)
    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    n_customers = max(10, claims // 2)

    customers, customer_ids = [], []
    for i in range(n_customers):
        cid = f"{100 + i}.0"
        customer_ids.append(cid)
        borough = rng.choice(sorted(_BOROUGHS))
        dob = "null" if rng.random() < 0.05 else _date(rng, dt.date(1950, 1, 1), 18000).strftime("%d-%m-%Y")
        name = f"{rng.choice(_LAST)}, {rng.choice(_FIRST)}"
        customers.append([cid, dob, borough, rng.choice(_BOROUGHS[borough]), str(rng.randrange(10000, 99999)), name])

    policies, policy_nos = [], []
    used: set[str] = set()
    for cid in customer_ids:
        while True:
            number = str(rng.randrange(100_000_000, 999_999_999))
            if number not in used:
                break
        used.add(number)
        if rng.random() < 0.015:
            number += "/1"  # as in the real file: some policy numbers carry a suffix, so the column is text
        policy_nos.append(number)
        policies.append(_policy(rng, number, cid))
    duplicated = policy_nos[0]
    twin = list(policies[0])
    twin[POLICY_COLUMNS.index("PRODUCT")] = "PREMIUM_PLUS"
    twin[POLICY_COLUMNS.index("PREMIUM")] = str(int(float(twin[POLICY_COLUMNS.index("PREMIUM")])) + 250) + ".0"
    policies.append(twin)

    # Base claims: every policy but the duplicated one is used by random claims; exactly one claim uses it.
    others = policy_nos[1:]
    base = [_claim(rng, duplicated)]
    while len(base) < claims:
        base.append(_claim(rng, rng.choice(others)))
    rng.shuffle(base)
    # the repeated claim and the re-sent claims are distinct and not the one on the duplicated policy
    candidates = [c for c in base if c[1] != duplicated]
    repeated = candidates[0]
    resent_rows = candidates[1:1 + resent]
    claims_rows = list(base)
    for _ in range(identical_copies - 1):
        claims_rows.insert(rng.randrange(len(claims_rows) + 1), list(repeated))

    later, resent_map = [], {}
    for row in resent_rows:
        copy = list(row)
        first = dt.date.fromisoformat(row[2])
        copy[2] = (first + dt.timedelta(days=rng.randrange(5, 60))).isoformat()
        resent_map[row[0]] = (row[2], copy[2])
        later.append(copy)
    orphan_rows = []
    for _ in range(orphans):
        while True:
            number = str(rng.randrange(100_000_000, 999_999_999))
            if number not in used:
                used.add(number)
                break
        orphan_rows.append(_claim(rng, number))
    second = later + orphan_rows
    rng.shuffle(second)

    (folder / "customers.csv").write_text(_csv(customers, CUSTOMER_COLUMNS), encoding="utf-8")
    (folder / "policies.csv").write_text(_csv(policies, POLICY_COLUMNS), encoding="utf-8")
    (folder / "claims.csv").write_text(_csv(claims_rows, CLAIM_COLUMNS), encoding="utf-8")
    (folder / "claims_02.csv").write_text(_csv(second, CLAIM_COLUMNS) + "\n\n", encoding="utf-8")
    return Manifest(
        base_claims=claims, identical_copies=identical_copies, resent=resent, orphans=orphans,
        customers=n_customers, policies=len(policies), duplicated_policy=duplicated, claims_on_duplicated_policy=1,
        repeated_claim=repeated[0], resent_claims=resent_map, orphan_claims=tuple(r[0] for r in orphan_rows),
    )


def _policy(rng: random.Random, number: str, cid: str) -> list[str]:
    issue = _date(rng, dt.date(2015, 1, 1), 2000)
    make = rng.choice(sorted(_MAKES))
    insured = rng.randrange(5, 80) * 1000
    return [
        number, cid, rng.choice(["COMP", "TP"]), issue.isoformat(), (issue + dt.timedelta(days=1)).isoformat(),
        (issue + dt.timedelta(days=366)).isoformat(), make, rng.choice(_MAKES[make]),
        "null" if rng.random() < 0.05 else f"{rng.randrange(2005, 2022)}.0",
        "".join(rng.choice("ABCDEFGHJKLMNPRSTUVWXYZ0123456789") for _ in range(17)),
        rng.choice(["Private", "Commercial"]), rng.choice(["BASIC", "STANDARD", "PREMIUM"]), f"{insured}.0",
        f"{round(insured * rng.uniform(0.02, 0.06), 2)}", rng.choice(["500", "1000", "2000"]),
    ]


def _claim(rng: random.Random, policy_no: str) -> list[str]:
    claim_date = _date(rng, dt.date(2022, 1, 1), 700)
    accident = claim_date - dt.timedelta(days=rng.randrange(1, 30))
    injury, prop, vehicle = (rng.randrange(0, 20) * 500 for _ in range(3))
    return [
        str(uuid.UUID(int=rng.getrandbits(128), version=4)), policy_no, claim_date.isoformat(),
        str(rng.randrange(1, 480)), str(injury), str(prop), str(vehicle), str(injury + prop + vehicle),
        "null" if rng.random() < 0.18 else rng.choice(_COLLISION), rng.choice(["1", "4"]),
        f"{rng.randrange(19, 80)}.0", rng.choice(_RELATION),
        _date(rng, dt.date(1980, 1, 1), 12000).strftime("%d-%m-%Y"), accident.isoformat(), str(rng.randrange(24)),
        rng.choice(_TYPES), rng.choice(_SEVERITY), str(rng.randrange(4)), rng.choice(["true", "false"]),
    ]


def landing_folder(data_dir: str | Path, catalog: str) -> Path:
    """Where ``/Volumes/<catalog>/00_landing/sql_server/`` lives in a local workspace."""
    return Path(data_dir) / "volumes" / catalog / "00_landing" / "sql_server"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m flowdef.local.example_data", description=__doc__.split("\n")[0])
    parser.add_argument("--target", default="local", help="a local target of the project config (default: local)")
    parser.add_argument("--data-dir", help="write into this local workspace instead of the target's")
    parser.add_argument("--catalog", help="catalog (default: the target's `catalog` parameter)")
    parser.add_argument("--claims", type=int, default=2000)
    parser.add_argument("--seed", type=int, default=20251205)
    args = parser.parse_args(argv)
    catalog = args.catalog
    data_dir = args.data_dir
    if data_dir is None or catalog is None:
        from flowdef.load.config import load_config

        config = load_config()
        target = config.target(args.target)
        data_dir = data_dir or str(local_data_dir(config, target))
        catalog = catalog or target.params_dict.get("catalog", "smart_claims_dev")
    manifest = generate(landing_folder(data_dir, catalog), claims=args.claims, seed=args.seed)
    print(f"wrote {manifest.bronze_claims} claim rows, {manifest.policies} policies, {manifest.customers} customers "
          f"to {landing_folder(data_dir, catalog)}")
    return 0


def local_data_dir(config: object, target: object) -> Path:
    """A target's local workspace folder: its ``data_dir`` (relative to the project) or ``.flowdef/local/<name>``."""
    root = Path(getattr(config, "root"))
    configured = getattr(target, "data_dir", None)
    return (root / configured) if configured else root / ".flowdef" / "local" / getattr(target, "name")


if __name__ == "__main__":
    raise SystemExit(main())
