"""redact_url: user info and credential query values masked, the rest of the URL kept readable;
and the same for URLs inside free text (log lines, provider messages)."""

from __future__ import annotations

import pytest

from desktop.core.redaction import (
    MASK,
    forget_secret,
    is_sensitive_param,
    redact_inputs,
    redact_text,
    redact_url,
    register_secret,
)

M = MASK


@pytest.mark.parametrize(("url", "expected"), [
    # user info goes whole: a user name can be a token too (https://TOKEN@host)
    ("https://user:pass@host/img.jpg", f"https://{M}@host/img.jpg"),
    ("https://ghp_abcdef@host/img.jpg", f"https://{M}@host/img.jpg"),
    ("https://us%40er:p%3Ass@host/i.png", f"https://{M}@host/i.png"),
    ("https://a:b@c@host:8443/i.png", f"https://{M}@host:8443/i.png"),
    # S3, CloudFront, GCS signed links
    ("https://b.s3.amazonaws.com/k.jpg?X-Amz-Algorithm=AWS4-HMAC-SHA256"
     "&X-Amz-Credential=AKIA%2F2024&X-Amz-Signature=deadbeef&response-content-type=image%2Fjpeg",
     f"https://b.s3.amazonaws.com/k.jpg?X-Amz-Algorithm={M}&X-Amz-Credential={M}"
     f"&X-Amz-Signature={M}&response-content-type=image%2Fjpeg"),
    ("https://d.cloudfront.net/a.jpg?Policy=eyJ&Signature=abc~&Key-Pair-Id=K2",
     f"https://d.cloudfront.net/a.jpg?Policy={M}&Signature={M}&Key-Pair-Id={M}"),
    ("https://storage.googleapis.com/b/o.png?X-Goog-Signature=ff&X-Goog-Date=20240101&w=1",
     f"https://storage.googleapis.com/b/o.png?X-Goog-Signature={M}&X-Goog-Date={M}&w=1"),
    ("https://storage.googleapis.com/b/o.png?GoogleAccessId=sa%40p&Expires=9&Signature=x",
     f"https://storage.googleapis.com/b/o.png?GoogleAccessId={M}&Expires=9&Signature={M}"),
    # an Azure SAS: every grant field, the signature most of all
    ("https://a.blob.core.windows.net/c/b.jpg?sv=2022-11-02&ss=b&srt=o&sp=r"
     "&se=2030-01-01T00:00:00Z&st=2024-01-01&spr=https&sig=ab%2Bc%3D",
     f"https://a.blob.core.windows.net/c/b.jpg?sv={M}&ss={M}&srt={M}&sp={M}&se={M}&st={M}"
     f"&spr={M}&sig={M}"),
    # generic credential names, any case, percent-encoded names, ';' separators
    ("https://h/i?token=t&api_key=k&apiKey=k&key=k&access_token=a&auth=x&password=p"
     "&secret=s&client_secret=c&sessionid=s&code=oauth&w=512",
     f"https://h/i?token={M}&api_key={M}&apiKey={M}&key={M}&access_token={M}&auth={M}"
     f"&password={M}&secret={M}&client_secret={M}&sessionid={M}&code={M}&w=512"),
    ("https://h/i?TOKEN=t&X%2DAmz%2DSignature=s&acc%65ss_token=a",
     f"https://h/i?TOKEN={M}&X%2DAmz%2DSignature={M}&acc%65ss_token={M}"),
    ("https://h/i?%73ig=s&%6Bey=k&s%65=2030&w%69dth=5",
     f"https://h/i?%73ig={M}&%6Bey={M}&s%65={M}&w%69dth=5"),
    ("https://h/i?a=1;sig=2;b=3", f"https://h/i?a=1;sig={M};b=3"),
    # what is not a credential stays as it was, encoding, order and empty values included
    ("https://h/i.jpg?width=512&author=me&q=a%20b+c&flag&empty=&token=",
     "https://h/i.jpg?width=512&author=me&q=a%20b+c&flag&empty=&token="),
    # no query, an empty query, a bare name
    ("https://h/path/i.jpg", "https://h/path/i.jpg"),
    ("https://h/i.jpg?", "https://h/i.jpg?"),
    ("https://h/i.jpg?token", "https://h/i.jpg?token"),
    # IPv6 hosts and ports are kept
    ("http://[::1]:8080/i.png?sig=s&w=2", f"http://[::1]:8080/i.png?sig={M}&w=2"),
    ("http://u:p@[2001:db8::7]/i.png", f"http://{M}@[2001:db8::7]/i.png"),
    # fragments: plain ones kept, name=value ones treated like a query
    ("https://h/i.png?w=1#section-2", "https://h/i.png?w=1#section-2"),
    ("https://h/cb#access_token=xyz&state=1", f"https://h/cb#access_token={M}&state=1"),
    ("https://h/i.png?token=a#token=b", f"https://h/i.png?token={M}#token={M}"),
    # a value that holds '=' or '?' is masked whole
    ("https://h/i?sig=a=b?c&w=1", f"https://h/i?sig={M}&w=1"),
])
def test_redact_url(url: str, expected: str) -> None:
    assert redact_url(url) == expected
    assert redact_url(expected) == expected  # idempotent


