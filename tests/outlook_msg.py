"""Outlook .msg files for tests, written as [MS-OXMSG] lays them out in an [MS-CFB] compound file.

Neither olefile nor any library the project installs writes compound files, so this module
does, with the layout Outlook uses: version 3 (512-byte sectors), streams under 4096 bytes
in the mini stream, a FAT without DIFAT sectors (files up to ~7 MB). The MAPI properties
are the ones Outlook writes for a received message with attachments: its class, subject, sender,
submit time, and per attachment its method, long file name and data.
"""

from __future__ import annotations

import struct
from datetime import UTC, datetime

SECTOR, MINI, CUTOFF = 512, 64, 4096
FREESECT, ENDOFCHAIN, FATSECT, NOSTREAM = 0xFFFFFFFF, 0xFFFFFFFE, 0xFFFFFFFD, 0xFFFFFFFF
PT_LONG, PT_SYSTIME, PT_UNICODE, PT_BINARY, PT_OBJECT = 0x0003, 0x0040, 0x001F, 0x0102, 0x000D

Tree = dict[str, "bytes | Tree"]


def _filetime(moment: datetime) -> int:
    return int((moment - datetime(1601, 1, 1, tzinfo=UTC)).total_seconds() * 10_000_000)


def _properties(header: bytes, fixed: list[tuple[int, int, int]]) -> bytes:
    """A __properties_version1.0 stream: *header*, then (id, type, value) entries of 16 bytes."""
    return header + b"".join(struct.pack("<IIQ", (prop << 16) | kind, 0x6, value) for prop, kind, value in fixed)


def _text(value: str) -> bytes:
    return value.encode("utf-16-le")  # no terminating null in the stream ([MS-OXMSG] 2.1.3)


def message_tree(*, subject: str, sender_name: str, sender: str, sent: datetime,
                 attachments: list[tuple[str, bytes | Tree]], embedded: bool = False) -> Tree:
    """The storages and streams of one message; an attachment given as a Tree is an attached message."""
    tree: Tree = {
        "__substg1.0_001A001F": _text("IPM.Note"),
        "__substg1.0_0037001F": _text(subject),
        "__substg1.0_0C1A001F": _text(sender_name),
        "__substg1.0_5D01001F": _text(sender),
    }
    counts = struct.pack("<IIII", 0, len(attachments), 0, len(attachments))
    header = (b"\0" * 8 + counts + b"\0" * 8) if not embedded else (b"\0" * 8 + counts)
    tree["__properties_version1.0"] = _properties(header, [(0x0039, PT_SYSTIME, _filetime(sent)),
                                                            (0x0E06, PT_SYSTIME, _filetime(sent))])
    for i, (name, content) in enumerate(attachments):
        method = 5 if isinstance(content, dict) else 1
        storage: Tree = {
            "__properties_version1.0": _properties(b"\0" * 8, [(0x3705, PT_LONG, method), (0x0E20, PT_LONG, 0)]),
            "__substg1.0_3707001F": _text(name),
            "__substg1.0_3001001F": _text(name),
        }
        if isinstance(content, dict):
            storage["__substg1.0_3701000D"] = content
        else:
            storage["__substg1.0_37010102"] = content
        tree[f"__attach_version1.0_#{i:08X}"] = storage
    tree["__nameid_version1.0"] = {"__substg1.0_00020102": b"", "__substg1.0_00030102": b"",
                                   "__substg1.0_00040102": b""}
    return tree


def msg_file(**kw: object) -> bytes:
    """A whole .msg file (see :func:`message_tree`)."""
    return compound_file(message_tree(**kw))  # type: ignore[arg-type]


# --- the compound file ------------------------------------------------------------------------


class _Entry:
    def __init__(self, name: str, kind: int, data: bytes = b"") -> None:
        self.name, self.kind, self.data = name, kind, data
        self.left = self.right = self.child = NOSTREAM
        self.start, self.size = ENDOFCHAIN, 0


