"""A small compositional grammar for plausible first-person journal prose (used by generate.py).

Hand-written sentence templates with ``{slot}`` holes are filled from a vocabulary per topic (work,
family, sleep, friendship, decisions, moving, health, creativity, money, grief, joy). A slot is looked
up in the current topic first and in the shared vocabulary second, so a reflection about sleep talks
about sleep while still sounding like the same person. Everything is driven by one ``random.Random``,
so the same seed always gives the same text.
"""

from __future__ import annotations

import random
import re

# -- shared vocabulary -------------------------------------------------------------------------------
COMMON: dict[str, list[str]] = {
    "when": [
        "this morning", "last night", "around noon", "after dinner", "on the walk home", "yesterday",
        "earlier today", "tonight", "before work", "over lunch", "on the train", "in the shower",
        "while making coffee", "just now", "at about three in the afternoon", "over the weekend",
        "on Sunday evening", "in the car park", "while the kettle boiled", "somewhere around midnight",
    ],
    "feel": [
        "tired", "restless", "calm", "anxious", "hopeful", "stuck", "grateful", "irritated", "light",
        "heavy", "scattered", "proud", "embarrassed", "relieved", "lonely", "content", "overwhelmed",
        "curious", "flat", "tender", "impatient", "steady", "raw", "quietly happy", "on edge", "numb",
        "guilty", "excited", "brittle", "oddly peaceful", "unsettled", "unsure",
    ],
    "body": [
        "my shoulders were up around my ears", "my jaw was clenched", "my stomach was in knots",
        "I could finally breathe properly", "my chest felt tight", "my hands were cold",
        "I had a low headache all day", "my legs felt heavy", "I was buzzing from too much coffee",
    ],
    "person": [
        "my partner", "my sister", "my brother", "my mother", "Dad", "Sam", "Lena", "Jonah", "Maya",
        "my therapist", "my neighbour", "an old friend", "my manager", "the kids", "Grandma",
    ],
    "place": [
        "the kitchen", "the park", "the office", "the café on the corner", "the bus stop", "the garden",
        "the library", "my desk", "the supermarket", "the balcony", "the station", "the beach",
    ],
    "weather": [
        "It rained all day", "The sun came out for about an hour", "It was grey and cold", "The wind was wild",
        "It was warm enough to sit outside", "There was frost on the car", "The light was beautiful this evening",
        "It was muggy and slow", "Fog sat on the street until noon", "It snowed a little, then thought better of it",
    ],
    "want": [
        "to rest without feeling guilty", "to say no more often", "to be more patient", "to slow down",
        "to write more honestly", "to call people back", "to stop checking my phone first thing",
        "to go to bed before eleven", "to ask for help sooner", "to stop rehearsing conversations",
        "to spend more time outside", "to finish what I start", "to be kinder to myself",
    ],
    "need": [
        "a long walk", "an early night", "someone to just listen", "a day with nothing planned",
        "a proper meal", "to cry", "to laugh at something stupid", "fresh air", "a clear answer",
        "to be left alone for an hour", "a hug", "to hear that it was fine",
    ],
    "habit": [
        "reach for my phone", "apologise", "go quiet", "make a list", "clean the kitchen", "overthink it",
        "eat standing up", "say yes before thinking", "change the subject", "make a joke",
    ],
    "trigger": [
        "someone sounds disappointed", "the inbox fills up", "I'm tired", "plans change at the last minute",
        "the house is quiet", "I feel behind", "someone asks how I really am", "money comes up",
    ],
    "observation": [
        "small things carry the whole day", "the same worry looks smaller in daylight",
        "I only notice I'm tired once I stop", "a good conversation changes the colour of everything",
        "I remember the criticism and forget the praise", "routine feels like a cage and a comfort at once",
        "I'm more honest on paper than out loud", "time moves differently when I'm waiting for news",
        "the things I dread are rarely as bad as the dreading", "I keep relearning the same lesson",
    ],
    "grateful": [
        "the first coffee", "a message from an old friend", "clean sheets", "the walk by the river",
        "a quiet evening", "soup", "someone holding the door", "the smell of rain", "a good book",
        "laughing until it hurt", "a warm kitchen", "the dog being ridiculous", "an unexpected compliment",
    ],
    "truth": [
        "I'm more tired than I let on", "I already know what I want to do", "I miss having time to think",
        "I care about this more than I pretend", "I've been avoiding the real question",
        "nobody is keeping score as much as I am", "I was scared, not angry", "it's okay not to have it figured out",
        "I need people more than I like to admit", "I'm doing better than last year",
    ],
    "rare": [
        "kintsugi", "marmalade", "harmonium", "lighthouse", "accordion", "origami", "telescope", "quince",
        "tambourine", "zeppelin", "sextant", "gramophone", "kaleidoscope", "pelican", "sundial", "weathervane",
        "mandolin", "hedgehog", "typewriter", "lantern", "crossword", "abacus", "walrus", "persimmon",
        "harpsichord", "flamingo", "periscope", "xylophone", "barometer", "chameleon", "ukulele", "compass",
        "narwhal", "samovar", "trombone", "pinecone", "snowglobe", "bagpipes", "metronome", "ocarina",
    ],
}

