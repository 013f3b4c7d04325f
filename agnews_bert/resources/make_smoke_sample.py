"""Generate the offline "smoke" sample of AG News and its tiny tokenizer.

What it is for
--------------
The real AG News corpus (120,000 training rows) and the pretrained BERT
tokenizers are downloads.  Tests, CI and the notebooks' "smoke" mode must run
offline in seconds, so the project ships a small stand-in instead:

* ``smoke/train.csv`` -- 480 rows, 120 per class
* ``smoke/test.csv``  -- 160 rows, 40 per class
* ``smoke/tokenizer.json`` -- a small WordPiece tokenizer (BERT-style
  lowercasing, ``[CLS] ... [SEP]`` template) trained on ``train.csv`` only

The CSV files use the ORIGINAL AG News layout, so the same loading code reads
both: no header, three fields, every field double-quoted, UTF-8::

    "3","Title here","Description here"

with the class index 1 = World, 2 = Sports, 3 = Business, 4 = Sci/Tech.

The sample is synthetic: every row is written by this script from the
templates and word lists below, which were written for this project.  No row
comes from the real AG News data.  Class-specific vocabulary dominates, so a
tiny transformer trained from scratch for a few epochs reaches high accuracy,
but the classes share some generic words (weekdays, numbers, "officials said",
news agencies), some titles borrow another class's words (a chip maker's
shares under Business), and about 6% of the rows tell the same story under
two classes, so the task is not completely trivial (a tiny model scores about
0.98 rather than 1.0 on test.csv).  A few characters
(commas, double quotes, apostrophes, "&", accented letters) exercise CSV
quoting and encoding.

Regenerate
----------
From the repository root::

    python -m agnews_bert.resources.make_smoke_sample

The output is deterministic (``random.Random(0)``): running it twice gives
byte-identical files.  ``--out-dir DIR`` writes somewhere else, e.g. to
compare a fresh run with the committed files.

Hard fixtures
-------------
The smoke sample is tidier than real data: balanced classes (so weighted and
macro averages agree) and texts shorter than a run's ``max_length`` (so
truncation never happens).  ``--fixtures DIR`` also writes
``DIR/hard/train.csv`` and ``DIR/hard/test.csv`` from the same templates, with
their own seed (the smoke files above do not change):

* classes in shares of 60/25/10/5 % (World, Sports, Business, Sci/Tech), in
  both files, as a student's own skewed data would be;
* every third text is several stories long (well over 64 tokens), so a run's
  ``max_length`` cuts it.

Tests build them in their set-up with ``write_hard_fixture``; nothing of it
is committed.
"""

from __future__ import annotations

import argparse
import csv
import random
from pathlib import Path

from tokenizers import (
    Tokenizer,
    decoders,
    models,
    normalizers,
    pre_tokenizers,
    processors,
    trainers,
)

SEED = 0
N_TRAIN_PER_CLASS = 120
N_TEST_PER_CLASS = 40
VOCAB_SIZE = 1500
SPECIAL_TOKENS = ["[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]"]  # [PAD] = 0
OUT_DIR = Path(__file__).resolve().parent / "smoke"

CLASS_NAMES = {1: "World", 2: "Sports", 3: "Business", 4: "Sci/Tech"}

# ---------------------------------------------------------------------------
# Word lists.  Every slot ``{name}`` in a template is filled with a random
# entry of the list of that name; ``{name2}`` gets a different entry of the
# same list (e.g. two different teams).
# ---------------------------------------------------------------------------

# Generic words that every class uses.
SHARED_SLOTS = {
    "day": ["Monday", "Tuesday", "Wednesday", "Thursday", "Friday",
            "Saturday", "Sunday"],
    "num": [str(n) for n in range(2, 40)],
    "source": ["AP", "Reuters", "AFP"],
    "said": ["officials said", "a spokesman said", "sources said",
             "a statement said", "reports said"],
}

