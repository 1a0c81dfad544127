"""C2PA manifests for exported images: sign with the user's certificate, verify what was signed.

The manifest records what provenance.py writes into the file's metadata: a `c2pa.actions.v2`
assertion (`c2pa.opened` of the original photo then `c2pa.edited`, or `c2pa.created` for an
image made from nothing, with the IPTC digital source type, and `c2pa.placed` for each garment
or other component), a `restyle.provenance` assertion with the facts of `Provenance`, the
original photo as the `parentOf` ingredient and the other inputs as `componentOf` ingredients.

Signing needs an X.509 certificate chain and its private key as PEM files (what a certificate
authority issues for S/MIME e-mail or document signing): the end-entity certificate first, its
key usage allowing digital signatures, an extended key usage of emailProtection,
documentSigning or C2PA signing, issued by a CA (not self-signed), valid now. Keys: ECDSA
P-256/P-384/P-521 (ES256/ES384/ES512), RSA (PS256) or Ed25519. Nothing goes over the network
unless a timestamp authority URL is given.

Run `provenance.embed` first and `C2paSigner.sign` last: the manifest binds the file's bytes,
so any later change makes verification fail. The c2pa library is loaded on first use.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import io
import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path, PurePosixPath, PureWindowsPath
from typing import Any

from desktop.core import imaging, redaction
from desktop.core.exports import provenance
from desktop.core.model import InvalidInput

#: The label of Restyle's own assertion in the manifest.
RESTYLE_ASSERTION = "restyle.provenance"
#: Declared on `c2pa.created` when no source type applies (the offline provider's pixel
#: operations given no parent photo): C2PA requires one there, and no trained model took part.
ALGORITHMIC_MEDIA = provenance.IPTC_SOURCE_TYPES + "algorithmicMedia"
#: Input roles whose first image is the parent (the photo that was edited), in this order;
#: every other input image is a component.
PARENT_ROLES = ("person", "room", "image")

_MIME = {"png": "image/png", "jpeg": "image/jpeg", "jpg": "image/jpeg", "webp": "image/webp"}
_MAX_PEM_BYTES = 1 << 20
_CERT_HELP = "choose the PEM file your certificate authority gave you in Settings > Export"
_KEY_HELP = "choose the PEM key file that belongs to your certificate in Settings > Export"

# Extended key usages a C2PA claim signer may have (c2pa-rs's list, minus timestamping/OCSP).
_EKU_EMAIL = "1.3.6.1.5.5.7.3.4"
_EKU_DOCUMENT_SIGNING = "1.3.6.1.5.5.7.3.36"
_EKU_MS_C2PA = "1.3.6.1.4.1.311.76.59.1.9"
_EKU_C2PA = "1.3.6.1.4.1.62558.2.1"
_SIGNING_EKUS = {_EKU_EMAIL, _EKU_DOCUMENT_SIGNING, _EKU_MS_C2PA, _EKU_C2PA}
_ANY_EKU = "2.5.29.37.0"

_SETTINGS: dict[str, Any] = {
    "verify": {"remote_manifest_fetch": False, "ocsp_fetch": False},
    # A thumbnail would put a hidden copy of every input photo into the export.
    "builder": {"thumbnail": {"enabled": False}},
}


def _c2pa() -> Any:
    try:
        import c2pa
    except (ImportError, OSError) as exc:
        raise InvalidInput(
            f"C2PA signing is not available on this computer ({exc}); reinstall Restyle or "
            "export without C2PA.") from None
    return c2pa


def _context(c2pa: Any, facts: provenance.Provenance | None = None,
             trust_anchors_pem: bytes | None = None) -> Any:
    settings = json.loads(json.dumps(_SETTINGS))
    if facts is not None:
        settings["builder"]["claim_generator_info"] = {
            "name": "Restyle", "version": facts.restyle_version}
    if trust_anchors_pem:
        settings["trust"] = {"user_anchors": trust_anchors_pem.decode("ascii", "replace")}
    return c2pa.Context.from_dict(settings)


def _mime(fmt: str) -> str:
    try:
        return _MIME[fmt.lower()]
    except KeyError:
        raise InvalidInput(f"Cannot sign a '{fmt}' file with C2PA: choose PNG, JPEG or WebP.") \
            from None


def _library_reason(exc: Exception) -> str:
    """The c2pa library's message without its error-class prefix ("Signature: ...")."""
    text = redaction.redact_text(str(exc)).strip() or type(exc).__name__
    head, sep, rest = text.partition(": ")
    if sep and head.replace(" ", "").isalpha() and len(head) < 30:
        text = rest
    return " ".join(text.split()).rstrip(".")


