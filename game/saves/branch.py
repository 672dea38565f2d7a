"""Branches: a new slot whose story is another slot's first steps, played on its own way.

A branch is a slot like any other: its own journal, its own header and its own long-term
memory, rebuilt from its own journal. So memory follows the branch by construction: nothing
the parent learns after the fork is in the branch's journal, and so nothing of it can ever
be recalled there. The header names the parent and the fork step, for the story map.
"""
from __future__ import annotations

import shutil
from datetime import datetime, timezone
from pathlib import Path

from game.core import records as r
from game.core.models import Step
from game.core.story import Story, replay as replay_records, replaying
from game.saves import header as headers
from game.saves.journal import Journal
from game.saves.names import SlotError, check_name, unique_slot
from game.saves.slot import JOURNAL, MemoryConfig, Slot, SlotExists, replay, slot_folder


def free_slot(root: Path, name: str) -> Path:
    """The folder for a new slot `name`; one-line SlotError when the name is bad or taken."""
    path = slot_folder(Path(root), name)  # a name that is no slot's, or a folder that is a link, is refused
    if Journal(path / JOURNAL).read().records:
        raise SlotExists(f"slot {name} already exists in {root}")
    return path


def make_branch(root: Path, name: str, records: list[dict], parent: str, fork_step: int, config=None,
                parent_id: str | None = None) -> None:
    """A new slot `name` whose journal holds exactly `records` (raw journal records, the Begin
    first), whose header names `parent` and `fork_step`, and whose long-term memory is rebuilt
    from that journal. One-line SlotError, and no slot, when the records do not make a story or
    the name is taken.

    The new slot's lock is taken before its name is checked and held until it is whole, as a new
    game takes it: a game or another branch making the same slot at the same moment is refused
    (or refuses this one), and never has its journal replaced or mixed with this one's."""
    root = Path(root)
    path = slot_folder(root, name)  # a name that is no slot's, or a folder that is a link, is refused
    story = replay_checked(records, name)
    slot = Slot(root, name, config or MemoryConfig())
    made = not path.exists()
    try:
        path.mkdir(parents=True, exist_ok=True)
    except OSError as error:
        raise SlotError(f"slot {name}: could not save the branch ({error.strerror or error}); nothing else changed") from None
    try:
        slot.take_lock()
    except SlotError:
        if made:  # the folder is the lock holder's now, whoever made it: only an empty one is taken back
            try:
                path.rmdir()
            except OSError:
                pass
        # Made here and locked by another: a game is making it; there before: a game has it open (maybe this one).
        raise SlotExists(f"slot {name} already exists in {root}" + (" (a game is making it)" if made else "")) from None
    try:
        if slot.journal.read().records:
            made = False  # another's slot: never removed
            raise SlotExists(f"slot {name} already exists in {root}")
        origin = {"parent": parent, "fork_step": fork_step}
        if parent_id:  # the parent's identity: a later slot of its name is not its parent
            origin["parent_id"] = parent_id
        slot.fill(records, story, origin)  # under the lock still held
    except OSError as error:
        slot.close()
        if made:
            shutil.rmtree(path, ignore_errors=True)
        raise SlotError(f"slot {name}: could not save the branch ({error.strerror or error}); nothing else changed") from None
    except BaseException:
        slot.close()
        if made and not slot.journal.path.exists():
            shutil.rmtree(path, ignore_errors=True)
        raise
    slot.close()


def replay_checked(records: list[dict], name: str) -> Story:
    """The story `records` make, or a one-line SlotError naming the slot they were meant for."""
    if not records:
        raise SlotError(f"slot {name}: a branch needs at least the story's first record")
    try:
        return replay_records(records)
    except (r.RecordError, KeyError, ValueError) as error:
        raise SlotError(f"slot {name}: the branch's records do not make a story ({str(error).splitlines()[0]})") from None


def pinned_at(raw: list[dict], last: int) -> list[str]:
    """The pinned notes as they were the last time the story stood at step `last`: notes pinned
    later may hold what only the later steps told, and a branch must not learn it that way."""
    pinned: list[str] = []
    for story in replaying(raw):
        if story.taken == last:
            pinned = list(story.pinned)
    return pinned