# -- topics ------------------------------------------------------------------------------------------
TOPICS: dict[str, dict[str, list[str]]] = {
    "work": {
        "person": ["my manager", "Priya from design", "the new hire", "my team", "the client", "Tom in finance",
                   "the director", "my old boss"],
        "thing": ["the quarterly plan", "the deadline", "the performance review", "the migration project",
                  "my inbox", "the budget meeting", "the presentation", "the reorganisation", "the job offer",
                  "that email"],
        "did": ["rewrote the quarterly plan", "sat through three meetings back to back", "finally shipped the release",
                "stayed late to fix the report", "pushed back on the timeline", "gave the presentation",
                "spoke up in the planning meeting", "answered emails until nine", "asked for a raise",
                "helped the new hire with her first project"],
        "place": ["the office", "my desk", "the meeting room", "the kitchen at work"],
        "truth": ["the job is not the problem, the pace is", "I want my work to mean something",
                  "I keep saying yes to things nobody asked me to do", "I'm good at this and I forget it"],
    },
    "family": {
        "person": ["my mother", "Dad", "my sister", "my brother", "the kids", "my partner", "Grandma", "my aunt",
                   "my daughter", "my son"],
        "thing": ["the birthday dinner", "the phone call with Mum", "the holidays", "the school run",
                  "Dad's health", "the family group chat", "the old house", "bedtime"],
        "did": ["called my mother", "drove the kids to school", "cooked dinner for everyone",
                "argued with my sister about the holidays", "helped Dad with his computer",
                "read two chapters to the kids", "looked through old photos", "visited Grandma"],
        "place": ["Mum's kitchen", "the car", "the living room", "the kids' school"],
        "truth": ["I want them to be proud of me more than I admit", "I sound like my father when I'm tired",
                  "we love each other badly sometimes", "I'm still the youngest child in that house"],
    },
    "sleep": {
        "thing": ["the alarm", "the night", "my sleep", "the dream", "the nap", "the early start", "the insomnia"],
        "did": ["couldn't sleep until two", "woke up at four and stayed awake", "slept nine hours straight",
                "had the dream about the exam again", "fell asleep on the sofa", "went to bed early for once",
                "lay awake making lists", "took a long nap after lunch"],
        "place": ["bed", "the sofa", "the dark bedroom"],
        "truth": ["I can't think clearly on five hours", "sleep is the first thing I sacrifice and the last thing I should",
                  "my worries get louder after midnight", "a rested version of me would handle this easily"],
    },
    "friendship": {
        "person": ["Sam", "Lena", "Jonah", "Maya", "an old friend from university", "the neighbours", "Chris",
                   "Aisha", "my oldest friend"],
        "thing": ["the group chat", "the dinner party", "the birthday", "the unanswered message", "the weekend away",
                  "our friendship", "the falling out"],
        "did": ["met Sam for coffee", "finally replied to Lena", "went to Maya's birthday", "had a long call with Jonah",
                "cancelled plans again", "walked with Aisha for two hours", "laughed with Chris about the old days"],
        "place": ["the pub", "the café on the corner", "Maya's flat", "the park"],
        "truth": ["I let friendships drift when I'm busy", "the people who stay are worth the effort",
                  "I was the one who stopped calling", "I feel most like myself around them"],
    },
    "decisions": {
        "thing": ["the decision", "the offer", "the two options", "the list of pros and cons", "the deadline to decide",
                  "the conversation I'm avoiding", "the choice"],
        "did": ["made a list of pros and cons", "slept on it", "talked it through with my partner",
                "flipped a coin and noticed which side I hoped for", "wrote down what scares me",
                "decided, then undecided", "set myself a deadline"],
        "truth": ["both options are fine and that's what makes it hard", "I'm waiting for permission I don't need",
                  "not deciding is also a decision", "I already know the answer"],
    },
    "moving": {
        "thing": ["the move", "the boxes", "the new flat", "the lease", "the new neighbourhood", "the old street",
                  "the removal van", "the spare room"],
        "did": ["packed the books", "signed the lease", "looked at three flats", "said goodbye to the old place",
                "unpacked the kitchen", "walked around the new neighbourhood", "gave away half my clothes"],
        "place": ["the new flat", "the old flat", "the hallway full of boxes", "the new street"],
        "truth": ["home is a routine more than a place", "I'm grieving a place and that's allowed",
                  "change is harder when I pretend it isn't"],
    },
    "health": {
        "thing": ["the appointment", "the test results", "my back", "the running plan", "the headache",
                  "the physio exercises", "my diet", "the cold"],
        "did": ["went for a run", "skipped the gym again", "saw the doctor", "did the physio exercises",
                "cooked something green", "walked ten thousand steps", "stretched for twenty minutes",
                "went swimming"],
        "place": ["the gym", "the doctor's waiting room", "the pool", "the river path"],
        "truth": ["my body keeps the score of every late night", "I treat my health like a project and then resent it",
                  "moving every day changes my mood more than anything"],
    },
    "creativity": {
        "thing": ["the novel", "the sketchbook", "the song", "the blank page", "the painting", "the short story",
                  "the photographs", "the pottery class"],
        "did": ["wrote five hundred words", "sketched in the park", "played guitar for an hour",
                "finished the first draft", "deleted most of what I wrote", "went to the pottery class",
                "took photographs on the walk", "started a new painting"],
        "place": ["my desk", "the studio", "the park bench", "the kitchen table"],
        "truth": ["making something badly is better than not making it", "I only feel like an artist when I'm working",
                  "I compare my first drafts to other people's finished work"],
    },
    "money": {
        "thing": ["the budget", "the rent", "the credit card bill", "the savings account", "the tax return",
                  "the car repair", "the pay rise", "the spreadsheet"],
        "did": ["went through the bank statements", "paid off the card", "cancelled two subscriptions",
                "made a budget for the month", "spent too much at the market", "moved money into savings",
                "finally did the tax return"],
        "truth": ["money worries sit underneath everything else", "I spend when I'm sad", "we have enough, I just don't feel it",
                  "looking at the numbers is always better than guessing"],
    },
    "grief": {
        "person": ["Grandad", "my father", "Auntie Rose", "my friend Ellie", "the dog", "my grandmother"],
        "thing": ["the anniversary", "the funeral", "the empty chair", "the old voicemail", "the photographs",
                  "the letters", "the first Christmas without him"],
        "did": ["listened to the old voicemail", "visited the grave", "cried in the car", "sorted through the letters",
                "told a story about him at dinner", "lit a candle", "looked at the photographs"],
        "place": ["the cemetery", "the old house", "the hospital corridor", "his favourite bench"],
        "truth": ["grief comes in waves and today was a big one", "I'm still angry and that's part of it",
                  "remembering is a way of keeping them", "it doesn't get smaller, I get bigger around it"],
    },
    "joy": {
        "thing": ["the concert", "the first warm day", "the surprise party", "the trip", "the garden",
                  "the good news", "the evening swim", "the festival"],
        "did": ["danced in the kitchen", "went to the concert", "swam in the sea", "laughed until I cried",
                "picked the first tomatoes", "booked the trip", "heard the good news", "ate outside in the sun"],
        "place": ["the beach", "the garden", "the concert hall", "the hills"],
        "truth": ["I don't have to earn a good day", "joy is easier to notice when I slow down",
                  "I forget how much I love this until I do it again"],
    },
}
TOPIC_NAMES = list(TOPICS)