WORLD_SLOTS = {
    "country": ["France", "Germany", "Japan", "Brazil", "Kenya", "Egypt",
                "India", "Pakistan", "Iraq", "Iran", "Syria", "Israel",
                "Turkey", "Ukraine", "Russia", "China", "Mexico", "Peru",
                "Nigeria", "Sudan", "Indonesia", "Afghanistan", "Lebanon",
                "Poland", "Greece", "Colombia", "Venezuela", "Haiti",
                "Somalia", "Ethiopia", "Nepal", "Thailand", "Switzerland"],
    "city": ["Geneva", "Brussels", "Baghdad", "Kabul", "Cairo", "Nairobi",
             "Jakarta", "Beijing", "Moscow", "Tehran", "Beirut", "Islamabad",
             "Zürich", "Damascus", "Khartoum", "Kiev", "Caracas", "Ankara"],
    "leader": ["prime minister", "president", "foreign minister",
               "defence minister", "opposition leader", "rebel commander",
               "UN envoy", "ambassador", "interior minister"],
    "group": ["rebels", "troops", "militants", "protesters", "diplomats",
              "peacekeepers", "voters", "lawmakers", "insurgents",
              "refugees", "soldiers", "police"],
    "event": ["peace talks", "a ceasefire", "the election", "a referendum",
              "sanctions", "a border dispute", "the nuclear programme",
              "humanitarian aid", "a new constitution", "the hostage crisis"],
    "violence": ["a car bomb", "a suicide attack", "heavy shelling",
                 "an ambush", "clashes", "a roadside bomb", "an air strike"],
    "place": ["the capital", "a border town", "the northern province",
              "a refugee camp", "the disputed region", "the parliament"],
}

WORLD_TITLES = [
    "{country} ministers meet in {city} over {event}",
    "{group} clash with {group2} in {country}",
    "{violence} kills {num} in {country}",
    "{country}'s {leader} calls for {event}",
    "UN urges {country} to resume {event}",
    "{group} seize {place} in {country}",
    "{country} and {country2} agree on {event}",
    "Thousands of {group} flee fighting in {country}",
    "{leader} of {country} visits {city}",
    "{country} recalls ambassador from {country2}",
]

WORLD_DESCRIPTIONS = [
    "{source} - Foreign ministers met in {city} on {day} to discuss "
    "{event}, but {said} there was little progress.",
    "{violence} killed at least {num} people in {place} of {country} on "
    "{day}, {said}, as {group} blamed {group2}.",
    "The {leader} of {country} said the talks with {country2} were "
    "\"constructive\" and called for {event} within weeks.",
    "{group} in {country} demanded {event} on {day} after {violence} near "
    "{place} left {num} dead.",
    "The United Nations warned that {group} in {country} need {event} as "
    "the government and {group2} trade blame.",
    "{country} accused {country2} of backing {group} in {place}, and the "
    "{leader} threatened new sanctions on {day}.",
    "Embassy staff left {city} on {day} as {group} and {group2} fought for "
    "control of {place}, {said}.",
    "Voters in {country} go to the polls after a bitter campaign dominated "
    "by {event} and fears of {violence}.",
]

SPORTS_SLOTS = {
    "team": ["Red Sox", "Yankees", "Cardinals", "Lakers", "Celtics",
             "Patriots", "Eagles", "Steelers", "Arsenal", "Chelsea",
             "Liverpool", "Real Madrid", "Barcelona", "Bayern Munich",
             "Cubs", "Dodgers", "Packers", "Rangers", "Bruins", "Astros"],
    "player": ["Johnson", "Martinez", "O'Neill", "Williams", "Rossi",
               "Garcia", "Henry", "Federer", "Agassi", "Woods", "Singh",
               "Moreno", "Kowalski", "Brady", "Ramirez", "Thorpe"],
    "position": ["quarterback", "striker", "pitcher", "goalkeeper",
                 "shortstop", "midfielder", "point guard", "running back",
                 "defender", "slugger"],
    "competition": ["the World Series", "the Olympics", "the Super Bowl",
                    "the Champions League", "the playoffs", "the Ryder Cup",
                    "the US Open", "the Premier League", "the NBA finals",
                    "Wimbledon", "the Grand Prix", "the Masters"],
    "beat": ["beat", "defeated", "edged", "routed", "rallied past",
             "held off", "crushed", "stunned"],
    "score": ["3-1", "2-0", "4-3", "7-5", "21-17", "98-91", "1-0", "6-2",
              "31-24", "5-4", "110-102", "2-1"],
    "play": ["scored twice", "hit a grand slam", "threw three touchdown "
             "passes", "struck in the second half", "pitched seven innings",
             "scored 30 points", "won in straight sets",
             "shot a final-round 66"],
    "injury": ["a knee injury", "a hamstring strain", "a broken wrist",
               "a sore shoulder", "an ankle sprain"],
}

