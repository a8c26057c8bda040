"""pymap's backend interfaces over the sandbox store (mssante.mailstore): the IMAP server is a
front end; folders, messages, flags and UIDVALIDITY live in the tenant-keyed `mss_*` tables.

    Login.authenticate(credentials)   the Identity mssante.auth established (the IMAP front end
                                      verifies tokens and certificates before pymap sees them)
    Identity.new_session()            a Session on one mailbox (BAL) of one tenant
    MailboxSet                        that mailbox's folders (INBOX, Sent, Drafts, Trash, own)
    MailboxData                       one folder: items by UID, changes by mod-sequence
    Message                           an item; its MIME content parsed on demand, its FETCH
                                      ENVELOPE / BODY / BODYSTRUCTURE answers kept in the store
                                      (both cached by message id: COPY shares the stored bytes)

Update tracking is by mod-sequence, so sessions in any process see each other's changes; IDLE
waits on an in-process wake-up (a delivery in this process) or polls every `IDLE_POLL` seconds.
Keywords are permanent (`PERMANENTFLAGS (... \\*)`): `$MDNSent` and the like persist.

The store calls are plain SQLite calls made on the mail loop: each is a short indexed query in
WAL mode (readers never wait for a writer), cheaper than a hop to a worker thread per message.

Over 400 lines: pymap's backend interfaces (Login, Session, MailboxSet, MailboxData, Message) as one unit.
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from collections.abc import AsyncIterable, AsyncIterator, Callable, Iterable, Sequence
from contextlib import asynccontextmanager
from datetime import UTC, datetime
from typing import Any, cast

from pymap.backend.session import BaseSession
from pymap.concurrent import Event, ReadWriteLock
from pymap.config import BackendCapability, IMAPConfig
from pymap.context import subsystem
from pymap.exceptions import InvalidAuth, UserNotFound
from pymap.flags import FlagOp
from pymap.interfaces.login import IdentityInterface, LoginInterface
from pymap.interfaces.message import CachedMessage
from pymap.listtree import ListTree
from pymap.mailbox import MailboxSnapshot
from pymap.message import BaseLoadedMessage, BaseMessage
from pymap.mime import MessageContent
from pymap.parsing.message import AppendMessage
from pymap.parsing.response.fetch import BodyStructure, EnvelopeStructure
from pymap.parsing.specials import FetchRequirement, ObjectId, SequenceSet
from pymap.parsing.specials.flag import Flag, Recent, Wildcard, get_system_flags
from pymap.selected import SelectedMailbox, SelectedSet
from pymap.token import AllTokens
from pymap.user import UserMetadata

from mssante.auth import Identity as MailIdentity
from mssante.imap.summaries import SUMMARY_VERSION, Summary, summarize
from mssante.mailstore import Folder, Item, MailStore

IDLE_POLL = 0.5  # seconds between checks for changes made by another process
CACHE_SIZE = 1024  # parsed messages kept
SUMMARY_CACHE_SIZE = 50_000  # summaries kept (about 0.5 KB each)


class _Lru(OrderedDict[int, Any]):
    def __init__(self, size: int) -> None:
        super().__init__()
        self.size = size

    def find(self, key: int) -> Any:
        found = self.get(key)
        if found is not None:
            self.move_to_end(key)
        return found

    def keep(self, key: int, value: Any) -> None:
        self[key] = value
        while len(self) > self.size:
            self.popitem(last=False)


class ContentCache:
    """Parsed messages and their IMAP summaries, by stored message id (COPY shares the bytes).

    A FETCH of envelopes costs the parse of each message's headers through Python's email
    header registry (about 2 ms) and pymap's formatting of the envelope: both are done once per
    message, in the background after its delivery (mssante.imap.summaries), or here by the first
    FETCH that finds none (written in one transaction per command); a restart or another process
    reads them back from `mss_imap_summaries`."""

    def __init__(self, mails: MailStore, size: int = CACHE_SIZE):
        self.mails = mails
        self._lock = threading.Lock()
        self._contents = _Lru(size)
        self._summaries = _Lru(SUMMARY_CACHE_SIZE)
        self._pending: dict[int, Summary] = {}

    def get(self, message: int) -> MessageContent:
        with self._lock:
            found = self._contents.find(message)
        if found is None:
            found = MessageContent.parse(self.mails.raw(message))
            with self._lock:
                self._contents.keep(message, found)
        return cast(MessageContent, found)

    def prefetch(self, messages: Iterable[int]) -> None:
        """Read the stored summaries of these messages in one query."""
        with self._lock:
            missing = [m for m in messages if m not in self._summaries]
        found = self.mails.summaries(missing, SUMMARY_VERSION) if missing else {}
        with self._lock:
            for message, summary in found.items():
                self._summaries.keep(message, summary)

    def summary(self, message: int) -> Summary:
        with self._lock:
            found = self._summaries.find(message)
        if found is None:
            found = self.mails.summaries([message], SUMMARY_VERSION).get(message)
        if found is None:  # not made in the background yet (mssante.imap.summaries): made here
            found = summarize(self.get(message))
            with self._lock:
                self._pending[message] = found
        with self._lock:
            self._summaries.keep(message, found)
        return cast(Summary, found)

    def flush(self) -> None:
        """Store the summaries made since the last flush (after each IMAP command)."""
        with self._lock:
            pending, self._pending = self._pending, {}
        if pending:
            self.mails.add_summaries(pending, SUMMARY_VERSION)


class _Written:
    """A FETCH value as pymap wrote it before; what a SEARCH reads (envelope.date, ...) comes
    from the structure itself, built on demand."""

    __slots__ = ["_data", "_build", "extended"]

    def __init__(self, data: bytes, build: Callable[[], Any], extended: bytes | None = None) -> None:
        self._data = data
        self._build = build
        if extended is not None:
            self.extended = _Written(extended, lambda: build().extended)

    def __bytes__(self) -> bytes:
        return self._data

    def __getattr__(self, name: str) -> Any:
        return getattr(self._build(), name)


class Loaded(BaseLoadedMessage):
    """A message's content, parsed only when a FETCH item needs more than its summary."""

    __slots__ = ["_ref", "_cache"]

    def __init__(
        self, message: Message, requirement: FetchRequirement, ref: int, cache: ContentCache
    ) -> None:
        super().__init__(message, requirement, None)
        self._ref = ref
        self._cache = cache

    @property
    def content(self) -> MessageContent:
        if self._content is None:
            self._content = self._cache.get(self._ref)
        return self._content

    def get_envelope_structure(self) -> EnvelopeStructure:
        envelope, _, _ = self._cache.summary(self._ref)
        return cast(EnvelopeStructure, _Written(envelope, super().get_envelope_structure))

    def get_body_structure(self) -> BodyStructure:
        _, body, extended = self._cache.summary(self._ref)
        return cast(BodyStructure, _Written(body, super().get_body_structure, extended))


