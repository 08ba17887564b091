"""Encryption at rest (Art 10(1) "encrypted storage"; GB/T 22239 level 3, cryptography per GB/T 39786).

What is encrypted: the database columns declared with tangshan_portal.fields.EncryptedCharField/TextField
(contact phone numbers, the confidential parts of diagnoses and dossier surveys) and every stored file
(tangshan_portal.storage.EncryptedFileSystemStorage: attachments, issued documents, import uploads).

The cipher is a small pluggable backend, PORTAL_ENCRYPTION_BACKEND (a dotted path; by default SM4-GCM, SM4 of
GB/T 32907 in Galois/Counter Mode, an authenticated cipher accepted for commercial cryptography). A backend
seals bytes with a key and associated data and opens them again; everything else — keys, formats, places — is
here, so a city whose crypto review asks for another approved algorithm changes one setting.

Keys come from the environment only, never from the database or the code:

    PORTAL_ENCRYPTION_KEYS="k2026:<base64 of 16 random bytes>,k2025:<the previous key>"

The first key encrypts; every key listed decrypts. Rotation: put a new key first, keep the old ones after it,
run `manage.py rotate_encryption_keys` (re-encrypts every value and file not under the first key), then drop
the old keys. A new key: `manage.py rotate_encryption_keys --generate-key`.

Without PORTAL_ENCRYPTION_KEYS a development key is derived from SECRET_KEY, with DEBUG on only (development,
never production: whoever knows the secret key can read the data). With DEBUG off and no keys the system check
portal.E020 fails, so `manage.py check --deploy`, `migrate` and the servers refuse to start.

Formats (version 1), both carrying the algorithm and the key id so a value names the key that opens it:

* a column value: ``enc1:<algorithm>:<key id>:<base64 of nonce ‖ ciphertext ‖ tag>``;
* a file: the magic bytes MAGIC, one length byte and the algorithm, one length byte and the key id, then
  nonce ‖ ciphertext ‖ tag.

Each value gets a fresh random 96-bit nonce. The associated data binds a value to its place — the column
("field:app_label.model.field") or the file's stored name ("file:attachments/…") — and to its header, so a
ciphertext copied into another column, another row's file or under another key id fails to decrypt instead of
being read as something it is not. A value that cannot be decrypted raises DecryptionError; it is never
returned as text.
"""

import base64
import binascii
import os
import re
from dataclasses import dataclass, field

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.ciphers import Cipher, algorithms, modes
from cryptography.hazmat.primitives.kdf.hkdf import HKDF
from django.conf import settings
from django.core import checks
from django.core.exceptions import ImproperlyConfigured
from django.utils.module_loading import import_string

DEFAULT_BACKEND = "tangshan_portal.crypto.SM4GCMBackend"
DEVELOPMENT_KEY_ID = "dev"
KEY_ID = re.compile(r"[A-Za-z0-9_-]{1,32}")
ALGORITHM_NAME = re.compile(r"[A-Z0-9-]{1,32}")

TOKEN_PREFIX = "enc1"  # noqa: S105 (a format marker, not a secret)
# Starts with a byte no text file and no PDF, PNG, JPEG or Office file starts with, like PNG's own signature.
MAGIC = b"\x89PENC1\r\n"


class EncryptionError(Exception):
    """Base of the encryption errors."""


class DecryptionError(EncryptionError):
    """A value or file could not be decrypted: wrong place, unknown or wrong key, or altered."""


class KeyConfigurationError(ImproperlyConfigured, EncryptionError):
    """PORTAL_ENCRYPTION_KEYS or PORTAL_ENCRYPTION_BACKEND is missing or malformed."""


# --- Backends -----------------------------------------------------------------------------------------------


