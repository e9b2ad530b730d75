"""A test PKI made the way an archive would make one: `openssl` for the keys and certificates,
`softhsm2-util` for a token, and a time-stamping authority served over HTTP on 127.0.0.1.

    pki = make_pki(tmp_path)          # root CA, the body's PKCS#12, a TSA certificate
    token = make_token(tmp_path, pki) # a SoftHSM2 token holding the same key and certificate
    with running_tsa(pki) as url: ... # an RFC 3161 TSA (certomancer's TimeStamper) at url

Nothing is fetched from the network; the TSA stops when its `with` block ends.
"""

from __future__ import annotations

import contextlib
import os
import subprocess
import threading
from collections.abc import Iterator
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

from asn1crypto import keys, pem, tsp, x509

BODY = "Ủy ban nhân dân phường Cổ Nhuế 1"
PASSWORD = "mật-khẩu-thử"
TOKEN_LABEL, TOKEN_PIN, KEY_LABEL = "sohoa-thu-nghiem", "246810", "co-quan-so-hoa"
SOFTHSM_MODULE = Path("/usr/lib/softhsm/libsofthsm2.so")


@dataclass(frozen=True)
class Pki:
    folder: Path
    root: Path  # PEM certificate of the test root CA
    pkcs12: Path  # the body's key and certificate, protected by PASSWORD
    key: Path  # the same key, PKCS#8 PEM (for the token)
    cert: Path  # the body's certificate, PEM
    tsa_key: Path
    tsa_cert: Path

    def root_certificate(self) -> x509.Certificate:
        return _load_cert(self.root)


def _openssl(*args: str, cwd: Path) -> None:
    subprocess.run(["openssl", *args], cwd=cwd, check=True, capture_output=True)


def _issue(folder: Path, name: str, subject: str, extensions: str) -> None:
    _openssl(
        "req",
        "-newkey",
        "rsa:2048",
        "-nodes",
        "-keyout",
        f"{name}.key",
        "-out",
        f"{name}.csr",
        "-utf8",
        "-subj",
        subject,
        cwd=folder,
    )
    (folder / f"{name}.ext").write_text(extensions)
    _openssl(
        "x509",
        "-req",
        "-in",
        f"{name}.csr",
        "-CA",
        "root.pem",
        "-CAkey",
        "root.key",
        "-CAcreateserial",
        "-days",
        "365",
        "-out",
        f"{name}.pem",
        "-extfile",
        f"{name}.ext",
        cwd=folder,
    )


def make_pki(folder: Path) -> Pki:
    """A root CA, the digitizing body's certificate in a PKCS#12 file, and a TSA certificate."""
    folder.mkdir(parents=True, exist_ok=True)
    _openssl(
        "req",
        "-x509",
        "-newkey",
        "rsa:2048",
        "-nodes",
        "-keyout",
        "root.key",
        "-out",
        "root.pem",
        "-days",
        "3650",
        "-utf8",
        "-subj",
        "/C=VN/O=Cục Văn thư và Lưu trữ nhà nước/CN=CA thử nghiệm",
        "-addext",
        "basicConstraints=critical,CA:TRUE",
        "-addext",
        "keyUsage=critical,keyCertSign,cRLSign",
        cwd=folder,
    )
    _issue(
        folder,
        "body",
        f"/C=VN/O={BODY}/CN=Văn thư {BODY.split('phường ')[-1]}",
        "basicConstraints=CA:FALSE\nkeyUsage=critical,digitalSignature,nonRepudiation\n",
    )
    _issue(
        folder,
        "tsa",
        "/C=VN/O=Cục Văn thư và Lưu trữ nhà nước/CN=TSA thử nghiệm",
        "basicConstraints=CA:FALSE\nkeyUsage=critical,digitalSignature\n"
        "extendedKeyUsage=critical,timeStamping\n",
    )
    _openssl(
        "pkcs12",
        "-export",
        "-inkey",
        "body.key",
        "-in",
        "body.pem",
        "-certfile",
        "root.pem",
        "-out",
        "body.p12",
        "-passout",
        f"pass:{PASSWORD}",
        cwd=folder,
    )
    return Pki(
        folder,
        folder / "root.pem",
        folder / "body.p12",
        folder / "body.key",
        folder / "body.pem",
        folder / "tsa.key",
        folder / "tsa.pem",
    )