# ---------------------------------------------------------------------------------------------
# The signer


def _read_pem(path: Path, what: str, help_text: str) -> bytes:
    def fail(reason: str) -> InvalidInput:
        return InvalidInput(f"The C2PA {what} {path} could not be read: {reason}; {help_text}.")

    try:
        if not path.is_file():
            raise fail("there is no such file" if not path.exists() else "it is not a file")
        with path.open("rb") as handle:
            data = handle.read(_MAX_PEM_BYTES + 1)
    except OSError as exc:
        raise fail(exc.strerror or str(exc)) from None
    if len(data) > _MAX_PEM_BYTES:
        raise fail("it is far too large to be a PEM file")
    return data


@dataclass(frozen=True)
class C2paSigner:
    """A certificate chain and its private key, checked and ready to sign with.

    `algorithm` is the C2PA signing algorithm the key calls for ("es256", "es384", "es512",
    "ps256" or "ed25519"). The key is held as unencrypted PKCS#8 PEM (what the c2pa library
    takes) and never shown in `repr`."""

    cert_chain_pem: bytes = field(repr=False)
    private_key_pem: bytes = field(repr=False)
    algorithm: str
    subject: str
    not_after: str
    tsa_url: str | None = None

    @classmethod
    def from_files(cls, cert_chain_pem: Path, private_key_pem: Path, *,
                   tsa_url: str | None = None,
                   now: dt.datetime | None = None) -> C2paSigner:
        """Load and check a PEM certificate chain (end-entity certificate first) and its PEM
        private key. Raises InvalidInput with a sentence naming the file and what is wrong:
        missing, unreadable, not PEM, password-protected, expired or not yet valid,
        self-signed, not meant for signing, an unsupported key type, or a key that does not
        belong to the certificate. `tsa_url` (an RFC 3161 timestamp authority) is the only
        thing that makes signing use the network."""
        cert_data = _read_pem(Path(cert_chain_pem), "certificate", _CERT_HELP)
        key_data = _read_pem(Path(private_key_pem), "private key", _KEY_HELP)
        return cls.from_pem(cert_data, key_data, cert_name=str(cert_chain_pem),
                            key_name=str(private_key_pem), tsa_url=tsa_url, now=now)

    @classmethod
    def from_pem(cls, cert_chain: bytes, private_key: bytes, *, cert_name: str = "",
                 key_name: str = "", tsa_url: str | None = None,
                 now: dt.datetime | None = None) -> C2paSigner:
        """As `from_files`, from the files' contents; the names are for the sentences."""
        from cryptography import x509
        from cryptography.exceptions import UnsupportedAlgorithm
        from cryptography.hazmat.primitives import serialization

        def cert_fail(reason: str) -> InvalidInput:
            name = f" {cert_name}" if cert_name else ""
            return InvalidInput(
                f"The C2PA certificate{name} could not be read: {reason}; {_CERT_HELP}.")

        def key_fail(reason: str) -> InvalidInput:
            name = f" {key_name}" if key_name else ""
            return InvalidInput(
                f"The C2PA private key{name} could not be read: {reason}; {_KEY_HELP}.")

        if b"-----BEGIN CERTIFICATE-----" not in cert_chain:
            raise cert_fail("it holds no PEM certificate (-----BEGIN CERTIFICATE-----)")
        try:
            chain = x509.load_pem_x509_certificates(cert_chain)
        except ValueError:
            raise cert_fail("a certificate in it is damaged") from None
        leaf = chain[0]
        _check_leaf(leaf, now or dt.datetime.now(dt.UTC), cert_fail)

        if b"ENCRYPTED" in private_key:
            raise key_fail("it is protected by a password; save it without one (for example "
                           "`openssl pkey -in KEY -out KEY.pem`)")
        if b"PRIVATE KEY-----" not in private_key:
            raise key_fail("it holds no PEM private key (-----BEGIN PRIVATE KEY-----)")
        try:
            key = serialization.load_pem_private_key(private_key, password=None)
        except TypeError:
            raise key_fail("it is protected by a password; save it without one") from None
        except UnsupportedAlgorithm:
            raise key_fail("its key type is not one C2PA signs with") from None
        except ValueError:
            raise key_fail("it is damaged or of a kind Restyle cannot read") from None
        algorithm = _algorithm(key, key_fail)
        public = serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo
        if key.public_key().public_bytes(*public) != leaf.public_key().public_bytes(*public):
            subject = _common_name(leaf)
            raise key_fail(f"it does not belong to the certificate of {subject}")
        pkcs8 = key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                  serialization.NoEncryption())
        pem_chain = b"".join(c.public_bytes(serialization.Encoding.PEM) for c in chain)
        return cls(cert_chain_pem=pem_chain, private_key_pem=pkcs8, algorithm=algorithm,
                   subject=_common_name(leaf),
                   not_after=leaf.not_valid_after_utc.strftime("%Y-%m-%dT%H:%M:%SZ"),
                   tsa_url=tsa_url or None)

    def sign(self, data: bytes, fmt: str, facts: provenance.Provenance, *,
             parent: tuple[str, bytes] | None = None,
             components: Sequence[tuple[str, bytes]] = (),
             title: str | None = None) -> bytes:
        """`data` (an encoded PNG, JPEG or WebP, metadata already embedded) with a signed
        C2PA manifest recording `facts`, `parent` (name, bytes: the photo that was edited) as
        the parentOf ingredient and `components` (garments, ...) as componentOf ingredients.
        `title` names the exported file in the manifest. Raises InvalidInput with a sentence
        when the library refuses."""
        c2pa = _c2pa()
        mime = _mime(fmt)
        title = _base_name(title) if title else f"restyle-{facts.job_id[:8]}"
        supported = set(c2pa.Builder.get_supported_mime_types())
        streamed: list[tuple[dict[str, Any], str, bytes]] = []
        declared: list[dict[str, Any]] = []
        labels: list[str] = []
        pieces = ([(parent, "parentOf")] if parent else []) + \
            [(piece, "componentOf") for piece in components]
        for number, ((name, content), relationship) in enumerate(pieces):
            label = "parent" if relationship == "parentOf" else f"component-{number}"
            labels.append(label)
            kind = imaging.sniff_mime(content) or "application/octet-stream"
            ingredient = {"title": _base_name(name) or label, "relationship": relationship,
                          "label": label}
            if kind in supported:
                streamed.append((ingredient, kind, content))
            else:  # declared by name and format alone: the library cannot read it
                declared.append(ingredient | {"format": kind})
        manifest = manifest_definition(facts, title=title, parent="parent" if parent else None,
                                       components=[x for x in labels if x != "parent"],
                                       declared=declared)
        try:
            with _context(c2pa, facts) as ctx, c2pa.Builder(manifest, ctx) as builder:
                for ingredient, kind, content in streamed:
                    builder.add_ingredient(ingredient, kind, io.BytesIO(content))
                info = c2pa.C2paSignerInfo(self.algorithm.encode("ascii"), self.cert_chain_pem,
                                           self.private_key_pem, self.tsa_url)
                with c2pa.Signer.from_info(info) as signer:
                    out = io.BytesIO()
                    builder.sign(signer, mime, io.BytesIO(data), out)
        except c2pa.C2paError as exc:
            reason = _library_reason(exc)
            if self.tsa_url and ("http" in reason.lower() or self.tsa_url in reason):
                raise InvalidInput(
                    f"Could not sign {title}: the timestamp authority {self.tsa_url} did not "
                    f"answer ({reason}). Check its address in Settings > Export, leave it "
                    "empty to sign without a timestamp, or try again later.") from None
            raise InvalidInput(
                f"Could not sign {title} with the C2PA certificate of {self.subject}: "
                f"{reason}. Check the certificate and key in Settings > Export, or export "
                "without C2PA.") from None
        return out.getvalue()