class Message(BaseMessage):
    __slots__ = ["_ref", "_cache"]

    def __init__(self, item: Item, cache: ContentCache, *, expunged: bool = False) -> None:
        super().__init__(
            item.uid,
            datetime.fromtimestamp(item.internal_date, UTC),
            frozenset(Flag(f.encode()) for f in item.flags),
            expunged=expunged,
            email_id=ObjectId(b"M%d" % item.message),
            thread_id=ObjectId(b"T%d" % item.message),
        )
        self._ref = item.message
        self._cache = cache

    @property
    def ref(self) -> int:
        return self._ref

    async def load_content(self, requirement: FetchRequirement) -> BaseLoadedMessage:
        if requirement == FetchRequirement.NONE:
            return BaseLoadedMessage(self, requirement, None)
        return Loaded(self, requirement, self._ref, self._cache)


def _flag_names(flags: Iterable[Flag]) -> list[str]:
    return [bytes(f).decode("ascii", "replace") for f in flags if f != Recent]


# SelectedSet per folder in this process: pymap finds other sessions on a folder through it
_SELECTED: dict[int, SelectedSet] = {}
_SELECTED_LOCK = threading.Lock()


def _selected_set(folder: int) -> SelectedSet:
    with _SELECTED_LOCK:
        found = _SELECTED.get(folder)
        if found is None:
            found = _SELECTED[folder] = SelectedSet()
        return found


