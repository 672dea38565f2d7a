"""German and Russian for bench/storygen.py: the same kind of story, written the way those
languages write it, so planted-fact recall is measured on words that inflect.

Nouns carry the forms their sentences need (German articles and cases; Russian cases and
gender), and the reader's questions use the forms a reader would, not the fact's own: a Russian
reader asks about "карту" or "о речной карте" where the fact said "речная карта".
"""
from __future__ import annotations

import random
from dataclasses import dataclass
from typing import Callable


@dataclass
class Pack:
    people: list  # (name, female)
    places: list  # dicts of forms
    objects: list  # dicts of forms
    containers: list  # dicts of forms
    colours: list
    weather: list
    filler: Callable[[random.Random, "Pack"], str]
    fact: Callable[..., str]
    question: Callable[..., str]
    walk: Callable[[random.Random, "Pack"], str]


def _picks(rng: random.Random, pack: Pack) -> tuple:
    """Two people, a place, an object, a container and a colour for a filler sentence."""
    (p, _), (q, _) = rng.sample(pack.people, 2)
    place, obj, cont = rng.choice(pack.places), rng.choice(pack.objects), rng.choice(pack.containers)
    return p, q, place, obj, cont, rng.choice(pack.colours)


def _cap(text: str) -> str:
    return text[:1].upper() + text[1:]


# -- German ---------------------------------------------------------------------------------------
DE_PEOPLE = [("Maren", True), ("Tobias", False), ("Ilse", True), ("Konrad", False), ("Hedda", True), ("Piet", False),
             ("Solveig", True), ("Anselm", False), ("Rosa", True), ("Bram", False), ("Wendel", False), ("Agathe", True),
             ("Lukas", False), ("Nelly", True), ("Oskar", False), ("Freya", True), ("Jörg", False), ("Magda", True),
             ("Ulrich", False), ("Tilde", True)]
DE_PLACES = [dict(at=a, past=a.replace("im ", "am ").replace("auf dem ", "am ") + " vorbei", to=t, gen=g) for a, t, g in [
    ("an der Kapelle", "zur Kapelle", "der Kapelle"), ("am Hafen", "zum Hafen", "des Hafens"),
    ("auf dem Markt", "zum Markt", "des Marktes"), ("an der Mühle", "zur Mühle", "der Mühle"),
    ("am Wachturm", "zum Wachturm", "des Wachturms"), ("am Gasthaus", "zum Gasthaus", "des Gasthauses"),
    ("an der Brücke", "zur Brücke", "der Brücke"), ("im Obstgarten", "zum Obstgarten", "des Obstgartens"),
    ("am Brunnen", "zum Brunnen", "des Brunnens"), ("an der Esse", "zur Esse", "der Esse"),
    ("am Kornspeicher", "zum Kornspeicher", "des Kornspeichers"), ("am Fähranleger", "zum Fähranleger", "des Fähranlegers"),
    ("am Badehaus", "zum Badehaus", "des Badehauses"), ("an der Bibliothek", "zur Bibliothek", "der Bibliothek"),
    ("an der Schmiede", "zur Schmiede", "der Schmiede"), ("an der Gerberei", "zur Gerberei", "der Gerberei"),
    ("am Leuchtturm", "zum Leuchtturm", "des Leuchtturms"), ("im Keller", "zum Keller", "des Kellers"),
    ("am Bootshaus", "zum Bootshaus", "des Bootshauses"), ("am Schrein", "zum Schrein", "des Schreins")]]
