"""Screening with the shipped English rules: each category, figures of speech, negation,
evidence pointing at the person's own words, senders and languages."""

from __future__ import annotations

import dataclasses
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from rpbot.safeguarding import (
    CATEGORIES,
    DEFAULT_RULES_DIR,
    NO_CONCERN,
    Match,
    Screening,
    default_screener,
    rules_path,
    screen,
)
from tests.safeguarding.helpers import rules_only

CONCERNS = [
    # harm to a child, in a child's words or reported
    ("child", "dad hits me when hes drunk", "harm_to_child"),
    ("child", "mums boyfriend hit me with his belt", "harm_to_child"),
    ("child", "my uncle touches me and i dont like it", "harm_to_child"),
    ("child", "theres never any food in the house", "harm_to_child"),
    ("child", "nan locks me in my room", "harm_to_child"),
    ("parent", "he came back from his dads with marks on his legs", "harm_to_child"),
    # a parent hurting, or afraid of hurting, a child
    ("parent", "I lost it and smacked him", "harm_by_parent"),
    ("parent", "smacked him. hes 4", "harm_by_parent"),
    ("parent", "i slapped her across the face", "harm_by_parent"),
    ("parent", "gave him a clip round the ear", "harm_by_parent"),
    ("parent", "I'm scared I'm going to hurt her", "harm_by_parent"),
    ("parent", "I shook the baby", "harm_by_parent"),
    # self-harm and suicidal thoughts, text-speak included
    ("child", "kms", "self_harm"),
    ("child", "i wanna die", "self_harm"),
    ("child", "i want to k1ll myself", "self_harm"),
    ("child", "been thinking about unaliving myself", "self_harm"),
    ("parent", "everyone would be better off without me", "self_harm"),
    ("child", "dont want to be here anymore", "self_harm"),
    ("child", "i've been cutting again", "self_harm"),
    # domestic abuse
    ("parent", "he hit me again last night", "domestic_abuse"),
    ("parent", "my partner checks my phone and wont let me see my sister", "domestic_abuse"),
    ("child", "dad hits mum when they argue", "domestic_abuse"),
    ("parent", "he strangled me", "domestic_abuse"),
    # danger now
    ("parent", "hes outside banging on the door", "danger_now"),
    ("child", "hes gonna hit me", "danger_now"),
    ("parent", "He's got a knife", "danger_now"),
    ("child", "HELP", "danger_now"),
    ("child", "locked in my room and i cant get out", "danger_now"),
    ("parent", "I don't feel safe tonight", "danger_now"),
    # a secret with an adult
    ("child", "dont tell mum", "secret_with_adult"),
    ("child", "he said its our secret", "secret_with_adult"),
    ("child", "he said never tell", "secret_with_adult"),
    ("child", "he told me not to tell anyone", "secret_with_adult"),
    ("child", "if i tell anyone ill get taken away", "secret_with_adult"),
    # substance misuse
    ("child", "mum was high when we got back", "substance_misuse"),
    ("parent", "got off my face last night", "substance_misuse"),
    ("parent", "I relapsed", "substance_misuse"),
    ("child", "mums always drunk", "substance_misuse"),
    ("child", "dad smokes weed in the house", "substance_misuse"),
]

ORDINARY = [
    # figures of speech
    "I'm dying to see them on Saturday",
    "We had a smashing time at the park",
    "Leo is killing it at school",
    "I could kill for a cuppa",
    "Nan's roast is to die for",
    "bored to death in the waiting room",
    "went to hit the shops after contact",
    "left early to beat the traffic",
    "the telly is killing me",
    "I nearly died laughing",
    "he hit the roof when I said no",
    "it hit me how much I miss them",
    "i was so pissed off with the school",
    "the kids were high as kites after the party sweets",
    "this homework will be the death of me",
    "my brother is so annoying i could kill him lol",
    # negation
    "I would never hit her",
    "I didn't smack him, I took the tablet away",
    "Dad doesn't hit me anymore",
    "I'm not suicidal, just tired",
    "I'm not going to hurt myself",
    "nobody hits me at home",
    # hard days, the programme, the past
    "I shouted and I'm sorry",
    "I was so angry I had to walk away",
    "In the session we learnt smacking is against the law in Wales",
    "Growing up my mum hit us with the wooden spoon, I'm breaking that cycle",
    "I used to smack them but I don't anymore",
    "Reflection: a year ago I would have smacked him for that",
    "I cut myself chopping onions",
    "dont tell mum but im making her a card for mothers day",
    "Please help me understand the letter",
    "Ethan hit his head on the table, he's fine",
    "Six months without a drink today",
    "",
    "   ",
    "😀😀😀",
]


@pytest.mark.parametrize(("sender", "text", "category"), CONCERNS)
def test_concerns_are_found(sender: str, text: str, category: str) -> None:
    result = screen(text, sender=sender)
    assert result.concern
    assert category in result.categories
    assert screen(text).concern  # also when the sender is not known