class SM4GCMBackend:
    """SM4 block cipher (GB/T 32907) in GCM mode: 128-bit key, 96-bit random nonce, 128-bit tag."""

    algorithm = "SM4-GCM"
    key_size = 16
    nonce_size = 12
    tag_size = 16

    @property
    def overhead(self):
        return self.nonce_size + self.tag_size

    def _cipher(self, key, mode):
        return Cipher(algorithms.SM4(key), mode)

    def seal(self, key, plaintext, associated_data):
        """nonce ‖ ciphertext ‖ tag of `plaintext`, authenticated together with `associated_data`."""
        nonce = os.urandom(self.nonce_size)
        encryptor = self._cipher(key, modes.GCM(nonce)).encryptor()
        encryptor.authenticate_additional_data(associated_data)
        ciphertext = encryptor.update(plaintext) + encryptor.finalize()
        return nonce + ciphertext + encryptor.tag

    def unseal(self, key, sealed, associated_data):
        if len(sealed) < self.overhead:
            raise DecryptionError("The encrypted value is truncated.")
        nonce, tag = sealed[: self.nonce_size], sealed[-self.tag_size :]
        ciphertext = sealed[self.nonce_size : -self.tag_size]
        decryptor = self._cipher(key, modes.GCM(nonce, tag)).decryptor()
        decryptor.authenticate_additional_data(associated_data)
        try:
            return decryptor.update(ciphertext) + decryptor.finalize()
        except InvalidTag as exc:
            raise DecryptionError(
                "The encrypted value failed authentication: it belongs to another place, was encrypted with another "
                "key under the same key id, or was altered."
            ) from exc


# --- The key ring -------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class KeyRing:
    """Keys by id, in the configured order: the first one encrypts."""

    backend: object
    # ((key id, key bytes), ...); kept out of repr() so that no log or error page prints a key.
    keys: tuple = field(repr=False)
    development: bool = False

    @property
    def current_key_id(self):
        return self.keys[0][0]

    @property
    def key_ids(self):
        return [kid for kid, _ in self.keys]

    def key(self, kid, *, place=""):
        for candidate, key in self.keys:
            if candidate == kid:
                return key
        where = f" ({place})" if place else ""
        raise DecryptionError(
            f"The value{where} was encrypted with key id {kid!r}, which is not in PORTAL_ENCRYPTION_KEYS "
            f"(configured: {', '.join(self.key_ids)})."
        )


def _load_backend(path):
    try:
        backend_class = import_string(path)
    except ImportError as exc:
        raise KeyConfigurationError(f"PORTAL_ENCRYPTION_BACKEND {path!r} cannot be imported: {exc}") from exc
    backend = backend_class()
    if not ALGORITHM_NAME.fullmatch(getattr(backend, "algorithm", "")):
        raise KeyConfigurationError(f"PORTAL_ENCRYPTION_BACKEND {path!r} names no valid algorithm.")
    return backend


def _decode_key(text, kid, backend):
    # Standard or URL-safe alphabet, padding optional.
    text = text.strip().replace("-", "+").replace("_", "/")
    try:
        key = base64.b64decode(text + "=" * (-len(text) % 4), validate=True)
    except (binascii.Error, ValueError) as exc:
        raise KeyConfigurationError(f"PORTAL_ENCRYPTION_KEYS: the key {kid!r} is not base64.") from exc
    if len(key) != backend.key_size:
        raise KeyConfigurationError(
            f"PORTAL_ENCRYPTION_KEYS: the key {kid!r} has {len(key)} bytes; {backend.algorithm} needs "
            f"{backend.key_size}."
        )
    return key


def parse_keys(text, backend):
    """`kid:base64key,kid:base64key` → ((kid, key), ...). Errors name the key id, never the key."""
    keys = []
    for item in (part.strip() for part in text.split(",")):
        if not item:
            continue
        kid, sep, encoded = item.partition(":")
        kid = kid.strip()
        if not sep or not KEY_ID.fullmatch(kid):
            raise KeyConfigurationError(
                "PORTAL_ENCRYPTION_KEYS must be a comma-separated list of <key id>:<base64 key>, the key id made "
                "of 1–32 letters, digits, '-' or '_'."
            )
        if any(kid == seen for seen, _ in keys):
            raise KeyConfigurationError(f"PORTAL_ENCRYPTION_KEYS names the key id {kid!r} twice.")
        keys.append((kid, _decode_key(encoded, kid, backend)))
    return tuple(keys)


