"""C2PA: exports signed with a certificate made at test time verify with the same library,
record the job's facts, the parent photo and the components, fail once a byte changes, and a
bad certificate or key is refused with a sentence."""

from __future__ import annotations

import io
import json
import os
import shutil
import struct
import subprocess
import sys
import zlib
from pathlib import Path
from typing import Any

import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.x509.oid import ExtendedKeyUsageOID
from PIL import Image

from desktop.core import png
from desktop.core.exports import c2pa_signing as cs
from desktop.core.exports import provenance as pv
from desktop.core.model import InvalidInput
from tests.core.exports import certs
from tests.core.exports.test_provenance import (
    COMPOSITE,
    GENERATED,
    SECRET_PARAMS,
    encode,
    facts_for,
    job,
    pixels,
)

FORMATS = [("png", "PNG"), ("jpeg", "JPEG"), ("webp", "WEBP")]


@pytest.fixture(scope="module")
def pki(tmp_path_factory: pytest.TempPathFactory) -> certs.Pki:
    return certs.Pki.make(tmp_path_factory.mktemp("pki"))


@pytest.fixture(scope="module")
def signer(pki: certs.Pki) -> cs.C2paSigner:
    chain, key, _ = pki.issue("main")
    return cs.C2paSigner.from_files(chain, key)


def photo(color: tuple[int, int, int], fmt: str = "JPEG") -> bytes:
    buf = io.BytesIO()
    Image.new("RGB", (32, 24), color).save(buf, fmt)
    return buf.getvalue()


PERSON = ("me.jpg", photo((200, 150, 120)))
GARMENT = ("dress.png", photo((20, 20, 200), "PNG"))


def signed_export(signer: cs.C2paSigner, fmt: str, pil: str, facts: pv.Provenance,
                  **ingredients: Any) -> tuple[bytes, bytes]:
    embedded = pv.embed(encode(pil), fmt, facts)
    return embedded, signer.sign(embedded, fmt, facts, title=f"out.{fmt}", **ingredients)


# --- signing and verifying --------------------------------------------------------------------


@pytest.mark.parametrize("fmt, pil", FORMATS)
def test_signed_export_verifies_with_the_same_library(signer: cs.C2paSigner, pki: certs.Pki,
                                                      fmt: str, pil: str) -> None:
    facts = facts_for(job())
    embedded, signed = signed_export(signer, fmt, pil, facts, parent=PERSON,
                                     components=[GARMENT])
    assert pixels(signed) == pixels(embedded)

    report = cs.verify(signed, fmt)
    assert report.present and report.signature_valid, report
    assert report.errors == ()
    # The test root is on no trust list: the library says so, and the report keeps it apart
    # from the signature, which is valid.
    assert report.state == "Valid" and report.untrusted and not report.trusted
    assert "not on the trust list" in report.message
    assert report.signer == "Restyle signer main"
    assert report.signed_at is None  # no timestamp authority was asked

    assert report.facts == facts.to_dict()
    assert report.digital_source_type == COMPOSITE
    assert report.actions == ("c2pa.opened", "c2pa.placed", "c2pa.edited")
    assert sorted(report.ingredients) == [("dress.png", "componentOf"), ("me.jpg", "parentOf")]

    # Given the test root as an anchor, the same file is trusted.
    anchored = cs.verify(signed, fmt, trust_anchors_pem=pki.root_pem)
    assert anchored.state == "Trusted" and anchored.trusted and not anchored.untrusted

    # The metadata written before signing is still there and still readable.
    found = pv.read_back(signed)["facts"]
    assert found["job_id"] == facts.job_id and found["digital_source_type"] == COMPOSITE


def test_a_generated_image_is_created_not_edited(signer: cs.C2paSigner) -> None:
    facts = facts_for(job(provider="vtryon", task="recolor", inputs={}))
    _, signed = signed_export(signer, "png", "PNG", facts)
    report = cs.verify(signed, "png")
    assert report.signature_valid
    assert report.actions == ("c2pa.created",)
    assert report.digital_source_type == GENERATED
    assert report.ingredients == ()


def test_offline_work_declares_no_ai_source_type(signer: cs.C2paSigner) -> None:
    facts = facts_for(job(provider="local", task="recolor", inputs={"image": ["/x/a.png"]}), 0,
                      offline=True)
    _, signed = signed_export(signer, "jpeg", "JPEG", facts, parent=("a.png", GARMENT[1]))
    report = cs.verify(signed, "jpeg")
    assert report.signature_valid
    assert report.actions == ("c2pa.opened", "c2pa.edited")
    assert report.digital_source_type is None
    assert report.ingredients == (("a.png", "parentOf"),)