SPORTS_TITLES = [
    "{team} {beat} {team2} {score}",
    "{player} leads {team} past {team2}",
    "{team} clinch spot in {competition}",
    "{player} out with {injury}",
    "{team} sign {position} {player}",
    "{player} wins gold at {competition}",
    "{team} coach fired after losing streak",
    "{player} {play} as {team} win",
    "{team} advance to {competition} final",
    "{player} stuns top seed at {competition}",
]

SPORTS_DESCRIPTIONS = [
    "{source} - {player} {play} and the {team} {beat} the {team2} {score} "
    "on {day} night.",
    "The {team} will be without {position} {player}, who has {injury}, "
    "for the rest of the season, the coach said.",
    "{player} {play} on {day} to give the {team} a {score} victory and a "
    "place in {competition}.",
    "The {team} signed {position} {player} to a {num}-game contract on "
    "{day}, hoping to reach {competition}.",
    "Defending champion {player} {play} and moved into the quarterfinals "
    "of {competition} with an easy win.",
    "The {team} fired their coach on {day} after a {num}-game losing "
    "streak left them out of {competition}.",
    "{player} broke the record at {competition}, and the crowd cheered "
    "as the {team} celebrated the title.",
    "Fans chanted \"MVP\" as {player} {play} in the {team}'s {score} win "
    "over the {team2} in the league opener.",
]

BUSINESS_SLOTS = {
    "company": ["Northwind Corp.", "Globex", "Vandelay Industries",
                "Summit Bank", "Harbor Airlines", "Pinewood Retail",
                "Crescent Energy", "Atlas Motors", "Bluewater Oil",
                "Granite Insurance", "Johnson & Hale", "Meridian Foods",
                "Redstone Steel", "Café Lumière", "Keystone Pharma",
                "Evergreen Mortgage", "Sterling Brewing", "Union Freight"],
    "market": ["Wall Street", "the Nasdaq", "the Dow", "the stock market",
               "European markets", "Tokyo stocks", "the bond market",
               "the dollar"],
    "money": ["$1.2 billion", "$450 million", "$3 billion", "$75 million",
              "$8.6 billion", "$900 million", "$2.1 billion"],
    "pct": ["2 percent", "5 percent", "11 percent", "0.5 percent",
            "18 percent", "3.4 percent", "7 percent"],
    "move": ["rose", "fell", "jumped", "slipped", "tumbled", "climbed",
             "dropped", "surged"],
    "driver": ["oil prices", "interest rates", "the Federal Reserve",
               "quarterly earnings", "retail sales", "inflation data",
               "the jobs report", "the trade deficit", "consumer spending"],
    "deal": ["merger", "takeover bid", "buyout offer", "acquisition",
             "bankruptcy filing", "stock buyback", "debt offering"],
}

BUSINESS_TITLES = [
    "{company} shares {move} on profit warning",
    "{company} quarterly earnings beat forecasts",
    "Stocks {move} as {driver} worry investors",
    "{company} agrees to {money} {deal}",
    "{market} {move} on {driver}",
    "{company} to cut {num}00 jobs",
    "{company} profit {move} {pct}",
    "Investors cheer {company} {deal}",
    "Oil prices {move} to record high",
    "{company} and {company2} in {deal} talks",
]

BUSINESS_DESCRIPTIONS = [
    "{source} - Shares of {company} {move} {pct} on {day} after the company "
    "reported quarterly earnings of {money}.",
    "{market} {move} on {day} as investors weighed {driver} and a "
    "disappointing profit forecast from {company}.",
    "{company} said it would buy {company2} for {money} in a {deal} that "
    "analysts said would boost revenue.",
    "{company} reported a {pct} rise in quarterly profit, helped by strong "
    "sales and lower costs, {said}.",
    "The {deal} values {company} at {money}, a premium of {pct} over its "
    "closing share price on {day}.",
    "{company} plans to cut about {num}00 jobs to save {money} a year as "
    "{driver} squeeze its profit margins.",
    "Analysts expect {driver} to weigh on {market} after shares of "
    "{company} {move} {pct} on {day}.",
    "{company}'s chief executive told investors the company expects "
    "revenue of {money}, above Wall Street estimates.",
]

