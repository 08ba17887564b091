"""Stored files encrypted on disk (Art 10(1); tangshan_portal.crypto): STORAGES["default"].

Every file saved through the storage — attachments, issued documents, import uploads — is written as the
encrypted format of tangshan_portal.crypto, its associated data the stored name, so a file copied or renamed
under another name does not decrypt. Opening decrypts it in memory and returns a file over the plaintext;
uploads are limited to tangshan_portal.services.MAX_UPLOAD_BYTES (20 MB), documents and import files are
built in memory anyway, so a whole file in memory is fine. size() is the plaintext's size.

Files written before the storage encrypted (no magic bytes) are still read as they are; `manage.py
rotate_encryption_keys` encrypts them, and re-encrypts files under an older key.

Nothing may read a stored file by its path (FieldFile.path): that gives the ciphertext. Read through
FieldFile.open()/storage.open(). Files are never served from MEDIA_URL; views hand them out through
tangshan_portal.files.file_response after checking access.
"""

import io
import os

from django.core.files import File
from django.core.files.base import ContentFile
from django.core.files.storage import FileSystemStorage

from .crypto import MAX_FILE_HEADER, decrypt_file_bytes, encrypt_file_bytes, file_header, key_ring, needs_rotation


def file_context(name):
    return f"file:{name}"


class DecryptedFile(File):
    """The plaintext of a stored file, in memory. Reopening reads and decrypts the stored file again instead
    of opening `name` on disk as Django's File would."""

    def __init__(self, data, name, storage):
        super().__init__(io.BytesIO(data), name=name)
        self._storage = storage
        self.size = len(data)

    def open(self, mode=None, *args, **kwargs):
        if self.closed:
            self.file = io.BytesIO(self._storage.read_plaintext(self.name))
        else:
            self.seek(0)
        return self


class EncryptedFileSystemStorage(FileSystemStorage):
    def read_plaintext(self, name):
        with open(self.path(name), "rb") as handle:
            return decrypt_file_bytes(handle.read(), context=file_context(name))

    def _open(self, name, mode="rb"):
        if any(flag in mode for flag in "wax+"):
            raise ValueError("Encrypted files are written with save(), never opened for writing.")
        data = self.read_plaintext(name)
        if "b" not in mode:
            return File(io.StringIO(data.decode("utf-8")), name=name)
        return DecryptedFile(data, name, self)

    def _save(self, name, content):
        chunks = [chunk.encode("utf-8") if isinstance(chunk, str) else chunk for chunk in content.chunks()]
        data = b"".join(chunks)
        saved = super()._save(name, ContentFile(encrypt_file_bytes(data, context=file_context(name))))
        if saved != name:
            # Another writer took the name between the check and the write, and the file went under the next
            # free name: seal it again for the name it has (the file is ours, created exclusively just now).
            with open(self.path(saved), "wb") as handle:
                handle.write(encrypt_file_bytes(data, context=file_context(saved)))
        return saved

    def size(self, name):
        path = self.path(name)
        with open(path, "rb") as handle:
            header = file_header(handle.read(MAX_FILE_HEADER))
        stored = os.path.getsize(path)
        if header is None:
            return stored
        return stored - header.length - key_ring().backend.overhead

    # --- Key rotation and the encryption of files stored before (manage.py rotate_encryption_keys) ----------

    def stored_header(self, name):
        """The encryption header of a stored file, None for a plaintext one."""
        with open(self.path(name), "rb") as handle:
            return file_header(handle.read(MAX_FILE_HEADER))

    def reencrypt(self, name):
        """Bring one stored file under the current key. Returns "encrypted" (it was plaintext), "reencrypted"
        (another key) or None (already current). The new content replaces the old one atomically."""
        header = self.stored_header(name)
        if not needs_rotation(header):
            return None
        data = self.read_plaintext(name)
        path = self.path(name)
        temporary = f"{path}.rotating"
        with open(temporary, "wb") as handle:
            handle.write(encrypt_file_bytes(data, context=file_context(name)))
            handle.flush()
            os.fsync(handle.fileno())
        if self.file_permissions_mode is not None:
            os.chmod(temporary, self.file_permissions_mode)
        os.replace(temporary, path)
        return "encrypted" if header is None else "reencrypted"

    def stored_names(self):
        """The names of every file under the storage's folder (also files no row points at any more)."""
        root = os.fspath(self.location)
        for folder, _dirs, files in os.walk(root):
            for filename in files:
                if filename.endswith(".rotating"):
                    continue
                yield os.path.relpath(os.path.join(folder, filename), root).replace(os.sep, "/")