def compound_file(tree: Tree) -> bytes:
    entries = [_Entry("Root Entry", 5)]
    _add(entries, 0, tree)
    small = [e for e in entries if e.kind == 2 and 0 < len(e.data) < CUTOFF]
    big = [e for e in entries if e.kind == 2 and len(e.data) >= CUTOFF]
    # the mini stream and its allocation table
    mini_fat: list[int] = []
    mini_stream = b""
    for e in small:
        count = -(-len(e.data) // MINI)
        e.start, e.size = len(mini_fat), len(e.data)
        mini_fat += [len(mini_fat) + k + 1 for k in range(count - 1)] + [ENDOFCHAIN]
        mini_stream += e.data.ljust(count * MINI, b"\0")
    for e in entries:
        if e.kind == 2 and not e.data:
            e.start, e.size = ENDOFCHAIN, 0
    # regular sectors: big streams, the mini stream, the mini FAT, the directory, then the FAT
    sectors: list[bytes] = []
    chains: list[tuple[int, int]] = []  # (first sector, count)

    def place(data: bytes) -> int:
        count = -(-len(data) // SECTOR)
        first = len(sectors)
        for k in range(count):
            sectors.append(data[k * SECTOR:(k + 1) * SECTOR].ljust(SECTOR, b"\0"))
        chains.append((first, count))
        return first if count else ENDOFCHAIN

    for e in big:
        e.start, e.size = place(e.data), len(e.data)
    root = entries[0]
    root.start, root.size = (place(mini_stream), len(mini_stream)) if mini_stream else (ENDOFCHAIN, 0)
    mini_fat_bytes = b"".join(struct.pack("<I", v) for v in mini_fat)
    mini_fat_bytes = mini_fat_bytes.ljust(-(-len(mini_fat_bytes) // SECTOR) * SECTOR, b"\xff")
    first_mini_fat = place(mini_fat_bytes) if mini_fat else ENDOFCHAIN
    mini_fat_sectors = len(mini_fat_bytes) // SECTOR
    directory = b"".join(_directory_entry(e) for e in entries)
    directory = directory.ljust(-(-len(directory) // SECTOR) * SECTOR, b"\0")
    first_dir = place(directory)
    fat_count = 1
    while fat_count * (SECTOR // 4) < len(sectors) + fat_count:
        fat_count += 1
    fat = [FREESECT] * (fat_count * (SECTOR // 4))
    for first, count in chains:
        for k in range(count):
            fat[first + k] = first + k + 1 if k < count - 1 else ENDOFCHAIN
    fat_sectors = list(range(len(sectors), len(sectors) + fat_count))
    for s in fat_sectors:
        fat[s] = FATSECT
    fat_bytes = b"".join(struct.pack("<I", v) for v in fat)
    sectors += [fat_bytes[k * SECTOR:(k + 1) * SECTOR] for k in range(fat_count)]
    difat = fat_sectors + [FREESECT] * (109 - fat_count)
    header = struct.pack(
        "<8s16sHHHHH6sIIIIIIIII", b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1", b"\0" * 16, 0x3E, 3, 0xFFFE, 9, 6,
        b"\0" * 6, 0, fat_count, first_dir, 0, CUTOFF, first_mini_fat, mini_fat_sectors, ENDOFCHAIN, 0,
    ) + b"".join(struct.pack("<I", v) for v in difat)
    return header + b"".join(sectors)


def _add(entries: list[_Entry], parent: int, tree: Tree) -> None:
    """Add *tree* under *parent*: children in the order the red-black tree compares names, linked as
    a chain of right siblings (a valid, if unbalanced, search tree)."""
    names = sorted(tree, key=lambda n: (len(n), n.upper()))
    previous = None
    for name in names:
        content = tree[name]
        entry = _Entry(name, 1 if isinstance(content, dict) else 2, b"" if isinstance(content, dict) else content)
        index = len(entries)
        entries.append(entry)
        if previous is None:
            entries[parent].child = index
        else:
            entries[previous].right = index
        previous = index
        if isinstance(content, dict):
            _add(entries, index, content)


def _directory_entry(e: _Entry) -> bytes:
    name = e.name.encode("utf-16-le") + b"\0\0"
    return struct.pack("<64sHBBIII16sIQQIQ", name, len(name), e.kind, 1, e.left, e.right, e.child,
                       b"\0" * 16, 0, 0, 0, e.start, e.size)
