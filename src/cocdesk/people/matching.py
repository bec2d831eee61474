"""How alike two identifiers are, for suggestions only: "possibly the same person". Exact matching goes through
normalise.py and the registry's keyed hashes; this measure reads identifiers in the clear and never links anyone by
itself: a responder confirms.

Names are compared word by word after transliteration (Иван -> Ivan, Müller -> Muller), in any order, with common
English nicknames (Bob = Robert), initials (J. = Jane) and small typos (Jaro-Winkler) allowed for.
"""

import re
import unicodedata
from itertools import permutations

from anyascii import anyascii
from rapidfuzz.distance import OSA, JaroWinkler

from .enums import IdentifierKind
from .normalise import PLATFORM_WORDS, guess_kind, normalise_identifier

# A score at or above this says "possibly the same person" (measured on tests/people/test_matching_evaluation.py).
POSSIBLY_SAME = 0.8

_HONORIFICS = {"mr", "mrs", "ms", "mx", "miss", "dr", "prof", "sir", "dame", "jr", "sr", "ii", "iii", "phd"}
# Typos keep a word close (Jaro-Winkler at or above this); two different names rarely are.
_TYPO_SIMILARITY = 0.88
_NICKNAME_SIMILARITY = 0.9
_INITIAL_SIMILARITY = 0.8
_INITIAL_AND_SURNAME = 0.85  # 'jdoe' for Jane Doe
# A word only one side has (a middle name) counts half: 'Jane Doe' is still close to 'Jane Mary Doe', but a first
# name alone is not close to a full name.
_UNMATCHED_WORD = 0.5
# Cross-kind evidence (a handle's name against a person's name) is weaker than two names agreeing.
_CROSS_KIND_CAP = 0.9
_MAX_PERMUTED_WORDS = 5