DE_OBJECTS = [dict(nom=n, acc=a, dat=d, short=s, short_acc=sa, short_dat=sd) for n, a, d, s, sa, sd in [
    ("der eiserne Schlüssel", "den eisernen Schlüssel", "dem eisernen Schlüssel", "der Schlüssel", "den Schlüssel", "dem Schlüssel"),
    ("die Fährkarte", "die Fährkarte", "der Fährkarte", "die Fährkarte", "die Fährkarte", "der Fährkarte"),
    ("der versiegelte Brief", "den versiegelten Brief", "dem versiegelten Brief", "der Brief", "den Brief", "dem Brief"),
    ("der silberne Ring", "den silbernen Ring", "dem silbernen Ring", "der Ring", "den Ring", "dem Ring"),
    ("die Flusskarte", "die Flusskarte", "der Flusskarte", "die Karte", "die Karte", "der Karte"),
    ("die Blechlaterne", "die Blechlaterne", "der Blechlaterne", "die Laterne", "die Laterne", "der Laterne"),
    ("die Goldmünze", "die Goldmünze", "der Goldmünze", "die Münze", "die Münze", "der Münze"),
    ("das Knochenmesser", "das Knochenmesser", "dem Knochenmesser", "das Messer", "das Messer", "dem Messer"),
    ("das Gebetbuch", "das Gebetbuch", "dem Gebetbuch", "das Gebetbuch", "das Gebetbuch", "dem Gebetbuch"),
    ("der Messingkompass", "den Messingkompass", "dem Messingkompass", "der Kompass", "den Kompass", "dem Kompass"),
    ("der Siegelring", "den Siegelring", "dem Siegelring", "der Siegelring", "den Siegelring", "dem Siegelring"),
    ("das Kontobuch", "das Kontobuch", "dem Kontobuch", "das Kontobuch", "das Kontobuch", "dem Kontobuch"),
    ("die Pfeife", "die Pfeife", "der Pfeife", "die Pfeife", "die Pfeife", "der Pfeife"),
    ("das Medaillon", "das Medaillon", "dem Medaillon", "das Medaillon", "das Medaillon", "dem Medaillon"),
    ("das Fernrohr", "das Fernrohr", "dem Fernrohr", "das Fernrohr", "das Fernrohr", "dem Fernrohr"),
    ("die Taschenuhr", "die Taschenuhr", "der Taschenuhr", "die Uhr", "die Uhr", "der Uhr"),
    ("das Glasfläschchen", "das Glasfläschchen", "dem Glasfläschchen", "das Fläschchen", "das Fläschchen", "dem Fläschchen"),
    ("die Urkunde", "die Urkunde", "der Urkunde", "die Urkunde", "die Urkunde", "der Urkunde"),
    ("die Medaille", "die Medaille", "der Medaille", "die Medaille", "die Medaille", "der Medaille"),
    ("der Siegelstempel", "den Siegelstempel", "dem Siegelstempel", "der Stempel", "den Stempel", "dem Stempel")]]
DE_CONTAINERS = [dict(acc=a, in_dat=d, in_acc=i) for a, d, i in [
    ("das Gesangbuch", "im Gesangbuch", "ins Gesangbuch"), ("den Reitstiefel", "im Reitstiefel", "in den Reitstiefel"),
    ("das Mehlfass", "im Mehlfass", "ins Mehlfass"), ("das Weinfass", "im Weinfass", "ins Weinfass"),
    ("die Seekiste", "in der Seekiste", "in die Seekiste"), ("die Hutschachtel", "in der Hutschachtel", "in die Hutschachtel"),
    ("den Brotlaib", "im Brotlaib", "in den Brotlaib"), ("das Uhrgehäuse", "im Uhrgehäuse", "ins Uhrgehäuse"),
    ("das Ruderboot", "im Ruderboot", "ins Ruderboot"), ("den Vogelkäfig", "im Vogelkäfig", "in den Vogelkäfig"),
    ("den Nähkorb", "im Nähkorb", "in den Nähkorb"), ("den Ofen", "im Ofen", "in den Ofen"),
    ("den Kamin", "im Kamin", "in den Kamin"), ("die Matratze", "in der Matratze", "in die Matratze"),
    ("das Salzfass", "im Salzfass", "ins Salzfass"), ("den Bienenstock", "im Bienenstock", "in den Bienenstock"),
    ("das Mantelfutter", "im Mantelfutter", "ins Mantelfutter"), ("den Geigenkasten", "im Geigenkasten", "in den Geigenkasten"),
    ("die Teekanne", "in der Teekanne", "in die Teekanne"), ("die Schublade", "in der Schublade", "in die Schublade")]]