SCITECH_SLOTS = {
    "techco": ["Quantix Software", "Nebula Systems", "Bitforge", "CoreChip",
               "Helix Labs", "Pixelwave", "Datastream", "Orbitron",
               "Lumina Networks", "Cobalt Computing", "Sparkle Games",
               "Vertex Semiconductor"],
    "product": ["web browser", "operating system", "search engine",
                "laptop", "mobile phone", "video game console",
                "database software", "music player", "wireless router",
                "graphics chip", "processor", "open source software"],
    "threat": ["a computer virus", "a security flaw", "spam e-mail",
               "a worm", "a hacker group", "spyware", "a phishing scam"],
    "space": ["NASA", "the European Space Agency", "the space station",
              "the Mars rover", "the Hubble telescope", "a Saturn probe",
              "a comet probe", "the space shuttle"],
    "scientists": ["researchers", "scientists", "astronomers",
                   "physicists", "biologists", "engineers", "geneticists"],
    "finding": ["a new planet", "dinosaur fossils", "a gene linked to "
                "ageing", "water on Mars", "a new species of frog",
                "a faster algorithm", "evidence of climate change",
                "a distant galaxy"],
    "tech": ["broadband", "Wi-Fi", "Linux", "the internet", "software",
             "robots", "nanotechnology", "supercomputers", "satellites"],
}

SCITECH_TITLES = [
    "{techco} unveils new {product}",
    "{scientists} discover {finding}",
    "{threat} targets {product} users",
    "{space} sends back new images",
    "{techco} patches {product} security flaw",
    "{tech} spreads to rural schools",
    "{techco} ships faster {product}",
    "{scientists} report {finding}",
    "Study: {tech} changes how people work",
    "{techco} sues {techco2} over software patents",
]

SCITECH_DESCRIPTIONS = [
    "{source} - {techco} on {day} released a new {product} that it says "
    "runs faster and uses less power.",
    "{scientists} using {space} say they have found {finding}, a result "
    "published this week in the journal Science.",
    "Security experts warned that {threat} is spreading through e-mail and "
    "can infect computers running the {product}.",
    "{techco} issued a software patch for its {product} after {threat} "
    "exploited a flaw, {said}.",
    "{space} is working normally again after engineers fixed a computer "
    "glitch, {said} on {day}.",
    "A team of {scientists} has built {tech} that can process data {num} "
    "times faster than current chips.",
    "{techco} accused {techco2} of copying code from its {product}, the "
    "latest battle over software patents.",
    "More households now use {tech} at home, and users are \"hungry\" for "
    "faster downloads, a study by {scientists} found.",
]

# Some rows cross topics.  A crossover title borrows another class's words
# but keeps a description of its own class ...
CROSSOVER_TITLES = {
    1: ["{country} bans imports of {product}"],
    2: ["{company} signs sponsorship deal with {team}"],
    3: ["{techco} shares {move} after {product} launch"],
    4: ["{country} launches first satellite"],
}
CROSSOVER_RATE = 0.1

# ... while an ambiguous story is told in the same words under two classes,
# as in the real AG News, where e.g. a chip maker's sales may be filed under
# Business or under Sci/Tech.  No model can get all of these right.
AMBIGUOUS = [
    ((1, 3), "{country} raises oil output as prices {move}",
     "The government of {country} said on {day} it would pump more oil, and "
     "{market} {move} as traders weighed the decision."),
    ((3, 4), "{techco} says {product} sales {move}",
     "{techco} said on {day} that sales of its {product} {move} {pct} in the "
     "quarter, {said}."),
    ((1, 2), "{country} gets ready to host {competition}",
     "Security was tight in {city} on {day} as {country} got ready to host "
     "{competition}, {said}."),
    ((1, 4), "{country} joins {space} mission",
     "{country} will send its first astronaut to {space} next year, the "
     "{leader} said on {day}."),
]
AMBIGUOUS_RATE = 0.06