def records_upto(story: Story, last: int, pinned: list[str] | None = None) -> list[dict]:
    """Journal records that tell `story`'s steps 0..`last` as they read now, and nothing after.

    Every telling of a step is kept (the first told, then each retry, then a flip to the chosen
    one), so the branch can flip between versions as the parent could; edits are already in the
    text. Each version gets the seq of the record that now writes it, so long-term memory ids are
    the branch's own, and the player's deletions and corrections of memory follow their entries.
    `pinned`: the pinned notes to give the branch (default: the story's own).
    """
    out: list[r.Record] = [r.Begin(seq=0, created=datetime.now(timezone.utc).isoformat(timespec="seconds"),
                                   seed=story.seed, prefs=story.prefs)]
    seqs: dict[int, int] = {}  # a version's seq in the parent -> in the branch

    def add(record: r.Record) -> r.Record:
        out.append(record.stamped(len(out)))
        return out[-1]

    for step in story.steps[:last + 1]:
        tellings = sorted([step.version, *step.alternatives], key=lambda v: v.seq)  # in the order they were written
        told: list = []  # the branch's copies, newest first, as a retry keeps them
        for k, version in enumerate(tellings):
            kind = r.Told if k == 0 else r.Retold
            record = add(kind(step=Step(number=step.number, action=step.action, at=step.at, version=version,
                                        alternatives=list(told))))
            seqs[version.seq] = record.seq
            told.insert(0, record.step.version)
        if step.version is not tellings[-1]:
            chosen = seqs[step.version.seq]
            index = next(i for i, v in enumerate(told[1:]) if v.seq == chosen)
            add(r.Flipped(number=step.number, index=index))
    for old, text in sorted(story.amended.items()):
        if (new := _renamed(old, seqs)) is not None:
            add(r.Amended(id=new, text=text))
    for old in sorted(story.forgotten):
        if (new := _renamed(old, seqs)) is not None:
            add(r.Forgotten(id=new))
    pinned = list(story.pinned if pinned is None else pinned)
    if pinned != list(story.seed.pinned):
        add(r.Pinned(notes=pinned))
    return [record.line() for record in out]


def _renamed(entry_id: str, seqs: dict[int, int]) -> str | None:
    """A memory id ("v12-3": piece 3 of the text record 12 wrote) in the branch's numbering; None
    when its text is not in the branch."""
    prefix, _, rest = entry_id.partition("-")
    try:
        new = seqs[int(prefix[1:])]
    except (ValueError, KeyError):
        return None
    return f"v{new}-{rest}"


def branch_at(root: Path, name: str, step: int, new: str | None = None, config=None) -> str:
    """Branch slot `name` at `step`: a new playable slot (`new`, or a free name made from both)
    whose story is `name`'s steps 0..`step`. `name` itself is only read, so the game playing it
    may go on. Returns the new slot's name."""
    check_name(name)
    root = Path(root)
    source = root / name
    if not (source / JOURNAL).exists():
        raise SlotError(f"no slot named {name} in {root}")
    reading = whole(Journal(source / JOURNAL).read(), name)
    story = replay(reading, name)
    if isinstance(step, bool) or not 0 <= step <= story.taken:
        raise SlotError(f"slot {name} has steps 0 to {story.taken}: a branch starts at one of them, not at {step}")
    new = new or branch_name(root, name, step)
    records = records_upto(story, step, pinned_at(reading.records, step))
    make_branch(root, new, records, parent=name, fork_step=step, config=config, parent_id=headers.ident(source))
    return new


def whole(reading, name: str):
    """`reading`, when its journal has no damage; else a one-line SlotError naming the damage. A
    branch of a damaged journal would be made of the records before the damage only, saying
    nothing of the steps after it (which repair keeps, or rebuilds from long-term memory)."""
    line = reading.damaged_line
    if line is not None:
        what = "does not follow the record before it" if line == reading.out_of_order else "is damaged"
        raise SlotError(f"slot {name}: journal line {line} {what}, so it is not branched (a branch would stop there); "
                        f"`recurrent saves repair {name}` keeps every record that fits the story, then branch it "
                        "(nothing was changed)")
    return reading


def branch_name(root: Path, name: str, step: int) -> str:
    """A free slot name for slot `name`'s branch at `step`: NAME-at-STEP (-2, -3... if taken)."""
    return unique_slot(root, f"{name[:52]}-at-{step}")


def copy_slot(root: Path, source: str, target: str, config: MemoryConfig | None = None) -> None:
    """"Save as": a new slot with the same journal, a branch of `source` at its last step (so the
    story map shows where it came from). Its long-term memory is rebuilt from the journal, so the
    copy never shares or half-copies a Chroma folder that is in use."""
    slot_folder(root, target)
    src = slot_folder(root, source)
    if not (src / JOURNAL).exists():
        raise SlotError(f"no slot named {source} in {root}")
    reading = whole(Journal(src / JOURNAL).read(), source)
    story = replay(reading, source)  # refuse to copy a story that does not replay
    make_branch(root, target, reading.records, parent=source, fork_step=story.taken, config=config,
                parent_id=headers.ident(src))