DE_COLOURS = ["blauen", "roten", "grünen", "schwarzen", "weißen", "gelben", "grauen", "kupfernen", "violetten", "braunen"]
DE_WEATHER = ["Regen prasselt gegen die Fensterläden", "Vom Fluss zieht ein tiefer Nebel herauf",
              "Der Wind wird kalt und riecht nach Teer", "Möwen zanken sich über den Dächern",
              "Die Abendglocke schlägt die Stunde", "Rauch hängt über den Gassen"]


def _de_filler(rng: random.Random, pack: Pack) -> str:
    p, q, place, obj, cont, colour = _picks(rng, pack)
    return rng.choice([
        f"{p} eilt mit einem Korb {place['past']} und nickt dir wortlos zu.",
        f"{_cap(place['at'])} redet man nur von {obj['dat']}, aber niemand weiß, wem das Ding gehörte.",
        f"Du gehst {place['past']}, wo ein Hund im Türrahmen schläft und ein Karren mit gebrochenem Rad wartet.",
        f"{p} streitet mit {q} über den Preis des Lampenöls und den Zustand der Straßen.",
        f"Jemand hat einen schiefen Stern an die Wand {place['gen']} gemalt.",
        f"{p} fragt, ob du irgendwo {cont['acc']} mit dem {colour} Band zum Verkauf gesehen hast.",
        f"{_cap(obj['nom'])} im Schaufenster {place['gen']} ist nur eine bemalte Kopie, und alle wissen es.",
        "Einen Augenblick denkst du an dein Zuhause und an die lange Straße, die dich hergeführt hat.",
        f"{q} lacht über etwas, das {p} sagt, und das Lachen hallt über den Platz.",
        "Ein Kind rennt mit einer viel zu großen Last vorbei und ruft nach seinem Bruder.",
    ])


def _de_fact(rng, person, other, obj, cont, colour, place) -> str:
    return rng.choice([
        f"{person} beugt sich zu dir und sagt, dass {obj['nom']} {cont['in_dat']} mit dem {colour} Band {place['at']} versteckt ist.",
        f"Zum Abschied flüstert {person}, dass {other} {obj['acc']} {cont['in_acc']} mit dem {colour} Band {place['at']} gelegt hat.",
        f"{person} schwört beim Grab der Mutter, dass {obj['nom']} ganz unten {cont['in_dat']} mit dem {colour} Band {place['at']} liegt.",
    ])


def _de_question(rng, person, obj, cont, colour) -> str:
    return rng.choice([
        f"Hör dich um: Wo hat {person} gesagt, dass {obj['short']} versteckt ist?",
        f"Geh und hol {obj['short_acc']} von dort, wo {person} gesagt hat.",
        f"Versuch dich zu erinnern, was {person} mir über {obj['acc']} erzählt hat.",
        f"Such {cont['acc']} mit dem {colour} Band, von dem man mir erzählt hat.",
        f"Was ist eigentlich mit {obj['short_dat']} los? {person} hat davon gesprochen.",
    ])


def _de_walk(rng, pack) -> str:
    return f"Geh {rng.choice(pack.places)['to']} und sieh dich um."


GERMAN = Pack(DE_PEOPLE, DE_PLACES, DE_OBJECTS, DE_CONTAINERS, DE_COLOURS, DE_WEATHER,
              _de_filler, _de_fact, _de_question, _de_walk)