# class index -> (title templates, description templates)
CLASSES = {
    1: (WORLD_TITLES, WORLD_DESCRIPTIONS),
    2: (SPORTS_TITLES, SPORTS_DESCRIPTIONS),
    3: (BUSINESS_TITLES, BUSINESS_DESCRIPTIONS),
    4: (SCITECH_TITLES, SCITECH_DESCRIPTIONS),
}
ALL_SLOTS = {**SHARED_SLOTS, **WORLD_SLOTS, **SPORTS_SLOTS, **BUSINESS_SLOTS,
             **SCITECH_SLOTS}


def draw_slots(rng: random.Random) -> dict[str, str]:
    """One value per word list; ``{name2}`` differs from ``{name}``."""
    values = {}
    for name, words in ALL_SLOTS.items():
        values[name], values[name + "2"] = rng.sample(words, 2)
    return values


def fill(template: str, values: dict[str, str]) -> str:
    text = template.format(**values)
    return text[0].upper() + text[1:]


def make_row(label: int, rng: random.Random) -> tuple[str, str]:
    """One (title, description) pair for class ``label``.

    Title and description share the slot values, so they tell one story.
    """
    titles, descriptions = CLASSES[label]
    title_template = rng.choice(titles)
    description_template = rng.choice(descriptions)
    roll = rng.random()
    if roll < AMBIGUOUS_RATE:
        _, title_template, description_template = rng.choice(
            [story for story in AMBIGUOUS if label in story[0]]
        )
    elif roll < AMBIGUOUS_RATE + CROSSOVER_RATE:
        title_template = rng.choice(CROSSOVER_TITLES[label])
    values = draw_slots(rng)
    return fill(title_template, values), fill(description_template, values)


def make_rows(rng: random.Random) -> tuple[list, list]:
    """Train and test rows ``(label, title, description)``, texts unique."""
    seen = set()
    train, test = [], []
    for label in CLASSES:
        rows = []
        while len(rows) < N_TRAIN_PER_CLASS + N_TEST_PER_CLASS:
            title, description = make_row(label, rng)
            text = title + " " + description
            if text not in seen:
                seen.add(text)
                rows.append((str(label), title, description))
        train += rows[:N_TRAIN_PER_CLASS]
        test += rows[N_TRAIN_PER_CLASS:]
    rng.shuffle(train)
    rng.shuffle(test)
    return train, test


def write_csv(path: Path, rows: list) -> None:
    """Write rows in the original AG News format (no header, all quoted)."""
    with open(path, "w", newline="", encoding="utf-8") as f:
        writer = csv.writer(f, quoting=csv.QUOTE_ALL, lineterminator="\n")
        writer.writerows(rows)


def train_tokenizer(texts: list[str]) -> Tokenizer:
    """A small BERT-style (lowercasing WordPiece) tokenizer trained on texts.

    ``tokenizers``' WordPiece trainer is not deterministic on its own
    (huggingface/tokenizers#1794): it numbers the ``##x`` continuation
    characters in hash-map order, and those numbers break ties between
    equally frequent merges.  Passing the sorted ``##x`` tokens to the
    trainer up front fixes their ids, so every run learns the same merges.
    They are then dropped from the special tokens by rebuilding the
    tokenizer around the learned vocabulary.
    """
    normalizer = normalizers.BertNormalizer(lowercase=True)
    pre_tokenizer = pre_tokenizers.BertPreTokenizer()
    continuing_chars = sorted({
        char
        for text in texts
        for word, _ in pre_tokenizer.pre_tokenize_str(normalizer.normalize_str(text))
        for char in word[1:]
    })
    trainer = trainers.WordPieceTrainer(
        vocab_size=VOCAB_SIZE,
        special_tokens=SPECIAL_TOKENS + ["##" + c for c in continuing_chars],
        show_progress=False,
    )
    scratch = Tokenizer(models.WordPiece(unk_token="[UNK]"))
    scratch.normalizer = normalizer
    scratch.pre_tokenizer = pre_tokenizer
    scratch.train_from_iterator(texts, trainer=trainer)

    tokenizer = Tokenizer(models.WordPiece(
        vocab=scratch.get_vocab(), unk_token="[UNK]", continuing_subword_prefix="##"
    ))
    tokenizer.normalizer = normalizer
    tokenizer.pre_tokenizer = pre_tokenizer
    tokenizer.add_special_tokens(SPECIAL_TOKENS)
    cls_id = tokenizer.token_to_id("[CLS]")
    sep_id = tokenizer.token_to_id("[SEP]")
    tokenizer.post_processor = processors.TemplateProcessing(
        single="[CLS] $A [SEP]",
        pair="[CLS] $A [SEP] $B:1 [SEP]:1",
        special_tokens=[("[CLS]", cls_id), ("[SEP]", sep_id)],
    )
    tokenizer.decoder = decoders.WordPiece(prefix="##")
    return tokenizer