# Common English given names and their diminutives. A nickname may stand for several names (Alex, Chris).
_NICKNAME_GROUPS = [
    ("robert", "rob", "bob", "bobby", "robbie", "bert"),
    ("william", "will", "bill", "billy", "willy", "liam"),
    ("elizabeth", "liz", "lizzie", "beth", "betty", "eliza", "lisa", "libby", "betsy"),
    ("alexander", "alex", "al", "sandy", "xander", "lex"),
    ("alexandra", "alex", "alexa", "sandra", "sandy", "lexi"),
    ("alexis", "alex", "lexi"),
    ("katherine", "kate", "kathy", "katie", "kat", "kit", "kay"),
    ("catherine", "cathy", "cat", "kate", "katie", "cate"),
    ("kathleen", "kathy", "kate", "katie"),
    ("margaret", "maggie", "meg", "peggy", "marge", "greta", "daisy"),
    ("richard", "rick", "ricky", "rich", "dick"),
    ("james", "jim", "jimmy", "jamie"),
    ("john", "johnny", "jack"),
    ("jonathan", "jon", "jonny", "nathan"),
    ("michael", "mike", "mick", "mikey", "mickey"),
    ("thomas", "tom", "tommy"),
    ("christopher", "chris", "kit", "topher"),
    ("christine", "chris", "chrissy", "tina"),
    ("christina", "chris", "tina"),
    ("joseph", "joe", "joey"),
    ("josephine", "jo", "josie"),
    ("daniel", "dan", "danny"),
    ("danielle", "dani", "elle"),
    ("matthew", "matt", "matty"),
    ("anthony", "tony"),
    ("andrew", "andy", "drew"),
    ("edward", "ed", "eddie", "ted", "ned"),
    ("benjamin", "ben", "benny", "benji"),
    ("samuel", "sam", "sammy"),
    ("samantha", "sam", "sammy"),
    ("nicholas", "nick", "nicky", "nico"),
    ("nicole", "nikki", "nicky"),
    ("stephen", "steve", "stevie"),
    ("steven", "steve", "stevie"),
    ("timothy", "tim", "timmy"),
    ("patrick", "pat", "paddy", "rick"),
    ("patricia", "pat", "patty", "trish", "tricia"),
    ("jennifer", "jen", "jenny", "jenn"),
    ("jessica", "jess", "jessie"),
    ("rebecca", "becky", "becca"),
    ("victoria", "vicky", "tori"),
    ("susan", "sue", "susie"),
    ("deborah", "debbie", "deb"),
    ("abigail", "abby", "gail"),
    ("theodore", "theo", "ted", "teddy"),
    ("frederick", "fred", "freddie"),
    ("charles", "charlie", "chuck", "chas"),
    ("charlotte", "charlie", "lottie"),
    ("henry", "harry", "hank"),
    ("david", "dave", "davey"),
    ("peter", "pete"),
    ("gregory", "greg"),
    ("kenneth", "ken", "kenny"),
    ("donald", "don", "donny"),
    ("ronald", "ron", "ronnie"),
    ("lawrence", "larry"),
    ("gerald", "gerry", "jerry"),
    ("jeffrey", "jeff"),
    ("joshua", "josh"),
    ("zachary", "zach", "zack"),
    ("nathaniel", "nate", "nathan", "nat"),
    ("natalie", "nat", "talia"),
    ("eleanor", "ellie", "nora", "nell"),
    ("helen", "nell", "lena"),
    ("dorothy", "dot", "dottie"),
    ("barbara", "barb", "babs"),
    ("judith", "judy"),
    ("pamela", "pam"),
    ("angela", "angie"),
    ("amanda", "mandy"),
    ("cynthia", "cindy"),
    ("gabriel", "gabe"),
    ("gabrielle", "gabby", "brie"),
    ("isabel", "izzy", "bella", "isa"),
    ("isabella", "izzy", "bella"),
    ("maximilian", "max"),
    ("maxwell", "max"),
    ("vincent", "vince", "vinny"),
    ("raymond", "ray"),
    ("leonard", "leo", "len", "lenny"),
    ("douglas", "doug"),
    ("philip", "phil"),
    ("phillip", "phil"),
    ("louis", "lou"),
    ("louise", "lou"),
]


def _nickname_index():
    index = {}
    for number, group in enumerate(_NICKNAME_GROUPS):
        for name in group:
            index.setdefault(name, set()).add(number)
    return index


_NICKNAMES = _nickname_index()


def name_words(name):
    """A name's words, transliterated to ASCII and case-folded, titles left out: 'Dr. José  Müller' -> ['jose',
    'muller']."""
    text = anyascii(unicodedata.normalize("NFKC", name or "")).casefold()
    found = [word for word in re.split(r"[^a-z0-9]+", text) if word]
    kept = [word for word in found if word not in _HONORIFICS]
    return kept or found


def word_similarity(one, other):
    if one == other:
        return 1.0
    if _NICKNAMES.get(one, set()) & _NICKNAMES.get(other, set()):
        return _NICKNAME_SIMILARITY
    if re.sub(r"\D", "", one) != re.sub(r"\D", "", other):
        return 0.0  # the numbers in 'jdoe12' and 'jdoe13' are chosen: two accounts, not a typo
    if len(one) == 1 or len(other) == 1:
        return _INITIAL_SIMILARITY if one[0] == other[0] else 0.0
    if len(one) == len(other) and sorted(one) == sorted(other) and OSA.distance(one, other) == 1:
        return _TYPO_SIMILARITY  # two letters swapped: 'Deo' for 'Doe', a slip of the fingers, not another name
    similarity = JaroWinkler.similarity(one, other)
    # Below a typo's distance, two words are two names: halve what Jaro-Winkler gives them for shared letters.
    return similarity if similarity >= _TYPO_SIMILARITY else similarity / 2