# -- sentence templates ------------------------------------------------------------------------------
OPENERS = [
    "{When}, I {did}.",
    "{When} I {did}, and I felt {feel} afterwards.",
    "{Weather}.",
    "{Weather}, which matched my mood.",
    "Writing this from {place}.",
    "Quick entry before bed.",
    "Today was {feel}, mostly.",
    "I want to get this down before I forget it.",
    "Not much to say today, but I promised myself I'd write.",
    "{When} I was {feel} for no clear reason.",
    "So, {thing}.",
]
BODY = [
    "I keep coming back to {thing}.",
    "I noticed I was {feel} before {person} even said anything.",
    "Part of me wants {want}, and part of me knows {truth}.",
    "If I'm honest, {truth}.",
    "I don't know why {thing} gets to me so much.",
    "{Person} said something about {thing} that I can't stop thinking about.",
    "It's strange how {observation}.",
    "I'm trying not to judge myself for being {feel}.",
    "What I really needed was {need}.",
    "Maybe {truth}.",
    "I noticed that {body}.",
    "When {trigger}, I {habit}, and today was no different.",
    "Why do I always {habit} when {trigger}?",
    "I {did}, which I had been putting off for weeks.",
    "Then I {did}, and that helped a bit.",
    "{Person} and I talked about {thing} for a long time.",
    "I told {person} I was fine, which wasn't quite true.",
    "At {place} I caught myself feeling {feel}.",
    "{Thing} is still there, waiting, and I keep avoiding it.",
    "I think I was {feel} because of {thing}, but maybe it was just the day.",
    "It felt good to be {feel} for once instead of {feel2}.",
    "There's a part of me that would rather not think about {thing} at all.",
    "I don't have an answer yet, and I'm trying to be okay with that.",
    "By the evening I felt {feel}, which surprised me.",
    "{Person} texted to ask how I was, and I didn't know what to say.",
    "I went back and forth about {thing} all afternoon.",
    "Somewhere in the middle of it I realised {truth}.",
    "I'd like to remember that {observation}.",
    "Honestly, I was more {feel} than I expected to be.",
    "It's been a while since I felt this {feel}.",
    "I had a small argument with {person} and we both apologised later.",
    "Later I sat in {place} and didn't do anything for a while.",
    "I'm not sure what to do about {thing}.",
    "Every time I think about {thing}, I feel {feel}.",
    "I wish I could tell {person} how much that meant to me.",
    "It wasn't a bad day, just a long one.",
    "I felt {feel} and {feel2} at the same time, which is confusing.",
    "Nothing happened, really, and that was the nice part.",
]
RARE_BODY = [
    "I found a {rare} at the flea market today, of all things.",
    "For some reason I dreamt about a {rare}.",
    "{Person} gave me a {rare}, which made me laugh.",
]
CLOSERS = [
    "Tomorrow I want {want}.",
    "Three things I'm grateful for: {grateful}, {grateful2}, and {grateful3}.",
    "Going to bed now.",
    "Note to self: {truth}.",
    "That's enough for tonight.",
    "Maybe I'll feel differently in the morning.",
    "One thing I learned today: {observation}.",
    "I'm grateful for {grateful}, at least.",
    "Small step: I want {want}.",
    "I'll come back to this.",
]
LIST_INTROS = ["Things on my mind:", "To do, so it stops circling:", "What helped today:", "Questions I keep asking:"]
LIST_ITEMS = [
    "{thing}", "call {person}", "{need}", "remember that {truth}", "{grateful}", "try {want}",
]