@pytest.mark.parametrize("text", ORDINARY)
def test_ordinary_messages_are_not_concerns(text: str) -> None:
    assert screen(text) == NO_CONCERN


def test_every_category_has_a_concern_example() -> None:
    assert {category for _, _, category in CONCERNS} == set(CATEGORIES)
    assert set(default_screener().rules.category_names) == set(CATEGORIES)


# Families of phrasings added from the dev4-dev6 sets: each written here in words of its own,
# not copied from a labelled set, so they check the family rather than one sentence.
FAMILIES = [
    # grooming and exploitation
    ("child", "this guy on roblox says im really mature for my age", "harm_to_child"),
    ("parent", "a man online keeps telling her to delete their chats", "harm_to_child"),
    ("parent", "my daughter's boyfriend is 25 and she's 15", "harm_to_child"),
    ("parent", "He says he's her boyfriend. He's 27.", "harm_to_child"),  # "~": across a full stop
    ("parent", "some lads are getting him to deliver packages for them", "harm_to_child"),
    ("parent", "comes home with cash and new trainers and wont say where from", "harm_to_child"),
    ("child", "my step dad filmed me in the shower", "harm_to_child"),
    # hidden injuries, cover stories, neglect, cruel punishments
    ("child", "mum covers up my bruises with makeup before school", "harm_to_child"),
    ("child", "dad says i have to tell the teacher the marks were from football", "harm_to_child"),
    ("child", "i told miss i fell down the stairs. i didnt fall", "harm_to_child"),
    ("child", "i have to mind my baby brother all night when dad goes out", "harm_to_child"),
    ("parent", "sent him to bed without dinner as punishment again", "harm_to_child"),
    ("child", "im called stupid and fat every day by my stepdad", "harm_to_child"),
    ("child", "mum says she wishes i had never been born", "harm_to_child"),
    # self-harm in indirect words
    ("parent", "they'd all be happier if I wasn't around anymore", "self_harm"),
    ("child", "i looked up how many paracetamol it takes to die", "self_harm"),
    ("parent", "tied a rope round my neck last night", "self_harm"),
    ("child", "i pinch my legs so it hurts when im upset", "self_harm"),
    # substance misuse around children
    ("child", "my uncle gave me some of his vodka", "substance_misuse"),
    ("parent", "took some of my sisters valium before contact", "substance_misuse"),
    ("child", "dad needs his cans in the morning or he gets the shakes", "substance_misuse"),
    ("child", "mum wont wake up even when i shake her", "substance_misuse"),
    # domestic abuse, danger, secrets, a parent's fear of their own anger
    ("parent", "my partner wont let me see my family", "domestic_abuse"),
    ("child", "he said he'll kill her if she leaves", "domestic_abuse"),
    ("child", "my brother swallowed a button battery", "danger_now"),
    ("child", "he told me not to mention it to my mum", "secret_with_adult"),
    ("parent", "I'm scared I'll do something I regret", "harm_by_parent"),
]

#: Figures of speech and ordinary days that look like the new families; never concerns.
FAMILY_LOOKALIKES = [
    ("child", "mum is going to kill me if i forget my pe kit again"),
    ("parent", "these twins are going to kill me"),
    ("parent", "I wanted to strangle her when she drew on the sofa but I took a breath"),
    ("child", "my sister slammed her door and kicked her bag"),
    ("child", "we got battered 5-1 at football"),
    ("child", "i want to die \U0001f602 so embarrassing"),
    ("parent", "When I was small my grandad used to smack us. I never will"),
    ("parent", "I used to cut myself as a teen but I'm in a good place now"),
    ("parent", "he was abusive but that was years ago, we're fine"),
    ("child", "i had a line in the school play"),
    ("child", "my teacher says im really mature for my age in class"),
    ("child", "my friend said dont mention it to the other parents that we ate the biscuits"),
    ("parent", "my boyfriend is 30 and great with the kids"),
    ("parent", "few cans of coke on the trip every day"),
    ("parent", "put her in a cold bath to bring her temperature down"),
    ("parent", "In the session we went over the time I smacked him back in 2021"),
]


@pytest.mark.parametrize(("sender", "text", "category"), FAMILIES)
def test_new_families_are_found(sender: str, text: str, category: str) -> None:
    assert category in screen(text, sender=sender).categories


@pytest.mark.parametrize(("sender", "text"), FAMILY_LOOKALIKES)
def test_new_family_lookalikes_are_not_concerns(sender: str, text: str) -> None:
    assert screen(text, sender=sender) == NO_CONCERN