HARD_SEED = 1
HARD_SHARES = {1: 0.60, 2: 0.25, 3: 0.10, 4: 0.05}
HARD_TRAIN_ROWS = 400
HARD_TEST_ROWS = 200
LONG_EVERY = 3  # every third text is long
LONG_STORIES = 6  # descriptions joined into one long text: about 150 tokens


def shares_to_counts(total: int, shares: dict) -> dict:
    """Rows per class for a total, the rounding left-over going to the first class.

    Example: (400, {1: 0.6, 2: 0.25, 3: 0.1, 4: 0.05}) -> {1: 240, 2: 100, 3: 40, 4: 20}
    """
    counts = {label: int(total * share) for label, share in shares.items()}
    counts[next(iter(shares))] += total - sum(counts.values())
    return counts


def long_description(label: int, rng: random.Random) -> str:
    """LONG_STORIES descriptions of one class joined: a text far longer than 64 tokens."""
    return " ".join(make_row(label, rng)[1] for _ in range(LONG_STORIES))


def make_hard_rows(rng: random.Random) -> tuple[list, list]:
    """Unbalanced train and test rows ``(label, title, description)``, every LONG_EVERY-th one long."""
    seen = set()
    splits = []
    for total in (HARD_TRAIN_ROWS, HARD_TEST_ROWS):
        rows = []
        for label, count in shares_to_counts(total, HARD_SHARES).items():
            made = 0
            while made < count:
                title, description = make_row(label, rng)
                if (len(rows) + made) % LONG_EVERY == 0:
                    description = long_description(label, rng)
                if title + " " + description not in seen:
                    seen.add(title + " " + description)
                    rows.append((str(label), title, description))
                    made += 1
        rng.shuffle(rows)
        splits.append(rows)
    return splits[0], splits[1]


def write_hard_fixture(out_dir: Path) -> Path:
    """Write hard/train.csv and hard/test.csv under out_dir; the folder, which load_agnews reads."""
    folder = Path(out_dir) / "hard"
    folder.mkdir(parents=True, exist_ok=True)
    train, test = make_hard_rows(random.Random(HARD_SEED))
    write_csv(folder / "train.csv", train)
    write_csv(folder / "test.csv", test)
    return folder


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out-dir", type=Path, default=OUT_DIR)
    parser.add_argument("--fixtures", type=Path, help="also write the hard fixtures (hard/) into this folder")
    args = parser.parse_args(argv)
    if args.fixtures:
        print(f"wrote the hard fixture to {write_hard_fixture(args.fixtures)}")

    args.out_dir.mkdir(parents=True, exist_ok=True)
    train, test = make_rows(random.Random(SEED))
    write_csv(args.out_dir / "train.csv", train)
    write_csv(args.out_dir / "test.csv", test)

    tokenizer = train_tokenizer([title + " " + desc for _, title, desc in train])
    assert tokenizer.token_to_id("[PAD]") == 0
    tokenizer.save(str(args.out_dir / "tokenizer.json"))

    print(f"wrote {len(train)} train rows, {len(test)} test rows and a "
          f"{tokenizer.get_vocab_size()}-token tokenizer to {args.out_dir}")


if __name__ == "__main__":
    main()