# -- Russian --------------------------------------------------------------------------------------
RU_PEOPLE = [("Мария", True), ("Тимофей", False), ("Ольга", True), ("Кирилл", False), ("Дарья", True), ("Пётр", False),
             ("Светлана", True), ("Андрей", False), ("Роза", True), ("Борис", False), ("Вадим", False), ("Агата", True),
             ("Лука", False), ("Нина", True), ("Остап", False), ("Фаина", True), ("Юрий", False), ("Марфа", True),
             ("Ульян", False), ("Таисия", True)]
RU_PLACES = [dict(gen=g, at=a) for g, a in [
    ("часовни", "в часовне"), ("гавани", "в гавани"), ("рынка", "на рынке"), ("мельницы", "на мельнице"),
    ("сторожевой башни", "на сторожевой башне"), ("постоялого двора", "на постоялом дворе"), ("моста", "на мосту"),
    ("сада", "в саду"), ("колодца", "у колодца"), ("кузницы", "в кузнице"), ("амбара", "в амбаре"),
    ("пристани", "на пристани"), ("бани", "в бане"), ("библиотеки", "в библиотеке"), ("мастерской", "в мастерской"),
    ("дубильни", "в дубильне"), ("маяка", "на маяке"), ("погреба", "в погребе"), ("лодочного сарая", "в лодочном сарае"),
    ("святилища", "в святилище")]]
RU_OBJECTS = [dict(nom=n, acc=a, prep=p, short=s, short_acc=sa, hidden=h) for n, a, p, s, sa, h in [
    ("железный ключ", "железный ключ", "железном ключе", "ключ", "ключ", "спрятан"),
    ("билет на паром", "билет на паром", "билете на паром", "билет", "билет", "спрятан"),
    ("запечатанное письмо", "запечатанное письмо", "запечатанном письме", "письмо", "письмо", "спрятано"),
    ("серебряное кольцо", "серебряное кольцо", "серебряном кольце", "кольцо", "кольцо", "спрятано"),
    ("речная карта", "речную карту", "речной карте", "карта", "карту", "спрятана"),
    ("жестяной фонарь", "жестяной фонарь", "жестяном фонаре", "фонарь", "фонарь", "спрятан"),
    ("золотая монета", "золотую монету", "золотой монете", "монета", "монету", "спрятана"),
    ("костяной нож", "костяной нож", "костяном ноже", "нож", "нож", "спрятан"),
    ("молитвенник", "молитвенник", "молитвеннике", "молитвенник", "молитвенник", "спрятан"),
    ("медный компас", "медный компас", "медном компасе", "компас", "компас", "спрятан"),
    ("печатка", "печатку", "печатке", "печатка", "печатку", "спрятана"),
    ("счётная книга", "счётную книгу", "счётной книге", "книга", "книгу", "спрятана"),
    ("свисток", "свисток", "свистке", "свисток", "свисток", "спрятан"),
    ("медальон", "медальон", "медальоне", "медальон", "медальон", "спрятан"),
    ("подзорная труба", "подзорную трубу", "подзорной трубе", "труба", "трубу", "спрятана"),
    ("карманные часы", "карманные часы", "карманных часах", "часы", "часы", "спрятаны"),
    ("стеклянный флакон", "стеклянный флакон", "стеклянном флаконе", "флакон", "флакон", "спрятан"),
    ("купчая", "купчую", "купчей", "купчая", "купчую", "спрятана"),
    ("медаль", "медаль", "медали", "медаль", "медаль", "спрятана"),
    ("именная печать", "именную печать", "именной печати", "печать", "печать", "спрятана")]]