class Snapshot(MailboxSnapshot):
    """FLAGS lists the flags in use, PERMANENTFLAGS adds `\\*` (keywords are kept)."""

    @property
    def flags(self) -> frozenset[Flag]:
        return (self.permanent_flags | self.session_flags) - {Wildcard}


class MailboxData:
    """One folder (pymap MailboxDataInterface)."""

    def __init__(self, folder: Folder, mails: MailStore, cache: ContentCache):
        self.folder = folder
        self.mails = mails
        self.cache = cache
        self._lock = subsystem.get().new_rwlock()

    @property
    def mailbox_id(self) -> ObjectId:
        return ObjectId(b"F%d" % self.folder.id)

    @property
    def readonly(self) -> bool:
        return False

    @property
    def uid_validity(self) -> int:
        return self.folder.uidvalidity

    @property
    def permanent_flags(self) -> frozenset[Flag]:
        return (get_system_flags() - {Recent}) | {Wildcard}

    @property
    def session_flags(self) -> frozenset[Flag]:
        return frozenset({Recent})

    @property
    def messages_lock(self) -> ReadWriteLock:
        return self._lock

    @property
    def selected_set(self) -> SelectedSet:
        return _selected_set(self.folder.id)

    async def update_selected(
        self, selected: SelectedMailbox, *, wait_on: Event | None = None
    ) -> SelectedMailbox:
        fid = self.folder.id
        if wait_on is not None:
            changed = subsystem.get().new_event()
            unwatch = self.mails.watchers.watch(fid, changed.set)
            try:
                either = wait_on.or_event(changed)
                seen = selected.mod_sequence
                while not either.is_set():
                    await either.wait(timeout=IDLE_POLL)
                    if seen is not None and self.mails.modseq(fid) != seen:
                        break
            finally:
                unwatch()
        since = selected.mod_sequence
        current = self.mails.modseq(fid)
        if since is None:
            selected.add_updates([Message(i, self.cache) for i in self.mails.items(fid)], [])
        else:
            updated, expunged = self.mails.changes(fid, since)
            selected.add_updates([Message(i, self.cache) for i in updated], expunged)
        selected.mod_sequence = current
        return selected

    async def append(self, append_msg: AppendMessage, *, recent: bool = False) -> Message:
        raw = bytes(append_msg.literal)
        when = (append_msg.when or datetime.now(UTC)).timestamp()
        tenant = self.folder.tenant
        ref = self.mails.add_message(
            tenant,
            raw,
            message_id="",
            envelope={"appended_to": f"{self.folder.mailbox}/{self.folder.name}"},
            received_at=datetime.now(UTC).isoformat(),
            origin="append",
        )
        uid = self.mails.put(self.folder.id, tenant, ref, _flag_names(append_msg.flag_set), when)
        item = self.mails.item(self.folder.id, uid)
        assert item is not None
        return Message(item, self.cache)

    async def copy(self, uid: int, destination: MailboxData, *, recent: bool = False) -> int | None:
        item = self.mails.item(self.folder.id, uid)
        if item is None or item.expunged:
            return None
        return self.mails.put(
            destination.folder.id, destination.folder.tenant, item.message, item.flags, item.internal_date
        )

    async def move(self, uid: int, destination: MailboxData, *, recent: bool = False) -> int | None:
        new_uid = await self.copy(uid, destination, recent=recent)
        if new_uid is not None:
            self.mails.expunge(self.folder.id, [uid])
        return new_uid

    async def get(self, uid: int, cached_msg: CachedMessage) -> Message:
        item = self.mails.item(self.folder.id, uid)
        if item is None:
            raise IndexError(uid)
        return Message(item, self.cache, expunged=item.expunged)

    async def update(
        self, uid: int, cached_msg: CachedMessage, flag_set: frozenset[Flag], mode: FlagOp
    ) -> Message:
        item = self.mails.item(self.folder.id, uid)
        if item is None:
            raise IndexError(uid)
        if item.expunged:
            return Message(item, self.cache, expunged=True)
        current = frozenset(Flag(f.encode()) for f in item.flags)
        new = mode.apply(current, flag_set)
        updated = self.mails.set_flags(self.folder.id, uid, _flag_names(new))
        assert updated is not None
        return Message(updated, self.cache)

    async def delete(self, uids: Iterable[int]) -> None:
        self.mails.expunge(self.folder.id, uids)

    async def claim_recent(self, selected: SelectedMailbox) -> None:
        for uid in self.mails.claim_recent(self.folder.id):
            selected.session_flags.add_recent(uid)

    async def cleanup(self) -> None:
        pass

    async def messages(self) -> AsyncIterable[Message]:
        for item in self.mails.items(self.folder.id):
            yield Message(item, self.cache)

    async def snapshot(self) -> Snapshot:
        items = self.mails.items(self.folder.id)
        exists = len(items)
        recent = sum(1 for i in items if i.recent)
        unseen = 0
        first_unseen: int | None = None
        keywords: set[Flag] = set()
        for seq, item in enumerate(items, 1):
            keywords.update(Flag(f.encode()) for f in item.flags)
            if "\\Seen" not in item.flags:
                unseen += 1
                if first_unseen is None:
                    first_unseen = seq
        folder = self.mails.folder_by_id(self.folder.id) or self.folder
        return Snapshot(
            self.mailbox_id,
            self.readonly,
            self.uid_validity,
            self.permanent_flags | keywords,
            self.session_flags,
            exists,
            recent,
            unseen,
            first_unseen,
            folder.next_uid,
        )

    async def find(
        self, seq_set: SequenceSet, selected: SelectedMailbox
    ) -> AsyncIterable[tuple[int, Message]]:
        # one query for the folder instead of one per message (FETCH 1:* of a large INBOX)
        wanted = list(selected.messages.get_all(seq_set))
        current = {i.uid: i for i in self.mails.items(self.folder.id)}
        self.cache.prefetch(current[c.uid].message for _, c in wanted if c.uid in current)
        for seq, cached in wanted:
            item = current.get(cached.uid)
            if item is not None:
                yield seq, Message(item, self.cache)
            else:
                gone = self.mails.item(self.folder.id, cached.uid)
                if gone is not None:
                    yield seq, Message(gone, self.cache, expunged=True)

    async def find_deleted(self, seq_set: SequenceSet, selected: SelectedMailbox) -> Sequence[int]:
        return [
            msg.uid
            async for _, msg in self.find(seq_set, selected)
            if Flag(b"\\Deleted") in msg.permanent_flags
        ]


