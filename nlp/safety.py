"""Crisis and emergency phrases, found deterministically so that safety never rests on the classifier.

`find_crisis(text)` and `find_emergency(text)` read a visitor's message, tolerate typos
("kil myslef", "sucidal", "brokeded my ankel") by first correcting words close to a small
vocabulary of the words these phrases use, and return what they found or None. An emergency
phrase that is negated ("no chest pain") or clearly in the past ("I broke my wrist in 2019",
"I fell last year but I'm fine") is not an emergency now; `is_past_or_negated` tells the
pipeline when the classifier's own emergency guess should give way.

Pure functions over strings: used by `nlp.components.SafetyNet` in Rasa's NLU pipeline.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import lru_cache

from rapidfuzz.distance import OSA
from wordfreq import zipf_frequency

# Words the phrases below are made of; a visitor's word within one edit of one of these (two
# for long words) is read as it, unless it is itself a common word.
_VOCABULARY = (
    "kill killing myself yourself himself herself themselves suicide suicidal die dying dead "
    "alive live living life want wanna anymore unalive overdose harm harming hurting cutting "
    "burden better without wake breathe breathing ankle broken broke fracture fractured "
    "chest pain bleeding stroke unconscious collapsed fainted drooping slurred numb ambulance "
    "emergency something someone pills hanging jump ending"
).split()
# A word this common in English (Zipf 3: once per million words, wordfreq's "small" list) is what
# it says, not a typo.
REAL_WORD_ZIPF = 3.0
# Short common words a typo rule must never rewrite ("life" is not "live", "die" is not "did").
_KEEP = set(
    "a i am an and are as at be been but by can did do does for from had has have he her his how "
    "if in is it its me my no not now of on or our she so that the their them then there they "
    "this to up was we what when where who why will with you your like lie lift line love lot "
    "give gave hive five wife knife mine mind time tired tried kids kid cut cute hurt harm "
    "ankles breath broker brake brakes chase cheat chests paint paid pains point lives liked "
    "dine diet died dies dye dyed dean deal dear deed dad did dig bed bad mad sad feed head "
    "heard held help hell hill fill till will well wall bill pill pile bleed blend bending "
    "stoke stock strike stroll stroked numbs dumb number drooling drowning dropping "
    "myth self shelf whale while white wait walk wake woke want went wont want wanted wants "
    "kid kin kit kits skill still kilo jumped jumps jump pills".split()
)

_SPACES = re.compile(r"\s+")
_WORD = re.compile(r"[a-z]+(?:'[a-z]+)?")


@lru_cache(maxsize=4096)
def _corrected_word(word: str) -> str:
    if word in _KEEP or len(word) < 3 or word in _VOCABULARY or zipf_frequency(word, "en", wordlist="small") >= REAL_WORD_ZIPF:
        return word
    limit = 1 if len(word) < 7 else 2
    best, best_distance = word, limit + 1
    for target in _VOCABULARY:
        if abs(len(target) - len(word)) > limit:
            continue
        distance = OSA.distance(word, target, score_cutoff=limit)
        if distance <= limit and distance < best_distance:
            best, best_distance = target, distance
    return best


# Every check of one message starts from the same normal form.
@lru_cache(maxsize=256)
def normalise(text: str) -> str:
    """Lower case, plain apostrophes, missing apostrophes restored, typos near the vocabulary corrected."""
    lowered = text.lower().replace("’", "'").replace("`", "'")
    lowered = re.sub(r"\b(don|can|won|isn|doesn|didn|couldn|wouldn|shouldn|wasn|aren|ain)t\b", r"\1't", lowered)
    lowered = re.sub(r"\b(i|im)\s*m\b", "i'm", lowered)
    lowered = re.sub(r"\bim\b", "i'm", lowered)
    lowered = re.sub(r"\bmy\s+self\b", "myself", lowered)
    return _SPACES.sub(" ", _WORD.sub(lambda m: _corrected_word(m.group(0)), lowered)).strip()


_OTHERS = r"(?:himself|herself|themselves|themself|his (?:own )?life|her (?:own )?life|their (?:own )?life)"
_SOMEONE = (r"(?:he|she|they|my (?:mom|mother|dad|father|husband|wife|partner|son|daughter|friend|sister|"
            r"brother|grandma|grandmother|grandpa|grandfather|aunt|uncle|neighbou?r|patient|client|kid|child|"
            r"boyfriend|girlfriend|roommate|mum)|someone|somebody|a friend)")
_WANT = r"(?:want|wants|wanted|wanting|wanna|going|gonna|plan|plans|planning|thinking about|thought about|think about|trying|tried|ready|decided)"
_NOT_WANT = r"(?:don't|do not|doesn't|does not|dont|no longer|never|can't|cannot) (?:even |really |ever |much )?(?:want|wanna|wish|see a reason|feel like)"

# Each: a phrase that means a person may be in danger from themselves.
_CRISIS_PHRASES = [
    r"\b(?:kill|killing|killed|harm|harming) (?:myself|my self)\b",
    r"\b(?:end|ending|take|taking) (?:my own life|my life)\b",
    r"\b(?:hurt|hurting|cut|cutting|burn|burning|harm|harming) (?:myself|my self) (?:on purpose|deliberately|intentionally|again)\b",
    r"\b(?:been|keep|kept|started|start|still) (?:hurting|cutting|burning|harming|scratching) (?:myself|my self|himself|herself|themselves)\b",
    rf"\b{_WANT} (?:to )?(?:hurt|cut|burn|harm) (?:myself|my self)\b",
    rf"\b(?:kill|killing|harm|harming|cut|cutting|end|ending|take|taking) {_OTHERS}\b",
    r"\bsuicid\w*", r"\bself[- ]?harm\w*", r"\bkms\b", r"\bunalive\w*", r"\boverdos\w*", r"\bod on\b",
    rf"\b{_WANT} (?:to )?(?:die|be dead|end it|end it all|end things|end everything|not wake up|disappear forever)\b",
    rf"\b{_NOT_WANT} (?:to )?(?:live|be alive|be here|be around|exist|wake up|go on|keep going|keep living|continue living)\b"
    r"(?! for\b| that long| all day| too long| long\b| at\b| in\b)",
    r"\b(?:better off|be better) (?:dead|without me|if i (?:was|were) gone|if i wasn't here)\b",
    r"\bwish (?:i|he|she) (?:was|were) dead\b", r"\bwish (?:i|he|she) (?:was|were)n't (?:alive|here|born)\b",
    r"\bwish i (?:had|could) (?:never been born|disappear|just die|die)\b",
    r"\bno (?:reason|point) (?:to|in|of) (?:live|living|going on|being alive|life|anything|being here)\b",
    r"\bwhat'?s the point (?:of|in) (?:living|life|going on|anything|being alive|it all)\b",
    r"\b(?:go to sleep|sleep|fall asleep) and (?:never|not) wake up\b", r"\b(?:to|and) (?:not|never) wake up\b",
    r"\b(?:trying|wants?|wanting|ready) to let (?:myself|herself|himself|themselves) go\b",
    r"\b(?:stopped|stop|refus\w*|not) (?:eating|taking (?:her|his|my) (?:food|meds))\b.{0,60}\b(?:die|dying|let (?:her|him|my)self go|end it)\b",
    r"\bend (?:it all|my life|things for good)\b",
    r"\bcan't (?:go on|keep going) (?:anymore|living|like this)\b",
    r"\b(?:hang|hanging) (?:myself|himself|herself|themselves)\b",
    r"\bjump (?:off|in front of) (?:a|the) (?:bridge|building|roof|train)\b",
    r"\btake (?:all )?(?:my|the|his|her) pills at once\b",
    r"\b(?:going to|gonna|plan\w* to|want\w* to|about to|will) (?:take|swallow) (?:all|a bunch|a lot|a handful|the rest|every one) of "
    r"(?:my|his|her|their|the) (?:pills|meds|medications?|tablets|sleeping pills)\b",
    r"\b(?:want|wants|wanted) to disappear\b",
    r"\bwhat'?s the point (?:anymore|of (?:it|anything|trying|going on|any of it))\b",
    r"\bno (?:reason|point) to (?:keep going|go on|live|carry on|be here|stay)\b",
    r"\b(?:been|keep|keeps|kept|started|start|starts|still|is|was) (?:cutting|burning|scratching) (?:again|myself|herself|himself|"
    r"themselves|(?:my|her|his|their) (?:arms?|wrists?|legs?|thighs?|skin|stomach))\b",
    r"\bcutting again\b",
    # Warning signs as people say them: being gone, weapons and ways, goodbyes, giving things away.
    r"\bif (?:i|he|she) (?:just )?(?:wasn't|weren't|was not|were not) (?:here|around|alive)\b",
    r"\b(?:easier|better|simpler) (?:to|if i) (?:just )?(?:not be|wasn't|weren't) (?:here|around|alive)\b",
    r"\b(?:tired|sick) of (?:living|being alive|life)\b",
    r"\b(?:life|living)(?: is|'s| isn't| isnt| is not|'s not| ain't)? (?:not |no longer )?worth (?:living|it)\b",
    r"\bnot worth living\b",
    r"\b(?:shoot|hang|drown|poison|stab|hurt) (?:myself|himself|herself|themselves)\b",
    r"\b(?:rather|better) (?:be )?dead\b",
    r"\bend(?:ing)? it all\b|\bend(?:ing)? (?:my|his|her) (?:own )?life\b",
    r"\bjump (?:off|from|in front of)\b.{0,30}\b(?:bridge|building|roof|train|cliff|overpass)\b",
    r"\b(?:ready to go|want(?:s)? to go)\b.{0,60}\b(?:gun|pills|rope)\b|\b(?:gun|pills|rope)\b.{0,60}\bready to go\b",
    r"\bwhere (?:i|you) (?:put|keep|hid) the (?:gun|pills|rope)\b",
    r"\b(?:hitting|punching|burning|scratching|starving) (?:myself|himself|herself)\b",
    r"\bscratch\w* (?:my|his|her) (?:skin|arms?|legs?)\b.{0,20}\b(?:bleed|blood)\w*",
    r"\b(?:steer|steering|drive|driving|swerv\w*) (?:into|off)\b.{0,20}\b(?:a tree|a wall|the road|traffic|a bridge|oncoming)\b",
    r"\b(?:nobody|no one|no-one) would (?:even )?(?:notice|care|miss me)\b.{0,20}\bif i (?:died|was gone|were gone|disappeared)\b",
    r"\b(?:letters?|notes?)\b.{0,30}\b(?:to say goodbye|saying goodbye|goodbye)\b",
    r"\bthought about how (?:i'd|i would|to|i could|i'll) do it\b",
    r"\bgiving (?:his|her|my|their|all (?:his|her|my)) (?:stuff|things|belongings|possessions) away\b",
    r"\b(?:took|take|taking|swallow\w*) all of (?:them|my pills|the pills) at once\b",
    r"\bif (?:i|she|he) (?:just )?(?:didn't|did not|never|wouldn't|would not) wake up\b",
    r"\b(?:simpler|easier|better) for (?:everybody|everyone|all of them|my (?:family|kids|children)) if (?:i|i'm|i was|i were)\b",
    r"\b(?:stockpil\w*|sav(?:e|es|ing|ed) up|hoard\w*|collect(?:ing|ed)) (?:all )?(?:my |her |his |their )?"
    r"(?:pills|meds|medications?|sleeping pills|pain (?:meds|pills)|pain ?killers|tablets)\b",
    r"\b(?:pills|meds|medications?|tablets)\b.{0,40}\bon purpose\b|\bon purpose\b.{0,40}\b(?:pills|meds|tablets)\b",
    r"\b(?:texted|told|said|wrote|sent) (?:me |us )?(?:goodbye|good bye|good-bye|(?:her|his|their) goodbyes)\b",
    r"\b(?:i'm|i am|she's|he's|she is|he is|they're) done with (?:life|living|everything|it all|this life)\b",
    # Spanish: the crisis line answers in Spanish too.
    r"\b(?:quiero|quiere|quisiera) (?:morir|morirme|matarme|suicidarme|desaparecer)\b",
    r"\bno quiero (?:vivir|seguir viviendo|estar aqu[ií])\b", r"\bquitarme la vida\b", r"\bmatarme\b",
]
_CRISIS = [re.compile(p) for p in _CRISIS_PHRASES]

_EMERGENCY_PHRASES = [
    r"\b(?:can't|cannot|can not|unable to|couldn't|not able to|struggling to|hard to|trouble) (?:breathe|breathing|catch (?:my|his|her) breath)\b",
    r"\b(?:not|stopped|isn't|is not) breathing\b", r"\bbreathing (?:weird|funny|strange|shallow|oddly|really hard)\b", r"\bgasping\b",
    r"\b(?:fell|fallen|fall|slipped|tripped|collapsed|on the floor|on the ground)\b.{0,60}?\b(?:can't|cannot|can not|unable to|"
    r"couldn't|won't|too weak to) (?:get up|stand|move|walk|feel|put (?:any )?weight)",
    r"\bcan't (?:get|stand) up (?:off|from) the (?:floor|ground)\b", r"\bcan't put (?:any )?weight on\b",
    r"\bcollapsed\b", r"\b(?:passed out|fainted|unconscious|unresponsive|not responding|isn't responding|blacked out)\b",
    r"\b(?:won't|wont|isn't|is not|not) (?:wake|waking) up\b", r"\bcan't wake (?:him|her|them|my \w+) up\b",
    r"\bchest (?:is |feels |gets |got |went )?(?:really |very |so )?(?:pain\w*|pressure|tight\w*|squeez\w*|crush\w*|heavy|burning|hurt\w*)\b",
    r"\b(?:pain|pressure|tightness|squeezing) in (?:my|his|her|the) chest\b", r"\bheart attack\b",
    r"\b(?:goes|going|spread\w*|radiat\w*|shoot\w*) (?:down|into|to) (?:my|his|her|the) (?:left )?(?:arm|jaw)\b",
    r"\b(?:face|mouth|smile) (?:is |looks |went |seems |won't |wont )?(?:drooping|droopy|droops|crooked|lopsided|numb|move)\b",
    r"\bone side of (?:his|her|my|their|the) (?:face|smile|mouth|body)\b",
    r"\bslurr(?:ed|ing)\b", r"\bstroke\b",
    r"\b(?:can't|cannot|unable to|couldn't) (?:lift|raise|move|feel) (?:my|his|her|one|their) (?:arm|arms|leg|legs|face|side|feet)\b",
    r"\b(?:arm|side|leg|face) (?:suddenly )?(?:went|is|goes|feels|has gone) (?:numb|weak|limp|dead)\b",
    r"\bsudden(?:ly)?\b.{0,40}\b(?:confus\w*|nonsense|gibberish|can't (?:speak|talk|see)|numb|weak|dizzy|worst)\b",
    r"\b(?:talking|speaking|making) (?:nonsense|gibberish|no sense)\b",
    r"\bbleeding (?:a lot|heavily|badly|everywhere|profusely|won't stop|will not stop|doesn't stop|nonstop|through)\b",
    r"\b(?:won't|wont|will not|can't|doesn't) stop bleeding\b", r"\bdeep (?:cut|gash|wound)\b", r"\bgash\b",
    r"\b(?:blood|bleeding)\b.{0,40}\b(?:everywhere|all over|pouring|gushing|spurting|soak\w*|through the)\b",
    r"\b(?:cut|sliced|slashed)\b.{0,30}\bdeep\b",
    r"\b(?:brok\w*|fractur\w*|snapp\w*|crack\w*) (?:my|his|her|their) (?:hip|leg|ankle|wrist|arm|neck|back|spine|pelvis|femur|shoulder|knee|bone|shin|foot)\b",
    r"\b(?:think|pretty sure|probably|might have|may have|must have)\b.{0,20}\b(?:brok\w*|fractur\w*) (?:my |his |her )?(?:hip|leg|ankle|wrist|arm|neck|back|femur|shin|foot)\b",
    r"\b(?:brok\w*|fractur\w*) (?:hip|leg|ankle|wrist|arm|femur|shin|foot)\b.{0,20}\b(?:i think|now|just|right now)\b",
    r"\b(?:hip|leg|ankle|wrist|arm|neck|back|bone|foot|shin) (?:is |looks |feels |might be |may be )?(?:broken|brok\w*|snapped|fractured|bent|out of place)\b",
    r"\b(?:bent|twisted|turned|pointing) (?:the wrong way|sideways|outwards?|out sideways|backwards)\b",
    r"\b(?:leg|arm) (?:looks |is )?(?:shorter|deformed|crooked)\b", r"\bbone (?:is )?(?:sticking|poking|coming) out\b",
    r"\b(?:hit|hitting|banged|bumped) (?:my|his|her) head\b",
    r"\b(?:call|calling|need|get|send) (?:an? )?(?:ambulance|911|paramedics)\b",
    r"\b(?:heard|felt) (?:a )?(?:crack|snap|pop)\b",
    r"\btook too (?:much|many)\b|\b(?:swallowed|drank) (?:bleach|poison|cleaner)\b",
    r"\b(?:severe|terrible|unbearable|excruciating|worst) (?:pain|headache)\b.{0,40}\b(?:now|just|suddenly|after (?:a|the|i|he|she) fell)\b",
    r"\bthrowing up\b.{0,40}\bhead\b|\bhead\b.{0,40}\b(?:throwing up|vomiting|confused)\b",
    # Spanish
    r"\bno (?:puedo|puede) respirar\b", r"\bdolor (?:en el|de) pecho\b", r"\bme ca[ií] y no puedo\b",
]
_EMERGENCY = [re.compile(p) for p in _EMERGENCY_PHRASES]

_NEGATORS = re.compile(r"\b(?:no|not|don't|doesn't|didn't|never|without|isn't|wasn't|haven't|hasn't|any)\s+(?:\w+\s+){0,2}$")
# What puts an event clearly in the past or off the table, so it is not an emergency now.
_PAST_OR_HYPOTHETICAL = re.compile(
    r"\b(?:last (?:year|month|week|winter|summer|spring|fall|autumn|christmas)|"
    r"(?:years?|months?|weeks?|winters?|summers?|springs?|autumns?|decades?) ago|as a (?:kid|child|teen\w*|young \w+)|"
    r"(?:a )?long (?:time )?ago|ages ago|a while (?:back|ago)|went away|gone away|nothing (?:is )?broken|no injur\w*|"
    r"(?:i'm|i am|he's|she's|he is|she is|they're|they are|we're|we are|it's|it is|is|are|was|feels?|seems?) "
    r"(?:totally |completely |perfectly |all |doing )?(?:fine|ok|okay|alright|all right|better|good) now|"
    r"a (?:few|couple of) (?:years|months|weeks)|in (?:19|20)\d\d|back in|used to|when i was|history of|"
    r"previous|previously|in the past|healed|recovered|has recovered|i'?m (?:fine|ok|okay|better|all right|alright) now|"
    r"(?:is|are|was|feels|it's) fine now|no longer|since then|prevent|avoid|so i don't|so that i don't|what if|"
    r"how do i know if|signs of|in case|risk of|chance of|not an emergency|isn't an emergency)\b"
)


# Not wanting to share a detail is not danger ("I don't want to give my number", "I'd rather not say").
_REFUSAL = re.compile(
    r"\b(?:don't|do not|doesn't|rather not|prefer not to|not comfortable|won't|will not) (?:want to |wanna |like to )?"
    r"(?:give|giving|share|sharing|say|saying|tell|telling|put|leave|type)\b.{0,25}\b(?:number|phone|email|e-mail|name|address|"
    r"details|info|information|contact|that|it|online|here)\b|\brather not say\b"
)


def is_refusal(text: str) -> bool:
    """True when the message declines to give a personal detail."""
    return bool(_REFUSAL.search(normalise(text)))


def speaks_of_someone_else(text: str) -> bool:
    """True when the message is about another person and says nothing of the writer."""
    normal = normalise(text)
    return bool(re.search(rf"\b{_SOMEONE}\b", normal)) and not re.search(r"\b(?:i|i'm|i've|i'd|i'll|me|myself)\b", normal)


@dataclass(frozen=True)
class Finding:
    """A phrase the safety net matched; `about_someone_else` when it speaks of another person."""

    phrase: str
    about_someone_else: bool = False


def _match(patterns: list[re.Pattern], text: str, skip_negated: bool) -> str | None:
    for pattern in patterns:
        for match in pattern.finditer(text):
            if skip_negated and _NEGATORS.search(text[: match.start()]):
                continue
            return match.group(0)
    return None


def find_crisis(text: str) -> Finding | None:
    """A crisis phrase in the message, or None. Negation does not clear it: "I don't want to live" is one."""
    normal = normalise(text)
    found = _match(_CRISIS, normal, skip_negated=False)
    if found is None or _REFUSAL.search(normal):
        return None
    # "I don't want to die from a fall" is a worry, not a crisis.
    if re.search(r"\b(?:don't|do not|doesn't|never) (?:want|wanna) (?:to )?die\b", normal) and found.endswith(" die"):
        return None
    return Finding(phrase=found, about_someone_else=_about_someone_else(normal, found))


def _about_someone_else(normal: str, phrase: str) -> bool:
    """Whether the words just before the phrase, or the phrase itself, make another person its subject."""
    before = normal.split(phrase)[0].split()[-5:]
    window = " ".join(before + phrase.split())
    if re.search(rf"\b{_OTHERS}\b", phrase):
        return True
    nearest = next((w for w in reversed(before) if re.fullmatch(r"i|i'm|i've|i'd|i'll|me|my|myself|she|he|they|she's|he's|"
                                                                   r"they're|her|his|him|their|someone|somebody", w)), None)
    return bool(re.search(rf"\b{_SOMEONE}\b", window)) and nearest not in {"i", "i'm", "i've", "i'd", "i'll", "myself"}


def find_emergency(text: str) -> Finding | None:
    """An emergency happening now, or None when none is named, or it is negated or clearly past."""
    normal = normalise(text)
    found = _match(_EMERGENCY, normal, skip_negated=True)
    if found is None or _PAST_OR_HYPOTHETICAL.search(normal):
        return None
    return Finding(phrase=found, about_someone_else=bool(re.search(rf"\b{_SOMEONE}\b", normal)))


def is_past_or_negated(text: str) -> bool:
    """True when the message puts an event in the past or off the table, or names one only to deny it."""
    normal = normalise(text)
    if _PAST_OR_HYPOTHETICAL.search(normal):
        return True
    return _match(_EMERGENCY, normal, skip_negated=False) is not None and _match(_EMERGENCY, normal, skip_negated=True) is None