def _common_name(cert: Any) -> str:
    from cryptography.x509.oid import NameOID

    names = cert.subject.get_attributes_for_oid(NameOID.COMMON_NAME)
    text = str(names[0].value) if names else cert.subject.rfc4514_string()
    return provenance.safe_text(text, 200) or "an unnamed subject"


def _check_leaf(leaf: Any, now: dt.datetime, fail: Any) -> None:
    """Refuse an end-entity certificate C2PA validators reject (see the module's docstring)."""
    from cryptography import x509

    day = "%Y-%m-%d"
    if leaf.not_valid_after_utc < now:
        raise fail(f"it expired on {leaf.not_valid_after_utc.strftime(day)}")
    if leaf.not_valid_before_utc > now:
        raise fail(f"it is valid only from {leaf.not_valid_before_utc.strftime(day)}")
    if leaf.issuer == leaf.subject:
        raise fail("it is self-signed; C2PA needs a certificate issued by a certificate "
                   "authority, with the authority's certificates after it in the same file")
    with contextlib.suppress(x509.ExtensionNotFound):
        if leaf.extensions.get_extension_for_class(x509.BasicConstraints).value.ca:
            raise fail("its first certificate is a certificate authority's, not yours (put "
                       "your own certificate first)")
    try:
        usage = leaf.extensions.get_extension_for_class(x509.KeyUsage).value
    except x509.ExtensionNotFound:
        usage = None
    if usage is None or not usage.digital_signature:
        raise fail("it does not allow digital signatures (its key usage lacks "
                   "digitalSignature)")
    try:
        ekus = {oid.dotted_string for oid in
                leaf.extensions.get_extension_for_class(x509.ExtendedKeyUsage).value}
    except x509.ExtensionNotFound:
        ekus = set()
    if _ANY_EKU in ekus or not ekus & _SIGNING_EKUS:
        raise fail("it is not issued for signing documents or e-mail (its extended key usage "
                   "needs emailProtection or documentSigning)")


