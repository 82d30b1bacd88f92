"""A language check for blameless postmortems: flags blame and hindsight phrasing.

Why: a review that names a person as the cause, or judges past decisions with knowledge that was
not available at the time, teaches people to hide information, and stops the organisation from
learning how the system let the event happen. Blameless-review guidance (the Google SRE book's
postmortem culture chapter, Etsy's Debriefing Facilitation Guide, Sidney Dekker's "new view" of
human error) asks instead what people knew, what made sense to them, and which conditions shaped
their actions.

Method: a small set of hand-written rules, each a regular expression for one phrasing family
(hindsight modals such as "should have", counterfactuals, character judgements such as "careless",
"human error" as a cause, minimising words such as "simply", and a person or role as the grammatical
subject of a failure verb such as "failed to" or "forgot"). Each rule carries the reason it is a
problem and a neutral rewording. A failure verb is only flagged when its subject is a person, so
"the job failed to start" passes while "Dana failed to check" does not. The check warns; it never
blocks.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass

HINDSIGHT = "hindsight"
COUNTERFACTUAL = "counterfactual"
BLAME = "blame"
JUDGEMENT = "judgement"
MINIMISING = "minimising"


@dataclass(frozen=True)
class Finding:
    """One flagged phrase.

    Attributes:
        start: Offset of the first character of the phrase in the checked text.
        end: Offset just past its last character (``text[start:end]`` is the phrase).
        phrase: The flagged words.
        category: One of hindsight, counterfactual, blame, judgement, minimising.
        rule: Short identifier of the rule that matched.
        explanation: Why this phrasing works against a blameless review.
        suggestion: A neutral way to say it instead.
    """

    start: int
    end: int
    phrase: str
    category: str
    rule: str
    explanation: str
    suggestion: str


@dataclass(frozen=True)
class _Rule:
    rule: str
    category: str
    pattern: re.Pattern[str]
    explanation: str
    suggestion: str


def _rule(rule: str, category: str, pattern: str, explanation: str, suggestion: str) -> _Rule:
    return _Rule(rule, category, re.compile(pattern, re.IGNORECASE), explanation, suggestion)


_HINDSIGHT_WHY = (
    "Judges a past decision with knowledge that was only available afterwards (hindsight bias); "
    "it says what did not happen instead of why the action made sense at the time."
)
_COUNTERFACTUAL_WHY = (
    "A counterfactual describes a world that did not happen; it hides the conditions that made "
    "the actual sequence of events reasonable to the people involved."
)
_BLAME_WHY = (
    "Names a person's shortcoming as the cause; people then stop sharing details, and the "
    "system conditions that allowed the event stay unfixed."
)
_JUDGEMENT_WHY = (
    "A judgement of character or competence explains nothing about the system and discourages "
    "candid accounts in future reviews."
)
_MINIMISING_WHY = (
    "Implies the right action was easy and obvious, which is only true in hindsight; it belittles "
    "the people involved and hides the real difficulty."
)
_HUMAN_ERROR_WHY = (
    "'Human error' is a label, not an explanation: it is where the investigation should start "
    "(what made the action reasonable, what let it have this effect), not where it ends."
)

# Capitalised words that open ordinary sentences; a capitalised word that is not one of these and
# stands as the subject of a failure verb is read as a person's name.
_OPENERS = (
    "The|This|That|These|Those|It|Its|A|An|When|After|Before|During|While|At|On|In|If|As|Our|We|"
    "Then|Once|Because|Since|Although|Both|Each|Every|No|Some|All|Most|Many|Later|Eventually"
)

# Words that are people when they stand as the subject of a failure verb.
_PERSON = (
    r"(?:\b(?:he|she|they|we|i|you|someone|somebody|nobody|no one|everyone)"
    r"|\b(?:the|an?|our|their|his|her)\s+(?:[\w-]+\s+)?"
    r"(?:engineers?|operators?|developers?|devs?|admins?|administrators?|sres?|dbas?|interns?|"
    r"hires?|employees?|staff|reviewers?|authors?|on-?call(?:er)?|person|team|teammates?|"
    r"contractors?|analysts?|technicians?|manager|lead|responders?|user)"
    rf"|(?-i:\b(?!(?:{_OPENERS})\b)[A-Z][a-z]+(?:\s+[A-Z][a-z]+)?))"
)
_ADVERB = r"(?:\s+(?:also|again|then|still|clearly|simply|just|completely|totally))?"

_RULES: tuple[_Rule, ...] = (
    _rule(
        "should-have",
        HINDSIGHT,
        r"\b(?:should|could|ought to)(?:\s+not|n't|n’t)?(?:\s+have|\s*['’]ve)\s+(?:been\s+)?[\w-]+",
        _HINDSIGHT_WHY,
        "Describe what the person knew and what made their action sensible at the time, e.g. "
        "'the runbook did not mention X, so the team did Y'.",
    ),
    _rule(
        "should-not",
        HINDSIGHT,
        r"\b(?:should|shouldn't|shouldn’t)\s+(?:never|not)?\s*(?:be|have)\s+(?:allowed|let)\b"
        r"|\bshould\s+(?:know|have known|know better)\b|\bknew better\b",
        _HINDSIGHT_WHY,
        "Ask what the system allowed and what information was available at the time.",
    ),
    _rule(
        "why-didnt",
        HINDSIGHT,
        r"\bwhy\s+(?:didn['’]t|did\s+not|wasn['’]t|weren['’]t|hadn['’]t|couldn['’]t)\b"
        r"|\bwhy\s+(?:did|would)\s+(?:anyone|nobody|no one|he|she|they|you)\b",
        _HINDSIGHT_WHY,
        "Ask 'what made X the reasonable choice at that moment?' or 'what would have helped "
        "someone notice Y?'.",
    ),
    _rule(
        "obvious",
        HINDSIGHT,
        r"\b(?:obviously|obvious|clearly|of course|it was evident|plainly|in hindsight|"
        r"with hindsight|in retrospect|any competent|anyone (?:could|would) have)\b",
        _HINDSIGHT_WHY,
        "State the signal and when it became visible, e.g. 'the error rate rose at 10:02; the "
        "dashboard showed it at 10:09'.",
    ),
    _rule(
        "counterfactual-if",
        COUNTERFACTUAL,
        r"\b(?:if only|had (?:he|she|they|we|I|you|someone|the \w+|(?-i:[A-Z][a-z]+))\s+(?:not\s+)?"
        r"(?:\w+ed|done|run|read|seen|known|checked|taken|made|gone|been|written|waited|"
        r"followed|listened))\b"
        r"|\bif\s+[^.;]{1,60}?\bhad(?:\s+not|n['’]t)?\s+\w+[^.;]{0,80}?\bwould(?:\s+not|n['’]t)?"
        r"\s+have\b"
        r"|\bwould(?:\s+not|n['’]t)?\s+have\s+(?:been\s+)?(?:happened|occurred|avoided|prevented|"
        r"caught|noticed)\b",
        _COUNTERFACTUAL_WHY,
        "Describe what actually happened and which conditions made it likely; turn the missing "
        "safeguard into an action item ('add a pre-deploy check for X').",
    ),
    _rule(
        "human-error",
        BLAME,
        r"\b(?:human|operator|user|engineer|pilot|manual|personnel)\s+(?:error|mistake|failure)s?"
        r"\b|\bpebkac\b|\bfat[- ]finger(?:ed|s)?\b",
        _HUMAN_ERROR_WHY,
        "Describe the action and its context: 'the command ran against production because both "
        "environments share a prompt and a host name pattern'.",
    ),
    _rule(
        "person-failure-verb",
        BLAME,
        _PERSON + _ADVERB + r"\s+(?:failed to|forgot(?:ten)?(?: to)?|neglected(?: to)?|ignored|"
        r"missed|overlooked|did not bother|didn['’]t bother|messed up|screwed up|broke|caused|"
        r"was responsible for|is responsible for|should not have|made a mistake|made an error|"
        r"did not (?:check|test|verify|follow|read|notice)|didn['’]t (?:check|test|verify|follow|"
        r"read|notice)|blindly|carelessly|recklessly)\b",
        _BLAME_WHY,
        "Make the system the subject: 'the change reached production without a canary stage', "
        "'the alert did not page anyone'.",
    ),
    _rule(
        "fault",
        BLAME,
        r"\b(?:(?:his|her|their|your|my|our|(?-i:[A-Z][a-z]+)['’]s)\s+(?:fault|mistake|error|"
        r"negligence|screw-?up|blunder)|to blame|blame[sd]?\b|at fault|culprit|"
        r"responsible party"
        r"|(?:hold|held|holding)\s+(?:[\w'’-]+\s+){0,6}?(?:accountable|responsible))\b",
        _BLAME_WHY,
        "Name the contributing factors (conditions, pressures, missing safeguards) instead of "
        "a responsible person.",
    ),
    _rule(
        "failure-verb",
        BLAME,
        r"\b(?:forgot|forgotten|neglected|neglect)\b",
        _BLAME_WHY,
        "Describe what the process or tooling did not prompt for, e.g. 'the checklist has no "
        "step for X'.",
    ),
    _rule(
        "character",
        JUDGEMENT,
        r"\b(?:careless(?:ly|ness)?|negligen(?:t|ce|tly)|sloppy|sloppily|lazy|laziness|"
        r"incompeten(?:t|ce)|reckless(?:ly)?|irresponsibl[ey]|stupid(?:ly|ity)?|dumb|"
        r"inattentive|inattention|complacen(?:t|cy)|lack of (?:attention|diligence|care|"
        r"discipline)|not paying attention|wasn['’]t paying attention|rookie mistake|"
        r"unprofessional|silly mistake|bonehead(?:ed)?|idiot(?:ic)?)\b",
        _JUDGEMENT_WHY,
        "Describe the work conditions instead: time pressure, tooling, fatigue, unclear "
        "ownership, missing guard rails.",
    ),
    _rule(
        "minimising",
        MINIMISING,
        r"\b(?:simply|merely|trivially|easily)\b(?!\s+(?:put|stated|because))"
        r"|\bjust\b(?!\s+(?:before|after|as|in time|now|under|over|below|above|about|around|"
        r"like|one|two|three|a few|\d|started|begun|then|when|finished|been released))"
        r"|\b(?:all (?:he|she|they|you|we) had to do|only had to|it'?s easy|was easy to|"
        r"a simple (?:check|test|fix|look|glance)|basic (?:check|mistake|step))\b",
        _MINIMISING_WHY,
        "Remove the word, or say what made the step hard to see or do at the time.",
    ),
)


def _matches(text: str) -> Iterator[Finding]:
    for rule in _RULES:
        for match in rule.pattern.finditer(text):
            yield Finding(
                start=match.start(),
                end=match.end(),
                phrase=match.group(0),
                category=rule.category,
                rule=rule.rule,
                explanation=rule.explanation,
                suggestion=rule.suggestion,
            )


def check_text(text: str) -> list[Finding]:
    """Flag blame and hindsight phrasing in ``text``.

    Overlapping matches are merged into the first (longest) one so that each phrase is reported
    once. Findings are ordered by position.

    Returns:
        The findings; an empty list when the text reads as blameless.
    """
    candidates = list(_matches(text))
    candidates.sort(key=lambda f: (f.start, -(f.end - f.start)))
    kept: list[Finding] = []
    for finding in candidates:
        if kept and finding.start < kept[-1].end:
            continue
        kept.append(finding)
    return kept


def is_blameless(text: str) -> bool:
    """True when :func:`check_text` finds nothing to flag."""
    return not check_text(text)