_SLOT = re.compile(r"\{(\w+)\}")


def _compile(template: str) -> tuple[list[str], list[str]]:
    parts = _SLOT.split(template)
    return parts[0::2], parts[1::2]


_COMPILED = {name: [_compile(t) for t in group] for name, group in
             (("open", OPENERS), ("body", BODY), ("rare", RARE_BODY), ("close", CLOSERS), ("item", LIST_ITEMS))}


class Prose:
    """Fills templates from the vocabulary; one instance per generator run."""

    def __init__(self, rng: random.Random, rare_rate: float = 1 / 2000) -> None:
        self.rng = rng
        self.rare_rate = rare_rate

    def _slot(self, name: str, topic: dict[str, list[str]]) -> str:
        rng = self.rng
        key = name.lower().rstrip("23")
        pool = topic.get(key)
        if pool is None or (key in COMMON and rng.random() < 0.25):
            pool = COMMON.get(key) or TOPICS["joy"][key]
        value = rng.choice(pool)
        if name[0].isupper():
            value = value[0].upper() + value[1:]
        return value

    def sentence(self, kind: str, topic: dict[str, list[str]]) -> str:
        literals, slots = self.rng.choice(_COMPILED[kind])
        out = [literals[0]]
        used: set[str] = set()
        for slot, lit in zip(slots, literals[1:]):
            value = self._slot(slot, topic)
            for _ in range(3):  # "feel2" etc. should differ from "feel"
                if value.lower() not in used:
                    break
                value = self._slot(slot, topic)
            used.add(value.lower())
            out.append(value)
            out.append(lit)
        text = "".join(out)
        return text[0].upper() + text[1:]

    def reflection(self, target_words: int, topics: list[str]) -> str:
        """About ``target_words`` words (never more than target + one sentence) of first-person prose."""
        rng = self.rng
        vocab = [TOPICS[t] for t in topics]
        paragraphs: list[str] = []
        words = 0
        first = True
        seen: set[str] = set()
        while words < target_words:
            topic = vocab[0] if rng.random() < 0.7 else rng.choice(vocab)
            if rng.random() < 0.06 and words > 30 and target_words - words > 25:
                items = [self.sentence("item", topic) for _ in range(rng.randint(2, 4))]
                block = rng.choice(LIST_INTROS) + "\n" + "\n".join("- " + i for i in items)
                paragraphs.append(block)
                words += len(block.split())
                continue
            sentences = []
            for i in range(rng.randint(2, 6)):
                if first:
                    kind, first = "open", False
                elif rng.random() < self.rare_rate:  # per sentence: each rare word lands in ~1 of 4,000 entries
                    kind = "rare"
                else:
                    kind = "body"
                s = self.sentence(kind, topic)
                if s in seen:  # one redraw keeps long entries from repeating themselves
                    s = self.sentence(kind, topic)
                seen.add(s)
                sentences.append(s)
                words += len(s.split())
                if words >= target_words:
                    break
            paragraphs.append(" ".join(sentences))
        if rng.random() < 0.6:
            paragraphs[-1] += " " + self.sentence("close", vocab[0])
        return "\n\n".join(paragraphs)

    def mirrorback(self, topics: list[str]) -> str:
        rng = self.rng
        topic = TOPICS[topics[0]]
        thing = rng.choice(topic.get("thing") or COMMON["grateful"])
        feel = rng.choice(COMMON["feel"])
        lines = [
            f"You wrote about {thing}, and the word that keeps surfacing is \"{feel}\".",
            rng.choice([
                "You don't seem to be asking for a solution so much as room to think.",
                "There is a pull here between what you want and what you think you should want.",
                "You named the feeling before you named the event; that order seems important to you.",
                "This sounds like a pattern you have noticed before, now seen a little more clearly.",
            ]),
            rng.choice([
                f"What would it look like to treat {thing} as information rather than a verdict?",
                "What would you tell a friend who wrote this?",
                "Which part of this is yours to carry, and which part isn't?",
                "What is one small thing that would make tomorrow gentler?",
            ]),
        ]
        return " ".join(lines)


# Words and phrases that the generated text contains, for search benchmarks and tests.
QUERY_WORDS = {
    "common": ["today", "felt", "thing", "think", "tired", "work", "because", "really", "morning", "want"],
    "rare": list(COMMON["rare"]),
    "phrase": ["couldn't sleep", "my mother", "the quarterly plan", "pros and cons", "the old house",
               "went for a run", "quietly happy", "first warm day", "the group chat", "bank statements"],
    "prefix": ["tir*", "anx*", "grat*", "sleep*", "fam*", "decid*", "money*", "writ*", "friend*", "cal*"],
}