RU_CONTAINERS = [dict(acc=a, prep=p) for a, p in [
    ("псалтырь", "псалтыри"), ("сапог", "сапоге"), ("кадку с мукой", "кадке с мукой"), ("винную бочку", "винной бочке"),
    ("морской сундук", "морском сундуке"), ("шляпную коробку", "шляпной коробке"), ("каравай", "каравае"),
    ("футляр часов", "футляре часов"), ("лодку", "лодке"), ("птичью клетку", "птичьей клетке"),
    ("корзинку для шитья", "корзинке для шитья"), ("печь", "печи"), ("дымоход", "дымоходе"), ("тюфяк", "тюфяке"),
    ("бочонок соли", "бочонке соли"), ("улей", "улье"), ("подкладку пальто", "подкладке пальто"),
    ("футляр скрипки", "футляре скрипки"), ("чайник", "чайнике"), ("ящик комода", "ящике комода")]]
RU_COLOURS = ["синей", "красной", "зелёной", "чёрной", "белой", "жёлтой", "серой", "медной", "фиолетовой", "коричневой"]
RU_WEATHER = ["Дождь стучит в ставни", "С реки поднимается низкий туман", "Ветер холодеет и пахнет дёгтем",
              "Над крышами ссорятся чайки", "Вечерний колокол отбивает час", "Над переулками висит дым"]


def _ru_filler(rng: random.Random, pack: Pack) -> str:
    p, q, place, obj, cont, colour = _picks(rng, pack)
    return rng.choice([
        f"{p} спешит мимо {place['gen']} с корзиной и молча кивает.",
        f"{_cap(place['at'])} все только и говорят что о {obj['prep']}, но никто не знает, чья это вещь.",
        f"Ты проходишь мимо {place['gen']}: в дверях спит собака, рядом стоит телега со сломанным колесом.",
        f"{p} и {q} спорят о цене лампового масла и о плохих дорогах.",
        f"Кто-то нарисовал мелом кривую звезду на стене {place['gen']}.",
        f"{p} спрашивает, не видел ли ты где-нибудь {cont['acc']} с {colour} лентой.",
        f"{_cap(obj['nom'])} в витрине {place['gen']} всего лишь раскрашенная копия, и все это знают.",
        "На мгновение ты думаешь о доме и о долгой дороге, что привела тебя сюда.",
        f"{p} и {q} смеются, и их смех разносится по всей площади.",
        "Мимо пробегает девочка с огромной ношей и зовёт брата.",
    ])


def _ru_fact(rng, person, other, obj, cont, colour, place) -> str:
    (name, female), (other_name, other_female) = person, other
    return rng.choice([
        f"{name} наклоняется к тебе и говорит, что {obj['nom']} {obj['hidden']} в {cont['prep']} с {colour} лентой {place['at']}.",
        f"Перед уходом {name} шепчет, что {other_name} {'положила' if other_female else 'положил'} {obj['acc']} "
        f"в {cont['acc']} с {colour} лентой {place['at']}.",
        f"{name} клянётся всем святым, что {obj['nom']} лежит в {cont['prep']} с {colour} лентой {place['at']}.",
    ])


def _ru_question(rng, person, obj, cont, colour) -> str:
    name, female = person
    said = "сказала" if female else "сказал"
    spoke = "рассказывала" if female else "рассказывал"
    return rng.choice([
        f"Расспроси людей: где, как {said} {name}, лежит {obj['short']}?",
        f"Пойди и принеси {obj['short_acc']} из того места, которое {'назвала' if female else 'назвал'} {name}.",
        f"Попробуй вспомнить, что {name} {spoke} мне о {obj['prep']}.",
        f"Поищи {cont['acc']} с {colour} лентой. Мне уже про это говорили.",
        f"Есть ли новости про {obj['short_acc']}? {name} об этом {'упоминала' if female else 'упоминал'}.",
    ])


def _ru_walk(rng, pack) -> str:
    return f"Дойди до {rng.choice(pack.places)['gen']} и осмотрись."


RUSSIAN = Pack(RU_PEOPLE, RU_PLACES, RU_OBJECTS, RU_CONTAINERS, RU_COLOURS, RU_WEATHER,
               _ru_filler, _ru_fact, _ru_question, _ru_walk)

PACKS = {"de": GERMAN, "ru": RUSSIAN}