#: Families added with dev sets 9 to 24 (written for this test, not taken from a labelled set): the
#: rules alone must catch these. The rules as they were before dev sets 9 to 11 missed 19 of their
#: 22; those before dev set 12 missed 14 of its 16; before dev set 13, 13 of 16; before dev set 14,
#: 12 of 14; before dev set 15, 6 of 8; before dev set 16, 8 of 10; before dev set 17, 7 of 10;
#: before dev set 18, 9 of 10; before dev set 19, 8 of 10; before dev set 20, 8 of 10; before dev
#: set 21, 9 of 10; before dev set 22, 10 of 10; before dev set 23, 10 of 10; before dev set 24,
#: 12 of 12; before dev set 25, 8 of 12.
RULE_FAMILIES = [
    ("parent", "had a bottle of wine and the boys got themselves up", "substance_misuse"),
    ("parent", "Was hammered last night, didnt hear the baby", "substance_misuse"),
    ("child", "mum keeps taking my brothers adhd tablets", "substance_misuse"),
    ("parent", "she's 14 and stayed out all night again", "harm_to_child"),
    ("parent", "found a hotel key card in his jacket, he's only 13", "harm_to_child"),
    ("child", "i got hit with the hairbrush again", "harm_to_child"),
    ("parent", "made her kneel in the hallway for an hour", "harm_by_parent"),
    ("parent", "told him not to mention the bruise to his teacher", "secret_with_adult"),
    ("parent", "her phone's off and she was supposed to be home at 9", "danger_now"),
    ("parent", "Jack's been missing since 3 o'clock", "danger_now"),
    # and with dev set 10
    ("child", "nan digs her nails into my arm when shes cross", "harm_to_child"),
    ("parent", "he tracks my location and rings me if im late", "domestic_abuse"),
    ("parent", "What would I do differently? Not smack her.", "harm_by_parent"),
    ("parent", "rehearsed with Jayden what to say to the social worker", "secret_with_adult"),
    ("child", "ive been saving up my sertraline", "self_harm"),
    # and with dev set 11
    ("parent", "the kitchen is on fire and the kids are upstairs", "danger_now"),
    ("child", "cant wake mum up and shes breathing funny", "danger_now"),
    ("parent", "baby has gone blue round the lips", "danger_now"),
    ("parent", "my ex texted me a photo of a knife", "danger_now"),
    ("parent", "all the money went on drink again", "substance_misuse"),
    ("parent", "tried mandy for the first time at my mates", "substance_misuse"),
    ("parent", "taking double my codeine to cope", "substance_misuse"),
    # and with dev set 12 (session 15)
    ("parent", "he keeps coming home with wads of cash and won't say where from", "harm_to_child"),
    ("parent", "my daughter keeps going missing for days at a time", "harm_to_child"),
    (
        "parent",
        "took her to her dad's even though he's not meant to have her overnight",
        "harm_to_child",
    ),
    (
        "parent",
        "not taken him to the doctors about the burn cos they'd only ask questions",
        "harm_to_child",
    ),
    ("parent", "the kids slept in their coats again, no gas on the key", "harm_to_child"),
    ("parent", "my little boy got hold of my methadone", "harm_to_child"),
    ("child", "mums not come back since friday", "harm_to_child"),
    ("parent", "bought some pregabs off a lad on the estate", "substance_misuse"),
    ("parent", "back on the voddy, sorry", "substance_misuse"),
    ("parent", "woke up on the bathroom floor again, no idea how I got there", "substance_misuse"),
    ("child", "dad drank loads and fell over on the stairs", "substance_misuse"),
    ("parent", "her grandad says it's their little secret", "secret_with_adult"),
    ("parent", "I don't see the point in me being here any more", "self_harm"),
    ("parent", "he punched the door in while I was holding the baby", "domestic_abuse"),
    ("child", "its dark and i dont know where i am", "danger_now"),
    ("parent", "Slapped Mia across the face this morning", "harm_by_parent"),
    # and with dev set 13 (session 16)
    ("parent", "left our Leo minding the baby while I nipped to the offy", "harm_to_child"),
    ("parent", "I leave the 6 year old in the car while I get the shopping", "harm_to_child"),
    ("parent", "Courtney's 13 and her boyfriend is 19, he's nice though", "harm_to_child"),
    ("parent", "he gives her a bit of my diazepam to settle her", "harm_to_child"),
    ("child", "a man on roblox wants to meet me at the shops after school", "harm_to_child"),
    ("child", "when dad is drunk i hide in the wardrobe", "harm_to_child"),
    ("parent", "he knelt on the kitchen floor for an hour to learn his lesson", "harm_by_parent"),
    ("parent", "told her I'd leave her out for the bin men if she kept crying", "harm_by_parent"),
    ("parent", "washed his mouth out with soap for swearing", "harm_by_parent"),
    ("parent", "grabbed his wrist so hard it's marked", "harm_by_parent"),
    ("child", "my nan says she's going to kill herself", "self_harm"),
    ("parent", "he threw a bottle at me last night", "domestic_abuse"),
    ("parent", "he's found out where we're living now", "domestic_abuse"),
    ("parent", "Kian's still not home and his phone's off", "danger_now"),
    ("parent", "got in off the lash at 4 and woke the baby", "substance_misuse"),
    ("parent", "took a few vallies a mate gave me, not mine", "substance_misuse"),
    # and with dev set 14
    ("parent", "he's got a record for things with children but he's changed", "harm_to_child"),
    ("parent", "off out tonight, the kids will be fine on their own", "harm_to_child"),
    ("parent", "I was a bit tipsy by lunchtime but the kids were ok", "substance_misuse"),
    ("parent", "need a few vodkas at night to get to sleep", "substance_misuse"),
    ("parent", "mixing my diazepam with a few drinks to take the edge off", "substance_misuse"),
    ("parent", "too hungover to get up so they got themselves to school", "substance_misuse"),
    ("parent", "the little one thought the pills were sweets", "harm_to_child"),
    ("parent", "I think he's being used to sell drugs for older lads", "harm_to_child"),
    ("child", "i had to put dad in the recovery position again", "harm_to_child"),
    ("child", "mums boyfriend lets me have some of his beer", "harm_to_child"),
    ("child", "dad makes me roll his joints", "harm_to_child"),
    ("child", "a man from dads work touches my leg when no ones looking", "harm_to_child"),
    ("child", "if the teacher asks i have to say i fell off my bike", "secret_with_adult"),
    ("parent", "I want to not be here anymore", "self_harm"),
    # and with dev set 15
    ("parent", "took about 30 paracetamol an hour ago", "self_harm"),
    ("parent", "had a few at the pub then picked them up and drove home", "harm_to_child"),
    ("parent", "he makes her sleep in the shed when she wets the bed", "harm_to_child"),
    ("parent", "no tea for Kai for three nights because he lied", "harm_to_child"),
    ("parent", "I keep telling him I wish I'd never had him", "harm_to_child"),
    ("parent", "kept her off school so they don't see the bruise", "harm_to_child"),
    ("parent", "I put a bit of my diazepam in her bottle so she settles", "harm_to_child"),
    ("parent", "some man off tiktok sends her money for pics, she's 13", "harm_to_child"),
    # and with dev set 16
    ("parent", "made him sleep in the garage cos he came home late", "harm_to_child"),
    ("child", "my stepdad calls me a retard every day", "harm_to_child"),
    ("parent", "Leon got a right hiding off his dad for the window", "harm_to_child"),
    ("child", "mums boyfriend checks her phone and wont let her go out", "domestic_abuse"),
    ("parent", "he says if I ever leave him he'll take the kids abroad", "domestic_abuse"),
    (
        "child",
        "dad throws my tea in the bin if im late and i dont get nothing else",
        "harm_to_child",
    ),
    ("parent", "I held her up against the door by her collar till she said sorry", "harm_to_child"),
    ("child", "mum said shes going to put me back in care if i dont behave", "harm_to_child"),
    ("parent", "my partner gave the baby a good shake when she wouldn't settle", "harm_to_child"),
    ("child", "we heard mum screaming then a massive bang", "domestic_abuse"),
    # and with dev set 17
    (
        "child",
        "if the teacher asks im meant to say its just me and mum at home",
        "secret_with_adult",
    ),
    (
        "parent",
        "I told him not to mention the weekend to his social worker, it would only cause bother",
        "secret_with_adult",
    ),
    (
        "child",
        "my coach says we dont need to tell mum about the extra lessons at his flat",
        "secret_with_adult",
    ),
    ("child", "she said our chats are private and i shouldnt show anyone", "secret_with_adult"),
    (
        "parent",
        "honestly I take a couple extra of my diazepam when it all gets too much",
        "substance_misuse",
    ),
    ("parent", "it was only a bit of weed, I'm a calmer mum on it anyway", "substance_misuse"),
    ("child", "mum was too wobbly to walk so i got the baby out of the bath", "substance_misuse"),
    ("parent", "I'd been on the cans and I screamed at the kids for nothing", "substance_misuse"),
    ("child", "my dad shakes every morning until he has his drink", "substance_misuse"),
    ("child", "grandad puts whisky in my hot chocolate so i sleep", "substance_misuse"),
    # and with dev set 18
    ("child", "i scratch my legs when everyone is shouting, its fine", "self_harm"),
    ("parent", "I've got enough pills saved up now, tonight feels like the night", "self_harm"),
    ("child", "looked up how to hang yourself on my phone last night", "self_harm"),
    ("parent", "honestly I wouldn't care if I didn't wake up tomorrow", "self_harm"),
    ("child", "im gonna stop eating till im thin like my friends", "self_harm"),
    ("parent", "keep getting thoughts of steering the car into the river", "self_harm"),
    ("child", "theres a razor under my pillow for when it gets bad", "self_harm"),
    ("parent", "might as well top myself at this rate", "self_harm"),
    ("parent", "put chilli on her tongue for swearing, she won't do it again", "harm_to_child"),
    ("child", "mum gave me a smack across the legs for being cheeky", "harm_to_child"),
    # and with dev set 19
    (
        "child",
        "if i tell my teacher about the belt mum says shell send me away",
        "secret_with_adult",
    ),
    ("parent", "if she doesn't stop crying I'm gonna shut her up myself", "harm_by_parent"),
    (
        "child",
        "when mum has her special drink she falls asleep and we get no tea",
        "substance_misuse",
    ),
    (
        "parent",
        "a bit tipsy from the night before but I only drove them to nursery",
        "substance_misuse",
    ),
    ("parent", "had a few lines with my mate while the baby slept", "substance_misuse"),
    ("child", "my stepdad gives me a slap if i talk at the table", "harm_to_child"),
    ("parent", "I keep her in the playpen most of the day, it's the only way", "harm_to_child"),
    ("parent", "I've told him I'll send him back into care, he knows I mean it", "harm_by_parent"),
    ("parent", "he's been locked out till he says sorry, he's only 10", "harm_to_child"),
    (
        "parent",
        "we went clubbing and the kids were fine on their own, they're 7 and 9",
        "substance_misuse",
    ),
    # and with dev set 20
    (
        "parent",
        "had one too many and didn't hear the baby wake up, she'd climbed out of the cot",
        "substance_misuse",
    ),
    (
        "child",
        "dad was asleep on the settee with the cans all around him so i got my sister dressed",
        "substance_misuse",
    ),
    (
        "parent",
        "I popped to the shop while the little ones were in the bath, only 10 mins",
        "harm_to_child",
    ),
    ("parent", "he says he's been grafting, comes back at 2am with cash. he's 13", "harm_to_child"),
    ("child", "a lad said i could get 50 quid if i carry a bag to his mate", "harm_to_child"),
    ("parent", "found her down the street in just her nappy, the door was open", "harm_to_child"),
    ("parent", "I leave Ruby 7 at home while I do the school run, she's sensible", "harm_to_child"),
    (
        "child",
        "my mums friend comes into my room when hes staying over and it scares me",
        "harm_to_child",
    ),
    ("parent", "just a bit of the white before contact so I can face it", "substance_misuse"),
    ("parent", "my sister lets my 12 yr old drink cider at her house", "substance_misuse"),
    (
        "child",
        "if i wet the bed dad makes me wear the wet pants all day so i remember",
        "harm_by_parent",
    ),
    ("parent", "I don't feed him when he's gobby, he'll learn", "harm_by_parent"),
    (
        "parent",
        "told her she'd get nothing till tomorrow teatime if she threw it again",
        "harm_to_child",
    ),
    ("parent", "put him out on the front step to think about what he did", "harm_by_parent"),
    ("parent", "I've taken the rest of my tablets, sorry", "self_harm"),
    ("child", "dad keeps texting mum from a new number but hes not allowed", "domestic_abuse"),
    ("child", "i heard mum say get off me through the floor", "domestic_abuse"),
    ("parent", "he's grabbed a knife out of the drawer and stormed out, he's 15", "danger_now"),
    ("parent", "Kieran's been gone since Saturday, phone off, police are looking", "danger_now"),
    (
        "parent",
        "his uncle's trying to get him to lie about where the money came from",
        "secret_with_adult",
    ),
    ("parent", "says he's doing runs for some lad from Leeds, won't say what", "harm_to_child"),
    ("child", "theres a needle on the sofa from mums friend", "harm_to_child"),
    ("child", "nan doesnt give me breakfast if i wet the bed", "harm_by_parent"),
    (
        "parent",
        "made her take her wet knickers to school in a carrier bag so she'd remember",
        "harm_by_parent",
    ),
    ("child", "my boyfriend is 20 and im 14, he picks me up from school", "harm_to_child"),
    ("parent", "I said to her I'll snap her arm if she touches my phone again", "harm_by_parent"),
    ("parent", "I have to show him every receipt or there's hell on", "domestic_abuse"),
    ("parent", "Kev took my bank card off me so I couldn't go to my sister's", "domestic_abuse"),
    ("parent", "my ex is outside right now kicking the door", "danger_now"),
    ("child", "the man next door tickles me and says its our little game", "secret_with_adult"),
    ("parent", "I might just vanish for good, save them all the bother", "self_harm"),
    ("child", "there are cuts on my mums arms and she wears long sleeves now", "self_harm"),
    (
        "parent",
        "she comes back from some bloke's flat on Sunday nights and won't say who",
        "harm_to_child",
    ),
    ("parent", "he gets paid to take parcels to Hull, it's only a bit of cash", "harm_to_child"),
    (
        "parent",
        "our Ellie's 9 and she watches the baby in the evenings while I'm at work",
        "harm_to_child",
    ),
    (
        "parent",
        "the kids have been living on biscuits this week, no money till Friday",
        "harm_to_child",
    ),
    ("parent", "someone needs to come now, he's going mental", "danger_now"),
    (
        "parent",
        "the lads who are after Jack are waiting outside the college right now",
        "danger_now",
    ),
    ("parent", "I told them if school asks, just say I was poorly", "secret_with_adult"),
    (
        "parent",
        "his dad's telling him to say he wants to live with him at the review",
        "secret_with_adult",
    ),
    # and with dev set 24
    ("child", "dad pressed my hand on the hob so i would learn it was hot", "harm_by_parent"),
    ("child", "mum says i can go hungry if i dont eat what shes made", "harm_by_parent"),
    ("parent", "Took the whole packet of my cocodamol an hour ago, sorry", "self_harm"),
    ("parent", "her dad keeps saying he'll top himself if she doesn't visit", "self_harm"),
    ("parent", "Nursery just rang, he's not there and his dad had him this morning", "danger_now"),
    ("child", "dad said hed be back at tea time and its gone 10 now", "danger_now"),
    ("parent", "Gaz texted that he's on his way round to teach me a lesson", "danger_now"),
    ("parent", "Had a massive bender Friday, the kids were at their nan's", "substance_misuse"),
    ("parent", "still a bit pissed from last night when I did the school run", "substance_misuse"),
    ("child", "nan was on the bottle again and didnt make tea", "substance_misuse"),
    ("parent", "my script and a bit on top on a Friday, nothing major", "substance_misuse"),
    ("parent", "dad keeps nodding off while he's driving them to school", "harm_to_child"),
    # and with dev set 25
    ("parent", "He kicks off whenever I talk back, so I keep quiet now", "domestic_abuse"),
    ("parent", "My fella keeps my bank card so I can't waste money, it's fine", "domestic_abuse"),
    ("parent", "He changed the passcode on my phone again after I rang my mum", "domestic_abuse"),
    ("child", "mums boyfriend said hes going to batter mum when he gets in", "domestic_abuse"),
    ("child", "dad keeps asking me where mum lives now and i dont want to say", "domestic_abuse"),
    ("child", "mum was hiding in the bathroom when he was shouting", "domestic_abuse"),
    ("parent", "I'm stood on the edge of the multi storey, I can't do this", "self_harm"),
    (
        "parent",
        "Honestly I'm done with being alive, the kids are better with their dad",
        "self_harm",
    ),
    ("child", "i swallowed 7 of mums pills after tea", "self_harm"),
    ("parent", "He says he'll put the windows through if I don't answer", "danger_now"),
    ("child", "dad said hes going to take us and never bring us back", "danger_now"),
    ("parent", "He blew the child benefit on his gear again", "substance_misuse"),
]