def development_key(secret_key, backend):
    """A key derived from SECRET_KEY, for development only (DEBUG on and no PORTAL_ENCRYPTION_KEYS)."""
    hkdf = HKDF(
        algorithm=hashes.SHA256(),
        length=backend.key_size,
        salt=None,
        info=b"portal development encryption key",
    )
    return hkdf.derive(secret_key.encode("utf-8"))


_ring_cache = {}


def key_ring():
    """The configured key ring. Raises KeyConfigurationError when it cannot be used."""
    backend_path = getattr(settings, "PORTAL_ENCRYPTION_BACKEND", "") or DEFAULT_BACKEND
    keys_text = getattr(settings, "PORTAL_ENCRYPTION_KEYS", "") or ""
    # Settings change in tests (and DEBUG is switched off by the test runner without a signal): the cache is
    # keyed by what the ring is made of.
    cache_key = (backend_path, keys_text, bool(settings.DEBUG), settings.SECRET_KEY)
    ring = _ring_cache.get(cache_key)
    if ring is None:
        backend = _load_backend(backend_path)
        keys = parse_keys(keys_text, backend)
        development = False
        if not keys:
            if not settings.DEBUG:
                raise KeyConfigurationError(
                    "PORTAL_ENCRYPTION_KEYS is not set. With DEBUG off the portal needs its own encryption keys: "
                    "see tangshan_portal/crypto.py and `manage.py rotate_encryption_keys --generate-key`."
                )
            keys = ((DEVELOPMENT_KEY_ID, development_key(settings.SECRET_KEY, backend)),)
            development = True
        ring = KeyRing(backend=backend, keys=keys, development=development)
        _ring_cache.clear()
        _ring_cache[cache_key] = ring
    return ring


def generate_key(backend=None):
    """A new random key as base64, for PORTAL_ENCRYPTION_KEYS."""
    backend = backend or _load_backend(getattr(settings, "PORTAL_ENCRYPTION_BACKEND", "") or DEFAULT_BACKEND)
    return base64.b64encode(os.urandom(backend.key_size)).decode("ascii")


# --- Column values ------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Header:
    algorithm: str
    key_id: str
    length: int  # bytes of a file header; characters of a token's prefix


def _associated_data(header_bytes, context):
    return header_bytes + b"\x00" + context.encode("utf-8")


def value_header(value):
    """The algorithm and key id of an encrypted column value, or None when `value` is not one."""
    if not isinstance(value, str) or not value.startswith(TOKEN_PREFIX + ":"):
        return None
    parts = value.split(":", 3)
    if len(parts) != 4 or not ALGORITHM_NAME.fullmatch(parts[1]) or not KEY_ID.fullmatch(parts[2]):
        return None
    return Header(algorithm=parts[1], key_id=parts[2], length=len(value) - len(parts[3]))


def encrypt_value(text, *, context):
    """The token for `text` in `context` (e.g. "field:portal.user.phone"), under the current key."""
    ring = key_ring()
    kid = ring.current_key_id
    prefix = f"{TOKEN_PREFIX}:{ring.backend.algorithm}:{kid}:"
    sealed = ring.backend.seal(ring.key(kid), text.encode("utf-8"), _associated_data(prefix.encode(), context))
    return prefix + base64.b64encode(sealed).decode("ascii")


def decrypt_value(token, *, context):
    header = value_header(token)
    if header is None:
        raise DecryptionError(f"The value of {context} is not encrypted (or its header is damaged).")
    ring = key_ring()
    _check_algorithm(header, ring, context)
    prefix = token[: header.length]
    try:
        sealed = base64.b64decode(token[header.length :], validate=True)
    except (binascii.Error, ValueError) as exc:
        raise DecryptionError(f"The encrypted value of {context} is damaged.") from exc
    key = ring.key(header.key_id, place=context)
    plain = ring.backend.unseal(key, sealed, _associated_data(prefix.encode(), context))
    try:
        return plain.decode("utf-8")
    except UnicodeDecodeError as exc:  # pragma: no cover - only a broken backend gets here past the tag check
        raise DecryptionError(f"The decrypted value of {context} is not text.") from exc