class MailboxSet:
    """The folders of one mailbox (pymap MailboxSetInterface); `/` separates levels."""

    def __init__(self, tenant: str, address: str, mails: MailStore, cache: ContentCache):
        self.tenant, self.address = tenant, address
        self.mails, self.cache = mails, cache

    @property
    def delimiter(self) -> str:
        return "/"

    def folders(self) -> list[Folder]:
        return self.mails.folders(self.tenant, self.address)

    def special_use(self) -> dict[str, str]:
        return {f.name: f.special_use for f in self.folders() if f.special_use}

    async def set_subscribed(self, name: str, subscribed: bool) -> None:
        folder = self.mails.folder(self.tenant, self.address, name)
        if folder is not None:
            self.mails.subscribe(folder, subscribed)

    async def list_subscribed(self) -> ListTree:
        names = [f.name for f in self.folders() if f.subscribed and f.name != "INBOX"]
        return ListTree(self.delimiter).update("INBOX", *names)

    async def list_mailboxes(self) -> ListTree:
        names = [f.name for f in self.folders() if f.name != "INBOX"]
        return ListTree(self.delimiter).update("INBOX", *names)

    async def get_mailbox(self, name: str) -> MailboxData:
        folder = self.mails.folder(self.tenant, self.address, name)
        if folder is None:
            raise KeyError(name)
        return MailboxData(folder, self.mails, self.cache)

    async def add_mailbox(self, name: str) -> ObjectId:
        if self.mails.folder(self.tenant, self.address, name) is not None:
            raise ValueError(name)
        folder = self.mails.create_folder(self.tenant, self.address, name)
        return ObjectId(b"F%d" % folder.id)

    async def delete_mailbox(self, name: str) -> None:
        folder = self.mails.folder(self.tenant, self.address, name)
        if folder is None:
            raise KeyError(name)
        self.mails.delete_folder(folder)

    async def rename_mailbox(self, before: str, after: str) -> None:
        tree = await self.list_mailboxes()
        if tree.get(before) is None:
            raise KeyError(before)
        if tree.get(after) is not None:
            raise ValueError(after)
        for old, new in tree.get_renames(before, after):
            folder = self.mails.folder(self.tenant, self.address, old)
            if folder is None:
                continue
            if old == "INBOX":  # RFC 3501 §6.3.5: INBOX's messages move, INBOX stays (empty)
                target = self.mails.create_folder(self.tenant, self.address, new)
                items = self.mails.items(folder.id)
                for item in items:
                    self.mails.put(target.id, self.tenant, item.message, item.flags, item.internal_date)
                self.mails.expunge(folder.id, [i.uid for i in items])
            else:
                self.mails.rename_folder(folder, new)