def test_an_ingredient_the_library_cannot_read_is_declared_by_name(
        signer: cs.C2paSigner) -> None:
    bmp = ("scan.bmp", photo((1, 2, 3), "BMP"))
    _, signed = signed_export(signer, "png", "PNG", facts_for(job()), parent=PERSON,
                              components=[bmp, ("/home/ann/secret folder/g.png", GARMENT[1])])
    report = cs.verify(signed, "png")
    assert report.signature_valid
    assert sorted(report.ingredients) == [("g.png", "componentOf"), ("me.jpg", "parentOf"),
                                          ("scan.bmp", "componentOf")]
    assert b"/home/ann" not in signed and b"secret folder" not in signed


@pytest.mark.parametrize("fmt, pil", FORMATS)
def test_no_secret_path_or_key_material_in_the_signed_file(signer: cs.C2paSigner,
                                                           fmt: str, pil: str) -> None:
    facts = facts_for(job(params=SECRET_PARAMS))
    _, signed = signed_export(signer, fmt, pil, facts, parent=PERSON)
    for leak in ("plain-value-under-a-key-name", "AKIAIOSFODNN7EXAMPLE", "/home/", "t0k3n"):
        assert leak.encode() not in signed, leak
    key_body = b"".join(signer.private_key_pem.splitlines()[1:-1])
    assert key_body[:40] not in signed
    assert "PRIVATE" not in repr(signer) and "cert_chain_pem" not in repr(signer)


def _fix_png_crc(data: bytearray) -> None:
    pos = len(png.SIGNATURE)
    while pos < len(data):
        (length,) = struct.unpack(">I", data[pos:pos + 4])
        body = bytes(data[pos + 4:pos + 8 + length])
        data[pos + 8 + length:pos + 12 + length] = struct.pack(">I", zlib.crc32(body))
        pos += 12 + length


def tamper_pixels(data: bytes, fmt: str) -> bytes:
    """One byte of the picture itself changed, the container kept well formed."""
    out = bytearray(data)
    if fmt == "png":
        idat = data.index(b"IDAT") + 4
        out[idat + 20] ^= 0x01
        _fix_png_crc(out)
    elif fmt == "jpeg":
        out[len(out) - 10] ^= 0x01  # inside the entropy-coded scan, before EOI
    else:
        vp8 = data.index(b"VP8 ") + 8
        out[vp8 + 30] ^= 0x01
    return bytes(out)


@pytest.mark.parametrize("fmt, pil", FORMATS)
def test_tampered_bytes_fail_verification(signer: cs.C2paSigner, fmt: str, pil: str) -> None:
    _, signed = signed_export(signer, fmt, pil, facts_for(job()), parent=PERSON)
    assert cs.verify(signed, fmt).signature_valid

    pixels_changed = cs.verify(tamper_pixels(signed, fmt), fmt)
    assert pixels_changed.present and not pixels_changed.signature_valid
    assert any("dataHash.mismatch" in error for error in pixels_changed.errors), pixels_changed
    assert "does not verify" in pixels_changed.message

    # Metadata edited after signing is caught too (same length, so the layout holds).
    relabelled = signed.replace(b"<restyle:Provider>fitinview<",
                                b"<restyle:Provider>fitinvieW<")
    assert relabelled != signed
    if fmt == "png":
        relabelled_buf = bytearray(relabelled)
        _fix_png_crc(relabelled_buf)
        relabelled = bytes(relabelled_buf)
    assert not cs.verify(relabelled, fmt).signature_valid

    # A byte of the manifest itself.
    manifest_at = signed.index(b"c2pa.signature")
    broken = bytearray(signed)
    broken[manifest_at + 200] ^= 0xFF
    if fmt == "png":
        _fix_png_crc(broken)
    assert not cs.verify(bytes(broken), fmt).signature_valid


def test_a_file_without_a_manifest(signer: cs.C2paSigner) -> None:
    report = cs.verify(pv.embed(encode("PNG"), "png", facts_for(job())), "png")
    assert not report.present and not report.signature_valid
    assert report.message == "This file has no C2PA manifest."


@pytest.mark.parametrize("kind, algorithm", [("p256", "es256"), ("p384", "es384"),
                                             ("rsa", "ps256"), ("ed25519", "ed25519")])
def test_the_algorithm_follows_the_key(pki: certs.Pki, kind: str, algorithm: str) -> None:
    chain, key, _ = pki.issue(f"alg-{kind}", kind)
    signer = cs.C2paSigner.from_files(chain, key)
    assert signer.algorithm == algorithm
    _, signed = signed_export(signer, "jpeg", "JPEG", facts_for(job()), parent=PERSON)
    report = cs.verify(signed, "jpeg", trust_anchors_pem=pki.root_pem)
    assert report.trusted, report


