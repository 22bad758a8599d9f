"""Shapes of secrets: provider token formats and secret-named keys, as RE2/Python patterns.

One list serves the S001 analyzer (found and masked in bulk SQL) and the report redactor
(every string of every output), so a shape one knows the other knows too.
"""

from __future__ import annotations

from dataclasses import dataclass

MASK = "[REDACTED]"

# Keys whose value is a secret, in query strings, JSON, key=value messages and SQL.
_KEYS = (
    r"pass(?:word|wd)?|pwd|passphrase|secret|client_secret|secret_key|"
    r"(?:access|refresh|id|auth|api|bearer|csrf|xsrf|reset|session)?_?token|"
    r"api[_-]?key|apikey|x-api-key|private[_-]?key|"
    r"session[_-]?id|sessionid|sessid|phpsessid|jsessionid|"
    r"signature|x-amz-signature|x-amz-credential|x-amz-security-token|"
    r"aws_secret_access_key|credentials?"
)
# Group 1: the key and its separator (kept when masking); group 2: the value — a quoted string
# (SQL, JSON) or a run up to the next delimiter of a query string or message.
KEY_VALUE = (
    rf"(?i)((?:^|[^a-z0-9_-])(?:{_KEYS})[\"']?\s*(?:=|:|%3d)\s*)"
    r"('[^']{3,}'|\"[^\"]{3,}\"|[A-Za-z0-9_\-.~+/=%!@#$^*]{4,})"
)
# Values that are placeholders or markers, not secrets.
PLACEHOLDER = (
    r"(null|none|nil|true|false|undefined|redacted|\[redacted\]|x+|\*+|filtered|hidden|"
    r"masked|changeme|password|secret|token|%s|\$\d+|\?+|-+|\.+|:\w+)"
)


@dataclass(frozen=True)
class Shape:
    """One kind of secret: its name, the RE2 pattern that finds it, and what it is."""

    name: str
    pattern: str
    label: str
    # What a match becomes when masked (groups of the pattern may be kept).
    replacement: str = MASK


SHAPES: tuple[Shape, ...] = (
    Shape("private-key", r"-----BEGIN (?:RSA |EC |DSA |OPENSSH |ENCRYPTED )?PRIVATE KEY-----",
          "a PEM private key"),
    Shape("jwt", r"eyJ[A-Za-z0-9_-]{5,}\.eyJ[A-Za-z0-9_-]{5,}\.[A-Za-z0-9_-]{5,}",
          "a JSON Web Token"),
    Shape("url-credentials", r"(?i)\b([a-z][a-z0-9+.-]*://[^/\s:@]+:)[^@\s/]{3,}@",
          "a password inside a URL", replacement=rf"\1{MASK}@"),
    Shape("bearer", r"(?i)\b(bearer|basic)\s+[A-Za-z0-9\-._~+/]{12,}=*",
          "an Authorization header value", replacement=rf"\1 {MASK}"),
    Shape("aws-access-key", r"\b(?:AKIA|ASIA)[A-Z0-9]{16}\b", "an AWS access key id"),
    Shape("github-token", r"\b(?:gh[pousr]_[A-Za-z0-9]{30,}|github_pat_[A-Za-z0-9_]{40,})",
          "a GitHub token"),
    Shape("gitlab-token", r"\bglpat-[A-Za-z0-9_-]{20,}", "a GitLab token"),
    Shape("slack-token", r"\bxox[abposr]-[A-Za-z0-9-]{10,}", "a Slack token"),
    Shape("stripe-key", r"\b(?:sk|rk)_(?:live|test)_[A-Za-z0-9]{16,}", "a Stripe secret key"),
    Shape("openai-key", r"\bsk-(?:proj-|svcacct-)?[A-Za-z0-9_-]{32,}", "an OpenAI API key"),
    Shape("google-api-key", r"\bAIza[0-9A-Za-z_-]{35}", "a Google API key"),
    Shape("google-oauth", r"\bya29\.[0-9A-Za-z_-]{20,}", "a Google OAuth access token"),
    Shape("sendgrid-key", r"\bSG\.[A-Za-z0-9_-]{22}\.[A-Za-z0-9_-]{43}", "a SendGrid API key"),
    Shape("npm-token", r"\bnpm_[A-Za-z0-9]{36}", "an npm token"),
    Shape("twilio-key", r"\bSK[0-9a-f]{32}\b", "a Twilio API key"),
    Shape("azure-storage-key", r"(?i)(AccountKey=)[A-Za-z0-9+/=]{40,}",
          "an Azure storage account key", replacement=rf"\1{MASK}"),
    Shape("key-value", KEY_VALUE, "the value of a secret-named key (password=, token=, api_key=)",
          replacement=rf"\1{MASK}"),
    # Payment cards: 13–19 digits with an issuer prefix; found_sql adds the Luhn check.
    Shape("card-number", r"\b(?:4\d{3}|5[1-5]\d{2}|2[2-7]\d{2}|3[47]\d{2}|6011)(?:[ -]?\d){9,15}\b",
          "a payment card number"),
)  # fmt: skip
