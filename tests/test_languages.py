"""Stories in any language: words, sentences, token estimates, keywords and recall."""
from __future__ import annotations

from game.core.seed import WorldEntry
from game.core.text import clip_tokens, clip_words, count_words, pieces, sentences, tail_tokens, tokens, words
from game.core.world import triggered
from game.memory.lexicon import Lexicon, terms
from game.memory.stems import detect


def test_words_of_any_script():
    assert words("Zoë, Müller, café, Ярослав — don't") == ["zoë", "müller", "café", "ярослав", "don't"]


def test_sentences_in_russian_german_and_japanese():
    assert sentences("Он ушёл. Она осталась! «Где ключ?» — спросил он.") == ["Он ушёл.", "Она осталась!",
                                                                             "«Где ключ?» — спросил он."]
    assert sentences("Er ging. Ärger kam, z. B. gestern.") == ["Er ging.", "Ärger kam, z. B. gestern."]
    assert sentences("彼は行った。彼女は残った！どこへ？") == ["彼は行った。", "彼女は残った！", "どこへ？"]
    assert sentences("He said “Go.” Then he left.") == ["He said “Go.”", "Then he left."]


def test_a_chinese_character_counts_as_a_word():
    assert count_words("他找到了钥匙。") == 6 and count_words("two words") == 2
    assert clip_words("他找到了钥匙。", 3) == "他找到 …"
    assert pieces("他走了。她留下了。他们说了很长很长的话。") == ["他走了。她留下了。", "他们说了很长很长的话。"]


def test_token_estimates_follow_the_script():
    english, russian, chinese = "The lamp hisses in the dark.", "Лампа шипит в темноте.", "灯在黑暗中嘶嘶作响。"
    assert tokens(english) == (len(english) + 3) // 4
    assert tokens(russian) > len(russian) / 4  # Cyrillic takes more tokens a character than English
    assert tokens(chinese) >= len(chinese) - 1  # about one a character
    long = "Лампа шипит в темноте, и тени подступают ближе. " * 20
    assert tokens(clip_tokens(long, 30)) <= 31 and clip_tokens(long, 30).endswith(" …")
    tail = tail_tokens("灯在黑暗中嘶嘶作响。" * 30, 20)
    assert tail.startswith("… ") and tokens(tail) <= 22 and tail.endswith("作响。")


def test_world_keys_in_chinese_match_inside_a_sentence():
    key = WorldEntry(name="钥匙", keys=["钥匙"], text="一把铜钥匙。")
    name = WorldEntry(name="Ash", keys=["Ash"], text="A wizard.")
    assert triggered([key, name], "他找到了钥匙。") == [key]
    assert triggered([key, name], "the crash") == []


def test_keywords_meet_at_the_stem_and_chinese_in_pairs():
    assert detect("Он сказал, что ключ лежит в сундуке, и она это знала.") == "russian"
    assert detect("Der Schlüssel liegt in der Kiste, und sie weiß es nicht.") == "german"
    assert detect("The key is in the chest, and she knows it.") == "english"
    assert terms("карту", "russian") == terms("карта", "russian")
    assert terms("den eisernen Schlüssel", "german") == terms("der eiserne Schlüssel", "german")
    assert terms("他找到了钥匙") == ["他找", "找到", "到了", "了钥", "钥匙"]


def test_keyword_search_finds_an_inflected_word_and_a_compound_by_its_head():
    russian = Lexicon()
    russian.add("fact", "Мария говорит, что речная карта спрятана в сундуке у мельницы.")
    russian.add("other", "Пётр спешит мимо рынка с корзиной и молча кивает.")
    assert russian.language == "russian"
    assert russian.search("Где Мария спрятала карту?", 1)[0][0] == "fact"
    german = Lexicon()
    german.add("fact", "Wendel sagt, dass der Messingkompass in der Seekiste am Bootshaus versteckt ist.")
    german.add("other", "Jemand hat einen schiefen Stern an die Wand der Mühle gemalt, und das ist alles.")
    assert german.language == "german"
    assert german.search("Hol den Kompass.", 1)[0][0] == "fact"
    chinese = Lexicon()
    chinese.add("fact", "玛丽说铜钥匙藏在磨坊旁边的箱子里。")
    chinese.add("other", "彼得提着篮子匆匆走过市场。")
    assert chinese.search("钥匙在哪里？", 1)[0][0] == "fact"