#: Look-alikes of those families: the rules alone leave them alone. The rules before those dev
#: sets flagged 9 of the 17 for dev sets 9 to 11, 5 of the 9 for dev set 12, 1 of the 7 for dev
#: set 13, 5 of the 8 for dev set 14, 1 of the 6 for dev set 15, 3 of the 7 for dev set 16, 4
#: of the 8 for dev set 17, 1 of the 6 for dev set 18, 2 of the 6 for dev set 19, 4 of the 5
#: for dev set 20, 2 of the 6 for dev set 21, 1 of the 6 for dev set 22, 2 of the 5 for dev set
#: 23, 3 of the 6 for dev set 24 and none of the 6 for dev set 25; the others guard the new rules'
#: exclusions (a missing cat, a first aid course, "ran away from the geese").
RULE_LOOKALIKES = [
    ("child", "a police officer did a talk about county lines in assembly"),
    ("parent", "our cat's been missing since Sunday, the kids made posters"),
    ("parent", "my phone was off, I was supposed to be home at 6 but the bus was late"),
    ("parent", "worried I'll relapse over Christmas so I've told my sponsor"),
    ("parent", "the kids watched Home Alone with popcorn and loved it"),
    ("child", "dont tell mum but i broke the vase"),
    ("parent", "I left the kids with my mum for a couple of hours to get my hair done"),
    ("parent", "Ellie's class read a story about a dad who drinks too much"),
    ("child", "dad grabbed my arm when i nearly ran into the road"),
    ("parent", "My mum smacked us when we were kids. I never will"),
    ("child", "at school they said never keep secrets from grown ups who look after you"),
    ("child", "me and dad play fight and he pinned me down but i won"),
    ("parent", "she knows to ring 999 if she can't wake me"),
    ("child", "i ran away from the geese at the park"),
    ("parent", "we did a first aid course on what to do if a baby stops breathing"),
    ("parent", "I can't find my keys anywhere, been looking since lunch"),
    ("parent", "Nearly jumped out of my skin when the doorbell went"),
    # and with dev set 12: guards of its new rules' exclusions and narrowings
    ("parent", "he locked himself in his room all day sulking"),
    ("parent", "taking my methadone as prescribed and feeling steady"),
    ("parent", "Nan gave him a tenner and told him to keep it secret from his sister"),
    ("parent", "we nearly rang 999 when the dog ate a sock, the vet said he'd be fine"),
    ("parent", "had one glass of wine once the kids were asleep"),
    ("parent", "relapse of my chest infection so I'm back on antibiotics"),
    ("parent", "the kids know to call 999 if I collapse and won't wake up"),
    ("parent", "dad grabbed him by the arm when he ran into the road"),
    ("child", "there was no food left so we had pasta and mum went shopping"),
    # and with dev set 13: guards of its new rules' exclusions and narrowings
    ("parent", "Lily threw the remote at the telly when her show finished"),
    ("child", "we watched a scary film with lots of screaming and i hid under the blanket"),
    ("parent", "I got locked in the bathroom, the handle is broken"),
    ("child", "my secret is i fancy Jake in my class dont tell anyone"),
    ("parent", "turning into my own mum, shouting up the stairs"),
    ("parent", "the baby napped while I ran the hoover round"),
    ("parent", "my brother is minding the kids Saturday, social are happy with that"),
    # and with dev set 14
    ("child", "mum is planning a surprise for dads birthday and i have to keep it secret"),
    ("child", "we had a pillow fight and i got hit in the face with a pillow lol"),
    ("child", "i was home alone for 5 mins while mum took the bins out"),
    ("child", "at school we learned about calling 999 and what to say"),
    ("child", "we watched a film where a pirate was drunk and fell off the boat"),
    ("child", "my brother drinks loads of red bull before football"),
    ("parent", "she takes her tablets every morning, the doctor gave them her for her back"),
    ("child", "mum fell over in the snow and we were all laughing"),
    # and with dev set 15
    ("parent", "Dad had a few at the wedding so I drove us home"),
    ("parent", "locked myself in the bathroom for five minutes to breathe"),
    ("child", "we played cops and robbers and i got locked in the shed pretend"),
    ("parent", "a tiny bruise on her arm from her jabs, lots of cuddles"),
    ("parent", "had a glass of wine once they were in bed, first one in weeks"),
    ("parent", "took 2 paracetamol for my headache and had an early night"),
    # and with dev set 16
    ("parent", "gave it a good shake and she settled straight away"),
    ("child", "we have a code word for when my friend wants to come home from a sleepover"),
    ("parent", "used the wooden spoon to stir the cake mix with the kids"),
    ("parent", "got my finger trapped in the car door, ouch"),
    ("child", "my uncle grabbed me so i didnt fall off the wall"),
    ("parent", "Locked myself out again with the kids inside, the neighbour had a key"),
    ("parent", "sent him to his room to calm down, he came down for tea after"),
    # and with dev set 17
    ("child", "dad has to take his tablets with breakfast every day and i help him remember"),
    ("child", "my uncle let me have a sip of his beer at the wedding and it was rank"),
    ("parent", "Gran's secret family recipe for scones, the kids loved making them"),
    ("parent", "baby fell asleep with her bottle again, going to try a cup"),
    ("child", "i bumped my knee and the dinner lady said its just a bump"),
    ("parent", "Had a couple of cans at the barbecue, kids were playing with their cousins"),
    ("parent", "He was high as a kite after the fireworks, took ages to settle"),
    ("child", "nan says dont tell mum she gave us extra pudding, then winked at mum"),
    # and with dev set 18
    ("child", "dont tell dad i ate the last yoghurt lol"),
    ("child", "my baby brother scratched my face when i took his toy"),
    ("parent", "I've written them all a letter for their birthdays, for when they're older"),
    ("parent", "my brother was suicidal years ago but he's doing great now, married with kids"),
    ("parent", "used the last of the pepper on the pasta, kids said it was too spicy"),
    ("child", "my knife and fork are under my plate lol"),
    # and with dev set 19
    ("parent", "I could have strangled him when he flooded the bathroom, we laughed after"),
    ("child", "gran says dad used to drink before i was born but he doesnt now"),
    ("parent", "my daughter asked if I was drunk because I was dancing, I wasn't"),
    ("parent", "Is a tap on the hand allowed in Wales? my partner and I disagree"),
    ("parent", "Sam threw a ball at his sister and it hit her head, he said sorry"),
    ("parent", "kept him in his cot for a nap while I had a shower"),
    # and with dev set 20
    ("child", "we did drugs in science and learned what they do to your brain"),
    ("child", "i ran away from a huge spider in the shed"),
    (
        "child",
        "the police lady told us never get in a car with a stranger, even if they know your name",
    ),
    ("parent", "We watched a drama about a lad who got groomed into county lines, good chat after"),
    ("parent", "nothing in the cupboards till payday but my mum dropped a big shop round"),
    # and with dev set 21
    ("child", "i kept it a secret that we were making mum a card for mothers day"),
    ("parent", "Alfie screamed like I'd hurt him when I took the splinter out"),
    ("parent", "He said he was going to stab the last roast potato, cheeky sod"),
    ("parent", "I don't feed them after 7 or they're up all night"),
    ("parent", "my brother's been gone since Friday on his stag do"),
    ("parent", "nan keeps ringing me from a new number since she lost her phone"),
    # and with dev set 22
    ("child", "my sister chucked her shoe at me and missed lol"),
    ("parent", "Nan drinks too much tea, she's up all night weeing"),
    ("child", "i had to stand in the garden for ages waiting for the ice cream van"),
    ("parent", "my ex is outside now to pick the kids up, bang on time for once"),
    ("parent", "I can't get out of bed before 6 but I'm up for the school run"),
    ("child", "my cousin is 19 and im 10 and she took me to the cinema"),
    # and with dev set 23
    ("parent", "accidentally rang 999 when the baby grabbed my phone, so embarrassing"),
    ("child", "my brother thought the kitchen was on fire but it was just steam lol"),
    ("parent", "the magic trick made the coin vanish for good, the kids were amazed"),
    ("parent", "I gave him a fiver for carrying the shopping bags in"),
    ("parent", "Grandad bought him a bike and told him not to tell me till my birthday surprise"),
    # and with dev set 24
    ("child", "my little brother had a bad dream about monsters kicking the door down"),
    ("parent", "The smell of skunk coming from the flat below is awful, I've rung the council"),
    ("parent", "Jade was home alone for 15 minutes while I walked the dog, she's 15"),
    ("parent", "Watched a whole series in one go, a proper Netflix bender with the kids"),
    ("child", "my baby sister had her bottle and went to sleep"),
    ("parent", "He's on his way round to pick up the kids, bang on time"),
    # and with dev set 25
    ("child", "my brother said hed kill mum for eating his chips but he was only joking"),
    ("parent", "My son kicks off whenever I say no to the iPad"),
    ("child", "we sat on the roof of the car park eating chips with dad"),
    ("parent", "I'm done with being here at the hospital all day, can't wait to get home"),
    ("parent", "He said he'll put the windows in next week, the landlord's paying"),
    ("parent", "Done with being in this flat, the bidding for a house opens Monday"),
]