def _algorithm(key: Any, fail: Any) -> str:
    from cryptography.hazmat.primitives.asymmetric import ec, ed25519, rsa

    if isinstance(key, ec.EllipticCurvePrivateKey):
        curves = {"secp256r1": "es256", "secp384r1": "es384", "secp521r1": "es512"}
        if key.curve.name in curves:
            return curves[key.curve.name]
        raise fail(f"its elliptic curve {key.curve.name} is not one C2PA signs with (use "
                   "P-256, P-384 or P-521)")
    if isinstance(key, rsa.RSAPrivateKey):
        if key.key_size < 2048:
            raise fail(f"its RSA key has {key.key_size} bits; C2PA needs at least 2048")
        return "ps256"
    if isinstance(key, ed25519.Ed25519PrivateKey):
        return "ed25519"
    raise fail("its key type is not one C2PA signs with (use ECDSA P-256/P-384/P-521, RSA or "
               "Ed25519)")


def _base_name(name: str) -> str:
    """A file name only, whatever the caller passed (never a folder)."""
    name = PureWindowsPath(name).name if "\\" in name else PurePosixPath(name).name
    return provenance.safe_text("".join(ch for ch in name if ch.isprintable()), 255)


# ---------------------------------------------------------------------------------------------
# The manifest


def manifest_definition(facts: provenance.Provenance, *, title: str, parent: str | None,
                        components: Sequence[str] = (),
                        declared: Sequence[Mapping[str, Any]] = ()) -> dict[str, Any]:
    """The manifest JSON handed to the c2pa Builder. `parent` and `components` are ingredient
    labels; `declared` are ingredients given by name and format only."""
    agent = {"name": "Restyle", "version": facts.restyle_version}
    source_type = facts.digital_source_type
    actions: list[dict[str, Any]] = []
    if parent:
        actions.append({"action": "c2pa.opened", "parameters": {"ingredientIds": [parent]}})
    else:
        actions.append({"action": "c2pa.created", "softwareAgent": agent,
                        "digitalSourceType": source_type or ALGORITHMIC_MEDIA,
                        "description": facts.description})
    actions += [{"action": "c2pa.placed", "parameters": {"ingredientIds": [label]}}
                for label in components]
    if parent:
        edited: dict[str, Any] = {"action": "c2pa.edited", "softwareAgent": agent,
                                  "description": facts.description}
        if source_type:
            edited["digitalSourceType"] = source_type
        actions.append(edited)
    data = facts.to_dict() | {"schema": provenance.SIDECAR_SCHEMA}
    manifest: dict[str, Any] = {
        "title": title,
        "claim_generator_info": [agent],
        "assertions": [
            {"label": "c2pa.actions.v2", "data": {"actions": actions}},
            {"label": RESTYLE_ASSERTION, "data": data},
        ],
    }
    if declared:
        manifest["ingredients"] = [dict(item) for item in declared]
    return manifest


def split_ingredients(inputs: Mapping[str, Sequence[tuple[str, bytes]]]
                      ) -> tuple[tuple[str, bytes] | None, list[tuple[str, bytes]]]:
    """A job's input images by role ((name, bytes) each) as (parent, components): the first
    image of the first of PARENT_ROLES present is the parent (the person of a try-on, the room
    of a staging, the image of an edit); every other image (garments, a fabric) is a
    component. A job with none of those roles has no parent."""
    parent: tuple[str, bytes] | None = None
    for role in PARENT_ROLES:
        if inputs.get(role):
            parent = inputs[role][0]
            break
    components = [item for items in inputs.values() for item in items if item is not parent]
    return parent, components