@pytest.mark.parametrize("text", [
    "", "/home/me/photo.jpg", "C:\\Users\\me\\photo?.jpg", "/tmp/a?token=1.jpg",
    "data:image/png;base64,iVBORw0KGgo=", "photo.jpg", "mailto:me@example.com?subject=x",
])
def test_text_that_is_no_url_with_a_host_is_left_alone(text: str) -> None:
    assert redact_url(text) == text


def test_registered_secrets_are_masked_anywhere_in_a_url() -> None:
    register_secret("sk-PATH-SECRET-9")
    try:
        assert redact_url("https://h/v1/sk-PATH-SECRET-9/i.png?w=1") == f"https://h/v1/{M}/i.png?w=1"
    finally:
        forget_secret("sk-PATH-SECRET-9")


@pytest.mark.parametrize("name", ["sig", "X-Amz-Security-Token", "x-goog-credential", "Policy",
                                  "key-pair-id", "se", "sp", "sv", "skoid", "refresh_token",
                                  "id_token", "jwt", "passwd", "pwd", "hmac", "sharedKey",
                                  "x-auth", "Authorization", "AWSAccessKeyId"])
def test_sensitive_param_names(name: str) -> None:
    assert is_sensitive_param(name)


@pytest.mark.parametrize("name", ["w", "width", "format", "author", "authority", "page",
                                  "response-content-type", "v", "size", "Expires", "q"])
def test_ordinary_param_names(name: str) -> None:
    assert not is_sensitive_param(name)


def test_urls_in_free_text_are_redacted_and_punctuation_kept() -> None:
    text = ("Could not download https://u:p@h.example/x.jpg?X-Amz-Signature=abc&w=2. "
            "(see https://h.example/y?sig=1), then <https://h.example/z?token=q>")
    out = redact_text(text)
    assert out == (f"Could not download https://{M}@h.example/x.jpg?X-Amz-Signature={M}&w=2. "
                   f"(see https://h.example/y?sig={M}), then <https://h.example/z?token={M}>")
    assert redact_text(out) == out
    assert "abc" not in out and "u:p" not in out


def test_a_log_line_with_headers_and_a_url() -> None:
    line = "GET http://127.0.0.1:5/r?Signature=zz -> 200 headers={'x-api-key': '[REDACTED]'}"
    assert redact_text(line) == (
        f"GET http://127.0.0.1:5/r?Signature={M} -> 200 headers={{'x-api-key': '{M}'}}")


def test_redact_inputs_for_the_history() -> None:
    """What the engine stores as JobSpec.inputs: URLs redacted, paths kept, order kept."""
    inputs = {"person": ["/home/me/p.jpg"],
              "garment": ["https://u:p@cdn.example/g1.png?sig=abc&w=1", "C:\\g2.png",
                          "https://cdn.example/g3.png"]}
    assert redact_inputs(inputs) == {
        "person": ["/home/me/p.jpg"],
        "garment": [f"https://{M}@cdn.example/g1.png?sig={M}&w=1", "C:\\g2.png",
                    "https://cdn.example/g3.png"]}
    assert inputs["garment"][0].startswith("https://u:p@")  # the caller's copy is untouched
    assert redact_inputs({}) == {}
