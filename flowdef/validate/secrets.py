"""Literal secrets: credentials written into job settings, where every reader of the job (and of the repository)
can see them.  Pure functions used by the reference rules (FD210).

Two signals, both cheap enough to run over every string of a job at the API's maximum of 1,000 tasks:

- the *value* looks like a credential: a Databricks token (``dapi`` + 32 hex), an AWS access key id
  (``AKIA...``), a GitHub/GitLab/Slack token, a JWT, a PEM private key, an Azure account key or SAS signature,
  ``user:password@`` in a URL, or ``password=...`` inside a connection string;
- the *name* says it holds one (``password``, ``db_password``, ``apiKey``, ``client_secret``,
  ``fs.azure.account.key.<account>...``) and the value is a literal, not a ``{{...}}`` reference.

Names are judged by their last word, so ``secret_scope``, ``token_url`` or ``max_tokens`` (which *name* a
secret or merely mention one) are not flagged.
"""

from __future__ import annotations

import re

_VALUE = re.compile(
    r"(?P<databricks_token>\bdapi[0-9a-f]{32}(?:-\d+)?\b)"
    r"|(?P<databricks_oauth_secret>\bdose[0-9a-f]{32}\b)"
    r"|(?P<aws_access_key>\b(?:AKIA|ASIA)[0-9A-Z]{16}\b)"
    r"|(?P<github_token>\b(?:gh[pousr]_[A-Za-z0-9]{36,}|github_pat_[A-Za-z0-9_]{22,}))"
    r"|(?P<gitlab_token>\bglpat-[A-Za-z0-9_\-]{20,})"
    r"|(?P<slack_token>\bxox[abposr]-[A-Za-z0-9\-]{10,})"
    r"|(?P<google_api_key>\bAIza[0-9A-Za-z_\-]{35})"
    r"|(?P<jwt>\beyJ[A-Za-z0-9_\-]{8,}\.eyJ[A-Za-z0-9_\-]{8,}\.[A-Za-z0-9_\-]{8,})"
    r"|(?P<private_key>-----BEGIN (?:[A-Z0-9]+ )*PRIVATE KEY-----)"
    r"|(?P<azure_account_key>AccountKey=[A-Za-z0-9+/]{20,}={0,2})"
    r"|(?P<sas_signature>(?:^|[?&])sig=[A-Za-z0-9%+/]{16,})"
    r"|(?P<url_password>\b[a-z][a-z0-9+.\-]*://[^/\s:@{}]+:[^/\s@{}]+@)"
    r"|(?P<password_assignment>(?<![A-Za-z0-9])(?i:password|passwd|pwd|client_?secret|api_?key|access_?token"
    r"|secret_?key|auth_?token)\s*=\s*(?!\{\{|\$\{|:)[^\s;&,'\"]+)"
)

# Every pattern above needs one of these: a cheap first test, so that ordinary strings cost ~0.3 us
_ANCHOR = re.compile(r"=|://|dapi|dose|AKIA|ASIA|gh[pousr]_|github_pat|glpat|xox|AIza|eyJ|PRIVATE KEY")

_WHAT = {
    "databricks_token": "Databricks personal access token",
    "databricks_oauth_secret": "Databricks OAuth secret",
    "aws_access_key": "AWS access key id",
    "github_token": "GitHub token",
    "gitlab_token": "GitLab token",
    "slack_token": "Slack token",
    "google_api_key": "Google API key",
    "jwt": "JSON web token",
    "private_key": "private key",
    "azure_account_key": "Azure storage account key",
    "sas_signature": "Azure SAS token",
    "url_password": "password inside a URL (user:password@host)",
    "password_assignment": "password in a connection string",
}

_SECRET_WORDS = {"password", "passwd", "pwd", "passphrase", "secret", "token", "apikey", "credential",
                 "credentials", "pat"}
_KEY_QUALIFIERS = {"api", "secret", "private", "account", "encryption", "signing", "master", "storage"}
_WORD_SPLIT = re.compile(r"[^A-Za-z0-9]+|(?<=[a-z0-9])(?=[A-Z])")
_HARMLESS = {"", "true", "false", "none", "null"}


def value_secret(value: str) -> str | None:
    """What kind of credential ``value`` looks like, or None."""
    if len(value) < 8 or not _ANCHOR.search(value):
        return None
    m = _VALUE.search(value)
    return _WHAT[m.lastgroup] if m and m.lastgroup else None


def text_secret(text: str) -> str | None:
    """What kind of credential free text (a description) contains, or None: the value patterns, searched."""
    return value_secret(text)


_NAMES: dict[str, bool] = {}


def secret_name(name: str) -> bool:
    """Does the parameter / setting name say it holds a credential?"""
    known = _NAMES.get(name)
    if known is None:
        if len(_NAMES) > 4096:
            _NAMES.clear()
        known = _NAMES[name] = _secret_name(name)
    return known


def _secret_name(name: str) -> bool:
    words = [w.lower() for w in _WORD_SPLIT.split(name) if w]
    if not words:
        return False
    last = words[-1]
    if last in _SECRET_WORDS:
        return True
    if last == "key" and any(w in _KEY_QUALIFIERS for w in words[:-1]):
        return True
    # Azure: fs.azure.account.key.<account>.dfs.core.windows.net holds the storage account key
    return any(a == "account" and b == "key" for a, b in zip(words, words[1:], strict=False))


def literal_value(value: str) -> bool:
    """A value written as is (not a reference, not empty or a flag)."""
    return "{{" not in value and "${" not in value and value.strip().lower() not in _HARMLESS


def pair_secret(name: str, value: object) -> str | None:
    """Why ``name = value`` leaks a credential, or None."""
    if not isinstance(value, str):
        value = str(value)
    found = value_secret(value)
    if found:
        return f"looks like a literal {found}"
    if secret_name(name) and literal_value(value):
        return "holds a literal value, and its name says it is a credential"
    return None


def argv_pairs(argv: tuple | list) -> list[tuple[str, str]]:
    """``["--password", "x", "--user=y"]`` -> ``[("password", "x"), ("user", "y")]``: the name/value pairs of a
    script's argument list, so that ``job.python_file(params={"password": ...})`` is judged like a dict."""
    pairs = []
    items = [str(a) for a in argv]
    for i, item in enumerate(items):
        if not item.startswith("-"):
            continue
        name = item.lstrip("-")
        if "=" in name:
            name, _, value = name.partition("=")
            pairs.append((name, value))
        elif i + 1 < len(items) and not items[i + 1].startswith("--"):
            pairs.append((name, items[i + 1]))
    return pairs


def argv_names(argv: tuple | list) -> list[str | None]:
    """For each item of a script's argument list, the name it is the value of, or None: ``["--password", "x"]``
    -> ``[None, "password"]``; ``"--password=x"`` is its own value (``argv_pairs``, by position), so that each
    argument is judged like a dict's value (``pair_secret``)."""
    items = [str(a) for a in argv]
    names: list[str | None] = [None] * len(items)
    for i, item in enumerate(items):
        if not item.startswith("-"):
            continue
        name = item.lstrip("-")
        if "=" in name:
            name, _, value = name.partition("=")
            if literal_value(value):  # "--password=" or "--password={{secrets/s/k}}" holds no literal
                names[i] = name
        elif i + 1 < len(items) and not items[i + 1].startswith("--"):
            names[i + 1] = name
    return names


FIX = ("store it in a secret scope (databricks secrets put-secret <scope> <key>) and reference it as "
       "{{secrets/<scope>/<key>}}, or read it at run time with dbutils.secrets.get(<scope>, <key>)")