# ---------------------------------------------------------------------------------------------
# Verifying


@dataclass(frozen=True)
class C2paReport:
    """What the c2pa library found in a file.

    `state` is the library's validation state: "Trusted" (valid, and the signer chains to a
    trusted root), "Valid" (the signature and every hash check out; the signer is not on the
    trust list), "Invalid", or "" when there is no manifest. `errors` are the failures other
    than an untrusted signer ("code: explanation"). `facts` is Restyle's assertion,
    `ingredients` are (title, relationship) pairs; `signed_at` is the time a timestamp
    authority vouched for (None when the file was signed without one)."""

    present: bool
    state: str = ""
    errors: tuple[str, ...] = ()
    untrusted: bool = False
    facts: dict[str, Any] | None = field(default=None, hash=False)
    digital_source_type: str | None = None
    actions: tuple[str, ...] = ()
    ingredients: tuple[tuple[str, str], ...] = ()
    signer: str | None = None
    signed_at: str | None = None

    @property
    def signature_valid(self) -> bool:
        """The manifest is intact and signed by the certificate it names."""
        return self.present and self.state in ("Valid", "Trusted") and not self.errors

    @property
    def trusted(self) -> bool:
        return self.signature_valid and self.state == "Trusted"

    @property
    def message(self) -> str:
        """The finding as a sentence for people."""
        if not self.present:
            return "This file has no C2PA manifest."
        if not self.signature_valid:
            found = "; ".join(self.errors) or "the library found it invalid"
            return f"This file's C2PA manifest does not verify: {found}."
        who = f" by {self.signer}" if self.signer else ""
        if self.trusted:
            return f"This file's C2PA manifest verifies; it was signed{who}, a trusted signer."
        return (f"This file's C2PA manifest verifies (signed{who}), but the signer's "
                "certificate is not on the trust list.")


def verify(data: bytes, fmt: str, *, trust_anchors_pem: bytes | None = None) -> C2paReport:
    """Read and validate the C2PA manifest of an encoded image, offline. `trust_anchors_pem`
    adds root certificates to trust (an organisation's own CA) to the library's list."""
    c2pa = _c2pa()
    mime = _mime(fmt)
    try:
        with _context(c2pa, trust_anchors_pem=trust_anchors_pem) as ctx, \
                c2pa.Reader(mime, io.BytesIO(data), context=ctx) as reader:
            store = json.loads(reader.json())
            state = reader.get_validation_state() or ""
    except c2pa.C2paError.ManifestNotFound:
        return C2paReport(present=False)
    except c2pa.C2paError as exc:
        return C2paReport(present=True, state="Invalid", errors=(_library_reason(exc),))
    manifest = store.get("manifests", {}).get(store.get("active_manifest") or "", {})
    failures = (store.get("validation_results") or {}).get("activeManifest", {}) \
        .get("failure", [])
    if not failures and store.get("validation_status"):
        failures = store["validation_status"]
    errors = tuple(f"{item.get('code')}: {item.get('explanation', '')}".rstrip(": ")
                   for item in failures if item.get("code") != "signingCredential.untrusted")
    untrusted = any(item.get("code") == "signingCredential.untrusted" for item in failures)
    facts = None
    source_type = None
    actions: list[str] = []
    for assertion in manifest.get("assertions", []):
        if assertion.get("label") == RESTYLE_ASSERTION:
            facts = dict(assertion.get("data") or {})
            facts.pop("schema", None)
        elif str(assertion.get("label", "")).startswith("c2pa.actions"):
            for action in (assertion.get("data") or {}).get("actions", []):
                actions.append(str(action.get("action")))
                source_type = action.get("digitalSourceType") or source_type
    signature = manifest.get("signature_info") or {}
    ingredients = tuple((str(item.get("title", "")), str(item.get("relationship", "")))
                        for item in manifest.get("ingredients", []))
    return C2paReport(present=True, state=state, errors=errors, untrusted=untrusted,
                      facts=facts, digital_source_type=source_type, actions=tuple(actions),
                      ingredients=ingredients,
                      signer=signature.get("common_name") or signature.get("issuer"),
                      signed_at=signature.get("time"))
