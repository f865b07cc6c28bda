"""Generated names for runs (and logged models): ``<adjective>-<noun>-<0..999>``.

spec: tracking.md §1 and §8 (``respected-elk-117``). MLflow keeps generated names to at most
20 characters; the word lists below are our own.
"""

from __future__ import annotations

import random
from typing import Final

MAX_GENERATED_NAME_LENGTH: Final = 20

ADJECTIVES: Final = (
    "able", "agile", "amazing", "amusing", "angry", "awesome", "bald", "beautiful", "bedecked",
    "bemused", "blushing", "bold", "brave", "bright", "bustling", "calm", "capable", "carefree",
    "casual", "charming", "classy", "clean", "clever", "colorful", "crawling", "curious",
    "dapper", "daring", "dazzling", "debonair", "delicate", "dizzy", "eager", "efficient",
    "elegant", "enchanting", "exultant", "fearless", "fun", "funny", "gaudy", "gentle",
    "gifted", "glamorous", "glowing", "gregarious", "handsome", "happy", "hilarious",
    "honorable", "illustrious", "incongruous", "indecisive", "industrious", "intelligent",
    "inquisitive", "judicious", "kindly", "languid", "learned", "legendary", "likeable",
    "loud", "luminous", "luxuriant", "lyrical", "magnificent", "marvelous", "masked",
    "melodic", "merciful", "mercurial", "monumental", "mysterious", "nebulous", "nervous",
    "nimble", "nosy", "omniscient", "orderly", "overjoyed", "peaceful", "painted", "persistent",
    "placid", "polite", "popular", "powerful", "puzzled", "rambunctious", "rebellious",
    "receptive", "redolent", "resilient", "respected", "rogue", "rumbling", "salty", "sassy",
    "secretive", "selective", "sedate", "serious", "shivering", "skillful", "sincere", "smiling",
    "spiffy", "spirited", "stately", "suave", "stylish", "sunny", "tasteful", "thoughtful",
    "thundering", "traveling", "treasured", "trusting", "unequaled", "upbeat", "unique",
    "unruly", "valuable", "vaunted", "victorious", "welcoming", "whimsical", "wise", "witty",
    "wistful", "worried", "youthful", "zealous",
)  # fmt: skip

NOUNS: Final = (
    "ant", "ape", "asp", "auk", "bass", "bat", "bear", "bee", "bird", "boar", "bug", "calf",
    "carp", "cat", "chimp", "cod", "colt", "conch", "cow", "crab", "crane", "croc", "crow",
    "cub", "deer", "doe", "dog", "dolphin", "donkey", "dove", "duck", "eel", "elk", "fawn",
    "finch", "fish", "flea", "fly", "foal", "fowl", "fox", "frog", "gnat", "gnu", "goat",
    "goose", "grouse", "grub", "gull", "hare", "hawk", "hen", "hog", "horse", "hound", "jay",
    "kit", "kite", "koi", "lamb", "lark", "loon", "lynx", "mare", "midge", "mink", "mole",
    "moose", "moth", "mouse", "mule", "newt", "owl", "ox", "panda", "penguin", "perch", "pig",
    "pug", "quail", "ram", "rat", "ray", "robin", "roo", "rook", "seal", "shad", "shark",
    "sheep", "shoat", "shrew", "shrike", "shrimp", "skink", "skunk", "sloth", "slug", "smelt",
    "snail", "snake", "snipe", "sow", "sponge", "squid", "squirrel", "stag", "steed", "stoat",
    "stork", "swan", "tern", "toad", "trout", "turtle", "vole", "wasp", "whale", "wolf",
    "worm", "wren", "yak", "zebra",
)  # fmt: skip


def random_name() -> str:
    """A fresh ``<adjective>-<noun>-<n>`` name of at most 20 characters (``respected-elk-117``).

    Not a secret and not unique: MLflow run names may repeat.
    """
    name = ""
    for _ in range(10):
        name = f"{random.choice(ADJECTIVES)}-{random.choice(NOUNS)}-{random.randint(0, 999)}"
        if len(name) <= MAX_GENERATED_NAME_LENGTH:
            return name
    return name[:MAX_GENERATED_NAME_LENGTH]