def test_traditional_pem_keys_are_accepted(pki: certs.Pki, tmp_path: Path) -> None:
    for kind in ("p256", "rsa"):  # "EC PRIVATE KEY" and "RSA PRIVATE KEY"
        chain, _, key = pki.issue(f"trad-{kind}", kind)
        key_file = tmp_path / f"{kind}.pem"
        key_file.write_bytes(certs.key_pem(key, serialization.PrivateFormat.TraditionalOpenSSL))
        assert b"BEGIN PRIVATE KEY" not in key_file.read_bytes()
        signer = cs.C2paSigner.from_files(chain, key_file)
        _, signed = signed_export(signer, "png", "PNG", facts_for(job()))
        assert cs.verify(signed, "png").signature_valid


# --- no network -------------------------------------------------------------------------------


def test_signing_works_with_no_network_at_all(pki: certs.Pki, tmp_path: Path) -> None:
    """Sign and verify in a process whose only network interface is its own loopback (a new
    network namespace, left down): nothing outside could be reached."""
    unshare = shutil.which("unshare")
    if unshare is None or subprocess.run([unshare, "-rn", "true"],
                                         capture_output=True).returncode != 0:
        pytest.skip("cannot make a process without network here (unshare -rn)")
    chain, key, _ = pki.issue("offline")
    script = f"""
import socket, sys
from pathlib import Path
assert [name for _, name in socket.if_nameindex()] == ["lo"], socket.if_nameindex()
sys.path.insert(0, {str(Path(__file__).resolve().parents[3])!r})
from tests.core.exports.test_provenance import encode, facts_for, job
from desktop.core.exports import c2pa_signing as cs, provenance as pv
signer = cs.C2paSigner.from_files(Path({str(chain)!r}), Path({str(key)!r}))
facts = facts_for(job())
out = signer.sign(pv.embed(encode("JPEG"), "jpeg", facts), "jpeg", facts)
report = cs.verify(out, "jpeg")
print("VALID" if report.signature_valid else report.message)
"""
    done = subprocess.run([unshare, "-rn", sys.executable, "-c", script], capture_output=True,
                          text=True, timeout=120, env=os.environ | {"PYTHONPATH": ""})
    assert done.stdout.strip() == "VALID", done.stderr


def test_an_unreachable_timestamp_authority_is_a_sentence(pki: certs.Pki) -> None:
    import socket

    with socket.socket() as probe:  # a loopback port nothing listens on
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    chain, key, _ = pki.issue("tsa")
    url = f"http://127.0.0.1:{port}/tsa"
    signer = cs.C2paSigner.from_files(chain, key, tsa_url=url)
    facts = facts_for(job())
    with pytest.raises(InvalidInput, match=f"timestamp authority {url} did not answer"):
        signer.sign(pv.embed(encode("PNG"), "png", facts), "png", facts)


# --- refusals ---------------------------------------------------------------------------------

CERT_HELP = "choose the PEM file your certificate authority gave you in Settings > Export."
KEY_HELP = "choose the PEM key file that belongs to your certificate in Settings > Export."


def refused(chain: Path, key: Path) -> str:
    with pytest.raises(InvalidInput) as caught:
        cs.C2paSigner.from_files(chain, key)
    return str(caught.value)


def test_missing_and_unreadable_files(pki: certs.Pki, tmp_path: Path) -> None:
    chain, key, _ = pki.issue("files")
    missing = tmp_path / "nowhere.pem"
    assert refused(missing, key) == (
        f"The C2PA certificate {missing} could not be read: there is no such file; {CERT_HELP}")
    assert refused(chain, missing) == (
        f"The C2PA private key {missing} could not be read: there is no such file; {KEY_HELP}")
    assert refused(tmp_path, key).startswith(f"The C2PA certificate {tmp_path} could not be "
                                             "read: it is not a file;")
    text = tmp_path / "notes.txt"
    text.write_text("hello")
    assert "it holds no PEM certificate" in refused(text, key)
    assert "it holds no PEM private key" in refused(chain, text)
    damaged = tmp_path / "damaged.pem"
    damaged.write_bytes(b"-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----\n")
    assert "a certificate in it is damaged" in refused(damaged, key)


@pytest.mark.parametrize("name, options, phrase", [
    ("expired", {"days": (-30, -1)}, "it expired on "),
    ("future", {"days": (2, 30)}, "it is valid only from "),
    ("no-eku", {"ekus": None}, "its extended key usage needs emailProtection or "
                               "documentSigning"),
    ("server-eku", {"ekus": (ExtendedKeyUsageOID.SERVER_AUTH,)}, "not issued for signing"),
    ("any-eku", {"ekus": (ExtendedKeyUsageOID.ANY_EXTENDED_KEY_USAGE,
                          ExtendedKeyUsageOID.EMAIL_PROTECTION)}, "not issued for signing"),
    ("no-signature", {"digital_signature": False}, "does not allow digital signatures"),
    ("ca-first", {"ca": True}, "is a certificate authority's, not yours"),
])
def test_certificates_c2pa_would_reject(pki: certs.Pki, name: str, options: dict[str, Any],
                                        phrase: str) -> None:
    chain, key, _ = pki.issue(name, **options)
    message = refused(chain, key)
    assert message.startswith(f"The C2PA certificate {chain} could not be read: ")
    assert phrase in message and message.endswith(CERT_HELP)