def _check_algorithm(header, ring, place):
    if header.algorithm != ring.backend.algorithm:
        raise DecryptionError(
            f"{place} was encrypted with {header.algorithm}, but PORTAL_ENCRYPTION_BACKEND is {ring.backend.algorithm}."
        )


def needs_rotation(header):
    """Whether a value or file with this header (None: plaintext) is not under the current key."""
    ring = key_ring()
    return header is None or header.key_id != ring.current_key_id or header.algorithm != ring.backend.algorithm


# --- Files --------------------------------------------------------------------------------------------------

# The most a file header can take: magic, two length bytes, an algorithm name and a key id of 32 characters.
MAX_FILE_HEADER = len(MAGIC) + 2 + 32 + 32


def file_header(head):
    """The header at the start of `head` (the first bytes of a file), or None for a file stored in plaintext."""
    if not head.startswith(MAGIC):
        return None
    pos = len(MAGIC)
    try:
        alg_len = head[pos]
        algorithm = head[pos + 1 : pos + 1 + alg_len].decode("ascii")
        pos += 1 + alg_len
        kid_len = head[pos]
        kid = head[pos + 1 : pos + 1 + kid_len].decode("ascii")
        pos += 1 + kid_len
    except (IndexError, UnicodeDecodeError) as exc:
        raise DecryptionError("The encrypted file's header is damaged.") from exc
    if not ALGORITHM_NAME.fullmatch(algorithm) or not KEY_ID.fullmatch(kid) or pos > len(head):
        raise DecryptionError("The encrypted file's header is damaged.")
    return Header(algorithm=algorithm, key_id=kid, length=pos)


def encrypt_file_bytes(data, *, context):
    ring = key_ring()
    kid = ring.current_key_id
    alg = ring.backend.algorithm.encode("ascii")
    header = MAGIC + bytes([len(alg)]) + alg + bytes([len(kid)]) + kid.encode("ascii")
    return header + ring.backend.seal(ring.key(kid), data, _associated_data(header, context))


def decrypt_file_bytes(blob, *, context):
    """The plaintext of an encrypted file; a file without the magic bytes (stored before encryption) as it is."""
    header = file_header(blob[:MAX_FILE_HEADER])
    if header is None:
        return blob
    ring = key_ring()
    _check_algorithm(header, ring, context)
    key = ring.key(header.key_id, place=context)
    return ring.backend.unseal(key, blob[header.length :], _associated_data(blob[: header.length], context))


# --- System check -------------------------------------------------------------------------------------------


@checks.register(checks.Tags.security)
def check_encryption_keys(app_configs=None, **kwargs):
    """portal.E020: production without keys; portal.E021: keys or backend malformed."""
    try:
        ring = key_ring()
    except KeyConfigurationError as exc:
        keys_set = bool(getattr(settings, "PORTAL_ENCRYPTION_KEYS", ""))
        if not keys_set and not settings.DEBUG:
            return [
                checks.Error(
                    "PORTAL_ENCRYPTION_KEYS is not set: personal data and uploaded files cannot be encrypted.",
                    hint="Set PORTAL_ENCRYPTION_KEYS=<key id>:<base64 key>; `manage.py rotate_encryption_keys "
                    "--generate-key` prints a new key. Keep the keys outside the database and its backups.",
                    id="portal.E020",
                )
            ]
        return [checks.Error(str(exc), id="portal.E021")]
    if ring.development and not settings.DEBUG:  # pragma: no cover - key_ring() refuses this already
        return [checks.Error("The development encryption key is in use with DEBUG off.", id="portal.E020")]
    return []