class Config(IMAPConfig):
    """pymap settings of the sandbox's IMAP listeners."""

    def __init__(self, args: Any, *, mails: MailStore, capabilities: Sequence[bytes], **kwargs: Any) -> None:
        super().__init__(args, **kwargs)
        self.mails = mails
        self.cache = ContentCache(mails)
        self._custom = list(capabilities)

    @property
    def backend_capability(self) -> BackendCapability:
        return BackendCapability(idle=True, object_id=False, multi_append=True, custom=self._custom)


class Login(LoginInterface):
    """pymap's login: the credentials already carry the verified identity (mssante.imap.server)."""

    def __init__(self, config: Config) -> None:
        self.config = config
        self._tokens = AllTokens(config)

    @property
    def tokens(self) -> AllTokens:
        return self._tokens

    async def authenticate(self, credentials: Any) -> Identity:
        identity = getattr(credentials, "identity", None)
        if not isinstance(identity, MailIdentity):
            raise InvalidAuth()
        return Identity(identity, self.config)

    async def authorize(self, authenticated: IdentityInterface, authzid: str) -> Identity:
        assert isinstance(authenticated, Identity)
        return authenticated


class Identity(IdentityInterface):
    def __init__(self, identity: MailIdentity, config: Config) -> None:
        self.identity = identity
        self.config = config

    @property
    def name(self) -> str:
        return self.identity.login

    @property
    def roles(self) -> frozenset[str]:
        return frozenset()

    async def new_token(self, *, expiration: datetime | None = None) -> str | None:
        return None

    @asynccontextmanager
    async def new_session(self) -> AsyncIterator[Session]:
        mset = MailboxSet(self.identity.tenant, self.identity.login, self.config.mails, self.config.cache)
        mset.folders()  # INBOX, Sent, Drafts, Trash exist from the first login
        yield Session(self.identity.login, self.config, mset)

    async def get(self) -> UserMetadata:
        raise UserNotFound(self.name)

    async def set(self, metadata: UserMetadata) -> int:
        raise UserNotFound(self.name)

    async def delete(self) -> None:
        raise UserNotFound(self.name)


class Session(BaseSession[Message]):
    """One authenticated IMAP session on one mailbox; LIST entries carry SPECIAL-USE attributes
    (RFC 6154) next to pymap's own (HasChildren, ...)."""

    def __init__(self, owner: str, config: Config, mailbox_set: MailboxSet) -> None:
        super().__init__(owner)
        self._config = config
        self._mailbox_set = mailbox_set

    @property
    def config(self) -> Config:
        return self._config

    @property
    def mailbox_set(self) -> MailboxSet:  # type: ignore[override]
        return self._mailbox_set

    async def cleanup(self) -> None:
        self._config.cache.flush()  # the summaries the command made, in one transaction

    async def list_mailboxes(  # type: ignore[override]
        self, ref_name: str, filter_: str, subscribed: bool = False, selected: SelectedMailbox | None = None
    ) -> tuple[list[tuple[str, str | None, list[bytes]]], SelectedMailbox | None]:
        found, updates = await super().list_mailboxes(ref_name, filter_, subscribed, selected)
        uses = self._mailbox_set.special_use()
        out = []
        for name, sep, attrs in found:
            extra = [uses[name].lstrip("\\").encode()] if name in uses else []
            out.append((name, sep, [*attrs, *extra]))
        return out, updates
