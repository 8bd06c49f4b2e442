"""Remember tokens whose signature was already checked, so a card scanned again skips the parsing and Ed25519."""
from __future__ import annotations

import threading
from collections import OrderedDict
from collections.abc import Mapping

from portal.tokens.codec import TokenPayload, decode_token

#: Distinct tokens remembered per process (about 1 KB each).
DEFAULT_SIZE = 20_000


class SignatureCache:
    """Decoded payloads of genuine tokens, each tied to the public key object that verified it.

    A remembered token is answered only while the key ring still offers that very key for its key id:
    a retired or replaced key misses the cache and the token is checked (and refused) from scratch.
    Invalid tokens are never remembered.
    """

    def __init__(self, size: int = DEFAULT_SIZE) -> None:
        self.size = size
        self._entries: OrderedDict[str, tuple[object, TokenPayload]] = OrderedDict()
        self._lock = threading.Lock()

    def decode(self, token: str, keys: Mapping) -> TokenPayload:
        """Return ``token``'s payload if it is signed by one of ``keys``; raise InvalidToken otherwise."""
        entry = self._entries.get(token)
        if entry is not None:
            key, payload = entry
            current = keys.get(payload.kid)
            if current is key or (current is not None and current == key):
                return payload
        payload = decode_token(token, keys)
        with self._lock:
            self._entries[token] = (keys[payload.kid], payload)
            if len(self._entries) > self.size:
                self._entries.popitem(last=False)
        return payload
