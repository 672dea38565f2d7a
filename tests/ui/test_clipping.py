"""Names and lines cut to a column keep a mark where they were cut, and slot names keep their end."""
from game.ui.clipping import clip, clip_middle
from game.ui.screens.title import SLOT_WIDTH


def test_two_branches_of_a_long_story_stay_two_names_in_the_slot_column():
    names = ["the-lighthouse-at-skerry-point-at-12", "the-lighthouse-at-skerry-point-at-40"]
    shown = [clip_middle(name, SLOT_WIDTH) for name in names]
    assert shown[0] != shown[1] and all(len(s) == SLOT_WIDTH and "…" in s for s in shown)
    assert shown[0].endswith("-at-12") and shown[0].startswith("the-light")
    assert clip_middle("short", SLOT_WIDTH) == "short"


def test_a_line_cut_at_the_end_says_so():
    assert clip("a" * 30, 10) == "a" * 9 + "…" and clip("fits", 10) == "fits"