def test_a_self_signed_certificate_is_refused(pki: certs.Pki, tmp_path: Path) -> None:
    key = certs.new_key()
    cert = certs.certificate(key, issuer_key=key, issuer=certs._name("Me"), subject="Me")
    chain = tmp_path / "self.pem"
    chain.write_bytes(certs.pem(cert))
    key_file = tmp_path / "self.key"
    key_file.write_bytes(certs.key_pem(key))
    assert "it is self-signed; C2PA needs a certificate issued by a certificate authority" \
        in refused(chain, key_file)


def test_keys_that_cannot_sign(pki: certs.Pki, tmp_path: Path) -> None:
    chain, _, key = pki.issue("keys")
    other_chain, other_key_file, _ = pki.issue("other")
    message = refused(chain, other_key_file)
    assert message == (f"The C2PA private key {other_key_file} could not be read: it does not "
                       f"belong to the certificate of Restyle signer keys; {KEY_HELP}")

    locked = tmp_path / "locked.pem"
    locked.write_bytes(certs.key_pem(key, password=b"pw"))
    assert "it is protected by a password" in refused(chain, locked)

    for kind, phrase in (("k256", "elliptic curve secp256k1 is not one C2PA signs with"),
                         ("rsa1024", "its RSA key has 1024 bits; C2PA needs at least 2048")):
        weak_chain, weak_key, _ = pki.issue(f"weak-{kind}", kind)
        message = refused(weak_chain, weak_key)
        assert message.startswith(f"The C2PA private key {weak_key} could not be read: ")
        assert phrase in message and message.endswith(KEY_HELP)
    assert other_chain.exists()


def test_a_format_c2pa_signing_does_not_take(signer: cs.C2paSigner) -> None:
    facts = facts_for(job())
    with pytest.raises(InvalidInput, match="Cannot sign a 'gif' file with C2PA"):
        signer.sign(b"GIF89a", "gif", facts)
    with pytest.raises(InvalidInput, match=r"Could not sign out\.png with the C2PA certificate "
                                           r"of Restyle signer main: .*Settings > Export"):
        signer.sign(b"\x89PNG\r\n\x1a\nnot really", "png", facts, title="/tmp/x/out.png")


# --- choosing ingredients ---------------------------------------------------------------------


def test_split_ingredients_picks_the_photo_that_was_edited() -> None:
    person, garment, garment2 = ("p.jpg", b"p"), ("g.png", b"g"), ("g2.png", b"g2")
    assert cs.split_ingredients({"garment": [garment, garment2], "person": [person]}) == (
        person, [garment, garment2])
    room = ("room.jpg", b"r")
    assert cs.split_ingredients({"room": [room]}) == (room, [])
    fabric = ("fabric.jpg", b"f")
    assert cs.split_ingredients({"garment": [garment], "image": [fabric]}) == (
        fabric, [garment])
    assert cs.split_ingredients({"garment": [garment]}) == (None, [garment])
    assert cs.split_ingredients({}) == (None, [])


def test_manifest_definition_is_plain_json() -> None:
    facts = facts_for(job(params=SECRET_PARAMS))
    manifest = cs.manifest_definition(facts, title="t.png", parent="parent",
                                      components=["component-1"])
    assert json.loads(json.dumps(manifest)) == manifest
    labels = [a["label"] for a in manifest["assertions"]]
    assert labels == ["c2pa.actions.v2", cs.RESTYLE_ASSERTION]


@pytest.mark.parametrize("fmt, pil", FORMATS)
def test_writing_metadata_again_drops_the_stale_manifest(signer: cs.C2paSigner, fmt: str,
                                                         pil: str) -> None:
    """A manifest binds the bytes it was made for: after new metadata it would only claim the
    file was tampered with, so `embed` removes it and the file can be signed again."""
    facts = facts_for(job())
    embedded, signed = signed_export(signer, fmt, pil, facts, parent=PERSON)
    again = pv.embed(signed, fmt, facts_for(job(params={"scale": 0.5})))
    assert pixels(again) == pixels(embedded)
    assert not cs.verify(again, fmt).present
    assert b"c2pa.signature" not in again
    resigned = signer.sign(again, fmt, facts)
    report = cs.verify(resigned, fmt)
    assert report.signature_valid and report.facts == facts.to_dict()
