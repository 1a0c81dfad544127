"""Certificates made at test time for C2PA signing: a private CA and end-entity certificates
issued by it (or deliberately wrong ones), written as PEM files. Never used outside tests."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, ed25519, rsa
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

_NOW = dt.datetime.now(dt.UTC)


def new_key(kind: str = "p256") -> Any:
    if kind == "p256":
        return ec.generate_private_key(ec.SECP256R1())
    if kind == "p384":
        return ec.generate_private_key(ec.SECP384R1())
    if kind == "k256":
        return ec.generate_private_key(ec.SECP256K1())
    if kind == "rsa":
        return rsa.generate_private_key(65537, 2048)
    if kind == "rsa1024":
        return rsa.generate_private_key(65537, 1024)
    if kind == "ed25519":
        return ed25519.Ed25519PrivateKey.generate()
    raise ValueError(kind)


def _name(common_name: str) -> x509.Name:
    return x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, common_name),
                      x509.NameAttribute(NameOID.ORGANIZATION_NAME, "Restyle tests")])


def _usage(*, ca: bool, sign: bool = True) -> x509.KeyUsage:
    return x509.KeyUsage(digital_signature=sign, content_commitment=False,
                         key_encipherment=False, data_encipherment=False, key_agreement=False,
                         key_cert_sign=ca, crl_sign=ca, encipher_only=False, decipher_only=False)


def certificate(key: Any, *, issuer_key: Any, issuer: x509.Name, subject: str, ca: bool = False,
                ekus: tuple[x509.ObjectIdentifier, ...] | None = (
                    ExtendedKeyUsageOID.EMAIL_PROTECTION,),
                digital_signature: bool = True,
                days: tuple[int, int] = (-1, 30)) -> x509.Certificate:
    builder = (x509.CertificateBuilder()
               .subject_name(_name(subject)).issuer_name(issuer)
               .public_key(key.public_key()).serial_number(x509.random_serial_number())
               .not_valid_before(_NOW + dt.timedelta(days=days[0]))
               .not_valid_after(_NOW + dt.timedelta(days=days[1]))
               .add_extension(x509.BasicConstraints(ca=ca, path_length=0 if ca else None),
                              critical=True)
               .add_extension(_usage(ca=ca, sign=digital_signature), critical=True)
               .add_extension(x509.SubjectKeyIdentifier.from_public_key(key.public_key()),
                              critical=False)
               .add_extension(x509.AuthorityKeyIdentifier.from_issuer_public_key(
                   issuer_key.public_key()), critical=False))
    if ekus:
        builder = builder.add_extension(x509.ExtendedKeyUsage(list(ekus)), critical=False)
    algorithm = None if isinstance(issuer_key, ed25519.Ed25519PrivateKey) else hashes.SHA256()
    return builder.sign(issuer_key, algorithm)


def pem(cert: x509.Certificate) -> bytes:
    return cert.public_bytes(serialization.Encoding.PEM)


def key_pem(key: Any, fmt: serialization.PrivateFormat = serialization.PrivateFormat.PKCS8,
            password: bytes | None = None) -> bytes:
    encryption: serialization.KeySerializationEncryption = (
        serialization.BestAvailableEncryption(password) if password
        else serialization.NoEncryption())
    return key.private_bytes(serialization.Encoding.PEM, fmt, encryption)


@dataclass
class Pki:
    """A test CA and one end-entity certificate it issued, as PEM files in `folder`."""

    folder: Path
    ca_key: Any
    ca: x509.Certificate

    @classmethod
    def make(cls, folder: Path) -> Pki:
        ca_key = new_key("p256")
        ca = certificate(ca_key, issuer_key=ca_key, issuer=_name("Restyle Test Root CA"),
                         subject="Restyle Test Root CA", ca=True, ekus=None, days=(-10, 365))
        folder.mkdir(parents=True, exist_ok=True)
        (folder / "root.pem").write_bytes(pem(ca))
        return cls(folder, ca_key, ca)

    @property
    def root_pem(self) -> bytes:
        return pem(self.ca)

    def issue(self, name: str, kind: str = "p256", **options: Any) -> tuple[Path, Path, Any]:
        """Write `<name>.chain.pem` (end-entity + CA) and `<name>.key.pem`; return both paths
        and the key."""
        key = new_key(kind)
        cert = certificate(key, issuer_key=self.ca_key, issuer=self.ca.subject,
                           subject=f"Restyle signer {name}", **options)
        chain = self.folder / f"{name}.chain.pem"
        chain.write_bytes(pem(cert) + pem(self.ca))
        key_file = self.folder / f"{name}.key.pem"
        key_file.write_bytes(key_pem(key))
        return chain, key_file, key