@pytest.mark.parametrize(("sender", "text", "category"), RULE_FAMILIES)
def test_the_rules_alone_find_the_new_families(sender: str, text: str, category: str) -> None:
    assert category in rules_only().screen(text, sender).categories


@pytest.mark.parametrize(("sender", "text"), RULE_LOOKALIKES)
def test_the_rules_alone_leave_their_lookalikes(sender: str, text: str) -> None:
    assert not rules_only().screen(text, sender).concern


def test_negation_does_not_reach_into_a_secret() -> None:
    # "never" negates "I would never hit her", but it is the secret itself here
    assert screen("he said never tell").categories == ("secret_with_adult",)
    assert screen("I didn't tell anyone, he said it's our secret").concern


def test_negation_stays_in_its_clause() -> None:
    assert not screen("I would never hit her").concern
    assert screen("I would never have thought it, but I hit her").concern
    assert screen("I didn't mean to hit him").concern  # not a real negation


def test_evidence_points_at_the_original_words() -> None:
    text = "Honestly… I’m scared. He’s gonna HIIIT me!!"
    result = screen(text)
    assert "danger_now" in result.categories
    for match in result.evidence:
        assert text[match.start : match.end] == match.text
    spans = {m.text for m in result.evidence}
    assert "gonna HIIIT me" in spans