def _best_pairing(shorter, longer):
    if len(longer) <= _MAX_PERMUTED_WORDS:
        return max(
            sum(word_similarity(a, b) for a, b in zip(shorter, chosen, strict=False))
            for chosen in permutations(longer, len(shorter))
        )
    total, left = 0.0, list(longer)  # long names: the best partner for each word in turn
    for word in shorter:
        partner = max(left, key=lambda candidate: word_similarity(word, candidate))
        total += word_similarity(word, partner)
        left.remove(partner)
    return total


def _initial_and_surname(single, words):
    """'jdoe' or 'janed' against ['jane', 'doe']."""
    first, last = words[0], words[-1]
    return single in {first[0] + last, first + last[0], last + first[0]}


def name_similarity(one, other):
    """0..1: how alike two names are, whatever the order of their words, their script and their nicknames."""
    words_one, words_other = name_words(one), name_words(other)
    if not words_one or not words_other:
        return 0.0
    if "".join(sorted(words_one)) == "".join(sorted(words_other)) or "".join(words_one) == "".join(words_other):
        return 1.0
    if len(words_one) == 1 and len(words_other) > 1 and _initial_and_surname(words_one[0], words_other):
        return _INITIAL_AND_SURNAME
    if len(words_other) == 1 and len(words_one) > 1 and _initial_and_surname(words_other[0], words_one):
        return _INITIAL_AND_SURNAME
    shorter, longer = sorted((words_one, words_other), key=len)
    unmatched = len(longer) - len(shorter)
    return (_best_pairing(shorter, longer) + _UNMATCHED_WORD * unmatched) / len(longer)


def _as_name(canonical, kind):
    """The words a canonical identifier gives a person's name, when it gives any: a name; a handle's account name;
    an email's local part with at least two words ('jane.doe', not 'info')."""
    if kind == IdentifierKind.NAME:
        return canonical
    if kind == IdentifierKind.EMAIL:
        local = canonical.split("@")[0]
        return local if len(re.split(r"[._-]+", local)) > 1 else None
    if kind == IdentifierKind.HANDLE:
        platform, colon, account = canonical.partition(":")
        if colon and platform in PLATFORM_WORDS.values():
            return account.split("#")[0]
        return canonical.split("@")[0] if "/" not in canonical else None
    return None


def identifier_similarity(one, other, *, kind_one=None, kind_other=None, region=None):
    """0..1 for two identifiers of any kinds: 1.0 when their canonical forms agree; for names the name measure;
    a name against a handle or an email's local part, or one handle on two platforms, at most 0.9; else 0."""
    kind_one, kind_other = kind_one or guess_kind(one), kind_other or guess_kind(other)
    canonical_one = normalise_identifier(kind_one, one, region=region)
    canonical_other = normalise_identifier(kind_other, other, region=region)
    if not canonical_one or not canonical_other:
        return 0.0
    if canonical_one == canonical_other:
        return 1.0
    if kind_one == kind_other == IdentifierKind.NAME:
        return name_similarity(one, other)
    if IdentifierKind.NAME in {kind_one, kind_other} or kind_one == kind_other == IdentifierKind.HANDLE:
        as_name_one = one if kind_one == IdentifierKind.NAME else _as_name(canonical_one, kind_one)
        as_name_other = other if kind_other == IdentifierKind.NAME else _as_name(canonical_other, kind_other)
        if as_name_one and as_name_other:
            return min(_CROSS_KIND_CAP, name_similarity(as_name_one, as_name_other))
    if kind_one == kind_other == IdentifierKind.EMAIL:
        local_one, local_other = _as_name(canonical_one, kind_one), _as_name(canonical_other, kind_other)
        if local_one and local_other:
            return min(_CROSS_KIND_CAP, name_similarity(local_one, local_other))
    return 0.0


def possibly_same(one, other, **kinds_and_region):
    """Whether two identifiers are alike enough to suggest, for a responder to confirm, that they name one person."""
    return identifier_similarity(one, other, **kinds_and_region) >= POSSIBLY_SAME