def _load_cert(path: Path) -> x509.Certificate:
    _, _, der = pem.unarmor(path.read_bytes())
    return x509.Certificate.load(der)


@dataclass(frozen=True)
class Token:
    conf: Path  # the SOFTHSM2_CONF file naming its folder


def make_token(folder: Path, pki: Pki) -> Token:
    """A SoftHSM2 token labelled TOKEN_LABEL with the body's key and certificate (KEY_LABEL).

    Sets SOFTHSM2_CONF for this process: SoftHSM2 reads it when initialized, so the
    library is initialized again (sessions opened on an earlier token end).
    """
    import pkcs11
    from pkcs11 import Attribute, CertificateType, ObjectClass

    tokens = folder / "tokens"
    tokens.mkdir(parents=True, exist_ok=True)
    conf = folder / "softhsm2.conf"
    conf.write_text(f"directories.tokendir = {tokens}\nobjectstore.backend = file\n")
    env = {**os.environ, "SOFTHSM2_CONF": str(conf)}
    util = ["softhsm2-util"]
    subprocess.run(
        [
            *util,
            "--init-token",
            "--free",
            "--label",
            TOKEN_LABEL,
            "--pin",
            TOKEN_PIN,
            "--so-pin",
            "135791",
        ],
        env=env,
        check=True,
        capture_output=True,
    )
    subprocess.run(
        [
            *util,
            "--import",
            str(pki.key),
            "--token",
            TOKEN_LABEL,
            "--label",
            KEY_LABEL,
            "--id",
            "01",
            "--pin",
            TOKEN_PIN,
        ],
        env=env,
        check=True,
        capture_output=True,
    )
    os.environ["SOFTHSM2_CONF"] = str(conf)
    cert = _load_cert(pki.cert)
    library = pkcs11.lib(str(SOFTHSM_MODULE))  # one per process: loaded by an earlier token,
    library.reinitialize()  # it reads SOFTHSM2_CONF again only when initialized again
    token = library.get_token(token_label=TOKEN_LABEL)
    with token.open(rw=True, user_pin=TOKEN_PIN) as session:  # softhsm2-util stores no certificates
        session.create_object(
            {
                Attribute.CLASS: ObjectClass.CERTIFICATE,
                Attribute.CERTIFICATE_TYPE: CertificateType.X_509,
                Attribute.TOKEN: True,
                Attribute.LABEL: KEY_LABEL,
                Attribute.ID: b"\x01",
                Attribute.SUBJECT: cert.subject.dump(),
                Attribute.VALUE: cert.dump(),
            }
        )
    return Token(conf)


@contextlib.contextmanager
def running_tsa(pki: Pki) -> Iterator[str]:
    """An RFC 3161 time-stamping authority on 127.0.0.1; yields its URL."""
    from certomancer.services import TimeStamper

    _, _, key_der = pem.unarmor(pki.tsa_key.read_bytes())
    stamper = TimeStamper(
        tsa_cert=_load_cert(pki.tsa_cert),
        tsa_key=keys.PrivateKeyInfo.load(key_der),
        certs_to_embed=[pki.root_certificate()],
    )

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            body = self.rfile.read(int(self.headers.get("Content-Length", 0)))
            answer = stamper.request_tsa_response(tsp.TimeStampReq.load(body)).dump()
            self.send_response(200)
            self.send_header("Content-Type", "application/timestamp-reply")
            self.send_header("Content-Length", str(len(answer)))
            self.end_headers()
            self.wfile.write(answer)

        def log_message(self, *args: object) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, name="test-tsa", daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}/tsa"
    finally:
        server.shutdown()
        server.server_close()
        thread.join(timeout=5)