def test_evidence_offsets_across_zero_width_and_emoji() -> None:
    text = "😢😢 i w\u200bant to d1e"
    result = screen(text)
    (match,) = [m for m in result.evidence if m.category == "self_harm"]
    assert text[match.start : match.end] == "w\u200bant to d1e"
    assert match.rule.startswith("sh.")


def test_the_result_is_sorted_unique_and_frozen() -> None:
    result = screen("he hit me. dont tell mum. he hit me")
    assert list(result.categories) == sorted(set(result.categories))
    assert [m.start for m in result.evidence] == sorted(m.start for m in result.evidence)
    assert isinstance(result.evidence[0], Match)
    with pytest.raises(dataclasses.FrozenInstanceError):
        result.concern = False  # type: ignore[misc]


def test_the_words_never_show_in_a_repr() -> None:
    result = screen("i want to kill myself")
    assert "kill" not in repr(result)
    assert "self_harm" in repr(result)


def test_sender_limits_parent_only_rules() -> None:
    text = "I hit him because he took my charger"
    assert "harm_by_parent" in screen(text, sender="parent").categories
    assert "harm_by_parent" not in screen(text, sender="child").categories


@pytest.mark.parametrize("language", ["en", "en-GB", "EN_gb", "cy", "fr", "", "../../etc", "xx-yy"])
def test_unknown_languages_fall_back_to_english(language: str) -> None:
    assert rules_path(language) == DEFAULT_RULES_DIR / "en.yaml"
    assert screen("kms", language).categories == ("self_harm",)


def test_a_rules_folder_can_be_given(tmp_path: Path) -> None:
    folder = tmp_path / "rules"
    folder.mkdir()
    (folder / "en.yaml").write_text(MINIMAL_RULES, encoding="utf-8")
    assert screen("bananas", rules_dir=folder).categories == ("fruit",)
    assert not screen("kms", rules_dir=folder).concern


MINIMAL_RULES = """
language: en
version: 1
negation: {cues: [not]}
categories:
  fruit:
    description: fruit talk
    rules:
      - id: fruit.banana
        phrases: [banana*]
"""


@settings(max_examples=300, deadline=None)
@given(st.text(max_size=300))
def test_any_text_is_screened_without_error(text: str) -> None:
    result = screen(text)
    assert isinstance(result, Screening)
    assert result.concern == bool(result.evidence) == bool(result.categories)
    for match in result.evidence:
        assert text[match.start : match.end] == match.text
        assert match.category in CATEGORIES
